/*
 * The per-certificate part of "eseal-policy report": one row per issued
 * certificate with the CMVP status of the HSM of its CA key and of its
 * subject key (declared with --subject-hsm or proved by an attestation
 * chain), the certificates at risk as of the report date (valid, with
 * either HSM Historical or Revoked: ES-HSM-02 for the CA key, ES-HSM-05
 * for the subject key, ES-HSM-03 for the FIPS 140-2 sunset), and the
 * forward view of those that become at risk within the horizon.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "cmvp.h"
#include "report_int.h"
#include "util.h"

/* The CMVP status of one HSM (a certificate number) at one date. */
struct hsm_state {
	char	cert[32];
	char	module[400];
	char	status[16];	/* Active, Historical, Revoked, Unknown, Unmapped */
	char	since[11];
	char	reason[160];
};

/* RFC 5280 5.3.1 CRLReason names, by value (7 is not used). */
static const char *const reason_names[] = { "unspecified", "keyCompromise",
    "cACompromise", "affiliationChanged", "superseded",
    "cessationOfOperation", "certificateHold", "", "removeFromCRL",
    "privilegeWithdrawn", "aACompromise" };

/* Fill st with the status of number as of t; 1, or 0 on a store error. */
static int
hsm_state(struct rep *r, const char *number, time_t t, struct hsm_state *st)
{
	struct cmvp_effective eff;
	struct cmvp_record rec;
	int found;

	memset(st, 0, sizeof(*st));
	snprintf(st->cert, sizeof(st->cert), "%s", number);
	if (*number == '\0') {
		snprintf(st->status, sizeof(st->status), "Unmapped");
		return 1;
	}
	if ((found = cmvp_lookup(r->db, number, &rec)) < 0 ||
	    !cmvp_effective(r->db, number, t, &eff)) {
		r->failed = 1;
		return 0;
	}
	if (found == 1) {
		/* "Thales Luna G7 ...", not "Thales Thales Luna G7 ...". */
		snprintf(st->module, sizeof(st->module), "%s%s%s",
		    strncmp(rec.module_name, rec.vendor,
		    strlen(rec.vendor)) == 0 ? "" : rec.vendor,
		    strncmp(rec.module_name, rec.vendor,
		    strlen(rec.vendor)) == 0 ? "" : " ", rec.module_name);
	}
	snprintf(st->status, sizeof(st->status), "%s",
	    cmvp_status_name(eff.status));
	snprintf(st->since, sizeof(st->since), "%s", eff.since);
	snprintf(st->reason, sizeof(st->reason), "%s", eff.reason);
	return 1;
}

static int
hsm_bad(const struct hsm_state *st)
{
	return strcmp(st->status, "Historical") == 0 ||
	    strcmp(st->status, "Revoked") == 0;
}

/*
 * The rule a Historical or Revoked HSM breaks for a key: the FIPS 140-2
 * sunset (ES-HSM-03) whoever holds the key, else ES-HSM-02 for a CA key
 * and ES-HSM-05 for a subject key.
 */
static const char *
hsm_rule(const struct hsm_state *st, int subject)
{
	if (strstr(st->reason, "ES-HSM-03") != NULL) {
		return "ES-HSM-03";
	}
	return subject ? "ES-HSM-05" : "ES-HSM-02";
}

/* One risk: which key, its HSM, status, since when, the rule. */
static json_t *
risk_new(const struct hsm_state *st, int subject, const char *evidence)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "key", subject ?
	    "subject key" : "CA key", "evidence", evidence, "cmvp_cert",
	    st->cert, "module", st->module, "status", st->status, "since",
	    st->since, "rule", hsm_rule(st, subject));
}

/* "CA key: CMVP #4962 (Thales ...) Historical since ... (ES-HSM-02)". */
static void
risk_text(json_t *risk, char *out, size_t outsz)
{
	const char *ev = rep_jstr(risk, "evidence");

	snprintf(out, outsz, "%s%s%s%s: CMVP #%s (%s) %s since %s (%s)",
	    rep_jstr(risk, "key"), *ev != '\0' ? " (" : "", ev,
	    *ev != '\0' ? ")" : "", rep_jstr(risk, "cmvp_cert"),
	    rep_jstr(risk, "module"), rep_jstr(risk, "status"),
	    rep_jstr(risk, "since"), rep_jstr(risk, "rule"));
}

