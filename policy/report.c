/*
 * "eseal-policy report": the compliance report of one store (issue 5).
 * The store is opened read-only and every section is collected into one
 * JSON document (header, HSM inventory, CA keys, certificate counts,
 * refusals, approvals, audit chain check, CRL/OCSP freshness, certificates
 * at risk); the JSON, CSV (one long table, doc/report.md) and HTML (one
 * self-contained file with inline SVG charts) outputs are renderings of
 * that document, written to stdout or atomically to --out.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit.h"
#include "cmvp.h"
#include "db.h"
#include "log.h"
#include "policy.h"
#include "util.h"

#define CERT_MAX	(1024 * 1024)
#define MAX_CA_CERTS	32
#define FIPS1402_SUNSET	"2026-09-21"
/* PKCS#11 3.2 mechanism numbers (only hsm/ includes the PKCS#11 headers). */
#define CKM_ML_DSA_KEY_PAIR_GEN	0x1cUL
#define CKM_ML_DSA		0x1dUL

enum fmt { FMT_HTML, FMT_JSON, FMT_CSV };

struct rctx {
	struct db	*db;
	time_t		 as_of;
	char		 as_of_s[21];
	X509		*certs[MAX_CA_CERTS];
	size_t		 ncerts;
	int		 certs_from_store;
};

static void
report_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: eseal-policy report [--db DB] [--format html|json|csv]\n"
	    "           [--as-of DATE] [--out FILE] [--ca-cert FILE]...\n"
	    "\n"
	    "  --db DB         the CA store (default $ESEAL_DB), opened read-only\n"
	    "  --format FMT    html (default), json or csv (doc/report.md)\n"
	    "  --as-of DATE    YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or now (default)\n"
	    "  --out FILE      write the report atomically to FILE (default stdout)\n"
	    "  --ca-cert FILE  CA certificate (PEM or DER) for the audit check;\n"
	    "                  without it the store's own copies are used\n"
	    "\n"
	    "Exit status: 0 report written, 2 usage, 3 store or input error.\n");
}

/* Append a string or JSON null; json_object_set_new steals the value. */
static void
set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v != NULL ? json_string(v) : json_null());
}

static void
set_col(json_t *o, const char *k, sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	if (sqlite3_column_type(st, col) == SQLITE_NULL || v == NULL) {
		json_object_set_new(o, k, json_null());
	} else if (sqlite3_column_type(st, col) == SQLITE_INTEGER) {
		json_object_set_new(o, k,
		    json_integer(sqlite3_column_int64(st, col)));
	} else {
		json_object_set_new(o, k, json_string((const char *)v));
	}
}

static const char *
col_s(sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	return v != NULL ? (const char *)v : "";
}

static void
count_inc(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	json_object_set_new(o, k,
	    json_integer(v != NULL ? json_integer_value(v) + 1 : 1));
}

/*
 * 1 if s (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, as the store writes times)
 * is before the report date; empty strings are not.
 */
static int
before_as_of(struct rctx *r, const char *s)
{
	char full[21];

	if (s == NULL || *s == '\0') {
		return 0;
	}
	if (strlen(s) == 10) {
		snprintf(full, sizeof(full), "%sT00:00:00Z", s);
		s = full;
	}
	return strcmp(s, r->as_of_s) < 0;
}

static int
step_rows_done(struct rctx *r, int rc, const char *what)
{
	if (rc != SQLITE_DONE) {
		db_log_error(r->db, what);
		return 0;
	}
	return 1;
}

/*
 * The effective CMVP state of a token identity as of the report date:
 * fills o with cmvp_cert, standard, level, effective status, since,
 * reason and sunset.  *st gets the status.  1/0 (logged).
 */
static int
cmvp_state(struct rctx *r, json_t *o, const char *manuf, const char *model,
    const char *serial, const char *fw, enum cmvp_status *st, char sunset[11])
{
	struct cmvp_record	 rec;
	struct cmvp_effective	 eff;
	char			 num[32];
	int			 m, l;

	*st = CMVP_UNKNOWN;
	sunset[0] = '\0';
	m = cmvp_token_mapping(r->db, manuf, model, serial, fw, num,
	    sizeof(num));
	if (m < 0) {
		return 0;
	}
	if (m == 0) {
		set_str(o, "cmvp_cert", NULL);
		set_str(o, "standard", NULL);
		json_object_set_new(o, "level", json_null());
		set_str(o, "effective_status", "unmapped");
		set_str(o, "since", NULL);
		set_str(o, "sunset", NULL);
		return 1;
	}
	set_str(o, "cmvp_cert", num);
	if ((l = cmvp_lookup(r->db, num, &rec)) < 0) {
		return 0;
	}
	if (!cmvp_effective(r->db, num, r->as_of, &eff)) {
		return 0;
	}
	*st = eff.status;
	set_str(o, "standard", l ? rec.standard : NULL);
	json_object_set_new(o, "level", l && rec.overall_level > 0 ?
	    json_integer(rec.overall_level) : json_null());
	set_str(o, "effective_status", cmvp_status_name(eff.status));
	set_str(o, "since", eff.since[0] != '\0' ? eff.since : NULL);
	if (l && rec.sunset_date[0] != '\0') {
		snprintf(sunset, 11, "%s", rec.sunset_date);
	} else if (l && strcmp(rec.standard, "FIPS 140-2") == 0) {
		snprintf(sunset, 11, "%s", FIPS1402_SUNSET);
	}
	set_str(o, "sunset", sunset[0] != '\0' ? sunset : NULL);
	return 1;
}

