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
 * Restore: replace the store's audit entries and signed heads with those
 * of the store ATTACHed as "old" (the store a restore replaces), so that
 * the chain witnesses saw goes on instead of forking at the backup's
 * head.  Runs inside the caller's transaction.  1/0 (logged).
 */
int audit_take_attached(struct db *db);

/*
 * Signs msg (msglen bytes); *sig is malloc'd.  Returns 1/0.  The CA code
 * passes a function that signs on the token.
 */
typedef int (*audit_sign_fn)(void *arg, const unsigned char *msg,
    size_t msglen, unsigned char **sig, size_t *siglen);

/*
 * Sign the current head unless it is already signed: message
 * "eseal-audit-head-v2\n<seq>\n<hash>\n<prev_seq>\n<prev_hash>\n
 * <prev_sig_sha256>\n" where prev_* name the last signed head recorded
 * (its sequence number, its hash, the SHA-256 of its signature; 0 and
 * 64 '0's twice when none), recorded with them, the signer certificate's
 * SHA-256 and the signature algorithm name.  Heads signed before schema
 * 5 carry no prev_* and were signed as "eseal-audit-head-v1\n<seq>\n
 * <hash>\n".  1/0.
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

/* What a witness (a signed artefact naming an audit head) showed. */
enum audit_witness_result {
	AUDIT_WITNESS_UNCHECKED = 0,
	AUDIT_WITNESS_MATCHES,		/* the store holds the head */
	AUDIT_WITNESS_MISSING,		/* the store lacks that entry */
	AUDIT_WITNESS_DIFFERS		/* the entry's hash differs */
};

/*
 * An audit head vouched for outside the store (a status export, an
 * anchor): filled by the reader of the artefact (its signature already
 * checked), result set by audit_verify_witnessed().
 */
struct audit_witness {
	int64_t				seq;
	char				hash[65];	/* lower-case hex */
	char				what[512];	/* "FILE: status export seq 7" */
	enum audit_witness_result	result;
};

/*
 * Verify the whole chain and every signed head against certs (ncerts CA
 * certificates supplied by the caller, not read from the store).  Each
 * finding is printed to out as one line, e.g. "audit entry 17: altered
 * (hash mismatch)", "audit entries 5..6: removed", "audit entry 9:
 * reordered (follows entry 11)", "signed head 42: signature does not
 * verify", and every chained signed head must cover the row before it
 * (ES-AUDIT-01, see audit_verify_witnessed()).  Returns 1 if the chain is
 * intact and all signatures verify.
 */
int audit_verify(struct db *db, X509 *const *certs, size_t ncerts, FILE *out,
    struct audit_verify_result *res);

/*
 * audit_verify() that also reports a broken chain of signed heads as
 * "signed head at 9: ES-AUDIT-01: the signed head it covers (at 6) was
 * removed" (or replaced, or "a signed head was inserted ..."), and
 * checks the nw witnesses w[] (nw may be 0):
 * each witnessed head must be in the store with the same hash, else
 * "audit verify: ES-AUDIT-02: witnessed head 412 (WHAT) missing: store
 * ends at 380" or "audit verify: ES-AUDIT-03: entries 301..412 differ
 * from the witnessed chain (WHAT)", the range starting after the highest
 * head below it that a witness or a verified signature vouches for.
 * Sets w[i].result.  Returns 1 if everything holds.
 */
int audit_verify_witnessed(struct db *db, X509 *const *certs, size_t ncerts,
    struct audit_witness *w, size_t nw, FILE *out,
    struct audit_verify_result *res);

#endif
