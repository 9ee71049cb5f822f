/*
 * The SQLite store of one CA instance: opening with a private file mode
 * (0600, also for the -wal and -shm files), WAL journaling with full
 * synchronisation, foreign keys, forward schema migrations in a single
 * transaction, and BEGIN IMMEDIATE transactions that report a lock held
 * by another process in plain words.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "db.h"
#include "log.h"
#include "schema.h"
#include "util.h"

#define DB_BUSY_DEFAULT_MS 2000
/* Statements kept prepared by db_cached() (and single-statement db_exec). */
#define DB_CACHE_MAX	48

struct db_cached_stmt {
	const char	*sql;		/* a copy of the text */
	sqlite3_stmt	*st;
};

struct db {
	sqlite3			*h;
	char			*path;
	int			 readonly;
	struct db_cached_stmt	 cache[DB_CACHE_MAX];
	size_t			 ncache;
};

/* 1 if rc (an extended result code) means another connection holds a lock. */
static int
is_busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

/* Log the connection's last error as "PATH: what: message". */
void
db_log_error(struct db *db, const char *what)
{
	int rc = sqlite3_extended_errcode(db->h);

	if (is_busy(rc)) {
		log_warnx("%s: %s: database is locked by another process",
		    db->path, what);
		return;
	}
	log_warnx("%s: %s: %s", db->path, what, sqlite3_errmsg(db->h));
}

/*
 * End st: a statement of the cache (db_cached()) is reset for its next
 * use, any other is finalized.  NULL accepted.
 */
static void
stmt_end(struct db *db, sqlite3_stmt *st)
{
	size_t i;

	if (st == NULL) {
		return;
	}
	for (i = 0; i < db->ncache; i++) {
		if (db->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	}
	sqlite3_finalize(st);
}

int
db_step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
	int ok;

	ok = sqlite3_step(st) == SQLITE_DONE;
	if (!ok && what != NULL) {
		db_log_error(db, what);
	}
	stmt_end(db, st);
	return ok;
}

/* The cache slot of sql (same text); NULL if none. */
static struct db_cached_stmt *
cache_find(struct db *db, const char *sql)
{
	size_t i;

	for (i = 0; i < db->ncache; i++) {
		if (strcmp(db->cache[i].sql, sql) == 0) {
			return &db->cache[i];
		}
	}
	return NULL;
}

/*
 * The cached statement of sql, prepared and cached if it is one
 * statement (nothing after it but blanks and semicolons) and the cache
 * has room.  NULL if not: *rc is SQLITE_OK if sql is just not cacheable,
 * else the error of its preparation.
 */
static sqlite3_stmt *
cache_get(struct db *db, const char *sql, int *rc)
{
	struct db_cached_stmt *c;
	const char *tail = NULL;
	sqlite3_stmt *st = NULL;
	char *copy;

	*rc = SQLITE_OK;
	if ((c = cache_find(db, sql)) != NULL) {
		return c->st;
	}
	if (db->ncache == DB_CACHE_MAX) {
		return NULL;
	}
	if ((*rc = sqlite3_prepare_v3(db->h, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &st, &tail)) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	while (tail != NULL && strchr(" \t\n;", *tail) != NULL &&
	    *tail != '\0') {
		tail++;
	}
	if (st == NULL || (tail != NULL && *tail != '\0')) {
		sqlite3_finalize(st);
		return NULL;
	}
	if ((copy = strdup(sql)) == NULL) {
		fatalx("out of memory");
	}
	db->cache[db->ncache].sql = copy;
	db->cache[db->ncache++].st = st;
	return st;
}

sqlite3_stmt *
db_cached(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = cache_get(db, sql, &rc)) == NULL) {
		if (rc != SQLITE_OK) {
			db_log_error(db, "prepare");
			return NULL;
		}
		/* Several statements or the cache is full: a caller's bug. */
		fatalx("%s: cannot cache statement %.40s", db->path, sql);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

void
db_release(sqlite3_stmt *st)
{
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

/*
 * Run sql as sqlite3_exec() would, through the cache when it is one
 * statement; the SQLite result code (SQLITE_OK when it ran through).
 * *err is set as by sqlite3_exec() when not cached (sqlite3_free it).
 */
static int
run(struct db *db, const char *sql, char **err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = cache_get(db, sql, &rc)) == NULL) {
		return sqlite3_exec(db->h, sql, NULL, NULL, err);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int
db_step_row(struct db *db, sqlite3_stmt *st, const char *what)
{
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		return 1;
	case SQLITE_DONE:
		return 0;
	default:
		db_log_error(db, what);
		return -1;
	}
}

int
db_query_int64(struct db *db, sqlite3_stmt *st, const char *what,
    int64_t *v)
{
	int ok;

	if ((ok = sqlite3_step(st) == SQLITE_ROW)) {
		*v = sqlite3_column_int64(st, 0);
	} else {
		db_log_error(db, what);
	}
	stmt_end(db, st);
	return ok;
}

int
db_rows_load(struct db *db, sqlite3_stmt *st, const char *what,
    size_t size, int (*fill)(void *, sqlite3_stmt *, void *),
    void (*clear)(void *), void *arg, void **rows, size_t *n)
{
	unsigned char *v = NULL, *elem;
	size_t cap = 0, cnt = 0, i;
	int rc, ok = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = array_grow(v, &cap, cnt, size, 16);
		elem = v + cnt++ * size;
		memset(elem, 0, size);
		if (!fill(arg, st, elem)) {
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, what);
		goto out;
	}
	ok = 1;
out:
	stmt_end(db, st);
	if (!ok) {
		for (i = 0; i < cnt; i++) {
			clear(v + i * size);
		}
		free(v);
		v = NULL;
		cnt = 0;
	}
	*rows = v;
	*n = cnt;
	return ok;
}

