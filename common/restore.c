/*
 * Carrying into a decrypted backup, before it replaces the store,
 * everything the backup lacks compared with the replaced store and the
 * witnesses (see restore.h).  The replaced store is ATTACHed as "old" and
 * read with SQL; rows are matched by CA name and serial, never by row id.
 * Certificates issued after the backup are carried over whole, so their
 * status stays known; a revoked serial known only from a witness gets a
 * placeholder certificate row (empty DER) so that its revocation stays
 * listed; a serial seen good only in a witness is burned.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "backup.h"
#include "log.h"
#include "restore.h"
#include "util.h"

/* RFC 5280 5.3.1 CRLReason names, for the messages. */
static const char *
reason_name(int r)
{
	static const char *const names[] = { "unspecified", "keyCompromise",
	    "cACompromise", "affiliationChanged", "superseded",
	    "cessationOfOperation", "certificateHold", "7", "removeFromCRL",
	    "privilegeWithdrawn", "aACompromise" };

	return r >= 0 && r <= 10 ? names[r] : "unspecified";
}


void
restore_seen_add_status(struct restore_seen *s, const char *ca,
    const char *serial, int revoked, time_t time, int reason,
    time_t invalidity, const char *source)
{
	struct restore_status *n;

	if ((n = reallocarray(s->st, s->nst + 1, sizeof(*n))) == NULL) {
		fatalx("out of memory");
	}
	s->st = n;
	n = &s->st[s->nst++];
	n->ca = xstrdup(ca);
	n->serial = xstrdup(serial);
	n->revoked = revoked;
	n->time = time;
	n->reason = reason < 0 ? 0 : reason;
	n->invalidity = invalidity;
	n->source = xstrdup(source);
}

void
restore_seen_add_number(struct restore_seen *s, int crl, const char *ca,
    int64_t number, const char *source)
{
	struct restore_number **arr = crl ? &s->crl : &s->seq, *n;
	size_t *cnt = crl ? &s->ncrl : &s->nseq;

	if ((n = reallocarray(*arr, *cnt + 1, sizeof(*n))) == NULL) {
		fatalx("out of memory");
	}
	*arr = n;
	n = &n[(*cnt)++];
	n->ca = xstrdup(ca);
	n->number = number;
	n->source = xstrdup(source);
}

void
restore_seen_free(struct restore_seen *s)
{
	size_t i;

	for (i = 0; i < s->nst; i++) {
		free(s->st[i].ca);
		free(s->st[i].serial);
		free(s->st[i].source);
	}
	for (i = 0; i < s->ncrl; i++) {
		free(s->crl[i].ca);
		free(s->crl[i].source);
	}
	for (i = 0; i < s->nseq; i++) {
		free(s->seq[i].source);
	}
	free(s->st);
	free(s->crl);
	free(s->seq);
	memset(s, 0, sizeof(*s));
}

char *
restore_serial_hex(const unsigned char *mag, size_t len)
{
	char *hex, *p, *d;

	while (len > 1 && mag[0] == 0) {
		mag++;
		len--;
	}
	hex = hex_encode(mag, len);
	for (p = hex; p[0] == '0' && p[1] != '\0'; p++) {
		;
	}
	d = xstrdup(p);
	free(hex);
	for (p = d; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'F') {
			*p = (char)(*p - 'A' + 'a');
		}
	}
	return d;
}

/* Run sql with text parameters ?1..?n (NULL binds NULL).  1/0 (logged). */
static int
exec_args(struct db *db, const char *sql, const char *const *args, size_t n,
    int *changes)
{
	sqlite3_stmt *st;
	size_t i;
	int ok;

	if ((st = db_prepare(db, sql)) == NULL) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(st, (int)i + 1, args[i], -1, SQLITE_STATIC);
	}
	ok = sqlite3_step(st) == SQLITE_DONE;
	if (!ok) {
		db_log_error(db, "restore");
	} else if (changes != NULL) {
		*changes = sqlite3_changes(db_handle(db));
	}
	sqlite3_finalize(st);
	return ok;
}

#define T(st, i) ((const char *)sqlite3_column_text((st), (i)))

