/*
 * The shared half of the eseal-policy subcommands (subcmd.h): one option
 * table and parser for lint, report, cmvp and hsm, the opening every
 * subcommand makes, required-value and UTF-8 checks, the store path, the
 * dispatch, and the SQLite and JSON helpers of their store access.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "actor.h"
#include "cmvp.h"
#include "db.h"
#include "i18n.h"
#include "log.h"
#include "policy.h"
#include "subcmd.h"
#include "util.h"

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
	{ "kind", required_argument, NULL, O_KIND },
	{ "profile", required_argument, NULL, O_PROFILE },
	{ "issuer", required_argument, NULL, O_ISSUER },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "format", required_argument, NULL, O_FORMAT },
	{ "out", required_argument, NULL, O_OUT },
	{ "ca-cert", required_argument, NULL, O_CACERT },
	{ "horizon", required_argument, NULL, O_HORIZON },
	{ "sheet", required_argument, NULL, O_SHEET },
	{ "bom", no_argument, NULL, O_BOM },
	{ "algorithm-policies", required_argument, NULL, O_ALGPOL },
	{ "lang", required_argument, NULL, O_LANG },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 }
};

/*
 * Parse the options of one subcommand (argv[0] is its name); allowed is a
 * bit set of the options it takes.  Returns the index of the first
 * operand, or -1 after a usage message.
 */
/*
 * Add v to the values of the repeated option c (O_OFFICER or O_CACERT).
 * 1/0 (logged: too many; what is the subcommand).
 */
static int
list_add(struct opts *o, int c, char *v, const char *what)
{
	char **list = c == O_OFFICER ? o->officers : o->cacerts;
	size_t *n = c == O_OFFICER ? &o->nofficers : &o->ncacerts;
	size_t max = c == O_OFFICER ? MAX_OFFICERS : MAX_CACERTS;

	if (*n < max) {
		list[(*n)++] = v;
		return 1;
	}
	if (c == O_OFFICER) {
		log_warnx("%s: at most %d --officer options", what,
		    MAX_OFFICERS);
	} else {
		log_warnx("report: at most %d --ca-cert", MAX_CACERTS);
	}
	return 0;
}

static int
parse_opts(int argc, char **argv, uint64_t allowed, struct opts *o,
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
		    (c != O_HELP && !(allowed & B(c)))) {
			log_warnx("%s: bad or unknown option %s", argv[0],
			    argv[optind - 1]);
			fputs(_(usage), stderr);
			return -1;
		}
		o->seen |= B(c);
		if (c != O_HELP && optarg != NULL) {
			o->val[c - O_DB] = optarg;
		}
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
		case O_CACERT:
			if (!list_add(o, c, optarg, argv[0])) {
				return -1;
			}
			break;
		case O_KIND: o->kind = optarg; break;
		case O_PROFILE: o->profile = optarg; break;
		case O_ISSUER: o->issuer = optarg; break;
		case O_POLICY: o->policy = optarg; break;
		case O_FORMAT: o->format = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_HORIZON: o->horizon = optarg; break;
		case O_SHEET: o->sheet = optarg; break;
		case O_BOM: o->bom = 1; break;
		case O_ALGPOL: o->algpol = optarg; break;
		case O_LANG: o->lang = optarg; break;
		case O_HELP: o->help = 1; break;
		}
	}
	return optind;
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

int
sub_open(int argc, char **argv, uint64_t allowed, const char *usage,
    enum operands operands, struct opts *o, int *first, int *exitcode)
{
	if ((*first = parse_opts(argc, argv, allowed, o, usage)) < 0) {
		*exitcode = EXIT_USAGE;
		return 0;
	}
	if (o->help) {
		fputs(_(usage), stdout);
		*exitcode = EXIT_OK;
		return 0;
	}
	if (operands == OPERANDS_NONE && *first < argc) {
		log_warnx("%s: unexpected argument %s", argv[0], argv[*first]);
		*exitcode = EXIT_USAGE;
		return 0;
	}
	if (operands == OPERANDS_CERTS && *first >= argc) {
		log_warnx("%s: no certificate number given", argv[0]);
		fputs(_(usage), stderr);
		*exitcode = EXIT_USAGE;
		return 0;
	}
	if (operands == OPERANDS_CERTS &&
	    !operands_utf8(argv[0], argc, argv, *first)) {
		*exitcode = EXIT_USAGE;
		return 0;
	}
	return 1;
}


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

