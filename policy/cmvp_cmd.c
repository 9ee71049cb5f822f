/*
 * "eseal-policy cmvp ..." and "eseal-policy hsm ...": import of NIST CMVP
 * snapshots (the NIST-CMVP-API JSON layout and our CSV layout,
 * doc/cmvp-csv.md) into the store with a history of every change, the
 * effective status report, local declarations for test instances, and the
 * table binding exact PKCS#11 token identities to certificate numbers.
 * Every import or change is one transaction; a malformed file changes
 * nothing.
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "actor.h"
#include "audit.h"
#include "cmvp.h"
#include "i18n.h"
#include "cmvp_file.h"
#include "db.h"
#include "log.h"
#include "policy.h"
#include "util.h"


struct counts {
	long	records, added, changed, unchanged, skipped;
};


/* ---- the store ---- */

static const char *
store_path(const char *opt)
{
	const char *p = opt != NULL ? opt : getenv("ESEAL_DB");

	if (p == NULL || *p == '\0') {
		log_warnx("no store given (use --db DB or set ESEAL_DB)");
		return NULL;
	}
	return p;
}

static void
today(char out[11])
{
	time_t t = now_utc();
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Bind s, or NULL for an empty string when empty_null is set. */
static void
bind_str(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_TRANSIENT);
}

/* Column col of the current row as text (NULL for NULL). */
static const char *
col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static int
step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, what);
		return 0;
	}
	return 1;
}

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
	char newest[11], *src = NULL, *copy = NULL, detail[256];
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
	copy = xstrdup_or_empty(f->path);
	src = xstrdup_or_empty(basename(copy));
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
	free(src);
	free(copy);
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

static const char *const hsm_usage = N_(
    "usage: eseal-policy hsm map --db DB --manufacturer M --model MODEL [--serial S]\n"
    "                            [--firmware F] --cert N --operator NAME=SRC\n"
    "                            [--officer NAME=SRC...]\n"
    "       eseal-policy hsm unmap --db DB --manufacturer M --model MODEL [--serial S]\n"
    "                            [--firmware F] --operator NAME=SRC\n"
    "       eseal-policy hsm lookup --db DB --manufacturer M --model MODEL [--serial S]\n"
    "                            [--firmware F]\n"
    "       eseal-policy hsm list --db DB [--json]\n"
    "\n"
    "Binds an exact token identity (CK_TOKEN_INFO manufacturerID and model,\n"
    "trailing blanks removed) to a CMVP certificate number.  No fuzzy matching:\n"
    "an omitted serial or firmware is the wildcard \"*\"; the most specific\n"
    "mapping wins (serial+firmware, serial, firmware, wildcard).  A production\n"
    "instance refuses SoftHSM tokens and local CMVP records.\n"
    "\n"
    "map and unmap authenticate who does it (--operator NAME=SRC, an officer\n"
    "or operator); in a production instance map also needs the quorum of\n"
    "officers (--officer NAME=SRC, repeated).\n"
    "\n"
    "--db defaults to $ESEAL_DB.  Exit status: 0 success, 1 refused or not\n"
    "mapped, 2 usage error, 3 bad input or store error.\n");

enum opt {
	O_DB = 256, O_FORCE, O_SNAPSHOT, O_BY, O_ASOF, O_JSON, O_CERT,
	O_VENDOR, O_MODULE, O_STANDARD, O_LEVEL, O_STATUS, O_SUNSET, O_DATE,
	O_MANUF, O_MODEL, O_SERIAL, O_FIRMWARE, O_OPERATOR, O_OFFICER, O_HELP
};

#define MAX_OFFICERS	16

static const struct option long_opts[] = {
	{ "db", required_argument, NULL, O_DB },
	{ "force", no_argument, NULL, O_FORCE },
	{ "snapshot-date", required_argument, NULL, O_SNAPSHOT },
	{ "by", required_argument, NULL, O_BY },
	{ "as-of", required_argument, NULL, O_ASOF },
	{ "json", no_argument, NULL, O_JSON },
	{ "cert", required_argument, NULL, O_CERT },
	{ "vendor", required_argument, NULL, O_VENDOR },
	{ "module", required_argument, NULL, O_MODULE },
	{ "standard", required_argument, NULL, O_STANDARD },
	{ "level", required_argument, NULL, O_LEVEL },
	{ "status", required_argument, NULL, O_STATUS },
	{ "sunset", required_argument, NULL, O_SUNSET },
	{ "date", required_argument, NULL, O_DATE },
	{ "manufacturer", required_argument, NULL, O_MANUF },
	{ "model", required_argument, NULL, O_MODEL },
	{ "serial", required_argument, NULL, O_SERIAL },
	{ "firmware", required_argument, NULL, O_FIRMWARE },
	{ "operator", required_argument, NULL, O_OPERATOR },
	{ "officer", required_argument, NULL, O_OFFICER },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 }
};