/* CAs the backup lacks, and CA revocations, key destructions and certificates it lacks. */
static int
merge_cas(struct db *db, FILE *out, struct restore_summary *sum)
{
	sqlite3_stmt *st;
	const char *args[1];
	int rc = SQLITE_ERROR, ok = 0, n;

	st = db_prepare(db, "SELECT name FROM old.cas WHERE name NOT IN"
	    " (SELECT name FROM main.cas) ORDER BY id");
	while (st != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		args[0] = T(st, 0);
		if (!exec_args(db, "INSERT INTO main.cas (name, kind, parent_id,"
		    " status, cert_der, cert_sha256, subject, not_before,"
		    " not_after, key_alg, sig_alg, module_path, token_label,"
		    " token_serial, token_manufacturer, token_model, token_hw,"
		    " token_fw, key_id, key_label, prov_local,"
		    " prov_always_sensitive, prov_never_extractable,"
		    " prov_extractable, cmvp_cert, cmvp_status_at_gen,"
		    " key_destroyed, ceremony_id, settings, created) SELECT"
		    " o.name, o.kind, (SELECT m.id FROM main.cas m JOIN old.cas p"
		    " ON p.name = m.name WHERE p.id = o.parent_id), o.status,"
		    " o.cert_der, o.cert_sha256, o.subject, o.not_before,"
		    " o.not_after, o.key_alg, o.sig_alg, o.module_path,"
		    " o.token_label, o.token_serial, o.token_manufacturer,"
		    " o.token_model, o.token_hw, o.token_fw, o.key_id, o.key_label,"
		    " o.prov_local, o.prov_always_sensitive,"
		    " o.prov_never_extractable, o.prov_extractable, o.cmvp_cert,"
		    " o.cmvp_status_at_gen, o.key_destroyed, o.ceremony_id,"
		    " o.settings, o.created FROM old.cas o WHERE o.name = ?1",
		    args, 1, NULL)) {
			goto out;
		}
		fprintf(out, "  CA %s: carried over from the replaced store\n",
		    args[0]);
		sum->cas++;
		sum->store_newer = 1;
	}
	if (st == NULL || rc != SQLITE_DONE) {
		if (st != NULL) {
			db_log_error(db, "restore: reading the replaced store");
		}
		goto out;
	}
	/* A CA revoked, given its certificate or destroyed since the backup. */
	if (!exec_args(db, "UPDATE main.cas SET (status, settings, cert_der,"
	    " cert_sha256, not_before, not_after, key_destroyed) = (SELECT"
	    " CASE main.cas.status WHEN 'revoked' THEN 'revoked' ELSE o.status"
	    " END, CASE main.cas.status WHEN 'revoked' THEN main.cas.settings"
	    " ELSE o.settings END, coalesce(main.cas.cert_der, o.cert_der),"
	    " coalesce(main.cas.cert_sha256, o.cert_sha256),"
	    " coalesce(main.cas.not_before, o.not_before),"
	    " coalesce(main.cas.not_after, o.not_after),"
	    " coalesce(main.cas.key_destroyed, o.key_destroyed) FROM old.cas o"
	    " WHERE o.name = main.cas.name) WHERE EXISTS (SELECT 1 FROM old.cas o"
	    " WHERE o.name = main.cas.name AND (o.status IS NOT main.cas.status"
	    " OR o.key_destroyed IS NOT main.cas.key_destroyed OR"
	    " (main.cas.cert_der IS NULL AND o.cert_der IS NOT NULL)))", NULL,
	    0, &n)) {
		goto out;
	}
	if (n > 0) {
		fprintf(out, "  %d CA(s) changed status since the backup "
		    "(revoked, certified or key destroyed): carried over\n", n);
		sum->cas += n;
		sum->store_newer = 1;
	}
	ok = 1;
out:
	sqlite3_finalize(st);
	return ok;
}

/* Audit a certificate row carried over (or made a placeholder).  1/0. */
static int
audit_carried(struct db *db, const char *who, const char *serial,
    const char *ca, const char *how)
{
	char object[128], detail[700];

	snprintf(object, sizeof(object), "certificate:%s", serial);
	snprintf(detail, sizeof(detail), "CA %s; missing from the backup; %s",
	    ca, how);
	return audit_append(db, who, "certificate-carried-over", object, NULL,
	    "ok", detail);
}

/* Requests and certificates the backup lacks. */
static int
merge_certificates(struct db *db, const char *who, FILE *out,
    struct restore_summary *sum)
{
	char how[128];

	sqlite3_stmt *st;
	const char *args[1];
	int rc = SQLITE_ERROR, ok = 0;