static json_t *
sec_header(struct rctx *r)
{
	json_t		*h, *snaps, *s;
	sqlite3_stmt	*st = NULL;
	char		*v, now[21];
	int		 rc;

	h = json_object();
	v = db_meta_get(r->db, "instance_id");
	set_str(h, "instance_id", v);
	free(v);
	v = db_meta_get(r->db, "instance_mode");
	set_str(h, "mode", v);
	free(v);
	set_str(h, "as_of", r->as_of_s);
	time_fmt(now_utc(), now, sizeof(now));
	set_str(h, "generated", now);
	set_str(h, "store", db_path(r->db));
	snaps = json_array();
	json_object_set_new(h, "cmvp_snapshots", snaps);
	if ((st = db_prepare(r->db, "SELECT snapshot_date, source, records,"
	    " local, imported FROM cmvp_snapshots ORDER BY snapshot_date, id"))
	    == NULL) {
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s = json_object();
		set_col(s, "snapshot_date", st, 0);
		set_col(s, "source", st, 1);
		set_col(s, "records", st, 2);
		json_object_set_new(s, "local",
		    json_boolean(sqlite3_column_int(st, 3)));
		set_col(s, "imported", st, 4);
		json_array_append_new(snaps, s);
	}
	if (!step_rows_done(r, rc, "reading CMVP snapshots")) {
		goto fail;
	}
	sqlite3_finalize(st);
	return h;
 fail:
	sqlite3_finalize(st);
	json_decref(h);
	return NULL;
}

/* Any mechanism named *ML_DSA* or with the PKCS#11 3.2 codes 0x1c/0x1d. */
static int
ml_dsa_ready(json_t *mechs)
{
	size_t		 i;
	json_t		*m;
	const char	*s;
	char		*end;
	unsigned long	 v;

	json_array_foreach(mechs, i, m) {
		if (!json_is_string(m)) {
			continue;
		}
		s = json_string_value(m);
		if (strstr(s, "ML_DSA") != NULL) {
			return 1;
		}
		/* Unnamed mechanisms are stored as "0x%lx". */
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
		    isxdigit((unsigned char)s[2])) {
			errno = 0;
			v = strtoul(s + 2, &end, 16);
			if (errno == 0 && *end == '\0' &&
			    (v == CKM_ML_DSA_KEY_PAIR_GEN || v == CKM_ML_DSA)) {
				return 1;
			}
		}
	}
	return 0;
}

static json_t *
sec_hsm(struct rctx *r)
{
	json_t		*arr, *o, *mechs, *warn;
	sqlite3_stmt	*st = NULL, *cs = NULL;
	enum cmvp_status es;
	char		 sunset[11], msg[512];
	int		 rc;

	arr = json_array();
	if ((st = db_prepare(r->db, "SELECT manufacturer, model, serial, label,"
	    " hw, fw, library, module_path, mechanisms, first_seen, last_seen"
	    " FROM tokens ORDER BY manufacturer, model, serial")) == NULL ||
	    (cs = db_prepare(r->db, "SELECT name, not_after FROM cas WHERE"
	    " token_manufacturer = ?1 AND token_model = ?2 AND"
	    " token_serial = ?3 AND cert_der IS NOT NULL ORDER BY name"))
	    == NULL) {
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		o = json_object();
		json_array_append_new(arr, o);
		set_col(o, "manufacturer", st, 0);
		set_col(o, "model", st, 1);
		set_col(o, "serial", st, 2);
		set_col(o, "label", st, 3);
		set_col(o, "hw", st, 4);
		set_col(o, "fw", st, 5);
		set_col(o, "library", st, 6);
		set_col(o, "module_path", st, 7);
		mechs = json_loads(col_s(st, 8), 0, NULL);
		if (!json_is_array(mechs)) {
			json_decref(mechs);
			mechs = json_array();
		}
		json_object_set_new(o, "mechanisms",
		    json_integer((json_int_t)json_array_size(mechs)));
		json_object_set_new(o, "ml_dsa_ready",
		    json_boolean(ml_dsa_ready(mechs)));
		json_decref(mechs);
		set_col(o, "first_seen", st, 9);
		set_col(o, "last_seen", st, 10);
		if (!cmvp_state(r, o, col_s(st, 0), col_s(st, 1), col_s(st, 2),
		    col_s(st, 5), &es, sunset)) {
			goto fail;
		}
		warn = json_array();
		json_object_set_new(o, "warnings", warn);
		if (sunset[0] == '\0') {
			continue;
		}
		sqlite3_reset(cs);
		sqlite3_bind_text(cs, 1, col_s(st, 0), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(cs, 2, col_s(st, 1), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(cs, 3, col_s(st, 2), -1, SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(cs)) == SQLITE_ROW) {
			if (strncmp(sunset, col_s(cs, 1), 10) < 0) {
				snprintf(msg, sizeof(msg), "ES-HSM-02: sunset "
				    "%s before the notAfter %s of CA %s",
				    sunset, col_s(cs, 1), col_s(cs, 0));
				json_array_append_new(warn, json_string(msg));
			}
		}
		if (!step_rows_done(r, rc, "reading CAs")) {
			goto fail;
		}
	}
	if (!step_rows_done(r, rc, "reading tokens")) {
		goto fail;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(cs);
	return arr;
 fail:
	sqlite3_finalize(st);
	sqlite3_finalize(cs);
	json_decref(arr);
	return NULL;
}

static json_t *
sec_ca_keys(struct rctx *r)
{
	json_t		*arr, *o;
	sqlite3_stmt	*st = NULL;
	enum cmvp_status es;
	char		 sunset[11];
	int		 rc;

	arr = json_array();
	if ((st = db_prepare(r->db, "SELECT c.name, c.kind, c.status,"
	    " c.subject, c.not_before, c.not_after, c.token_manufacturer,"
	    " c.token_model, c.token_serial, c.token_fw, c.key_alg, c.sig_alg,"
	    " c.key_label, c.prov_local, c.prov_always_sensitive,"
	    " c.prov_never_extractable, c.prov_extractable, c.cmvp_cert,"
	    " c.cmvp_status_at_gen, c.key_destroyed, p.name FROM cas c"
	    " LEFT JOIN cas p ON p.id = c.parent_id ORDER BY c.id")) == NULL) {
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		o = json_object();
		json_array_append_new(arr, o);
		set_col(o, "name", st, 0);
		set_col(o, "kind", st, 1);
		set_col(o, "status", st, 2);
		set_col(o, "subject", st, 3);
		set_col(o, "parent", st, 20);
		set_col(o, "not_before", st, 4);
		set_col(o, "not_after", st, 5);
		set_col(o, "token_manufacturer", st, 6);
		set_col(o, "token_model", st, 7);
		set_col(o, "token_serial", st, 8);
		set_col(o, "token_fw", st, 9);
		set_col(o, "key_alg", st, 10);
		set_col(o, "sig_alg", st, 11);
		set_col(o, "key_label", st, 12);
		json_object_set_new(o, "prov_local",
		    json_boolean(sqlite3_column_int(st, 13)));
		json_object_set_new(o, "prov_always_sensitive",
		    json_boolean(sqlite3_column_int(st, 14)));
		json_object_set_new(o, "prov_never_extractable",
		    json_boolean(sqlite3_column_int(st, 15)));
		json_object_set_new(o, "prov_extractable",
		    json_boolean(sqlite3_column_int(st, 16)));
		set_col(o, "cmvp_cert_at_gen", st, 17);
		set_col(o, "cmvp_status_at_gen", st, 18);
		set_col(o, "key_destroyed", st, 19);
		if (!cmvp_state(r, o, col_s(st, 6), col_s(st, 7), col_s(st, 8),
		    col_s(st, 9), &es, sunset)) {
			goto fail;
		}
		json_object_set_new(o, "hsm_at_risk",
		    json_boolean(es == CMVP_HISTORICAL || es == CMVP_REVOKED));
	}
	if (!step_rows_done(r, rc, "reading CAs")) {
		goto fail;
	}
	sqlite3_finalize(st);
	return arr;
 fail:
	sqlite3_finalize(st);
	json_decref(arr);
	return NULL;
}

/* "RSA-3072", "EC-P-256", "ED25519"... of a DER certificate's key. */
static void
key_alg_name(const unsigned char *der, int len, char *out, size_t outsz)
{
	const unsigned char	*p = der;
	X509			*x;
	EVP_PKEY		*pk;
	char			 grp[48];
	const char		*nist;
	int			 nid;

	snprintf(out, outsz, "unparsable");
	if ((x = d2i_X509(NULL, &p, len)) == NULL || p != der + len ||
	    (pk = X509_get0_pubkey(x)) == NULL) {
		X509_free(x);
		return;
	}
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		snprintf(out, outsz, "RSA-%d", EVP_PKEY_get_bits(pk));
		break;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(pk,
		    OSSL_PKEY_PARAM_GROUP_NAME, grp, sizeof(grp), NULL)) {
			snprintf(out, outsz, "EC-explicit");
			break;
		}
		nid = OBJ_txt2nid(grp);
		nist = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
		snprintf(out, outsz, "EC-%s", nist != NULL ? nist : grp);
		break;
	default:
		nid = EVP_PKEY_get_base_id(pk);
		snprintf(out, outsz, "%s", nid != NID_undef ?
		    OBJ_nid2sn(nid) : EVP_PKEY_get0_type_name(pk));
		break;
	}
	ERR_clear_error();
	X509_free(x);
}