int
db_exec(struct db *db, const char *sql)
{
	char *err = NULL;
	int rc;

	rc = run(db, sql, &err);
	if (rc != SQLITE_OK) {
		if (is_busy(rc)) {
			log_warnx("%s: database is locked by another process",
			    db->path);
		} else {
			log_warnx("%s: %s", db->path,
			    err != NULL ? err : sqlite3_errmsg(db->h));
		}
		sqlite3_free(err);
		return 0;
	}
	return 1;
}

sqlite3_stmt *
db_prepare(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		db_log_error(db, "prepare");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Read PRAGMA user_version into *v.  1/0 (logged). */
static int
user_version(struct db *db, int64_t *v)
{
	sqlite3_stmt *st;

	if ((st = db_prepare(db, "PRAGMA user_version")) == NULL) {
		return 0;
	}
	return db_query_int64(db, st, "reading the schema version", v);
}

/*
 * Bring the schema to db_migrations_count in one transaction.  A newer
 * schema is refused; a read-only connection cannot migrate.  1/0.
 */
static int
migrate(struct db *db, int fresh)
{
	char sql[64];
	int64_t v;
	size_t i;
	int ret = 0;

	if (!user_version(db, &v)) {
		return 0;
	}
	if (v > (int64_t)db_migrations_count) {
		log_warnx("%s: store schema version %lld is newer than this "
		    "program (%zu)", db->path, (long long)v,
		    db_migrations_count);
		return 0;
	}
	if (v == (int64_t)db_migrations_count) {
		return 1;
	}
	if (db->readonly) {
		log_warnx("%s: store schema version %lld is older than this "
		    "program (%zu); open it read-write once to migrate",
		    db->path, (long long)v, db_migrations_count);
		return 0;
	}
	if (!db_begin(db)) {
		return 0;
	}
	/* Another process may have migrated meanwhile. */
	if (!user_version(db, &v)) {
		goto out;
	}
	for (i = (size_t)v; i < db_migrations_count; i++) {
		if (!db_exec(db, db_migrations[i])) {
			log_warnx("%s: schema migration %zu -> %zu failed",
			    db->path, i, i + 1);
			goto out;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu",
	    db_migrations_count);
	if (!db_exec(db, sql)) {
		goto out;
	}
	if (fresh) {
		uuid_t u;
		char id[37], when[32];

		uuid_generate_random(u);
		uuid_unparse_lower(u, id);
		time_fmt(now_utc(), when, sizeof(when));
		if (!db_meta_set(db, "instance_id", id) ||
		    !db_meta_set(db, "created", when)) {
			goto out;
		}
	}
	if (!db_commit(db)) {
		goto out;
	}
	ret = 1;
out:
	if (!ret) {
		db_rollback(db);
	}
	return ret;
}

/* Run a PRAGMA and check that its single result equals want (if given). */
static int
pragma(struct db *db, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;
	const char *got;
	int rc, ret = 0;

	if ((st = db_prepare(db, sql)) == NULL) {
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_log_error(db, sql);
		goto out;
	}
	if (want != NULL) {
		got = rc == SQLITE_ROW ?
		    (const char *)sqlite3_column_text(st, 0) : NULL;
		if (got == NULL || strcasecmp(got, want) != 0) {
			log_warnx("%s: %s: got \"%s\", want \"%s\"", db->path,
			    sql, got != NULL ? got : "", want);
			goto out;
		}
	}
	ret = 1;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Remove path and its -wal and -shm files (after a failed creation). */
static void
unlink_store(const char *path)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char *p;
	size_t i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (asprintf(&p, "%s%s", path, sfx[i]) == -1) {
			fatalx("out of memory");
		}
		(void)unlink(p);
		free(p);
	}
}

struct db *
db_open(const char *path, enum db_open_mode mode, int busy_ms)
{
	struct db *db = NULL;
	struct stat sb;
	mode_t omask;
	int fd, flags, rc, ok = 0, created = 0;

	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		fatalx("out of memory");
	}
	db->readonly = mode == DB_OPEN_READONLY;
	if (mode == DB_OPEN_CREATE) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1 && errno == EEXIST) {
			log_warnx("%s: a CA store already exists there", path);
			goto out;
		}
		if (fd == -1) {
			log_warn("%s: cannot create the store", path);
			goto out;
		}
		close(fd);
		created = 1;
	} else if (stat(path, &sb) == -1) {
		if (errno == ENOENT) {
			log_warnx("%s: no such CA store (run eseal-ca init)",
			    path);
		} else {
			log_warn("%s", path);
		}
		goto out;
	} else if (!S_ISREG(sb.st_mode)) {
		log_warnx("%s: not a regular file", path);
		goto out;
	}

	flags = db->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	/*
	 * No mutex on the connection: a connection is used by one thread at
	 * a time (eseal-ca crl's producer thread takes it over for a walk
	 * of the revocations and is joined before anything else uses it;
	 * the PEM and signing threads never touch the store).  FULLMUTEX
	 * cost a lock and an unlock in every sqlite3_step and
	 * sqlite3_column_* call: about a tenth of that walk's CPU.
	 */
	flags |= SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX;
	/* SQLite gives -wal/-shm the database's mode; the umask is a second guard. */
	omask = umask(077);
	rc = sqlite3_open_v2(path, &db->h, flags, NULL);
	if (rc != SQLITE_OK) {
		umask(omask);
		log_warnx("%s: cannot open the store: %s", path,
		    db->h != NULL ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, busy_ms > 0 ? busy_ms : DB_BUSY_DEFAULT_MS);
	ok = pragma(db, "PRAGMA foreign_keys = ON", NULL) &&
	    pragma(db, "PRAGMA synchronous = FULL", NULL) &&
	    (db->readonly || pragma(db, "PRAGMA journal_mode = WAL", "wal")) &&
	    migrate(db, created);
	umask(omask);
	if (!ok) {
		goto out;
	}
	return db;
out:
	db_close(db);
	if (created) {
		/* A failed creation leaves nothing behind. */
		unlink_store(path);
	}
	return NULL;
}

