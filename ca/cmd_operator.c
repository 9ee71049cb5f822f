/*
 * "eseal-ca init" (create an instance with its first officers) and
 * "eseal-ca operator ..." (add, list, passwd, unlock, bind-card).  Adding,
 * unlocking and binding need a quorum of officers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "i18n.h"
#include "args.h"
#include "audit.h"
#include "ca.h"
#include "log.h"
#include "operators.h"
#include "util.h"

#define MAX_OFFICERS 16

static void
init_usage(FILE *fp)
{
	fprintf(fp, _("usage: eseal-ca init --db STORE --mode test|production "
	    "[--quorum M] --officer NAME=SRC...\n"
	    "  Creates the CA instance store (SQLite, mode 0600) and registers its\n"
	    "  first officers; SRC is where each officer's new passphrase is read\n"
	    "  (prompt, file:PATH, fd:N, env:VAR).  At least M officers (default 2).\n"
	    "  A test instance accepts locally declared CMVP records and SoftHSM2;\n"
	    "  a production instance refuses both.\n"));
}

int
cmd_init(int argc, char **argv)
{
	static const char *const valued[] = { "mode", "quorum", "officer", NULL };
	struct args a;
	struct db *db = NULL;
	char *officers[MAX_OFFICERS];
	char idstr[37], now[32], qbuf[16], *names = NULL;
	const char *mode;
	size_t n, i, j, m = 2, namelen = 0;
	uuid_t uu;
	int ret = EXIT_ERROR, created = 0;

	if (!args_parse(argc, argv, valued, NULL, &a)) {
		return EXIT_USAGE;
	}
	if (a.help) {
		init_usage(stdout);
		return EXIT_OK;
	}
	if (g.db_path == NULL || !args_need(&a, "mode", "init")) {
		init_usage(stderr);
		return EXIT_USAGE;
	}
	mode = args_get(&a, "mode");
	if (strcmp(mode, "test") != 0 && strcmp(mode, "production") != 0) {
		log_warnx("init: --mode must be test or production");
		return EXIT_USAGE;
	}
	if (args_get(&a, "quorum") != NULL) {
		long q = strtol(args_get(&a, "quorum"), NULL, 10);

		if (q < 1 || q > MAX_OFFICERS) {
			log_warnx("init: --quorum must be 1..%d", MAX_OFFICERS);
			return EXIT_USAGE;
		}
		m = (size_t)q;
	}
	n = args_all(&a, "officer", officers, MAX_OFFICERS);
	if (n < m) {
		log_warnx("init: ES-QUORUM-01: a quorum of %zu needs at least %zu "
		    "officers, %zu given", m, m, n);
		return EXIT_REFUSED;
	}
	for (i = 0; i < n; i++) {
		if (strchr(officers[i], '=') == NULL) {
			log_warnx("init: --officer %s: want NAME=SRC", officers[i]);
			return EXIT_USAGE;
		}
		for (j = 0; j < i; j++) {
			size_t li = strcspn(officers[i], "=");

			if (li == strcspn(officers[j], "=") &&
			    strncmp(officers[i], officers[j], li) == 0) {
				log_warnx("init: ES-QUORUM-02: officer %.*s given "
				    "twice", (int)li, officers[i]);
				return EXIT_REFUSED;
			}
		}
	}
	if ((db = db_open(g.db_path, DB_OPEN_CREATE, g.busy_ms)) == NULL) {
		goto out;
	}
	created = 1;
	if (!db_begin(db)) {
		goto out;
	}
	uuid_generate_random(uu);
	uuid_unparse_lower(uu, idstr);
	time_fmt(now_utc(), now, sizeof(now));
	snprintf(qbuf, sizeof(qbuf), "%zu", m);
	if (!db_meta_set(db, "instance_id", idstr) ||
	    !db_meta_set(db, "instance_mode", mode) ||
	    !db_meta_set(db, "quorum", qbuf) ||
	    !db_meta_set(db, "created", now)) {
		goto out;
	}
	if ((names = calloc(1, 1)) == NULL) {
		fatalx("out of memory");
	}
	for (i = 0; i < n; i++) {
		char *eq = strchr(officers[i], '=');

		*eq = '\0';
		if (!operator_add(db, officers[i], ROLE_OFFICER, eq + 1, "init")) {
			goto out;
		}
		namelen += strlen(officers[i]) + 2;
		if ((names = realloc(names, namelen)) == NULL) {
			fatalx("out of memory");
		}
		if (i > 0) {
			strcat(names, ",");
		}
		strcat(names, officers[i]);
	}
	if (!audit_append(db, names, "init", idstr, NULL, "ok", mode)) {
		goto out;
	}
	if (!db_commit(db)) {
		goto out;
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:s,s:i,s:s}", "store", g.db_path,
		    "instance_id", idstr, "mode", mode, "quorum", (int)m,
		    "officers", names));
	} else {
		printf(_("created %s instance %s in %s: quorum %zu, officers %s\n"),
		    mode, idstr, g.db_path, m, names);
	}
	created = 0;
	ret = EXIT_OK;
out:
	if (db != NULL) {
		db_rollback(db);
	}
	db_close(db);
	if (created) {
		/* Nothing committed: leave no half-made store behind. */
		char side[4096];

		unlink(g.db_path);
		snprintf(side, sizeof(side), "%s-wal", g.db_path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", g.db_path);
		unlink(side);
	}
	free(names);
	return ret;
}

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

int
cmd_operator(int argc, char **argv)
{
	static const char *const valued[] = { "role", "pass", "officer", "pin",
	    "old", "new", "module", "token-serial", "key-id", "card-pin", NULL };
	struct args a;
	struct db *db = NULL;
	struct quorum q = { 0 };
	char *officers[MAX_OFFICERS], *who = NULL;
	const char *sub, *name;
	enum op_role role;
	size_t n;
	int ret = EXIT_ERROR;

	if (!args_parse(argc, argv, valued, NULL, &a)) {
		return EXIT_USAGE;
	}
	if (a.help) {
		op_usage(stdout);
		return EXIT_OK;
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
		if (!args_need(&a, "role", "operator add") ||
		    !args_need(&a, "pass", "operator add")) {
			ret = EXIT_USAGE;
			goto out;
		}
		if (!op_role_from_name(args_get(&a, "role"), &role) ||
		    role == ROLE_ANY) {
			log_warnx("operator add: --role must be officer, operator "
			    "or auditor");
			ret = EXIT_USAGE;
			goto out;
		}
		if (!quorum_gather(db, officers, n, quorum_size(db),
		    ROLE_OFFICER, "operator-add", &q)) {
			ret = EXIT_REFUSED;
			goto out;
		}
		who = quorum_names(&q);
		if (!db_begin(db)) {
			goto out;
		}
		if (!operator_add(db, name, role, args_get(&a, "pass"), who) ||
		    !audit_append(db, who, "operator-add", name, NULL, "ok",
		    op_role_name(role)) || !db_commit(db)) {
			db_rollback(db);
			ret = EXIT_REFUSED;
			goto out;
		}
		printf(_("operator %s added as %s (approved by %s)\n"), name,
		    op_role_name(role), who);
	} else if (strcmp(sub, "unlock") == 0) {
		sqlite3_stmt *st;

		if (!quorum_gather(db, officers, n, quorum_size(db),
		    ROLE_OFFICER, "operator-unlock", &q)) {
			ret = EXIT_REFUSED;
			goto out;
		}
		who = quorum_names(&q);
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
		who = quorum_names(&q);
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
	free(who);
	db_close(db);
	return ret;
}
