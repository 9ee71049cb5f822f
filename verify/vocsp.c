/*
 * OCSP for the relying party (RFC 6960, RFC 5019, RFC 8954): ask the
 * responder with a fresh nonce, then check the answer the way ocspcheck
 * does and more: the response is DER with nothing after it, successful
 * and basic; it is about this CertID; it is signed by the CA itself or by
 * a delegated responder holding id-kp-OCSPSigning issued by that CA
 * (RFC 6960 4.2.2.2); the nonce is echoed or absent (RFC 5019 responders
 * do not echo it; such an answer is taken within its validity window and
 * the evidence says so); thisUpdate is not in the future and nextUpdate
 * not before the validation time, with a small skew; an expired
 * certificate's status needs an archiveCutoff (RFC 6960 4.4.4); the
 * extended-revoke "not issued" answer (RFC 6960 2.2) is reported as such.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "util.h"
#include "verify.h"

#define OCSP_BODY_MAX	(1024 * 1024)
#define NONCE_LEN	32
#define OID_EXT_REVOKE	"1.3.6.1.5.5.7.48.1.9"

char *
aia_url(X509 *cert, int nid)
{
	AUTHORITY_INFO_ACCESS	*aia;
	ACCESS_DESCRIPTION	*ad;
	char			*url = NULL;
	int			 i;

	if ((aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL)) ==
	    NULL) {
		ERR_clear_error();
		return NULL;
	}
	for (i = 0; i < sk_ACCESS_DESCRIPTION_num(aia) && url == NULL; i++) {
		ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		if (OBJ_obj2nid(ad->method) == nid &&
		    ad->location->type == GEN_URI) {
			url = strdup((const char *)ASN1_STRING_get0_data(
			    ad->location->d.uniformResourceIdentifier));
		}
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	return url;
}

/* The single response about cert (any CertID hash), or NULL. */
static OCSP_SINGLERESP *
find_single(OCSP_BASICRESP *bs, X509 *cert, X509 *issuer)
{
	OCSP_SINGLERESP		*sr;
	OCSP_CERTID		*mine;
	const OCSP_CERTID	*cid;
	ASN1_OBJECT		*md_oid = NULL;
	const EVP_MD		*md;
	int			 i, match;

	for (i = 0; i < OCSP_resp_count(bs); i++) {
		sr = OCSP_resp_get0(bs, i);
		cid = OCSP_SINGLERESP_get0_id(sr);
		if (!OCSP_id_get0_info(NULL, &md_oid, NULL, NULL,
		    (OCSP_CERTID *)cid) ||
		    (md = EVP_get_digestbyobj(md_oid)) == NULL) {
			ERR_clear_error();
			continue;
		}
		if ((mine = OCSP_cert_to_id(md, cert, issuer)) == NULL) {
			ERR_clear_error();
			continue;
		}
		match = OCSP_id_cmp(mine, cid) == 0;
		OCSP_CERTID_free(mine);
		if (match) {
			return sr;
		}
	}
	return NULL;
}

/*
 * RFC 6960 4.2.2.2: the signer is the CA, or a certificate issued by the
 * CA with id-kp-OCSPSigning, valid now.  1, or 0 with a reason in d.
 */
static int
signer_authorized(X509 *signer, X509 *issuer, const struct vparams *vp,
    char *d, size_t dsz)
{
	time_t	lo = vp->now + vp->skew, hi = vp->now - vp->skew;

	if (X509_cmp(signer, issuer) == 0) {
		return 1;
	}
	if (X509_check_issued(issuer, signer) != X509_V_OK ||
	    X509_verify(signer, X509_get0_pubkey(issuer)) != 1) {
		ERR_clear_error();
		snprintf(d, dsz, "RFC 6960 4.2.2.2: the responder certificate "
		    "was not issued by the certificate's CA");
		return 0;
	}
	if ((X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) == 0 ||
	    (X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN) == 0) {
		snprintf(d, dsz, "RFC 6960 4.2.2.2: the responder certificate "
		    "has no id-kp-OCSPSigning");
		return 0;
	}
	if (X509_cmp_time(X509_get0_notBefore(signer), &lo) > 0 ||
	    X509_cmp_time(X509_get0_notAfter(signer), &hi) < 0) {
		ERR_clear_error();
		snprintf(d, dsz, "the responder certificate is not valid now");
		return 0;
	}
	if (X509_get_ext_by_NID(signer, NID_id_pkix_OCSP_noCheck, -1) < 0) {
		snprintf(d, dsz, "RFC 6960 4.2.2.2.1: the responder "
		    "certificate has no id-pkix-ocsp-nocheck; its own status "
		    "was not checked");
	}
	return 1;
}

