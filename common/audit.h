/*
 * The tamper-evident audit chain.  Every act appends one entry (time,
 * operators, action, object, hash of the request, result, detail) whose
 * hash covers the previous entry's hash.  At the end of each command that
 * changed state the chain head is signed with a CA key on the token
 * (through a callback: this module never touches PKCS#11).  Verification
 * needs only the CA certificate(s) and names exactly which entry was
 * altered, removed or reordered.
 */
#ifndef ESEAL_AUDIT_H
#define ESEAL_AUDIT_H

#include <stdint.h>
#include <stdio.h>

#include <openssl/x509.h>

#include "db.h"

/*
 * Append one entry.  If no transaction is open, the append is its own
 * transaction; otherwise it joins the caller's (so a state change and its
 * record commit together).  Empty fields may be NULL ("" is stored).
 * 1/0 (logged).
 */
int audit_append(struct db *db, const char *operators, const char *action,
    const char *object, const char *request_hash, const char *result,
    const char *detail);

/* The last entry's sequence number and hash (0 and 64 '0's when empty). */
int audit_head(struct db *db, int64_t *seq, char hash[65]);

/*
 * Signs msg (msglen bytes); *sig is malloc'd.  Returns 1/0.  The CA code
 * passes a function that signs on the token.
 */
typedef int (*audit_sign_fn)(void *arg, const unsigned char *msg,
    size_t msglen, unsigned char **sig, size_t *siglen);

/*
 * Sign the current head unless it is already signed: message
 * "eseal-audit-head-v1\n<seq>\n<hash>\n", recorded with the signer
 * certificate's SHA-256 and the signature algorithm name.  1/0.
 */
int audit_sign_head(struct db *db, audit_sign_fn sign, void *arg,
    const char *signer_cert_sha256, const char *sig_alg);

struct audit_verify_result {
	int64_t	entries;	/* entries checked */
	int64_t	signatures;	/* signed heads that verified */
	int64_t	last_signed_seq;
	int	problems;	/* number of findings printed */
	int	unsigned_tail;	/* entries after the last signed head */
};

/*
 * Verify the whole chain and every signed head against certs (ncerts CA
 * certificates supplied by the caller, not read from the store).  Each
 * finding is printed to out as one line, e.g. "audit entry 17: altered
 * (hash mismatch)", "audit entries 5..6: removed", "audit entry 9:
 * reordered (follows entry 11)", "signed head 42: signature does not
 * verify".  Returns 1 if the chain is intact and all signatures verify.
 */
int audit_verify(struct db *db, X509 *const *certs, size_t ncerts, FILE *out,
    struct audit_verify_result *res);

#endif
