/*
 * "eseal-ca request": e-seal certificate requests under dual control.  A
 * request (CSR, profile, subject details, subject HSM, issuing CA) is
 * checked at once against the algorithm policy and the profile's subject
 * rules; a failing request is stored as refused with every failed rule.
 * A pending request needs M approvals (meta "quorum") by officers or
 * operators other than its submitter, each bound to the request's content
 * hash: amending a request changes the hash and voids earlier approvals.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <uuid/uuid.h>

#include "i18n.h"
#include "args.h"
#include "attest.h"
#include "audit.h"
#include "ca.h"
#include "cmvp.h"
#include "eecert.h"
#include "lint.h"
#include "log.h"
#include "operators.h"
#include "profile.h"
#include "request.h"
#include "secret.h"
#include "util.h"

#define MAX_FAILS_TEXT	4096


void
request_hash(const unsigned char *csr, size_t csrlen, const char *profile,
    const char *details, const char *subject_hsm, const char *ca_name,
    char out[65])
{
	static const char tag[] = "eseal-request-v1";
	const void *parts[5];
	size_t lens[5], i, total = sizeof(tag), off = 0;
	unsigned char *buf;

	parts[0] = csr;
	lens[0] = csrlen;
	parts[1] = profile;
	parts[2] = details;
	parts[3] = subject_hsm != NULL ? subject_hsm : "";
	parts[4] = ca_name;
	for (i = 1; i < 5; i++) {
		lens[i] = strlen(parts[i]);
	}
	for (i = 0; i < 5; i++) {
		total += 4 + lens[i];
	}
	if ((buf = malloc(total)) == NULL) {
		fatalx("out of memory");
	}
	memcpy(buf, tag, sizeof(tag));
	off = sizeof(tag);
	for (i = 0; i < 5; i++) {
		buf[off++] = (unsigned char)(lens[i] >> 24);
		buf[off++] = (unsigned char)(lens[i] >> 16);
		buf[off++] = (unsigned char)(lens[i] >> 8);
		buf[off++] = (unsigned char)lens[i];
		memcpy(buf + off, parts[i], lens[i]);
		off += lens[i];
	}
	sha256_hex(buf, total, out);
	free(buf);
}

void
request_free(struct request *r)
{
	if (r == NULL) {
		return;
	}
	free(r->ca_name);
	free(r->csr_der);
	free(r->profile);
	free(r->details);
	json_decref(r->dj);
	free(r->subject_hsm);
	free(r->submitter);
	free(r->submitted);
	free(r->status);
	free(r->refusal);
	free(r);
}

struct request *
request_load(struct db *db, const char *id, int *why)
{
	struct request *r = NULL, *ret = NULL;
	sqlite3_stmt *st = NULL;
	char *pat = NULL;
	const void *blob;
	int rc;

	*why = EXIT_ERROR;
	if (strlen(id) < 8 || strlen(id) > 36 ||
	    strspn(id, "0123456789abcdef-") != strlen(id)) {
		log_warnx("request %s: not a request id (at least 8 characters "
		    "of the UUID)", id);
		*why = EXIT_USAGE;
		return NULL;
	}
	if (asprintf(&pat, "%s%%", id) == -1) {
		fatalx("out of memory");
	}
	/* A whole id (ids are lower case) is looked up by its index. */
	st = db_cached(db, strlen(id) == 36 ? "SELECT r.id, r.ca_id, c.name,"
	    " r.csr_der, r.profile, r.details, r.subject_hsm, r.content_hash,"
	    " r.submitter, r.submitted, r.status, r.refusal FROM requests r"
	    " JOIN cas c ON c.id = r.ca_id WHERE r.id = ? LIMIT 2" :
	    "SELECT r.id, r.ca_id, c.name, r.csr_der, r.profile,"
	    " r.details, r.subject_hsm, r.content_hash, r.submitter,"
	    " r.submitted, r.status, r.refusal FROM requests r"
	    " JOIN cas c ON c.id = r.ca_id WHERE r.id LIKE ? LIMIT 2");
	if (st == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, strlen(id) == 36 ? id : pat, -1,
	    SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE) {
			log_warnx("request %s: no such request", id);
			*why = EXIT_REFUSED;
		} else {
			db_log_error(db, "request lookup");
		}
		goto out;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		fatalx("out of memory");
	}
	snprintf(r->id, sizeof(r->id), "%s", sqlite3_column_text(st, 0));
	r->ca_id = sqlite3_column_int64(st, 1);
	r->ca_name = db_col_dup(st, 2);
	blob = sqlite3_column_blob(st, 3);
	r->csr_len = sqlite3_column_bytes(st, 3);
	if ((r->csr_der = malloc(r->csr_len + 1)) == NULL) {
		fatalx("out of memory");
	}
	memcpy(r->csr_der, blob, r->csr_len);
	r->profile = db_col_dup(st, 4);
	r->details = db_col_dup(st, 5);
	r->subject_hsm = db_col_dup(st, 6);
	snprintf(r->hash, sizeof(r->hash), "%s", sqlite3_column_text(st, 7));
	r->submitter = db_col_dup(st, 8);
	r->submitted = db_col_dup(st, 9);
	r->status = db_col_dup(st, 10);
	r->refusal = db_col_dup(st, 11);
	if (sqlite3_step(st) == SQLITE_ROW) {
		log_warnx("request %s: ambiguous id prefix (give more of it)",
		    id);
		*why = EXIT_USAGE;
		goto out;
	}
	if ((r->dj = json_loads(r->details, 0, NULL)) == NULL) {
		log_warnx("request %s: details unreadable", r->id);
		goto out;
	}
	ret = r;
	r = NULL;
	*why = EXIT_OK;