static json_t *
sec_certificates(struct rctx *r)
{
	json_t		*o, *prof, *alg, *stat, *month;
	sqlite3_stmt	*st = NULL;
	char		 a[64], mo[8];
	const char	*na, *rt;
	json_int_t	 total = 0;
	int		 rc;

	o = json_object();
	prof = json_object();
	alg = json_object();
	stat = json_object();
	month = json_object();
	json_object_set_new(stat, "good", json_integer(0));
	json_object_set_new(stat, "revoked", json_integer(0));
	json_object_set_new(stat, "expired", json_integer(0));
	if ((st = db_prepare(r->db, "SELECT c.profile, c.der, c.not_after,"
	    " v.time FROM certificates c LEFT JOIN revocations v ON"
	    " v.cert_id = c.id ORDER BY c.id")) == NULL) {
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		total++;
		count_inc(prof, col_s(st, 0));
		key_alg_name(sqlite3_column_blob(st, 1),
		    sqlite3_column_bytes(st, 1), a, sizeof(a));
		count_inc(alg, a);
		na = col_s(st, 2);
		rt = sqlite3_column_type(st, 3) == SQLITE_NULL ? NULL :
		    col_s(st, 3);
		if (rt != NULL && (before_as_of(r, rt) ||
		    strcmp(rt, r->as_of_s) == 0)) {
			count_inc(stat, "revoked");
		} else if (before_as_of(r, na)) {
			count_inc(stat, "expired");
		} else {
			count_inc(stat, "good");
		}
		snprintf(mo, sizeof(mo), "%.7s", na);
		count_inc(month, mo);
	}
	if (!step_rows_done(r, rc, "reading certificates")) {
		goto fail;
	}
	sqlite3_finalize(st);
	json_object_set_new(o, "total", json_integer(total));
	json_object_set_new(o, "by_profile", prof);
	json_object_set_new(o, "by_key_algorithm", alg);
	json_object_set_new(o, "by_status", stat);
	json_object_set_new(o, "by_expiry_month", month);
	return o;
 fail:
	sqlite3_finalize(st);
	json_decref(o);
	json_decref(prof);
	json_decref(alg);
	json_decref(stat);
	json_decref(month);
	return NULL;
}

/* Rule IDs in s: ES-[A-Z]+(-[A-Z0-9]+)*, each once, in order. */
static json_t *
rule_ids(const char *s)
{
	json_t		*arr = json_array(), *v;
	const char	*p = s, *q;
	char		 id[64];
	size_t		 n, i;
	int		 dup;

	while ((p = strstr(p, "ES-")) != NULL) {
		if (p != s && (isalnum((unsigned char)p[-1]) || p[-1] == '-')) {
			p += 3;
			continue;
		}
		q = p + 3;
		if (!isupper((unsigned char)*q)) {
			p = q;
			continue;
		}
		while (isupper((unsigned char)*q)) {
			q++;
		}
		while (q[0] == '-' && (isupper((unsigned char)q[1]) ||
		    isdigit((unsigned char)q[1]))) {
			q++;
			while (isupper((unsigned char)*q) ||
			    isdigit((unsigned char)*q)) {
				q++;
			}
		}
		n = (size_t)(q - p);
		if (n < sizeof(id)) {
			memcpy(id, p, n);
			id[n] = '\0';
			dup = 0;
			json_array_foreach(arr, i, v) {
				if (strcmp(json_string_value(v), id) == 0) {
					dup = 1;
				}
			}
			if (!dup) {
				json_array_append_new(arr, json_string(id));
			}
		}
		p = q;
	}
	return arr;
}

