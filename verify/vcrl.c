/*
 * CRLs for the relying party (RFC 5280 6.3): a complete CRL from a
 * --crl file or URL or from the certificate's CRL distribution points
 * (http only; fetched CRLs cached until nextUpdate), checked for issuer
 * and signature (the certificate's CA; indirect CRLs are not supported),
 * unknown critical extensions, thisUpdate/nextUpdate against the
 * validation time, and scope (the Issuing Distribution Point: user/CA
 * only, some reasons, the distribution point name against the
 * certificate's CDP, 6.3.3 (b)).  Delta CRLs (freshestCRL, or given as
 * --crl) are applied on top of their base (5.2.4): certificateHold
 * released by removeFromCRL, new revocations added.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "util.h"
#include "verify.h"

#define CRL_OTHER_CA	"the CRL was issued by another CA"
#define CRL_IS_DELTA	"RFC 5280 5.2.4: a delta CRL"
#define CRL_FILE_MAX	(256u * 1024 * 1024)

/* Parse a PEM or DER CRL (no trailing bytes after DER); NULL if not one. */
static X509_CRL *
crl_parse(const unsigned char *buf, size_t len)
{
	const unsigned char	*p = buf;
	X509_CRL		*crl = NULL;
	BIO			*bio;
	size_t			 i;

	for (i = 0; i < len && isspace(buf[i]); i++) {
		continue;
	}
	if (len - i >= 11 && memcmp(buf + i, "-----BEGIN ", 11) == 0) {
		if (len > INT_MAX || (bio = BIO_new_mem_buf(buf, (int)len)) ==
		    NULL) {
			return NULL;
		}
		crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) != NULL &&
	    p != buf + len) {
		X509_CRL_free(crl);
		crl = NULL;
	}
	ERR_clear_error();
	return crl;
}

/* 1 if crl has an extension that is critical and not understood here. */
static int
unknown_critical(const X509_CRL *crl, char *d, size_t dsz)
{
	const X509_EXTENSION	*ex;
	int			 i, nid;
	char			 oid[80];

	for (i = 0; i < X509_CRL_get_ext_count(crl); i++) {
		ex = X509_CRL_get_ext(crl, i);
		nid = OBJ_obj2nid(X509_EXTENSION_get_object((X509_EXTENSION *)ex));
		if (!X509_EXTENSION_get_critical(ex) ||
		    nid == NID_issuing_distribution_point ||
		    nid == NID_delta_crl || nid == NID_crl_number ||
		    nid == NID_authority_key_identifier) {
			continue;
		}
		OBJ_obj2txt(oid, sizeof(oid),
		    X509_EXTENSION_get_object((X509_EXTENSION *)ex), 1);
		snprintf(d, dsz, "RFC 5280 5.2: unknown critical extension %s",
		    oid);
		return 1;
	}
	return 0;
}

/* 1 if a name of the IDP's full name is among the cert's CDP names. */
static int
dp_match(const DIST_POINT_NAME *idpn, X509 *cert)
{
	STACK_OF(DIST_POINT)	*cdp;
	DIST_POINT		*dp;
	int			 i, j, k, found = 0;

	if (idpn->type != 0) {
		return 0;	/* relative names are not used here */
	}
	if ((cdp = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL,
	    NULL)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	for (i = 0; i < sk_DIST_POINT_num(cdp) && !found; i++) {
		dp = sk_DIST_POINT_value(cdp, i);
		if (dp->distpoint == NULL || dp->distpoint->type != 0) {
			continue;
		}
		for (j = 0; j < sk_GENERAL_NAME_num(idpn->name.fullname) &&
		    !found; j++) {
			for (k = 0; k < sk_GENERAL_NAME_num(
			    dp->distpoint->name.fullname); k++) {
				if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(
				    idpn->name.fullname, j),
				    sk_GENERAL_NAME_value(
				    dp->distpoint->name.fullname, k)) == 0) {
					found = 1;
					break;
				}
			}
		}
	}
	sk_DIST_POINT_pop_free(cdp, DIST_POINT_free);
	return found;
}