/* The nonce: 1 acceptable (ev->nonce says how), 0 mismatch. */
static int
nonce_ok(OCSP_REQUEST *req, OCSP_BASICRESP *bs, struct rev_evidence *ev)
{
	if (req == NULL) {
		snprintf(ev->nonce, sizeof(ev->nonce), "not requested "
		    "(cached or given response)");
		return 1;
	}
	switch (OCSP_check_nonce(req, bs)) {
	case 1:
		snprintf(ev->nonce, sizeof(ev->nonce), "echoed");
		return 1;
	case 3:
		snprintf(ev->nonce, sizeof(ev->nonce), "not echoed (RFC "
		    "5019 responder): accepted within its validity window");
		return 1;
	default:
		snprintf(ev->detail, sizeof(ev->detail), "RFC 8954: the "
		    "response nonce does not match the request (replayed?)");
		return 0;
	}
}

/* thisUpdate/nextUpdate against now and the validation time. */
static enum rev_status
times_ok(const struct vparams *vp, struct rev_evidence *ev)
{
	if (ev->this_update == 0) {
		snprintf(ev->detail, sizeof(ev->detail), "thisUpdate "
		    "unreadable");
		return RS_UNUSABLE;
	}
	if (ev->this_update > vp->now + vp->skew) {
		snprintf(ev->detail, sizeof(ev->detail), "thisUpdate is in "
		    "the future (more than %ld s ahead)", vp->skew);
		return RS_UNUSABLE;
	}
	if (ev->next_update != 0 && ev->next_update < ev->this_update) {
		snprintf(ev->detail, sizeof(ev->detail), "nextUpdate is "
		    "before thisUpdate");
		return RS_UNUSABLE;
	}
	if (ev->next_update != 0 && ev->next_update < vp->at - vp->skew) {
		snprintf(ev->detail, sizeof(ev->detail), "nextUpdate has "
		    "passed at the validation time");
		return RS_STALE;
	}
	if (ev->next_update == 0 && ev->this_update < vp->at - vp->skew) {
		snprintf(ev->detail, sizeof(ev->detail), "no nextUpdate and "
		    "thisUpdate before the validation time");
		return RS_STALE;
	}
	return RS_GOOD;
}

/* archiveCutoff (single or response extension) into ev; 0 absent. */
static void
archive_cutoff(OCSP_BASICRESP *bs, OCSP_SINGLERESP *sr,
    struct rev_evidence *ev)
{
	ASN1_GENERALIZEDTIME	*ac;

	ac = OCSP_SINGLERESP_get1_ext_d2i(sr, NID_id_pkix_OCSP_archiveCutoff,
	    NULL, NULL);
	if (ac == NULL) {
		ac = OCSP_BASICRESP_get1_ext_d2i(bs,
		    NID_id_pkix_OCSP_archiveCutoff, NULL, NULL);
	}
	ERR_clear_error();
	if (ac != NULL) {
		ev->archive_cutoff = vtime(ac);
		ASN1_GENERALIZEDTIME_free(ac);
	}
}

/* The certificate status of sr into ev. */
static enum rev_status
single_status(OCSP_BASICRESP *bs, OCSP_SINGLERESP *sr, X509 *cert,
    const struct vparams *vp, struct rev_evidence *ev)
{
	ASN1_GENERALIZEDTIME	*rev = NULL, *thisupd = NULL, *nextupd = NULL;
	ASN1_OBJECT		*xr;
	enum rev_status		 ts;
	time_t			 na;
	int			 st, reason = -1;

	st = OCSP_single_get0_status(sr, &reason, &rev, &thisupd, &nextupd);
	ev->this_update = vtime(thisupd);
	ev->next_update = nextupd != NULL ? vtime(nextupd) : 0;
	ev->reason = reason;
	archive_cutoff(bs, sr, ev);
	if ((ts = times_ok(vp, ev)) != RS_GOOD) {
		return ts;
	}
	na = vtime(X509_get0_notAfter(cert));
	if (na != 0 && na < ev->this_update && (ev->archive_cutoff == 0 ||
	    ev->archive_cutoff > na)) {
		snprintf(ev->detail, sizeof(ev->detail), "RFC 6960 4.4.4: the "
		    "certificate had expired when the response was made and "
		    "no archiveCutoff covers it");
		return RS_UNUSABLE;
	}
	if (st == V_OCSP_CERTSTATUS_GOOD) {
		snprintf(ev->cert_status, sizeof(ev->cert_status), "good");
		return RS_GOOD;
	}
	if (st != V_OCSP_CERTSTATUS_REVOKED) {
		snprintf(ev->cert_status, sizeof(ev->cert_status), "unknown");
		snprintf(ev->detail, sizeof(ev->detail), "the responder does "
		    "not know the certificate (status unknown)");
		return RS_UNUSABLE;
	}
	snprintf(ev->cert_status, sizeof(ev->cert_status), "revoked");
	ev->revocation_time = vtime(rev);
	if ((xr = OBJ_txt2obj(OID_EXT_REVOKE, 1)) != NULL) {
		ev->extended_revoke =
		    OCSP_BASICRESP_get_ext_by_OBJ(bs, xr, -1) >= 0;
		ASN1_OBJECT_free(xr);
	}
	if (ev->extended_revoke && reason == OCSP_REVOKED_STATUS_CERTIFICATEHOLD &&
	    ev->revocation_time == 0) {
		snprintf(ev->detail, sizeof(ev->detail), "RFC 6960 2.2: the "
		    "responder says this CA never issued the certificate "
		    "(extended revoke)");
	}
	if (ev->revocation_time > vp->at) {
		snprintf(ev->detail, sizeof(ev->detail), "revoked after the "
		    "validation time");
		return RS_GOOD;
	}
	return RS_REVOKED;
}