static json_t *
sec_refusals(struct rctx *r)
{
	json_t		*o, *req, *aud, *e;
	sqlite3_stmt	*st = NULL;
	int		 rc;

	o = json_object();
	req = json_array();
	aud = json_array();
	json_object_set_new(o, "requests", req);
	json_object_set_new(o, "audit", aud);
	if ((st = db_prepare(r->db, "SELECT id, profile, submitter, submitted,"
	    " COALESCE(refusal, '') FROM requests WHERE status = 'refused'"
	    " ORDER BY submitted, id")) == NULL) {
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e = json_object();
		set_col(e, "id", st, 0);
		set_col(e, "profile", st, 1);
		set_col(e, "submitter", st, 2);
		set_col(e, "submitted", st, 3);
		set_col(e, "refusal", st, 4);
		json_object_set_new(e, "rules", rule_ids(col_s(st, 4)));
		json_array_append_new(req, e);
	}
	if (!step_rows_done(r, rc, "reading requests")) {
		goto fail;
	}
	sqlite3_finalize(st);
	if ((st = db_prepare(r->db, "SELECT seq, time, operators, action,"
	    " object, result, detail FROM audit WHERE result LIKE 'refused%'"
	    " ORDER BY seq")) == NULL) {
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *both;

		e = json_object();
		set_col(e, "seq", st, 0);
		set_col(e, "time", st, 1);
		set_col(e, "operators", st, 2);
		set_col(e, "action", st, 3);
		set_col(e, "object", st, 4);
		set_col(e, "result", st, 5);
		set_col(e, "detail", st, 6);
		if (asprintf(&both, "%s %s", col_s(st, 5), col_s(st, 6)) < 0) {
			fatalx("report: out of memory");
		}
		json_object_set_new(e, "rules", rule_ids(both));
		free(both);
		json_array_append_new(aud, e);
	}
	if (!step_rows_done(r, rc, "reading the audit log")) {
		goto fail;
	}
	sqlite3_finalize(st);
	return o;
 fail:
	sqlite3_finalize(st);
	json_decref(o);
	return NULL;
}

static json_t *
sec_approvals(struct rctx *r)
{
	json_t		*arr, *e;
	sqlite3_stmt	*st = NULL;
	int		 rc;

	arr = json_array();
	if ((st = db_prepare(r->db, "SELECT a.kind, a.object, o.name,"
	    " a.decision, a.time FROM approvals a LEFT JOIN operators o ON"
	    " o.id = a.operator_id ORDER BY a.time, a.id")) == NULL) {
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e = json_object();
		set_col(e, "kind", st, 0);
		set_col(e, "object", st, 1);
		set_col(e, "operator", st, 2);
		set_col(e, "decision", st, 3);
		set_col(e, "time", st, 4);
		json_array_append_new(arr, e);
	}
	if (!step_rows_done(r, rc, "reading approvals")) {
		goto fail;
	}
	sqlite3_finalize(st);
	return arr;
 fail:
	sqlite3_finalize(st);
	json_decref(arr);
	return NULL;
}

/* The store's CA certificates, when none was given.  1/0 (logged). */
static int
store_ca_certs(struct rctx *r)
{
	sqlite3_stmt		*st;
	const unsigned char	*p, *der;
	X509			*x;
	int			 rc, len;

	if ((st = db_prepare(r->db, "SELECT cert_der FROM cas WHERE cert_der"
	    " IS NOT NULL ORDER BY id")) == NULL) {
		return 0;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    r->ncerts < MAX_CA_CERTS) {
		der = p = sqlite3_column_blob(st, 0);
		len = sqlite3_column_bytes(st, 0);
		if ((x = d2i_X509(NULL, &p, len)) == NULL || p != der + len) {
			X509_free(x);
			ERR_clear_error();
			continue;
		}
		r->certs[r->ncerts++] = x;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_log_error(r->db, "reading CA certificates");
		return 0;
	}
	r->certs_from_store = 1;
	return 1;
}

static json_t *
sec_audit(struct rctx *r)
{
	struct audit_verify_result	 res;
	json_t				*o, *lines;
	FILE				*mf;
	char				*buf = NULL, *line, *save;
	size_t				 blen = 0;
	int				 okv;

	if (r->ncerts == 0 && !store_ca_certs(r)) {
		return NULL;
	}
	if ((mf = open_memstream(&buf, &blen)) == NULL) {
		fatalx("report: out of memory");
	}
	memset(&res, 0, sizeof(res));
	okv = audit_verify(r->db, r->certs, r->ncerts, mf, &res);
	fclose(mf);
	o = json_object();
	set_str(o, "certificates", r->certs_from_store ?
	    "store copies: not an independent check" : "given with --ca-cert");
	json_object_set_new(o, "ca_certificates",
	    json_integer((json_int_t)r->ncerts));
	json_object_set_new(o, "intact", json_boolean(okv));
	json_object_set_new(o, "entries", json_integer(res.entries));
	json_object_set_new(o, "signed_heads", json_integer(res.signatures));
	json_object_set_new(o, "last_signed_seq",
	    json_integer(res.last_signed_seq));
	json_object_set_new(o, "unsigned_tail",
	    json_integer(res.unsigned_tail));
	json_object_set_new(o, "problems", json_integer(res.problems));
	lines = json_array();
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		json_array_append_new(lines, json_string(line));
	}
	json_object_set_new(o, "findings", lines);
	free(buf);
	return o;
}

