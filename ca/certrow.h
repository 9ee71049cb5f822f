/*
 * The certificates table: one row per certificate a CA of the instance
 * issued (e-seals and OCSP signer certificates), with its revocation in
 * revocations.  certrow.c owns this table's SQL for the commands (issue.c
 * and cmd_crl.c keep their own for now and may call these).
 */
#ifndef ESEAL_CERTROW_H
#define ESEAL_CERTROW_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* A new certificate's row; request_id NULL and partition -1 for none. */
struct certrow_new {
	int64_t			 ca_id;
	const char		*serial;	/* lower-case hex, no leading 0 */
	const char		*request_id;
	const char		*subject;
	const char		*profile;
	const char		*not_before, *not_after;
	const unsigned char	*der;
	int			 der_len;
	const char		*sha256;
	const char		*issued;
	int			 partition;
};

/* Insert a certificate's row (in the caller's transaction).  1/0. */
int certrow_insert(struct db *db, const struct certrow_new *row);

/*
 * The certificate of CA ca_id with serial: 0 none, 1 issued and not
 * revoked, 2 revoked (its revocation time into since), -1 error
 * (logged).  Its row id into *cert_id.
 */
int certrow_revocation_state(struct db *db, int64_t ca_id,
    const char *serial, int64_t *cert_id, char *since, size_t sincesz);

/* One certificate's status, as certrow_each_status() reports it. */
struct certrow_status {
	const char	*serial;
	int		 revoked;
	const char	*time;			/* revocation; NULL if good */
	int		 reason;		/* -1 if good */
	const char	*invalidity_date;	/* NULL if none */
};

/*
 * Call fn(arg, status) for every certificate CA ca_id issued, in the
 * order of issue; stop at the first fn returning 0.  1/0 (logged).
 */
int certrow_each_status(struct db *db, int64_t ca_id,
    int (*fn)(void *, const struct certrow_status *), void *arg);

#endif
