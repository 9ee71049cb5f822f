/*
 * Crash-test load for the store: loops forever doing realistic
 * transactions (a certificate row with a fresh random serial and its
 * audit entry, committed together; every few rounds a CRL row, and a
 * signed audit head with a test-only software key).  tests/store.test
 * kills it with SIGKILL at random moments and checks the store.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "audit.h"
#include "db.h"
#include "log.h"
#include "testkey.h"
#include "util.h"

/* One issuance: certificate row and audit entry in one transaction. */
static int
issue_one(struct db *db)
{
	sqlite3_stmt *st = NULL;
	unsigned char rnd[16], der[600];
	char *serial = NULL, sha[65];
	int ret = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
	    RAND_bytes(der, sizeof(der)) != 1) {
		return 0;
	}
	rnd[0] = (rnd[0] & 0x7f) | 0x10;	/* positive, no leading zero */
	serial = hex_encode(rnd, sizeof(rnd));
	sha256_hex(der, sizeof(der), sha);
	if (!db_begin(db)) {
		goto out;
	}
	if ((st = db_prepare(db, "INSERT INTO certificates (ca_id, serial, "
	    "subject, profile, not_before, not_after, der, sha256, issued) "
	    "VALUES (1, ?, 'CN=crash', 'eseal', '2025-01-01T00:00:00Z', "
	    "'2026-01-01T00:00:00Z', ?, ?, '2025-01-01T00:00:00Z')")) ==
	    NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, der, sizeof(der), SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sha, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, "insert certificate");
		goto out;
	}
	if (!audit_append(db, "alice+bob", "issue", serial, sha, "ok",
	    "profile=eseal")) {
		goto out;
	}
	ret = db_commit(db);
out:
	sqlite3_finalize(st);
	if (!ret) {
		db_rollback(db);
	}
	free(serial);
	return ret;
}

/* The next CRL for CA 1 and its audit entry. */
static int
crl_one(struct db *db)
{
	int ok;

	ok = db_begin(db) && db_exec(db, "INSERT INTO crls (ca_id, number, "
	    "kind, this_update, next_update, der, sha256) SELECT 1, "
	    "coalesce(max(number), 0) + 1, 'full', '2025-01-01T00:00:00Z', "
	    "'2025-01-08T00:00:00Z', randomblob(300), '' FROM crls "
	    "WHERE ca_id = 1") &&
	    audit_append(db, "alice", "crl", "1", NULL, "ok", NULL) &&
	    db_commit(db);
	if (!ok) {
		db_rollback(db);
	}
	return ok;
}

int
main(int argc, char **argv)
{
	struct testkey *k;
	struct db *db;
	unsigned long i;

	log_init("test-crash");
	if (argc != 4) {
		fprintf(stderr, "usage: test-crash DB KEY CERT\n");
		return 2;
	}
	if ((k = testkey_load(argv[2], argv[3])) == NULL ||
	    (db = db_open(argv[1], DB_OPEN_EXISTING, 10000)) == NULL) {
		return 1;
	}
	for (i = 1;; i++) {
		if (!issue_one(db)) {
			return 1;
		}
		if (i % 7 == 0 && !crl_one(db)) {
			return 1;
		}
		if (i % 5 == 0 && !audit_sign_head(db, testkey_sign, k,
		    k->cert_sha256, sig_alg_name(k->alg))) {
			return 1;
		}
		if (i == 1) {
			printf("running\n");
			fflush(stdout);
		}
	}
}