/* "RSA", 3072 / "EC", 256 (curve in curve) and the signature algorithm. */
static void
cert_algs(X509 *x, json_t *o)
{
	EVP_PKEY *pk = x != NULL ? X509_get0_pubkey(x) : NULL;
	char curve[64], alg[80];
	size_t clen;
	int nid, md;

	if (pk == NULL) {
		json_object_set_new(o, "key_algorithm", json_string(""));
		json_object_set_new(o, "key_size", json_integer(0));
		json_object_set_new(o, "signature_algorithm", json_string(""));
		json_object_set_new(o, "signature_hash", json_string(""));
		ERR_clear_error();
		return;
	}
	if (EVP_PKEY_is_a(pk, "EC") && EVP_PKEY_get_utf8_string_param(pk,
	    OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), &clen)) {
		snprintf(alg, sizeof(alg), "EC-%.40s", curve);
	} else {
		snprintf(alg, sizeof(alg), "%s", EVP_PKEY_get0_type_name(pk));
	}
	json_object_set_new(o, "key_algorithm", json_string(alg));
	json_object_set_new(o, "key_size",
	    json_integer(EVP_PKEY_get_bits(pk)));
	nid = X509_get_signature_nid(x);
	json_object_set_new(o, "signature_algorithm", json_string(
	    nid != NID_undef ? OBJ_nid2ln(nid) : ""));
	if (!X509_get_signature_info(x, &md, NULL, NULL, NULL) ||
	    md == NID_undef) {
		md = NID_undef;
	}
	json_object_set_new(o, "signature_hash", json_string(
	    md != NID_undef ? OBJ_nid2sn(md) : ""));
	ERR_clear_error();
}

/* The subject's organizationIdentifier, or "". */
static void
cert_orgid(X509 *x, json_t *o)
{
	char buf[256];

	buf[0] = '\0';
	if (x == NULL || X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_organizationIdentifier, buf, sizeof(buf)) < 0) {
		buf[0] = '\0';
	}
	json_object_set_new(o, "organization_identifier", json_string(buf));
}

/* The status of a certificate as of the report date. */
static const char *
cert_status(struct rep *r, const char *issued, const char *not_after,
    int revoked)
{
	if (strcmp(issued, r->as_of_str) > 0) {
		return "issued_after_as_of";
	}
	if (revoked) {
		return "revoked";
	}
	return strcmp(not_after, r->as_of_str) < 0 ? "expired" : "good";
}

/* The CA key of name in keys (the ca_keys section), or NULL. */
static json_t *
key_of(json_t *keys, const char *name)
{
	json_t *k;
	size_t i;

	json_array_foreach(keys, i, k) {
		if (strcmp(rep_jstr(k, "name"), name) == 0) {
			return k;
		}
	}
	return NULL;
}

/* The HSM columns and the risks of one certificate row o. */
static void
cert_hsms(struct rep *r, json_t *o, json_t *key, const char *subject_hsm,
    int attested)
{
	struct hsm_state ca, sub;
	json_t *risks = json_array();
	const char *ev = *subject_hsm == '\0' ? "" : attested ? "attested" :
	    "declared";
	char why[1024], one[512];
	size_t i;
	json_t *k;

	/* The CA key's HSM: the token's certificate now (ES-HSM-ID-01). */
	if (!hsm_state(r, rep_jstr(key, "cmvp_cert"), r->as_of, &ca)) {
		return;
	}
	if (!hsm_state(r, subject_hsm, r->as_of, &sub)) {
		return;
	}
	if (*subject_hsm == '\0') {
		snprintf(sub.status, sizeof(sub.status), "none named");
	}
	json_object_set_new(o, "ca_hsm", json_string(ca.cert));
	json_object_set_new(o, "ca_hsm_module", json_string(ca.module));
	json_object_set_new(o, "ca_hsm_status", json_string(ca.status));
	json_object_set_new(o, "subject_hsm", json_string(sub.cert));
	json_object_set_new(o, "subject_hsm_evidence", json_string(ev));
	json_object_set_new(o, "subject_hsm_module", json_string(sub.module));
	json_object_set_new(o, "subject_hsm_status", json_string(sub.status));
	if (hsm_bad(&ca)) {
		json_array_append_new(risks, risk_new(&ca, 0, ""));
	}
	if (*subject_hsm != '\0' && hsm_bad(&sub)) {
		json_array_append_new(risks, risk_new(&sub, 1, ev));
	}
	why[0] = '\0';
	json_array_foreach(risks, i, k) {
		risk_text(k, one, sizeof(one));
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s",
		    i > 0 ? "; " : "", one);
	}
	json_object_set_new(o, "at_risk", json_boolean(
	    json_array_size(risks) > 0 &&
	    strcmp(rep_jstr(o, "status"), "good") == 0));
	json_object_set_new(o, "at_risk_why", json_string(why));
	json_object_set_new(o, "risks", risks);
}

