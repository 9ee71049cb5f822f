/*
 * "eseal-policy report": the compliance report.  The report is built once
 * as a JSON document from the store (HSM inventory with CMVP status as of
 * a date, CA keys and their provenance, issued certificates, refusals,
 * approvals, the audit chain check, CRL and OCSP freshness, certificates
 * under keys whose HSM is no longer Active) and then written as JSON, as
 * CSV (long format: section, item, field, value) or as one self-contained
 * HTML page with inline SVG charts.  Reads the store only.
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit.h"
#include "cmvp.h"
#include "db.h"
#include "log.h"
#include "policy.h"
#include "util.h"

#define MAX_CERTS 16

struct rep {
	struct db	*db;
	time_t		 as_of;
	char		 as_of_str[32];
};

static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

static json_t *
header(struct rep *r)
{
	json_t *h, *snaps;
	sqlite3_stmt *st;
	char now[32], *id, *mode;

	id = db_meta_get(r->db, "instance_id");
	mode = db_meta_get(r->db, "instance_mode");
	time_fmt(time(NULL), now, sizeof(now));
	snaps = json_array();
	if ((st = db_prepare(r->db, "SELECT snapshot_date, source, records,"
	    " local FROM cmvp_snapshots ORDER BY id")) != NULL) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_array_append_new(snaps, json_pack("{s:s,s:s,s:i,s:b}",
			    "snapshot_date", col(st, 0), "source", col(st, 1),
			    "records", sqlite3_column_int(st, 2), "local",
			    sqlite3_column_int(st, 3)));
		}
		sqlite3_finalize(st);
	}
	h = json_pack("{s:s,s:s,s:s,s:s,s:o}", "instance_id", id ? id : "",
	    "mode", mode ? mode : "production", "as_of", r->as_of_str,
	    "generated", now, "cmvp_snapshots", snaps);
	free(id);
	free(mode);
	return h;
}

/* Effective CMVP status of a token identity: fills number/status/since. */
static void
token_status(struct rep *r, const char *manuf, const char *model,
    const char *serial, const char *fw, json_t *o)
{
	struct cmvp_effective eff;
	struct cmvp_record rec;
	char number[32] = "";
	int found;

	found = cmvp_token_mapping(r->db, manuf, model, serial, fw, number,
	    sizeof(number));
	if (found != 1) {
		json_object_set_new(o, "cmvp_cert", json_string(""));
		json_object_set_new(o, "effective_status",
		    json_string("Unmapped"));
		return;
	}
	json_object_set_new(o, "cmvp_cert", json_string(number));
	if (cmvp_lookup(r->db, number, &rec) == 1) {
		json_object_set_new(o, "standard", json_string(rec.standard));
		json_object_set_new(o, "level", json_integer(rec.overall_level));
		json_object_set_new(o, "sunset", json_string(rec.sunset_date));
		json_object_set_new(o, "local_declaration",
		    json_boolean(rec.local));
	}
	if (cmvp_effective(r->db, number, r->as_of, &eff)) {
		json_object_set_new(o, "effective_status",
		    json_string(cmvp_status_name(eff.status)));
		json_object_set_new(o, "since", json_string(eff.since));
		json_object_set_new(o, "reason", json_string(eff.reason));
	}
}