void
db_close(struct db *db)
{
	if (db == NULL) {
		return;
	}
	while (db->ncache > 0) {
		db->ncache--;
		sqlite3_finalize(db->cache[db->ncache].st);
		free((char *)db->cache[db->ncache].sql);
	}
	if (db->h != NULL) {
		if (!sqlite3_get_autocommit(db->h)) {
			(void)sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
		}
		sqlite3_close_v2(db->h);
	}
	free(db->path);
	free(db);
}

sqlite3 *
db_handle(struct db *db)
{
	return db->h;
}

const char *
db_path(const struct db *db)
{
	return db->path;
}

int
db_begin(struct db *db)
{
	int rc;

	if (!sqlite3_get_autocommit(db->h)) {
		log_warnx("%s: a transaction is already open", db->path);
		return 0;
	}
	if (db->readonly) {
		log_warnx("%s: store opened read-only", db->path);
		return 0;
	}
	rc = run(db, "BEGIN IMMEDIATE", NULL);
	if (is_busy(rc)) {
		log_warnx("%s: database is locked by another process",
		    db->path);
		return 0;
	}
	if (rc != SQLITE_OK) {
		db_log_error(db, "begin transaction");
		return 0;
	}
	return 1;
}

int
db_commit(struct db *db)
{
	int rc;

	rc = run(db, "COMMIT", NULL);
	if (rc == SQLITE_OK) {
		return 1;
	}
	if (is_busy(rc)) {
		log_warnx("%s: database is locked by another process "
		    "(nothing was changed)", db->path);
	} else {
		db_log_error(db, "commit");
	}
	db_rollback(db);
	return 0;
}