/* RFC 6960 4.2.1 OCSPResponseStatus names. */
static const char *
resp_status_name(int rs)
{
	switch (rs) {
	case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST:
		return "malformedRequest";
	case OCSP_RESPONSE_STATUS_INTERNALERROR:
		return "internalError";
	case OCSP_RESPONSE_STATUS_TRYLATER:
		return "tryLater";
	case OCSP_RESPONSE_STATUS_SIGREQUIRED:
		return "sigRequired";
	case OCSP_RESPONSE_STATUS_UNAUTHORIZED:
		return "unauthorized";
	default:
		return "an unknown status";
	}
}

enum rev_status
ocsp_check_der(const unsigned char *der, size_t len, X509 *cert,
    X509 *issuer, OCSP_REQUEST *req, const struct vparams *vp,
    struct rev_evidence *ev)
{
	OCSP_RESPONSE		*resp = NULL;
	OCSP_BASICRESP		*bs = NULL;
	OCSP_SINGLERESP		*sr;
	STACK_OF(X509)		*extra = NULL;
	X509_STORE		*store = NULL;
	X509			*signer = NULL;
	const unsigned char	*p = der;
	enum rev_status		 ret = RS_UNUSABLE;
	int			 rs;

	ev->source = "ocsp";
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		ERR_clear_error();
		snprintf(ev->detail, sizeof(ev->detail), "RFC 6960 4.2.1: not "
		    "a DER OCSPResponse%s", resp != NULL ?
		    " (trailing bytes)" : "");
		goto out;
	}
	if ((rs = OCSP_response_status(resp)) !=
	    OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(ev->cert_status, sizeof(ev->cert_status), "%s",
		    resp_status_name(rs));
		snprintf(ev->detail, sizeof(ev->detail), "the responder "
		    "answered %s", resp_status_name(rs));
		goto out;
	}
	if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
		ERR_clear_error();
		snprintf(ev->detail, sizeof(ev->detail), "not a basic OCSP "
		    "response");
		goto out;
	}
	ev->produced_at = vtime(OCSP_resp_get0_produced_at(bs));
	if ((sr = find_single(bs, cert, issuer)) == NULL) {
		snprintf(ev->detail, sizeof(ev->detail), "the response is "
		    "about another certificate (no matching CertID)");
		goto out;
	}
	if ((extra = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(extra, issuer)) {
		fatalx("ocsp: out of memory");
	}
	if (!OCSP_resp_get0_signer(bs, &signer, extra)) {
		ERR_clear_error();
		snprintf(ev->detail, sizeof(ev->detail), "the responder's "
		    "certificate is neither in the response nor the CA");
		goto out;
	}
	X509_NAME_oneline(X509_get_subject_name(signer), ev->responder,
	    sizeof(ev->responder));
	/* The signature alone: the signer is found, its authority below. */
	sk_X509_set(extra, 0, signer);
	if ((store = X509_STORE_new()) == NULL) {
		fatalx("ocsp: out of memory");
	}
	if (OCSP_basic_verify(bs, extra, store, OCSP_NOINTERN |
	    OCSP_NOVERIFY) != 1) {
		ERR_clear_error();
		snprintf(ev->detail, sizeof(ev->detail), "the response "
		    "signature does not verify");
		goto out;
	}
	if (!signer_authorized(signer, issuer, vp, ev->detail,
	    sizeof(ev->detail)) || !nonce_ok(req, bs, ev)) {
		goto out;
	}
	ret = single_status(bs, sr, cert, vp, ev);
 out:
	ev->status = ret;
	X509_STORE_free(store);
	sk_X509_free(extra);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return ret;
}

