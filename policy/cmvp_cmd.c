/*
 * "eseal-policy cmvp ...": import of NIST CMVP
 * snapshots (the NIST-CMVP-API JSON layout and our CSV layout,
 * doc/cmvp-csv.md) into the store with a history of every change, the
 * effective status report and local declarations for test instances (the
 * token identity table is hsm_cmd.c's, the shared options subcmd.c's).
 * Every import or change is one transaction; a malformed file changes
 * nothing.
 */
#include "config.h"

#include <ctype.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "actor.h"
#include "audit.h"
#include "cmvp.h"
#include "cmvp_parse.h"
#include "db.h"
#include "i18n.h"
#include "log.h"
#include "policy.h"
#include "subcmd.h"
#include "util.h"


#define CMVP_MAX_FILE	(256 * 1024 * 1024)

struct counts {
	long	records, added, changed, unchanged, skipped;
};


/* ---- the store ---- */

/* The newest snapshot date imported from CMVP ("" if none).  1/0. */
static int
newest_snapshot(struct db *db, char out[11])
{
	sqlite3_stmt *st;
	const unsigned char *s;
	int rc;

	out[0] = '\0';
	st = db_prepare(db, "SELECT max(snapshot_date) FROM cmvp_snapshots"
	    " WHERE local = 0");
	if (st == NULL) {
		return 0;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && (s = sqlite3_column_text(st, 0)) != NULL) {
		snprintf(out, 11, "%s", s);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		db_log_error(db, "reading snapshots");
		return 0;
	}
	return 1;
}

static int64_t
insert_snapshot(struct db *db, const char *date, const char *source,
    const char *sha, const char *by, long records, int local)
{
	sqlite3_stmt *st;
	char now[32];
	int64_t id = 0;

	time_fmt(now_utc(), now, sizeof(now));
	st = db_prepare(db, "INSERT INTO cmvp_snapshots (snapshot_date,"
	    " source, file_sha256, imported, imported_by, records, local)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)");
	if (st == NULL) {
		return 0;
	}
	bind_str(st, 1, date);
	bind_str(st, 2, source);
	bind_str(st, 3, sha);
	bind_str(st, 4, now);
	bind_str(st, 5, by);
	sqlite3_bind_int64(st, 6, records);
	sqlite3_bind_int(st, 7, local);
	if (step_done(db, st, "recording the snapshot")) {
		id = sqlite3_last_insert_rowid(db_handle(db));
	}
	sqlite3_finalize(st);
	return id;
}

/* Prepared statements of one import. */
struct importer {
	struct db	*db;
	sqlite3_stmt	*get, *ins, *upd, *hist, *touch;
};

/* Finalise the statements; an all-zero importer (none prepared) is fine. */
static void
importer_free(struct importer *im)
{
	sqlite3_finalize(im->get);
	sqlite3_finalize(im->ins);
	sqlite3_finalize(im->upd);
	sqlite3_finalize(im->hist);
	sqlite3_finalize(im->touch);
}

static int
importer_init(struct importer *im, struct db *db)
{
	memset(im, 0, sizeof(*im));
	im->db = db;
	im->get = db_prepare(db, "SELECT m.vendor, m.module_name, m.standard,"
	    " m.status, m.overall_level, m.module_type, m.embodiment,"
	    " m.sunset_date, m.validation_dates, m.local, s.snapshot_date"
	    " FROM cmvp_modules m JOIN cmvp_snapshots s ON s.id = m.snapshot_id"
	    " WHERE m.cert_number = ?");
	im->ins = db_prepare(db, "INSERT INTO cmvp_modules (cert_number,"
	    " vendor, module_name, standard, status, overall_level,"
	    " module_type, embodiment, sunset_date, validation_dates,"
	    " snapshot_id, local) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	    " ?10, ?11, 0)");
	im->upd = db_prepare(db, "UPDATE cmvp_modules SET vendor = ?2,"
	    " module_name = ?3, standard = ?4, status = ?5, overall_level = ?6,"
	    " module_type = ?7, embodiment = ?8, sunset_date = ?9,"
	    " validation_dates = ?10, snapshot_id = ?11 WHERE cert_number = ?1");
	im->hist = db_prepare(db, "INSERT INTO cmvp_history (cert_number,"
	    " field, old_value, new_value, changed, snapshot_id)"
	    " VALUES (?, ?, ?, ?, ?, ?)");
	im->touch = db_prepare(db, "UPDATE cmvp_modules SET snapshot_id = ?2"
	    " WHERE cert_number = ?1");
	if (im->get == NULL || im->ins == NULL || im->upd == NULL ||
	    im->hist == NULL || im->touch == NULL) {
		importer_free(im);
		return 0;
	}
	return 1;
}