out:
	db_release(st);
	request_free(r);
	free(pat);
	return ret;
}

int
request_approvals(struct db *db, const struct request *r, char **names)
{
	sqlite3_stmt *st;
	char *list = NULL;
	size_t len = 0;
	int n = 0, rc;

	if (names != NULL) {
		*names = NULL;
	}
	st = db_cached(db, "SELECT o.name FROM approvals a JOIN operators o"
	    " ON o.id = a.operator_id WHERE a.kind = 'request' AND"
	    " a.object = ? AND a.content_hash = ? AND a.decision = 'approve'"
	    " AND o.name != ? AND o.role IN ('officer','operator') AND"
	    " o.disabled = 0 ORDER BY a.id");
	if (st == NULL) {
		return -1;
	}
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, r->hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, r->submitter, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *nm = (const char *)sqlite3_column_text(st, 0);

		if ((list = realloc(list, len + strlen(nm) + 2)) == NULL) {
			fatalx("out of memory");
		}
		snprintf(list + len, strlen(nm) + 2, "%s%s", n > 0 ? "," : "",
		    nm);
		len = strlen(list);
		n++;
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "approvals");
		n = -1;
	}
	db_release(st);
	if (names != NULL && n >= 0) {
		*names = list != NULL ? list : xstrdup("");
	} else {
		free(list);
	}
	return n;
}

/* The parameters of a request that its checks depend on. */
struct req_params {
	const char	*what;		/* CSR file name or "request ID" */
	const char	*profiles_dir;
	const char	*profile;
	int		 days;		/* 0: the profile's maximum */
	const char	*ku;		/* NULL: the profile's default */
	const char	*subject_hsm;
	const unsigned char *att_buf;	/* attestation bundle, or NULL */
	size_t		 att_len;
};

/* What decided the subject key's HSM, for the audit chain. */
struct hsm_decision {
	struct attest	 att;		/* the attestation's verification */
	enum attest_result att_result;
	struct cmvp_effective eff;	/* the CMVP number's status */
	char		 snapshot[11];	/* its record's snapshot date */
	int		 checked;	/* eff and snapshot are set */
};

/*
 * What request submit and amend evaluate: the parameters, the findings,
 * the HSM decision, and the details JSON and refusal text (malloc'd).
 */
struct req_eval {
	struct req_params	 rp;
	struct findings		 f;
	struct hsm_decision	 hd;
	char			*details, *refusal;
};

static void
req_eval_init(struct req_eval *e)
{
	memset(e, 0, sizeof(*e));
	findings_init(&e->f);
}

/* Free what e owns. */
static void
req_eval_clear(struct req_eval *e)
{
	findings_free(&e->f);
	attest_clear(&e->hd.att);
	free(e->details);
	free(e->refusal);
}

static void
subject_json_add(json_t *o, const X509_NAME *n, int nid, const char *key)
{
	unsigned char *u = NULL;
	int i, len;

	if ((i = X509_NAME_get_index_by_NID(n, nid, -1)) < 0) {
		return;
	}
	if ((len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(n, i)))) < 0) {
		ERR_clear_error();
		return;
	}
	json_object_set_new(o, key, json_stringn((const char *)u, (size_t)len));
	OPENSSL_free(u);
}

/*
 * Check a CSR for a request and build its details JSON.  Every failed
 * rule goes into f.  *details is malloc'd canonical JSON (even when
 * refused).  With an attestation bundle, hd->att says what it proved
 * (its CMVP number is the subject HSM) and the details carry the chain;
 * hd is cleared first and released by the caller (attest_clear).
 * Returns 1 when the checks ran (look at f->fails), 0 on an error
 * (logged).
 */
static int
request_evaluate(struct db *db, const struct ca_row *ca, X509_REQ *req,
    const struct req_params *rp, struct findings *f, char **details,
    struct hsm_decision *hd)
{
	struct profile *prof = NULL;
	struct cmvp_record rec;
	const char *hsm = rp->subject_hsm;
	const X509_ALGOR *alg = NULL;
	const ASN1_BIT_STRING *sig = NULL;
	EVP_PKEY *pub;
	json_t *d = NULL, *subj;
	enum ku_setting ku;
	time_t na;
	int days, ret = 0, capped;

	*details = NULL;
	memset(hd, 0, sizeof(*hd));
	if ((prof = profile_load(rp->profiles_dir, rp->profile)) == NULL) {
		findings_add(f, "ES-PROF-01", "eseal profiles", RULE_FAIL,
		    "profile \"%s\" cannot be loaded from %s", rp->profile,
		    profile_dir(rp->profiles_dir));
		if ((*details = strdup("{}")) == NULL) {
			fatalx("out of memory");
		}
		ret = 1;
		goto out;
	}
	days = rp->days > 0 ? rp->days : prof->max_days;
	if (days > prof->max_days) {
		findings_add(f, "ES-VAL-03", "eseal profiles", RULE_FAIL,
		    "validity of %d days exceeds profile %s's maximum of %d days",
		    days, prof->name, prof->max_days);
	}
	ku = prof->ku_default;
	if (rp->ku != NULL && !ku_setting_from_name(rp->ku, &ku)) {
		findings_add(f, "ES-KU-03", "EN 319 412-3 4.3.1", RULE_FAIL,
		    "key usage \"%s\": e-seals use setting A or B", rp->ku);
	} else if (ku == KU_B && !prof->ku_allow_b) {
		findings_add(f, "ES-KU-03", "EN 319 412-3 4.3.1", RULE_FAIL,
		    "profile %s allows key-usage setting A only", prof->name);
	}
	na = eecert_not_after(ca->cert, now_utc(), days, &capped);