static json_t *
hsm_inventory(struct rep *r)
{
	json_t *arr = json_array(), *o, *mechs, *warn;
	sqlite3_stmt *st, *cas;
	size_t i;
	int mldsa;

	st = db_prepare(r->db, "SELECT manufacturer, model, serial, label, fw,"
	    " hw, library, mechanisms, first_seen, last_seen FROM tokens"
	    " ORDER BY id");
	if (st == NULL) {
		return arr;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		mechs = json_loads(col(st, 7), 0, NULL);
		mldsa = 0;
		for (i = 0; mechs != NULL && i < json_array_size(mechs); i++) {
			const char *m = json_string_value(json_array_get(mechs, i));

			if (m != NULL && (strstr(m, "ML_DSA") != NULL ||
			    strcmp(m, "0x1c") == 0 || strcmp(m, "0x1d") == 0)) {
				mldsa = 1;
			}
		}
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:b,s:s,s:s}",
		    "manufacturer", col(st, 0), "model", col(st, 1),
		    "serial", col(st, 2), "label", col(st, 3),
		    "firmware", col(st, 4), "hardware", col(st, 5),
		    "library", col(st, 6), "mechanisms",
		    mechs != NULL ? (int)json_array_size(mechs) : 0,
		    "ml_dsa_ready", mldsa, "first_seen", col(st, 8),
		    "last_seen", col(st, 9));
		json_decref(mechs);
		token_status(r, col(st, 0), col(st, 1), col(st, 2), col(st, 4),
		    o);
		/* ES-HSM-02: sunset before the notAfter of a CA key it holds. */
		warn = json_array();
		cas = db_prepare(r->db, "SELECT name, not_after FROM cas WHERE"
		    " token_serial = ? AND token_model = ? AND key_destroyed IS"
		    " NULL");
		if (cas != NULL) {
			const char *sunset = json_string_value(
			    json_object_get(o, "sunset"));

			sqlite3_bind_text(cas, 1, col(st, 2), -1,
			    SQLITE_TRANSIENT);
			sqlite3_bind_text(cas, 2, col(st, 1), -1,
			    SQLITE_TRANSIENT);
			while (sqlite3_step(cas) == SQLITE_ROW) {
				char w[256];

				if (sunset == NULL || *sunset == '\0' ||
				    strncmp(sunset, col(cas, 1), 10) >= 0) {
					continue;
				}
				snprintf(w, sizeof(w), "ES-HSM-02: CMVP sunset %s "
				    "is before the notAfter %.10s of CA %s",
				    sunset, col(cas, 1), col(cas, 0));
				json_array_append_new(warn, json_string(w));
			}
			sqlite3_finalize(cas);
		}
		json_object_set_new(o, "warnings", warn);
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

static json_t *
ca_keys(struct rep *r)
{
	json_t *arr = json_array(), *o;
	sqlite3_stmt *st;

	st = db_prepare(r->db, "SELECT name, kind, status, subject, not_after,"
	    " key_alg, sig_alg, token_manufacturer, token_model, token_serial,"
	    " token_fw, key_id, prov_local, prov_always_sensitive,"
	    " prov_never_extractable, prov_extractable, cmvp_cert,"
	    " cmvp_status_at_gen, COALESCE(key_destroyed, ''), created"
	    " FROM cas ORDER BY id");
	if (st == NULL) {
		return arr;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:b,"
		    "s:b,s:s,s:s,s:s}",
		    "name", col(st, 0), "kind", col(st, 1), "status", col(st, 2),
		    "subject", col(st, 3), "not_after", col(st, 4),
		    "key_alg", col(st, 5), "sig_alg", col(st, 6),
		    "token_serial", col(st, 9), "key_id", col(st, 11),
		    "local", sqlite3_column_int(st, 12),
		    "always_sensitive", sqlite3_column_int(st, 13),
		    "never_extractable", sqlite3_column_int(st, 14),
		    "extractable", sqlite3_column_int(st, 15),
		    "cmvp_status_at_generation", col(st, 17),
		    "key_destroyed", col(st, 18), "created", col(st, 19));
		token_status(r, col(st, 7), col(st, 8), col(st, 9), col(st, 10),
		    o);
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

static void
count(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	json_object_set_new(obj, key, json_integer(v != NULL ?
	    json_integer_value(v) + 1 : 1));
}

/* "RSA-3072", "EC-prime256v1", ... for a certificate's subject key. */
static void
key_name(const unsigned char *der, int len, char *out, size_t outsz)
{
	const unsigned char *p = der;
	X509 *x;
	EVP_PKEY *pk;
	char curve[64];
	size_t clen;

	snprintf(out, outsz, "unknown");
	if ((x = d2i_X509(NULL, &p, len)) == NULL ||
	    (pk = X509_get0_pubkey(x)) == NULL) {
		X509_free(x);
		return;
	}
	if (EVP_PKEY_is_a(pk, "RSA")) {
		snprintf(out, outsz, "RSA-%d", EVP_PKEY_get_bits(pk));
	} else if (EVP_PKEY_is_a(pk, "EC") && EVP_PKEY_get_utf8_string_param(pk,
	    OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), &clen)) {
		snprintf(out, outsz, "EC-%.40s", curve);
	} else {
		snprintf(out, outsz, "%s", EVP_PKEY_get0_type_name(pk));
	}
	X509_free(x);
}