/* RFC 5280 6.3.3 (b): is cert within crl's scope?  1, or 0 with why. */
static int
in_scope(X509_CRL *crl, X509 *cert, char *d, size_t dsz)
{
	ISSUING_DIST_POINT	*idp;
	int			 crit = -1, ok = 0, is_ca;

	idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit,
	    NULL);
	if (idp == NULL) {
		if (crit != -1) {
			snprintf(d, dsz, "RFC 5280 5.2.5: the Issuing "
			    "Distribution Point is undecodable");
			ERR_clear_error();
			return 0;
		}
		return 1;
	}
	is_ca = X509_check_ca(cert) != 0;
	if (idp->indirectCRL) {
		snprintf(d, dsz, "RFC 5280 5.2.5: indirect CRLs are not "
		    "supported");
	} else if (idp->onlyattr) {
		snprintf(d, dsz, "RFC 5280 5.2.5: the CRL covers attribute "
		    "certificates only");
	} else if (idp->onlyuser && is_ca) {
		snprintf(d, dsz, "RFC 5280 6.3.3 (b)(2)(iii): the CRL covers "
		    "end-entity certificates only");
	} else if (idp->onlyCA && !is_ca) {
		snprintf(d, dsz, "RFC 5280 6.3.3 (b)(2)(ii): the CRL covers "
		    "CA certificates only");
	} else if (idp->onlysomereasons != NULL) {
		snprintf(d, dsz, "RFC 5280 6.3.3 (d): the CRL covers only some "
		    "reasons");
	} else if (idp->distpoint != NULL && !dp_match(idp->distpoint, cert)) {
		snprintf(d, dsz, "RFC 5280 6.3.3 (b)(2)(i): the CRL's "
		    "distribution point is not one of the certificate's");
	} else {
		ok = 1;
	}
	ISSUING_DIST_POINT_free(idp);
	return ok;
}

/* The CRL number as decimal into buf ("" if none); the BIGNUM-free way. */
static void
crl_number(X509_CRL *crl, int nid, char *buf, size_t bufsz, long *out)
{
	ASN1_INTEGER	*n;
	char		*s;

	buf[0] = '\0';
	*out = -1;
	if ((n = X509_CRL_get_ext_d2i(crl, nid, NULL, NULL)) == NULL) {
		ERR_clear_error();
		return;
	}
	if ((s = i2s_ASN1_INTEGER(NULL, n)) != NULL) {
		snprintf(buf, bufsz, "%s", s);
		OPENSSL_free(s);
	}
	if (!ASN1_INTEGER_get_int64((int64_t *)out, n)) {
		*out = -1;
	}
	ASN1_INTEGER_free(n);
	ERR_clear_error();
}

/* Checks shared by base and delta CRLs: issuer, signature, extensions, scope. */
static enum rev_status
crl_usable(X509_CRL *crl, X509 *cert, X509 *issuer, const struct vparams *vp,
    char *d, size_t dsz, time_t *tu, time_t *nu)
{
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(issuer)) != 0) {
		snprintf(d, dsz, "%s", CRL_OTHER_CA);
		return RS_UNUSABLE;
	}
	if (X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
		ERR_clear_error();
		snprintf(d, dsz, "RFC 5280 6.3.3 (g): the CRL signature does not "
		    "verify with the issuer's key");
		return RS_UNUSABLE;
	}
	if (unknown_critical(crl, d, dsz) || !in_scope(crl, cert, d, dsz)) {
		return RS_UNUSABLE;
	}
	*tu = vtime(X509_CRL_get0_lastUpdate(crl));
	*nu = vtime(X509_CRL_get0_nextUpdate(crl));
	if (*tu == 0 || *tu > vp->now + vp->skew) {
		snprintf(d, dsz, "thisUpdate is unreadable or in the future");
		return RS_UNUSABLE;
	}
	if ((*nu != 0 && *nu < vp->at - vp->skew) ||
	    (*nu == 0 && *tu < vp->at - vp->skew)) {
		snprintf(d, dsz, "RFC 5280 6.3.3 (a): nextUpdate has passed at "
		    "the validation time");
		return RS_STALE;
	}
	return RS_GOOD;
}

