/*
 * Issuance requests and their approvals, shared by "request", "issue"
 * and "revoke": the request row, its content hash (what an approval
 * binds), counting the approvals that still count, authenticating one
 * operator from a NAME=SRC spec, and reading an issuing CA's row.
 */
#ifndef ESEAL_REQUEST_H
#define ESEAL_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "db.h"

struct request {
	char		 id[37];
	int64_t		 ca_id;
	char		*ca_name;
	unsigned char	*csr_der;
	int		 csr_len;
	char		*profile;
	char		*details;	/* canonical JSON text */
	json_t		*dj;		/* details parsed */
	char		*subject_hsm;	/* NULL if none */
	char		 hash[65];
	char		*submitter;
	char		*submitted;
	char		*status;
	char		*refusal;
};

/* An issuing CA's row (no token opened). */
struct ca_row {
	int64_t	 id;
	char	*name;
	char	*kind;
	char	*status;
	char	*sig_alg;
	X509	*cert;		/* NULL while pending */
	json_t	*settings;	/* never NULL */
};

/*
 * Load request id (a full id, or a unique prefix of at least 8
 * characters).  NULL if absent (logged "request ID: no such request") or
 * on error; *why gets an exit code.
 */
struct request *request_load(struct db *db, const char *id, int *why);
void request_free(struct request *r);

/*
 * content_hash: SHA-256 hex over a length-prefixed encoding of the CSR
 * DER, profile name, details JSON, subject HSM ("" if none) and CA name.
 */
void request_hash(const unsigned char *csr, size_t csrlen,
    const char *profile, const char *details, const char *subject_hsm,
    const char *ca_name, char out[65]);

/*
 * Approvals of request r that count: decision approve, content_hash equal
 * to r->hash, by an enabled officer or operator other than the submitter.
 * Returns the count (or -1 on error); names (if not NULL) gets a
 * malloc'd "alice,bob".
 */
int request_approvals(struct db *db, const struct request *r, char **names);

/*
 * Authenticate one person from "NAME=SRC" or "NAME=SRC,card=SRC" (any
 * role but auditor).  On success *name is malloc'd and *op_id set.
 * Refusals are logged (and audited by the operator layer).  1/0.
 */
int auth_spec(struct db *db, const char *spec, const char *what,
    char **name, int64_t *op_id);

/* Load CA name's row.  NULL if absent (logged) or on error. */
struct ca_row *ca_row_load(struct db *db, const char *name);
struct ca_row *ca_row_load_id(struct db *db, int64_t id);
void ca_row_free(struct ca_row *c);
/* A string setting of the CA ("crl-url"...), or NULL. */
const char *ca_setting(const struct ca_row *c, const char *key);

/* Parse a CSR file (PEM or DER, no trailing bytes).  NULL (logged). */
X509_REQ *csr_read_file(const char *path, unsigned char **der, int *derlen);

#endif
