/*
 * "eseal-ca backup create|verify" and "eseal-ca restore".  Both backup
 * create and restore need the officer quorum and are audited with who did
 * them.  A restore never lets anything go back: what the backup lacks
 * compared with the store it replaces and with the witnesses (published
 * status exports and CRLs) is carried over (common/restore.c) before one
 * atomic rename installs it (common/backup.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "i18n.h"
#include "args.h"
#include "audit.h"
#include "backup.h"
#include "ca.h"
#include "log.h"
#include "operators.h"
#include "restore.h"
#include "restore_witness.h"
#include "util.h"

#define MAX_OFFICERS	16
#define MAX_WITNESSES	32

static void
backup_usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca backup create FILE --pass SRC --officer NAME=SRC...\n"
	    "       eseal-ca backup verify FILE --pass SRC [--json]\n"
	    "       eseal-ca restore FILE --pass SRC --officer NAME=SRC...\n"
	    "                [--witness FILE...] [--replace-newer] [--json]\n"
	    "  Backups are a consistent copy of the store, encrypted and\n"
	    "  authenticated (AES-256-GCM, key from scrypt); create needs the\n"
	    "  officer quorum and is audited with their names.  verify checks a\n"
	    "  backup without restoring it.  restore needs the quorum of the store\n"
	    "  it replaces (of the backup if there is no store), refuses a backup\n"
	    "  that fails verification, and refuses to replace a store that is\n"
	    "  newer than the backup unless --replace-newer is given.  It prints\n"
	    "  what the backup lacks compared with the replaced store and the\n"
	    "  witnesses (status exports, CRLs in DER or PEM, verified against the\n"
	    "  CA certificates) and carries it over: certificates, revocations\n"
	    "  (audited again with their reason and time), CRL numbers and export\n"
	    "  sequences never go back.\n"));
}

static void
print_info(const char *what, const char *file, const struct backup_info *bi)
{
	char ts[32];

	time_fmt(bi->created, ts, sizeof(ts));
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s}",
		    "result", what, "file", file, "created", ts, "instance_id",
		    bi->instance_id, "max_crl_number",
		    (json_int_t)bi->max_crl_number, "certificates",
		    (json_int_t)bi->certificates, "audit_entries",
		    (json_int_t)bi->audit_entries, "sha256", bi->sha256));
	} else {
		printf("%s %s: instance %s, created %s, %lld certificates, "
		    "highest CRL number %lld, %lld audit entries\n", what, file,
		    bi->instance_id, ts, (long long)bi->certificates,
		    (long long)bi->max_crl_number, (long long)bi->audit_entries);
	}
}

/* "backup create": under the quorum, audited with its names. */
static int
backup_create(const struct args *a)
{
	struct backup_info bi;
	struct quorum q = { 0 };
	struct db *db = NULL;
	char *specs[MAX_OFFICERS], detail[256];
	const char *who;
	const char *file = a->pos[1];
	int ret = EXIT_ERROR;

	memset(&bi, 0, sizeof(bi));
	if ((db = ca_open_db()) == NULL) {
		return EXIT_ERROR;
	}
	if (!quorum_gather(db, specs, args_all(a, "officer", specs,
	    MAX_OFFICERS), quorum_size(db), ROLE_OFFICER, "backup", &q)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	who = q.who;
	if (!backup_write(db, file, args_get(a, "pass"), &bi)) {
		audit_append(db, who, "backup", file, NULL, "failed", NULL);
		goto out;
	}
	snprintf(detail, sizeof(detail), "%lld certificates, highest CRL "
	    "number %lld, %lld audit entries, instance %s",
	    (long long)bi.certificates, (long long)bi.max_crl_number,
	    (long long)bi.audit_entries, bi.instance_id);
	if (!audit_append(db, who, "backup", file, bi.sha256, "ok", detail)) {
		goto out;
	}
	print_info("backup written", file, &bi);
	ret = EXIT_OK;
out:
	quorum_free(&q);
	db_close(db);
	return ret;
}

int
cmd_backup(int argc, char **argv)
{
	static const char *const valued[] = { "pass", "officer", NULL };
	struct backup_info bi;
	struct args a;
	int ret;

	if (!args_start(argc, argv, valued, NULL, &a, backup_usage, &ret)) {
		return ret;
	}
	if (a.npos != 2 || !args_need(&a, "pass", "backup")) {
		backup_usage(stderr);
		return EXIT_USAGE;
	}
	memset(&bi, 0, sizeof(bi));
	if (strcmp(a.pos[0], "create") == 0) {
		return backup_create(&a);
	}
	if (strcmp(a.pos[0], "verify") != 0) {
		backup_usage(stderr);
		return EXIT_USAGE;
	}
	if (!backup_verify(a.pos[1], args_get(&a, "pass"), &bi)) {
		return EXIT_REFUSED;
	}
	print_info("backup verified", a.pos[1], &bi);
	return EXIT_OK;
}

/* One restore in progress. */
struct restore_run {
	const struct args	*a;
	const char		*file;		/* the backup */
	struct db		*old;		/* the store replaced, or NULL */
	struct db		*db;		/* the decrypted backup */
	char			*tmp;		/* its path */
	char			*who;		/* the quorum's names */
	struct backup_info	 bi;
	struct restore_seen	 seen;
	struct restore_summary	 sum;
};

/*
 * The quorum of the store being replaced, or of the backup when there is
 * none (then the logins are recorded in the restored chain).  1/0.
 */
static int
restore_quorum(struct restore_run *r)
{
	struct quorum q = { 0 };
	struct db *db = r->old != NULL ? r->old : r->db;
	char *specs[MAX_OFFICERS];
	int ok;

	ok = quorum_gather(db, specs, args_all(r->a, "officer", specs,
	    MAX_OFFICERS), quorum_size(db), ROLE_OFFICER, "restore", &q);
	if (ok) {
		r->who = quorum_names(&q);
	}
	quorum_free(&q);
	return ok;
}

/* Open the store to replace, if there is one.  Exit code. */
static int
restore_open_old(struct restore_run *r)
{
	struct stat sb;

	if (stat(g.db_path, &sb) == -1) {
		return EXIT_OK;
	}
	if ((r->old = db_open(g.db_path, DB_OPEN_EXISTING, g.busy_ms)) ==
	    NULL) {
		log_warnx("%s: ES-RESTORE-03: the store to replace cannot be "
		    "opened; move a damaged store aside and restore into its "
		    "place with the published status export and CRLs as "
		    "witnesses", g.db_path);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/*
 * Carry over what the backup lacks, refuse a newer store without
 * --replace-newer, and record the restore in both chains.  Exit code.
 */
static int
restore_merge_all(struct restore_run *r)
{
	char *files[MAX_WITNESSES], note[512];
	FILE *out = g.json ? stderr : stdout;
	size_t n = args_all(r->a, "witness", files, MAX_WITNESSES);

	if (!restore_witness_load(files, n, r->db, r->old, &r->seen)) {
		return EXIT_REFUSED;
	}
	fprintf(out, _("restore %s: what the backup lacks, compared with %s:\n"),
	    r->file, r->old != NULL ? "the store it replaces and the "
	    "witnesses" : "the witnesses (no store to replace)");
	if (!restore_merge(r->db, r->old != NULL ? g.db_path : NULL, &r->seen,
	    r->who, out, &r->sum)) {
		return EXIT_ERROR;
	}
	if (r->sum.store_newer && !args_flag(r->a, "replace-newer")) {
		db_rollback(r->db);
		log_warnx("%s: ES-RESTORE-01: the store is newer than the backup "
		    "(listed above); the quorum replaces it only with "
		    "--replace-newer", g.db_path);
		audit_append(r->old, r->who, "restore", r->file, r->bi.sha256,
		    "refused: store newer than the backup", NULL);
		return EXIT_REFUSED;
	}
	snprintf(note, sizeof(note), "%s", r->old != NULL ? "the replaced "
	    "store is kept as .pre-restore" : "no store to replace: the "
	    "officers authenticated against the backup's operators");
	if (!restore_commit(r->db, r->who, r->file, &r->bi, &r->sum, note)) {
		return EXIT_ERROR;
	}
	/*
	 * Written before the switch: if the restore is killed before the
	 * rename, this store stays in use and says so.
	 */
	if (r->old != NULL && !audit_append(r->old, r->who, "restore",
	    r->file, r->bi.sha256, "installing", "this store is being "
	    "replaced by the backup and kept as .pre-restore; if it is still "
	    "in use, the restore did not complete")) {
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static void
restore_report(const struct restore_run *r)
{
	const struct restore_summary *s = &r->sum;

	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:s,s:b,s:i,s:i,s:i,s:i,s:i,s:i}",
		    "result", "restored", "file", r->file, "store", g.db_path,
		    "replaced", r->old != NULL, "cas", s->cas, "certificates",
		    s->certificates, "revocations", s->revocations,
		    "crl_numbers", s->crl_numbers, "sequences", s->sequences,
		    "serials_reserved", s->serials_reserved));
		return;
	}
	if (s->cas + s->certificates + s->revocations + s->crl_numbers +
	    s->sequences + s->serials_reserved == 0) {
		printf(_("  nothing\n"));
	}
	printf(_("restored %s into %s (approved by %s)\n"), r->file, g.db_path,
	    r->who);
}

int
cmd_restore(int argc, char **argv)
{
	static const char *const valued[] = { "pass", "officer", "witness",
	    NULL };
	static const char *const flags[] = { "replace-newer", NULL };
	struct restore_run r;
	struct args a;
	int ret;

	if (!args_start(argc, argv, valued, flags, &a, backup_usage, &ret)) {
		return ret;
	}
	if (a.npos != 1 || !args_need(&a, "pass", "restore") ||
	    g.db_path == NULL) {
		backup_usage(stderr);
		return EXIT_USAGE;
	}
	memset(&r, 0, sizeof(r));
	r.a = &a;
	r.file = a.pos[0];
	if ((ret = restore_open_old(&r)) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_REFUSED;
	if (r.old != NULL && !restore_quorum(&r)) {
		goto out;
	}
	if (!backup_install_check(g.db_path) ||
	    !backup_decrypt_near(r.file, args_get(&a, "pass"), g.db_path,
	    &r.tmp, &r.bi)) {
		goto out;
	}
	if ((r.db = db_open(r.tmp, DB_OPEN_EXISTING, g.busy_ms)) == NULL) {
		ret = EXIT_ERROR;
		goto out;
	}
	if (r.old == NULL && !restore_quorum(&r)) {
		goto out;
	}
	if ((ret = restore_merge_all(&r)) != EXIT_OK) {
		goto out;
	}
	/* Both closed: everything is in the files before the switch. */
	db_close(r.db);
	r.db = NULL;
	db_close(r.old);
	r.old = NULL;
	if (!backup_install(r.tmp, g.db_path)) {
		ret = EXIT_ERROR;
		goto out;
	}
	free(r.tmp);
	r.tmp = NULL;
	restore_report(&r);
	ret = EXIT_OK;
out:
	db_close(r.db);
	db_close(r.old);
	backup_discard(r.tmp);
	restore_seen_free(&r.seen);
	free(r.who);
	return ret;
}