int
opts_check(const char *what, const struct opts *o, uint64_t required,
    uint64_t utf8, const char *usage)
{
	const char *rv[O_HELP - O_DB], *rn[O_HELP - O_DB];
	const char *uv[O_HELP - O_DB], *un[O_HELP - O_DB];
	size_t i, nr = 0, nu = 0;
	int c;

	for (i = 0; long_opts[i].name != NULL; i++) {
		if ((c = long_opts[i].val) == O_HELP) {
			continue;
		}
		if (required & B(c)) {
			rv[nr] = o->val[c - O_DB];
			rn[nr++] = long_opts[i].name;
		}
		if (utf8 & B(c)) {
			uv[nu] = o->val[c - O_DB];
			un[nu++] = long_opts[i].name;
		}
	}
	return require(what, rv, rn, nr, usage) &&
	    require_utf8(what, uv, un, nu);
}


const char *
store_path(const char *opt)
{
	const char *p = opt != NULL ? opt : getenv("ESEAL_DB");

	if (p == NULL || *p == '\0') {
		log_warnx("no store given (use --db DB or set ESEAL_DB)");
		return NULL;
	}
	return p;
}

int
store_change(const struct opts *o, const char *path, enum actor_quorum need,
    const char *action, struct db **db, struct actor *act)
{
	int rc;

	if ((*db = db_open(path, DB_OPEN_EXISTING, 0)) == NULL) {
		return EXIT_ERROR;
	}
	if (need == ACTOR_ALONE) {
		rc = actor_auth(*db, o->operator, NULL, 0, need, action, act);
	} else {
		rc = actor_auth(*db, o->operator, o->officers, o->nofficers,
		    need, action, act);
	}
	if (rc != EXIT_OK) {
		return rc;
	}
	if (!db_begin(*db)) {
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int
store_change_cert(const struct opts *o, const char *path,
    enum actor_quorum need, const char *action, const char *cert,
    int import_hint, struct db **db, struct actor *act,
    struct cmvp_record *r)
{
	int found, ret;

	if ((ret = store_change(o, path, need, action, db, act)) != EXIT_OK) {
		return ret;
	}
	if ((found = cmvp_lookup(*db, cert, r)) < 0) {
		return EXIT_ERROR;
	}
	if (!found && import_hint) {
		log_warnx("%s: ES-CMVP-04: certificate %s is not in the CMVP "
		    "registry (import a snapshot first)", path, cert);
	} else if (!found) {
		log_warnx("%s: ES-CMVP-04: certificate %s is not in the CMVP "
		    "registry", path, cert);
	}
	return found ? EXIT_OK : EXIT_REFUSED;
}

void
store_done(struct db *db, int ret)
{
	if (db != NULL && ret != EXIT_OK) {
		db_rollback(db);
	}
	db_close(db);
}

void
today(char out[11])
{
	time_t t = now_utc();
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Bind s, or NULL for an empty string when empty_null is set. */
void
bind_str(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_TRANSIENT);
}

/* Column col of the current row as text (NULL for NULL). */
const char *
col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

int
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

/*
 * s as a JSON string, json_null() for NULL.  A store written before
 * imports checked UTF-8 (or by hand) may hold bytes that are not UTF-8,
 * which jansson refuses: they are shown as U+FFFD with one warning
 * naming what (so JSON output never fails).
 */
json_t *
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

/*
 * Run the subcommand argv[1] of group (its table ends with a NULL name);
 * --help, -h and help print usage.  Returns the subcommand's exit code.
 */
void
json_print(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	printf("\n");
}

int
list_rows(const char *path, int json, const char *sql, const char *header,
    const char *what, json_t *(*row_json)(sqlite3_stmt *),
    void (*row_text)(sqlite3_stmt *))
{
	struct db *db = NULL;
	sqlite3_stmt *st = NULL;
	json_t *a = NULL;
	int rc, ret = EXIT_ERROR;

	if ((db = db_open(path, DB_OPEN_READONLY, 0)) == NULL ||
	    (st = db_prepare(db, sql)) == NULL) {
		goto out;
	}
	a = json_array();
	if (!json && header != NULL) {
		printf("%s", header);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (json) {
			json_array_append_new(a, row_json(st));
		} else {
			row_text(st);
		}
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, what);
		goto out;
	}
	if (json) {
		json_print(a);
	}
	ret = EXIT_OK;
 out:
	json_decref(a);
	sqlite3_finalize(st);
	db_close(db);
	return ret;
}

int
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