	/* The CSR: self-signature, key and signature algorithm. */
	if ((pub = X509_REQ_get0_pubkey(req)) == NULL) {
		ERR_clear_error();
		findings_add(f, "ES-CSR-02", "RFC 2986", RULE_FAIL,
		    "the CSR's public key cannot be decoded");
	} else {
		if (X509_REQ_verify(req, pub) != 1) {
			ERR_clear_error();
			findings_add(f, "ES-CSR-01", "RFC 2986 4.2", RULE_FAIL,
			    "the CSR's self-signature does not verify (no proof "
			    "of possession)");
		}
		struct alg_policy *ap = ca_alg_policy(db);

		if (ap == NULL) {
			goto out;
		}
		alg_policy_check_key(ap, pub, KEY_USE_SUBJECT, na, f);
		X509_REQ_get0_signature(req, &sig, &alg);
		alg_policy_check_sigalg(ap, alg, pub, na, f);
		alg_policy_free(ap);
	}
	profile_check_subject(prof, X509_REQ_get_subject_name(req), f);

	/*
	 * The subject key's HSM (ES-HSM-04/05): named by its CMVP number or
	 * proved by an attestation chain to a configured vendor root, whose
	 * CMVP number then counts (ES-ATT-01..03).
	 */
	if (rp->att_buf != NULL) {
		hd->att_result = attest_verify(db, rp->att_buf, rp->att_len,
		    X509_REQ_get0_pubkey(req), &hd->att);
		if (hd->att_result == ATTEST_ERROR) {
			goto out;
		}
		if (hd->att_result == ATTEST_REFUSED) {
			findings_add(f, hd->att.rule, "eseal-rules 5.3",
			    RULE_FAIL, "%s", hd->att.reason);
		} else {
			hsm = hd->att.cmvp;
		}
	}
	if (hsm != NULL) {
		if (!cmvp_effective(db, hsm, now_utc(), &hd->eff) ||
		    cmvp_lookup(db, hsm, &rec) < 0) {
			goto out;
		}
		hd->checked = 1;
		snprintf(hd->snapshot, sizeof(hd->snapshot), "%s",
		    hd->eff.status != CMVP_UNKNOWN ? rec.snapshot_date : "");
		if (hd->eff.status != CMVP_ACTIVE) {
			findings_add(f, "ES-HSM-05", "eseal-rules 4.4", RULE_FAIL,
			    "subject key HSM CMVP #%s%s%s%s is %s%s%s%s%s", hsm,
			    rp->att_buf != NULL ? " (attested by vendor root " :
			    "", rp->att_buf != NULL ? hd->att.root : "",
			    rp->att_buf != NULL ? ")" : "",
			    cmvp_status_name(hd->eff.status),
			    hd->eff.since[0] != '\0' ? " since " : "",
			    hd->eff.since, hd->eff.reason[0] != '\0' ? ": " : "",
			    hd->eff.reason);
		}
	} else if (prof->require_subject_hsm && rp->att_buf == NULL) {
		findings_add(f, "ES-HSM-04", "eseal profiles", RULE_FAIL,
		    "profile %s requires the subject key's HSM (--subject-hsm "
		    "CMVP-NUMBER or --attestation FILE)", prof->name);
	}

