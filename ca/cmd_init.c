/*
 * "eseal-ca init": create an instance store (test or production mode,
 * the quorum size) with its first officers.
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

	if (!args_start(argc, argv, valued, NULL, &a, init_usage, &ret)) {
		return ret;
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