/* The reason code of a CRL entry, or -1. */
static int
entry_reason(X509_REVOKED *rv)
{
	ASN1_ENUMERATED	*e;
	int		 r;

	if ((e = X509_REVOKED_get_ext_d2i(rv, NID_crl_reason, NULL, NULL)) ==
	    NULL) {
		ERR_clear_error();
		return -1;
	}
	r = (int)ASN1_ENUMERATED_get(e);
	ASN1_ENUMERATED_free(e);
	return r;
}

/*
 * Load a CRL from an http URL (through the cache), or from a file when
 * the relying party gave it (--crl); a URL from a certificate or a CRL
 * never names a local file.  1/0 (err).
 */
static int
crl_fetch(const char *src, int given, const struct vparams *vp,
    unsigned char **out, size_t *out_len, int *cached, char *err,
    size_t errsz)
{
	struct http_resp	 hr;
	char			*key = NULL;
	X509_CRL		*crl;
	time_t			 nu;

	*cached = 0;
	if (strncmp(src, "http://", 7) != 0 &&
	    strncmp(src, "https://", 8) != 0) {
		/* Only the relying party's own --crl names files. */
		if (!given || strstr(src, "://") != NULL) {
			snprintf(err, errsz, "%s: only http and https URLs "
			    "are fetched", src);
			return 0;
		}
		if (!file_read(src, CRL_FILE_MAX, out, out_len)) {
			snprintf(err, errsz, "%s: unreadable", src);
			return 0;
		}
		return 1;
	}
	if (asprintf(&key, "crl %s", src) == -1) {
		fatalx("crl: out of memory");
	}
	if (cache_get(vp->http.cache_dir, key, vp->now, out, out_len)) {
		*cached = 1;
		free(key);
		return 1;
	}
	if (vp->offline) {
		snprintf(err, errsz, "%s: offline: not fetched", src);
		free(key);
		return 0;
	}
	if (!http_fetch(&vp->http, src, NULL, NULL, 0, &hr, err, errsz)) {
		free(key);
		return 0;
	}
	if ((crl = crl_parse(hr.body, hr.len)) != NULL &&
	    (nu = vtime(X509_CRL_get0_nextUpdate(crl))) > vp->now &&
	    hr.max_age != 0) {
		if (hr.max_age > 0 && vp->now + hr.max_age < nu) {
			nu = vp->now + hr.max_age;
		}
		cache_put(vp->http.cache_dir, key, nu, hr.body, hr.len);
	}
	X509_CRL_free(crl);
	*out = hr.body;
	*out_len = hr.len;
	free(key);
	return 1;
}

/* Candidate delta CRL sources: freshestCRL of the base and the cert, --crl. */
static void
delta_sources(X509_CRL *base, X509 *cert, const struct vparams *vp,
    const char **v, size_t *n, size_t *ngiven, size_t max,
    STACK_OF(DIST_POINT) **keep)
{
	STACK_OF(DIST_POINT)	*fr;
	DIST_POINT		*dp;
	GENERAL_NAME		*gn;
	size_t			 i;
	int			 j, k, which;

	*n = 0;
	for (i = 0; i < vp->ncrls && *n < max / 2; i++) {
		v[(*n)++] = vp->crls[i];
	}
	*ngiven = *n;
	for (which = 0; which < 2; which++) {
		fr = which == 0 ?
		    X509_CRL_get_ext_d2i(base, NID_freshest_crl, NULL, NULL) :
		    X509_get_ext_d2i(cert, NID_freshest_crl, NULL, NULL);
		ERR_clear_error();
		keep[which] = fr;
		for (j = 0; fr != NULL && j < sk_DIST_POINT_num(fr); j++) {
			dp = sk_DIST_POINT_value(fr, j);
			if (dp->distpoint == NULL || dp->distpoint->type != 0) {
				continue;
			}
			for (k = 0; k < sk_GENERAL_NAME_num(
			    dp->distpoint->name.fullname) && *n < max; k++) {
				gn = sk_GENERAL_NAME_value(
				    dp->distpoint->name.fullname, k);
				if (gn->type == GEN_URI) {
					v[(*n)++] = (const char *)
					    ASN1_STRING_get0_data(
					    gn->d.uniformResourceIdentifier);
				}
			}
		}
	}
}