	/* Details: what the certificate will say, in a fixed order. */
	if ((d = json_object()) == NULL || (subj = json_object()) == NULL) {
		fatalx("out of memory");
	}
	subject_json_add(subj, X509_REQ_get_subject_name(req), NID_countryName,
	    "C");
	subject_json_add(subj, X509_REQ_get_subject_name(req),
	    NID_organizationName, "O");
	subject_json_add(subj, X509_REQ_get_subject_name(req),
	    NID_organizationIdentifier, "organizationIdentifier");
	subject_json_add(subj, X509_REQ_get_subject_name(req), NID_commonName,
	    "CN");
	json_object_set_new(d, "subject", subj);
	json_object_set_new(d, "validity_days", json_integer(days));
	json_object_set_new(d, "key_usage", json_string(ku_setting_name(ku)));
	json_object_set_new(d, "profile_sha256", json_string(prof->sha256));
	if (rp->att_buf != NULL && hd->att.pem != NULL) {
		json_t *aj;

		if ((aj = json_object()) == NULL) {
			fatalx("out of memory");
		}
		if (hd->att_result == ATTEST_OK) {
			json_object_set_new(aj, "root", json_string(hd->att.root));
			json_object_set_new(aj, "root_sha256",
			    json_string(hd->att.root_sha256));
			json_object_set_new(aj, "cmvp", json_string(hd->att.cmvp));
		}
		json_object_set_new(aj, "chain", json_string(hd->att.pem));
		json_object_set_new(d, "attestation", aj);
	}
	if ((*details = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		fatalx("out of memory");
	}
	ret = 1;
out:
	json_decref(d);
	profile_free(prof);
	return ret;
}

/* Every FAIL of f as lines "what: ID: detail"; malloc'd. */
static char *
fails_text(const struct findings *f, const char *what)
{
	char *s;
	size_t i, len = 0;

	if ((s = calloc(1, MAX_FAILS_TEXT)) == NULL) {
		fatalx("out of memory");
	}
	for (i = 0; i < f->n; i++) {
		if (f->v[i].result != RULE_FAIL) {
			continue;
		}
		len += snprintf(s + len, len < MAX_FAILS_TEXT ?
		    MAX_FAILS_TEXT - len : 0, "%s%s: %s: %s", len > 0 ? "\n" : "",
		    what, f->v[i].id, f->v[i].detail);
		if (len >= MAX_FAILS_TEXT) {
			break;
		}
	}
	return s;
}

static int
sign_head(struct db *db, const char *pin)
{
	if (pin == NULL) {
		return 1;
	}
	return ca_audit_sign(db, NULL, pin);
}

/*
 * The audit detail of an HSM decision made from an attestation: the data
 * it used (vendor root, CMVP number, effective status, snapshot date).
 * Returns the result word ("ok" or "refused").
 */
static const char *
hsm_decision_text(const struct hsm_decision *hd, char *buf, size_t bufsz)
{
	if (hd->att_result != ATTEST_OK) {
		snprintf(buf, bufsz, "%s: %s", hd->att.rule, hd->att.reason);
		return "refused";
	}
	snprintf(buf, bufsz, "vendor root %s (sha256 %s) attests the CSR's "
	    "key; CMVP #%s effective status %s%s%s%s%s, snapshot %s",
	    hd->att.root, hd->att.root_sha256, hd->att.cmvp,
	    cmvp_status_name(hd->eff.status), hd->eff.since[0] != '\0' ?
	    " since " : "", hd->eff.since, hd->eff.reason[0] != '\0' ? ": " :
	    "", hd->eff.reason, hd->snapshot[0] != '\0' ? hd->snapshot :
	    "none");
	return hd->checked && hd->eff.status == CMVP_ACTIVE ? "ok" : "refused";
}

/*
 * --validity-days of command what (if given) into *days: a positive
 * decimal number.  1/0 (logged; a usage error).
 */
static int
days_arg(struct args *a, const char *what, int *days)
{
	const char *s;

	if ((s = args_get(a, "validity-days")) == NULL) {
		return 1;
	}
	*days = atoi(s);
	if (*days <= 0 || strspn(s, "0123456789") != strlen(s)) {
		log_warnx("%s: --validity-days must be a positive number of "
		    "days", what);
		return 0;
	}
	return 1;
}

/*
 * The request row of a submission, pending or refused (with its refusal
 * text), in the caller's transaction.  1/0 (logged).
 */
static int
request_insert(struct db *db, const char *id, int64_t ca_id,
    const unsigned char *der, int derlen, const char *profile,
    const char *details, const char *subject_hsm, const char *hash,
    const char *who, const char *now, const char *refusal)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "INSERT INTO requests (id, ca_id, csr_der, profile,"
	    " details, subject_hsm, content_hash, submitter, submitted, status,"
	    " refusal) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
	if (st == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, ca_id);
	sqlite3_bind_blob(st, 3, der, derlen, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, profile, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, details, -1, SQLITE_TRANSIENT);
	if (subject_hsm != NULL) {
		sqlite3_bind_text(st, 6, subject_hsm, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_text(st, 7, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, who, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, refusal != NULL ? "refused" : "pending", -1,
	    SQLITE_STATIC);
	if (refusal != NULL) {
		sqlite3_bind_text(st, 11, refusal, -1, SQLITE_TRANSIENT);
	}
	return db_step_done(db, st, "insert request");
}

/*
 * Open the store and load request id (a unique prefix) into *db and *r;
 * object, if not NULL, gets its audit object "request:ID".  EXIT_OK, else
 * the exit status (logged); what was opened is left in *db and *r for the
 * caller to free.
 */
static int
req_open(const char *id, struct db **db, struct request **r, char object[64])
{
	int why;

	if ((*db = ca_open_db()) == NULL) {
		return EXIT_ERROR;
	}
	if ((*r = request_load(*db, id, &why)) == NULL) {
		return why;
	}
	if (object != NULL) {
		snprintf(object, 64, "request:%s", (*r)->id);
	}
	return EXIT_OK;
}

/*
 * The attestation decision of a submission into the audit chain (in the
 * caller's transaction); an attestation never looked at (the profile was
 * unreadable) is recorded as refused under ES-PROF-01.  1/0.
 */
static int
audit_attestation(struct db *db, struct hsm_decision *hd, const char *who,
    const char *object, const char *hash)
{
	char text[1024];
	const char *result;

	if (hd->att.rule[0] == '\0' && !hd->checked) {
		/* The attestation was not looked at (profile unreadable). */
		snprintf(hd->att.rule, sizeof(hd->att.rule), "ES-PROF-01");
		snprintf(hd->att.reason, sizeof(hd->att.reason), "not checked: "
		    "the profile cannot be loaded");
		hd->att_result = ATTEST_REFUSED;
	}
	result = hsm_decision_text(hd, text, sizeof(text));
	return audit_append(db, who, "request-attestation", object, hash,
	    result, text);
}

static int
req_submit(struct args *a)
{
	struct req_eval e;
	struct db *db = NULL;
	struct ca_row *ca = NULL;
	X509_REQ *req = NULL;
	unsigned char *der = NULL, *att = NULL;
	char *who = NULL;
	char id[37], hash[65], now[32], object[64];
	const char *csr_path, *att_path, *subject_hsm;
	int64_t op_id;
	uuid_t uu;
	int derlen = 0, ret = EXIT_ERROR;

	req_eval_init(&e);
	if (a->npos != 2 || !args_need(a, "profile", "request submit") ||
	    !args_need(a, "ca", "request submit") ||
	    !args_need(a, "submitter", "request submit")) {
		return EXIT_USAGE;
	}
	csr_path = a->pos[1];
	att_path = args_get(a, "attestation");
	if (att_path != NULL && args_get(a, "subject-hsm") != NULL) {
		log_warnx("request submit: --subject-hsm and --attestation "
		    "exclude each other (an attestation names the HSM)");
		return EXIT_USAGE;
	}
	e.rp.what = csr_path;
	e.rp.profiles_dir = args_get(a, "profiles");
	e.rp.profile = args_get(a, "profile");
	e.rp.ku = args_get(a, "key-usage");
	e.rp.subject_hsm = args_get(a, "subject-hsm");
	if (!days_arg(a, "request submit", &e.rp.days)) {
		return EXIT_USAGE;
	}
	if ((req = csr_read_file(csr_path, &der, &derlen)) == NULL) {
		goto out;
	}
	if (att_path != NULL) {
		if (!file_read(att_path, 1 << 20, &att, &e.rp.att_len)) {
			goto out;
		}
		e.rp.att_buf = att;
	}
	if ((db = ca_open_db()) == NULL) {
		goto out;
	}
	if ((ca = ca_row_load(db, args_get(a, "ca"))) == NULL) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if (strcmp(ca->kind, "issuing") != 0 || ca->cert == NULL) {
		log_warnx("ca %s: ES-CA-07: e-seal certificates are issued by an "
		    "issuing CA with a certificate (%s CA, %s)", ca->name,
		    ca->kind, ca->status);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (!auth_spec(db, args_get(a, "submitter"), "submit a request", &who,
	    &op_id)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if (!request_evaluate(db, ca, req, &e.rp, &e.f, &e.details, &e.hd)) {
		goto out;
	}
	subject_hsm = att_path == NULL ? e.rp.subject_hsm :
	    e.hd.att_result == ATTEST_OK ? e.hd.att.cmvp : NULL;
	request_hash(der, (size_t)derlen, e.rp.profile, e.details, subject_hsm,
	    ca->name, hash);
	uuid_generate_random(uu);
	uuid_unparse_lower(uu, id);
	snprintf(object, sizeof(object), "request:%s", id);
	time_fmt(now_utc(), now, sizeof(now));
	if (e.f.fails > 0) {
		e.refusal = fails_text(&e.f, csr_path);
	}
	if (!db_begin(db)) {
		goto out;
	}
	if (!request_insert(db, id, ca->id, der, derlen, e.rp.profile, e.details,
	    subject_hsm, hash, who, now, e.refusal)) {
		goto rollback;
	}
	if (!audit_append(db, who, "request-submit", object, hash,
	    e.refusal != NULL ? "refused" : "ok",
	    e.refusal != NULL ? e.refusal : e.details)) {
		goto rollback;
	}
	if (att_path != NULL &&
	    !audit_attestation(db, &e.hd, who, object, hash)) {
		goto rollback;
	}
	if (!db_commit(db)) {
		goto rollback;
	}
	if (e.refusal != NULL) {
		findings_log_fails(&e.f, csr_path);
		log_warnx("%s: request %s refused (%d rule%s failed)", csr_path,
		    id, e.f.fails, e.f.fails == 1 ? "" : "s");
		ret = EXIT_REFUSED;
	} else {
		ret = EXIT_OK;
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:s,s:s}", "id", id, "status",
		    e.refusal != NULL ? "refused" : "pending", "content_hash",
		    hash, "refusal", e.refusal != NULL ? e.refusal : ""));
	} else if (e.refusal == NULL) {
		printf("%s\n", id);
	}
	if (!sign_head(db, args_get(a, "pin")) && ret == EXIT_OK) {
		ret = EXIT_ERROR;
	}
	goto out;
rollback:
	db_rollback(db);
out:
	req_eval_clear(&e);
	ca_row_free(ca);
	X509_REQ_free(req);
	OPENSSL_free(der);
	free(att);
	db_close(db);
	free(who);
	return ret;
}

static json_t *
request_json(struct db *db, const struct request *r, int full)
{
	json_t *o;
	char *names = NULL;
	int n;

	n = request_approvals(db, r, &names);
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:i,s:i,s:s}", "id", r->id,
	    "status", r->status, "ca", r->ca_name, "profile", r->profile,
	    "submitter", r->submitter, "submitted", r->submitted, "details",
	    r->dj, "approvals", n, "needed", (int)quorum_size(db),
	    "approved_by", names != NULL ? names : "");
	if (o == NULL) {
		fatalx("out of memory");
	}
	json_object_set_new(o, "subject_hsm", r->subject_hsm != NULL ?
	    json_string(r->subject_hsm) : json_null());
	if (full) {
		json_object_set_new(o, "content_hash", json_string(r->hash));
		json_object_set_new(o, "refusal", r->refusal != NULL ?
		    json_string(r->refusal) : json_null());
	}
	free(names);
	return o;
}

