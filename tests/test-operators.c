/*
 * Test driver for ca/operators.c: one subcommand per operation on a store
 * so that tests/operators.test can check exit status, messages, the store
 * and the audit table from the outside.
 *
 *   test-operators DB create
 *   test-operators DB add NAME ROLE PASS_SOURCE
 *   test-operators DB auth NAME PASS_SOURCE [ROLE|any [CARD_PIN_SOURCE]]
 *   test-operators DB auth-in-tx NAME PASS_SOURCE
 *   test-operators DB passwd NAME OLD_SOURCE NEW_SOURCE
 *   test-operators DB quorum M ROLE|any ACTION [SPEC...]
 *   test-operators DB quorum-size
 *   test-operators DB set-quorum VALUE
 *   test-operators DB bind-card NAME MODULE SERIAL KEY_ID PIN_SOURCE
 *   test-operators DB failures NAME
 *   test-operators - roles
 *
 * auth prints the auth_result name and exits 0 only for AUTH_OK.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/operators.h"
#include "db.h"
#include "log.h"

/*
 * tests/operators-race.test runs 20 of these at once on a loaded (or
 * sanitized) machine: wait for the store's lock longer than the default.
 */
#define BUSY_MS	30000

static const char *const result_names[] = {
	"AUTH_OK", "AUTH_UNKNOWN", "AUTH_BAD_PASS", "AUTH_LOCKED",
	"AUTH_WRONG_ROLE", "AUTH_NO_SECRET", "AUTH_CARD_FAILED", "AUTH_ERROR"
};

static int
usage(void)
{
	fprintf(stderr, "usage: test-operators DB command [args]\n");
	return 2;
}

static int
role_arg(const char *s, enum op_role *r)
{
	if (strcmp(s, "any") == 0) {
		*r = ROLE_ANY;
		return 1;
	}
	return op_role_from_name(s, r);
}

/* Names and round trips of the roles. */
static int
cmd_roles(void)
{
	enum op_role r, back;
	int ok = 1;

	for (r = ROLE_OFFICER; r <= ROLE_AUDITOR; r++) {
		if (!op_role_from_name(op_role_name(r), &back) || back != r) {
			ok = 0;
		}
		printf("%s\n", op_role_name(r));
	}
	if (op_role_from_name("root", &back)) {
		ok = 0;
	}
	return ok ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	struct db *db = NULL;
	struct quorum q;
	enum auth_result ar;
	enum op_role role = ROLE_ANY;
	const char *cmd;
	char *s;
	int64_t id = 0;
	int rc = 1;

	log_init("test-operators");
	memset(&q, 0, sizeof(q));
	if (argc < 3) {
		return usage();
	}
	cmd = argv[2];
	if (strcmp(cmd, "roles") == 0) {
		return cmd_roles();
	}
	if ((db = db_open(argv[1], strcmp(cmd, "create") == 0 ?
	    DB_OPEN_CREATE : DB_OPEN_EXISTING, BUSY_MS)) == NULL) {
		return 1;
	}
	if (strcmp(cmd, "create") == 0 && argc == 3) {
		rc = 0;
	} else if (strcmp(cmd, "add") == 0 && argc == 6) {
		if (role_arg(argv[4], &role) && db_begin(db)) {
			if (operator_add(db, argv[3], role, argv[5], "test") &&
			    db_commit(db)) {
				rc = 0;
			} else {
				db_rollback(db);
			}
		}
	} else if (strcmp(cmd, "auth") == 0 && argc >= 5 && argc <= 7) {
		if (argc < 6 || role_arg(argv[5], &role)) {
			ar = operator_authenticate(db, argv[3], argv[4],
			    argc == 7 ? argv[6] : NULL, role, &id);
			printf("%s", result_names[ar]);
			if (ar == AUTH_OK) {
				printf(" id=%lld", (long long)id);
				rc = 0;
			}
			printf("\n");
		}
	} else if (strcmp(cmd, "auth-in-tx") == 0 && argc == 5) {
		/* Must be refused: the login record needs its own transaction. */
		if (db_begin(db)) {
			ar = operator_authenticate(db, argv[3], argv[4], NULL,
			    ROLE_ANY, &id);
			printf("%s\n", result_names[ar]);
			rc = ar == AUTH_OK ? 0 : 1;
			db_rollback(db);
		}
	} else if (strcmp(cmd, "passwd") == 0 && argc == 6) {
		rc = operator_passwd(db, argv[3], argv[4], argv[5]) ? 0 : 1;
	} else if (strcmp(cmd, "quorum") == 0 && argc >= 6) {
		if (role_arg(argv[4], &role) &&
		    quorum_gather(db, argv + 6, argc - 6,
		    strtoul(argv[3], NULL, 10), role, argv[5], &q)) {
			s = quorum_names(&q);
			printf("%s n=%zu\n", s, q.n);
			free(s);
			rc = 0;
		}
	} else if (strcmp(cmd, "quorum-size") == 0 && argc == 3) {
		printf("%zu\n", quorum_size(db));
		rc = 0;
	} else if (strcmp(cmd, "set-quorum") == 0 && argc == 4) {
		rc = db_meta_set(db, "quorum", argv[3]) ? 0 : 1;
	} else if (strcmp(cmd, "bind-card") == 0 && argc == 8) {
		rc = operator_bind_card(db, argv[3], argv[4], argv[5], argv[6],
		    argv[7]) ? 0 : 1;
	} else if (strcmp(cmd, "failures") == 0 && argc == 4) {
		sqlite3_stmt *st;

		if ((st = db_prepare(db, "SELECT failures, locked FROM "
		    "operators WHERE name = ?")) != NULL) {
			sqlite3_bind_text(st, 1, argv[3], -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW) {
				printf("failures=%d locked=%d\n",
				    sqlite3_column_int(st, 0),
				    sqlite3_column_int(st, 1));
				rc = 0;
			}
			sqlite3_finalize(st);
		}
	} else {
		rc = usage();
	}
	quorum_free(&q);
	db_close(db);
	return rc;
}