static json_t *
certificates(struct rep *r)
{
	json_t *byp = json_object(), *bya = json_object(), *bys = json_object();
	json_t *bym = json_object();
	sqlite3_stmt *st;
	char alg[64], month[8];
	int total = 0;

	st = db_prepare(r->db, "SELECT c.profile, c.not_after, c.der,"
	    " r.cert_id IS NOT NULL AND r.time <= ?1 FROM certificates c"
	    " LEFT JOIN revocations r ON r.cert_id = c.id ORDER BY c.id");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, r->as_of_str, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW) {
			total++;
			count(byp, col(st, 0));
			key_name(sqlite3_column_blob(st, 2),
			    sqlite3_column_bytes(st, 2), alg, sizeof(alg));
			count(bya, alg);
			if (sqlite3_column_int(st, 3)) {
				count(bys, "revoked");
			} else if (strcmp(col(st, 1), r->as_of_str) < 0) {
				count(bys, "expired");
			} else {
				count(bys, "good");
			}
			snprintf(month, sizeof(month), "%.7s", col(st, 1));
			count(bym, month);
		}
		sqlite3_finalize(st);
	}
	return json_pack("{s:i,s:o,s:o,s:o,s:o}", "total", total, "by_profile",
	    byp, "by_algorithm", bya, "by_status", bys, "by_expiry_month", bym);
}

/* The rule IDs (ES-...) named in text, as a JSON array. */
static json_t *
rule_ids(const char *text)
{
	json_t *arr = json_array();
	const char *p = text;
	char id[40];
	size_t n;

	while ((p = strstr(p, "ES-")) != NULL) {
		n = 3;
		while (p[n] != '\0' && (isupper((unsigned char)p[n]) ||
		    isdigit((unsigned char)p[n]) || p[n] == '-') && n < 39) {
			n++;
		}
		while (n > 3 && p[n - 1] == '-') {
			n--;
		}
		if (n > 3) {
			memcpy(id, p, n);
			id[n] = '\0';
			json_array_append_new(arr, json_string(id));
		}
		p += n;
	}
	return arr;
}

static json_t *
refusals(struct rep *r)
{
	json_t *reqs = json_array(), *aud = json_array();
	sqlite3_stmt *st;

	if ((st = db_prepare(r->db, "SELECT id, profile, submitter, submitted,"
	    " COALESCE(refusal, '') FROM requests WHERE status = 'refused'"
	    " ORDER BY submitted")) != NULL) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_array_append_new(reqs, json_pack(
			    "{s:s,s:s,s:s,s:s,s:s,s:o}", "request", col(st, 0),
			    "profile", col(st, 1), "submitter", col(st, 2),
			    "time", col(st, 3), "refusal", col(st, 4), "rules",
			    rule_ids(col(st, 4))));
		}
		sqlite3_finalize(st);
	}
	if ((st = db_prepare(r->db, "SELECT seq, time, operators, action,"
	    " object, result, detail FROM audit WHERE result LIKE 'refused%'"
	    " ORDER BY seq")) != NULL) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			char both[2048];

			snprintf(both, sizeof(both), "%s %s", col(st, 5),
			    col(st, 6));
			json_array_append_new(aud, json_pack(
			    "{s:I,s:s,s:s,s:s,s:s,s:s,s:o}", "seq",
			    (json_int_t)sqlite3_column_int64(st, 0), "time",
			    col(st, 1), "operators", col(st, 2), "action",
			    col(st, 3), "object", col(st, 4), "result",
			    col(st, 5), "rules", rule_ids(both)));
		}
		sqlite3_finalize(st);
	}
	return json_pack("{s:o,s:o}", "requests", reqs, "audit", aud);
}

static json_t *
approvals(struct rep *r)
{
	json_t *arr = json_array();
	sqlite3_stmt *st;

	if ((st = db_prepare(r->db, "SELECT a.kind, a.object, o.name,"
	    " a.decision, a.time FROM approvals a JOIN operators o ON"
	    " o.id = a.operator_id ORDER BY a.time, a.id")) != NULL) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_array_append_new(arr, json_pack(
			    "{s:s,s:s,s:s,s:s,s:s}", "kind", col(st, 0),
			    "object", col(st, 1), "operator", col(st, 2),
			    "decision", col(st, 3), "time", col(st, 4)));
		}
		sqlite3_finalize(st);
	}
	return arr;
}

