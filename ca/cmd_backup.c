/*
 * "eseal-ca backup create|verify" and "eseal-ca restore".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "audit.h"
#include "backup.h"
#include "ca.h"
#include "log.h"
#include "util.h"

static void
backup_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: eseal-ca backup create FILE --pass SRC\n"
	    "       eseal-ca backup verify FILE --pass SRC [--json]\n"
	    "       eseal-ca restore FILE --pass SRC\n"
	    "  Backups are a consistent copy of the store, encrypted and\n"
	    "  authenticated (AES-256-GCM, key from scrypt).  verify checks a backup\n"
	    "  without restoring it; restore refuses a backup that fails\n"
	    "  verification and never lets CRL numbers or serials go back.\n");
}

static void
print_info(const char *what, const char *file, const struct backup_info *bi)
{
	char ts[32];

	time_fmt(bi->created, ts, sizeof(ts));
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "result",
		    what, "file", file, "created", ts, "instance_id",
		    bi->instance_id, "max_crl_number",
		    (json_int_t)bi->max_crl_number, "certificates",
		    (json_int_t)bi->certificates, "audit_entries",
		    (json_int_t)bi->audit_entries));
	} else {
		printf("%s %s: instance %s, created %s, %lld certificates, "
		    "highest CRL number %lld, %lld audit entries\n", what, file,
		    bi->instance_id, ts, (long long)bi->certificates,
		    (long long)bi->max_crl_number, (long long)bi->audit_entries);
	}
}

int
cmd_backup(int argc, char **argv)
{
	static const char *const valued[] = { "pass", NULL };
	struct backup_info bi;
	struct args a;
	struct db *db = NULL;
	int ret = EXIT_ERROR;

	if (!args_parse(argc, argv, valued, NULL, &a)) {
		return EXIT_USAGE;
	}
	if (a.help) {
		backup_usage(stdout);
		return EXIT_OK;
	}
	if (a.npos != 2 || !args_need(&a, "pass", "backup")) {
		backup_usage(stderr);
		return EXIT_USAGE;
	}
	memset(&bi, 0, sizeof(bi));
	if (strcmp(a.pos[0], "create") == 0) {
		if ((db = ca_open_db()) == NULL) {
			return EXIT_ERROR;
		}
		if (backup_write(db, a.pos[1], args_get(&a, "pass"), &bi)) {
			audit_append(db, "system", "backup", a.pos[1], NULL, "ok",
			    NULL);
			print_info("backup written", a.pos[1], &bi);
			ret = EXIT_OK;
		}
		db_close(db);
	} else if (strcmp(a.pos[0], "verify") == 0) {
		if (backup_verify(a.pos[1], args_get(&a, "pass"), &bi)) {
			print_info("backup verified", a.pos[1], &bi);
			ret = EXIT_OK;
		} else {
			ret = EXIT_REFUSED;
		}
	} else {
		backup_usage(stderr);
		ret = EXIT_USAGE;
	}
	return ret;
}

int
cmd_restore(int argc, char **argv)
{
	static const char *const valued[] = { "pass", NULL };
	struct args a;

	if (!args_parse(argc, argv, valued, NULL, &a)) {
		return EXIT_USAGE;
	}
	if (a.help) {
		backup_usage(stdout);
		return EXIT_OK;
	}
	if (a.npos != 1 || !args_need(&a, "pass", "restore") ||
	    g.db_path == NULL) {
		backup_usage(stderr);
		return EXIT_USAGE;
	}
	if (!backup_restore(a.pos[0], args_get(&a, "pass"), g.db_path)) {
		return EXIT_REFUSED;
	}
	printf("restored %s into %s\n", a.pos[0], g.db_path);
	return EXIT_OK;
}
