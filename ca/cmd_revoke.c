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

#include "args.h"
#include "audit.h"
#include "ca.h"
#include "carow.h"
#include "certrow.h"
#include "i18n.h"
#include "log.h"
#include "operators.h"
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

/*
 * One revocation being decided: what the command line asks, who asks,
 * and who approves.  Owned: ca, who, names[0..napp).
 */
struct revocation {
	struct ca_row	*ca;
	char		*who;
	int64_t		 req_id, cert_id;
	const char	*rname;
	int		 code;
	char		 serial[80], object[128], now[32], inv[32], hash[65];
	char		 approved[512];
	char		*names[MAX_APPROVERS];
	int64_t		 ids[MAX_APPROVERS];
	size_t		 napp;
};

/*
 * The serial, reason and invalidity date of the command line into rv.
 * 1/0 (logged; a usage error).
 */
static int
revoke_args(struct args *a, struct revocation *rv)
{
	const char *s;
	time_t it;
	size_t i;

	if (!serial_norm(a->pos[0], rv->serial, 41)) {
		log_warnx("revoke: \"%s\" is not a serial number (hex)",
		    a->pos[0]);
		return 0;
	}
	snprintf(rv->object, sizeof(rv->object), "certificate:%s", rv->serial);
	rv->rname = args_get(a, "reason");
	rv->code = -1;
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (strcmp(reasons[i].name, rv->rname) == 0) {
			rv->code = reasons[i].code;
		}
	}
	if (rv->code < 0) {
		log_warnx("revoke: unknown reason \"%s\" (see eseal-ca revoke "
		    "--help)", rv->rname);
		return 0;
	}
	if ((s = args_get(a, "invalidity-date")) != NULL) {
		if (!time_parse(s, &it, "revoke: --invalidity-date")) {
			return 0;
		}
		time_fmt(it, rv->inv, sizeof(rv->inv));
	}
	return 1;
}

/*
 * A refusal of the revocation (already logged by the caller) into the
 * audit chain as "refused: why".  Returns EXIT_REFUSED.
 */
static int
revoke_refused(struct db *db, const struct revocation *rv, const char *why,
    const char *detail)
{
	char result[128];

	snprintf(result, sizeof(result), "refused: %s", why);
	audit_append(db, rv->who, "revoke", rv->object, NULL, result, detail);
	return EXIT_REFUSED;
}

/*
 * What may be revoked: a real reason (not removeFromCRL), a known CA
 * (loaded into rv->ca), a certificate of that CA not yet revoked (its id
 * into rv->cert_id), certificateHold only where the CA allows it, and no
 * invalidity date in the future.  Returns an exit code (EXIT_OK: go on;
 * refusals logged and audited).
 */
static int
revoke_check(struct db *db, struct revocation *rv, const char *ca_name)
{
	char since[32];

	if (rv->code == 8) {
		log_warnx("revoke %s: ES-REV-04: removeFromCRL is not a reason "
		    "to revoke (RFC 5280 5.3.1: it only appears in delta CRLs)",
		    rv->serial);
		return revoke_refused(db, rv, "removeFromCRL", NULL);
	}
	if ((rv->ca = ca_row_load(db, ca_name)) == NULL) {
		return revoke_refused(db, rv, "no such CA", ca_name);
	}
	switch (certrow_revocation_state(db, rv->ca->id, rv->serial,
	    &rv->cert_id, since, sizeof(since))) {
	case -1:
		return EXIT_ERROR;
	case 0:
		log_warnx("revoke: ES-REV-01: no certificate with serial %s "
		    "issued by CA %s", rv->serial, rv->ca->name);
		return revoke_refused(db, rv, "unknown serial", rv->ca->name);
	case 2:
		log_warnx("revoke: ES-REV-03: certificate %s is already revoked "
		    "(since %s)", rv->serial, since);
		return revoke_refused(db, rv, "already revoked", NULL);
	}
	if (rv->code == 6 &&
	    !json_is_true(json_object_get(rv->ca->settings, "allow-hold"))) {
		log_warnx("revoke %s: ES-REV-02: certificateHold is not allowed "
		    "by CA %s's policy (settings \"allow-hold\")", rv->serial,
		    rv->ca->name);
		return revoke_refused(db, rv, "hold not allowed", rv->ca->name);
	}
	if (rv->inv[0] != '\0' && strcmp(rv->inv, rv->now) > 0) {
		log_warnx("revoke %s: ES-REV-05: the invalidity date %s is in "
		    "the future", rv->serial, rv->inv);
		return revoke_refused(db, rv, "invalidity date in the future",
		    rv->inv);
	}
	return EXIT_OK;
}

/*
 * M approvers of specs other than the requester, each once, into
 * rv->names/ids and rv->approved; those who fail to authenticate do not
 * count.  1/0 (logged and audited: too few approvers).
 */