static int
history(struct importer *im, const char *cert, const char *field,
    const char *old, const char *new, const char *date, int64_t snap)
{
	bind_str(im->hist, 1, cert);
	bind_str(im->hist, 2, field);
	if (old != NULL) {
		bind_str(im->hist, 3, old);
	}
	bind_str(im->hist, 4, new);
	bind_str(im->hist, 5, date);
	sqlite3_bind_int64(im->hist, 6, snap);
	return step_done(im->db, im->hist, "recording history");
}

static void
bind_rec(sqlite3_stmt *st, const char *cert, const char *const *v, int level,
    int64_t snap)
{
	bind_str(st, 1, cert);
	bind_str(st, 2, v[0]);
	bind_str(st, 3, v[1]);
	bind_str(st, 4, v[2]);
	bind_str(st, 5, v[3]);
	if (level > 0) {
		sqlite3_bind_int(st, 6, level);
	}
	bind_str(st, 7, v[5]);
	bind_str(st, 8, v[6]);
	bind_str(st, 9, v[7]);
	bind_str(st, 10, v[8]);
	sqlite3_bind_int64(st, 11, snap);
}

#define NFIELDS 9
static const char *const field_names[NFIELDS] = { "vendor", "module_name",
    "standard", "status", "overall_level", "module_type", "embodiment",
    "sunset_date", "validation_dates" };

/*
 * Merge one record into the store.  A field the snapshot leaves empty
 * keeps the stored value (the historical list has no standard, level or
 * sunset date): older facts are never deleted.  Each changed field gets a
 * history row dated with the snapshot.  1/0 (logged).
 */
static int
merge_rec(struct importer *im, const struct infile *f, const struct rec *r,
    int64_t snap, struct counts *c)
{
	const char *nv[NFIELDS];
	char *old[NFIELDS] = { NULL }, lvl[8], *p;
	const unsigned char *s;
	int i, rc, changes = 0, ret = 0, newlevel;

	snprintf(lvl, sizeof(lvl), "%d", r->level);
	nv[0] = r->vendor;
	nv[1] = r->module;
	nv[2] = r->standard;
	nv[3] = r->status;
	nv[4] = r->level > 0 ? lvl : "";
	nv[5] = r->module_type;
	nv[6] = r->embodiment;
	nv[7] = r->sunset;
	nv[8] = r->vdates;
	newlevel = r->level;

	bind_str(im->get, 1, r->cert);
	rc = sqlite3_step(im->get);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(im->get);
		bind_rec(im->ins, r->cert, nv, newlevel, snap);
		if (!step_done(im->db, im->ins, "adding a module")) {
			return 0;
		}
		c->added++;
		return 1;
	}
	if (rc != SQLITE_ROW) {
		db_log_error(im->db, "reading a module");
		sqlite3_reset(im->get);
		return 0;
	}
	if (sqlite3_column_int(im->get, 9)) {
		log_warnx("%s: certificate %s is a local declaration; the "
		    "snapshot's record is not imported", f->path, r->cert);
		sqlite3_reset(im->get);
		c->skipped++;
		return 1;
	}
	for (i = 0; i < NFIELDS; i++) {
		s = sqlite3_column_text(im->get, i);
		old[i] = xstrdup_or_empty(s != NULL ? (const char *)s : "");
	}
	s = sqlite3_column_text(im->get, 10);
	rc = s != NULL && strcmp((const char *)s, f->snapshot) > 0;
	sqlite3_reset(im->get);
	sqlite3_clear_bindings(im->get);

	for (i = 0; i < NFIELDS; i++) {
		if (*nv[i] == '\0') {
			nv[i] = old[i];		/* not in this snapshot */
			continue;
		}
		if (strcmp(nv[i], old[i]) == 0) {
			continue;
		}
		if (!history(im, r->cert, field_names[i],
		    *old[i] != '\0' ? old[i] : NULL, nv[i], f->snapshot,
		    snap)) {
			goto out;
		}
		changes++;
	}
	if (changes > 0) {
		newlevel = (int)strtol(nv[4], &p, 10);
		bind_rec(im->upd, r->cert, nv, newlevel, snap);
		if (!step_done(im->db, im->upd, "updating a module")) {
			goto out;
		}
		c->changed++;
	} else {
		/* Confirmed by a newer snapshot (not by an older one). */
		if (!rc) {
			bind_str(im->touch, 1, r->cert);
			sqlite3_bind_int64(im->touch, 2, snap);
			if (!step_done(im->db, im->touch, "updating a module")) {
				goto out;
			}
		}
		c->unchanged++;
	}
	ret = 1;
 out:
	for (i = 0; i < NFIELDS; i++) {
		free(old[i]);
	}
	return ret;
}