	if (!exec_args(db, "INSERT INTO main.requests (id, ca_id, csr_der,"
	    " profile, details, subject_hsm, content_hash, submitter, submitted,"
	    " status, refusal) SELECT r.id, m.id, r.csr_der, r.profile,"
	    " r.details, r.subject_hsm, r.content_hash, r.submitter, r.submitted,"
	    " r.status, r.refusal FROM old.requests r JOIN old.cas oc ON oc.id ="
	    " r.ca_id JOIN main.cas m ON m.name = oc.name WHERE r.id NOT IN"
	    " (SELECT id FROM main.requests)", NULL, 0, NULL) ||
	    !exec_args(db, "UPDATE main.requests SET (status, refusal) = (SELECT"
	    " r.status, r.refusal FROM old.requests r WHERE r.id ="
	    " main.requests.id) WHERE status = 'pending' AND EXISTS (SELECT 1"
	    " FROM old.requests r WHERE r.id = main.requests.id AND r.status <>"
	    " 'pending')", NULL, 0, NULL)) {
		return 0;
	}
	st = db_prepare(db, "SELECT c.serial, oc.name, c.issued FROM"
	    " old.certificates c JOIN old.cas oc ON oc.id = c.ca_id WHERE"
	    " c.serial NOT IN (SELECT serial FROM main.certificates) ORDER BY"
	    " c.id");
	while (st != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		args[0] = T(st, 0);
		if (!exec_args(db, "INSERT INTO main.certificates (ca_id, serial,"
		    " request_id, subject, profile, not_before, not_after,"
		    " partition, der, sha256, issued) SELECT m.id, c.serial,"
		    " (SELECT id FROM main.requests WHERE id = c.request_id),"
		    " c.subject, c.profile, c.not_before, c.not_after, c.partition,"
		    " c.der, c.sha256, c.issued FROM old.certificates c JOIN"
		    " old.cas oc ON oc.id = c.ca_id JOIN main.cas m ON m.name ="
		    " oc.name WHERE c.serial = ?1", args, 1, NULL)) {
			goto out;
		}
		snprintf(how, sizeof(how), "issued %s; from the replaced store",
		    T(st, 2));
		if (!audit_carried(db, who, args[0], T(st, 1), how)) {
			goto out;
		}
		fprintf(out, "  certificate %s (CA %s, issued %s): carried over "
		    "from the replaced store\n", args[0], T(st, 1), T(st, 2));
		sum->certificates++;
		sum->store_newer = 1;
	}
	if (st == NULL || rc != SQLITE_DONE) {
		if (st != NULL) {
			db_log_error(db, "restore: reading the replaced store");
		}
		goto out;
	}
	/* Serials the replaced store burned stay burned. */
	ok = exec_args(db, "INSERT OR IGNORE INTO main.serials_burned (serial,"
	    " source) SELECT serial, source FROM old.serials_burned WHERE serial"
	    " NOT IN (SELECT serial FROM main.certificates)", NULL, 0, NULL);
out:
	sqlite3_finalize(st);
	return ok;
}

/*
 * Insert the revocation of serial (its certificate row exists) and audit
 * it under who with its original reason and time.  1/0 (logged).
 */
static int
reapply(struct db *db, const char *serial, const char *ca, const char *when,
    int reason, const char *inv, const char *approved, const char *source,
    const char *who, FILE *out)
{
	sqlite3_stmt *st;
	char object[128], *detail = NULL;
	int ok;

	if ((st = db_prepare(db, "INSERT INTO main.revocations (cert_id, ca_id,"
	    " serial, time, reason, invalidity_date, approved_by) SELECT id,"
	    " ca_id, serial, ?2, ?3, ?4, ?5 FROM main.certificates WHERE serial"
	    " = ?1")) == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, when, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, reason);
	sqlite3_bind_text(st, 4, inv, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, approved, -1, SQLITE_STATIC);
	ok = sqlite3_step(st) == SQLITE_DONE &&
	    sqlite3_changes(db_handle(db)) == 1;
	sqlite3_finalize(st);
	if (!ok) {
		db_log_error(db, "restore: applying a revocation again");
		return 0;
	}
	snprintf(object, sizeof(object), "certificate:%s", serial);
	if (asprintf(&detail, "CA %s; reason %s (%d); revoked at %s%s%s; "
	    "approved by %s; missing from the backup, from %s", ca,
	    reason_name(reason), reason, when, inv != NULL ?
	    "; invalidity date " : "", inv != NULL ? inv : "", approved,
	    source) == -1) {
		fatalx("out of memory");
	}
	ok = audit_append(db, who, "revoke-reapplied", object, NULL, "ok",
	    detail);
	free(detail);
	fprintf(out, "  revocation of %s (CA %s, %s, %s): from %s: applied "
	    "again\n", serial, ca, reason_name(reason), when, source);
	return ok;
}

