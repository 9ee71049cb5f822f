/*
 * eseal-verify: the relying party's verifier.  Shared types: the
 * validation parameters, the ETSI TS 119 102-1 indications, the
 * revocation evidence, the report, and the modules' entry points (chain
 * building, OCSP, CRLs, HTTP with its disk cache, CMS).
 */
#ifndef ESEAL_VERIFY_H
#define ESEAL_VERIFY_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "exitcodes.h"

/* Exit status (doc/eseal-verify.1). */
#define VEXIT_PASSED		EXIT_OK
#define VEXIT_FAILED		EXIT_REFUSED
#define VEXIT_USAGE		EXIT_USAGE
#define VEXIT_INPUT		EXIT_ERROR
#define VEXIT_INDETERMINATE	EXIT_INDETERMINATE

/* ETSI TS 119 102-1 main indications. */
enum vmain {
	V_PASSED = 0,
	V_FAILED,
	V_INDETERMINATE
};

/* ETSI TS 119 102-1 sub-indications used here. */
enum vsub {
	SUB_NONE = 0,
	SUB_FORMAT_FAILURE,
	SUB_HASH_FAILURE,
	SUB_SIG_CRYPTO_FAILURE,
	SUB_REVOKED,
	SUB_NOT_YET_VALID,
	SUB_NO_CERTIFICATE_CHAIN_FOUND,
	SUB_CHAIN_CONSTRAINTS_FAILURE,
	SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE,
	SUB_CRYPTO_CONSTRAINTS_FAILURE,
	SUB_OUT_OF_BOUNDS_NO_POE,
	SUB_REVOKED_CA_NO_POE,
	SUB_TRY_LATER,
	SUB_REVOCATION_OUT_OF_BOUNDS,
	SUB_NO_SIGNING_CERTIFICATE_FOUND,
	SUB_SIGNED_DATA_NOT_FOUND
};

/* HTTP client settings (http.c). */
struct http_opts {
	long		 timeout;	/* seconds, whole transfer */
	size_t		 max_body;	/* bytes */
	const char	*cache_dir;	/* NULL: no cache */
};

/* Validation parameters. */
struct vparams {
	time_t			 at;		/* validation time */
	time_t			 now;		/* the clock */
	long			 skew;		/* seconds of tolerance */
	int			 offline;	/* no network at all */
	int			 allow_cached;	/* cached OCSP instead of a nonce */
	const char		*ocsp_url;	/* overrides the AIA */
	const char	       **crls;		/* --crl FILE|URL */
	size_t			 ncrls;
	const char	       **ocsp_files;	/* --ocsp-response FILE */
	size_t			 nocsp_files;
	struct http_opts	 http;
};

enum rev_status {
	RS_GOOD = 0,
	RS_REVOKED,
	RS_UNUSABLE,	/* no answer from this source: try the next one */
	RS_STALE	/* an answer, but not fresh for the validation time */
};

/* What a revocation source said, for the report. */
struct rev_evidence {
	const char	*source;		/* "ocsp", "crl" */
	char		 where[512];		/* URL or file */
	int		 cached;
	enum rev_status	 status;
	char		 cert_status[24];	/* good, revoked, unknown, or the error */
	char		 detail[512];		/* why unusable, or notes */
	time_t		 this_update, next_update, produced_at;
	time_t		 revocation_time, archive_cutoff;
	int		 reason;		/* CRL reason or -1 */
	int		 extended_revoke;
	char		 responder[256];	/* OCSP signer / CRL issuer */
	char		 nonce[96];		/* how the nonce was handled */
	char		 crl_number[64];
	char		 delta[256];		/* delta CRL used, or "" */
};

/* report.c: the result and the evidence, printed as text or JSON. */
struct report;