/* Import one parsed file inside the open transaction.  Returns an exit code. */
static int
import_one(struct db *db, const struct infile *f, const char *by, int force)
{
	struct importer im;
	struct counts c;
	char newest[11], detail[256];
	const char *src;
	int64_t snap;
	size_t i;
	int ret = EXIT_ERROR;

	memset(&c, 0, sizeof(c));
	if (!newest_snapshot(db, newest)) {
		return EXIT_ERROR;
	}
	if (newest[0] != '\0' && strcmp(f->snapshot, newest) < 0 && !force) {
		log_warnx("%s: ES-CMVP-03: snapshot %s is older than the stored "
		    "%s (use --force)", f->path, f->snapshot, newest);
		return EXIT_REFUSED;
	}
	if (!importer_init(&im, db)) {
		return EXIT_ERROR;
	}
	/* The file's name without its directory: the snapshot's source. */
	src = strrchr(f->path, '/');
	src = src != NULL ? src + 1 : f->path;
	if ((snap = insert_snapshot(db, f->snapshot, src, f->sha256, by,
	    (long)f->n, 0)) == 0) {
		goto out;
	}
	for (i = 0; i < f->n; i++) {
		if (!merge_rec(&im, f, &f->v[i], snap, &c)) {
			goto out;
		}
	}
	c.records = (long)f->n;
	snprintf(detail, sizeof(detail), "snapshot %s: %ld records: %ld new, "
	    "%ld changed, %ld unchanged, %ld skipped", f->snapshot, c.records,
	    c.added, c.changed, c.unchanged, c.skipped);
	if (!audit_append(db, by, "cmvp-import", src, f->sha256, "ok",
	    detail)) {
		goto out;
	}
	printf(_("%s: snapshot %s: %ld records: %ld new, %ld changed, "
	    "%ld unchanged, %ld skipped\n"), f->path, f->snapshot, c.records,
	    c.added, c.changed, c.unchanged, c.skipped);
	ret = EXIT_OK;
 out:
	importer_free(&im);
	return ret;
}

/* ---- commands ---- */

static const char *const cmvp_usage = N_(
    "usage: eseal-policy cmvp import [--db DB] [--force] [--snapshot-date YYYY-MM-DD]\n"
    "                                --operator NAME=SRC FILE...\n"
    "       eseal-policy cmvp status [--db DB] [--as-of DATE] [--json] NUMBER...\n"
    "       eseal-policy cmvp history [--db DB] [--json] NUMBER...\n"
    "       eseal-policy cmvp snapshots [--db DB] [--json]\n"
    "       eseal-policy cmvp declare --db DB --cert N --vendor V --module M\n"
    "                                --standard \"FIPS 140-3\" --level L --status S\n"
    "                                [--sunset DATE] --operator NAME=SRC\n"
    "                                [--officer NAME=SRC...]\n"
    "       eseal-policy cmvp mark --db DB --cert N --status Active|Historical|Revoked\n"
    "                                --date DATE --operator NAME=SRC\n"
    "                                [--officer NAME=SRC...]\n"
    "\n"
    "import   NIST-CMVP-API JSON (modules.json, historical-modules.json) or our CSV\n"
    "         (doc/cmvp-csv.md); all files in one transaction.  The snapshot date\n"
    "         is --snapshot-date, the file's metadata, metadata.json beside it, or\n"
    "         the CSV column.  An older snapshot than the newest stored is refused\n"
    "         unless --force.  Every changed field is kept in the history.\n"
    "status   effective status as of DATE (default today): exit 0 if every\n"
    "         certificate is Active, 1 otherwise.\n"
    "declare  a local record (test instances only); mark changes its status.\n"
    "\n"
    "Commands that change the store authenticate who does it: --operator\n"
    "NAME=SRC (an officer or operator; SRC is prompt, file:PATH, fd:N or\n"
    "env:VAR, never the passphrase; NAME=SRC,card=SRC with a bound card).  In a\n"
    "production instance mark also needs the quorum of officers (--officer\n"
    "NAME=SRC, repeated; prompted for on a terminal when none is named).\n"
    "\n"
    "--db defaults to $ESEAL_DB.  Exit status: 0 success, 1 refused or not\n"
    "Active, 2 usage error, 3 bad input or store error.\n");



