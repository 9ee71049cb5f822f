/*
 * Issuance requests and their approvals, shared by "request" and
 * "issue": the request row, its content hash (what an approval binds),
 * counting the approvals that still count.  (A CA's
 * row is carow.h's; authenticating one person is operators.h's.)
 */
#ifndef ESEAL_REQUEST_H
#define ESEAL_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "carow.h"
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

#endif
