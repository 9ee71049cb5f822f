/*
 * The verification report of eseal-verify: the ETSI TS 119 102-1 main
 * indication and sub-indication (the first failure found decides), the
 * checks made and the evidence used (certificates, OCSP responses, CRLs,
 * the CMS signature, the profile lint), printed as a one-screen summary
 * or as JSON shaped like a TS 119 102-2 validation report, and the exit
 * status that goes with the indication.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "log.h"
#include "util.h"
#include "verify.h"

struct report {
	enum vmain	 main;
	enum vsub	 sub;
	int		 set;
	char		 message[512];
	json_t		*checks;	/* [{check, result, detail}] */
	json_t		*revocation;	/* [{subject, source, ...}] */
	json_t		*evidence;	/* {signer, chain, profile, signature} */
	json_t		*lines;		/* extra summary lines */
};

static const char *const sub_names[] = {
	[SUB_NONE] = "",
	[SUB_FORMAT_FAILURE] = "FORMAT_FAILURE",
	[SUB_HASH_FAILURE] = "HASH_FAILURE",
	[SUB_SIG_CRYPTO_FAILURE] = "SIG_CRYPTO_FAILURE",
	[SUB_REVOKED] = "REVOKED",
	[SUB_NOT_YET_VALID] = "NOT_YET_VALID",
	[SUB_NO_CERTIFICATE_CHAIN_FOUND] = "NO_CERTIFICATE_CHAIN_FOUND",
	[SUB_CHAIN_CONSTRAINTS_FAILURE] = "CHAIN_CONSTRAINTS_FAILURE",
	[SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE] =
	    "CERTIFICATE_CHAIN_GENERAL_FAILURE",
	[SUB_CRYPTO_CONSTRAINTS_FAILURE] = "CRYPTO_CONSTRAINTS_FAILURE",
	[SUB_OUT_OF_BOUNDS_NO_POE] = "OUT_OF_BOUNDS_NO_POE",
	[SUB_REVOKED_CA_NO_POE] = "REVOKED_CA_NO_POE",
	[SUB_TRY_LATER] = "TRY_LATER",
	[SUB_REVOCATION_OUT_OF_BOUNDS] = "REVOCATION_OUT_OF_BOUNDS",
	[SUB_NO_SIGNING_CERTIFICATE_FOUND] = "NO_SIGNING_CERTIFICATE_FOUND",
	[SUB_SIGNED_DATA_NOT_FOUND] = "SIGNED_DATA_NOT_FOUND",
};

const char *
vsub_name(enum vsub s)
{
	return sub_names[s];
}

const char *
vmain_name(enum vmain m)
{
	switch (m) {
	case V_PASSED:
		return "TOTAL-PASSED";
	case V_FAILED:
		return "TOTAL-FAILED";
	default:
		return "INDETERMINATE";
	}
}

time_t
vtime(const ASN1_TIME *t)
{
	struct tm	tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
		ERR_clear_error();
		return 0;
	}
	return timegm(&tm);
}

static json_t *
jtime(time_t t)
{
	char	buf[32];

	if (t == 0) {
		return json_null();
	}
	time_fmt(t, buf, sizeof(buf));
	return json_string(buf);
}

struct report *
report_new(void)
{
	struct report	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->checks = json_array()) == NULL ||
	    (r->revocation = json_array()) == NULL ||
	    (r->evidence = json_object()) == NULL ||
	    (r->lines = json_array()) == NULL) {
		fatalx("report: out of memory");
	}
	r->main = V_PASSED;
	return r;
}

void
report_free(struct report *r)
{
	if (r == NULL) {
		return;
	}
	json_decref(r->checks);
	json_decref(r->revocation);
	json_decref(r->evidence);
	json_decref(r->lines);
	free(r);
}

void
report_indication(struct report *r, enum vmain m, enum vsub s,
    const char *fmt, ...)
{
	va_list	ap;

	if (r->set) {
		return;
	}
	r->set = 1;
	r->main = m;
	r->sub = s;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

enum vmain
report_main(const struct report *r)
{
	return r->main;
}

void
report_check(struct report *r, const char *name, const char *result,
    const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(r->checks, json_pack("{s:s, s:s, s:s}",
	    "check", name, "result", result, "detail", buf));
}

void
report_set(struct report *r, const char *key, json_t *v)
{
	json_object_set_new(r->evidence, key, v);
}

void
report_line(struct report *r, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(r->lines, json_string(buf));
}

json_t *
cert_json(X509 *x)
{
	unsigned char	*der = NULL;
	char		 subj[512], iss[512], hex[65], *serial = NULL;
	BIGNUM		*bn;
	json_t		*o;
	int		 n;

	X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
	X509_NAME_oneline(X509_get_issuer_name(x), iss, sizeof(iss));
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) !=
	    NULL) {
		serial = BN_bn2hex(bn);
		BN_free(bn);
	}
	hex[0] = '\0';
	if ((n = i2d_X509(x, &der)) > 0) {
		sha256_hex(der, (size_t)n, hex);
	}
	OPENSSL_free(der);
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s}", "subject", subj,
	    "issuer", iss, "serial", serial != NULL ? serial : "",
	    "notBefore", jtime(vtime(X509_get0_notBefore(x))),
	    "notAfter", jtime(vtime(X509_get0_notAfter(x))),
	    "sha256", hex);
	OPENSSL_free(serial);
	ERR_clear_error();
	return o;
}

void
report_cert(struct report *r, const char *role, X509 *x)
{
	report_set(r, role, cert_json(x));
}

static const char *
status_name(enum rev_status s)
{
	switch (s) {
	case RS_GOOD:
		return "good";
	case RS_REVOKED:
		return "revoked";
	case RS_STALE:
		return "stale";
	default:
		return "unusable";
	}
}