/* One row of request list (see list_rows()); arg is the store.  1/0. */
static int
req_row(void *arg, sqlite3_stmt *st, json_t *arr)
{
	struct db *db = arg;
	struct request *r;
	json_t *o, *sj, *cn;
	int why;

	if ((r = request_load(db, (const char *)sqlite3_column_text(st, 0),
	    &why)) == NULL) {
		return 0;
	}
	o = request_json(db, r, 0);
	if (!g.json) {
		sj = json_object_get(r->dj, "subject");
		cn = json_object_get(sj, "CN");
		printf("%s  %-8s  %-16s  %-10s  %s  %lld/%lld  %s\n", r->id,
		    r->status, r->profile, r->ca_name, r->submitter,
		    (long long)json_integer_value(json_object_get(o,
		    "approvals")), (long long)json_integer_value(
		    json_object_get(o, "needed")), json_is_string(cn) ?
		    json_string_value(cn) : "-");
	}
	json_array_append_new(arr, o);
	request_free(r);
	return 1;
}

static int
req_list(struct args *a)
{
	struct db *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *status = args_get(a, "status");
	int ret = EXIT_ERROR;

	if (status != NULL && strcmp(status, "pending") != 0 &&
	    strcmp(status, "refused") != 0 && strcmp(status, "rejected") != 0 &&
	    strcmp(status, "issued") != 0) {
		log_warnx("request list: --status is pending, refused, rejected "
		    "or issued");
		return EXIT_USAGE;
	}
	if ((db = ca_open_db()) == NULL) {
		return EXIT_ERROR;
	}
	st = db_prepare(db, "SELECT id FROM requests WHERE ?1 IS NULL OR"
	    " status = ?1 ORDER BY submitted, rowid");
	if (st != NULL) {
		if (status != NULL) {
			sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
		}
		ret = list_rows(db, st, "request list", req_row, db);
	}
	db_close(db);
	return ret;
}