static json_t *
sec_freshness(struct rctx *r)
{
	json_t		*o, *arr, *e, *ocsp;
	sqlite3_stmt	*st = NULL;
	char		*v;
	int		 rc;

	o = json_object();
	arr = json_array();
	json_object_set_new(o, "crls", arr);
	if ((st = db_prepare(r->db, "SELECT c.name, l.number, l.kind,"
	    " l.this_update, l.next_update FROM cas c LEFT JOIN crls l ON"
	    " l.id = (SELECT id FROM crls WHERE ca_id = c.id AND kind <> 'delta'"
	    " ORDER BY number DESC LIMIT 1) ORDER BY c.id")) == NULL) {
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e = json_object();
		set_col(e, "ca", st, 0);
		set_col(e, "number", st, 1);
		set_col(e, "kind", st, 2);
		set_col(e, "this_update", st, 3);
		set_col(e, "next_update", st, 4);
		if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
			set_str(e, "state", "no CRL");
		} else {
			set_str(e, "state", before_as_of(r, col_s(st, 4)) ?
			    "stale" : "fresh");
		}
		json_array_append_new(arr, e);
	}
	if (!step_rows_done(r, rc, "reading CRLs")) {
		goto fail;
	}
	sqlite3_finalize(st);
	ocsp = json_object();
	v = db_meta_get(r->db, "last_status_export");
	set_str(ocsp, "last_status_export", v != NULL ? v :
	    "no status export recorded");
	json_object_set_new(ocsp, "recorded", json_boolean(v != NULL));
	free(v);
	json_object_set_new(o, "ocsp", ocsp);
	return o;
 fail:
	sqlite3_finalize(st);
	json_decref(o);
	return NULL;
}

/* Certificates (and subordinate CAs) signed by keys on a Historical/Revoked HSM. */
static json_t *
sec_at_risk(struct rctx *r, json_t *cas)
{
	json_t		*arr, *ca, *e, *sub;
	sqlite3_stmt	*st = NULL;
	size_t		 i, j;
	const char	*na, *rt;
	int		 rc;

	arr = json_array();
	if ((st = db_prepare(r->db, "SELECT c.serial, c.subject, c.profile,"
	    " c.not_after, v.time FROM certificates c JOIN cas a ON"
	    " a.id = c.ca_id LEFT JOIN revocations v ON v.cert_id = c.id"
	    " WHERE a.name = ?1 ORDER BY c.id")) == NULL) {
		goto fail;
	}
	json_array_foreach(cas, i, ca) {
		if (!json_is_true(json_object_get(ca, "hsm_at_risk"))) {
			continue;
		}
		json_array_foreach(cas, j, sub) {
			if (!json_equal(json_object_get(sub, "parent"),
			    json_object_get(ca, "name"))) {
				continue;
			}
			e = json_object();
			set_str(e, "type", "ca");
			json_object_set(e, "serial", json_null());
			json_object_set(e, "subject",
			    json_object_get(sub, "subject"));
			set_str(e, "profile", NULL);
			json_object_set(e, "not_after",
			    json_object_get(sub, "not_after"));
			json_object_set(e, "certificate_status",
			    json_object_get(sub, "status"));
			json_object_set(e, "ca", json_object_get(ca, "name"));
			json_object_set(e, "cmvp_cert",
			    json_object_get(ca, "cmvp_cert"));
			json_object_set(e, "hsm_status",
			    json_object_get(ca, "effective_status"));
			json_object_set(e, "since", json_object_get(ca, "since"));
			json_array_append_new(arr, e);
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, json_string_value(json_object_get(ca,
		    "name")), -1, SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			e = json_object();
			set_str(e, "type", "certificate");
			set_col(e, "serial", st, 0);
			set_col(e, "subject", st, 1);
			set_col(e, "profile", st, 2);
			set_col(e, "not_after", st, 3);
			na = col_s(st, 3);
			rt = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL :
			    col_s(st, 4);
			set_str(e, "certificate_status", rt != NULL &&
			    (before_as_of(r, rt) || strcmp(rt, r->as_of_s) == 0)
			    ? "revoked" : before_as_of(r, na) ? "expired" :
			    "good");
			json_object_set(e, "ca", json_object_get(ca, "name"));
			json_object_set(e, "cmvp_cert",
			    json_object_get(ca, "cmvp_cert"));
			json_object_set(e, "hsm_status",
			    json_object_get(ca, "effective_status"));
			json_object_set(e, "since", json_object_get(ca, "since"));
			json_array_append_new(arr, e);
		}
		if (!step_rows_done(r, rc, "reading certificates")) {
			goto fail;
		}
	}
	sqlite3_finalize(st);
	return arr;
 fail:
	sqlite3_finalize(st);
	json_decref(arr);
	return NULL;
}

/* The whole report as JSON; NULL after logging. */
static json_t *
report_build(struct rctx *r)
{
	json_t	*rep, *v, *cas;

	rep = json_object();
	if ((v = sec_header(r)) == NULL) {
		goto fail;
	}
	json_object_set_new(rep, "header", v);
	if ((v = sec_hsm(r)) == NULL) {
		goto fail;
	}
	json_object_set_new(rep, "hsm_inventory", v);
	if ((cas = sec_ca_keys(r)) == NULL) {
		goto fail;
	}
	json_object_set_new(rep, "ca_keys", cas);
	if ((v = sec_certificates(r)) == NULL) {
		goto fail;
	}
	json_object_set_new(rep, "certificates", v);
	if ((v = sec_refusals(r)) == NULL) {
		goto fail;
	}
	json_object_set_new(rep, "refusals", v);
	if ((v = sec_approvals(r)) == NULL) {
		goto fail;
	}
	json_object_set_new(rep, "approvals", v);
	if ((v = sec_audit(r)) == NULL) {
		goto fail;
	}
	json_object_set_new(rep, "audit", v);
	if ((v = sec_freshness(r)) == NULL) {
		goto fail;
	}
	json_object_set_new(rep, "freshness", v);
	if ((v = sec_at_risk(r, cas)) == NULL) {
		goto fail;
	}
	json_object_set_new(rep, "at_risk", v);
	return rep;
 fail:
	json_decref(rep);
	return NULL;
}

/* ---- rendering ---- */