static json_t *
audit_section(struct rep *r, char **files, size_t nfiles)
{
	struct audit_verify_result res;
	X509 *certs[MAX_CERTS];
	sqlite3_stmt *st;
	json_t *findings = json_array(), *o;
	char *buf = NULL, *line, *save = NULL;
	size_t n = 0, i, len = 0;
	FILE *mem;
	int intact;

	for (i = 0; i < nfiles && n < MAX_CERTS; i++) {
		X509 *x = NULL;
		BIO *bio = BIO_new_file(files[i], "r");

		if (bio != NULL) {
			x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
			BIO_free(bio);
		}
		if (x == NULL) {
			log_ssl("%s: cannot read certificate", files[i]);
			continue;
		}
		certs[n++] = x;
	}
	if (nfiles == 0 && (st = db_prepare(r->db, "SELECT cert_der FROM cas"
	    " WHERE cert_der IS NOT NULL")) != NULL) {
		while (sqlite3_step(st) == SQLITE_ROW && n < MAX_CERTS) {
			const unsigned char *p = sqlite3_column_blob(st, 0);
			X509 *x = d2i_X509(NULL, &p, sqlite3_column_bytes(st, 0));

			if (x != NULL) {
				certs[n++] = x;
			}
		}
		sqlite3_finalize(st);
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
	for (i = 0; i < n; i++) {
		X509_free(certs[i]);
	}
	o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:i,s:i,s:o}", "result",
	    intact ? "intact" : "TAMPERED", "checked_with", nfiles > 0 ?
	    "the CA certificates given (independent check)" :
	    "store copies: not an independent check", "entries",
	    (json_int_t)res.entries, "signed_heads", (json_int_t)res.signatures,
	    "last_signed_seq", (json_int_t)res.last_signed_seq,
	    "unsigned_tail", res.unsigned_tail, "problems", res.problems,
	    "findings", findings);
	return o;
}

static json_t *
freshness(struct rep *r)
{
	json_t *crls = json_array();
	sqlite3_stmt *st;
	char *ocsp;

	if ((st = db_prepare(r->db, "SELECT c.name, l.number, l.kind,"
	    " COALESCE(l.partition, 0), l.this_update, l.next_update FROM crls l"
	    " JOIN cas c ON c.id = l.ca_id WHERE l.number = (SELECT MAX(number)"
	    " FROM crls m WHERE m.ca_id = l.ca_id AND m.kind = l.kind AND"
	    " m.partition IS l.partition) ORDER BY c.name, l.kind")) != NULL) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_array_append_new(crls, json_pack(
			    "{s:s,s:I,s:s,s:i,s:s,s:s,s:b}", "ca", col(st, 0),
			    "number", (json_int_t)sqlite3_column_int64(st, 1),
			    "kind", col(st, 2), "partition",
			    sqlite3_column_int(st, 3), "this_update", col(st, 4),
			    "next_update", col(st, 5), "stale",
			    strcmp(col(st, 5), r->as_of_str) < 0));
		}
		sqlite3_finalize(st);
	}
	ocsp = db_meta_get(r->db, "last_status_export");
	return json_pack("{s:o,s:s}", "crls", crls, "ocsp_status_export",
	    ocsp != NULL ? ocsp : "no status export recorded");
}

static json_t *
at_risk(struct rep *r, json_t *keys)
{
	json_t *arr = json_array(), *k;
	sqlite3_stmt *st;
	size_t i;

	json_array_foreach(keys, i, k) {
		const char *s = json_string_value(json_object_get(k,
		    "effective_status"));

		if (s == NULL || (strcmp(s, "Historical") != 0 &&
		    strcmp(s, "Revoked") != 0)) {
			continue;
		}
		if ((st = db_prepare(r->db, "SELECT c.serial, c.subject,"
		    " c.profile, c.issued FROM certificates c JOIN cas a ON"
		    " a.id = c.ca_id WHERE a.name = ? ORDER BY c.id")) == NULL) {
			continue;
		}
		sqlite3_bind_text(st, 1, json_string_value(json_object_get(k,
		    "name")), -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_array_append_new(arr, json_pack(
			    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "serial", col(st, 0),
			    "subject", col(st, 1), "profile", col(st, 2),
			    "issued", col(st, 3), "ca", json_string_value(
			    json_object_get(k, "name")), "hsm_cmvp",
			    json_string_value(json_object_get(k, "cmvp_cert")),
			    "hsm_status", s));
		}
		sqlite3_finalize(st);
	}
	return arr;
}

