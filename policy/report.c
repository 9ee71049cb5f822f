/*
 * "eseal-policy report": the compliance report of a store, for compliance
 * staff.  The report is built once as a JSON document (header, summary,
 * HSM inventory with the CMVP status of each token and mapping as of a
 * date, the CMVP status timeline, CA keys and their provenance, issued
 * certificates, certificates under keys whose HSM is no longer Active,
 * refusals and their rules, approvals, the audit chain check, CRL and OCSP
 * freshness) and then written as JSON, CSV (report.c) or HTML
 * (report_html.c).  The store is opened read-only; doc/report.md says
 * what each section means.
 */
#include "config.h"

#include <ctype.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit.h"
#include "cmvp.h"
#include "db.h"
#include "i18n.h"
#include "log.h"
#include "policy.h"
#include "report.h"
#include "report_int.h"
#include "subcmd.h"
#include "util.h"

#define MAX_CERTS	16
#define TIMELINE_MONTHS	24	/* either side of the as-of month */

/*
 * Post-quantum signature and KEM families and their PKCS#11 3.2 mechanisms
 * (OASIS pkcs11t.h): key pair generation and the operation.  The parameter
 * sets (ML-DSA-44/65/87, the SLH-DSA sets, ML-KEM-512/768/1024) are
 * attributes of the key (CKA_PARAMETER_SET), not separate mechanisms.
 */
static const struct pqc_family {
	const char	*name;		/* JSON key and label */
	const char	*sets;		/* parameter sets it covers */
	const char	*gen;
	unsigned long	 gen_num;
	const char	*op;
	unsigned long	 op_num;
} pqc_families[] = {
	{ "ML-DSA", "ML-DSA-44, ML-DSA-65, ML-DSA-87 (FIPS 204)",
	    "CKM_ML_DSA_KEY_PAIR_GEN", 0x1cUL, "CKM_ML_DSA", 0x1dUL },
	{ "HashML-DSA", "ML-DSA with a pre-hash (FIPS 204)",
	    "CKM_ML_DSA_KEY_PAIR_GEN", 0x1cUL, "CKM_HASH_ML_DSA", 0x1fUL },
	{ "SLH-DSA", "SLH-DSA SHA2/SHAKE 128/192/256 s/f (FIPS 205)",
	    "CKM_SLH_DSA_KEY_PAIR_GEN", 0x2dUL, "CKM_SLH_DSA", 0x2eUL },
	{ "ML-KEM", "ML-KEM-512, ML-KEM-768, ML-KEM-1024 (FIPS 203)",
	    "CKM_ML_KEM_KEY_PAIR_GEN", 0x0fUL, "CKM_ML_KEM", 0x17UL },
};
#define CKM_ML_DSA_KEY_PAIR_GEN_NUM	0x1cUL
#define CKM_ML_DSA_NUM			0x1dUL

/* Short local names for the accessors shared with report_*.c. */
#define col(st, i)	rep_col((st), (i))
#define prep(r, sql)	rep_prep((r), (sql))
#define row(r, st)	rep_row((r), (st))
#define jstr(o, k)	rep_jstr((o), (k))

const char *
rep_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

/* Prepare; on failure (logged by db_prepare) mark the report failed. */
sqlite3_stmt *
rep_prep(struct rep *r, const char *sql)
{
	sqlite3_stmt *st;

	if ((st = db_prepare(r->db, sql)) == NULL) {
		r->failed = 1;
	}
	return st;
}

/* 1 for a row, 0 when done or on a store error (logged, report failed). */
int
rep_row(struct rep *r, sqlite3_stmt *st)
{
	int rc;

	if (st == NULL) {
		return 0;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		return 1;
	}
	if (rc != SQLITE_DONE) {
		db_log_error(r->db, "report");
		r->failed = 1;
	}
	return 0;
}

static void
count(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	json_object_set_new(obj, key, json_integer(v != NULL ?
	    json_integer_value(v) + 1 : 1));
}

const char *
rep_jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/*
 * Fill o with the CMVP record and the effective status as of t of the
 * certificate number (status "Unmapped" when number is empty).
 */
static void
cmvp_fill(struct rep *r, const char *number, time_t t, json_t *o)
{
	struct cmvp_effective eff;
	struct cmvp_record rec;
	int found;

	json_object_set_new(o, "cmvp_cert", json_string(number));
	if (*number == '\0') {
		json_object_set_new(o, "effective_status",
		    json_string("Unmapped"));
		json_object_set_new(o, "since", json_string(""));
		return;
	}
	found = cmvp_lookup(r->db, number, &rec);
	if (found < 0) {
		r->failed = 1;
		return;
	}
	if (found == 1) {
		json_object_set_new(o, "vendor", json_string(rec.vendor));
		json_object_set_new(o, "module_name",
		    json_string(rec.module_name));
		json_object_set_new(o, "standard", json_string(rec.standard));
		json_object_set_new(o, "level",
		    json_integer(rec.overall_level));
		json_object_set_new(o, "sunset", json_string(rec.sunset_date));
		json_object_set_new(o, "snapshot_date",
		    json_string(rec.snapshot_date));
		json_object_set_new(o, "local_declaration",
		    json_boolean(rec.local));
	}
	if (!cmvp_effective(r->db, number, t, &eff)) {
		r->failed = 1;
		return;
	}
	json_object_set_new(o, "effective_status",
	    json_string(cmvp_status_name(eff.status)));
	json_object_set_new(o, "since", json_string(eff.since));
	json_object_set_new(o, "reason", json_string(eff.reason));
}

/* Effective status name only, for the timeline. */
static const char *
status_at(struct rep *r, const char *number, time_t t)
{
	struct cmvp_effective eff;

	if (*number == '\0') {
		return "Unmapped";
	}
	if (!cmvp_effective(r->db, number, t, &eff)) {
		r->failed = 1;
		return "Unknown";
	}
	return cmvp_status_name(eff.status);
}