struct opts {
	const char	*db, *snapshot, *asof, *cert, *vendor, *module;
	const char	*standard, *level, *status, *sunset, *date;
	const char	*manuf, *model, *serial, *firmware, *operator;
	char		*officers[MAX_OFFICERS];	/* --officer NAME=SRC */
	size_t		 nofficers;
	int		 force, json, help;
	unsigned	 seen;		/* bit per option, O_x - O_DB */
};

/*
 * Parse the options of one subcommand (argv[0] is its name); allowed is a
 * bit set of the options it takes.  Returns the index of the first
 * operand, or -1 after a usage message.
 */
static int
parse_opts(int argc, char **argv, unsigned allowed, struct opts *o,
    const char *usage)
{
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			c = O_HELP;
		}
		if (c == O_BY) {
			log_warnx("%s: --by is gone: name who changes the "
			    "store with --operator NAME=SRC (authenticated; "
			    "SRC is prompt, file:PATH, fd:N or env:VAR) and, "
			    "for mark, declare and map in a production "
			    "instance, the officers with --officer NAME=SRC",
			    argv[0]);
			return -1;
		}
		if (c == '?' || c == ':' ||
		    (c != O_HELP && !(allowed & (1u << (c - O_DB))))) {
			log_warnx("%s: bad or unknown option %s", argv[0],
			    argv[optind - 1]);
			fputs(_(usage), stderr);
			return -1;
		}
		o->seen |= 1u << (c - O_DB);
		switch (c) {
		case O_DB: o->db = optarg; break;
		case O_FORCE: o->force = 1; break;
		case O_SNAPSHOT: o->snapshot = optarg; break;
		case O_ASOF: o->asof = optarg; break;
		case O_JSON: o->json = 1; break;
		case O_CERT: o->cert = optarg; break;
		case O_VENDOR: o->vendor = optarg; break;
		case O_MODULE: o->module = optarg; break;
		case O_STANDARD: o->standard = optarg; break;
		case O_LEVEL: o->level = optarg; break;
		case O_STATUS: o->status = optarg; break;
		case O_SUNSET: o->sunset = optarg; break;
		case O_DATE: o->date = optarg; break;
		case O_MANUF: o->manuf = optarg; break;
		case O_MODEL: o->model = optarg; break;
		case O_SERIAL: o->serial = optarg; break;
		case O_FIRMWARE: o->firmware = optarg; break;
		case O_OPERATOR: o->operator = optarg; break;
		case O_OFFICER:
			if (o->nofficers == MAX_OFFICERS) {
				log_warnx("%s: at most %d --officer options",
				    argv[0], MAX_OFFICERS);
				return -1;
			}
			o->officers[o->nofficers++] = optarg;
			break;
		case O_HELP: o->help = 1; break;
		}
	}
	return optind;
}

#define B(x) (1u << ((x) - O_DB))

/* Log "what: --NAME is required" for the first missing option. */
static int
require(const char *what, const char *const *vals, const char *const *names,
    size_t n, const char *usage)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (vals[i] == NULL || *vals[i] == '\0') {
			log_warnx("%s: --%s is required", what, names[i]);
			fputs(_(usage), stderr);
			return 0;
		}
	}
	return 1;
}

/*
 * Log "what: --NAME: ES-CMVP-08: not valid UTF-8" for the first value
 * that is not, and return 0; values may be NULL.
 */
static int
require_utf8(const char *what, const char *const *vals,
    const char *const *names, size_t n)
{
	size_t i, len;

	for (i = 0; i < n; i++) {
		if (vals[i] == NULL) {
			continue;
		}
		len = strlen(vals[i]);
		if (utf8_invalid_at((const unsigned char *)vals[i], len) !=
		    len) {
			log_warnx("%s: --%s: ES-CMVP-08: not valid UTF-8", what,
			    names[i]);
			return 0;
		}
	}
	return 1;
}

/* Log "what: ES-CMVP-08: ..." for the first operand that is not UTF-8. */
static int
operands_utf8(const char *what, int argc, char **argv, int first)
{
	size_t len;
	int i;

	for (i = first; i < argc; i++) {
		len = strlen(argv[i]);
		if (utf8_invalid_at((const unsigned char *)argv[i], len) !=
		    len) {
			log_warnx("%s: ES-CMVP-08: certificate number %d is "
			    "not valid UTF-8", what, i - first + 1);
			return 0;
		}
	}
	return 1;
}