/* The cache key of cert's status at url: the URL and the SHA-1 CertID. */
static char *
status_key(const char *url, OCSP_CERTID *id)
{
	unsigned char	*der = NULL;
	char		*hex, *key;
	int		 n;

	if ((n = i2d_OCSP_CERTID(id, &der)) <= 0) {
		fatalx("ocsp: cannot encode a CertID");
	}
	hex = hex_encode(der, (size_t)n);
	if (asprintf(&key, "ocsp %s %s", url, hex) == -1) {
		fatalx("ocsp: out of memory");
	}
	OPENSSL_free(der);
	free(hex);
	return key;
}

/* Until when an answer may be served from the cache (0: not at all). */
static time_t
cache_until(const struct rev_evidence *ev, long max_age, time_t now)
{
	time_t	t = ev->next_update;

	if (t == 0 || max_age == 0) {
		return 0;
	}
	if (max_age > 0 && now + max_age < t) {
		t = now + max_age;
	}
	return t > now ? t : 0;
}

/* POST a request with a fresh nonce; the answer's status. */
static enum rev_status
ask(X509 *cert, X509 *issuer, const char *url, OCSP_CERTID *id,
    const char *key, const struct vparams *vp, struct rev_evidence *ev)
{
	OCSP_REQUEST		*req = NULL;
	struct http_resp	 hr;
	unsigned char		*der = NULL;
	enum rev_status		 st = RS_UNUSABLE;
	time_t			 until;
	int			 n;
	struct http_opts	 ho = vp->http;

	memset(&hr, 0, sizeof(hr));
	if ((req = OCSP_REQUEST_new()) == NULL ||
	    OCSP_request_add0_id(req, OCSP_CERTID_dup(id)) == NULL ||
	    !OCSP_request_add1_nonce(req, NULL, NONCE_LEN) ||
	    (n = i2d_OCSP_REQUEST(req, &der)) <= 0) {
		fatalx("ocsp: cannot make a request");
	}
	if (ho.max_body > OCSP_BODY_MAX) {
		ho.max_body = OCSP_BODY_MAX;
	}
	if (!http_fetch(&ho, url, "application/ocsp-request", der, (size_t)n,
	    &hr, ev->detail, sizeof(ev->detail))) {
		goto out;
	}
	if (strncasecmp(hr.ctype, "application/ocsp-response", 25) != 0) {
		snprintf(ev->detail, sizeof(ev->detail), "RFC 6960 A.1: the "
		    "responder answered Content-Type \"%.64s\", not "
		    "application/ocsp-response", hr.ctype);
		goto out;
	}
	st = ocsp_check_der(hr.body, hr.len, cert, issuer, req, vp, ev);
	if ((st == RS_GOOD || st == RS_REVOKED) && vp->http.cache_dir != NULL &&
	    (until = cache_until(ev, hr.max_age, vp->now)) != 0) {
		cache_put(vp->http.cache_dir, key, until, hr.body, hr.len);
	}
 out:
	ev->status = st;
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
	http_resp_free(&hr);
	return st;
}

enum rev_status
ocsp_status(X509 *cert, X509 *issuer, const char *url,
    const struct vparams *vp, struct rev_evidence *ev)
{
	OCSP_CERTID	*id = NULL;
	unsigned char	*buf = NULL;
	size_t		 len;
	char		*key = NULL;
	enum rev_status	 st = RS_UNUSABLE;

	ev->source = "ocsp";
	snprintf(ev->where, sizeof(ev->where), "%s", url);
	if ((id = OCSP_cert_to_id(EVP_sha1(), cert, issuer)) == NULL) {
		fatalx("ocsp: cannot make a CertID");
	}
	key = status_key(url, id);
	if (vp->allow_cached && cache_get(vp->http.cache_dir, key, vp->now,
	    &buf, &len)) {
		st = ocsp_check_der(buf, len, cert, issuer, NULL, vp, ev);
		if (st == RS_GOOD || st == RS_REVOKED) {
			ev->cached = 1;
			goto out;
		}
		memset(ev, 0, sizeof(*ev));
		ev->source = "ocsp";
		snprintf(ev->where, sizeof(ev->where), "%s", url);
	}
	if (vp->offline) {
		snprintf(ev->detail, sizeof(ev->detail), "offline: the "
		    "responder was not asked");
		st = RS_UNUSABLE;
		goto out;
	}
	st = ask(cert, issuer, url, id, key, vp, ev);
 out:
	ev->status = st;
	free(buf);
	free(key);
	OCSP_CERTID_free(id);
	return st;
}