static json_t *
header(struct rep *r)
{
	json_t *snaps = json_array(), *dates = json_array(), *h;
	sqlite3_stmt *st;
	char now[32], *id, *mode;

	id = db_meta_get(r->db, "instance_id");
	mode = db_meta_get(r->db, "instance_mode");
	time_fmt(now_utc(), now, sizeof(now));
	st = prep(r, "SELECT snapshot_date, source, records, local, imported,"
	    " imported_by FROM cmvp_snapshots ORDER BY snapshot_date, id");
	while (row(r, st)) {
		json_array_append_new(snaps, json_pack(
		    "{s:s,s:s,s:i,s:b,s:s,s:s}", "snapshot_date", col(st, 0),
		    "source", col(st, 1), "records", sqlite3_column_int(st, 2),
		    "local", sqlite3_column_int(st, 3), "imported", col(st, 4),
		    "imported_by", col(st, 5)));
		json_array_append_new(dates, json_string(col(st, 0)));
	}
	sqlite3_finalize(st);
	h = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "instance_id",
	    id ? id : "", "mode", mode ? mode : "production", "language",
	    r->lang, "as_of", r->as_of_str,
	    "generated", now, "cmvp_snapshot_dates", dates,
	    "cmvp_snapshots", snaps);
	free(id);
	free(mode);
	return h;
}

/* A mechanism named by its CKM name or its number ("0x1c", "0x0000001C"). */
static int
mech_is(const char *m, const char *name, unsigned long num)
{
	char *end;
	unsigned long v;

	if (strcmp(m, name) == 0) {
		return 1;
	}
	if (m[0] != '0' || (m[1] != 'x' && m[1] != 'X')) {
		return 0;
	}
	v = strtoul(m + 2, &end, 16);
	return end != m + 2 && *end == '\0' && v == num;
}

/* 1 if the JSON array of mechanism names mechs offers name or num. */
static int
mech_offered(json_t *mechs, const char *name, unsigned long num)
{
	const char *m;
	size_t i;

	for (i = 0; i < json_array_size(mechs); i++) {
		m = json_string_value(json_array_get(mechs, i));
		if (m != NULL && mech_is(m, name, num)) {
			return 1;
		}
	}
	return 0;
}

/*
 * Per post-quantum family, whether the token offers key generation and
 * the operation; and the names of the families it offers both for.
 */
static json_t *
pqc_readiness(json_t *mechs)
{
	json_t *o = json_object(), *ready = json_array();
	const struct pqc_family *f;
	size_t i;
	int gen, op;

	for (i = 0; i < sizeof(pqc_families) / sizeof(pqc_families[0]); i++) {
		f = &pqc_families[i];
		gen = mech_offered(mechs, f->gen, f->gen_num);
		op = mech_offered(mechs, f->op, f->op_num);
		json_object_set_new(o, f->name, json_pack("{s:s,s:b,s:b,s:b}",
		    "parameter_sets", f->sets, "key_pair_gen", gen,
		    "operation", op, "ready", gen && op));
		if (gen && op) {
			json_array_append_new(ready, json_string(f->name));
		}
	}
	return json_pack("{s:o,s:o}", "families", o, "offered", ready);
}

/* The CA keys held by a token, as a JSON array of names; warnings added. */
static json_t *
token_cas(struct rep *r, json_t *tok, json_t *warn)
{
	json_t *names = json_array();
	sqlite3_stmt *st;
	const char *sunset = jstr(tok, "sunset"), *cert = jstr(tok, "cmvp_cert");
	const char *status = jstr(tok, "effective_status");
	char w[512];

	st = prep(r, "SELECT name, COALESCE(not_after, ''), COALESCE(cmvp_cert,"
	    " ''), key_destroyed IS NOT NULL AND key_destroyed <= ?4 FROM cas"
	    " WHERE token_manufacturer = ?1 AND token_model = ?2 AND"
	    " token_serial = ?3 ORDER BY id");
	if (st == NULL) {
		return names;
	}
	sqlite3_bind_text(st, 1, jstr(tok, "manufacturer"), -1,
	    SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, jstr(tok, "model"), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, jstr(tok, "serial"), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, r->as_of_str, -1, SQLITE_TRANSIENT);
	while (row(r, st)) {
		json_array_append_new(names, json_string(col(st, 0)));
		if (sqlite3_column_int(st, 3)) {
			continue;	/* key destroyed: nothing left to plan */
		}
		if (*sunset != '\0' && *col(st, 1) != '\0' &&
		    strncmp(sunset, col(st, 1), 10) < 0) {
			snprintf(w, sizeof(w), "ES-HSM-02: CMVP certificate %s "
			    "sunsets on %s, before the notAfter %.10s of CA %s "
			    "whose key this token holds", cert, sunset,
			    col(st, 1), col(st, 0));
			json_array_append_new(warn, json_string(w));
		}
		if (strcmp(status, "Historical") == 0 ||
		    strcmp(status, "Revoked") == 0) {
			snprintf(w, sizeof(w), "ES-HSM-02: CMVP certificate %s "
			    "is %s since %s: the key of CA %s may no longer "
			    "sign", cert, status, jstr(tok, "since"),
			    col(st, 0));
			json_array_append_new(warn, json_string(w));
		}
		if (*col(st, 2) != '\0' && *cert != '\0' &&
		    strcmp(col(st, 2), cert) != 0) {
			snprintf(w, sizeof(w), "ES-HSM-ID-01: the key of CA %s "
			    "was generated under CMVP certificate %s, the "
			    "token maps to %s now", col(st, 0), col(st, 2),
			    cert);
			json_array_append_new(warn, json_string(w));
		}
	}
	sqlite3_finalize(st);
	return names;
}

/*
 * The CMVP certificate of a token identity (ES-HSM-ID-01): the operator's
 * mapping, else the certificate recorded when a CA key was generated on
 * it (which came from a PKCS#11 validation object or an earlier mapping).
 */
static void
token_cert(struct rep *r, const char *manuf, const char *model,
    const char *serial, const char *fw, char *number, size_t numsz,
    const char **source)
{
	sqlite3_stmt *st;
	int found;

	found = cmvp_token_mapping(r->db, manuf, model, serial, fw, number,
	    numsz);
	if (found < 0) {
		r->failed = 1;
	}
	if (found == 1) {
		*source = "hsm map";
		return;
	}
	*source = "none";
	st = prep(r, "SELECT cmvp_cert FROM cas WHERE token_manufacturer = ?"
	    " AND token_model = ? AND token_serial = ? AND cmvp_cert IS NOT"
	    " NULL AND cmvp_cert <> '' ORDER BY id DESC LIMIT 1");
	if (st == NULL) {
		return;
	}
	sqlite3_bind_text(st, 1, manuf, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, model, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, serial, -1, SQLITE_TRANSIENT);
	if (row(r, st)) {
		snprintf(number, numsz, "%s", col(st, 0));
		*source = "recorded at key generation (validation object or "
		    "earlier mapping)";
	}
	sqlite3_finalize(st);
}