/* Revocations of the replaced store the backup lacks. */
static int
merge_revocations(struct db *db, const char *who, FILE *out,
    struct restore_summary *sum)
{
	sqlite3_stmt *st;
	int rc = SQLITE_ERROR, ok = 0;

	st = db_prepare(db, "SELECT r.serial, oc.name, r.time, r.reason,"
	    " r.invalidity_date, r.approved_by FROM old.revocations r JOIN"
	    " old.cas oc ON oc.id = r.ca_id WHERE r.serial NOT IN (SELECT serial"
	    " FROM main.revocations) ORDER BY r.time, r.serial");
	while (st != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!reapply(db, T(st, 0), T(st, 1), T(st, 2),
		    sqlite3_column_int(st, 3), T(st, 4), T(st, 5),
		    "the replaced store", who, out)) {
			goto out;
		}
		sum->revocations++;
		sum->store_newer = 1;
	}
	ok = st != NULL && rc == SQLITE_DONE;
out:
	sqlite3_finalize(st);
	return ok;
}

/* 1 if serial has a certificate row (2 if also a revocation) in db; -1 on error. */
static int
serial_state(struct db *db, const char *serial)
{
	sqlite3_stmt *st;
	int rc, v = -1;

	if ((st = db_prepare(db, "SELECT (SELECT count(*) FROM"
	    " main.certificates WHERE serial = ?1) + (SELECT count(*) FROM"
	    " main.revocations WHERE serial = ?1)")) == NULL) {
		return -1;
	}
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = sqlite3_column_int(st, 0);
	} else {
		db_log_error(db, "restore");
	}
	sqlite3_finalize(st);
	return v;
}

/*
 * A serial known only from a witness: burned if good, a placeholder
 * certificate (so that the revocation can be kept) if revoked.  1/0.
 */
static int
witness_only(struct db *db, const struct restore_status *s, const char *who,
    FILE *out, struct restore_summary *sum)
{
	char *subject = NULL, now[32];
	const char *args[4];
	int ok;

	if (!s->revoked) {
		args[0] = s->serial;
		args[1] = s->source;
		fprintf(out, "  certificate %s (CA %s): seen in %s, not in the "
		    "backup: serial reserved\n", s->serial, s->ca, s->source);
		sum->serials_reserved++;
		return exec_args(db, "INSERT OR IGNORE INTO main.serials_burned"
		    " (serial, source) VALUES (?1, 'restore: witness ' || ?2)",
		    args, 2, NULL);
	}
	if (asprintf(&subject, "(unknown: revoked certificate known only from"
	    " witness %s)", s->source) == -1) {
		fatalx("out of memory");
	}
	time_fmt(now_utc(), now, sizeof(now));
	args[0] = s->ca;
	args[1] = s->serial;
	args[2] = subject;
	args[3] = now;
	ok = exec_args(db, "INSERT INTO main.certificates (ca_id, serial,"
	    " subject, profile, not_before, not_after, der, sha256, issued)"
	    " SELECT id, ?2, ?3, '(witness)', '1970-01-01T00:00:00Z',"
	    " '9999-12-31T23:59:59Z', zeroblob(0), '', ?4 FROM main.cas WHERE"
	    " name = ?1", args, 4, NULL) && audit_carried(db, who, s->serial,
	    s->ca, subject);
	fprintf(out, "  certificate %s (CA %s): seen revoked in %s, not in the "
	    "backup: kept as a placeholder row\n", s->serial, s->ca, s->source);
	sum->certificates++;
	free(subject);
	return ok;
}

/* Revocations and serials seen in witnesses that the store lacks. */
static int
merge_witness_status(struct db *db, const struct restore_seen *seen,
    const char *who, FILE *out, struct restore_summary *sum)
{
	const struct restore_status *s;
	char when[32], inv[32], src[600];
	size_t i;
	int have;

	for (i = 0; i < seen->nst; i++) {
		s = &seen->st[i];
		if ((have = serial_state(db, s->serial)) < 0) {
			return 0;
		}
		if (have == 0 && !witness_only(db, s, who, out, sum)) {
			return 0;
		}
		if (!s->revoked || have == 2) {
			continue;
		}
		time_fmt(s->time, when, sizeof(when));
		if (s->invalidity != 0) {
			time_fmt(s->invalidity, inv, sizeof(inv));
		}
		snprintf(src, sizeof(src), "witness %s", s->source);
		if (!reapply(db, s->serial, s->ca, when, s->reason,
		    s->invalidity != 0 ? inv : NULL, "(witness)", src, who,
		    out)) {
			return 0;
		}
		sum->revocations++;
	}
	return 1;
}

