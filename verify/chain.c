/*
 * Certificates and the certification path for eseal-verify: reading
 * certificates (PEM bundles or DER, nothing after them), trust anchors
 * from files or directories, and RFC 5280 path validation at the
 * validation time with OpenSSL's X509_STORE, explicit policy checking
 * for the qualified profiles, and intermediates fetched from the AIA
 * caIssuers URL (RFC 5280 4.2.2.1) when the path stops short of an
 * anchor.  Each OpenSSL verification error is mapped to its ETSI TS
 * 119 102-1 sub-indication.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "util.h"
#include "verify.h"

#define CERT_FILE_MAX	(16u * 1024 * 1024)
#define AIA_FETCH_MAX	4

/* Parse PEM certificates or one DER certificate / PKCS#7 certs-only. */
static STACK_OF(X509) *
certs_parse(const unsigned char *buf, size_t len, char *err, size_t errsz)
{
	STACK_OF(X509)		*sk = NULL;
	const unsigned char	*p = buf;
	X509			*x;
	PKCS7			*p7;
	BIO			*bio = NULL;
	size_t			 i;
	int			 j;

	if ((sk = sk_X509_new_null()) == NULL) {
		fatalx("certs: out of memory");
	}
	for (i = 0; i < len && isspace(buf[i]); i++) {
		continue;
	}
	if (len - i >= 11 && memcmp(buf + i, "-----BEGIN ", 11) == 0) {
		if (len > INT_MAX || (bio = BIO_new_mem_buf(buf, (int)len)) ==
		    NULL) {
			fatalx("certs: out of memory");
		}
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			sk_X509_push(sk, x);
		}
		BIO_free(bio);
		if (sk_X509_num(sk) == 0) {
			snprintf(err, errsz, "no PEM CERTIFICATE block");
			goto bad;
		}
		ERR_clear_error();
		return sk;
	}
	if ((x = d2i_X509(NULL, &p, (long)len)) != NULL) {
		if (p != buf + len) {
			X509_free(x);
			snprintf(err, errsz, "%td bytes trailing garbage after "
			    "the certificate", (buf + len) - p);
			goto bad;
		}
		sk_X509_push(sk, x);
		return sk;
	}
	p = buf;
	if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) != NULL &&
	    p == buf + len && PKCS7_type_is_signed(p7) &&
	    p7->d.sign->cert != NULL) {
		for (j = 0; j < sk_X509_num(p7->d.sign->cert); j++) {
			X509_up_ref(sk_X509_value(p7->d.sign->cert, j));
			sk_X509_push(sk, sk_X509_value(p7->d.sign->cert, j));
		}
	}
	PKCS7_free(p7);
	if (sk_X509_num(sk) > 0) {
		ERR_clear_error();
		return sk;
	}
	snprintf(err, errsz, "not a DER or PEM certificate");
 bad:
	ERR_clear_error();
	sk_X509_pop_free(sk, X509_free);
	return NULL;
}

STACK_OF(X509) *
certs_load(const char *path)
{
	unsigned char	*buf = NULL;
	size_t		 len;
	STACK_OF(X509)	*sk;
	char		 err[128];

	if (!file_read(path, CERT_FILE_MAX, &buf, &len)) {
		return NULL;
	}
	if ((sk = certs_parse(buf, len, err, sizeof(err))) == NULL) {
		log_warnx("%s: %s", path, err);
	}
	free(buf);
	return sk;
}

X509 *
cert_load_one(const char *path)
{
	STACK_OF(X509)	*sk;
	X509		*x = NULL;

	if ((sk = certs_load(path)) == NULL) {
		return NULL;
	}
	if (sk_X509_num(sk) != 1) {
		log_warnx("%s: %d certificates, expected one", path,
		    sk_X509_num(sk));
	} else {
		x = sk_X509_shift(sk);
	}
	sk_X509_pop_free(sk, X509_free);
	return x;
}