/* The snapshot date in metadata.json beside path, or "". */
static void
metadata_beside(const char *path, char out[11])
{
	char *copy, *dir, meta[4096];
	json_t *root;
	json_error_t err;

	out[0] = '\0';
	copy = xstrdup_or_empty(path);
	dir = dirname(copy);
	snprintf(meta, sizeof(meta), "%s/metadata.json", dir);
	free(copy);
	if ((root = json_load_file(meta, 0, &err)) == NULL) {
		return;
	}
	cmvpf_generated_at(root, out);
	json_decref(root);
}

/*
 * Read and parse one file (at most CMVP_MAX_FILE), settle its snapshot
 * date (snapshot_opt, the file, metadata.json beside it).  1/0 (logged).
 */
static int
cmvp_load(struct infile *f, const char *snapshot_opt)
{
	unsigned char *buf = NULL;
	size_t len;
	int ret = 0;

	if (!file_read(f->path, CMVP_MAX_FILE, &buf, &len) ||
	    !cmvpf_parse(f, buf, len)) {
		goto out;
	}
	if (snapshot_opt != NULL) {
		memcpy(f->snapshot, snapshot_opt, 11);
	} else if (f->embedded[0] != '\0') {
		memcpy(f->snapshot, f->embedded, 11);
	} else {
		metadata_beside(f->path, f->snapshot);
	}
	if (f->snapshot[0] == '\0') {
		log_warnx("%s: ES-CMVP-02: snapshot date unknown (use "
		    "--snapshot-date)", f->path);
		goto out;
	}
	ret = 1;
 out:
	free(buf);
	return ret;
}

static int
cmvp_import(int argc, char **argv)
{
	struct opts o;
	struct infile *files = NULL;
	struct db *db = NULL;
	struct actor act = { NULL, NULL };
	const char *path;
	char snap[11];
	int first, nfiles = 0, i, ret = EXIT_ERROR, rc;

	if (!sub_open(argc, argv, B(O_DB) | B(O_FORCE) | B(O_SNAPSHOT) |
	    B(O_OPERATOR), cmvp_usage, OPERANDS_ANY, &o, &first, &ret)) {
		return ret;
	}
	if (first >= argc) {
		log_warnx("import: no file given");
		fputs(_(cmvp_usage), stderr);
		return EXIT_USAGE;
	}
	if (!opts_check("import", &o, B(O_OPERATOR), 0, cmvp_usage)) {
		return EXIT_USAGE;
	}
	if (o.snapshot != NULL) {
		if (!cmvpf_parse_date(o.snapshot, snap) || snap[0] == '\0' ||
		    strlen(o.snapshot) != 10) {
			log_warnx("--snapshot-date: bad date \"%s\" (want "
			    "YYYY-MM-DD)", o.snapshot);
			return EXIT_USAGE;
		}
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	nfiles = argc - first;
	if ((files = calloc(nfiles, sizeof(*files))) == NULL) {
		fatalx("out of memory");
	}
	/* Parse everything first: a bad file changes nothing. */
	for (i = 0; i < nfiles; i++) {
		files[i].path = argv[first + i];
		if (!cmvp_load(&files[i], o.snapshot != NULL ? snap : NULL)) {
			goto out;
		}
	}
	if ((rc = store_change(&o, path, ACTOR_ALONE, "cmvp-import", &db,
	    &act)) != EXIT_OK) {
		ret = rc;
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		if ((rc = import_one(db, &files[i], act.who, o.force)) !=
		    EXIT_OK) {
			ret = rc;
			goto out;
		}
	}
	if (!db_commit(db)) {
		goto out;
	}
	ret = EXIT_OK;
 out:
	store_done(db, ret);
	actor_clear(&act);
	for (i = 0; i < nfiles; i++) {
		cmvpf_infile_free(&files[i]);
	}
	free(files);
	return ret;
}

/* Print a line for status/history text output. */
static void
status_text(const char *cert, const struct cmvp_record *r, int found,
    const struct cmvp_effective *e)
{
	char lvl[8];

	snprintf(lvl, sizeof(lvl), "%d", r->overall_level);
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cert,
	    cmvp_status_name(e->status), e->since[0] ? e->since : "-",
	    found ? r->status : "-", found ? r->snapshot_date : "-",
	    found && r->standard[0] ? r->standard : "-",
	    found && r->overall_level ? lvl : "-",
	    found && r->sunset_date[0] ? r->sunset_date : "-",
	    found ? r->vendor : "-", found ? r->module_name : "-", e->reason);
}