static json_t *
tokens(struct rep *r)
{
	json_t *arr = json_array(), *o, *mechs, *names, *warn;
	sqlite3_stmt *st;
	const char *source;
	char number[32];
	size_t i;
	int gen, sign;

	st = prep(r, "SELECT label, manufacturer, model, serial, fw, hw,"
	    " library, module_path, mechanisms, first_seen, last_seen"
	    " FROM tokens ORDER BY id");
	while (row(r, st)) {
		mechs = json_loads(col(st, 8), 0, NULL);
		if (!json_is_array(mechs)) {
			json_decref(mechs);
			mechs = json_array();
		}
		gen = sign = 0;
		for (i = 0; i < json_array_size(mechs); i++) {
			const char *m = json_string_value(json_array_get(mechs,
			    i));

			if (m == NULL) {
				continue;
			}
			gen |= mech_is(m, "CKM_ML_DSA_KEY_PAIR_GEN",
			    CKM_ML_DSA_KEY_PAIR_GEN_NUM);
			sign |= mech_is(m, "CKM_ML_DSA", CKM_ML_DSA_NUM);
		}
		token_cert(r, col(st, 1), col(st, 2), col(st, 3), col(st, 4),
		    number, sizeof(number), &source);
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
		    "label", col(st, 0), "manufacturer", col(st, 1),
		    "model", col(st, 2), "serial", col(st, 3),
		    "firmware", col(st, 4), "hardware", col(st, 5),
		    "library", col(st, 6), "module_path", col(st, 7),
		    "first_seen", col(st, 9), "last_seen", col(st, 10),
		    "mapping_source", source);
		cmvp_fill(r, number, r->as_of, o);
		json_object_set_new(o, "mechanism_count",
		    json_integer((json_int_t)json_array_size(mechs)));
		json_object_set_new(o, "ml_dsa_key_pair_gen",
		    json_boolean(gen));
		json_object_set_new(o, "ml_dsa_sign", json_boolean(sign));
		json_object_set_new(o, "ml_dsa_ready",
		    json_boolean(gen && sign));
		json_object_set_new(o, "pqc", pqc_readiness(mechs));
		json_object_set_new(o, "mechanisms", mechs);
		warn = json_array();
		names = token_cas(r, o, warn);
		json_object_set_new(o, "ca_keys", names);
		json_object_set_new(o, "warnings", warn);
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

static json_t *
mappings(struct rep *r)
{
	json_t *arr = json_array(), *o;
	sqlite3_stmt *st;

	st = prep(r, "SELECT m.manufacturer, m.model, m.serial, m.firmware,"
	    " m.cert_number, m.mapped_by, m.mapped, (SELECT COUNT(*) FROM"
	    " tokens t WHERE t.manufacturer = m.manufacturer AND t.model ="
	    " m.model AND (m.serial = '*' OR m.serial = t.serial) AND"
	    " (m.firmware = '*' OR m.firmware = t.fw)) FROM hsm_map m"
	    " ORDER BY m.id");
	while (row(r, st)) {
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i}",
		    "manufacturer", col(st, 0), "model", col(st, 1),
		    "serial", col(st, 2), "firmware", col(st, 3),
		    "mapped_by", col(st, 5), "mapped", col(st, 6),
		    "matching_tokens", sqlite3_column_int(st, 7));
		cmvp_fill(r, col(st, 4), r->as_of, o);
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

/* Month ends around the as-of date and the count of tokens per status. */
static json_t *
timeline(struct rep *r, json_t *toks)
{
	static const char *series[] = { "Active", "Historical", "Revoked",
	    "Unknown", "Unmapped" };
	json_t *months = json_array(), *m, *ser = json_array(), *t;
	struct tm tm;
	time_t end;
	char day[32];
	size_t i, k;
	int d;

	for (k = 0; k < sizeof(series) / sizeof(series[0]); k++) {
		json_array_append_new(ser, json_string(series[k]));
	}
	gmtime_r(&r->as_of, &tm);
	for (d = -TIMELINE_MONTHS; d <= TIMELINE_MONTHS; d++) {
		struct tm e;

		memset(&e, 0, sizeof(e));
		e.tm_year = tm.tm_year;
		e.tm_mon = tm.tm_mon + d + 1;	/* first day of next month */
		e.tm_mday = 1;
		end = timegm(&e) - 1;		/* 23:59:59 of the month end */
		time_fmt(end, day, sizeof(day));
		day[10] = '\0';
		m = json_pack("{s:s}", "month_end", day);
		for (k = 0; k < sizeof(series) / sizeof(series[0]); k++) {
			json_object_set_new(m, series[k], json_integer(0));
		}
		json_array_foreach(toks, i, t) {
			count(m, status_at(r, jstr(t, "cmvp_cert"), end));
		}
		json_array_append_new(months, m);
	}
	return json_pack("{s:s,s:o,s:o}", "counts", "tokens", "series", ser,
	    "months", months);
}

/* Key size in bits from the CA certificate, else from the key name. */
static int
key_bits(const unsigned char *der, int len, const char *key_alg)
{
	const unsigned char *p = der;
	const char *q;
	X509 *x = NULL;
	int bits = 0;

	if (der != NULL && (x = d2i_X509(NULL, &p, len)) != NULL &&
	    p == der + len && X509_get0_pubkey(x) != NULL) {
		bits = EVP_PKEY_get_bits(X509_get0_pubkey(x));
	}
	X509_free(x);
	ERR_clear_error();
	if (bits > 0) {
		return bits;
	}
	for (q = key_alg; *q != '\0' && !isdigit((unsigned char)*q); q++) {
		;
	}
	return atoi(q);
}

static json_t *
ca_keys(struct rep *r)
{
	json_t *arr = json_array(), *o, *now;
	sqlite3_stmt *st;
	const char *source;
	char number[32];
	int ok;

	st = prep(r, "SELECT name, kind, status, subject,"
	    " COALESCE(not_before, ''), COALESCE(not_after, ''), key_alg,"
	    " sig_alg, token_label, token_manufacturer, token_model,"
	    " token_serial, token_fw, key_id, key_label, prov_local,"
	    " prov_always_sensitive, prov_never_extractable, prov_extractable,"
	    " COALESCE(cmvp_cert, ''), COALESCE(cmvp_status_at_gen, ''),"
	    " COALESCE(key_destroyed, ''), created, cert_der FROM cas"
	    " ORDER BY id");
	while (row(r, st)) {
		ok = sqlite3_column_int(st, 15) && sqlite3_column_int(st, 16) &&
		    sqlite3_column_int(st, 17) && !sqlite3_column_int(st, 18);
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s,"
		    "s:s,s:s,s:s,s:s}",
		    "name", col(st, 0), "kind", col(st, 1), "status", col(st, 2),
		    "subject", col(st, 3), "not_before", col(st, 4),
		    "not_after", col(st, 5), "key_alg", col(st, 6),
		    "key_size", key_bits(sqlite3_column_blob(st, 23),
		    sqlite3_column_bytes(st, 23), col(st, 6)),
		    "sig_alg", col(st, 7), "token_label", col(st, 8),
		    "token_manufacturer", col(st, 9), "token_model", col(st, 10),
		    "token_serial", col(st, 11), "token_firmware", col(st, 12),
		    "key_id", col(st, 13), "key_label", col(st, 14));
		json_object_set_new(o, "prov_local",
		    json_boolean(sqlite3_column_int(st, 15)));
		json_object_set_new(o, "prov_always_sensitive",
		    json_boolean(sqlite3_column_int(st, 16)));
		json_object_set_new(o, "prov_never_extractable",
		    json_boolean(sqlite3_column_int(st, 17)));
		json_object_set_new(o, "prov_extractable",
		    json_boolean(sqlite3_column_int(st, 18)));
		json_object_set_new(o, "provenance_ok", json_boolean(ok));
		json_object_set_new(o, "cmvp_cert_at_generation",
		    json_string(col(st, 19)));
		json_object_set_new(o, "cmvp_status_at_generation",
		    json_string(col(st, 20)));
		/* Now: the token's certificate (ES-HSM-ID-01) as of the date. */
		token_cert(r, col(st, 9), col(st, 10), col(st, 11), col(st, 12),
		    number, sizeof(number), &source);
		if (*number == '\0') {
			snprintf(number, sizeof(number), "%s", col(st, 19));
		}
		now = json_object();
		cmvp_fill(r, number, r->as_of, now);
		json_object_set(o, "cmvp_cert", json_object_get(now,
		    "cmvp_cert"));
		json_object_set(o, "effective_status", json_object_get(now,
		    "effective_status"));
		json_object_set(o, "since", json_object_get(now, "since"));
		json_decref(now);
		json_object_set_new(o, "key_destroyed",
		    json_boolean(*col(st, 21) != '\0'));
		json_object_set_new(o, "key_destroyed_at",
		    json_string(col(st, 21)));
		json_object_set_new(o, "created", json_string(col(st, 22)));
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

/* "RSA-3072", "EC-prime256v1", ... for a certificate's subject key. */
static void
key_name(const unsigned char *der, int len, char *out, size_t outsz)
{
	const unsigned char *p = der;
	X509 *x = NULL;
	EVP_PKEY *pk;
	char curve[64];
	size_t clen;

	snprintf(out, outsz, "unreadable");
	if (der == NULL || (x = d2i_X509(NULL, &p, len)) == NULL ||
	    p != der + len || (pk = X509_get0_pubkey(x)) == NULL) {
		goto out;
	}
	if (EVP_PKEY_is_a(pk, "RSA")) {
		snprintf(out, outsz, "RSA-%d", EVP_PKEY_get_bits(pk));
	} else if (EVP_PKEY_is_a(pk, "EC") && EVP_PKEY_get_utf8_string_param(pk,
	    OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), &clen)) {
		snprintf(out, outsz, "EC-%.40s", curve);
	} else {
		snprintf(out, outsz, "%s", EVP_PKEY_get0_type_name(pk));
	}
out:
	X509_free(x);
	ERR_clear_error();
}

/* Counts of the issued certificates; list (the per-certificate rows) kept. */
static json_t *
certificates(struct rep *r, json_t *list)
{
	json_t *byp = json_object(), *bya = json_object(), *bys = json_object();
	json_t *bym = json_object(), *byc = json_object();
	sqlite3_stmt *st;
	char alg[64];
	int total = 0;

	json_object_set_new(bys, "good", json_integer(0));
	json_object_set_new(bys, "revoked", json_integer(0));
	json_object_set_new(bys, "expired", json_integer(0));
	st = prep(r, "SELECT c.profile, c.not_after, c.der, r.cert_id IS NOT"
	    " NULL AND r.time <= ?1, c.issued > ?1, a.name FROM certificates c"
	    " JOIN cas a ON a.id = c.ca_id LEFT JOIN revocations r ON"
	    " r.cert_id = c.id ORDER BY c.id");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, r->as_of_str, -1, SQLITE_TRANSIENT);
	}
	while (row(r, st)) {
		total++;
		count(byp, col(st, 0));
		count(byc, col(st, 5));
		key_name(sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2),
		    alg, sizeof(alg));
		count(bya, alg);
		if (sqlite3_column_int(st, 4)) {
			count(bys, "issued_after_as_of");
		} else if (sqlite3_column_int(st, 3)) {
			count(bys, "revoked");
		} else if (strcmp(col(st, 1), r->as_of_str) < 0) {
			count(bys, "expired");
		} else {
			count(bys, "good");
		}
	}
	sqlite3_finalize(st);
	st = prep(r, "SELECT substr(not_after, 1, 7), COUNT(*) FROM"
	    " certificates GROUP BY 1 ORDER BY 1");
	while (row(r, st)) {
		json_object_set_new(bym, col(st, 0),
		    json_integer(sqlite3_column_int(st, 1)));
	}
	sqlite3_finalize(st);
	return json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "total", total,
	    "by_profile", byp, "by_algorithm", bya, "by_status", bys,
	    "by_ca", byc, "by_expiry_month", bym, "list", list);
}

