/*
 * "eseal-ca ca revoke": revoke an issuing CA of this instance under a
 * quorum of officers.  The CA's status becomes "revoked" and the
 * revocation (time, reason, invalidity date, officers) is recorded in its
 * settings JSON under "revocation", from where the root's ARL
 * ("eseal-ca crl --ca ROOT") publishes it.  The CA row and the audit
 * entry commit in one transaction.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "i18n.h"
#include "args.h"
#include "audit.h"
#include "ca.h"
#include "carow.h"
#include "crl/crl.h"
#include "log.h"
#include "operators.h"
#include "util.h"

#define MAX_OFFICERS 16

static void
usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca ca revoke NAME --reason R [--invalidity-date DATE]\n"
	    "           --officer NAME=SRC... [--pin SRC]\n"
	    "  Revokes issuing CA NAME (reasons: unspecified, keyCompromise,\n"
	    "  cACompromise, affiliationChanged, superseded, cessationOfOperation,\n"
	    "  privilegeWithdrawn, aACompromise).  The root's next ARL lists it.\n"
	    "  --pin: the audit CA's token PIN, to sign the audit head.\n"));
}

int
cmd_ca_revoke(int argc, char **argv)
{
	static const char *const valued[] = { "reason", "invalidity-date",
	    "officer", "pin", NULL };
	struct args a;
	struct db *db = NULL;
	struct quorum q = { 0 };
	struct carow_state cs;
	json_t *settings = NULL, *rv;
	char *specs[MAX_OFFICERS], *who = NULL, *text = NULL;
	const char *kind, *status;
	char now[32], inv[32] = "", object[160], detail[512];
	const char *name, *s;
	int64_t id = 0;
	int reason, ret = EXIT_ERROR;
	time_t t;

	memset(&cs, 0, sizeof(cs));
	if (!args_start(argc, argv, valued, NULL, &a, usage, &ret)) {
		return ret;
	}
	if (a.npos != 1 || !args_need(&a, "reason", "ca revoke")) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = a.pos[0];
	snprintf(object, sizeof(object), "ca:%s", name);
	if (!crl_reason_from_name(args_get(&a, "reason"), &reason,
	    "ca revoke")) {
		return EXIT_USAGE;
	}
	if (reason == CRL_REASON_CERTIFICATE_HOLD ||
	    reason == CRL_REASON_REMOVE_FROM_CRL) {
		log_warnx("ca revoke %s: a CA revocation is final: %s is not a "
		    "reason for it", name, crl_reason_name(reason));
		return EXIT_USAGE;
	}
	t = now_utc();
	time_fmt(t, now, sizeof(now));
	if ((s = args_get(&a, "invalidity-date")) != NULL) {
		time_t it;

		if (!time_parse(s, &it, "--invalidity-date")) {
			return EXIT_USAGE;
		}
		if (it > t) {
			log_warnx("ca revoke %s: the invalidity date is in the "
			    "future", name);
			return EXIT_REFUSED;
		}
		time_fmt(it, inv, sizeof(inv));
	}
	if ((db = ca_open_db()) == NULL) {
		goto out;
	}
	switch (carow_state_load(db, name, &cs)) {
	case -1:
		goto out;
	case 0:
		log_warnx("ca revoke: no such CA \"%s\"", name);
		ret = EXIT_REFUSED;
		goto out;
	}
	id = cs.id;
	kind = cs.kind;
	status = cs.status;
	settings = json_loads(cs.settings, 0, NULL);
	if (strcmp(kind, "issuing") != 0) {
		log_warnx("ca revoke %s: only an issuing CA can be revoked (a "
		    "root is withdrawn from the trust lists)", name);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (strcmp(status, "active") != 0 && strcmp(status, "retired") != 0) {
		log_warnx("ca revoke %s: the CA is %s", name, status);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (!json_is_object(settings)) {
		log_warnx("ca revoke %s: the CA's settings are not a JSON object",
		    name);
		goto out;
	}
	if (!quorum_gather(db, specs, args_all(&a, "officer", specs,
	    MAX_OFFICERS), quorum_size(db), ROLE_OFFICER, "ca-revoke", &q)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	who = quorum_names(&q);
	rv = json_pack("{s:s,s:i,s:s,s:s}", "time", now, "reason", reason,
	    "reason-name", crl_reason_name(reason), "approved-by", who);
	if (inv[0] != '\0') {
		json_object_set_new(rv, "invalidity-date", json_string(inv));
	}
	json_object_set_new(settings, "revocation", rv);
	text = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS);
	if (!db_begin(db)) {
		goto out;
	}
	snprintf(detail, sizeof(detail), "reason %s (%d)%s%s; approved by %s",
	    crl_reason_name(reason), reason, inv[0] != '\0' ?
	    "; invalidity date " : "", inv, who);
	if (!carow_set_revoked(db, id, text) ||
	    !audit_append(db, who, "ca-revoke", object, NULL, "ok", detail) ||
	    !db_commit(db)) {
		db_log_error(db, "revoking the CA");
		db_rollback(db);
		goto out;
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:i,s:s,s:s}", "ca", name,
		    "reason", crl_reason_name(reason), "reason_code", reason,
		    "time", now, "approved_by", who));
	} else {
		printf(_("ca %s revoked (%s) at %s, approved by %s; sign the "
		    "root's ARL to publish it\n"), name, crl_reason_name(reason),
		    now, who);
	}
	ret = ca_audit_sign(db, NULL, args_get(&a, "pin")) ? EXIT_OK :
	    EXIT_ERROR;
out:
	carow_state_clear(&cs);
	json_decref(settings);
	quorum_free(&q);
	free(who);
	free(text);
	db_close(db);
	return ret;
}