/* The history rows of cert as a JSON array (NULL after logging). */
static json_t *
history_json(struct db *db, const char *cert)
{
	sqlite3_stmt *st;
	json_t *a;
	int rc;

	st = db_prepare(db, "SELECT h.changed, h.field, h.old_value,"
	    " h.new_value, s.source FROM cmvp_history h"
	    " JOIN cmvp_snapshots s ON s.id = h.snapshot_id"
	    " WHERE h.cert_number = ? ORDER BY h.changed, h.id");
	if (st == NULL) {
		return NULL;
	}
	a = json_array();
	sqlite3_bind_text(st, 1, cert, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o, "
		    "s:o}",
		    "changed", jtext(col_text(st, 0), cert),
		    "field", jtext(col_text(st, 1), cert),
		    "old", jtext(col_text(st, 2), cert),
		    "new", jtext(col_text(st, 3), cert),
		    "source", jtext(col_text(st, 4), cert)));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, "reading history");
		json_decref(a);
		return NULL;
	}
	return a;
}

static int
cmvp_status(int argc, char **argv)
{
	struct opts o;
	struct db *db = NULL;
	struct cmvp_record r;
	struct cmvp_effective e;
	json_t *out = NULL, *hist, *obj;
	const char *path, *c;
	char asof[11];
	time_t t;
	struct tm tm;
	int first, i, found, all_active = 1, ret = EXIT_ERROR;

	if (!sub_open(argc, argv, B(O_DB) | B(O_ASOF) | B(O_JSON), cmvp_usage,
	    OPERANDS_CERTS, &o, &first, &ret)) {
		return ret;
	}
	t = now_utc();
	if (o.asof != NULL && !time_parse(o.asof, &t, "--as-of")) {
		return EXIT_USAGE;
	}
	gmtime_r(&t, &tm);
	strftime(asof, sizeof(asof), "%Y-%m-%d", &tm);
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	if ((db = db_open(path, DB_OPEN_READONLY, 0)) == NULL) {
		goto out;
	}
	if (o.json) {
		out = json_array();
	} else {
		printf("CERT\tEFFECTIVE\tSINCE\tSNAPSHOT-STATUS\tSNAPSHOT\t"
		    "STANDARD\tLEVEL\tSUNSET\tVENDOR\tMODULE\tREASON\n");
	}
	for (i = first; i < argc; i++) {
		if ((found = cmvp_lookup(db, argv[i], &r)) < 0 ||
		    !cmvp_effective(db, argv[i], t, &e)) {
			goto out;
		}
		if (e.status != CMVP_ACTIVE) {
			all_active = 0;
		}
		if (!o.json) {
			status_text(argv[i], &r, found, &e);
			continue;
		}
		if ((hist = history_json(db, argv[i])) == NULL) {
			goto out;
		}
		c = argv[i];
		obj = json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, "
		    "s:o, s:o, s:o, s:o, s:o, s:b, s:o}",
		    "cert_number", jtext(c, "certificate number"),
		    "as_of", asof,
		    "effective_status", cmvp_status_name(e.status),
		    "since", jtext(e.since[0] ? e.since : NULL, c),
		    "reason", jtext(e.reason, c),
		    "vendor", jtext(found ? r.vendor : NULL, c),
		    "module_name", jtext(found ? r.module_name : NULL, c),
		    "overall_level", found && r.overall_level ?
		    json_integer(r.overall_level) : json_null(),
		    "standard", jtext(found && r.standard[0] ? r.standard :
		    NULL, c),
		    "snapshot_status", jtext(found ? r.status : NULL, c),
		    "snapshot_date", jtext(found ? r.snapshot_date : NULL, c),
		    "sunset_date", jtext(found && r.sunset_date[0] ?
		    r.sunset_date : NULL, c),
		    "module_type", jtext(found && r.module_type[0] ?
		    r.module_type : NULL, c),
		    "local", found && r.local,
		    "history", hist);
		if (obj == NULL) {
			fatalx("json_pack failed");
		}
		json_array_append_new(out, obj);
	}
	if (out != NULL) {
		json_print(out);
	}
	ret = all_active ? EXIT_OK : EXIT_REFUSED;
 out:
	json_decref(out);
	db_close(db);
	return ret;
}