static int
revoke_approvers(struct db *db, struct revocation *rv, char **specs,
    size_t nspecs)
{
	char *nm;
	int64_t id;
	size_t i, j, m = quorum_size(db);

	for (i = 0; i < nspecs; i++) {
		if (!auth_spec(db, specs[i], "approve a revocation", &nm, &id)) {
			continue;
		}
		if (id == rv->req_id) {
			log_warnx("revoke %s: ES-APPR-01: %s requested the "
			    "revocation and cannot approve it", rv->serial, nm);
			audit_append(db, nm, "revoke-approve", rv->object,
			    rv->hash, "refused: own request", NULL);
			free(nm);
			continue;
		}
		for (j = 0; j < rv->napp; j++) {
			if (rv->ids[j] == id) {
				break;
			}
		}
		if (j < rv->napp) {
			log_warnx("revoke %s: ES-QUORUM-02: %s approves only "
			    "once", rv->serial, nm);
			free(nm);
			continue;
		}
		rv->ids[rv->napp] = id;
		rv->names[rv->napp++] = nm;
	}
	if (rv->napp < m) {
		log_warnx("revoke %s: ES-QUORUM-01: %zu approvers needed besides "
		    "the requester, %zu authenticated", rv->serial, m, rv->napp);
		audit_append(db, rv->who, "revoke", rv->object, rv->hash,
		    "refused: approvals", NULL);
		return 0;
	}
	for (j = 0; j < rv->napp; j++) {
		snprintf(rv->approved + strlen(rv->approved),
		    sizeof(rv->approved) - strlen(rv->approved), "%s%s",
		    j > 0 ? "," : "", rv->names[j]);
	}
	return 1;
}

/*
 * Revocation row, approvals and audit entry: one transaction.  1/0
 * (logged; rolled back).
 */
static int
revoke_commit(struct db *db, const struct revocation *rv)
{
	sqlite3_stmt *st = NULL;
	char detail[1280];
	size_t j;

	if (!db_begin(db)) {
		return 0;
	}
	st = db_prepare(db, "INSERT INTO revocations (cert_id, ca_id, serial,"
	    " time, reason, invalidity_date, approved_by) VALUES"
	    " (?,?,?,?,?,?,?)");
	if (st == NULL) {
		goto rollback;
	}
	sqlite3_bind_int64(st, 1, rv->cert_id);
	sqlite3_bind_int64(st, 2, rv->ca->id);
	sqlite3_bind_text(st, 3, rv->serial, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, rv->now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, rv->code);
	if (rv->inv[0] != '\0') {
		sqlite3_bind_text(st, 6, rv->inv, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_text(st, 7, rv->approved, -1, SQLITE_TRANSIENT);
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
	for (j = 0; j < rv->napp; j++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, rv->serial, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, rv->hash, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, rv->ids[j]);
		sqlite3_bind_text(st, 4, rv->now, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_log_error(db, "record approval");
			goto rollback;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	snprintf(detail, sizeof(detail), "CA %s; reason %s (%d)%s%s; requested "
	    "by %s; approved by %s", rv->ca->name, rv->rname, rv->code,
	    rv->inv[0] != '\0' ? "; invalidity date " : "", rv->inv, rv->who,
	    rv->approved);
	if (!audit_append(db, rv->who, "revoke", rv->object, rv->hash, "ok",
	    detail) || !db_commit(db)) {
		goto rollback;
	}
	return 1;
rollback:
	sqlite3_finalize(st);
	db_rollback(db);
	return 0;
}

int
cmd_revoke(int argc, char **argv)
{
	static const char *const valued[] = { "ca", "reason",
	    "invalidity-date", "requester", "approver", "pin", NULL };
	static const char *const flags[] = { NULL };
	struct revocation rv;
	struct args a;
	struct db *db = NULL;
	char *specs[MAX_APPROVERS];
	char *buf = NULL;
	size_t nspecs, j;
	int ret = EXIT_ERROR;

	memset(&rv, 0, sizeof(rv));
	if (!args_start(argc, argv, valued, flags, &a, usage, &ret)) {
		return ret;
	}
	if (a.npos != 1 || !args_need(&a, "ca", "revoke") ||
	    !args_need(&a, "reason", "revoke") ||
	    !args_need(&a, "requester", "revoke")) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!revoke_args(&a, &rv)) {
		return EXIT_USAGE;
	}
	nspecs = args_all(&a, "approver", specs, MAX_APPROVERS);
	if ((db = ca_open_db()) == NULL) {
		return EXIT_ERROR;
	}
	time_fmt(now_utc(), rv.now, sizeof(rv.now));
	if (!auth_spec(db, args_get(&a, "requester"), "request a revocation",
	    &rv.who, &rv.req_id)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if ((ret = revoke_check(db, &rv, args_get(&a, "ca"))) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_ERROR;

	/* What the approvers approve. */
	if (asprintf(&buf, "eseal-revocation-v1\n%s\n%s\n%d\n%s\n%s\n",
	    rv.ca->name, rv.serial, rv.code, rv.inv, rv.who) == -1) {
		fatalx("out of memory");
	}
	sha256_hex(buf, strlen(buf), rv.hash);
	if (!revoke_approvers(db, &rv, specs, nspecs)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if (!revoke_commit(db, &rv)) {
		goto out;
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:s,s:i,s:s,s:s}", "serial",
		    rv.serial, "ca", rv.ca->name, "reason", rv.rname,
		    "reason_code", rv.code, "time", rv.now, "approved_by",
		    rv.approved));
	} else {
		printf(_("certificate %s revoked (%s) at %s, approved by %s\n"),
		    rv.serial, rv.rname, rv.now, rv.approved);
	}
	ret = EXIT_OK;
	if (args_get(&a, "pin") != NULL &&
	    !ca_audit_sign(db, NULL, args_get(&a, "pin"))) {
		ret = EXIT_ERROR;
	}
out:
	for (j = 0; j < rv.napp; j++) {
		free(rv.names[j]);
	}
	ca_row_free(rv.ca);
	db_close(db);
	free(rv.who);
	free(buf);
	return ret;
}