/* Rule IDs (ES-[A-Z0-9-]+, trailing '-' dropped) named in text, once each. */
static void
rule_ids(json_t *arr, const char *text)
{
	const char *p = text;
	json_t *e;
	char id[40];
	size_t n, i;
	int dup;

	while ((p = strstr(p, "ES-")) != NULL) {
		n = 3;
		while (p[n] != '\0' && n < sizeof(id) - 1 &&
		    (isupper((unsigned char)p[n]) ||
		    isdigit((unsigned char)p[n]) || p[n] == '-')) {
			n++;
		}
		while (n > 3 && p[n - 1] == '-') {
			n--;
		}
		if (n > 3) {
			memcpy(id, p, n);
			id[n] = '\0';
			dup = 0;
			json_array_foreach(arr, i, e) {
				dup |= strcmp(json_string_value(e), id) == 0;
			}
			if (!dup) {
				json_array_append_new(arr, json_string(id));
			}
		}
		p += n;
	}
}

static json_t *
refusals(struct rep *r)
{
	json_t *reqs = json_array(), *aud = json_array(), *rules;
	sqlite3_stmt *st;

	st = prep(r, "SELECT q.id, a.name, q.profile, q.submitter, q.submitted,"
	    " COALESCE(q.refusal, '') FROM requests q JOIN cas a ON"
	    " a.id = q.ca_id WHERE q.status = 'refused' ORDER BY q.submitted,"
	    " q.id");
	while (row(r, st)) {
		rules = json_array();
		rule_ids(rules, col(st, 5));
		json_array_append_new(reqs, json_pack(
		    "{s:s,s:s,s:s,s:s,s:s,s:o,s:s}", "request", col(st, 0),
		    "ca", col(st, 1), "profile", col(st, 2), "submitter",
		    col(st, 3), "time", col(st, 4), "rules", rules,
		    "refusal", col(st, 5)));
	}
	sqlite3_finalize(st);
	st = prep(r, "SELECT seq, time, operators, action, object, result,"
	    " detail FROM audit WHERE result LIKE 'refused%' ORDER BY seq");
	while (row(r, st)) {
		rules = json_array();
		rule_ids(rules, col(st, 5));
		rule_ids(rules, col(st, 6));
		json_array_append_new(aud, json_pack(
		    "{s:I,s:s,s:s,s:s,s:s,s:o,s:s,s:s}", "seq",
		    (json_int_t)sqlite3_column_int64(st, 0), "time", col(st, 1),
		    "operators", col(st, 2), "action", col(st, 3),
		    "object", col(st, 4), "rules", rules, "result", col(st, 5),
		    "detail", col(st, 6)));
	}
	sqlite3_finalize(st);
	return json_pack("{s:o,s:o}", "requests", reqs, "audit", aud);
}

