/*
 * Revocation status along the path: for each certificate but the trust
 * anchor, OCSP first (a given --ocsp-response, then --ocsp-url for the
 * end entity or the AIA id-ad-ocsp URL), and when OCSP gives no usable
 * answer the CRLs (--crl, then the CDP).  Every source tried goes into
 * the report; the first good or revoked answer decides.  A revoked end
 * entity is TOTAL-FAILED/REVOKED, a revoked CA INDETERMINATE/
 * REVOKED_CA_NO_POE; no usable answer is INDETERMINATE/TRY_LATER, only
 * stale ones INDETERMINATE/REVOCATION_OUT_OF_BOUNDS.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "util.h"
#include "verify.h"

#define OCSP_FILE_MAX	(1024 * 1024)

/*
 * Given OCSP responses (--ocsp-response): the first good or revoked
 * answer about cert; RS_STALE (in *stale) if only stale ones.
 */
static enum rev_status
ocsp_given(X509 *cert, X509 *issuer, const struct vparams *vp,
    struct report *r, const char *subj, struct rev_evidence *ev,
    struct rev_evidence *stale)
{
	struct rev_evidence	 e;
	unsigned char		*buf = NULL;
	size_t			 i, len;
	enum rev_status		 st, ret = RS_UNUSABLE;

	for (i = 0; i < vp->nocsp_files; i++) {
		memset(&e, 0, sizeof(e));
		e.source = "ocsp";
		snprintf(e.where, sizeof(e.where), "%s", vp->ocsp_files[i]);
		if (!file_read(vp->ocsp_files[i], OCSP_FILE_MAX, &buf, &len)) {
			snprintf(e.detail, sizeof(e.detail), "unreadable");
			report_revocation(r, subj, &e, 0);
			continue;
		}
		st = ocsp_check_der(buf, len, cert, issuer, NULL, vp, &e);
		free(buf);
		buf = NULL;
		if (st == RS_GOOD || st == RS_REVOKED) {
			*ev = e;
			return st;
		}
		report_revocation(r, subj, &e, 0);
		if (st == RS_STALE && ret == RS_UNUSABLE) {
			*stale = e;
			ret = RS_STALE;
		}
	}
	return ret;
}

static const char *
reason_name(int reason)
{
	static const char *const names[] = {
		"unspecified", "keyCompromise", "cACompromise",
		"affiliationChanged", "superseded", "cessationOfOperation",
		"certificateHold", "7", "removeFromCRL", "privilegeWithdrawn",
		"aACompromise"
	};

	if (reason < 0 || reason > 10) {
		return "no reason given";
	}
	return names[reason];
}

/*
 * The status of cert (issued by issuer), the sources tried recorded in
 * r; RS_STALE with its evidence when only stale answers were found.
 */
static enum rev_status
status_one(X509 *cert, X509 *issuer, int ee, const struct vparams *vp,
    struct report *r, struct rev_evidence *ev)
{
	char			 subj[256], *url = NULL;
	enum rev_status		 st, best = RS_UNUSABLE;
	struct rev_evidence	 stale;

	X509_NAME_oneline(X509_get_subject_name(cert), subj, sizeof(subj));
	memset(&stale, 0, sizeof(stale));
	if (ee) {
		st = ocsp_given(cert, issuer, vp, r, subj, ev, &stale);
		if (st == RS_GOOD || st == RS_REVOKED) {
			return st;
		}
		best = st;
	}
	if (ee && vp->ocsp_url != NULL) {
		url = strdup(vp->ocsp_url);
	} else {
		url = aia_url(cert, NID_ad_OCSP);
	}
	if (url != NULL) {
		memset(ev, 0, sizeof(*ev));
		st = ocsp_status(cert, issuer, url, vp, ev);
		free(url);
		if (st == RS_GOOD || st == RS_REVOKED) {
			return st;
		}
		report_revocation(r, subj, ev, 0);
		if (st == RS_STALE && best == RS_UNUSABLE) {
			stale = *ev;
			best = RS_STALE;
		}
	}
	memset(ev, 0, sizeof(*ev));
	st = crl_status(cert, issuer, vp, r, ev);
	if (st == RS_UNUSABLE && best == RS_STALE) {
		*ev = stale;
		return RS_STALE;
	}
	return st;
}

int
status_chain(STACK_OF(X509) *chain, const struct vparams *vp,
    struct report *r)
{
	struct rev_evidence	 ev;
	X509			*cert, *issuer;
	char			 subj[256], t[32];
	enum rev_status		 st;
	int			 i, ok = 1;

	for (i = 0; i + 1 < sk_X509_num(chain) && ok; i++) {
		cert = sk_X509_value(chain, i);
		issuer = sk_X509_value(chain, i + 1);
		X509_NAME_oneline(X509_get_subject_name(cert), subj,
		    sizeof(subj));
		memset(&ev, 0, sizeof(ev));
		st = status_one(cert, issuer, i == 0, vp, r, &ev);
		switch (st) {
		case RS_GOOD:
			report_revocation(r, subj, &ev, 1);
			report_check(r, i == 0 ? "status" : "CA status",
			    "passed", "%s: good (%s %s%s)", subj, ev.source,
			    ev.where, ev.cached ? ", cached" : "");
			break;
		case RS_REVOKED:
			report_revocation(r, subj, &ev, 1);
			time_fmt(ev.revocation_time, t, sizeof(t));
			report_check(r, i == 0 ? "status" : "CA status",
			    "failed", "%s: revoked at %s, %s (%s %s)", subj, t,
			    reason_name(ev.reason), ev.source, ev.where);
			if (i == 0) {
				report_indication(r, V_FAILED, SUB_REVOKED,
				    "revoked at %s (%s)%s%s", t,
				    reason_name(ev.reason),
				    ev.extended_revoke ? ": " : "",
				    ev.extended_revoke ? ev.detail : "");
			} else {
				report_indication(r, V_INDETERMINATE,
				    SUB_REVOKED_CA_NO_POE, "the CA %s was "
				    "revoked at %s", subj, t);
			}
			ok = 0;
			break;
		case RS_STALE:
			report_check(r, "status", "indeterminate", "%s: %s",
			    subj, ev.detail);
			report_indication(r, V_INDETERMINATE,
			    SUB_REVOCATION_OUT_OF_BOUNDS, "%s: the revocation "
			    "information is not fresh for the validation time",
			    subj);
			ok = 0;
			break;
		default:
			report_check(r, "status", "indeterminate", "%s: no "
			    "usable OCSP response or CRL", subj);
			report_indication(r, V_INDETERMINATE, SUB_TRY_LATER,
			    "%s: no usable revocation information", subj);
			ok = 0;
			break;
		}
	}
	return ok;
}