static int
req_show(struct args *a)
{
	struct db *db = NULL;
	struct request *r = NULL;
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	char *dump = NULL;
	int ret = EXIT_ERROR, why;

	if (a->npos != 2) {
		return EXIT_USAGE;
	}
	if ((why = req_open(a->pos[1], &db, &r, NULL)) != EXIT_OK) {
		ret = why;
		goto out;
	}
	o = request_json(db, r, 1);
	if (g.json) {
		json_print(o);
		o = NULL;
		ret = EXIT_OK;
		goto out;
	}
	dump = json_dumps(json_object_get(r->dj, "subject"),
	    JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("request         %s\n", r->id);
	printf("status          %s\n", r->status);
	printf("issuing CA      %s\n", r->ca_name);
	printf("profile         %s\n", r->profile);
	printf("subject         %s\n", dump != NULL ? dump : "?");
	printf("validity        %lld days\n", (long long)json_integer_value(
	    json_object_get(r->dj, "validity_days")));
	printf("key usage       setting %s\n", json_string_value(
	    json_object_get(r->dj, "key_usage")));
	printf("subject HSM     %s\n", r->subject_hsm != NULL ?
	    r->subject_hsm : "-");
	if (json_object_get(r->dj, "attestation") != NULL) {
		printf("attestation     chain to vendor root %s\n",
		    json_is_string(json_object_get(json_object_get(r->dj,
		    "attestation"), "root")) ? json_string_value(
		    json_object_get(json_object_get(r->dj, "attestation"),
		    "root")) : "(none: refused)");
	}
	printf("submitter       %s at %s\n", r->submitter, r->submitted);
	printf("content hash    %s\n", r->hash);
	printf("approvals       %lld of %lld needed\n",
	    (long long)json_integer_value(json_object_get(o, "approvals")),
	    (long long)json_integer_value(json_object_get(o, "needed")));
	st = db_prepare(db, "SELECT o.name, a.decision, a.time, a.content_hash"
	    " FROM approvals a JOIN operators o ON o.id = a.operator_id WHERE"
	    " a.kind = 'request' AND a.object = ? ORDER BY a.id");
	if (st == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		printf("  %-7s by %s at %s%s\n", sqlite3_column_text(st, 1),
		    sqlite3_column_text(st, 0), sqlite3_column_text(st, 2),
		    strcmp((const char *)sqlite3_column_text(st, 3), r->hash) ==
		    0 ? "" : " (void: the request changed since)");
	}
	if (r->refusal != NULL) {
		printf("refusal:\n%s\n", r->refusal);
	}
	ret = EXIT_OK;
out:
	sqlite3_finalize(st);
	json_decref(o);
	free(dump);
	request_free(r);
	db_close(db);
	return ret;
}

/* approve or reject. */
static int
req_decide(struct args *a, int approve)
{
	struct db *db = NULL;
	struct request *r = NULL;
	sqlite3_stmt *st = NULL;
	char *who = NULL, *names = NULL;
	char object[64], now[32], detail[600];
	const char *reason = args_get(a, "reason");
	const char *verb = approve ? "approve" : "reject";
	int64_t op_id, prev_id = 0;
	int ret = EXIT_ERROR, why, n, rc;

	if (a->npos != 2 || !args_need(a, "approver", approve ?
	    "request approve" : "request reject") ||
	    (!approve && !args_need(a, "reason", "request reject"))) {
		return EXIT_USAGE;
	}
	if ((why = req_open(a->pos[1], &db, &r, object)) != EXIT_OK) {
		ret = why;
		goto out;
	}
	if (!auth_spec(db, args_get(a, "approver"), approve ?
	    "approve a request" : "reject a request", &who, &op_id)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if (strcmp(r->status, "pending") != 0) {
		log_warnx("request %s: ES-APPR-05: the request is %s, not "
		    "pending", r->id, r->status);
		audit_append(db, who, approve ? "request-approve" :
		    "request-reject", object, r->hash, "refused: not pending",
		    r->status);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (strcmp(who, r->submitter) == 0) {
		log_warnx("request %s: ES-APPR-01: %s submitted request %s and "
		    "cannot %s it", r->id, who, r->id, verb);
		audit_append(db, who, approve ? "request-approve" :
		    "request-reject", object, r->hash,
		    "refused: own request", NULL);
		ret = EXIT_REFUSED;
		goto out;
	}
	st = db_prepare(db, "SELECT id, content_hash, decision FROM approvals"
	    " WHERE kind = 'request' AND object = ? AND operator_id = ?");
	if (st == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, op_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (strcmp((const char *)sqlite3_column_text(st, 1), r->hash) ==
		    0) {
			log_warnx("request %s: ES-APPR-02: %s already decided "
			    "on request %s (%s): nobody counts twice", r->id,
			    who, r->id, sqlite3_column_text(st, 2));
			audit_append(db, who, approve ? "request-approve" :
			    "request-reject", object, r->hash,
			    "refused: twice", NULL);
			ret = EXIT_REFUSED;
			goto out;
		}
		/* An approval of an earlier content is void; this one replaces it. */
		prev_id = sqlite3_column_int64(st, 0);
	} else if (rc != SQLITE_DONE) {
		db_log_error(db, "approval lookup");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	time_fmt(now_utc(), now, sizeof(now));
	if (!db_begin(db)) {
		goto out;
	}
	st = db_prepare(db, prev_id != 0 ?
	    "UPDATE approvals SET content_hash = ?1, decision = ?2, time = ?3"
	    " WHERE id = ?4" :
	    "INSERT INTO approvals (kind, object, content_hash, operator_id,"
	    " decision, time) VALUES ('request', ?5, ?1, ?6, ?2, ?3)");
	if (st == NULL) {
		goto rollback;
	}
	sqlite3_bind_text(st, 1, r->hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, verb, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	if (prev_id != 0) {
		sqlite3_bind_int64(st, 4, prev_id);
	} else {
		sqlite3_bind_text(st, 5, r->id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 6, op_id);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, "record approval");
		goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!approve) {
		snprintf(detail, sizeof(detail), "rejected by %s: %s", who,
		    reason);
		st = db_prepare(db, "UPDATE requests SET status = 'rejected',"
		    " refusal = ? WHERE id = ?");
		if (st == NULL) {
			goto rollback;
		}
		sqlite3_bind_text(st, 1, detail, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, r->id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_log_error(db, "reject request");
			goto rollback;
		}
	} else {
		snprintf(detail, sizeof(detail), "approved by %s", who);
	}
	if (!audit_append(db, who, approve ? "request-approve" :
	    "request-reject", object, r->hash, "ok", detail) ||
	    !db_commit(db)) {
		goto rollback;
	}
	n = request_approvals(db, r, &names);
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:i,s:i,s:s}", "id", r->id,
		    "decision", verb, "approvals", n, "needed",
		    (int)quorum_size(db), "approved_by", names != NULL ?
		    names : ""));
	} else if (approve) {
		printf(_("request %s: approved by %s (%d of %zu approvals)\n"),
		    r->id, who, n, quorum_size(db));
	} else {
		printf(_("request %s: rejected by %s\n"), r->id, who);
	}
	ret = sign_head(db, args_get(a, "pin")) ? EXIT_OK : EXIT_ERROR;
	goto out;
rollback:
	db_rollback(db);
out:
	sqlite3_finalize(st);
	request_free(r);
	db_close(db);
	free(who);
	free(names);
	return ret;
}