/* ---- Output ---- */

static void
csv_field(FILE *fp, const char *s)
{
	if (strpbrk(s, ",\"\n\r") == NULL) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"') {
			fputc('"', fp);
		}
		fputc(*s, fp);
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
			if (*field != '\0') {
				snprintf(sub, sizeof(sub), "%s.%s", field, k);
			} else {
				snprintf(sub, sizeof(sub), "%s", k);
			}
			csv_walk(fp, section, item, sub, e);
		}
		return;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (json_is_object(e) || json_is_array(e)) {
				snprintf(sub, sizeof(sub), "%s%s%zu", item,
				    *item ? "/" : "", i + 1);
				csv_walk(fp, section, sub, field, e);
			} else {
				snprintf(sub, sizeof(sub), "%s[%zu]", field, i);
				csv_walk(fp, section, item, sub, e);
			}
		}
		return;
	}
	csv_field(fp, section);
	fputc(',', fp);
	csv_field(fp, item);
	fputc(',', fp);
	csv_field(fp, field);
	fputc(',', fp);
	if (json_is_string(v)) {
		csv_field(fp, json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		fputs(buf, fp);
	} else if (json_is_true(v)) {
		fputs("true", fp);
	} else if (json_is_false(v)) {
		fputs("false", fp);
	}
	fputc('\n', fp);
}

static void
html_esc(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\'':
			fputs("&#39;", fp);
			break;
		default:
			fputc(*s, fp);
		}
	}
}

static void
html_value(FILE *fp, json_t *v)
{
	char buf[64];
	json_t *e;
	size_t i;

	if (json_is_string(v)) {
		html_esc(fp, json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		fputs(buf, fp);
	} else if (json_is_boolean(v)) {
		fputs(json_is_true(v) ? "yes" : "no", fp);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (i > 0) {
				fputs("<br>", fp);
			}
			html_value(fp, e);
		}
	}
}

/* A table of an array of flat objects (columns from the first row). */
static void
html_table(FILE *fp, json_t *arr, const char *empty)
{
	json_t *first, *row, *v;
	const char *k;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		fprintf(fp, "<p class=\"none\">%s</p>\n", empty);
		return;
	}
	first = json_array_get(arr, 0);
	fputs("<table><tr>", fp);
	json_object_foreach(first, k, v) {
		fputs("<th>", fp);
		html_esc(fp, k);
		fputs("</th>", fp);
	}
	fputs("</tr>\n", fp);
	json_array_foreach(arr, i, row) {
		fputs("<tr>", fp);
		json_object_foreach(first, k, v) {
			fputs("<td>", fp);
			html_value(fp, json_object_get(row, k));
			fputs("</td>", fp);
		}
		fputs("</tr>\n", fp);
	}
	fputs("</table>\n", fp);
}

/* An inline SVG bar chart of an object of counts. */
static void
html_bars(FILE *fp, const char *title, json_t *counts)
{
	const char *k;
	json_t *v;
	json_int_t max = 1;
	size_t n = json_object_size(counts), i = 0;
	int h = 24 * (int)(n > 0 ? n : 1) + 30;

	json_object_foreach(counts, k, v) {
		if (json_integer_value(v) > max) {
			max = json_integer_value(v);
		}
	}
	fprintf(fp, "<figure><svg class=\"chart\" xmlns=\"http://www.w3.org/2000/"
	    "svg\" width=\"640\" height=\"%d\" role=\"img\" aria-label=\"", h);
	html_esc(fp, title);
	fputs("\"><text x=\"0\" y=\"16\" class=\"t\">", fp);
	html_esc(fp, title);
	fputs("</text>\n", fp);
	json_object_foreach(counts, k, v) {
		int w = (int)(360 * json_integer_value(v) / max);
		int y = 26 + 24 * (int)i;

		fprintf(fp, "<text x=\"0\" y=\"%d\">", y + 14);
		html_esc(fp, k);
		fprintf(fp, "</text><rect x=\"200\" y=\"%d\" width=\"%d\" "
		    "height=\"18\" class=\"bar\"/><text x=\"%d\" y=\"%d\">%"
		    JSON_INTEGER_FORMAT "</text>\n", y, w > 1 ? w : 1,
		    205 + (w > 1 ? w : 1), y + 14, json_integer_value(v));
		i++;
	}
	fputs("</svg></figure>\n", fp);
}

