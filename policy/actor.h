/*
 * Who changes the store from eseal-policy: the operator named by
 * --operator NAME=SRC is authenticated (passphrase, and the card when
 * bound) by the operators layer of the CA (ca/operators.c, libops.a), and
 * acts that change what the policy gate believes need, in a production
 * instance, the instance's quorum of officers as eseal-ca's sensitive
 * acts do.  Every login, refused or not, is in the audit chain.
 */
#ifndef ESEAL_POLICY_ACTOR_H
#define ESEAL_POLICY_ACTOR_H

#include <stddef.h>

#include "db.h"

struct actor {
	char	*who;		/* the operator's name */
	char	*approvers;	/* the officers, "alice,bob", or NULL */
};

enum actor_quorum {
	ACTOR_ALONE,		/* the operator alone */
	ACTOR_QUORUM_PROD	/* and a quorum of officers in production */
};

/*
 * Authenticate spec ("NAME=SRC[,card=SRC]", an officer or an operator,
 * never an auditor) for act (e.g. "cmvp-mark", recorded with each login)
 * and, with ACTOR_QUORUM_PROD, gather the quorum of officers from
 * officers[0..nofficers) if the instance is a production one or any
 * officer is named.  Must run outside a transaction.  Returns EXIT_OK
 * with *a filled in, else the exit code (EXIT_REFUSED refused, EXIT_ERROR
 * store error), logged.
 */
int actor_auth(struct db *db, const char *spec, char *const *officers,
    size_t nofficers, enum actor_quorum need, const char *act,
    struct actor *a);
void actor_clear(struct actor *a);

/*
 * The audit detail of an act by a: base, then "; approved by NAMES" when
 * officers approved.  malloc'd.
 */
char *actor_detail(const struct actor *a, const char *base);

/* 1 if the store is a test instance (meta instance_mode "test"). */
int actor_test_instance(struct db *db);

#endif