static json_t *
approvals(struct rep *r)
{
	json_t *arr = json_array();
	sqlite3_stmt *st;

	st = prep(r, "SELECT a.time, a.kind, a.object, o.name, a.decision"
	    " FROM approvals a LEFT JOIN operators o ON o.id = a.operator_id"
	    " ORDER BY a.time, a.id");
	while (row(r, st)) {
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s}",
		    "time", col(st, 0), "kind", col(st, 1), "object", col(st, 2),
		    "operator", col(st, 3), "decision", col(st, 4)));
	}
	sqlite3_finalize(st);
	return arr;
}

/* Every entry of the audit chain, in order (the audit sheet). */
static json_t *
audit_entries(struct rep *r)
{
	json_t *arr = json_array();
	sqlite3_stmt *st;

	st = prep(r, "SELECT seq, time, operators, action, object, result,"
	    " detail, hash FROM audit ORDER BY seq");
	while (row(r, st)) {
		json_array_append_new(arr, json_pack(
		    "{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "seq",
		    (json_int_t)sqlite3_column_int64(st, 0), "time",
		    col(st, 1), "operators", col(st, 2), "action",
		    col(st, 3), "object", col(st, 4), "result",
		    col(st, 5), "detail", col(st, 6), "hash",
		    col(st, 7)));
	}
	sqlite3_finalize(st);
	return arr;
}

static json_t *
audit_section(struct rep *r, X509 *const *given, size_t ngiven)
{
	struct audit_verify_result res;
	X509 *own[MAX_CERTS];
	X509 *const *certs = given;
	sqlite3_stmt *st;
	json_t *findings = json_array(), *subjects = json_array();
	char *buf = NULL, *line, *save = NULL, name[256];
	size_t n = ngiven, nown = 0, i, len = 0;
	FILE *mem;
	int intact;

	if (ngiven == 0) {
		st = prep(r, "SELECT cert_der FROM cas WHERE cert_der IS NOT"
		    " NULL ORDER BY id");
		while (row(r, st) && nown < MAX_CERTS) {
			const unsigned char *p = sqlite3_column_blob(st, 0);
			X509 *x = d2i_X509(NULL, &p,
			    sqlite3_column_bytes(st, 0));

			if (x != NULL) {
				own[nown++] = x;
			}
		}
		sqlite3_finalize(st);
		ERR_clear_error();
		certs = own;
		n = nown;
	}
	for (i = 0; i < n; i++) {
		X509_NAME_oneline(X509_get_subject_name(certs[i]), name,
		    sizeof(name));
		json_array_append_new(subjects, json_string(name));
	}
	if ((mem = open_memstream(&buf, &len)) == NULL) {
		fatalx("out of memory");
	}
	memset(&res, 0, sizeof(res));
	intact = audit_verify(r->db, certs, n, mem, &res);
	fclose(mem);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		json_array_append_new(findings, json_string(line));
	}
	free(buf);
	for (i = 0; i < nown; i++) {
		X509_free(own[i]);
	}
	return json_pack("{s:s,s:s,s:o,s:I,s:I,s:I,s:i,s:i,s:o,s:o*}",
	    "result", intact ? "intact" : "TAMPERED", "checked_with",
	    ngiven > 0 ? "the CA certificates given (independent check)" :
	    "store copies: not an independent check", "certificates", subjects,
	    "entries", (json_int_t)res.entries,
	    "signed_heads", (json_int_t)res.signatures,
	    "last_signed_seq", (json_int_t)res.last_signed_seq,
	    "unsigned_tail", res.unsigned_tail, "problems", res.problems,
	    "findings", findings, "entries_list", r->audit_entries ?
	    audit_entries(r) : NULL);
}