static int
cmvp_import(int argc, char **argv)
{
	struct opts o;
	struct infile *files = NULL;
	struct db *db = NULL;
	struct actor act = { NULL, NULL };
	const char *path, *names[] = { "operator" };
	char snap[11];
	int first, nfiles = 0, i, ret = EXIT_ERROR, rc;

	if ((first = parse_opts(argc, argv, B(O_DB) | B(O_FORCE) |
	    B(O_SNAPSHOT) | B(O_OPERATOR), &o, cmvp_usage)) < 0) {
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(_(cmvp_usage), stdout);
		return EXIT_OK;
	}
	if (first >= argc) {
		log_warnx("import: no file given");
		fputs(_(cmvp_usage), stderr);
		return EXIT_USAGE;
	}
	if (!require("import", &o.operator, names, 1, cmvp_usage)) {
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
		if (!cmvpf_load(&files[i], o.snapshot != NULL ? snap : NULL)) {
			goto out;
		}
	}
	if ((db = db_open(path, DB_OPEN_EXISTING, 0)) == NULL) {
		goto out;
	}
	if ((rc = actor_auth(db, o.operator, NULL, 0, ACTOR_ALONE,
	    "cmvp-import", &act)) != EXIT_OK) {
		ret = rc;
		goto out;
	}
	if (!db_begin(db)) {
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
	if (db != NULL && ret != EXIT_OK) {
		db_rollback(db);
	}
	db_close(db);
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

/*
 * s as a JSON string, json_null() for NULL.  A store written before
 * imports checked UTF-8 (or by hand) may hold bytes that are not UTF-8,
 * which jansson refuses: they are shown as U+FFFD with one warning
 * naming what (so JSON output never fails).
 */
static json_t *
jtext(const char *s, const char *what)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len, i, bad, n = 0;
	char *fixed;
	json_t *j;

	if (s == NULL) {
		return json_null();
	}
	len = strlen(s);
	if ((bad = utf8_invalid_at(u, len)) == len) {
		if ((j = json_stringn(s, len)) == NULL) {
			fatalx("out of memory");
		}
		return j;
	}
	log_warnx("%s: ES-CMVP-08: stored text is not valid UTF-8 (byte "
	    "0x%02x shown as U+FFFD)", what, u[bad]);
	if ((fixed = malloc(len * 3 + 1)) == NULL) {
		fatalx("out of memory");
	}
	for (i = 0; i < len; i = bad) {
		bad = i + utf8_invalid_at(u + i, len - i);
		memcpy(fixed + n, s + i, bad - i);
		n += bad - i;
		if (bad < len) {
			memcpy(fixed + n, "\xef\xbf\xbd", 3);
			n += 3;
			bad++;
		}
	}
	if ((j = json_stringn(fixed, n)) == NULL) {
		fatalx("out of memory");
	}
	free(fixed);
	return j;
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

	if ((first = parse_opts(argc, argv, B(O_DB) | B(O_ASOF) | B(O_JSON),
	    &o, cmvp_usage)) < 0) {
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(_(cmvp_usage), stdout);
		return EXIT_OK;
	}
	if (first >= argc) {
		log_warnx("status: no certificate number given");
		fputs(_(cmvp_usage), stderr);
		return EXIT_USAGE;
	}
	if (!operands_utf8("status", argc, argv, first)) {
		return EXIT_USAGE;
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
		json_dumpf(out, stdout, JSON_INDENT(2));
		printf("\n");
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

	if ((first = parse_opts(argc, argv, B(O_DB) | B(O_JSON), &o,
	    cmvp_usage)) < 0) {
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(_(cmvp_usage), stdout);
		return EXIT_OK;
	}
	if (first >= argc) {
		log_warnx("history: no certificate number given");
		return EXIT_USAGE;
	}
	if (!operands_utf8("history", argc, argv, first)) {
		return EXIT_USAGE;
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
		json_dumpf(all, stdout, JSON_INDENT(2));
		printf("\n");
	}
	ret = EXIT_OK;
 out:
	json_decref(all);
	db_close(db);
	return ret;
}

static int
cmvp_snapshots(int argc, char **argv)
{
	struct opts o;
	struct db *db = NULL;
	sqlite3_stmt *st = NULL;
	json_t *a = NULL;
	const char *path;
	int first, rc, ret = EXIT_ERROR;

	if ((first = parse_opts(argc, argv, B(O_DB) | B(O_JSON), &o,
	    cmvp_usage)) < 0) {
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(_(cmvp_usage), stdout);
		return EXIT_OK;
	}
	if (first < argc) {
		log_warnx("snapshots: unexpected argument %s", argv[first]);
		return EXIT_USAGE;
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	if ((db = db_open(path, DB_OPEN_READONLY, 0)) == NULL ||
	    (st = db_prepare(db, "SELECT s.id, s.snapshot_date, s.source,"
	    " s.file_sha256, s.imported, s.imported_by, s.records, s.local,"
	    " (SELECT count(*) FROM cmvp_modules m WHERE m.snapshot_id = s.id)"
	    " FROM cmvp_snapshots s ORDER BY s.id")) == NULL) {
		goto out;
	}
	a = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (o.json) {
			json_array_append_new(a, json_pack("{s:I, s:o, s:o, "
			    "s:o, s:o, s:o, s:I, s:b, s:I}",
			    "id", (json_int_t)sqlite3_column_int64(st, 0),
			    "snapshot_date", jtext(col_text(st, 1), "snapshot"),
			    "source", jtext(col_text(st, 2), "snapshot"),
			    "sha256", jtext(col_text(st, 3), "snapshot"),
			    "imported", jtext(col_text(st, 4), "snapshot"),
			    "imported_by", jtext(col_text(st, 5), "snapshot"),
			    "records", (json_int_t)sqlite3_column_int64(st, 6),
			    "local", sqlite3_column_int(st, 7),
			    "current_records",
			    (json_int_t)sqlite3_column_int64(st, 8)));
		} else {
			printf("%lld\t%s\t%s\t%lld records\t%s\t%s%s\n",
			    (long long)sqlite3_column_int64(st, 0),
			    sqlite3_column_text(st, 1),
			    sqlite3_column_text(st, 2),
			    (long long)sqlite3_column_int64(st, 6),
			    sqlite3_column_text(st, 4),
			    sqlite3_column_text(st, 5),
			    sqlite3_column_int(st, 7) ? "\tlocal" : "");
		}
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "reading snapshots");
		goto out;
	}
	if (o.json) {
		json_dumpf(a, stdout, JSON_INDENT(2));
		printf("\n");
	}
	ret = EXIT_OK;
 out:
	json_decref(a);
	sqlite3_finalize(st);
	db_close(db);
	return ret;
}

static int
cmvp_declare(int argc, char **argv)
{
	struct opts o;
	struct rec r;
	struct cmvp_record old;
	struct db *db = NULL;
	struct importer im;
	sqlite3_stmt *st = NULL;
	struct actor act = { NULL, NULL };
	const char *path, *names[] = { "cert", "vendor", "module", "standard",
	    "level", "status", "operator", "sunset" };
	const char *vals[8];
	char where[64], day[11], *src = NULL, sha[65], *end, base[512];
	char *detail = NULL;
	const char *nv[NFIELDS];
	char lvl[8];
	int64_t snap;
	long level;
	int first, found, ret = EXIT_ERROR, have_im = 0;

	memset(&r, 0, sizeof(r));
	if ((first = parse_opts(argc, argv, B(O_DB) | B(O_CERT) | B(O_VENDOR) |
	    B(O_MODULE) | B(O_STANDARD) | B(O_LEVEL) | B(O_STATUS) |
	    B(O_SUNSET) | B(O_OPERATOR) | B(O_OFFICER), &o, cmvp_usage)) < 0) {
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(_(cmvp_usage), stdout);
		return EXIT_OK;
	}
	vals[0] = o.cert;
	vals[1] = o.vendor;
	vals[2] = o.module;
	vals[3] = o.standard;
	vals[4] = o.level;
	vals[5] = o.status;
	vals[6] = o.operator;
	vals[7] = o.sunset;
	if (first < argc) {
		log_warnx("declare: unexpected argument %s", argv[first]);
		return EXIT_USAGE;
	}
	if (!require("declare", vals, names, 7, cmvp_usage) ||
	    !require_utf8("declare", vals, names, 8)) {
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
	if ((db = db_open(path, DB_OPEN_EXISTING, 0)) == NULL) {
		goto out;
	}
	/* Refused whoever asks: no secret is read for it. */
	if (!actor_test_instance(db)) {
		log_warnx("%s: ES-CMVP-05: local CMVP declarations are refused "
		    "in a production instance", path);
		ret = EXIT_REFUSED;
		goto out;
	}
	if ((ret = actor_auth(db, o.operator, o.officers, o.nofficers,
	    ACTOR_QUORUM_PROD, "cmvp-declare", &act)) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_ERROR;
	if (!db_begin(db)) {
		goto out;
	}
	if ((found = cmvp_lookup(db, r.cert, &old)) < 0) {
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
	if (asprintf(&src, "local declaration of %s by %s", r.cert, act.who)
	    == -1) {
		fatalx("out of memory");
	}
	sha256_hex(src, strlen(src), sha);
	if ((snap = insert_snapshot(db, day, src, sha, act.who, 1, 1)) == 0 ||
	    !importer_init(&im, db)) {
		goto out;
	}
	have_im = 1;
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
	bind_rec(im.ins, r.cert, nv, r.level, snap);
	if (!step_done(db, im.ins, "declaring a module") ||
	    (st = db_prepare(db, "UPDATE cmvp_modules SET local = 1"
	    " WHERE cert_number = ?")) == NULL) {
		goto out;
	}
	bind_str(st, 1, r.cert);
	snprintf(base, sizeof(base), "%s / %s, %s level %d, %s, sunset %s",
	    r.vendor, r.module, r.standard, r.level, r.status,
	    r.sunset[0] ? r.sunset : "none");
	detail = actor_detail(&act, base);
	if (!step_done(db, st, "declaring a module") ||
	    !history(&im, r.cert, "status", NULL, r.status, day, snap) ||
	    !audit_append(db, act.who, "cmvp-declare", r.cert, sha, "ok",
	    detail) ||
	    !db_commit(db)) {
		goto out;
	}
	printf(_("certificate %s declared locally: %s, %s, %s level %d, %s\n"),
	    r.cert, r.vendor, r.module, r.standard, r.level, r.status);
	ret = EXIT_OK;
 out:
	sqlite3_finalize(st);
	if (have_im) {
		importer_free(&im);
	}
	if (db != NULL && ret != EXIT_OK) {
		db_rollback(db);
	}
	db_close(db);
	free(src);
	free(detail);
	actor_clear(&act);
	cmvpf_rec_clear(&r);
	return ret;
}

static int
cmvp_mark(int argc, char **argv)
{
	struct opts o;
	struct cmvp_record old;
	struct db *db = NULL;
	struct importer im;
	sqlite3_stmt *st = NULL;
	struct actor act = { NULL, NULL };
	const char *path, *status, *names[] = { "cert", "status", "date",
	    "operator" };
	const char *vals[4];
	char date[11], base[128], *detail = NULL;
	int64_t snap = 0;
	int first, found, ret = EXIT_ERROR, have_im = 0;

	if ((first = parse_opts(argc, argv, B(O_DB) | B(O_CERT) | B(O_STATUS) |
	    B(O_DATE) | B(O_OPERATOR) | B(O_OFFICER), &o, cmvp_usage)) < 0) {
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(_(cmvp_usage), stdout);
		return EXIT_OK;
	}
	vals[0] = o.cert;
	vals[1] = o.status;
	vals[2] = o.date;
	vals[3] = o.operator;
	if (first < argc) {
		log_warnx("mark: unexpected argument %s", argv[first]);
		return EXIT_USAGE;
	}
	if (!require("mark", vals, names, 4, cmvp_usage) ||
	    !require_utf8("mark", vals, names, 1)) {
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
	if ((db = db_open(path, DB_OPEN_EXISTING, 0)) == NULL) {
		goto out;
	}
	if ((ret = actor_auth(db, o.operator, o.officers, o.nofficers,
	    ACTOR_QUORUM_PROD, "cmvp-mark", &act)) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_ERROR;
	if (!db_begin(db)) {
		goto out;
	}
	if ((found = cmvp_lookup(db, o.cert, &old)) < 0) {
		goto out;
	}
	if (!found) {
		log_warnx("%s: ES-CMVP-04: certificate %s is not in the CMVP "
		    "registry", path, o.cert);
		ret = EXIT_REFUSED;
		goto out;
	}
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
	if ((st = db_prepare(db, "SELECT snapshot_id FROM cmvp_modules WHERE"
	    " cert_number = ?")) == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, o.cert, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snap = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!importer_init(&im, db)) {
		goto out;
	}
	have_im = 1;
	if (!history(&im, o.cert, "status", old.status, status, date, snap) ||
	    (st = db_prepare(db, "UPDATE cmvp_modules SET status = ? WHERE"
	    " cert_number = ? AND local = 1")) == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o.cert, -1, SQLITE_STATIC);
	snprintf(base, sizeof(base), "%s -> %s on %s", old.status, status,
	    date);
	detail = actor_detail(&act, base);
	if (!step_done(db, st, "changing the status") ||
	    !audit_append(db, act.who, "cmvp-mark", o.cert, NULL, "ok",
	    detail) ||
	    !db_commit(db)) {
		goto out;
	}
	printf(_("certificate %s: %s -> %s on %s (by %s%s%s)\n"), o.cert,
	    old.status, status, date, act.who, act.approvers != NULL ?
	    ", approved by " : "", act.approvers != NULL ? act.approvers : "");
	ret = EXIT_OK;
 out:
	sqlite3_finalize(st);
	if (have_im) {
		importer_free(&im);
	}
	if (db != NULL && ret != EXIT_OK) {
		db_rollback(db);
	}
	db_close(db);
	free(detail);
	actor_clear(&act);
	return ret;
}

struct subcmd {
	const char	*name;
	int		(*fn)(int, char **);
};

/*
 * Run the subcommand argv[1] of group (its table ends with a NULL name);
 * --help, -h and help print usage.  Returns the subcommand's exit code.
 */
static int
dispatch(const char *group, const char *usage, const struct subcmd *t,
    int argc, char **argv)
{
	if (argc < 2) {
		fputs(_(usage), stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(_(usage), stdout);
		return EXIT_OK;
	}
	for (; t->name != NULL; t++) {
		if (strcmp(argv[1], t->name) == 0) {
			return t->fn(argc - 1, argv + 1);
		}
	}
	log_warnx("%s: unknown subcommand \"%s\" (see eseal-policy %s "
	    "--help)", group, argv[1], group);
	return EXIT_USAGE;
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

/* ---- hsm ---- */

/* Token identity options: manufacturer and model required, no "*" in them. */
static int
identity_opts(const char *what, const struct opts *o, const char **serial,
    const char **firmware)
{
	const char *names[] = { "manufacturer", "model" };
	const char *vals[2];

	vals[0] = o->manuf;
	vals[1] = o->model;
	const char *all[4], *allnames[] = { "manufacturer", "model", "serial",
	    "firmware" };

	all[0] = o->manuf;
	all[1] = o->model;
	all[2] = o->serial;
	all[3] = o->firmware;
	if (!require(what, vals, names, 2, hsm_usage) ||
	    !require_utf8(what, all, allnames, 4)) {
		return 0;
	}
	if (strchr(o->manuf, '*') != NULL || strchr(o->model, '*') != NULL) {
		log_warnx("%s: no wildcards in --manufacturer or --model "
		    "(exact token identity only)", what);
		return 0;
	}
	*serial = o->serial != NULL && *o->serial != '\0' ? o->serial : "*";
	*firmware = o->firmware != NULL && *o->firmware != '\0' ?
	    o->firmware : "*";
	return 1;
}

static int
softhsm_identity(const char *manuf, const char *model)
{
	return strncasecmp(manuf, "SoftHSM", 7) == 0 ||
	    strncasecmp(model, "SoftHSM", 7) == 0;
}

static int
hsm_map(int argc, char **argv)
{
	struct opts o;
	struct db *db = NULL;
	struct cmvp_record r;
	struct cmvp_effective e;
	sqlite3_stmt *st = NULL;
	struct actor act = { NULL, NULL };
	const char *path, *serial, *firmware, *names[] = { "cert", "operator" };
	const char *vals[2];
	char now[32], base[64], *detail = NULL, *object = NULL;
	int first, found, rc, ret = EXIT_ERROR;

	if ((first = parse_opts(argc, argv, B(O_DB) | B(O_MANUF) | B(O_MODEL) |
	    B(O_SERIAL) | B(O_FIRMWARE) | B(O_CERT) | B(O_OPERATOR) |
	    B(O_OFFICER), &o, hsm_usage)) < 0) {
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(_(hsm_usage), stdout);
		return EXIT_OK;
	}
	vals[0] = o.cert;
	vals[1] = o.operator;
	if (first < argc) {
		log_warnx("map: unexpected argument %s", argv[first]);
		return EXIT_USAGE;
	}
	if (!identity_opts("map", &o, &serial, &firmware) ||
	    !require("map", vals, names, 2, hsm_usage) ||
	    !require_utf8("map", vals, names, 1)) {
		return EXIT_USAGE;
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	if ((db = db_open(path, DB_OPEN_EXISTING, 0)) == NULL) {
		goto out;
	}
	if ((ret = actor_auth(db, o.operator, o.officers, o.nofficers,
	    ACTOR_QUORUM_PROD, "hsm-map", &act)) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_ERROR;
	if (!db_begin(db)) {
		goto out;
	}
	if ((found = cmvp_lookup(db, o.cert, &r)) < 0) {
		goto out;
	}
	if (!found) {
		log_warnx("%s: ES-CMVP-04: certificate %s is not in the CMVP "
		    "registry (import a snapshot first)", path, o.cert);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (!actor_test_instance(db)) {
		if (softhsm_identity(o.manuf, o.model)) {
			log_warnx("%s: ES-CMVP-06: a SoftHSM token (%s / %s) "
			    "cannot be mapped in a production instance", path,
			    o.manuf, o.model);
			ret = EXIT_REFUSED;
			goto out;
		}
		if (r.local) {
			log_warnx("%s: ES-CMVP-06: certificate %s is a local "
			    "declaration; refused in a production instance",
			    path, o.cert);
			ret = EXIT_REFUSED;
			goto out;
		}
	}
	time_fmt(now_utc(), now, sizeof(now));
	if ((st = db_prepare(db, "INSERT INTO hsm_map (manufacturer, model,"
	    " serial, firmware, cert_number, mapped_by, mapped)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)")) == NULL) {
		goto out;
	}
	bind_str(st, 1, o.manuf);
	bind_str(st, 2, o.model);
	bind_str(st, 3, serial);
	bind_str(st, 4, firmware);
	bind_str(st, 5, o.cert);
	bind_str(st, 6, act.who);
	bind_str(st, 7, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT ||
	    sqlite3_extended_errcode(db_handle(db)) ==
	    SQLITE_CONSTRAINT_UNIQUE) {
		log_warnx("%s: token %s / %s serial %s firmware %s is already "
		    "mapped (hsm unmap first)", path, o.manuf, o.model, serial,
		    firmware);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "adding the mapping");
		goto out;
	}
	if (asprintf(&object, "%s / %s serial %s firmware %s", o.manuf,
	    o.model, serial, firmware) == -1) {
		fatalx("out of memory");
	}
	snprintf(base, sizeof(base), "CMVP certificate %s", o.cert);
	detail = actor_detail(&act, base);
	if (!audit_append(db, act.who, "hsm-map", object, NULL, "ok",
	    detail) ||
	    !db_commit(db)) {
		goto out;
	}
	printf(_("%s / %s serial %s firmware %s -> CMVP #%s (%s, %s)\n"),
	    o.manuf, o.model, serial, firmware, o.cert, r.vendor,
	    r.module_name);
	if (cmvp_effective(db, o.cert, now_utc(), &e) &&
	    e.status != CMVP_ACTIVE) {
		log_warnx("%s: ES-HSM-01: certificate %s is %s today (%s)",
		    path, o.cert, cmvp_status_name(e.status), e.reason);
	}
	ret = EXIT_OK;
 out:
	free(object);
	free(detail);
	actor_clear(&act);
	sqlite3_finalize(st);
	if (db != NULL && ret != EXIT_OK) {
		db_rollback(db);
	}
	db_close(db);
	return ret;
}

static int
hsm_unmap(int argc, char **argv)
{
	struct opts o;
	struct db *db = NULL;
	sqlite3_stmt *st = NULL;
	struct actor act = { NULL, NULL };
	const char *path, *serial, *firmware, *names[] = { "operator" };
	const char *vals[1];
	char *object = NULL;
	int first, ret = EXIT_ERROR;

	if ((first = parse_opts(argc, argv, B(O_DB) | B(O_MANUF) | B(O_MODEL) |
	    B(O_SERIAL) | B(O_FIRMWARE) | B(O_OPERATOR), &o, hsm_usage)) < 0) {
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(_(hsm_usage), stdout);
		return EXIT_OK;
	}
	vals[0] = o.operator;
	if (first < argc) {
		log_warnx("unmap: unexpected argument %s", argv[first]);
		return EXIT_USAGE;
	}
	if (!identity_opts("unmap", &o, &serial, &firmware) ||
	    !require("unmap", vals, names, 1, hsm_usage)) {
		return EXIT_USAGE;
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	if ((db = db_open(path, DB_OPEN_EXISTING, 0)) == NULL) {
		goto out;
	}
	if ((ret = actor_auth(db, o.operator, NULL, 0, ACTOR_ALONE,
	    "hsm-unmap", &act)) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_ERROR;
	if (!db_begin(db) ||
	    (st = db_prepare(db, "DELETE FROM hsm_map WHERE manufacturer = ?"
	    " AND model = ? AND serial = ? AND firmware = ?")) == NULL) {
		goto out;
	}
	bind_str(st, 1, o.manuf);
	bind_str(st, 2, o.model);
	bind_str(st, 3, serial);
	bind_str(st, 4, firmware);
	if (!step_done(db, st, "removing the mapping")) {
		goto out;
	}
	if (sqlite3_changes(db_handle(db)) == 0) {
		log_warnx("%s: no mapping for %s / %s serial %s firmware %s",
		    path, o.manuf, o.model, serial, firmware);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (asprintf(&object, "%s / %s serial %s firmware %s", o.manuf,
	    o.model, serial, firmware) == -1) {
		fatalx("out of memory");
	}
	if (!audit_append(db, act.who, "hsm-unmap", object, NULL, "ok",
	    NULL) ||
	    !db_commit(db)) {
		goto out;
	}
	printf(_("unmapped %s / %s serial %s firmware %s (by %s)\n"), o.manuf,
	    o.model, serial, firmware, act.who);
	ret = EXIT_OK;
 out:
	free(object);
	actor_clear(&act);
	sqlite3_finalize(st);
	if (db != NULL && ret != EXIT_OK) {
		db_rollback(db);
	}
	db_close(db);
	return ret;
}

static int
hsm_lookup(int argc, char **argv)
{
	struct opts o;
	struct db *db = NULL;
	const char *path, *serial, *firmware;
	char cert[32];
	int first, rc, ret = EXIT_ERROR;

	if ((first = parse_opts(argc, argv, B(O_DB) | B(O_MANUF) | B(O_MODEL) |
	    B(O_SERIAL) | B(O_FIRMWARE), &o, hsm_usage)) < 0) {
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(_(hsm_usage), stdout);
		return EXIT_OK;
	}
	if (first < argc) {
		log_warnx("lookup: unexpected argument %s", argv[first]);
		return EXIT_USAGE;
	}
	if (!identity_opts("lookup", &o, &serial, &firmware)) {
		return EXIT_USAGE;
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	if ((db = db_open(path, DB_OPEN_READONLY, 0)) == NULL) {
		goto out;
	}
	rc = cmvp_token_mapping(db, o.manuf, o.model, o.serial, o.firmware,
	    cert, sizeof(cert));
	if (rc < 0) {
		goto out;
	}
	if (rc == 0) {
		log_warnx("%s / %s: ES-HSM-ID-01: no mapping for this token "
		    "identity (exact match only)", o.manuf, o.model);
		ret = EXIT_REFUSED;
		goto out;
	}
	printf("%s\n", cert);
	ret = EXIT_OK;
 out:
	db_close(db);
	return ret;
}

static int
hsm_list(int argc, char **argv)
{
	struct opts o;
	struct db *db = NULL;
	sqlite3_stmt *st = NULL;
	json_t *a = NULL;
	const char *path;
	int first, rc, ret = EXIT_ERROR;

	if ((first = parse_opts(argc, argv, B(O_DB) | B(O_JSON), &o,
	    hsm_usage)) < 0) {
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(_(hsm_usage), stdout);
		return EXIT_OK;
	}
	if (first < argc) {
		log_warnx("list: unexpected argument %s", argv[first]);
		return EXIT_USAGE;
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	if ((db = db_open(path, DB_OPEN_READONLY, 0)) == NULL ||
	    (st = db_prepare(db, "SELECT manufacturer, model, serial, firmware,"
	    " cert_number, mapped_by, mapped FROM hsm_map"
	    " ORDER BY manufacturer, model, serial, firmware")) == NULL) {
		goto out;
	}
	a = json_array();
	if (!o.json) {
		printf("MANUFACTURER\tMODEL\tSERIAL\tFIRMWARE\tCERT\tMAPPED-BY\t"
		    "MAPPED\n");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (o.json) {
			json_array_append_new(a, json_pack("{s:o, s:o, s:o, "
			    "s:o, s:o, s:o, s:o}",
			    "manufacturer", jtext(col_text(st, 0), "mapping"),
			    "model", jtext(col_text(st, 1), "mapping"),
			    "serial", jtext(col_text(st, 2), "mapping"),
			    "firmware", jtext(col_text(st, 3), "mapping"),
			    "cert_number", jtext(col_text(st, 4), "mapping"),
			    "mapped_by", jtext(col_text(st, 5), "mapping"),
			    "mapped", jtext(col_text(st, 6), "mapping")));
		} else {
			printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			    sqlite3_column_text(st, 0),
			    sqlite3_column_text(st, 1),
			    sqlite3_column_text(st, 2),
			    sqlite3_column_text(st, 3),
			    sqlite3_column_text(st, 4),
			    sqlite3_column_text(st, 5),
			    sqlite3_column_text(st, 6));
		}
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "reading mappings");
		goto out;
	}
	if (o.json) {
		json_dumpf(a, stdout, JSON_INDENT(2));
		printf("\n");
	}
	ret = EXIT_OK;
 out:
	json_decref(a);
	sqlite3_finalize(st);
	db_close(db);
	return ret;
}

int
cmd_hsm(int argc, char **argv)
{
	static const struct subcmd t[] = {
		{ "map", hsm_map },
		{ "unmap", hsm_unmap },
		{ "lookup", hsm_lookup },
		{ "list", hsm_list },
		{ NULL, NULL }
	};

	return dispatch("hsm", hsm_usage, t, argc, argv);
}