struct report *report_new(void);
void report_free(struct report *r);
/* Set the indication (the first non-passed one set wins). */
void report_indication(struct report *r, enum vmain m, enum vsub s,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
enum vmain report_main(const struct report *r);
/* One check: name, result ("passed", "failed", "indeterminate", "warning", "skipped"). */
void report_check(struct report *r, const char *name, const char *result,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Attach a JSON member to the report's evidence (takes ownership of v). */
void report_set(struct report *r, const char *key, json_t *v);
void report_cert(struct report *r, const char *role, X509 *x);
void report_revocation(struct report *r, const char *subject,
    const struct rev_evidence *ev, int used);
void report_line(struct report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void report_print(const struct report *r, int json, time_t at);
int report_exit(const struct report *r);
/* A certificate as JSON (subject, issuer, serial, validity, SHA-256). */
json_t *cert_json(X509 *x);
const char *vsub_name(enum vsub s);
/* An ASN1_TIME as time_t; 0 if unreadable. */
time_t vtime(const ASN1_TIME *t);
const char *vmain_name(enum vmain m);

/* http.c: GET or POST over http(s) only, bounded, optionally cached. */
struct http_resp {
	long		 code;
	char		 ctype[128];
	long		 max_age;	/* Cache-Control max-age or -1 */
	unsigned char	*body;
	size_t		 len;
};

/*
 * Fetch url (POST body of type post_type when post != NULL).  Returns 1
 * when a 2xx answer was read whole, 0 with a one-line reason in err.
 */
int http_fetch(const struct http_opts *o, const char *url,
    const char *post_type, const unsigned char *post, size_t postlen,
    struct http_resp *out, char *err, size_t errsz);
void http_resp_free(struct http_resp *r);
int http_global_init(void);
void http_global_cleanup(void);

/* cache.c: a file per key (SHA-256), valid until its expiry time. */
int cache_get(const char *dir, const char *key, time_t now,
    unsigned char **out, size_t *out_len);
int cache_put(const char *dir, const char *key, time_t expires,
    const unsigned char *buf, size_t len);
/* The default cache directory ($XDG_CACHE_HOME or ~/.cache)/eseal-verify. */
char *cache_default_dir(void);

/* vocsp.c */
/*
 * Check one DER OCSP response about id (cert issued by issuer) for the
 * validation time; req is the request that was sent (for the nonce) or
 * NULL (cached or given).  Fills ev; returns the status it establishes.
 */
enum rev_status ocsp_check_der(const unsigned char *der, size_t len,
    X509 *cert, X509 *issuer, OCSP_REQUEST *req, const struct vparams *vp,
    struct rev_evidence *ev);
/* Ask the responder at url (or the cache) about cert. */
enum rev_status ocsp_status(X509 *cert, X509 *issuer, const char *url,
    const struct vparams *vp, struct rev_evidence *ev);
/* The first id-ad-ocsp URI of cert's AIA, or NULL (malloc'd). */
char *aia_url(X509 *cert, int nid);

/* vcrl.c */
/*
 * Check cert against the DER or PEM CRL in buf (from where), and the
 * deltas it names.  Fills ev; RS_UNUSABLE if the CRL is not the issuer's,
 * out of scope or unreadable.
 */
enum rev_status crl_check_buf(const unsigned char *buf, size_t len,
    const char *where, X509 *cert, X509 *issuer, const struct vparams *vp,
    struct rev_evidence *ev);
/* Every CRL source for cert (--crl, then the CDP), first usable wins. */
enum rev_status crl_status(X509 *cert, X509 *issuer,
    const struct vparams *vp, struct report *r, struct rev_evidence *ev);

/* chain.c */
/* Read certificates (PEM, one or more, or DER) from a file; NULL (logged). */
STACK_OF(X509) *certs_load(const char *path);
/* Read a single certificate; NULL (logged). */
X509 *cert_load_one(const char *path);
/* Anchors from files or directories of PEM/DER files. 1/0 (logged). */
int anchors_add(STACK_OF(X509) *anchors, const char *path);
/*
 * Build and validate the path for cert at vp->at (X509_STORE), fetching
 * missing intermediates from AIA caIssuers unless offline.  policy: OID
 * required (explicit policy) or NULL.  On success *out_chain holds cert
 * up to the anchor.  Sets the report's indication on failure; 1/0.
 */
int chain_build(X509 *cert, STACK_OF(X509) *anchors,
    STACK_OF(X509) *untrusted, const char *policy, const struct vparams *vp,
    struct report *r, STACK_OF(X509) **out_chain);

/* Revocation of each certificate of the chain but the anchor; 1/0. */
int status_chain(STACK_OF(X509) *chain, const struct vparams *vp,
    struct report *r);

/* vcms.c */
/*
 * Verify a CMS SignedData (DER or PEM) over its content or the detached
 * content; on success *signer is the signer's certificate (up ref) and
 * certs the certificates it carried.  Sets the report on failure; 1/0.
 */
int cms_verify_seal(const char *path, const char *content_path,
    struct report *r, X509 **signer, STACK_OF(X509) *certs);

#endif
