/*
 * What the eseal-policy subcommands share: their options (one table for
 * lint, report, cmvp and hsm, a bit per option), the opening every
 * subcommand makes (options, --help, operands), the checks of required
 * and UTF-8 values, the store path, the subcommand dispatch, and the
 * small SQLite and JSON helpers of their store access.
 */
#ifndef ESEAL_SUBCMD_H
#define ESEAL_SUBCMD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "actor.h"
#include "db.h"

struct cmvp_record;

enum opt {
	O_DB = 256, O_FORCE, O_SNAPSHOT, O_BY, O_ASOF, O_JSON, O_CERT,
	O_VENDOR, O_MODULE, O_STANDARD, O_LEVEL, O_STATUS, O_SUNSET, O_DATE,
	O_MANUF, O_MODEL, O_SERIAL, O_FIRMWARE, O_OPERATOR, O_OFFICER,
	/* lint */
	O_KIND, O_PROFILE, O_ISSUER, O_POLICY,
	/* report */
	O_FORMAT, O_OUT, O_CACERT, O_HORIZON, O_SHEET, O_BOM, O_ALGPOL, O_LANG,
	O_HELP
};

#define MAX_OFFICERS	16
#define MAX_CACERTS	16

struct opts {
	const char	*db, *snapshot, *asof, *cert, *vendor, *module;
	const char	*standard, *level, *status, *sunset, *date;
	const char	*manuf, *model, *serial, *firmware, *operator;
	char		*officers[MAX_OFFICERS];	/* --officer NAME=SRC */
	size_t		 nofficers;
	const char	*kind, *profile, *issuer, *policy;	/* lint */
	const char	*format, *out, *horizon, *sheet, *algpol, *lang;
	char		*cacerts[MAX_CACERTS];		/* --ca-cert FILE */
	size_t		 ncacerts;
	int		 force, json, bom, help;
	uint64_t	 seen;		/* bit per option, O_x - O_DB */
	const char	*val[O_HELP - O_DB];	/* last value, by O_x - O_DB */
};

/* The bit of option x in an allowed set. */
#define B(x) ((uint64_t)1 << ((x) - O_DB))

struct subcmd {
	const char	*name;
	int		(*fn)(int, char **);
};

/* What a subcommand takes after its options. */
enum operands {
	OPERANDS_ANY = 0,	/* checked by the subcommand */
	OPERANDS_NONE,		/* "what: unexpected argument X" */
	OPERANDS_CERTS		/* one or more certificate numbers, UTF-8 */
};

/*
 * The opening of every subcommand: parse its options (allowed: a bit set
 * of B(O_x); argv[0] is the subcommand's name), answer --help with usage
 * on stdout, check the operands.
 * Returns 1 to go on, *first set to the first operand; 0 when the
 * subcommand is done, *exitcode set to what it returns (EXIT_OK after
 * --help, EXIT_USAGE after a logged usage error).
 */
int sub_open(int argc, char **argv, uint64_t allowed, const char *usage,
    enum operands operands, struct opts *o, int *first, int *exitcode);

/*
 * Check the values of what's options, in the option table's order: each
 * option of the bit set required given and not empty (else "what: --NAME
 * is required" and usage on stderr), then each of utf8 given valid UTF-8
 * or absent (else "what: --NAME: ES-CMVP-08: not valid UTF-8").  1/0.
 */
int opts_check(const char *what, const struct opts *o, uint64_t required,
    uint64_t utf8, const char *usage);

/* The store: opt, else $ESEAL_DB; NULL (logged) if neither. */
const char *store_path(const char *opt);
/*
 * Open the store at path for a change: the store, o->operator
 * authenticated for action (with need ACTOR_QUORUM_PROD also the quorum
 * of o->officers), a transaction begun.  Returns EXIT_OK, else the exit
 * code (logged); *db may be set either way: the caller rolls back and
 * closes it, and clears *act.
 */
int store_change(const struct opts *o, const char *path,
    enum actor_quorum need, const char *action, struct db **db,
    struct actor *act);
/*
 * store_change() for a change about CMVP certificate cert, whose record
 * is then loaded into *r.  Returns EXIT_OK, else the exit code (logged):
 * EXIT_REFUSED (ES-CMVP-04) when cert is not in the registry, the log
 * line suggesting a snapshot import when import_hint is set.  *db and
 * *act as with store_change().
 */
int store_change_cert(const struct opts *o, const char *path,
    enum actor_quorum need, const char *action, const char *cert,
    int import_hint, struct db **db, struct actor *act,
    struct cmvp_record *r);
/* The end of store_change(): roll back unless ret is EXIT_OK, close db. */
void store_done(struct db *db, int ret);
/* Today (UTC) as YYYY-MM-DD. */
void today(char out[11]);
/* Bind s (NULL as ""). */
void bind_str(sqlite3_stmt *st, int i, const char *s);
/* Column col of the current row as text (NULL for NULL). */
const char *col_text(sqlite3_stmt *st, int col);
/* Step a statement that returns no row, then reset it; 1/0 (logged). */
int step_done(struct db *db, sqlite3_stmt *st, const char *what);
/* s as a JSON string (json_null() for NULL; bad UTF-8 as U+FFFD, warned). */
json_t *jtext(const char *s, const char *what);

/* Print j on stdout, indented, and a newline. */
void json_print(const json_t *j);
/*
 * List the rows of query sql on the store at path (read-only): with json,
 * one JSON array of what row_json makes of each row; else header (if not
 * NULL) and what row_text prints of each row.  what names the reading in
 * a log line.  Returns the exit code (logged).
 */
int list_rows(const char *path, int json, const char *sql,
    const char *header, const char *what,
    json_t *(*row_json)(sqlite3_stmt *), void (*row_text)(sqlite3_stmt *));

/*
 * Run the subcommand argv[1] of group (its table ends with a NULL name);
 * --help, -h and help print usage.  Returns the subcommand's exit code.
 */
int dispatch(const char *group, const char *usage, const struct subcmd *t,
    int argc, char **argv);

#endif
