/*
 * "eseal-ca revoke": revoke an e-seal certificate under dual control.
 * One command carries the whole decision: the requester and M approvers
 * (meta "quorum"), all authenticated, none counted twice, no approver the
 * requester, no auditor.  Each approval binds the content hash of (CA,
 * serial, reason, invalidity date, requester); the revocation row, the
 * approvals and the audit entry commit in one transaction.  The CRL and
 * OCSP publish it later.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "args.h"
#include "audit.h"
#include "ca.h"
#include "log.h"
#include "operators.h"
#include "request.h"
#include "util.h"

#define MAX_APPROVERS	16

/* RFC 5280 5.3.1 CRLReason. */
static const struct {
	const char	*name;
	int		 code;
} reasons[] = {
	{ "unspecified", 0 },
	{ "keyCompromise", 1 },
	{ "cACompromise", 2 },
	{ "affiliationChanged", 3 },
	{ "superseded", 4 },
	{ "cessationOfOperation", 5 },
	{ "certificateHold", 6 },
	{ "removeFromCRL", 8 },
	{ "privilegeWithdrawn", 9 },
	{ "aACompromise", 10 },
};

/* Normalise a serial (hex, optional colons) to lower-case, no leading zeros. */
int
serial_norm(const char *in, char *out, size_t outsz)
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ':') {
			continue;
		}
		if (!isxdigit((unsigned char)*in) || n + 1 >= outsz) {
			return 0;
		}
		if (n == 0 && *in == '0') {
			continue;
		}
		out[n++] = (char)tolower((unsigned char)*in);
	}
	if (n == 0) {
		return 0;
	}
	out[n] = '\0';
	return 1;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca revoke SERIAL --ca NAME --reason REASON [--invalidity-date T]\n"
	    "           --requester NAME=SRC --approver NAME=SRC... [--pin SRC]\n"
	    "  REASON: unspecified, keyCompromise, cACompromise, affiliationChanged,\n"
	    "  superseded, cessationOfOperation, certificateHold (only if the CA's\n"
	    "  settings say \"allow-hold\": true), privilegeWithdrawn, aACompromise.\n"
	    "  M approvers (the instance quorum), none of them the requester.\n"));
}

