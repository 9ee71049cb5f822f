/*
 * Building CA certificates (root and issuing) and CSRs for the key
 * ceremony.  The TBS is built once; the same object is first signed by a
 * throw-away key and linted, then signed on the token.
 */
#ifndef ESEAL_CACERT_H
#define ESEAL_CACERT_H

#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sigalg.h"

struct cacert_spec {
	X509_NAME	*subject;
	time_t		 not_before, not_after;
	int		 path_len;		/* -1: no pathLenConstraint */
	EVP_PKEY	*subject_pub;
	X509		*issuer;		/* NULL: self-signed root */
	const char	*crldp_url;		/* issuer's CRL (ARL) URL or NULL */
	const char	*ca_issuers_url;	/* issuer's certificate URL or NULL */
	const char	*ocsp_url;		/* or NULL */
	char		**policies;		/* certificatePolicies OIDs (issuing CA) */
	size_t		 npolicies;
};

/*
 * Build subject name from a JSON object {"C": "JP", "O": ..., "CN": ...}
 * (keys: C, ST, L, O, OU, CN, organizationIdentifier, serialNumber; order
 * kept).  NULL (logged with what) on unknown keys or non-string values.
 */
X509_NAME *name_from_json(json_t *obj, const char *what);
/*
 * The same, added to name (empty: a new certificate's own subject, which
 * is then not copied).  1/0 (logged); name may hold some entries on 0.
 */
int name_fill_json(X509_NAME *name, json_t *obj, const char *what);

/*
 * Build an unsigned CA certificate: v3, a random positive 16-byte
 * serial, basicConstraints critical CA:TRUE (pathLen), keyUsage critical
 * keyCertSign+cRLSign+digitalSignature, SKI, AKI (issuing CA), and for an
 * issuing CA the CRLDP/AIA/certificatePolicies given.  NULL (logged).
 */
X509 *cacert_build(const struct cacert_spec *spec, const char *what);

/*
 * Add the extension nid = value (openssl.cnf syntax, resolved in ctx) to
 * x.  1/0 (logged with what).
 */
int cacert_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value,
    const char *what);

/* Build an unsigned CSR for subject and pub.  NULL (logged). */
X509_REQ *csr_build(X509_NAME *subject, EVP_PKEY *pub, const char *what);

/* A software key of the same type as k, for the throw-away certificate. */
EVP_PKEY *throwaway_key(enum key_alg k);

#endif