int
anchors_add(STACK_OF(X509) *anchors, const char *path)
{
	STACK_OF(X509)	*sk;
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	unsigned char	*buf = NULL;
	size_t		 len;
	char		 p[4096], err[128];
	int		 n = 0;

	if (stat(path, &st) == -1) {
		log_warn("%s", path);
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		if ((sk = certs_load(path)) == NULL) {
			return 0;
		}
		while (sk_X509_num(sk) > 0) {
			sk_X509_push(anchors, sk_X509_shift(sk));
		}
		sk_X509_free(sk);
		return 1;
	}
	if ((d = opendir(path)) == NULL) {
		log_warn("%s", path);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.') {
			continue;
		}
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (stat(p, &st) == -1 || !S_ISREG(st.st_mode)) {
			continue;
		}
		/* Files that hold no certificate are skipped quietly. */
		sk = NULL;
		if (file_read(p, CERT_FILE_MAX, &buf, &len)) {
			sk = certs_parse(buf, len, err, sizeof(err));
			free(buf);
			buf = NULL;
		}
		while (sk != NULL && sk_X509_num(sk) > 0) {
			sk_X509_push(anchors, sk_X509_shift(sk));
			n++;
		}
		sk_X509_free(sk);
	}
	closedir(d);
	if (n == 0) {
		log_warnx("%s: no certificate in the directory", path);
		return 0;
	}
	return 1;
}

/* Fetch the caIssuers certificates of x into untrusted. 1 if any. */
static int
fetch_issuer(X509 *x, const struct vparams *vp, STACK_OF(X509) *untrusted,
    struct report *r)
{
	struct http_resp	 hr;
	STACK_OF(X509)		*sk = NULL;
	unsigned char		*buf = NULL;
	size_t			 len;
	char			*url, *key = NULL, err[512];
	int			 ok = 0, cached = 0;

	if ((url = aia_url(x, NID_ad_ca_issuers)) == NULL) {
		return 0;
	}
	memset(&hr, 0, sizeof(hr));
	if (asprintf(&key, "aia %s", url) == -1) {
		fatalx("chain: out of memory");
	}
	if (cache_get(vp->http.cache_dir, key, vp->now, &buf, &len)) {
		cached = 1;
	} else if (vp->offline) {
		report_check(r, "caIssuers", "skipped", "%s: offline", url);
		goto out;
	} else if (http_fetch(&vp->http, url, NULL, NULL, 0, &hr, err,
	    sizeof(err))) {
		buf = hr.body;
		len = hr.len;
		hr.body = NULL;
	} else {
		report_check(r, "caIssuers", "failed", "%s", err);
		goto out;
	}
	if ((sk = certs_parse(buf, len, err, sizeof(err))) == NULL) {
		report_check(r, "caIssuers", "failed", "%s: %s", url, err);
		goto out;
	}
	if (!cached && hr.max_age != 0) {
		cache_put(vp->http.cache_dir, key, vp->now +
		    (hr.max_age > 0 ? hr.max_age : 86400), buf, len);
	}
	report_check(r, "caIssuers", "passed", "%s%s: %d certificate(s)", url,
	    cached ? " (cached)" : "", sk_X509_num(sk));
	while (sk_X509_num(sk) > 0) {
		sk_X509_push(untrusted, sk_X509_shift(sk));
	}
	ok = 1;
 out:
	sk_X509_pop_free(sk, X509_free);
	http_resp_free(&hr);
	free(buf);
	free(key);
	free(url);
	return ok;
}

/* Map an OpenSSL verification error to the TS 119 102-1 indication. */
static void
chain_failed(struct report *r, int err, int depth, X509 *x, X509 *ee,
    time_t at)
{
	char		 subj[256];
	const char	*what = X509_verify_cert_error_string(err);
	enum vmain	 m = V_INDETERMINATE;
	enum vsub	 s;

	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		s = SUB_NO_CERTIFICATE_CHAIN_FOUND;
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		s = SUB_OUT_OF_BOUNDS_NO_POE;
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		/* The signer's own notBefore decides, whatever depth failed. */
		if (X509_cmp_time(X509_get0_notBefore(ee), &at) > 0) {
			x = ee;
			depth = 0;
			m = V_FAILED;
			s = SUB_NOT_YET_VALID;
		} else {
			s = SUB_CHAIN_CONSTRAINTS_FAILURE;
		}
		break;
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
		s = SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE;
		break;
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
		s = SUB_CRYPTO_CONSTRAINTS_FAILURE;
		break;
	default:
		s = SUB_CHAIN_CONSTRAINTS_FAILURE;
		break;
	}
	X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
	report_check(r, "chain", "failed", "RFC 5280 6.1: %s (depth %d, %s)",
	    what, depth, subj);
	report_indication(r, m, s, "%s: %s", subj, what);
}