/* CRLs of the replaced store the backup lacks, then each CA's floor. */
static int
merge_crls(struct db *db, const char *old, const struct restore_seen *seen,
    FILE *out, struct restore_summary *sum)
{
	sqlite3_stmt *st = NULL;
	char num[32];
	const char *args[3];
	size_t i;
	int rc = SQLITE_ERROR, n, ok = 0;

	if (old != NULL) {
		st = db_prepare(db, "SELECT oc.name, max(c.number) FROM"
		    " old.crls c JOIN old.cas oc ON oc.id = c.ca_id GROUP BY"
		    " oc.name HAVING max(c.number) > coalesce((SELECT"
		    " max(x.number) FROM main.crls x JOIN main.cas m ON m.id ="
		    " x.ca_id WHERE m.name = oc.name), 0)");
		while (st != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			fprintf(out, "  CRL number %lld (CA %s): from the replaced"
			    " store: the next CRL is numbered above it\n",
			    (long long)sqlite3_column_int64(st, 1), T(st, 0));
			sum->crl_numbers++;
			sum->store_newer = 1;
		}
		if (st == NULL || rc != SQLITE_DONE ||
		    !exec_args(db, "INSERT INTO main.crls (ca_id, number, kind,"
		    " base_number, partition, this_update, next_update, der,"
		    " sha256) SELECT m.id, c.number, c.kind, c.base_number,"
		    " c.partition, c.this_update, c.next_update, c.der, c.sha256"
		    " FROM old.crls c JOIN old.cas oc ON oc.id = c.ca_id JOIN"
		    " main.cas m ON m.name = oc.name WHERE NOT EXISTS (SELECT 1"
		    " FROM main.crls x WHERE x.ca_id = m.id AND x.number ="
		    " c.number)", NULL, 0, NULL) ||
		    !exec_args(db, "INSERT INTO main.crl_floor (ca_id, floor)"
		    " SELECT m.id, f.floor FROM old.crl_floor f JOIN old.cas oc"
		    " ON oc.id = f.ca_id JOIN main.cas m ON m.name = oc.name"
		    " WHERE true ON CONFLICT (ca_id) DO UPDATE SET floor ="
		    " max(floor, excluded.floor)", NULL, 0, NULL)) {
			goto out;
		}
	}
	for (i = 0; i < seen->ncrl; i++) {
		snprintf(num, sizeof(num), "%lld",
		    (long long)seen->crl[i].number);
		args[0] = seen->crl[i].ca;
		args[1] = num;
		if (!exec_args(db, "INSERT INTO main.crl_floor (ca_id, floor)"
		    " SELECT id, CAST(?2 AS INTEGER) FROM main.cas WHERE name ="
		    " ?1 AND CAST(?2 AS INTEGER) > max(coalesce((SELECT floor"
		    " FROM main.crl_floor f WHERE f.ca_id = main.cas.id), 0),"
		    " coalesce((SELECT max(number) FROM main.crls c WHERE"
		    " c.ca_id = main.cas.id), 0)) ON CONFLICT (ca_id) DO UPDATE"
		    " SET floor = max(floor, excluded.floor)", args, 2, &n)) {
			goto out;
		}
		if (n > 0) {
			fprintf(out, "  CRL number %s (CA %s): from witness %s: "
			    "the next CRL is numbered above it\n", num,
			    seen->crl[i].ca, seen->crl[i].source);
			sum->crl_numbers++;
		}
	}
	ok = 1;
out:
	sqlite3_finalize(st);
	return ok;
}