static int
cmvp_history(int argc, char **argv)
{
	struct opts o;
	struct db *db = NULL;
	json_t *all = NULL, *h, *row;
	const char *path;
	size_t j;
	int first, i, ret = EXIT_ERROR;

	if (!sub_open(argc, argv, B(O_DB) | B(O_JSON), cmvp_usage,
	    OPERANDS_CERTS, &o, &first, &ret)) {
		return ret;
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	if ((db = db_open(path, DB_OPEN_READONLY, 0)) == NULL) {
		goto out;
	}
	all = json_object();
	for (i = first; i < argc; i++) {
		if ((h = history_json(db, argv[i])) == NULL) {
			goto out;
		}
		json_object_set_new(all, argv[i], h);
		if (o.json) {
			continue;
		}
		json_array_foreach(h, j, row) {
			printf("%s\t%s\t%s\t%s -> %s\t%s\n", argv[i],
			    json_string_value(json_object_get(row, "changed")),
			    json_string_value(json_object_get(row, "field")),
			    json_is_string(json_object_get(row, "old")) ?
			    json_string_value(json_object_get(row, "old")) :
			    "(none)",
			    json_string_value(json_object_get(row, "new")),
			    json_string_value(json_object_get(row, "source")));
		}
	}
	if (o.json) {
		json_print(all);
	}
	ret = EXIT_OK;
 out:
	json_decref(all);
	db_close(db);
	return ret;
}

/* One row of cmvp snapshots as JSON. */
static json_t *
snapshot_json(sqlite3_stmt *st)
{
	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:b, s:I}",
	    "id", (json_int_t)sqlite3_column_int64(st, 0),
	    "snapshot_date", jtext(col_text(st, 1), "snapshot"),
	    "source", jtext(col_text(st, 2), "snapshot"),
	    "sha256", jtext(col_text(st, 3), "snapshot"),
	    "imported", jtext(col_text(st, 4), "snapshot"),
	    "imported_by", jtext(col_text(st, 5), "snapshot"),
	    "records", (json_int_t)sqlite3_column_int64(st, 6),
	    "local", sqlite3_column_int(st, 7),
	    "current_records", (json_int_t)sqlite3_column_int64(st, 8));
}