static void
html_report(FILE *fp, json_t *rep)
{
	json_t *h = json_object_get(rep, "header");
	json_t *certs = json_object_get(rep, "certificates");
	json_t *inv = json_object_get(rep, "hsm_inventory"), *t, *statuses;
	json_t *au = json_object_get(rep, "audit");
	json_t *fr = json_object_get(rep, "freshness");
	json_t *rf = json_object_get(rep, "refusals");
	size_t i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>eseal compliance report</title>\n<style>\n"
	    "body{font-family:sans-serif;margin:2em;color:#111;max-width:72em}\n"
	    "h1{font-size:1.6em}h2{border-bottom:1px solid #999;margin-top:1.6em}\n"
	    "table{border-collapse:collapse;font-size:.85em;margin:.5em 0}\n"
	    "th,td{border:1px solid #bbb;padding:.2em .4em;text-align:left;"
	    "vertical-align:top;overflow-wrap:anywhere}\nth{background:#eee}\n"
	    ".bar{fill:#2b6cb0}.chart text{font-size:12px}.t{font-weight:bold}\n"
	    ".none{color:#555;font-style:italic}.bad{color:#b00;font-weight:bold}\n"
	    "@media print{body{margin:0}h2{page-break-after:avoid}"
	    "table,figure{page-break-inside:avoid}}\n</style></head><body>\n",
	    fp);
	fputs("<h1>eseal compliance report</h1>\n<table>", fp);
	fputs("<tr><th>instance</th><td>", fp);
	html_value(fp, json_object_get(h, "instance_id"));
	fputs(" (", fp);
	html_value(fp, json_object_get(h, "mode"));
	fputs(")</td></tr><tr><th>as of</th><td>", fp);
	html_value(fp, json_object_get(h, "as_of"));
	fputs("</td></tr><tr><th>generated</th><td>", fp);
	html_value(fp, json_object_get(h, "generated"));
	fputs("</td></tr></table>\n<h3>CMVP snapshots</h3>\n", fp);
	html_table(fp, json_object_get(h, "cmvp_snapshots"),
	    "No CMVP snapshot imported.");

	fputs("<h2 id=\"hsm\">HSM inventory</h2>\n", fp);
	html_table(fp, inv, "No HSM recorded.");
	statuses = json_object();
	json_array_foreach(inv, i, t) {
		count(statuses, json_string_value(json_object_get(t,
		    "effective_status")) ? json_string_value(json_object_get(t,
		    "effective_status")) : "?");
	}
	html_bars(fp, "HSMs by effective CMVP status", statuses);
	json_decref(statuses);

	fputs("<h2 id=\"keys\">CA keys</h2>\n", fp);
	html_table(fp, json_object_get(rep, "ca_keys"), "No CA key.");

	fputs("<h2 id=\"certs\">Issued certificates</h2>\n<p>Total: ", fp);
	html_value(fp, json_object_get(certs, "total"));
	fputs("</p>\n", fp);
	html_bars(fp, "By profile", json_object_get(certs, "by_profile"));
	html_bars(fp, "By status", json_object_get(certs, "by_status"));
	html_bars(fp, "By subject key algorithm", json_object_get(certs,
	    "by_algorithm"));
	html_bars(fp, "Expiries by month", json_object_get(certs,
	    "by_expiry_month"));

	fputs("<h2 id=\"risk\">Certificates under keys whose HSM is now "
	    "Historical or Revoked</h2>\n", fp);
	html_table(fp, json_object_get(rep, "at_risk"), "None.");

	fputs("<h2 id=\"refusals\">Refusals</h2>\n<h3>Refused requests</h3>\n",
	    fp);
	html_table(fp, json_object_get(rf, "requests"), "None.");
	fputs("<h3>Refusals in the audit chain</h3>\n", fp);
	html_table(fp, json_object_get(rf, "audit"), "None.");

	fputs("<h2 id=\"approvals\">Approvals</h2>\n", fp);
	html_table(fp, json_object_get(rep, "approvals"), "None.");

	fputs("<h2 id=\"audit\">Audit chain</h2>\n<p>", fp);
	if (strcmp(json_string_value(json_object_get(au, "result")),
	    "intact") != 0) {
		fputs("<span class=\"bad\">TAMPERED</span>", fp);
	} else {
		fputs("intact", fp);
	}
	fputs(": ", fp);
	html_value(fp, json_object_get(au, "entries"));
	fputs(" entries, ", fp);
	html_value(fp, json_object_get(au, "signed_heads"));
	fputs(" signed heads verified, ", fp);
	html_value(fp, json_object_get(au, "problems"));
	fputs(" problems; checked with ", fp);
	html_value(fp, json_object_get(au, "checked_with"));
	fputs(".</p>\n", fp);
	if (json_array_size(json_object_get(au, "findings")) > 0) {
		fputs("<p>", fp);
		html_value(fp, json_object_get(au, "findings"));
		fputs("</p>\n", fp);
	}

	fputs("<h2 id=\"freshness\">CRL and OCSP freshness</h2>\n", fp);
	html_table(fp, json_object_get(fr, "crls"), "No CRL signed yet.");
	fputs("<p>OCSP status export: ", fp);
	html_value(fp, json_object_get(fr, "ocsp_status_export"));
	fputs("</p>\n</body></html>\n", fp);
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: eseal-policy report --db DB [--format html|json|csv] "
	    "[--as-of DATE]\n"
	    "                           [--out FILE] [--ca-cert FILE...]\n"
	    "  The compliance report: HSM inventory with CMVP status as of DATE,\n"
	    "  CA keys and provenance, issued certificates, refusals, approvals,\n"
	    "  the audit chain check (independent with --ca-cert), CRL and OCSP\n"
	    "  freshness, certificates under keys whose HSM is no longer Active.\n"
	    "  See doc/report.md.\n");
}