/* Raise the export sequence to v (from source) if the store's is lower. */
static int
raise_sequence(struct db *db, int64_t v, const char *source, int from_store,
    FILE *out, struct restore_summary *sum)
{
	char *cur, buf[32];
	int64_t have;

	cur = db_meta_get(db, "status_export_seq");
	have = cur != NULL ? strtoll(cur, NULL, 10) : 0;
	free(cur);
	if (v <= have) {
		return 1;
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	fprintf(out, "  status export sequence %s: from %s: the next export "
	    "is numbered above it\n", buf, source);
	sum->sequences++;
	if (from_store) {
		sum->store_newer = 1;
	}
	return db_meta_set(db, "status_export_seq", buf);
}

/* The export sequences of the replaced store and of the witnesses. */
static int
merge_sequences(struct db *db, const char *old,
    const struct restore_seen *seen, FILE *out, struct restore_summary *sum)
{
	sqlite3_stmt *st;
	char src[600];
	int64_t v = 0;
	size_t i;

	if (old != NULL) {
		if ((st = db_prepare(db, "SELECT coalesce((SELECT"
		    " CAST(value AS INTEGER) FROM old.meta WHERE key ="
		    " 'status_export_seq'), 0)")) == NULL) {
			return 0;
		}
		if (sqlite3_step(st) == SQLITE_ROW) {
			v = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
		if (!raise_sequence(db, v, "the replaced store", 1, out, sum)) {
			return 0;
		}
	}
	for (i = 0; i < seen->nseq; i++) {
		snprintf(src, sizeof(src), "witness %s", seen->seq[i].source);
		if (!raise_sequence(db, seen->seq[i].number, src, 0, out,
		    sum)) {
			return 0;
		}
	}
	return 1;
}

/*
 * Certificates whose PEM an interrupted issue run did not write stay
 * pending (meta "pem_pending:SERIAL", see ca/issue.c) in the restored
 * store too, so that the next issue run writes them.  1/0 (logged).
 */
static int
merge_pem_pending(struct db *db)
{
	return exec_args(db, "INSERT OR IGNORE INTO main.meta (key, value) "
	    "SELECT key, value FROM old.meta WHERE key LIKE 'pem_pending:%' "
	    "AND substr(key, 13) IN (SELECT serial FROM main.certificates)",
	    NULL, 0, NULL);
}

/* The replaced store's audit head into sum.  1/0 (logged). */
static int
old_head(struct db *db, struct restore_summary *sum)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = db_prepare(db, "SELECT seq, hash FROM old.audit ORDER BY seq"
	    " DESC LIMIT 1")) == NULL) {
		return 0;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sum->old_head_seq = sqlite3_column_int64(st, 0);
		snprintf(sum->old_head_hash, sizeof(sum->old_head_hash), "%s",
		    T(st, 1));
	} else if (rc != SQLITE_DONE) {
		db_log_error(db, "restore: reading the replaced store");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

int
restore_merge(struct db *db, const char *old_path,
    const struct restore_seen *seen, const char *who, FILE *out,
    struct restore_summary *sum)
{
	const char *args[1];

	memset(sum, 0, sizeof(*sum));
	if (old_path != NULL) {
		args[0] = old_path;
		if (!exec_args(db, "ATTACH DATABASE ?1 AS old", args, 1,
		    NULL)) {
			return 0;
		}
	}
	if (!db_begin(db)) {
		return 0;
	}
	if (old_path != NULL && (!old_head(db, sum) || !audit_take_attached(db))) {
		goto fail;
	}
	if (old_path != NULL && (!merge_cas(db, out, sum) ||
	    !merge_certificates(db, who, out, sum) ||
	    !merge_pem_pending(db) ||
	    !merge_revocations(db, who, out, sum))) {
		goto fail;
	}
	if (!merge_witness_status(db, seen, who, out, sum) ||
	    !merge_crls(db, old_path, seen, out, sum) ||
	    !merge_sequences(db, old_path, seen, out, sum)) {
		goto fail;
	}
	return 1;
fail:
	db_rollback(db);
	return 0;
}

int
restore_commit(struct db *db, const char *who, const char *backup_file,
    const struct backup_info *info, const struct restore_summary *sum,
    const char *note)
{
	char when[32], *detail = NULL;
	int ok;

	time_fmt(info->created, when, sizeof(when));
	if (asprintf(&detail, "backup created %s; carried over: %d CA "
	    "change(s), %d certificate(s), %d revocation(s), %d CRL number(s), "
	    "%d export sequence(s), %d serial(s) reserved; replaced store's "
	    "audit head %lld %s%s%s", when, sum->cas, sum->certificates,
	    sum->revocations, sum->crl_numbers, sum->sequences,
	    sum->serials_reserved, (long long)sum->old_head_seq,
	    sum->old_head_seq > 0 ? sum->old_head_hash : "(none)",
	    note != NULL ? "; " : "", note != NULL ? note : "") == -1) {
		fatalx("out of memory");
	}
	ok = audit_append(db, who, "restore", backup_file, info->sha256, "ok",
	    detail) && db_commit(db);
	free(detail);
	if (!ok) {
		db_rollback(db);
	}
	return ok;
}
