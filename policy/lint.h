/*
 * Rule tables: certificate profile lint (CA certificates, e-seal
 * certificates, OCSP signer certificates) and the algorithm policy.  Each
 * rule has an ID (ES-..., see doc/rules.md) and a source clause and yields
 * PASS, FAIL or N/A (WARN for "should" rules).  The same tables serve the
 * pre-issuance lint of a throw-away certificate in eseal-ca and
 * "eseal-policy lint".  No I/O beyond printing findings.
 */
#ifndef ESEAL_LINT_H
#define ESEAL_LINT_H

#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum rule_result { RULE_PASS = 0, RULE_FAIL, RULE_NA, RULE_WARN };

struct finding {
	char		 id[32];	/* "ES-KU-01" */
	char		 source[96];	/* "EN 319 412-3 LEG-4.3.1-3" */
	enum rule_result result;
	char		 detail[256];	/* why, for FAIL/WARN/N/A */
};

struct findings {
	struct finding	*v;
	size_t		 n, cap;
	int		 fails, warns;
};

void findings_init(struct findings *f);
void findings_free(struct findings *f);	/* frees v; accepts an empty set */
void findings_add(struct findings *f, const char *id, const char *source,
    enum rule_result r, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/*
 * Print findings: text (one line per rule "FAIL ES-KU-01 [source] detail",
 * prefixed by what) or a JSON object when json is set.
 */
void findings_print(FILE *fp, const struct findings *f, const char *what,
    int json);
/* Log every FAIL as one line "what: ID: detail" (for refusals). */
void findings_log_fails(const struct findings *f, const char *what);

/* The algorithm policy (eseal-rules.md section 3), default or from a file. */
struct alg_policy;

enum key_use {
	KEY_USE_CA = 0,		/* root and issuing CA keys (new keys) */
	KEY_USE_SUBJECT,	/* e-seal subject keys */
	KEY_USE_OCSP		/* delegated OCSP signer keys */
};

/* The documented default policy (never NULL). */
struct alg_policy *alg_policy_default(void);
/* Load a policy file (JSON, doc/algorithm-policy.md); NULL (logged) on error. */
struct alg_policy *alg_policy_load(const char *path);
/* The same from the JSON text of a policy (what names it in messages). */
struct alg_policy *alg_policy_parse(const char *text, const char *what);
void alg_policy_free(struct alg_policy *ap);
/*
 * Attach dated algorithm policies (the JSON text of an array of the
 * documents of algdated.h, e.g. CRYPTREC and ETSI TS 119 312) to *ap,
 * replacing any; the default policy is first copied, so *ap may change
 * and is still freed with alg_policy_free().  alg_policy_check_key() then
 * also applies ES-ALG-KEY-06 against each.  1/0 (logged, what names the
 * text).
 */
int alg_policy_set_dated(struct alg_policy **ap, const char *text,
    const char *what);

/*
 * Check a public key for a use: RSA modulus and exponent, EC named curve
 * and size, explicit parameters forbidden; rules with an end date and
 * the dated policies (ES-ALG-KEY-06) are checked against not_after (0:
 * not checked).  Adds findings; returns 1 if no FAIL was added.
 */
int alg_policy_check_key(const struct alg_policy *ap, const EVP_PKEY *pub,
    enum key_use use, time_t not_after, struct findings *out);
/*
 * The same for a key that will sign with sig_alg (a toolkit name,
 * sigalg.h: "rsa-pss-sha256"...), which picks the RSA scheme of a dated
 * policy's entries (ES-ALG-KEY-06); NULL: not known.
 */
int alg_policy_check_key_for(const struct alg_policy *ap,
    const EVP_PKEY *pub, enum key_use use, const char *sig_alg,
    time_t not_after, struct findings *out);
/*
 * ES-ALG-SIG-03: is the toolkit signature algorithm alg_name (sigalg.h:
 * "ecdsa-sha256", "rsa-pss-sha384", "ed25519"...), with which a CRL or an
 * OCSP response is about to be signed, allowed by ap (NULL: the default)?
 * 1 if so; 0 if not, logged as "what: ES-ALG-SIG-03: ...".
 */
int alg_policy_allows_signing(const struct alg_policy *ap,
    const char *alg_name, const char *what);
/* Check a signature AlgorithmIdentifier (exact DER allow-list). 1 if no FAIL. */
int alg_policy_check_sigalg(const struct alg_policy *ap, const X509_ALGOR *alg,
    const EVP_PKEY *signer_pub, time_t not_after, struct findings *out);

enum lint_kind {
	LINT_ROOT_CA = 0,
	LINT_ISSUING_CA,
	LINT_ESEAL,		/* an e-seal end-entity certificate */
	LINT_OCSP_SIGNER
};

struct lint_opts {
	enum lint_kind		 kind;
	const char		*profile;	/* e-seal profile name (LINT_ESEAL) or NULL */
	X509			*issuer;	/* NULL for a root */
	const struct alg_policy	*ap;		/* NULL: default */
	time_t			 now;		/* 0: now_utc() */
	/*
	 * A pre-issuance "throw-away" certificate: same contents as the real
	 * one but signed by an ephemeral key, so rules that verify the
	 * certificate's own signature are N/A.
	 */
	int			 throwaway;
	/*
	 * The algorithm the certified key will sign with (a toolkit name,
	 * sigalg.h), when known (a CA key at its ceremony); it picks the
	 * RSA scheme of the dated policies (ES-ALG-KEY-06).  NULL: unknown.
	 */
	const char		*key_sig_alg;
	/*
	 * Or NULL.  The DER SubjectPublicKeyInfo (subject_spki_len bytes) the
	 * certificate's was copied from (eecert_spec.subject_spki) and
	 * subject_pub, the key decoded from it: if the certificate's encodes
	 * to the same DER, subject_pub is the certificate's key for the rules.
	 */
	const unsigned char	*subject_spki;
	size_t			 subject_spki_len;
	EVP_PKEY		*subject_pub;
};

/* Lint cert against the rules for o->kind.  Adds findings; 1 if no FAIL. */
int lint_certificate(X509 *cert, const struct lint_opts *o,
    struct findings *out);

/*
 * Check a subject DN (a certificate's or a CSR's) against the e-seal subject
 * rules ES-SUBJ-01..04, ES-ORGID-01 (with the LEI mod-97 check) and
 * ES-JP-ID-01; profile names the e-seal profile in messages, and ntrjp set
 * requires an organizationIdentifier NTRJP-<法人番号>.  The same rows run
 * in lint_certificate(), so a request is refused for what issuance would
 * refuse.  Adds findings; 1 if no FAIL.
 */
int lint_subject(const X509_NAME *subject, const char *profile, int ntrjp,
    struct findings *out);

/* 1 if cc is an assigned ISO 3166-1 alpha-2 code (upper case). */
int iso3166_valid(const char *cc);

/* 1 if name is a known e-seal profile. */
int lint_profile_known(const char *name);
/* The qualified certificate policy OID profile name requires, or NULL. */
const char *lint_profile_policy(const char *name);

/* What an e-seal certificate's qcStatements claim (EN 319 412-5). */
struct qc_claims {
	int	present;	/* qcStatements there and decodable */
	int	compliance;	/* QcCompliance: EU qualified */
	int	sscd;		/* QcSSCD: key in a QSCD */
	int	type_eseal;	/* QcType id-etsi-qct-eseal */
	int	pds;		/* QcPDS present */
};
/* Decode cert's qcStatements into out (all zero when absent or malformed). */
void lint_qc_claims(X509 *cert, struct qc_claims *out);

#endif