int
cmd_revoke(int argc, char **argv)
{
	static const char *const valued[] = { "ca", "reason",
	    "invalidity-date", "requester", "approver", "pin", NULL };
	static const char *const flags[] = { NULL };
	struct args a;
	struct db *db = NULL;
	struct ca_row *ca = NULL;
	sqlite3_stmt *st = NULL;
	char *specs[MAX_APPROVERS], *names[MAX_APPROVERS];
	int64_t ids[MAX_APPROVERS];
	char *who = NULL, *buf = NULL;
	char serial[80], object[128], now[32], inv[32] = "", hash[65];
	char detail[1280], approved[512] = "";
	const char *rname, *s;
	json_t *hold;
	time_t it;
	int64_t req_id, cert_id = 0;
	size_t nspecs, napp = 0, i, j, m;
	int code = -1, ret = EXIT_ERROR;

	if (!args_parse(argc, argv, valued, flags, &a)) {
		return EXIT_USAGE;
	}
	if (a.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (a.npos != 1 || !args_need(&a, "ca", "revoke") ||
	    !args_need(&a, "reason", "revoke") ||
	    !args_need(&a, "requester", "revoke")) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!serial_norm(a.pos[0], serial, 41)) {
		log_warnx("revoke: \"%s\" is not a serial number (hex)",
		    a.pos[0]);
		return EXIT_USAGE;
	}
	snprintf(object, sizeof(object), "certificate:%s", serial);
	rname = args_get(&a, "reason");
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (strcmp(reasons[i].name, rname) == 0) {
			code = reasons[i].code;
		}
	}
	if (code < 0) {
		log_warnx("revoke: unknown reason \"%s\" (see eseal-ca revoke "
		    "--help)", rname);
		return EXIT_USAGE;
	}
	nspecs = args_all(&a, "approver", specs, MAX_APPROVERS);
	if ((s = args_get(&a, "invalidity-date")) != NULL) {
		if (!time_parse(s, &it, "revoke: --invalidity-date")) {
			return EXIT_USAGE;
		}
		time_fmt(it, inv, sizeof(inv));
	}
	if ((db = ca_open_db()) == NULL) {
		return EXIT_ERROR;
	}
	time_fmt(now_utc(), now, sizeof(now));
	if (!auth_spec(db, args_get(&a, "requester"), "request a revocation",
	    &who, &req_id)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if (code == 8) {
		log_warnx("revoke %s: ES-REV-04: removeFromCRL is not a reason "
		    "to revoke (RFC 5280 5.3.1: it only appears in delta CRLs)",
		    serial);
		audit_append(db, who, "revoke", object, NULL,
		    "refused: removeFromCRL", NULL);
		ret = EXIT_REFUSED;
		goto out;
	}
	if ((ca = ca_row_load(db, args_get(&a, "ca"))) == NULL) {
		audit_append(db, who, "revoke", object, NULL,
		    "refused: no such CA", args_get(&a, "ca"));
		ret = EXIT_REFUSED;
		goto out;
	}
	st = db_prepare(db, "SELECT c.id, r.time FROM certificates c LEFT JOIN"
	    " revocations r ON r.cert_id = c.id WHERE c.serial = ? AND"
	    " c.ca_id = ?");
	if (st == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, ca->id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		log_warnx("revoke: ES-REV-01: no certificate with serial %s "
		    "issued by CA %s", serial, ca->name);
		audit_append(db, who, "revoke", object, NULL,
		    "refused: unknown serial", ca->name);
		ret = EXIT_REFUSED;
		goto out;
	}
	cert_id = sqlite3_column_int64(st, 0);
	if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
		log_warnx("revoke: ES-REV-03: certificate %s is already revoked "
		    "(since %s)", serial, sqlite3_column_text(st, 1));
		audit_append(db, who, "revoke", object, NULL,
		    "refused: already revoked", NULL);
		ret = EXIT_REFUSED;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	hold = json_object_get(ca->settings, "allow-hold");
	if (code == 6 && !json_is_true(hold)) {
		log_warnx("revoke %s: ES-REV-02: certificateHold is not allowed "
		    "by CA %s's policy (settings \"allow-hold\")", serial,
		    ca->name);
		audit_append(db, who, "revoke", object, NULL,
		    "refused: hold not allowed", ca->name);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (inv[0] != '\0' && strcmp(inv, now) > 0) {
		log_warnx("revoke %s: ES-REV-05: the invalidity date %s is in "
		    "the future", serial, inv);
		audit_append(db, who, "revoke", object, NULL,
		    "refused: invalidity date in the future", inv);
		ret = EXIT_REFUSED;
		goto out;
	}

	/* What the approvers approve. */
	if (asprintf(&buf, "eseal-revocation-v1\n%s\n%s\n%d\n%s\n%s\n",
	    ca->name, serial, code, inv, who) == -1) {
		fatalx("out of memory");
	}
	sha256_hex(buf, strlen(buf), hash);

	/* M approvers other than the requester, each once. */
	m = quorum_size(db);
	for (i = 0; i < nspecs; i++) {
		char *nm;
		int64_t id;

		if (!auth_spec(db, specs[i], "approve a revocation", &nm, &id)) {
			continue;
		}
		if (id == req_id) {
			log_warnx("revoke %s: ES-APPR-01: %s requested the "
			    "revocation and cannot approve it", serial, nm);
			audit_append(db, nm, "revoke-approve", object, hash,
			    "refused: own request", NULL);
			free(nm);
			continue;
		}
		for (j = 0; j < napp; j++) {
			if (ids[j] == id) {
				break;
			}
		}
		if (j < napp) {
			log_warnx("revoke %s: ES-QUORUM-02: %s approves only "
			    "once", serial, nm);
			free(nm);
			continue;
		}
		ids[napp] = id;
		names[napp++] = nm;
	}
	if (napp < m) {
		log_warnx("revoke %s: ES-QUORUM-01: %zu approvers needed besides "
		    "the requester, %zu authenticated", serial, m, napp);
		audit_append(db, who, "revoke", object, hash,
		    "refused: approvals", NULL);
		ret = EXIT_REFUSED;
		goto out;
	}
	for (j = 0; j < napp; j++) {
		snprintf(approved + strlen(approved), sizeof(approved) -
		    strlen(approved), "%s%s", j > 0 ? "," : "", names[j]);
	}

	/* Revocation row, approvals and audit: one transaction. */
	if (!db_begin(db)) {
		goto out;
	}
	st = db_prepare(db, "INSERT INTO revocations (cert_id, ca_id, serial,"
	    " time, reason, invalidity_date, approved_by) VALUES"
	    " (?,?,?,?,?,?,?)");
	if (st == NULL) {
		goto rollback;
	}
	sqlite3_bind_int64(st, 1, cert_id);
	sqlite3_bind_int64(st, 2, ca->id);
	sqlite3_bind_text(st, 3, serial, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, code);
	if (inv[0] != '\0') {
		sqlite3_bind_text(st, 6, inv, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_text(st, 7, approved, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, "insert revocation");
		goto rollback;
	}
	sqlite3_finalize(st);
	st = db_prepare(db, "INSERT INTO approvals (kind, object, content_hash,"
	    " operator_id, decision, time) VALUES ('revocation', ?, ?, ?,"
	    " 'approve', ?)");
	if (st == NULL) {
		goto rollback;
	}
	for (j = 0; j < napp; j++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, ids[j]);
		sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_log_error(db, "record approval");
			goto rollback;
		}
	}
	snprintf(detail, sizeof(detail), "CA %s; reason %s (%d)%s%s; requested "
	    "by %s; approved by %s", ca->name, rname, code, inv[0] != '\0' ?
	    "; invalidity date " : "", inv, who, approved);
	if (!audit_append(db, who, "revoke", object, hash, "ok", detail) ||
	    !db_commit(db)) {
		goto rollback;
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:s,s:i,s:s,s:s}", "serial",
		    serial, "ca", ca->name, "reason", rname, "reason_code", code,
		    "time", now, "approved_by", approved));
	} else {
		printf(_("certificate %s revoked (%s) at %s, approved by %s\n"),
		    serial, rname, now, approved);
	}
	ret = EXIT_OK;
	if (args_get(&a, "pin") != NULL &&
	    !ca_audit_sign(db, NULL, args_get(&a, "pin"))) {
		ret = EXIT_ERROR;
	}
	goto out;
rollback:
	db_rollback(db);
out:
	sqlite3_finalize(st);
	for (j = 0; j < napp; j++) {
		free(names[j]);
	}
	ca_row_free(ca);
	db_close(db);
	free(who);
	free(buf);
	return ret;
}