/*
 * Apply the newest usable delta CRL for base (number base_no) to the
 * status in ev.  Deltas that are missing only leave a note.
 */
static void
apply_delta(X509_CRL *base, long base_no, X509 *cert, X509 *issuer,
    const struct vparams *vp, struct rev_evidence *ev)
{
	STACK_OF(DIST_POINT)	*keep[2] = { NULL, NULL };
	const char		*src[32];
	unsigned char		*buf = NULL;
	size_t			 n, ngiven, i, len;
	X509_CRL		*d = NULL, *best = NULL;
	X509_REVOKED		*rv;
	char			 num[64], why[256];
	long			 dno, bno, best_no = -1;
	time_t			 tu, nu;
	int			 cached, reason;

	delta_sources(base, cert, vp, src, &n, &ngiven, 32, keep);
	for (i = 0; i < n; i++) {
		if (!crl_fetch(src[i], i < ngiven, vp, &buf, &len, &cached,
		    why, sizeof(why))) {
			continue;
		}
		d = crl_parse(buf, len);
		free(buf);
		buf = NULL;
		if (d == NULL) {
			continue;
		}
		crl_number(d, NID_delta_crl, num, sizeof(num), &bno);
		crl_number(d, NID_crl_number, num, sizeof(num), &dno);
		if (bno < 0 || bno > base_no || dno <= base_no ||
		    dno <= best_no || crl_usable(d, cert, issuer, vp, why,
		    sizeof(why), &tu, &nu) != RS_GOOD) {
			X509_CRL_free(d);
			continue;
		}
		X509_CRL_free(best);
		best = d;
		best_no = dno;
		snprintf(ev->delta, sizeof(ev->delta), "%s (delta CRL number "
		    "%s)", src[i], num);
	}
	if (best != NULL &&
	    X509_CRL_get0_by_serial(best, &rv,
	    (ASN1_INTEGER *)X509_get0_serialNumber(cert)) == 1) {
		reason = entry_reason(rv);
		if (reason == CRL_REASON_REMOVE_FROM_CRL) {
			ev->status = RS_GOOD;
			ev->revocation_time = 0;
			snprintf(ev->cert_status, sizeof(ev->cert_status),
			    "good");
		} else {
			ev->status = RS_REVOKED;
			ev->reason = reason;
			ev->revocation_time =
			    vtime(X509_REVOKED_get0_revocationDate(rv));
			snprintf(ev->cert_status, sizeof(ev->cert_status),
			    "revoked");
		}
	}
	X509_CRL_free(best);
	sk_DIST_POINT_pop_free(keep[0], DIST_POINT_free);
	sk_DIST_POINT_pop_free(keep[1], DIST_POINT_free);
}

enum rev_status
crl_check_buf(const unsigned char *buf, size_t len, const char *where,
    X509 *cert, X509 *issuer, const struct vparams *vp,
    struct rev_evidence *ev)
{
	X509_CRL	*crl = NULL;
	X509_REVOKED	*rv;
	enum rev_status	 st = RS_UNUSABLE;
	long		 no;