int
cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "as-of", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "ca-cert", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct rep r;
	json_t *rep = NULL, *keys;
	char *files[MAX_CERTS], *buf = NULL;
	const char *dbpath = getenv("ESEAL_DB"), *format = "html", *out = NULL;
	const char *asof = "now";
	size_t nfiles = 0, len = 0;
	FILE *mem;
	int c, ret = EXIT_INPUT;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dbpath = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'a':
			asof = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'c':
			if (nfiles < MAX_CERTS) {
				files[nfiles++] = optarg;
			}
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (dbpath == NULL || optind != argc || (strcmp(format, "html") != 0 &&
	    strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	memset(&r, 0, sizeof(r));
	if (!time_parse(asof, &r.as_of, "--as-of")) {
		return EXIT_USAGE;
	}
	time_fmt(r.as_of, r.as_of_str, sizeof(r.as_of_str));
	if ((r.db = db_open(dbpath, DB_OPEN_READONLY, 2000)) == NULL) {
		return EXIT_INPUT;
	}
	keys = ca_keys(&r);
	rep = json_pack("{s:o,s:o,s:O,s:o,s:o,s:o,s:o,s:o,s:o}",
	    "header", header(&r), "hsm_inventory", hsm_inventory(&r),
	    "ca_keys", keys, "certificates", certificates(&r),
	    "refusals", refusals(&r), "approvals", approvals(&r),
	    "audit", audit_section(&r, files, nfiles),
	    "freshness", freshness(&r), "at_risk", at_risk(&r, keys));
	json_decref(keys);
	if ((mem = open_memstream(&buf, &len)) == NULL) {
		fatalx("out of memory");
	}
	if (strcmp(format, "json") == 0) {
		json_dumpf(rep, mem, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', mem);
	} else if (strcmp(format, "csv") == 0) {
		const char *k;
		json_t *v;

		fputs("section,item,field,value\n", mem);
		json_object_foreach(rep, k, v) {
			csv_walk(mem, k, "", "", v);
		}
	} else {
		html_report(mem, rep);
	}
	fclose(mem);
	if (out != NULL) {
		ret = file_write_atomic(out, buf, len, 0644) ? EXIT_OK :
		    EXIT_INPUT;
	} else {
		ret = fwrite(buf, 1, len, stdout) == len ? EXIT_OK : EXIT_INPUT;
	}
	free(buf);
	json_decref(rep);
	db_close(r.db);
	return ret;
}
