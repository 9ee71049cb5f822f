/*
 * The store: one SQLite file per CA instance, WAL mode, foreign keys on,
 * file mode 0600, a versioned schema (PRAGMA user_version) migrated
 * forward on open.  Every state change is one transaction (db_begin ...
 * db_commit), so a crash at any point leaves the old state or the new.
 * Callers use sqlite3 prepared statements on db_handle() directly.
 */
#ifndef ESEAL_DB_H
#define ESEAL_DB_H

#include <stdint.h>

#include <sqlite3.h>

struct db;

/* Current schema version written by the migrations in db.c. */
#define DB_SCHEMA_VERSION 6

enum db_open_mode {
	DB_OPEN_EXISTING = 0,	/* the file must exist */
	DB_OPEN_CREATE,		/* the file must not exist; create it 0600 */
	DB_OPEN_READONLY	/* existing, read-only (responder, reports) */
};

/*
 * Open (or create) the store at path, apply pending migrations.  A file
 * with a newer schema than this program knows is refused.  busy_ms is how
 * long to wait for another process's lock (0: default 2000).
 * NULL on failure, logged as "path: problem".
 */
struct db *db_open(const char *path, enum db_open_mode mode, int busy_ms);
void db_close(struct db *db);
sqlite3 *db_handle(struct db *db);
const char *db_path(const struct db *db);

/*
 * BEGIN IMMEDIATE.  A lock held by another process is reported as
 * "PATH: database is locked by another process".  1/0.
 */
int db_begin(struct db *db);
int db_commit(struct db *db);
/* Roll back if a transaction is open; never fails loudly. */
void db_rollback(struct db *db);
int db_in_transaction(struct db *db);

/*
 * Run SQL with no result rows.  1/0 (logged with the SQLite message).
 * A single statement is kept prepared for the next call with the same
 * text (BEGIN, SAVEPOINT, ...).
 */
int db_exec(struct db *db, const char *sql);
/* Prepare sql; NULL after logging. */
sqlite3_stmt *db_prepare(struct db *db, const char *sql);
/*
 * The statement of sql (one statement) kept prepared by db until
 * db_close(), reset and with its bindings cleared: for statements run
 * for every certificate.  The caller never finalizes it: it calls
 * db_release() when done, which releases its read locks.  Not re-entrant:
 * a caller holding it must not ask for the same sql.  NULL after logging.
 */
sqlite3_stmt *db_cached(struct db *db, const char *sql);
/* Reset a db_cached() statement and clear its bindings; NULL accepted. */
void db_release(sqlite3_stmt *st);
/* Log "PATH: what: sqlite message" for the last error. */
void db_log_error(struct db *db, const char *what);
/*
 * Step st (a statement with no result rows) once and finalize it (a
 * db_cached() one is reset instead).  1 if
 * it ran to SQLITE_DONE, else 0 (logged with what; what NULL: not logged,
 * the caller reports).
 */
int db_step_done(struct db *db, sqlite3_stmt *st, const char *what);
/*
 * Step st, a query of at most one row: 1 with that row current, 0 when
 * there is none, -1 on an error (logged with what).  st is not finalized.
 */
int db_step_row(struct db *db, sqlite3_stmt *st, const char *what);
/*
 * Step st, a query of exactly one row, and finalize it: *v gets the
 * integer in its first column.  1/0 (logged with what; no row is an
 * error).
 */
int db_query_int64(struct db *db, sqlite3_stmt *st, const char *what,
    int64_t *v);
/*
 * Every row of st (finalized here) as an array of elements of size bytes:
 * each is zeroed, then filled by fill(arg, st, element) (1/0, logged).
 * 1 with *rows (malloc'd; NULL for no row) and *n; 0 on failure (a step
 * failure logged with what), every element filled so far cleared with
 * clear(element) and freed.
 */
int db_rows_load(struct db *db, sqlite3_stmt *st, const char *what,
    size_t size, int (*fill)(void *, sqlite3_stmt *, void *),
    void (*clear)(void *), void *arg, void **rows, size_t *n);
/* Column i of st's current row as a malloc'd string; NULL for SQL NULL. */
char *db_col_dup(sqlite3_stmt *st, int i);

/* meta table: small key/value settings of the instance.  get returns a malloc'd string or NULL. */
char *db_meta_get(struct db *db, const char *key);
int db_meta_set(struct db *db, const char *key, const char *value);
/* Delete a meta key (an absent key is no error).  1/0 (logged). */
int db_meta_delete(struct db *db, const char *key);
/*
 * The meta keys that begin with prefix, in key order: *keys and *values
 * become malloc'd arrays of *n malloc'd strings (NULL when *n is 0); free
 * them with db_meta_list_free().  1/0 (logged).
 */
int db_meta_list(struct db *db, const char *prefix, char ***keys,
    char ***values, size_t *n);
void db_meta_list_free(char **keys, char **values, size_t n);

/* Run PRAGMA integrity_check and foreign_key_check; 1 if clean (else logged). */
int db_check(struct db *db);

#endif