/* One row of cmvp snapshots as a tab-separated line. */
static void
snapshot_text(sqlite3_stmt *st)
{
	printf("%lld\t%s\t%s\t%lld records\t%s\t%s%s\n",
	    (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
	    sqlite3_column_text(st, 2), (long long)sqlite3_column_int64(st, 6),
	    sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
	    sqlite3_column_int(st, 7) ? "\tlocal" : "");
}

static int
cmvp_snapshots(int argc, char **argv)
{
	struct opts o;
	const char *path;
	int first, ret = EXIT_ERROR;

	if (!sub_open(argc, argv, B(O_DB) | B(O_JSON), cmvp_usage,
	    OPERANDS_NONE, &o, &first, &ret)) {
		return ret;
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	return list_rows(path, o.json, "SELECT s.id, s.snapshot_date, s.source,"
	    " s.file_sha256, s.imported, s.imported_by, s.records, s.local,"
	    " (SELECT count(*) FROM cmvp_modules m WHERE m.snapshot_id = s.id)"
	    " FROM cmvp_snapshots s ORDER BY s.id", NULL, "reading snapshots",
	    snapshot_json, snapshot_text);
}

/*
 * What a command that changes one module's record holds: the store, the
 * authenticated actor, the import statements, one statement and the
 * audit detail.  A zeroed change is empty.
 */
struct change {
	struct db	*db;
	struct actor	 act;
	struct importer	 im;
	sqlite3_stmt	*st;
	char		*detail;
};

/* Release all ch holds, rolling the store back unless ret is EXIT_OK. */
static void
change_done(struct change *ch, int ret)
{
	sqlite3_finalize(ch->st);
	importer_free(&ch->im);
	store_done(ch->db, ret);
	free(ch->detail);
	actor_clear(&ch->act);
}

static int
cmvp_declare(int argc, char **argv)
{
	struct opts o;
	struct change ch;
	struct rec r;
	struct cmvp_record old;
	const char *path;
	char where[64], day[11], *src = NULL, sha[65], *end, base[512];
	const char *nv[NFIELDS];
	char lvl[8];
	int64_t snap;
	long level;
	int first, found, ret = EXIT_ERROR;

	memset(&r, 0, sizeof(r));
	memset(&ch, 0, sizeof(ch));
	if (!sub_open(argc, argv, B(O_DB) | B(O_CERT) | B(O_VENDOR) |
	    B(O_MODULE) | B(O_STANDARD) | B(O_LEVEL) | B(O_STATUS) | B(O_SUNSET)
	    | B(O_OPERATOR) | B(O_OFFICER), cmvp_usage, OPERANDS_NONE, &o,
	    &first, &ret)) {
		return ret;
	}
	if (!opts_check("declare", &o, B(O_CERT) | B(O_VENDOR) | B(O_MODULE) |
	    B(O_STANDARD) | B(O_LEVEL) | B(O_STATUS) | B(O_OPERATOR), B(O_CERT) |
	    B(O_VENDOR) | B(O_MODULE) | B(O_STANDARD) | B(O_LEVEL) | B(O_STATUS) |
	    B(O_SUNSET) | B(O_OPERATOR), cmvp_usage)) {
		return EXIT_USAGE;
	}
	level = strtol(o.level, &end, 10);
	if (*end != '\0' || level < 1 || level > 4) {
		log_warnx("--level: want 1..4, not \"%s\"", o.level);
		return EXIT_USAGE;
	}
	r.cert = xstrdup_or_empty(o.cert);
	r.vendor = cmvpf_trimdup(o.vendor);
	r.module = cmvpf_trimdup(o.module);
	r.standard = xstrdup_or_empty(o.standard);
	r.status = xstrdup_or_empty(o.status);
	r.level = (int)level;
	r.sunset = xstrdup_or_empty(o.sunset != NULL ? o.sunset : "");
	snprintf(where, sizeof(where), "declare");
	if (!cmvpf_rec_normalise(&r, where, 1)) {
		ret = EXIT_USAGE;
		goto out;
	}
	if ((path = store_path(o.db)) == NULL) {
		ret = EXIT_USAGE;
		goto out;
	}
	if ((ch.db = db_open(path, DB_OPEN_EXISTING, 0)) == NULL) {
		goto out;
	}
	/* Refused whoever asks: no secret is read for it. */
	if (!actor_test_instance(ch.db)) {
		log_warnx("%s: ES-CMVP-05: local CMVP declarations are refused "
		    "in a production instance", path);
		ret = EXIT_REFUSED;
		goto out;
	}
	if ((ret = actor_auth(ch.db, o.operator, o.officers, o.nofficers,
	    ACTOR_QUORUM_PROD, "cmvp-declare", &ch.act)) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_ERROR;
	if (!db_begin(ch.db)) {
		goto out;
	}
	if ((found = cmvp_lookup(ch.db, r.cert, &old)) < 0) {
		goto out;
	}
	if (found) {
		log_warnx("%s: certificate %s is already %s (use cmvp mark to "
		    "change a local record)", path, r.cert, old.local ?
		    "declared locally" : "in the NIST registry");
		ret = EXIT_REFUSED;
		goto out;
	}
	today(day);
	if (asprintf(&src, "local declaration of %s by %s", r.cert, ch.act.who)
	    == -1) {
		fatalx("out of memory");
	}
	sha256_hex(src, strlen(src), sha);
	if ((snap = insert_snapshot(ch.db, day, src, sha, ch.act.who, 1,
	    1)) == 0 || !importer_init(&ch.im, ch.db)) {
		goto out;
	}
	snprintf(lvl, sizeof(lvl), "%d", r.level);
	nv[0] = r.vendor;
	nv[1] = r.module;
	nv[2] = r.standard;
	nv[3] = r.status;
	nv[4] = lvl;
	nv[5] = "";
	nv[6] = "";
	nv[7] = r.sunset;
	nv[8] = "";
	bind_rec(ch.im.ins, r.cert, nv, r.level, snap);
	if (!step_done(ch.db, ch.im.ins, "declaring a module") ||
	    (ch.st = db_prepare(ch.db, "UPDATE cmvp_modules SET local = 1"
	    " WHERE cert_number = ?")) == NULL) {
		goto out;
	}
	bind_str(ch.st, 1, r.cert);
	snprintf(base, sizeof(base), "%s / %s, %s level %d, %s, sunset %s",
	    r.vendor, r.module, r.standard, r.level, r.status,
	    r.sunset[0] ? r.sunset : "none");
	ch.detail = actor_detail(&ch.act, base);
	if (!step_done(ch.db, ch.st, "declaring a module") ||
	    !history(&ch.im, r.cert, "status", NULL, r.status, day, snap) ||
	    !audit_append(ch.db, ch.act.who, "cmvp-declare", r.cert, sha, "ok",
	    ch.detail) ||
	    !db_commit(ch.db)) {
		goto out;
	}
	printf(_("certificate %s declared locally: %s, %s, %s level %d, %s\n"),
	    r.cert, r.vendor, r.module, r.standard, r.level, r.status);
	ret = EXIT_OK;
 out:
	change_done(&ch, ret);
	free(src);
	cmvpf_rec_clear(&r);
	return ret;
}

static int
cmvp_mark(int argc, char **argv)
{
	struct opts o;
	struct change ch;
	struct cmvp_record old;
	const char *path, *status;
	char date[11], base[128];
	int64_t snap = 0;
	int first, ret = EXIT_ERROR;

	memset(&ch, 0, sizeof(ch));
	if (!sub_open(argc, argv, B(O_DB) | B(O_CERT) | B(O_STATUS) | B(O_DATE)
	    | B(O_OPERATOR) | B(O_OFFICER), cmvp_usage, OPERANDS_NONE, &o,
	    &first, &ret)) {
		return ret;
	}
	if (!opts_check("mark", &o, B(O_CERT) | B(O_STATUS) | B(O_DATE) |
	    B(O_OPERATOR), B(O_CERT), cmvp_usage)) {
		return EXIT_USAGE;
	}
	if (cmvpf_ieq(o.status, "Active")) {
		status = "Active";
	} else if (cmvpf_ieq(o.status, "Historical")) {
		status = "Historical";
	} else if (cmvpf_ieq(o.status, "Revoked")) {
		status = "Revoked";
	} else {
		log_warnx("--status: want Active, Historical or Revoked");
		return EXIT_USAGE;
	}
	if (!cmvpf_parse_date(o.date, date) || date[0] == '\0') {
		log_warnx("--date: bad date \"%s\" (want YYYY-MM-DD)", o.date);
		return EXIT_USAGE;
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	if ((ret = store_change_cert(&o, path, ACTOR_QUORUM_PROD, "cmvp-mark",
	    o.cert, 0, &ch.db, &ch.act, &old)) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_ERROR;
	if (!old.local) {
		log_warnx("%s: ES-CMVP-07: certificate %s is not a local "
		    "declaration; its status comes from CMVP snapshots", path,
		    o.cert);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (strcmp(old.status, status) == 0) {
		printf(_("certificate %s is already %s\n"), o.cert, status);
		ret = EXIT_OK;
		goto out;
	}
	if ((ch.st = db_prepare(ch.db, "SELECT snapshot_id FROM cmvp_modules"
	    " WHERE cert_number = ?")) == NULL) {
		goto out;
	}
	sqlite3_bind_text(ch.st, 1, o.cert, -1, SQLITE_STATIC);
	if (sqlite3_step(ch.st) == SQLITE_ROW) {
		snap = sqlite3_column_int64(ch.st, 0);
	}
	sqlite3_finalize(ch.st);
	ch.st = NULL;
	if (!importer_init(&ch.im, ch.db)) {
		goto out;
	}
	if (!history(&ch.im, o.cert, "status", old.status, status, date,
	    snap) || (ch.st = db_prepare(ch.db, "UPDATE cmvp_modules SET"
	    " status = ? WHERE cert_number = ? AND local = 1")) == NULL) {
		goto out;
	}
	sqlite3_bind_text(ch.st, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(ch.st, 2, o.cert, -1, SQLITE_STATIC);
	snprintf(base, sizeof(base), "%s -> %s on %s", old.status, status,
	    date);
	ch.detail = actor_detail(&ch.act, base);
	if (!step_done(ch.db, ch.st, "changing the status") ||
	    !audit_append(ch.db, ch.act.who, "cmvp-mark", o.cert, NULL, "ok",
	    ch.detail) ||
	    !db_commit(ch.db)) {
		goto out;
	}
	printf(_("certificate %s: %s -> %s on %s (by %s%s%s)\n"), o.cert,
	    old.status, status, date, ch.act.who, ch.act.approvers != NULL ?
	    ", approved by " : "", ch.act.approvers != NULL ?
	    ch.act.approvers : "");
	ret = EXIT_OK;
 out:
	change_done(&ch, ret);
	return ret;
}


int
cmd_cmvp(int argc, char **argv)
{
	static const struct subcmd t[] = {
		{ "import", cmvp_import },
		{ "status", cmvp_status },
		{ "history", cmvp_history },
		{ "snapshots", cmvp_snapshots },
		{ "declare", cmvp_declare },
		{ "mark", cmvp_mark },
		{ NULL, NULL }
	};

	return dispatch("cmvp", cmvp_usage, t, argc, argv);
}
