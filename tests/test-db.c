/*
 * Unit tests for common/db.c and the transaction behaviour of
 * audit_append(): creation refusals, modes, meta, rollback, joining the
 * caller's transaction, db_check, the statement cache (db_cached,
 * db_exec).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "db.h"
#include "log.h"
#include "tap.h"

static int64_t
count(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if ((st = db_prepare(db, sql)) != NULL &&
	    sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

/* db_cached() and the single-statement cache of db_exec(). */
static void
cache_tests(struct db *db)
{
	sqlite3_stmt *a, *b;
	char sql[64];

	a = db_cached(db, "SELECT ?1 + 1");
	ok(a != NULL && sqlite3_bind_int(a, 1, 41) == SQLITE_OK &&
	    sqlite3_step(a) == SQLITE_ROW && sqlite3_column_int(a, 0) == 42,
	    "cached statement runs");
	/* Same text from another buffer: the same statement, reset. */
	snprintf(sql, sizeof(sql), "SELECT ?1 + %d", 1);
	b = db_cached(db, sql);
	ok(b == a, "same text, same statement");
	ok(b != NULL && sqlite3_step(b) == SQLITE_ROW &&
	    sqlite3_column_type(b, 0) == SQLITE_NULL,
	    "handed out reset, bindings cleared");
	db_release(b);
	db_release(NULL);
	ok(db_exec(db, "CREATE TABLE t (x)") &&
	    db_exec(db, "INSERT INTO t VALUES (1)") &&
	    db_exec(db, "INSERT INTO t VALUES (1)") &&
	    db_exec(db, "INSERT INTO t VALUES (2); INSERT INTO t VALUES (3)"),
	    "db_exec: repeated and multi-statement SQL");
	ok(count(db, "SELECT sum(x) FROM t") == 7, "each ran once");
	ok(!db_exec(db, "INSERT INTO nosuch VALUES (1)"),
	    "db_exec: error reported");
	ok(db_begin(db) && db_exec(db, "SAVEPOINT one") &&
	    db_exec(db, "INSERT INTO t VALUES (10)") &&
	    db_exec(db, "ROLLBACK TO one") && db_exec(db, "RELEASE one") &&
	    db_commit(db) && count(db, "SELECT sum(x) FROM t") == 7,
	    "cached savepoints roll back");
}

int
main(void)
{
	char dir[] = "/tmp/eseal-test-db.XXXXXX", path[64], *v;
	struct db *db;
	struct stat sb;
	char hash[65];
	int64_t seq;

	log_init("test-db");
	if (mkdtemp(dir) == NULL) {
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", dir);
	umask(022);

	ok(db_open(path, DB_OPEN_EXISTING, 0) == NULL, "missing store refused");
	ok(access(path, F_OK) == -1, "refusal created nothing");
	db = db_open(path, DB_OPEN_CREATE, 0);
	ok(db != NULL, "create");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "mode 0600");
	ok(strcmp(db_path(db), path) == 0, "db_path");
	ok(count(db, "PRAGMA foreign_keys") == 1, "foreign keys on");
	ok(count(db, "PRAGMA synchronous") == 2, "synchronous FULL");
	ok(count(db, "PRAGMA user_version") == DB_SCHEMA_VERSION,
	    "user_version %d", DB_SCHEMA_VERSION);

	ok(audit_head(db, &seq, hash) && seq == 0 &&
	    strspn(hash, "0") == 64, "empty chain head is 0 / 64 zeros");
	ok(db_meta_set(db, "k", "v1") && db_meta_set(db, "k", "v2"),
	    "meta set twice");
	v = db_meta_get(db, "k");
	ok(v != NULL && strcmp(v, "v2") == 0, "meta get returns the last value");
	free(v);
	ok(db_meta_get(db, "absent") == NULL, "absent meta key is NULL");

	ok(db_begin(db), "begin");
	ok(db_in_transaction(db), "in transaction");
	ok(!db_begin(db), "nested begin refused");
	ok(audit_append(db, "alice", "test", "x", NULL, "ok", NULL),
	    "append joins the open transaction");
	ok(db_in_transaction(db), "append did not commit the caller's transaction");
	db_rollback(db);
	ok(!db_in_transaction(db), "rolled back");
	ok(count(db, "SELECT count(*) FROM audit") == 0,
	    "rollback removed the joined audit entry");

	ok(audit_append(db, "alice", "test", "x", NULL, "ok", NULL),
	    "append on its own");
	ok(!db_in_transaction(db), "own transaction committed");
	ok(audit_head(db, &seq, hash) && seq == 1, "head is entry 1");
	ok(count(db, "SELECT count(*) FROM audit WHERE request_hash = '' AND "
	    "detail = ''") == 1, "NULL fields stored as empty strings");

	ok(!db_exec(db, "INSERT INTO crl_floor VALUES (42, 1)"),
	    "foreign key violation refused");
	ok(db_check(db), "db_check clean");
	ok(db_exec(db, "PRAGMA foreign_keys = OFF; "
	    "INSERT INTO crl_floor VALUES (42, 1); PRAGMA foreign_keys = ON"),
	    "plant a dangling reference");
	ok(!db_check(db), "db_check finds it");
	cache_tests(db);
	db_close(db);
	db_close(NULL);

	ok(db_open(path, DB_OPEN_CREATE, 0) == NULL, "create over existing refused");
	db = db_open(path, DB_OPEN_READONLY, 0);
	ok(db != NULL, "read-only open");
	ok(db != NULL && !db_begin(db), "read-only store refuses writes");
	db_close(db);

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0) {
		return 1;
	}
	return tap_done();
}