static json_t *
freshness(struct rep *r)
{
	json_t *crls = json_array();
	sqlite3_stmt *st;
	char *ocsp;
	json_t *o;

	/* Every CA with its latest CRL of each kind (and partition), or none. */
	st = prep(r, "SELECT c.name, l.number, COALESCE(l.kind, ''),"
	    " COALESCE(l.partition, 0), COALESCE(l.this_update, ''),"
	    " COALESCE(l.next_update, '') FROM cas c LEFT JOIN crls l ON"
	    " l.ca_id = c.id AND l.number = (SELECT MAX(number) FROM crls m"
	    " WHERE m.ca_id = l.ca_id AND m.kind = l.kind AND m.partition IS"
	    " l.partition) ORDER BY c.id, l.kind, l.partition");
	while (row(r, st)) {
		int none = sqlite3_column_type(st, 1) == SQLITE_NULL;
		int stale = !none && strcmp(col(st, 5), r->as_of_str) < 0;

		json_array_append_new(crls, json_pack(
		    "{s:s,s:o,s:s,s:o,s:s,s:s,s:b,s:s}", "ca", col(st, 0),
		    "number", none ? json_null() :
		    json_integer(sqlite3_column_int64(st, 1)),
		    "kind", col(st, 2), "partition", none ? json_null() :
		    json_integer(sqlite3_column_int(st, 3)),
		    "this_update", col(st, 4), "next_update", col(st, 5),
		    "stale", stale, "state", none ? "no CRL signed" : stale ?
		    "stale" : "fresh"));
	}
	sqlite3_finalize(st);
	ocsp = db_meta_get(r->db, "last_status_export");
	o = json_pack("{s:o,s:s,s:b}", "crls", crls, "ocsp_status_export",
	    ocsp != NULL ? ocsp : "no status export recorded",
	    "ocsp_status_export_recorded", ocsp != NULL);
	free(ocsp);
	return o;
}

/* Lower-case hex serial of a certificate DER ("" if unreadable). */
void
report_cert_serial(const unsigned char *der, int len, char *out, size_t outsz)
{
	const unsigned char *p = der;
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL, *h;

	out[0] = '\0';
	if (der != NULL && (x = d2i_X509(NULL, &p, len)) != NULL &&
	    p == der + len &&
	    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) != NULL &&
	    (hex = BN_bn2hex(bn)) != NULL) {
		for (h = hex; *h != '\0'; h++) {
			*h = (char)tolower((unsigned char)*h);
		}
		snprintf(out, outsz, "%s", hex);
	}
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	ERR_clear_error();
}

static json_t *
summary(json_t *rep)
{
	json_t *inv = json_object_get(rep, "hsm_inventory"), *t, *c;
	json_t *fr = json_object_get(json_object_get(rep, "freshness"), "crls");
	json_t *rf = json_object_get(rep, "refusals");
	size_t i, warnings = 0, ready = 0, stale = 0, inactive = 0;

	json_array_foreach(json_object_get(inv, "tokens"), i, t) {
		warnings += json_array_size(json_object_get(t, "warnings"));
		ready += json_is_true(json_object_get(t, "ml_dsa_ready"));
		inactive += strcmp(jstr(t, "effective_status"), "Active") != 0;
	}
	json_array_foreach(fr, i, c) {
		stale += json_is_true(json_object_get(c, "stale"));
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:O,s:I,s:I,s:I,s:I,s:I,"
	    "s:s}",
	    "tokens", (json_int_t)json_array_size(json_object_get(inv,
	    "tokens")), "tokens_not_active", (json_int_t)inactive,
	    "tokens_ml_dsa_ready", (json_int_t)ready,
	    "hsm_warnings", (json_int_t)warnings,
	    "ca_keys", (json_int_t)json_array_size(json_object_get(rep,
	    "ca_keys")),
	    "certificates", (json_int_t)json_integer_value(json_object_get(
	    json_object_get(rep, "certificates"), "total")),
	    "certificates_by_status", json_object_get(json_object_get(rep,
	    "certificates"), "by_status"),
	    "certificates_at_risk", (json_int_t)json_array_size(
	    json_object_get(rep, "at_risk")),
	    "certificates_at_risk_ahead", (json_int_t)json_array_size(
	    json_object_get(json_object_get(rep, "at_risk_ahead"),
	    "certificates")),
	    "refused_requests", (json_int_t)json_array_size(json_object_get(rf,
	    "requests")),
	    "refusals_in_audit", (json_int_t)json_array_size(json_object_get(rf,
	    "audit")),
	    "stale_crls", (json_int_t)stale,
	    "audit_chain", jstr(json_object_get(rep, "audit"), "result"));
}

/*
 * Every CA key signs with a classical algorithm: each needs a migration
 * plan.  Say per key which post-quantum signature families its token
 * offers (from toks), so the plan is a new key there or a new HSM.
 */
static void
pqc_plan(json_t *keys, json_t *toks)
{
	json_t *k, *t, *offered, *f;
	size_t i, j, n;
	int sig;

	json_array_foreach(keys, i, k) {
		offered = NULL;
		json_array_foreach(toks, j, t) {
			if (strcmp(jstr(t, "manufacturer"), jstr(k,
			    "token_manufacturer")) == 0 && strcmp(jstr(t,
			    "model"), jstr(k, "token_model")) == 0 &&
			    strcmp(jstr(t, "serial"), jstr(k,
			    "token_serial")) == 0) {
				offered = json_object_get(json_object_get(t,
				    "pqc"), "offered");
			}
		}
		json_object_set_new(k, "pqc_token_offers", offered != NULL ?
		    json_deep_copy(offered) : json_array());
		sig = 0;
		json_array_foreach(offered, n, f) {
			sig |= strstr(json_string_value(f), "DSA") != NULL;
		}
		json_object_set_new(k, "pqc_migration", json_string(
		    json_is_true(json_object_get(k, "key_destroyed")) ?
		    "none (key destroyed)" : sig ?
		    "needed: a post-quantum key on this token" :
		    "needed: the token offers no post-quantum signature "
		    "mechanism (new HSM or firmware)"));
	}
}