/* One X509_verify_cert() run; on failure the error, its depth and cert. 1/0. */
static int
verify_once(X509 *cert, X509_STORE *store, STACK_OF(X509) *untrusted,
    STACK_OF(X509) **chain, int *err, int *depth, X509 **at)
{
	X509_STORE_CTX	*ctx;
	STACK_OF(X509)	*part;
	int		 ok;

	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, store, cert, untrusted)) {
		fatalx("chain: out of memory");
	}
	ok = X509_verify_cert(ctx) == 1;
	if (ok) {
		*chain = X509_STORE_CTX_get1_chain(ctx);
	} else {
		*err = X509_STORE_CTX_get_error(ctx);
		*depth = X509_STORE_CTX_get_error_depth(ctx);
		part = X509_STORE_CTX_get0_chain(ctx);
		*at = X509_STORE_CTX_get_current_cert(ctx);
		if (part != NULL && sk_X509_num(part) > 0) {
			if (*at == NULL) {
				*at = sk_X509_value(part,
				    sk_X509_num(part) - 1);
			}
			if (*err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
			    *err ==
			    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) {
				*at = sk_X509_value(part,
				    sk_X509_num(part) - 1);
			}
		}
		if (*at == NULL) {
			*at = cert;
		}
		X509_up_ref(*at);
	}
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return ok;
}

/* The store: anchors, validation time, policy. */
static X509_STORE *
store_new(STACK_OF(X509) *anchors, const char *policy,
    const struct vparams *vp)
{
	X509_STORE		*store;
	X509_VERIFY_PARAM	*pm;
	ASN1_OBJECT		*obj;
	int			 i;

	if ((store = X509_STORE_new()) == NULL) {
		fatalx("chain: out of memory");
	}
	for (i = 0; i < sk_X509_num(anchors); i++) {
		X509_STORE_add_cert(store, sk_X509_value(anchors, i));
	}
	ERR_clear_error();	/* duplicates */
	pm = X509_STORE_get0_param(store);
	X509_VERIFY_PARAM_set_time(pm, vp->at);
	X509_VERIFY_PARAM_set_purpose(pm, X509_PURPOSE_ANY);
	/*
	 * RFC 5280 6.1.1 (d): a trust anchor need not be self-signed; the
	 * store holds the anchors only, so any of them may end the path.
	 */
	X509_VERIFY_PARAM_set_flags(pm, X509_V_FLAG_X509_STRICT |
	    X509_V_FLAG_PARTIAL_CHAIN);
	if (policy != NULL) {
		if ((obj = OBJ_txt2obj(policy, 1)) == NULL) {
			fatalx("chain: bad policy OID %s", policy);
		}
		X509_VERIFY_PARAM_add0_policy(pm, obj);
		X509_VERIFY_PARAM_set_flags(pm, X509_V_FLAG_POLICY_CHECK |
		    X509_V_FLAG_EXPLICIT_POLICY);
	}
	return store;
}

int
chain_build(X509 *cert, STACK_OF(X509) *anchors, STACK_OF(X509) *untrusted,
    const char *policy, const struct vparams *vp, struct report *r,
    STACK_OF(X509) **out_chain)
{
	X509_STORE	*store;
	X509		*at = NULL, *top;
	char		 subj[256];
	int		 err = 0, depth = 0, tries, ok = 0;

	*out_chain = NULL;
	store = store_new(anchors, policy, vp);
	for (tries = 0; tries <= AIA_FETCH_MAX; tries++) {
		X509_free(at);
		at = NULL;
		if (verify_once(cert, store, untrusted, out_chain, &err, &depth,
		    &at)) {
			ok = 1;
			break;
		}
		if (err != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY &&
		    err != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) {
			break;
		}
		if (!fetch_issuer(at, vp, untrusted, r)) {
			break;
		}
	}
	if (!ok) {
		chain_failed(r, err, depth, at, cert, vp->at);
	} else {
		top = sk_X509_value(*out_chain, sk_X509_num(*out_chain) - 1);
		X509_NAME_oneline(X509_get_subject_name(top), subj,
		    sizeof(subj));
		report_check(r, "chain", "passed", "RFC 5280 6.1: %d "
		    "certificate(s) to the anchor %s%s%s",
		    sk_X509_num(*out_chain), subj, policy != NULL ?
		    ", explicit policy " : "", policy != NULL ? policy : "");
	}
	X509_free(at);
	X509_STORE_free(store);
	return ok;
}