json_t *
report_cert_list(struct rep *r, json_t *keys)
{
	json_t *arr = json_array(), *o;
	sqlite3_stmt *st;
	const unsigned char *p;
	X509 *x;
	int reason, revoked;

	st = rep_prep(r, "SELECT c.serial, c.subject, c.profile, a.name,"
	    " c.not_before, c.not_after, c.issued, c.der, rv.cert_id IS NOT"
	    " NULL AND rv.time <= ?1, COALESCE(rv.reason, -1),"
	    " COALESCE(q.subject_hsm, ''), json_extract(q.details,"
	    " '$.attestation.cmvp') IS NOT NULL FROM certificates c JOIN cas a"
	    " ON a.id = c.ca_id LEFT JOIN revocations rv ON rv.cert_id = c.id"
	    " LEFT JOIN requests q ON q.id = c.request_id ORDER BY c.id");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, r->as_of_str, -1, SQLITE_TRANSIENT);
	}
	while (rep_row(r, st)) {
		p = sqlite3_column_blob(st, 7);
		x = p != NULL ? d2i_X509(NULL, &p, sqlite3_column_bytes(st, 7)) :
		    NULL;
		revoked = sqlite3_column_int(st, 8);
		reason = sqlite3_column_int(st, 9);
		o = json_pack("{s:s,s:s}", "serial", rep_col(st, 0), "subject",
		    rep_col(st, 1));
		cert_orgid(x, o);
		json_object_set_new(o, "profile", json_string(rep_col(st, 2)));
		json_object_set_new(o, "ca", json_string(rep_col(st, 3)));
		json_object_set_new(o, "not_before", json_string(rep_col(st, 4)));
		json_object_set_new(o, "not_after", json_string(rep_col(st, 5)));
		json_object_set_new(o, "issued", json_string(rep_col(st, 6)));
		json_object_set_new(o, "status", json_string(cert_status(r,
		    rep_col(st, 6), rep_col(st, 5), revoked)));
		json_object_set_new(o, "revocation_reason", json_string(
		    revoked && reason >= 0 && reason < (int)(sizeof(reason_names)
		    / sizeof(reason_names[0])) ? reason_names[reason] : ""));
		cert_algs(x, o);
		report_alg_cert(r->alg_policies, o);
		cert_hsms(r, o, key_of(keys, rep_col(st, 3)), rep_col(st, 10),
		    sqlite3_column_int(st, 11));
		json_array_append_new(arr, o);
		X509_free(x);
	}
	sqlite3_finalize(st);
	ERR_clear_error();
	return arr;
}

/* An at-risk entry from a certificate row or a subordinate CA. */
static json_t *
risk_entry(json_t *c, const char *profile, const char *token_serial)
{
	json_t *risks = json_object_get(c, "risks");
	json_t *first = json_array_get(risks, 0);

	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
	    "s:s,s:s,s:s,s:O}",
	    "serial", rep_jstr(c, "serial"), "subject", rep_jstr(c, "subject"),
	    "profile", profile, "issued", rep_jstr(c, "issued"),
	    "not_after", rep_jstr(c, "not_after"),
	    "certificate_status", rep_jstr(c, "status"),
	    "ca", rep_jstr(c, "ca"), "token_serial", token_serial,
	    "key", rep_jstr(first, "key"),
	    "evidence", rep_jstr(first, "evidence"),
	    "hsm_cmvp_cert", rep_jstr(first, "cmvp_cert"),
	    "hsm_module", rep_jstr(first, "module"),
	    "hsm_status", rep_jstr(first, "status"),
	    "hsm_status_since", rep_jstr(first, "since"),
	    "why", rep_jstr(c, "at_risk_why"), "risks", risks);
}

/* Valid subordinate CA certificates signed by the key k (at risk). */
static void
sub_cas(struct rep *r, json_t *k, json_t *arr)
{
	struct hsm_state hs;
	sqlite3_stmt *st;
	json_t *c, *risks;
	char why[512];

	if (*rep_jstr(k, "cmvp_cert") == '\0' || !hsm_state(r,
	    rep_jstr(k, "cmvp_cert"), r->as_of, &hs) || !hsm_bad(&hs)) {
		return;
	}
	st = rep_prep(r, "SELECT s.subject, s.created, COALESCE(s.not_after,"
	    " ''), s.status, s.cert_der FROM cas s JOIN cas a ON"
	    " a.id = s.parent_id WHERE a.name = ?1 ORDER BY s.id");
	if (st == NULL) {
		return;
	}
	sqlite3_bind_text(st, 1, rep_jstr(k, "name"), -1, SQLITE_TRANSIENT);
	while (rep_row(r, st)) {
		char serial[80];

		if (strcmp(rep_col(st, 3), "revoked") == 0 ||
		    (*rep_col(st, 2) != '\0' &&
		    strcmp(rep_col(st, 2), r->as_of_str) < 0)) {
			continue;
		}
		report_cert_serial(sqlite3_column_blob(st, 4),
		    sqlite3_column_bytes(st, 4), serial, sizeof(serial));
		risks = json_array();
		json_array_append_new(risks, risk_new(&hs, 0, ""));
		risk_text(json_array_get(risks, 0), why, sizeof(why));
		c = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "serial",
		    serial, "subject", rep_col(st, 0), "issued", rep_col(st, 1),
		    "not_after", rep_col(st, 2), "status", "good", "ca",
		    rep_jstr(k, "name"), "at_risk_why", why, "risks", risks);
		json_array_append_new(arr, risk_entry(c, "subordinate CA",
		    rep_jstr(k, "token_serial")));
		json_decref(c);
	}
	sqlite3_finalize(st);
}