json_t *
report_build(struct db *db, const struct report_opts *opts, X509 *const *certs,
    size_t ncerts)
{
	struct rep r;
	json_t *rep, *toks, *keys, *list;

	memset(&r, 0, sizeof(r));
	r.db = db;
	r.as_of = opts->as_of;
	r.horizon_days = opts->horizon_days;
	r.audit_entries = opts->audit_entries;
	r.lang = opts->lang != NULL ? opts->lang : "en";
	time_fmt(r.as_of, r.as_of_str, sizeof(r.as_of_str));
	if ((r.alg_policies = report_alg_policies(opts->alg_policies_dir)) ==
	    NULL) {
		return NULL;
	}
	rep = json_object();
	json_object_set_new(rep, "header", header(&r));
	json_object_set_new(rep, "summary", json_null());
	toks = tokens(&r);
	json_object_set_new(rep, "hsm_inventory", json_pack("{s:O,s:o}",
	    "tokens", toks, "mappings", mappings(&r)));
	json_object_set_new(rep, "cmvp_timeline", timeline(&r, toks));
	keys = ca_keys(&r);
	pqc_plan(keys, toks);
	json_decref(toks);
	json_object_set_new(rep, "ca_keys", keys);
	list = report_cert_list(&r, keys);
	json_object_set_new(rep, "certificates", certificates(&r, list));
	json_object_set_new(rep, "at_risk", report_at_risk(&r, keys, list));
	json_object_set_new(rep, "at_risk_ahead",
	    report_at_risk_ahead(&r, list));
	json_object_set_new(rep, "algorithm_horizon",
	    report_alg_horizon(r.alg_policies, keys, list));
	json_decref(r.alg_policies);
	json_object_set_new(rep, "refusals", refusals(&r));
	json_object_set_new(rep, "approvals", approvals(&r));
	json_object_set_new(rep, "audit", audit_section(&r, certs, ncerts));
	json_object_set_new(rep, "freshness", freshness(&r));
	json_object_set_new(rep, "summary", summary(rep));
	if (r.failed) {
		log_warnx("%s: store error: no report written", db_path(db));
		json_decref(rep);
		return NULL;
	}
	return rep;
}

const char *
report_lang(const char *lang)
{
	/*
	 * eseal-policy's main has taken --lang and the locale into account
	 * (i18n_setup); a language given here chooses again.
	 */
	if (lang != NULL && !i18n_init(lang)) {
		return NULL;
	}
	return i18n_is_ja() ? "ja" : "en";
}

void
report_write_json(json_t *rep, FILE *fp)
{
	json_dumpf(rep, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', fp);
}

void
report_csv_field(FILE *fp, const char *s, int text)
{
	const char *p;

	if (text && (*s == '=' || *s == '+' || *s == '-' || *s == '@' ||
	    *s == '\t' || *s == '\r')) {
		fputs("\"'", fp);
	} else if (strpbrk(s, ",\"\n\r") != NULL) {
		fputc('"', fp);
	} else {
		fputs(s, fp);
		return;
	}
	for (p = s; *p != '\0'; p++) {
		if (*p == '"') {
			fputc('"', fp);
		}
		fputc(*p, fp);
	}
	fputc('"', fp);
}

/* Long format: every scalar leaf as section,item,field,value. */
static void
csv_walk(FILE *fp, const char *section, const char *item, const char *field,
    json_t *v)
{
	char buf[64], sub[256];
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, k, e) {
			snprintf(sub, sizeof(sub), "%s%s%s", field,
			    *field != '\0' ? "." : "", k);
			csv_walk(fp, section, item, sub, e);
		}
		return;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (json_is_object(e)) {
				/* Item "3", or "tokens/3" for a named list. */
				snprintf(sub, sizeof(sub), "%s%s%s%s%zu", item,
				    *item != '\0' ? "/" : "", field,
				    *field != '\0' ? "/" : "", i + 1);
				csv_walk(fp, section, sub, "", e);
			} else {
				snprintf(sub, sizeof(sub), "%s[%zu]", field, i);
				csv_walk(fp, section, item, sub, e);
			}
		}
		return;
	}
	report_csv_field(fp, section, 0);
	fputc(',', fp);
	report_csv_field(fp, item, 0);
	fputc(',', fp);
	report_csv_field(fp, field, 0);
	fputc(',', fp);
	if (json_is_string(v)) {
		report_csv_field(fp, json_string_value(v), 1);
	} else if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		fputs(buf, fp);
	} else if (json_is_true(v)) {
		fputs("true", fp);
	} else if (json_is_false(v)) {
		fputs("false", fp);
	}
	fputs("\r\n", fp);
}

void
report_write_csv(json_t *rep, FILE *fp)
{
	const char *k;
	json_t *v;

	fputs("section,item,field,value\r\n", fp);
	json_object_foreach(rep, k, v) {
		csv_walk(fp, k, "", "", v);
	}
}

/* The usage of eseal-policy report (not translated). */
static const char report_usage[] =
    "usage: eseal-policy report --db DB "
    "--format html|json|csv|xlsx [--as-of DATE]\n"
    "           [--horizon DAYS] [--sheet certificates|hsms|ca-keys|"
    "refusals|audit]\n"
    "           [--bom] [--algorithm-policies DIR] [--lang ja|en] "
    "[--out FILE]\n           [--ca-cert FILE...]\n"
    "  The compliance report of a store (read-only): HSM inventory with\n"
    "  CMVP status as of DATE (default now), CA keys and provenance,\n"
    "  issued certificates, certificates whose CA or subject key HSM is\n"
    "  no longer Active (and those that will be within DAYS, default\n"
    "  365), refusals, approvals, the audit chain check\n"
    "  (independent with --ca-cert), CRL and OCSP freshness.\n"
    "  Writes to FILE atomically, else to stdout.  See doc/report.md.\n"
    "  Exit status: 0 written, 2 usage, 3 store or input error.\n";

