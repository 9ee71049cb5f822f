/*
 * Who changes the store from eseal-policy (actor.h): the operator by
 * --operator, and in a production instance the quorum of officers for
 * the acts that decide what the policy gate trusts.  The checks and the
 * audit records of every login are those of ca/operators.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "ca/operators.h"
#include "db.h"
#include "log.h"
#include "policy.h"

int
actor_test_instance(struct db *db)
{
	char *mode = db_meta_get(db, "instance_mode");
	int test = mode != NULL && strcmp(mode, "test") == 0;

	free(mode);
	return test;
}

int
actor_auth(struct db *db, const char *spec, char *const *officers,
    size_t nofficers, enum actor_quorum need, const char *act,
    struct actor *a)
{
	struct quorum q;
	enum auth_result ar;
	int64_t id;
	int ret = EXIT_REFUSED;

	memset(a, 0, sizeof(*a));
	memset(&q, 0, sizeof(q));
	ar = operator_auth_spec(db, spec, "--operator", ROLE_ACTOR, act,
	    &a->who, &id);
	if (ar != AUTH_OK) {
		ret = ar == AUTH_ERROR ? EXIT_ERROR : EXIT_REFUSED;
		goto out;
	}
	if (need == ACTOR_QUORUM_PROD &&
	    (nofficers > 0 || !actor_test_instance(db))) {
		if (!quorum_gather(db, officers, nofficers, quorum_size(db),
		    ROLE_OFFICER, act, &q)) {
			goto out;
		}
		a->approvers = quorum_names(&q);
	}
	ret = EXIT_OK;
out:
	quorum_free(&q);
	if (ret != EXIT_OK) {
		actor_clear(a);
	}
	return ret;
}

void
actor_clear(struct actor *a)
{
	if (a == NULL) {
		return;
	}
	free(a->who);
	free(a->approvers);
	memset(a, 0, sizeof(*a));
}

char *
actor_detail(const struct actor *a, const char *base)
{
	char *s;

	if (a->approvers == NULL) {
		s = strdup(base);
	} else if (asprintf(&s, "%s%sapproved by %s", base,
	    base[0] != '\0' ? "; " : "", a->approvers) == -1) {
		s = NULL;
	}
	if (s == NULL) {
		fatalx("out of memory");
	}
	return s;
}