json_t *
report_at_risk(struct rep *r, json_t *keys, json_t *list)
{
	json_t *arr = json_array(), *c, *k;
	size_t i;

	json_array_foreach(list, i, c) {
		if (json_is_true(json_object_get(c, "at_risk"))) {
			k = key_of(keys, rep_jstr(c, "ca"));
			json_array_append_new(arr, risk_entry(c,
			    rep_jstr(c, "profile"), rep_jstr(k, "token_serial")));
		}
	}
	json_array_foreach(keys, i, k) {
		sub_cas(r, k, arr);
	}
	return arr;
}

/*
 * If the HSM number leaves Active after the report date and by the end of
 * the window, while the certificate (notAfter na) is still valid: an entry
 * of ahead; counted in by_month.
 */
static void
ahead_one(struct rep *r, json_t *c, const char *number, int subject,
    time_t end, json_t *ahead, json_t *by_month)
{
	struct hsm_state hs;
	json_t *e, *n;
	char month[16];

	if (*number == '\0' || !hsm_state(r, number, end, &hs) ||
	    !hsm_bad(&hs) || *hs.since == '\0' ||
	    strncmp(hs.since, r->as_of_str, 10) <= 0 ||
	    strncmp(hs.since, rep_jstr(c, "not_after"), 10) > 0) {
		return;
	}
	e = risk_new(&hs, subject, subject ?
	    rep_jstr(c, "subject_hsm_evidence") : "");
	json_object_set_new(e, "serial", json_string(rep_jstr(c, "serial")));
	json_object_set_new(e, "subject", json_string(rep_jstr(c, "subject")));
	json_object_set_new(e, "ca", json_string(rep_jstr(c, "ca")));
	json_object_set_new(e, "not_after",
	    json_string(rep_jstr(c, "not_after")));
	json_object_set_new(e, "date", json_string(hs.since));
	json_array_append_new(ahead, e);
	snprintf(month, sizeof(month), "%.7s", hs.since);
	n = json_object_get(by_month, month);
	json_object_set_new(by_month, month, json_integer(n != NULL ?
	    json_integer_value(n) + 1 : 1));
}

json_t *
report_at_risk_ahead(struct rep *r, json_t *list)
{
	json_t *ahead = json_array(), *by_month = json_object(), *c;
	struct tm tm, e;
	time_t end = r->as_of + (time_t)r->horizon_days * 86400;
	char until[32], month[32];
	size_t i;
	int m;

	time_fmt(end, until, sizeof(until));
	gmtime_r(&r->as_of, &tm);
	/* Every month of the window, in order, zero when nothing happens. */
	for (m = 0;; m++) {
		memset(&e, 0, sizeof(e));
		e.tm_year = tm.tm_year;
		e.tm_mon = tm.tm_mon + m;
		e.tm_mday = 1;
		timegm(&e);
		snprintf(month, sizeof(month), "%04d-%02d", e.tm_year + 1900,
		    e.tm_mon + 1);
		if (strncmp(month, until, 7) > 0) {
			break;
		}
		json_object_set_new(by_month, month, json_integer(0));
	}
	json_array_foreach(list, i, c) {
		if (strcmp(rep_jstr(c, "status"), "good") != 0 ||
		    json_is_true(json_object_get(c, "at_risk"))) {
			continue;
		}
		ahead_one(r, c, rep_jstr(c, "ca_hsm"), 0, end, ahead, by_month);
		ahead_one(r, c, rep_jstr(c, "subject_hsm"), 1, end, ahead,
		    by_month);
	}
	return json_pack("{s:i,s:s,s:o,s:o}", "horizon_days", r->horizon_days,
	    "until", until, "certificates", ahead, "by_month", by_month);
}