void
report_revocation(struct report *r, const char *subject,
    const struct rev_evidence *ev, int used)
{
	json_t	*o;

	o = json_pack("{s:s, s:s, s:s, s:b, s:b, s:s, s:s}", "subject",
	    subject, "source", ev->source != NULL ? ev->source : "none",
	    "location", ev->where, "used", used, "cached", ev->cached,
	    "outcome", status_name(ev->status), "detail", ev->detail);
	if (ev->cert_status[0] != '\0') {
		json_object_set_new(o, "certStatus",
		    json_string(ev->cert_status));
	}
	if (ev->responder[0] != '\0') {
		json_object_set_new(o, ev->source != NULL &&
		    strcmp(ev->source, "crl") == 0 ?
		    "crlIssuer" : "responder", json_string(ev->responder));
	}
	if (ev->produced_at != 0) {
		json_object_set_new(o, "producedAt", jtime(ev->produced_at));
	}
	if (ev->this_update != 0) {
		json_object_set_new(o, "thisUpdate", jtime(ev->this_update));
		json_object_set_new(o, "nextUpdate", jtime(ev->next_update));
	}
	if (ev->revocation_time != 0 || strcmp(ev->cert_status, "revoked") ==
	    0) {
		json_object_set_new(o, "revocationTime",
		    jtime(ev->revocation_time));
		json_object_set_new(o, "revocationReason",
		    json_integer(ev->reason));
	}
	if (ev->archive_cutoff != 0) {
		json_object_set_new(o, "archiveCutoff",
		    jtime(ev->archive_cutoff));
	}
	if (ev->extended_revoke) {
		json_object_set_new(o, "extendedRevoke", json_true());
	}
	if (ev->nonce[0] != '\0') {
		json_object_set_new(o, "nonce", json_string(ev->nonce));
	}
	if (ev->crl_number[0] != '\0') {
		json_object_set_new(o, "crlNumber",
		    json_string(ev->crl_number));
	}
	if (ev->delta[0] != '\0') {
		json_object_set_new(o, "deltaCrl", json_string(ev->delta));
	}
	json_array_append_new(r->revocation, o);
}

int
report_exit(const struct report *r)
{
	if (r->sub == SUB_FORMAT_FAILURE) {
		return VEXIT_INPUT;
	}
	switch (r->main) {
	case V_PASSED:
		return VEXIT_PASSED;
	case V_FAILED:
		return VEXIT_FAILED;
	default:
		return VEXIT_INDETERMINATE;
	}
}

/* TS 119 102-2 style URIs for the indications. */
static json_t *
etsi_status(const struct report *r)
{
	char	m[96], s[96];
	json_t	*o;

	snprintf(m, sizeof(m), "urn:etsi:019102:mainindication:%s",
	    r->main == V_PASSED ? "total-passed" : r->main == V_FAILED ?
	    "total-failed" : "indeterminate");
	o = json_pack("{s:s}", "MainIndication", m);
	if (r->sub != SUB_NONE) {
		snprintf(s, sizeof(s), "urn:etsi:019102:subindication:%s",
		    sub_names[r->sub]);
		json_object_set_new(o, "SubIndication", json_pack("[s]", s));
	}
	return o;
}

static void
print_json(const struct report *r, time_t at)
{
	json_t	*root, *svr;
	char	*s;

	svr = json_pack("{s:{s:o}, s:o}", "ValidationTimeInfo",
	    "ValidationTime", jtime(at), "SignatureValidationStatus",
	    etsi_status(r));
	root = json_pack("{s:s, s:s, s:s, s:o, s:O, s:O, s:O, s:{s:[o]}}",
	    "indication", vmain_name(r->main), "subIndication",
	    sub_names[r->sub], "message", r->message, "validationTime",
	    jtime(at), "checks", r->checks, "revocation", r->revocation,
	    "evidence", r->evidence, "ValidationReport",
	    "SignatureValidationReport", svr);
	if (root == NULL || (s = json_dumps(root, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER)) == NULL) {
		fatalx("report: out of memory");
	}
	printf("%s\n", s);
	free(s);
	json_decref(root);
}

static void
print_text(const struct report *r, time_t at)
{
	json_t		*v;
	size_t		 i;
	const char	*res;
	char		 t[32];

	time_fmt(at, t, sizeof(t));
	printf("%s%s%s%s%s\n", vmain_name(r->main),
	    r->sub != SUB_NONE ? "/" : "", sub_names[r->sub],
	    r->message[0] != '\0' ? ": " : "", r->message);
	printf("  validation time  %s\n", t);
	json_array_foreach(r->checks, i, v) {
		res = json_string_value(json_object_get(v, "result"));
		printf("  %-16s %-13s %s\n",
		    json_string_value(json_object_get(v, "check")), res,
		    json_string_value(json_object_get(v, "detail")));
	}
	json_array_foreach(r->revocation, i, v) {
		printf("  %-16s %-13s %s %s%s\n",
		    json_is_true(json_object_get(v, "used")) ? "status from" :
		    "status tried",
		    json_string_value(json_object_get(v, "outcome")),
		    json_string_value(json_object_get(v, "source")),
		    json_string_value(json_object_get(v, "location")),
		    json_is_true(json_object_get(v, "cached")) ?
		    " (cached)" : "");
		if (json_string_length(json_object_get(v, "detail")) > 0) {
			printf("  %-16s %-13s %s\n", "", "",
			    json_string_value(json_object_get(v, "detail")));
		}
	}
	json_array_foreach(r->lines, i, v) {
		printf("  %s\n", json_string_value(v));
	}
}

void
report_print(const struct report *r, int json, time_t at)
{
	if (json) {
		print_json(r, at);
	} else {
		print_text(r, at);
	}
	fflush(stdout);
}