/* Read PEM certificates; 1/0 (logged "file: problem"). */
static int
read_certs(char **files, size_t nfiles, X509 **certs)
{
	BIO *bio;
	size_t i;

	for (i = 0; i < nfiles; i++) {
		certs[i] = NULL;
		if ((bio = BIO_new_file(files[i], "r")) != NULL) {
			certs[i] = PEM_read_bio_X509(bio, NULL, NULL, NULL);
			BIO_free(bio);
		}
		if (certs[i] == NULL) {
			log_ssl("%s: cannot read a PEM certificate", files[i]);
			return 0;
		}
	}
	return 1;
}

/*
 * rep in format (html, json, csv, xlsx; one sheet of csv if sheet is not
 * NULL, after a byte order mark if bom) into a new buffer *buf of *len
 * bytes.  1, or 0 when the XLSX cannot be made (logged).
 */
static int
render(json_t *rep, const char *format, const char *sheet, int bom,
    char **buf, size_t *len)
{
	FILE *mem;

	if (strcmp(format, "xlsx") == 0) {
		return report_write_xlsx(rep, buf, len);
	}
	if ((mem = open_memstream(buf, len)) == NULL) {
		fatalx("out of memory");
	}
	if (strcmp(format, "json") == 0) {
		report_write_json(rep, mem);
	} else if (sheet != NULL) {
		report_write_sheet_csv(rep, sheet, bom, mem);
	} else if (strcmp(format, "csv") == 0) {
		if (bom) {
			fputs("\xef\xbb\xbf", mem);
		}
		report_write_csv(rep, mem);
	} else {
		report_write_html(rep, mem);
	}
	fclose(mem);
	return 1;
}

/*
 * 1 when --format, --sheet and --bom go together, else 0 (logged as a
 * usage error).
 */
static int
output_valid(const char *format, const char *sheet, int bom)
{
	if (strcmp(format, "html") != 0 && strcmp(format, "json") != 0 &&
	    strcmp(format, "csv") != 0 && strcmp(format, "xlsx") != 0) {
		log_warnx("report: --format %s: use html, json, csv or xlsx",
		    format);
		return 0;
	}
	if (sheet != NULL && (strcmp(format, "csv") != 0 ||
	    !report_sheet_known(sheet))) {
		log_warnx("report: --sheet %s: with --format csv, one of "
		    "certificates, hsms, ca-keys, refusals, audit", sheet);
		return 0;
	}
	if (bom && strcmp(format, "csv") != 0) {
		log_warnx("report: --bom goes with --format csv");
		return 0;
	}
	return 1;
}

int
cmd_report(int argc, char **argv)
{
	struct opts o;
	struct db *db = NULL;
	json_t *rep = NULL;
	X509 *certs[MAX_CACERTS];
	char *buf = NULL;
	const char *dbpath, *format, *out, *asof, *sheet;
	struct report_opts ro;
	size_t nfiles, len = 0, i;
	char *end;
	long v;
	int first, bom, ret = EXIT_ERROR;

	memset(certs, 0, sizeof(certs));
	memset(&ro, 0, sizeof(ro));
	if (!sub_open(argc, argv, B(O_DB) | B(O_FORMAT) | B(O_ASOF) | B(O_OUT) |
	    B(O_CACERT) | B(O_HORIZON) | B(O_SHEET) | B(O_BOM) | B(O_ALGPOL) |
	    B(O_LANG), report_usage, OPERANDS_NONE, &o, &first, &ret)) {
		return ret;
	}
	ro.horizon_days = 365;
	if (o.horizon != NULL) {
		v = strtol(o.horizon, &end, 10);
		if (end == o.horizon || *end != '\0' || v < 0 || v > 36500) {
			log_warnx("report: --horizon %s: a number of days from 0 "
			    "to 36500", o.horizon);
			return EXIT_USAGE;
		}
		ro.horizon_days = (int)v;
	}
	if (o.lang != NULL && strcmp(o.lang, "ja") != 0 &&
	    strcmp(o.lang, "en") != 0) {
		log_warnx("report: --lang %s: use ja or en", o.lang);
		return EXIT_USAGE;
	}
	ro.lang = o.lang;
	if ((ro.alg_policies_dir = o.algpol) == NULL &&
	    (ro.alg_policies_dir = getenv("ESEAL_ALGORITHM_POLICIES")) == NULL) {
		ro.alg_policies_dir = ESEAL_ALGPOLDIR;
	}
	dbpath = o.db != NULL ? o.db : getenv("ESEAL_DB");
	format = o.format;
	out = o.out;
	asof = o.asof != NULL ? o.asof : "now";
	sheet = o.sheet;
	bom = o.bom;
	nfiles = o.ncacerts;
	if (dbpath == NULL) {
		log_warnx("report: --db is required");
		fputs(report_usage, stderr);
		return EXIT_USAGE;
	}
	if (format == NULL) {
		format = "html";
	}
	if (!output_valid(format, sheet, bom)) {
		return EXIT_USAGE;
	}
	if ((ro.lang = report_lang(ro.lang)) == NULL) {
		return EXIT_USAGE;
	}
	ro.audit_entries = strcmp(format, "xlsx") == 0 || (sheet != NULL &&
	    strcmp(sheet, "audit") == 0);
	if (!time_parse(asof, &ro.as_of, "--as-of")) {
		return EXIT_USAGE;
	}
	if (!read_certs(o.cacerts, nfiles, certs)) {
		goto out;
	}
	if ((db = db_open(dbpath, DB_OPEN_READONLY, 2000)) == NULL) {
		goto out;
	}
	if ((rep = report_build(db, &ro, certs, nfiles)) == NULL) {
		goto out;
	}
	if (!render(rep, format, sheet, bom, &buf, &len)) {
		goto out;
	}
	if (out != NULL) {
		if (!file_write_atomic(out, buf, len, 0644)) {
			goto out;
		}
	} else if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
		log_warn("report: stdout");
		goto out;
	}
	ret = EXIT_OK;
out:
	for (i = 0; i < nfiles; i++) {
		X509_free(certs[i]);
	}
	free(buf);
	json_decref(rep);
	db_close(db);
	return ret;
}