/* A scalar as text: strings as is, arrays of scalars joined by "; ". */
static char *
scalar_text(json_t *v)
{
	char	*s = NULL, *t;
	size_t	 i;
	json_t	*e;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = strdup(json_string_value(v));
		break;
	case JSON_INTEGER:
		if (asprintf(&s, "%lld", (long long)json_integer_value(v)) < 0) {
			s = NULL;
		}
		break;
	case JSON_REAL:
		if (asprintf(&s, "%g", json_real_value(v)) < 0) {
			s = NULL;
		}
		break;
	case JSON_TRUE:
		s = strdup("yes");
		break;
	case JSON_FALSE:
		s = strdup("no");
		break;
	case JSON_NULL:
		s = strdup("");
		break;
	case JSON_ARRAY:
		s = strdup("");
		json_array_foreach(v, i, e) {
			char *x = scalar_text(e);

			if (asprintf(&t, "%s%s%s", s, i > 0 ? "; " : "", x) < 0) {
				fatalx("report: out of memory");
			}
			free(x);
			free(s);
			s = t;
		}
		break;
	case JSON_OBJECT:
		s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		break;
	}
	if (s == NULL) {
		fatalx("report: out of memory");
	}
	return s;
}

static void
csv_field(FILE *fp, const char *s)
{
	const char *p;

	/* Spreadsheet formula injection: a leading =,+,-,@ is quoted off. */
	if (s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL) {
		fputs("\"'", fp);
	} else if (strpbrk(s, ",\"\r\n") != NULL) {
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

static void
csv_row(FILE *fp, const char *sec, const char *item, const char *field,
    json_t *v)
{
	char *s = scalar_text(v);

	csv_field(fp, sec);
	fputc(',', fp);
	csv_field(fp, item);
	fputc(',', fp);
	csv_field(fp, field);
	fputc(',', fp);
	csv_field(fp, s);
	fputs("\r\n", fp);
	free(s);
}

static int
is_object_array(json_t *v)
{
	return json_is_array(v) && json_array_size(v) > 0 &&
	    json_is_object(json_array_get(v, 0));
}

/*
 * One object's members: scalars are rows of item; member objects and
 * arrays of objects become items "NAME" and "NAME/N".
 */
static void
csv_object(FILE *fp, const char *sec, const char *item, json_t *o)
{
	const char	*k;
	json_t		*v, *e;
	size_t		 i;
	char		*sub;

	json_object_foreach(o, k, v) {
		if (json_is_object(v)) {
			if (asprintf(&sub, "%s%s%s", item, *item ? "/" : "",
			    k) < 0) {
				fatalx("report: out of memory");
			}
			csv_object(fp, sec, sub, v);
			free(sub);
		} else if (is_object_array(v)) {
			json_array_foreach(v, i, e) {
				if (asprintf(&sub, "%s%s%s/%zu", item,
				    *item ? "/" : "", k, i + 1) < 0) {
					fatalx("report: out of memory");
				}
				csv_object(fp, sec, sub, e);
				free(sub);
			}
		} else {
			csv_row(fp, sec, item, k, v);
		}
	}
}

static void
render_csv(FILE *fp, json_t *rep)
{
	const char	*k;
	json_t		*v, *e;
	size_t		 i;
	char		 item[32];

	fputs("section,item,field,value\r\n", fp);
	json_object_foreach(rep, k, v) {
		if (json_is_array(v)) {
			json_array_foreach(v, i, e) {
				snprintf(item, sizeof(item), "%zu", i + 1);
				csv_object(fp, k, item, e);
			}
		} else {
			csv_object(fp, k, "", v);
		}
	}
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
			break;
		}
	}
}

static void
html_val(FILE *fp, json_t *v)
{
	char *s = scalar_text(v);

	if (json_is_null(v)) {
		fputs("&mdash;", fp);
	} else {
		html_esc(fp, s);
	}
	free(s);
}

/*
 * Wide records (HSMs, CA keys): one two-column table per element, headed
 * by its CA name or token serial, so that they fit a printed page.
 */
static void
html_cards(FILE *fp, json_t *arr)
{
	json_t		*e, *v;
	const char	*k;
	size_t		 i;

	json_array_foreach(arr, i, e) {
		fputs("<table class=\"kv card\">\n<caption>", fp);
		if ((v = json_object_get(e, "name")) != NULL) {
			fputs("CA ", fp);
		} else if ((v = json_object_get(e, "serial")) != NULL) {
			fputs("token ", fp);
		}
		if (v != NULL) {
			html_val(fp, v);
		}
		fputs("</caption>\n", fp);
		json_object_foreach(e, k, v) {
			fputs("<tr><th>", fp);
			html_esc(fp, k);
			fputs("</th><td>", fp);
			html_val(fp, v);
			fputs("</td></tr>\n", fp);
		}
		fputs("</table>\n", fp);
	}
}

/*
 * A table of an array of objects, columns from the first object; more
 * than WIDE_COLUMNS columns are shown as cards instead.
 */
#define WIDE_COLUMNS	10
static void
html_table(FILE *fp, json_t *arr, const char *empty)
{
	json_t		*first, *e, *v;
	const char	*k;
	size_t		 i;

	if (json_array_size(arr) == 0) {
		fprintf(fp, "<p class=\"none\">%s</p>\n", empty);
		return;
	}
	first = json_array_get(arr, 0);
	if (json_object_size(first) > WIDE_COLUMNS) {
		html_cards(fp, arr);
		return;
	}
	fputs("<table>\n<thead><tr>", fp);
	json_object_foreach(first, k, v) {
		fputs("<th>", fp);
		html_esc(fp, k);
		fputs("</th>", fp);
	}
	fputs("</tr></thead>\n<tbody>\n", fp);
	json_array_foreach(arr, i, e) {
		fputs("<tr>", fp);
		json_object_foreach(first, k, v) {
			fputs("<td>", fp);
			html_val(fp, json_object_get(e, k));
			fputs("</td>", fp);
		}
		fputs("</tr>\n", fp);
	}
	fputs("</tbody>\n</table>\n", fp);
}

