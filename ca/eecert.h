/*
 * Building e-seal end-entity certificates from an approved request: the
 * subject from the request (C, O, organizationIdentifier, CN), the key
 * from its CSR, the extensions from the profile and the issuing CA's
 * settings (CRL DP, OCSP, caIssuers), a fresh 16-byte serial that is
 * unique in the store.  The result is unsigned: it is signed first by a
 * throw-away key for the lint, then on the token.
 */
#ifndef ESEAL_EECERT_H
#define ESEAL_EECERT_H

#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "db.h"
#include "profile.h"

struct eecert_exts;

struct eecert_spec {
	json_t			*subject;	/* {"C", "O", "organizationIdentifier", "CN"} */
	EVP_PKEY		*subject_pub;
	/*
	 * Or NULL.  The DER SubjectPublicKeyInfo subject_pub was decoded
	 * from (the CSR's, subject_spki_len bytes): the certificate gets a
	 * copy of its algorithm and bits, and subject_pub is not encoded and
	 * decoded again (unless the copy would not encode to the same DER:
	 * then X509_set_pubkey()).  X509_get0_pubkey() of such a certificate
	 * is NULL: lint it with lint_opts.subject_spki.
	 */
	const unsigned char	*subject_spki;
	size_t			 subject_spki_len;
	X509			*issuer;
	const struct profile	*profile;
	enum ku_setting		 ku;
	time_t			 not_before, not_after;
	const char		*crl_url;	/* http:// */
	const char		*ocsp_url;	/* http:// */
	const char		*ca_issuers_url;	/* http:// */
	const char		*serial_hex;	/* from eecert_new_serial */
	struct eecert_exts	*exts;		/* or NULL: built each time */
};

/*
 * Draw a random 16-byte serial (top bit clear, first byte non-zero) that
 * is neither in certificates.serial nor in serials_burned; retries on a
 * collision.  hex is lower-case without leading zeros.  1/0 (logged).
 */
int eecert_new_serial(struct db *db, char hex[33]);

/*
 * The end of the validity: not_before + days, but never after the issuer's
 * notAfter.  Sets *capped when the issuer's notAfter applied.
 */
time_t eecert_not_after(X509 *issuer, time_t not_before, int days,
    int *capped);

/*
 * Build the unsigned certificate.  NULL (logged with what).  With
 * spec->exts, the extensions that do not depend on the subject (all but
 * the subjectKeyIdentifier) are made once per profile content, key
 * usage setting, issuer and URLs and added as copies.
 */
X509 *eecert_build(const struct eecert_spec *spec, const char *what);

/* A cache of extensions for eecert_build (spec->exts).  NULL-safe free. */
struct eecert_exts *eecert_exts_new(void);
void eecert_exts_free(struct eecert_exts *ex);

/*
 * The qcStatements extension (EN 319 412-5) of profile p, non-critical;
 * NULL if p has no QC statements.  *err set on failure (logged).
 */
X509_EXTENSION *eecert_qc_statements(const struct profile *p, int *err);

#endif