	ev->source = "crl";
	ev->reason = -1;
	snprintf(ev->where, sizeof(ev->where), "%s", where);
	if ((crl = crl_parse(buf, len)) == NULL) {
		snprintf(ev->detail, sizeof(ev->detail), "RFC 5280 5.1: not a "
		    "DER or PEM CRL");
		goto out;
	}
	X509_NAME_oneline(X509_CRL_get_issuer(crl), ev->responder,
	    sizeof(ev->responder));
	if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0) {
		snprintf(ev->detail, sizeof(ev->detail), "%s is not a "
		    "complete CRL", CRL_IS_DELTA);
		goto out;
	}
	if ((st = crl_usable(crl, cert, issuer, vp, ev->detail,
	    sizeof(ev->detail), &ev->this_update, &ev->next_update)) !=
	    RS_GOOD) {
		goto out;
	}
	crl_number(crl, NID_crl_number, ev->crl_number,
	    sizeof(ev->crl_number), &no);
	snprintf(ev->cert_status, sizeof(ev->cert_status), "good");
	if (X509_CRL_get0_by_serial(crl, &rv,
	    (ASN1_INTEGER *)X509_get0_serialNumber(cert)) == 1) {
		st = RS_REVOKED;
		ev->reason = entry_reason(rv);
		ev->revocation_time = vtime(X509_REVOKED_get0_revocationDate(rv));
		snprintf(ev->cert_status, sizeof(ev->cert_status), "revoked");
	}
	ev->status = st;
	apply_delta(crl, no, cert, issuer, vp, ev);
	st = ev->status;
	if (st == RS_REVOKED && ev->revocation_time > vp->at) {
		snprintf(ev->detail, sizeof(ev->detail), "revoked after the "
		    "validation time");
		st = RS_GOOD;
	}
 out:
	ev->status = st;
	X509_CRL_free(crl);
	return st;
}

/* The cert's CDP URIs (http) into v; returns the stack to free later. */
static STACK_OF(DIST_POINT) *
cdp_urls(X509 *cert, const char **v, size_t *n, size_t max)
{
	STACK_OF(DIST_POINT)	*cdp;
	DIST_POINT		*dp;
	GENERAL_NAME		*gn;
	int			 i, j;

	if ((cdp = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL,
	    NULL)) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	for (i = 0; i < sk_DIST_POINT_num(cdp); i++) {
		dp = sk_DIST_POINT_value(cdp, i);
		if (dp->distpoint == NULL || dp->distpoint->type != 0) {
			continue;
		}
		for (j = 0; j < sk_GENERAL_NAME_num(
		    dp->distpoint->name.fullname) && *n < max; j++) {
			gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname,
			    j);
			if (gn->type == GEN_URI) {
				v[(*n)++] = (const char *)ASN1_STRING_get0_data(
				    gn->d.uniformResourceIdentifier);
			}
		}
	}
	return cdp;
}

enum rev_status
crl_status(X509 *cert, X509 *issuer, const struct vparams *vp,
    struct report *r, struct rev_evidence *ev)
{
	STACK_OF(DIST_POINT)	*cdp = NULL;
	const char		*src[64];
	unsigned char		*buf = NULL;
	size_t			 n = 0, ngiven, i, len;
	struct rev_evidence	 e;
	enum rev_status		 st, best = RS_UNUSABLE;
	char			 subj[256];
	int			 cached;

	X509_NAME_oneline(X509_get_subject_name(cert), subj, sizeof(subj));
	for (i = 0; i < vp->ncrls && n < 32; i++) {
		src[n++] = vp->crls[i];
	}
	ngiven = n;
	cdp = cdp_urls(cert, src, &n, 64);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.source = "crl";
		e.reason = -1;
		snprintf(e.where, sizeof(e.where), "%s", src[i]);
		if (!crl_fetch(src[i], i < ngiven, vp, &buf, &len, &cached,
		    e.detail, sizeof(e.detail))) {
			e.status = RS_UNUSABLE;
			report_revocation(r, subj, &e, 0);
			continue;
		}
		st = crl_check_buf(buf, len, src[i], cert, issuer, vp, &e);
		e.cached = cached;
		free(buf);
		buf = NULL;
		if (st == RS_GOOD || st == RS_REVOKED) {
			*ev = e;
			best = st;
			break;
		}
		/* Another CA's CRL or a delta given with --crl: no attempt. */
		if (i < ngiven && (strcmp(e.detail, CRL_OTHER_CA) == 0 ||
		    strncmp(e.detail, CRL_IS_DELTA, strlen(CRL_IS_DELTA)) ==
		    0)) {
			continue;
		}
		report_revocation(r, subj, &e, 0);
		if (st == RS_STALE && best == RS_UNUSABLE) {
			*ev = e;
			best = st;
		}
	}
	sk_DIST_POINT_pop_free(cdp, DIST_POINT_free);
	return best;
}