/* A two-column table of an object's scalar members. */
static void
html_kv(FILE *fp, json_t *o)
{
	const char	*k;
	json_t		*v;

	fputs("<table class=\"kv\">\n", fp);
	json_object_foreach(o, k, v) {
		if (json_is_object(v) || is_object_array(v)) {
			continue;
		}
		fputs("<tr><th>", fp);
		html_esc(fp, k);
		fputs("</th><td>", fp);
		html_val(fp, v);
		fputs("</td></tr>\n", fp);
	}
	fputs("</table>\n", fp);
}

/* Horizontal bar chart of an object NAME -> count: one <rect> per bar. */
static void
html_chart(FILE *fp, const char *title, json_t *counts)
{
	const char	*k;
	json_t		*v;
	json_int_t	 max = 0;
	size_t		 n = json_object_size(counts);
	int		 y, w;

	fputs("<figure>\n<figcaption>", fp);
	html_esc(fp, title);
	fputs("</figcaption>\n", fp);
	if (n == 0) {
		fputs("<p class=\"none\">nothing to chart</p>\n</figure>\n", fp);
		return;
	}
	json_object_foreach(counts, k, v) {
		if (json_integer_value(v) > max) {
			max = json_integer_value(v);
		}
	}
	fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"520\" "
	    "height=\"%zu\" role=\"img\" aria-label=\"", n * 22 + 4);
	html_esc(fp, title);
	fputs("\">\n", fp);
	y = 2;
	json_object_foreach(counts, k, v) {
		w = max > 0 ? (int)(json_integer_value(v) * 280 / max) : 0;
		if (w < 1) {
			w = 1;
		}
		fprintf(fp, "<text x=\"176\" y=\"%d\" text-anchor=\"end\" "
		    "font-size=\"12\">", y + 14);
		html_esc(fp, k);
		fprintf(fp, "</text><rect class=\"bar\" x=\"182\" y=\"%d\" "
		    "width=\"%d\" height=\"18\"><title>", y, w);
		html_esc(fp, k);
		fprintf(fp, ": %lld</title></rect><text x=\"%d\" y=\"%d\" "
		    "font-size=\"12\">%lld</text>\n",
		    (long long)json_integer_value(v), 186 + w, y + 14,
		    (long long)json_integer_value(v));
		y += 22;
	}
	fputs("</svg>\n</figure>\n", fp);
}

static const char html_css[] =
    "body{font-family:sans-serif;margin:1.5em;color:#111}"
    "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #999;"
    "margin-top:1.6em}table{border-collapse:collapse;margin:.5em 0;"
    "font-size:.85em}th,td{border:1px solid #bbb;padding:2px 6px;"
    "text-align:left;vertical-align:top}th{background:#eee}"
    "td{overflow-wrap:anywhere}table.card{display:inline-table;"
    "margin:.5em 1em .5em 0;max-width:46em}caption{font-weight:bold;"
    "text-align:left}.note{color:#555}"
    ".bar{fill:#3a6ea5}.none{color:#666;font-style:italic}"
    ".warn{color:#a00;font-weight:bold}figure{display:inline-block;"
    "margin:.5em 1em .5em 0}figcaption{font-weight:bold;font-size:.9em}"
    "@media print{body{margin:0;font-size:10pt}h2{page-break-after:avoid}"
    "section{page-break-inside:auto}tr,figure{page-break-inside:avoid}"
    ".bar{fill:#000}th{background:#ddd}}";

static void
render_html(FILE *fp, json_t *rep)
{
	json_t		*h, *hsm, *cas, *c, *ref, *aud, *fr, *st, *e, *w;
	size_t		 i, j;
	const char	*s;

	h = json_object_get(rep, "header");
	hsm = json_object_get(rep, "hsm_inventory");
	cas = json_object_get(rep, "ca_keys");
	c = json_object_get(rep, "certificates");
	ref = json_object_get(rep, "refusals");
	aud = json_object_get(rep, "audit");
	fr = json_object_get(rep, "freshness");

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<title>eseal compliance report ", fp);
	html_val(fp, json_object_get(h, "as_of"));
	fprintf(fp, "</title>\n<style>%s</style>\n</head>\n<body>\n", html_css);

	fputs("<h1>eseal compliance report</h1>\n<section id=\"header\">\n"
	    "<h2>Instance</h2>\n", fp);
	html_kv(fp, h);
	fputs("<h3>CMVP snapshots</h3>\n", fp);
	html_table(fp, json_object_get(h, "cmvp_snapshots"),
	    "no CMVP snapshot imported");
	fputs("</section>\n", fp);

	fputs("<section id=\"hsm_inventory\">\n<h2>HSM inventory</h2>\n", fp);
	html_table(fp, hsm, "no token recorded");
	json_array_foreach(hsm, i, e) {
		json_array_foreach(json_object_get(e, "warnings"), j, w) {
			fputs("<p class=\"warn\">token ", fp);
			html_val(fp, json_object_get(e, "serial"));
			fputs(": ", fp);
			html_val(fp, w);
			fputs("</p>\n", fp);
		}
	}
	st = json_object();
	json_array_foreach(hsm, i, e) {
		s = json_string_value(json_object_get(e, "effective_status"));
		count_inc(st, s != NULL ? s : "unknown");
	}
	html_chart(fp, "Effective CMVP status of the HSMs", st);
	json_decref(st);
	fputs("</section>\n", fp);

	fputs("<section id=\"ca_keys\">\n<h2>CA keys</h2>\n", fp);
	html_table(fp, cas, "no CA");
	fputs("</section>\n", fp);

	fputs("<section id=\"certificates\">\n<h2>Certificates</h2>\n", fp);
	html_kv(fp, c);
	fputs("<h3>By profile</h3>\n", fp);
	html_kv(fp, json_object_get(c, "by_profile"));
	fputs("<h3>By status</h3>\n", fp);
	html_kv(fp, json_object_get(c, "by_status"));
	html_chart(fp, "Subject key algorithms",
	    json_object_get(c, "by_key_algorithm"));
	html_chart(fp, "Expiries by month",
	    json_object_get(c, "by_expiry_month"));
	fputs("</section>\n", fp);

	fputs("<section id=\"refusals\">\n<h2>Refusals</h2>\n"
	    "<h3>Refused requests</h3>\n", fp);
	html_table(fp, json_object_get(ref, "requests"), "no refused request");
	fputs("<h3>Refusals in the audit log</h3>\n", fp);
	html_table(fp, json_object_get(ref, "audit"), "no refusal recorded");
	fputs("</section>\n", fp);

	fputs("<section id=\"approvals\">\n<h2>Approvals</h2>\n", fp);
	html_table(fp, json_object_get(rep, "approvals"), "no approval");
	fputs("</section>\n", fp);

	fputs("<section id=\"audit\">\n<h2>Audit chain</h2>\n", fp);
	html_kv(fp, aud);
	json_array_foreach(json_object_get(aud, "findings"), i, w) {
		s = json_string_value(w);
		fprintf(fp, "<p class=\"%s\">", s != NULL &&
		    strncmp(s, "note:", 5) == 0 ? "note" : "warn");
		html_val(fp, w);
		fputs("</p>\n", fp);
	}
	fputs("</section>\n", fp);

	fputs("<section id=\"freshness\">\n<h2>CRL and OCSP freshness</h2>\n",
	    fp);
	html_table(fp, json_object_get(fr, "crls"), "no CA");
	html_kv(fp, json_object_get(fr, "ocsp"));
	fputs("</section>\n", fp);

	fputs("<section id=\"at_risk\">\n<h2>Certificates at risk</h2>\n", fp);
	html_table(fp, json_object_get(rep, "at_risk"),
	    "no certificate under a CA key on a Historical or Revoked HSM");
	fputs("</section>\n</body>\n</html>\n", fp);
}