void
db_rollback(struct db *db)
{
	if (db == NULL || db->h == NULL || sqlite3_get_autocommit(db->h)) {
		return;
	}
	(void)run(db, "ROLLBACK", NULL);
}

int
db_in_transaction(struct db *db)
{
	return !sqlite3_get_autocommit(db->h);
}

char *
db_meta_get(struct db *db, const char *key)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if ((st = db_cached(db, "SELECT value FROM meta WHERE key = ?")) ==
	    NULL) {
		return NULL;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (db_step_row(db, st, "reading meta") == 1 &&
	    (v = strdup((const char *)sqlite3_column_text(st, 0))) == NULL) {
		fatalx("out of memory");
	}
	db_release(st);
	return v;
}

int
db_meta_set(struct db *db, const char *key, const char *value)
{
	sqlite3_stmt *st;

	if ((st = db_cached(db, "INSERT INTO meta (key, value) VALUES (?, ?) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value")) == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return db_step_done(db, st, "writing meta");
}

int
db_meta_delete(struct db *db, const char *key)
{
	sqlite3_stmt *st;

	if ((st = db_cached(db, "DELETE FROM meta WHERE key = ?")) == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return db_step_done(db, st, "deleting meta");
}

int
db_meta_list(struct db *db, const char *prefix, char ***keys,
    char ***values, size_t *n)
{
	sqlite3_stmt *st;
	char **k = NULL, **v = NULL;
	size_t cnt = 0;
	int rc;

	*keys = *values = NULL;
	*n = 0;
	if ((st = db_prepare(db, "SELECT key, value FROM meta WHERE"
	    " substr(key, 1, length(?1)) = ?1 ORDER BY key")) == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((k = reallocarray(k, cnt + 1, sizeof(*k))) == NULL ||
		    (v = reallocarray(v, cnt + 1, sizeof(*v))) == NULL ||
		    (k[cnt] = strdup((const char *)sqlite3_column_text(st,
		    0))) == NULL ||
		    (v[cnt] = strdup((const char *)sqlite3_column_text(st,
		    1))) == NULL) {
			fatalx("out of memory");
		}
		cnt++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, "reading meta");
		db_meta_list_free(k, v, cnt);
		return 0;
	}
	*keys = k;
	*values = v;
	*n = cnt;
	return 1;
}

void
db_meta_list_free(char **keys, char **values, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(keys[i]);
		free(values[i]);
	}
	free(keys);
	free(values);
}

int
db_check(struct db *db)
{
	sqlite3_stmt *st = NULL;
	const char *msg;
	int rc, ret = 0, clean = 1;

	if ((st = db_prepare(db, "PRAGMA integrity_check")) == NULL) {
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		msg = (const char *)sqlite3_column_text(st, 0);
		if (msg == NULL || strcmp(msg, "ok") != 0) {
			log_warnx("%s: integrity check: %s", db->path,
			    msg != NULL ? msg : "(null)");
			clean = 0;
		}
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "integrity check");
		goto out;
	}
	sqlite3_finalize(st);
	if ((st = db_prepare(db, "PRAGMA foreign_key_check")) == NULL) {
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		log_warnx("%s: foreign key check: %s row %lld refers to a "
		    "missing row of %s", db->path,
		    (const char *)sqlite3_column_text(st, 0),
		    (long long)sqlite3_column_int64(st, 1),
		    (const char *)sqlite3_column_text(st, 2));
		clean = 0;
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "foreign key check");
		goto out;
	}
	ret = clean;
out:
	sqlite3_finalize(st);
	return ret;
}

char *
db_col_dup(sqlite3_stmt *st, int i)
{
	return xstrdup((const char *)sqlite3_column_text(st, i));
}
