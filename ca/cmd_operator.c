/*
 * "eseal-ca operator ..." (add, list, passwd, unlock, bind-card).  Adding,
 * unlocking and binding need a quorum of officers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "args.h"
#include "audit.h"
#include "ca.h"
#include "i18n.h"
#include "log.h"
#include "operators.h"
#include "util.h"

#define MAX_OFFICERS 16

static void
op_usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca operator add NAME --role officer|operator|auditor --pass SRC\n"
	    "                         --officer NAME=SRC... [--pin SRC]\n"
	    "       eseal-ca operator list [--json]\n"
	    "       eseal-ca operator passwd NAME --old SRC --new SRC [--pin SRC]\n"
	    "       eseal-ca operator unlock NAME --officer NAME=SRC... [--pin SRC]\n"
	    "       eseal-ca operator bind-card NAME --module PATH --token-serial S\n"
	    "                         --key-id HEX --card-pin SRC --officer NAME=SRC... [--pin SRC]\n"
	    "  SRC: prompt, file:PATH, fd:N or env:VAR.  --pin is the PIN source of the\n"
	    "  audit CA's token, used to sign the audit head at the end.\n"));
}

static int
op_list(struct db *db)
{
	sqlite3_stmt *st;
	json_t *arr = NULL;

	st = db_prepare(db, "SELECT name, role, failures, locked, disabled,"
	    " card_token_serial IS NOT NULL, created, created_by"
	    " FROM operators ORDER BY name");
	if (st == NULL) {
		return EXIT_ERROR;
	}
	if (g.json) {
		arr = json_array();
	} else {
		printf("%-20s %-9s %-8s %-6s %-4s %s\n", "NAME", "ROLE",
		    "FAILURES", "LOCKED", "CARD", "CREATED");
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *role = (const char *)sqlite3_column_text(st, 1);

		if (g.json) {
			json_array_append_new(arr, json_pack(
			    "{s:s,s:s,s:i,s:b,s:b,s:b,s:s,s:s}", "name", name,
			    "role", role, "failures", sqlite3_column_int(st, 2),
			    "locked", sqlite3_column_int(st, 3),
			    "disabled", sqlite3_column_int(st, 4),
			    "card", sqlite3_column_int(st, 5),
			    "created", sqlite3_column_text(st, 6),
			    "created_by", sqlite3_column_text(st, 7)));
		} else {
			printf("%-20s %-9s %-8d %-6s %-4s %s\n", name, role,
			    sqlite3_column_int(st, 2),
			    sqlite3_column_int(st, 3) ? "yes" : "no",
			    sqlite3_column_int(st, 5) ? "yes" : "no",
			    sqlite3_column_text(st, 6));
		}
	}
	sqlite3_finalize(st);
	if (g.json) {
		json_print(arr);
	}
	return EXIT_OK;
}

/*
 * "operator add NAME --role R --pass SRC" under a quorum of officers
 * (specs): the operator row and its audit entry in one transaction.
 * Returns an exit code (logged).
 */
