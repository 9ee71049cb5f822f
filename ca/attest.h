/*
 * HSM key attestation: the configured vendor roots (table
 * attestation_roots, each mapped to the CMVP certificate of the HSM
 * product line it attests) and the verification of an attestation
 * certificate chain (YubiHSM 2 attestation certificate, Thales Luna PKC
 * chain, nShield key generation certificate converted to X.509) against
 * them: the chain must verify to a configured root, and the attested
 * public key must be the CSR's (eseal-rules.md 5.3, ES-ATT-01..03).
 */
#ifndef ESEAL_ATTEST_H
#define ESEAL_ATTEST_H

#include <stddef.h>

#include <openssl/evp.h>

#include "db.h"

enum attest_result {
	ATTEST_OK = 0,
	ATTEST_REFUSED,		/* rule and reason say why */
	ATTEST_ERROR		/* store error (logged) */
};

struct attest {
	char	 root[65];		/* the vendor root the chain verified to */
	char	 root_sha256[65];
	char	 cmvp[16];		/* the root's CMVP certificate number */
	char	*pem;			/* the chain re-encoded as PEM (malloc'd) */
	char	 rule[16];		/* on refusal: "ES-ATT-01".. */
	char	 reason[512];		/* on refusal: the problem */
};

/*
 * Verify the attestation bundle buf (len bytes of PEM: the attestation
 * certificate for the subject key first, then intermediates) against the
 * configured vendor roots only (no partial chains, X509 strict, at
 * now_utc()), and that the attestation certificate's public key equals
 * subject_pub.  On ATTEST_OK root, root_sha256, cmvp and pem are set; on
 * ATTEST_REFUSED rule and reason are (and pem if the bundle parsed).
 * Refusals are not logged: the caller records them.  Free with
 * attest_clear().
 */
enum attest_result attest_verify(struct db *db, const unsigned char *buf,
    size_t len, EVP_PKEY *subject_pub, struct attest *out);
/* Free what attest_verify() allocated; accepts a zeroed struct. */
void attest_clear(struct attest *a);

/* "eseal-ca attestation-root add|list|remove". Returns an exit code. */
int cmd_attestation_root(int argc, char **argv);

#endif