/*
 * What an amendment of request r evaluates: the stored request with the
 * command line's --profile, --key-usage and --validity-days over it (ku
 * holds the stored key usage; what names the request).  An attested
 * request is verified again: its root may be gone.  1/0 (logged; a usage
 * error).
 */
static int
amend_params(struct args *a, const struct request *r, const char *what,
    char ku[2], struct req_params *rp)
{
	const char *chain;

	snprintf(ku, 2, "%s", json_string_value(json_object_get(r->dj,
	    "key_usage")));
	rp->what = what;
	rp->profiles_dir = args_get(a, "profiles");
	rp->profile = args_get(a, "profile") != NULL ? args_get(a, "profile") :
	    r->profile;
	rp->ku = args_get(a, "key-usage") != NULL ? args_get(a, "key-usage") :
	    ku;
	rp->days = (int)json_integer_value(json_object_get(r->dj,
	    "validity_days"));
	rp->subject_hsm = r->subject_hsm;
	chain = json_string_value(json_object_get(json_object_get(r->dj,
	    "attestation"), "chain"));
	if (chain != NULL) {
		rp->subject_hsm = NULL;
		rp->att_buf = (const unsigned char *)chain;
		rp->att_len = strlen(chain);
	}
	return days_arg(a, "request amend", &rp->days);
}

/*
 * The amended request id: profile, details, content hash and subject
 * HSM, in the caller's transaction.  1/0 (logged).
 */