static X509 *
ca_cert_load(const char *path)
{
	unsigned char		*buf = NULL;
	const unsigned char	*p;
	size_t			 len;
	BIO			*bio = NULL;
	X509			*x = NULL;

	if (!file_read(path, CERT_MAX, &buf, &len)) {
		return NULL;
	}
	if (len > 11 && memmem(buf, len, "-----BEGIN ", 11) != NULL) {
		if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
			fatalx("report: out of memory");
		}
		if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
			log_ssl("%s: not a PEM certificate", path);
		}
	} else {
		p = buf;
		if ((x = d2i_X509(NULL, &p, (long)len)) == NULL) {
			log_ssl("%s: not a DER or PEM certificate", path);
		} else if (p != buf + len) {
			log_warnx("%s: trailing data after the certificate",
			    path);
			X509_free(x);
			x = NULL;
		}
	}
	BIO_free(bio);
	free(buf);
	return x;
}

int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "as-of", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "ca-cert", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct rctx	 r;
	enum fmt	 fmt = FMT_HTML;
	const char	*dbpath = NULL, *out = NULL, *asof = "now";
	json_t		*rep = NULL;
	FILE		*mf = NULL;
	char		*buf = NULL, *js;
	size_t		 blen = 0, i;
	int		 ch, ret = EXIT_INPUT;

	memset(&r, 0, sizeof(r));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dbpath = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "html") == 0) {
				fmt = FMT_HTML;
			} else if (strcmp(optarg, "json") == 0) {
				fmt = FMT_JSON;
			} else if (strcmp(optarg, "csv") == 0) {
				fmt = FMT_CSV;
			} else {
				log_warnx("report: unknown format \"%s\" "
				    "(html, json, csv)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'a':
			asof = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'c':
			if (r.ncerts == MAX_CA_CERTS) {
				log_warnx("report: at most %d --ca-cert",
				    MAX_CA_CERTS);
				ret = EXIT_USAGE;
				goto out;
			}
			if ((r.certs[r.ncerts] = ca_cert_load(optarg)) == NULL) {
				goto out;
			}
			r.ncerts++;
			break;
		case 'h':
			report_usage(stdout);
			ret = EXIT_OK;
			goto out;
		default:
			log_warnx("report: unknown or incomplete option \"%s\"",
			    argv[optind - 1]);
			report_usage(stderr);
			ret = EXIT_USAGE;
			goto out;
		}
	}
	if (optind != argc) {
		log_warnx("report: unexpected argument \"%s\"", argv[optind]);
		ret = EXIT_USAGE;
		goto out;
	}
	if (!time_parse(asof, &r.as_of, "--as-of")) {
		ret = EXIT_USAGE;
		goto out;
	}
	time_fmt(r.as_of, r.as_of_s, sizeof(r.as_of_s));
	if (dbpath == NULL && (dbpath = getenv("ESEAL_DB")) == NULL) {
		log_warnx("report: no store given (use --db DB or set "
		    "ESEAL_DB)");
		ret = EXIT_USAGE;
		goto out;
	}
	if ((r.db = db_open(dbpath, DB_OPEN_READONLY, 0)) == NULL) {
		goto out;
	}
	if ((rep = report_build(&r)) == NULL) {
		goto out;
	}
	if ((mf = open_memstream(&buf, &blen)) == NULL) {
		fatalx("report: out of memory");
	}
	switch (fmt) {
	case FMT_JSON:
		if ((js = json_dumps(rep, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER)) == NULL) {
			fatalx("report: out of memory");
		}
		fputs(js, mf);
		fputc('\n', mf);
		free(js);
		break;
	case FMT_CSV:
		render_csv(mf, rep);
		break;
	case FMT_HTML:
		render_html(mf, rep);
		break;
	}
	if (fclose(mf) != 0) {
		mf = NULL;
		fatalx("report: out of memory");
	}
	mf = NULL;
	if (out != NULL) {
		if (!file_write_atomic(out, buf, blen, 0644)) {
			goto out;
		}
	} else if (fwrite(buf, 1, blen, stdout) != blen ||
	    fflush(stdout) != 0) {
		log_warn("report: writing to stdout");
		goto out;
	}
	ret = EXIT_OK;
 out:
	json_decref(rep);
	free(buf);
	for (i = 0; i < r.ncerts; i++) {
		X509_free(r.certs[i]);
	}
	db_close(r.db);
	return ret;
}