static int
op_add(struct db *db, struct args *a, const char *name, char **specs,
    size_t n)
{
	struct quorum q = { 0 };
	enum op_role role;
	const char *who;
	int ret = EXIT_ERROR;

	if (!args_need(a, "role", "operator add") ||
	    !args_need(a, "pass", "operator add")) {
		return EXIT_USAGE;
	}
	if (!op_role_from_name(args_get(a, "role"), &role) ||
	    role == ROLE_ANY) {
		log_warnx("operator add: --role must be officer, operator "
		    "or auditor");
		return EXIT_USAGE;
	}
	if (!quorum_gather(db, specs, n, quorum_size(db), ROLE_OFFICER,
	    "operator-add", &q)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	who = q.who;
	if (!db_begin(db)) {
		goto out;
	}
	if (!operator_add(db, name, role, args_get(a, "pass"), who) ||
	    !audit_append(db, who, "operator-add", name, NULL, "ok",
	    op_role_name(role)) || !db_commit(db)) {
		db_rollback(db);
		ret = EXIT_REFUSED;
		goto out;
	}
	printf(_("operator %s added as %s (approved by %s)\n"), name,
	    op_role_name(role), who);
	ret = EXIT_OK;
out:
	quorum_free(&q);
	return ret;
}

/*
 * "operator unlock NAME" under a quorum of officers (specs): failures
 * and lock cleared, audited, in one transaction.  Returns an exit code
 * (logged; ES-OP-01 for an unknown operator).
 */
static int
op_unlock(struct db *db, const char *name, char **specs, size_t n)
{
	struct quorum q = { 0 };
	sqlite3_stmt *st;
	const char *who;
	int ret = EXIT_ERROR;

	if (!quorum_gather(db, specs, n, quorum_size(db), ROLE_OFFICER,
	    "operator-unlock", &q)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	who = q.who;
	if (!db_begin(db)) {
		goto out;
	}
	st = db_prepare(db, "UPDATE operators SET locked = 0, failures = 0"
	    " WHERE name = ?");
	if (st == NULL) {
		db_rollback(db);
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE ||
	    sqlite3_changes(db_handle(db)) != 1) {
		sqlite3_finalize(st);
		db_rollback(db);
		log_warnx("operator %s: ES-OP-01: unknown operator", name);
		ret = EXIT_REFUSED;
		goto out;
	}
	sqlite3_finalize(st);
	if (!audit_append(db, who, "operator-unlock", name, NULL, "ok",
	    NULL) || !db_commit(db)) {
		db_rollback(db);
		goto out;
	}
	printf(_("operator %s unlocked (approved by %s)\n"), name, who);
	ret = EXIT_OK;
out:
	quorum_free(&q);
	return ret;
}

int
cmd_operator(int argc, char **argv)
{
	static const char *const valued[] = { "role", "pass", "officer", "pin",
	    "old", "new", "module", "token-serial", "key-id", "card-pin", NULL };
	struct args a;
	struct db *db = NULL;
	struct quorum q = { 0 };
	char *officers[MAX_OFFICERS];
	const char *who;
	const char *sub, *name;
	size_t n;
	int ret = EXIT_ERROR;

	if (!args_start(argc, argv, valued, NULL, &a, op_usage, &ret)) {
		return ret;
	}
	if (a.npos < 1) {
		op_usage(stderr);
		return EXIT_USAGE;
	}
	sub = a.pos[0];
	name = a.npos > 1 ? a.pos[1] : NULL;
	if (strcmp(sub, "list") != 0 && name == NULL) {
		op_usage(stderr);
		return EXIT_USAGE;
	}
	if ((db = ca_open_db()) == NULL) {
		goto out;
	}
	n = args_all(&a, "officer", officers, MAX_OFFICERS);
	if (strcmp(sub, "list") == 0) {
		ret = op_list(db);
		goto out;
	} else if (strcmp(sub, "passwd") == 0) {
		if (!args_need(&a, "old", "operator passwd") ||
		    !args_need(&a, "new", "operator passwd")) {
			ret = EXIT_USAGE;
			goto out;
		}
		if (!operator_passwd(db, name, args_get(&a, "old"),
		    args_get(&a, "new"))) {
			ret = EXIT_REFUSED;
			goto out;
		}
		printf(_("operator %s: passphrase changed\n"), name);
	} else if (strcmp(sub, "add") == 0) {
		if ((ret = op_add(db, &a, name, officers, n)) != EXIT_OK) {
			goto out;
		}
	} else if (strcmp(sub, "unlock") == 0) {
		if ((ret = op_unlock(db, name, officers, n)) != EXIT_OK) {
			goto out;
		}
	} else if (strcmp(sub, "bind-card") == 0) {
		if (!args_need(&a, "module", "operator bind-card") ||
		    !args_need(&a, "token-serial", "operator bind-card") ||
		    !args_need(&a, "key-id", "operator bind-card") ||
		    !args_need(&a, "card-pin", "operator bind-card")) {
			ret = EXIT_USAGE;
			goto out;
		}
		if (!quorum_gather(db, officers, n, quorum_size(db),
		    ROLE_OFFICER, "operator-bind-card", &q)) {
			ret = EXIT_REFUSED;
			goto out;
		}
		who = q.who;
		if (!operator_bind_card(db, name, args_get(&a, "module"),
		    args_get(&a, "token-serial"), args_get(&a, "key-id"),
		    args_get(&a, "card-pin"))) {
			ret = EXIT_REFUSED;
			goto out;
		}
		audit_append(db, who, "operator-bind-card", name, NULL, "ok",
		    args_get(&a, "token-serial"));
		printf(_("operator %s bound to card %s key %s\n"), name,
		    args_get(&a, "token-serial"), args_get(&a, "key-id"));
	} else {
		log_warnx("operator: unknown subcommand \"%s\"", sub);
		ret = EXIT_USAGE;
		goto out;
	}
	ret = EXIT_OK;
	if (!ca_audit_sign(db, NULL, args_get(&a, "pin"))) {
		ret = EXIT_ERROR;
	}
out:
	quorum_free(&q);
	db_close(db);
	return ret;
}