static int
request_update(struct db *db, const char *id, const char *profile,
    const char *details, const char *hash, const char *subject_hsm)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "UPDATE requests SET profile = ?, details = ?,"
	    " content_hash = ?, subject_hsm = ? WHERE id = ?");
	if (st == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, profile, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, details, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_TRANSIENT);
	if (subject_hsm != NULL) {
		sqlite3_bind_text(st, 4, subject_hsm, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_text(st, 5, id, -1, SQLITE_TRANSIENT);
	return db_step_done(db, st, "amend request");
}

static int
req_amend(struct args *a)
{
	struct req_eval e;
	struct db *db = NULL;
	struct request *r = NULL;
	struct ca_row *ca = NULL;
	X509_REQ *req = NULL;
	const unsigned char *p;
	char *who = NULL;
	char hash[65], object[64], detail[256], ku[2] = "";
	const char *subject_hsm;
	int64_t op_id;
	int ret = EXIT_ERROR, why, before;

	req_eval_init(&e);
	if (a->npos != 2 || !args_need(a, "submitter", "request amend")) {
		return EXIT_USAGE;
	}
	if (args_get(a, "profile") == NULL && args_get(a, "validity-days") ==
	    NULL && args_get(a, "key-usage") == NULL) {
		log_warnx("request amend: nothing to change (--profile, "
		    "--validity-days, --key-usage)");
		return EXIT_USAGE;
	}
	if ((why = req_open(a->pos[1], &db, &r, object)) != EXIT_OK) {
		ret = why;
		goto out;
	}
	if (!auth_spec(db, args_get(a, "submitter"), "amend a request", &who,
	    &op_id)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if (strcmp(who, r->submitter) != 0) {
		log_warnx("request %s: ES-APPR-03: only its submitter %s may "
		    "amend request %s", r->id, r->submitter, r->id);
		audit_append(db, who, "request-amend", object, r->hash,
		    "refused: not the submitter", NULL);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (strcmp(r->status, "pending") != 0) {
		log_warnx("request %s: ES-APPR-05: the request is %s, not "
		    "pending", r->id, r->status);
		ret = EXIT_REFUSED;
		goto out;
	}
	if ((ca = ca_row_load_id(db, r->ca_id)) == NULL) {
		goto out;
	}
	p = r->csr_der;
	if ((req = d2i_X509_REQ(NULL, &p, r->csr_len)) == NULL) {
		log_ssl("request %s: stored CSR unreadable", r->id);
		goto out;
	}
	if (!amend_params(a, r, object, ku, &e.rp)) {
		ret = EXIT_USAGE;
		goto out;
	}
	if (!request_evaluate(db, ca, req, &e.rp, &e.f, &e.details, &e.hd)) {
		goto out;
	}
	subject_hsm = e.rp.att_buf == NULL ? r->subject_hsm : e.hd.att.cmvp;
	if (e.f.fails > 0) {
		findings_log_fails(&e.f, object);
		e.refusal = fails_text(&e.f, object);
		audit_append(db, who, "request-amend", object, r->hash,
		    "refused", e.refusal);
		log_warnx("%s: amendment refused; the request is unchanged",
		    object);
		ret = EXIT_REFUSED;
		goto out;
	}
	request_hash(r->csr_der, (size_t)r->csr_len, e.rp.profile, e.details,
	    subject_hsm, ca->name, hash);
	if (strcmp(hash, r->hash) == 0) {
		log_warnx("%s: the amendment changes nothing", object);
		ret = EXIT_OK;
		goto out;
	}
	before = request_approvals(db, r, NULL);
	if (!db_begin(db)) {
		goto out;
	}
	if (!request_update(db, r->id, e.rp.profile, e.details, hash,
	    subject_hsm)) {
		goto rollback;
	}
	snprintf(detail, sizeof(detail), "content hash was %s; %d earlier "
	    "approval%s void", r->hash, before, before == 1 ? " is" : "s are");
	if (!audit_append(db, who, "request-amend", object, hash, "ok",
	    detail) || !db_commit(db)) {
		goto rollback;
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:s,s:i}", "id", r->id,
		    "content_hash", hash, "previous_hash", r->hash,
		    "voided_approvals", before));
	} else {
		printf(_("request %s amended: %d earlier approval%s void; it needs "
		    "%zu new approvals\n"), r->id, before, before == 1 ? " is" :
		    "s are", quorum_size(db));
	}
	ret = sign_head(db, args_get(a, "pin")) ? EXIT_OK : EXIT_ERROR;
	goto out;
rollback:
	db_rollback(db);
out:
	req_eval_clear(&e);
	request_free(r);
	ca_row_free(ca);
	X509_REQ_free(req);
	db_close(db);
	free(who);
	return ret;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca request submit CSR --profile NAME --ca ISSUING --submitter NAME=SRC\n"
	    "           [--subject-hsm CMVP-NUMBER | --attestation FILE] [--validity-days N]\n"
	    "           [--key-usage A|B] [--profiles DIR] [--pin SRC]\n"
	    "       eseal-ca request list [--status pending|refused|rejected|issued] [--json]\n"
	    "       eseal-ca request show ID [--json]\n"
	    "       eseal-ca request approve ID --approver NAME=SRC [--pin SRC]\n"
	    "       eseal-ca request reject ID --approver NAME=SRC --reason TEXT [--pin SRC]\n"
	    "       eseal-ca request amend ID --submitter NAME=SRC [--profile P]\n"
	    "           [--validity-days N] [--key-usage A|B] [--profiles DIR] [--pin SRC]\n"
	    "  A request is checked at once (CSR signature, algorithm policy, the\n"
	    "  profile's subject rules, the subject key's HSM) and needs M approvals\n"
	    "  (meta \"quorum\") by others than its submitter; amending it voids them.\n"
	    "  --pin signs the audit head with the audit CA's key.  Profiles are read\n"
	    "  from --profiles DIR, else $ESEAL_PROFILES, else %s.\n"), PKGDATADIR);
}

int
cmd_request(int argc, char **argv)
{
	static const char *const valued[] = { "profile", "ca", "submitter",
	    "subject-hsm", "attestation", "validity-days", "key-usage",
	    "profiles", "pin", "status", "approver", "reason", NULL };
	static const char *const flags[] = { NULL };
	struct args a;
	int ret;

	if (!args_start(argc, argv, valued, flags, &a, usage, &ret)) {
		return ret;
	}
	if (a.npos == 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(a.pos[0], "submit") == 0) {
		return req_submit(&a);
	} else if (strcmp(a.pos[0], "list") == 0 && a.npos == 1) {
		return req_list(&a);
	} else if (strcmp(a.pos[0], "show") == 0 && a.npos == 2) {
		return req_show(&a);
	} else if (strcmp(a.pos[0], "approve") == 0) {
		return req_decide(&a, 1);
	} else if (strcmp(a.pos[0], "reject") == 0) {
		return req_decide(&a, 0);
	} else if (strcmp(a.pos[0], "amend") == 0) {
		return req_amend(&a);
	}
	usage(stderr);
	return EXIT_USAGE;
}
