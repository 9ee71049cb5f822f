/*
 * Test driver for the store, audit chain and backups: one subcommand per
 * operation so the shell tests can build stores, tamper with them through
 * the sqlite3 CLI and check what db.c, audit.c and backup.c say.  Errors
 * go to stderr (as the programs log them); exit 0 on success, 1 on failure.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "audit.h"
#include "backup.h"
#include "restore.h"
#include "db.h"
#include "log.h"
#include "testkey.h"
#include "util.h"

static void
usage(void)
{
	fprintf(stderr, "usage: store-tool create|open|readonly DB\n"
	    "       store-tool append DB ACTION [OBJECT]\n"
	    "       store-tool chain DB N KEY CERT\n"
	    "       store-tool sign DB KEY CERT\n"
	    "       store-tool verify DB [CERT ...]\n"
	    "       store-tool ca DB NAME\n"
	    "       store-tool issue DB CA-ID SERIAL\n"
	    "       store-tool crl DB CA-ID NUMBER\n"
	    "       store-tool begin DB\n"
	    "       store-tool check DB\n"
	    "       store-tool rehash DB\n"
	    "       store-tool backup DB FILE PASS-SOURCE\n"
	    "       store-tool backup-verify FILE PASS-SOURCE\n"
	    "       store-tool restore FILE PASS-SOURCE DB\n");
	exit(2);
}

/* Insert a minimal active root CA row named name. */
static int
add_ca(struct db *db, const char *name)
{
	sqlite3_stmt *st;
	int ret = 0;

	if ((st = db_prepare(db, "INSERT INTO cas (name, kind, status, "
	    "subject, key_alg, sig_alg, module_path, token_label, "
	    "token_serial, token_manufacturer, token_model, token_hw, "
	    "token_fw, key_id, key_label, prov_local, prov_always_sensitive, "
	    "prov_never_extractable, prov_extractable, created) VALUES "
	    "(?, 'root', 'active', 'CN=' || ?, 'ec-p256', 'ecdsa-sha256', "
	    "'soft', 'l', 's', 'm', 'm', '1', '1', '01', 'k', 1, 1, 1, 0, "
	    "'2025-01-01T00:00:00Z')")) == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, "insert CA");
	} else {
		ret = 1;
	}
	sqlite3_finalize(st);
	return ret;
}

/* Insert a certificate row and its audit entry in one transaction. */
static int
issue(struct db *db, const char *ca_id, const char *serial)
{
	sqlite3_stmt *st = NULL;
	char sha[65];
	int ret = 0;

	if (!db_begin(db)) {
		return 0;
	}
	if ((st = db_prepare(db, "INSERT INTO certificates (ca_id, serial, "
	    "subject, profile, not_before, not_after, der, sha256, issued) "
	    "VALUES (?, ?, 'CN=seal', 'eseal', '2025-01-01T00:00:00Z', "
	    "'2026-01-01T00:00:00Z', ?, ?, '2025-01-01T00:00:00Z')")) ==
	    NULL) {
		goto out;
	}
	sha256_hex(serial, strlen(serial), sha);
	sqlite3_bind_int64(st, 1, strtoll(ca_id, NULL, 10));
	sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, serial, (int)strlen(serial), SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sha, -1, SQLITE_STATIC);
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
	return ret;
}

static int
add_crl(struct db *db, const char *ca_id, const char *number)
{
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (!db_begin(db)) {
		return 0;
	}
	if ((st = db_prepare(db, "INSERT INTO crls (ca_id, number, kind, "
	    "this_update, next_update, der, sha256) VALUES (?, ?, 'full', "
	    "'2025-01-01T00:00:00Z', '2025-01-08T00:00:00Z', x'00', '')")) ==
	    NULL) {
		goto out;
	}
	sqlite3_bind_int64(st, 1, strtoll(ca_id, NULL, 10));
	sqlite3_bind_int64(st, 2, strtoll(number, NULL, 10));
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, "insert CRL");
		goto out;
	}
	if (!audit_append(db, "alice", "crl", number, NULL, "ok", NULL)) {
		goto out;
	}
	ret = db_commit(db);
out:
	sqlite3_finalize(st);
	if (!ret) {
		db_rollback(db);
	}
	return ret;
}

/* Append n entries, signing the head after every third and at the end. */
static int
chain(struct db *db, int n, struct testkey *k)
{
	char obj[32];
	int i;

	for (i = 1; i <= n; i++) {
		snprintf(obj, sizeof(obj), "object-%d", i);
		if (!audit_append(db, i % 2 ? "alice" : "alice+bob",
		    i % 3 ? "issue" : "revoke", obj, "", "ok", "detail")) {
			return 0;
		}
		if ((i % 3 == 0 || i == n) && !audit_sign_head(db, testkey_sign,
		    k, k->cert_sha256, sig_alg_name(k->alg))) {
			return 0;
		}
	}
	return 1;
}

/* Certificates without their audit entry, and the integrity checks. */
static int
check(struct db *db)
{
	sqlite3_stmt *st;
	int64_t orphans = -1;

	if (!db_check(db)) {
		return 0;
	}
	if ((st = db_prepare(db, "SELECT count(*) FROM certificates c WHERE "
	    "NOT EXISTS (SELECT 1 FROM audit a WHERE (a.action = 'issue' AND "
	    "a.object = c.serial) OR (a.action = 'certificate-carried-over' "
	    "AND a.object = 'certificate:' || c.serial))")) == NULL) {
		return 0;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		orphans = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (orphans != 0) {
		log_warnx("%s: %lld certificates without an audit entry",
		    db_path(db), (long long)orphans);
		return 0;
	}
	return 1;
}

/* Length-prefixed field: 8-byte big-endian length, then the bytes. */
static void
put_field(EVP_MD_CTX *ctx, const char *s)
{
	unsigned char len[8];
	uint64_t n = strlen(s);
	int i;

	for (i = 7; i >= 0; i--) {
		len[i] = n & 0xff;
		n >>= 8;
	}
	EVP_DigestUpdate(ctx, len, sizeof(len));
	EVP_DigestUpdate(ctx, s, strlen(s));
}

/*
 * The rewrite attack: recompute every prev_hash and hash from the
 * current contents, so the chain is self-consistent again.  This is an
 * independent implementation of the entry encoding: on an intact chain
 * it must change nothing.
 */
static int
rehash(struct db *db)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	EVP_MD_CTX *ctx = NULL;
	unsigned char md[32];
	char prev[65], *h;
	int i, rc, changed = 0, ret = 0;

	memset(prev, '0', 64);
	prev[64] = '\0';
	if (!db_begin(db) ||
	    (st = db_prepare(db, "SELECT seq, time, operators, action, "
	    "object, request_hash, result, detail, hash FROM audit "
	    "ORDER BY seq")) == NULL ||
	    (up = db_prepare(db, "UPDATE audit SET prev_hash = ?, hash = ? "
	    "WHERE seq = ?")) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL) {
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
		put_field(ctx, "eseal-audit-entry-v1");
		put_field(ctx, prev);
		for (i = 1; i <= 7; i++) {
			put_field(ctx, (const char *)sqlite3_column_text(st, i));
		}
		EVP_DigestFinal_ex(ctx, md, NULL);
		h = hex_encode(md, sizeof(md));
		if (strcmp(h, (const char *)sqlite3_column_text(st, 8)) != 0) {
			changed++;
		}
		sqlite3_reset(up);
		sqlite3_bind_text(up, 1, prev, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(up, 2, h, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 3, sqlite3_column_int64(st, 0));
		memcpy(prev, h, 65);
		free(h);
		if (sqlite3_step(up) != SQLITE_DONE) {
			db_log_error(db, "rehash");
			goto out;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	printf("changed=%d\n", changed);
	ret = db_commit(db);
out:
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	EVP_MD_CTX_free(ctx);
	return ret;
}

static int
verify(struct db *db, int ncerts, char **files)
{
	struct audit_verify_result res;
	X509 **certs;
	int i, ok = 0;

	if ((certs = calloc((size_t)ncerts + 1, sizeof(*certs))) == NULL) {
		fatalx("out of memory");
	}
	for (i = 0; i < ncerts; i++) {
		if ((certs[i] = testkey_load_cert(files[i])) == NULL) {
			goto out;
		}
	}
	ok = audit_verify(db, certs, (size_t)ncerts, stderr, &res);
	printf("entries=%lld signatures=%lld last_signed=%lld problems=%d "
	    "unsigned_tail=%d\n", (long long)res.entries,
	    (long long)res.signatures, (long long)res.last_signed_seq,
	    res.problems, res.unsigned_tail);
out:
	for (i = 0; i < ncerts; i++) {
		X509_free(certs[i]);
	}
	free(certs);
	return ok;
}

static void
print_info(const struct backup_info *bi)
{
	char when[32];

	time_fmt(bi->created, when, sizeof(when));
	printf("created=%s max_crl=%lld certificates=%lld audit=%lld "
	    "instance=%s\n", when, (long long)bi->max_crl_number,
	    (long long)bi->certificates, (long long)bi->audit_entries,
	    bi->instance_id);
}

/*
 * The store-level restore as eseal-ca does it, without the quorum and
 * witnesses: decrypt next to path, carry over what the backup lacks from
 * the store at path (if any), switch.  1/0.
 */
static int
tool_restore(const char *bk, const char *pass, const char *path)
{
	struct restore_seen seen;
	struct restore_summary sum;
	struct backup_info bi;
	struct stat sb;
	struct db *db = NULL;
	char *tmp = NULL;
	int ok = 0;

	memset(&seen, 0, sizeof(seen));
	if (!backup_install_check(path) ||
	    !backup_decrypt_near(bk, pass, path, &tmp, &bi)) {
		goto out;
	}
	if ((db = db_open(tmp, DB_OPEN_EXISTING, 0)) == NULL ||
	    !restore_merge(db, stat(path, &sb) == 0 ? path : NULL, &seen, "",
	    stdout, &sum) ||
	    !restore_commit(db, "", bk, &bi, &sum, NULL)) {
		goto out;
	}
	db_close(db);
	db = NULL;
	if ((ok = backup_install(tmp, path))) {
		free(tmp);
		tmp = NULL;
	}
out:
	db_close(db);
	backup_discard(tmp);
	return ok;
}

int
main(int argc, char **argv)
{
	struct backup_info bi;
	struct testkey *k = NULL;
	struct db *db = NULL;
	const char *cmd;
	int ok = 0;

	log_init("store-tool");
	if (argc < 3) {
		usage();
	}
	cmd = argv[1];
	if (strcmp(cmd, "backup-verify") == 0) {
		if (argc != 4) {
			usage();
		}
		ok = backup_verify(argv[2], argv[3], &bi);
		if (ok) {
			print_info(&bi);
		}
		return ok ? 0 : 1;
	}
	if (strcmp(cmd, "restore") == 0) {
		if (argc != 5) {
			usage();
		}
		return tool_restore(argv[2], argv[3], argv[4]) ? 0 : 1;
	}
	db = db_open(argv[2], strcmp(cmd, "create") == 0 ? DB_OPEN_CREATE :
	    strcmp(cmd, "readonly") == 0 || strcmp(cmd, "verify") == 0 ?
	    DB_OPEN_READONLY : DB_OPEN_EXISTING, 0);
	if (db == NULL) {
		return 1;
	}
	if (strcmp(cmd, "create") == 0 || strcmp(cmd, "open") == 0 ||
	    strcmp(cmd, "readonly") == 0) {
		ok = 1;
	} else if (strcmp(cmd, "append") == 0 && argc >= 4) {
		ok = audit_append(db, "alice", argv[3], argc > 4 ? argv[4] : "",
		    NULL, "ok", NULL);
	} else if (strcmp(cmd, "chain") == 0 && argc == 6) {
		ok = (k = testkey_load(argv[4], argv[5])) != NULL &&
		    chain(db, atoi(argv[3]), k);
	} else if (strcmp(cmd, "sign") == 0 && argc == 5) {
		ok = (k = testkey_load(argv[3], argv[4])) != NULL &&
		    audit_sign_head(db, testkey_sign, k, k->cert_sha256,
		    sig_alg_name(k->alg));
	} else if (strcmp(cmd, "verify") == 0) {
		ok = verify(db, argc - 3, argv + 3);
	} else if (strcmp(cmd, "ca") == 0 && argc == 4) {
		ok = db_begin(db) && add_ca(db, argv[3]) &&
		    audit_append(db, "alice", "ca-create", argv[3], NULL, "ok",
		    NULL) && db_commit(db);
	} else if (strcmp(cmd, "issue") == 0 && argc == 5) {
		ok = issue(db, argv[3], argv[4]);
	} else if (strcmp(cmd, "crl") == 0 && argc == 5) {
		ok = add_crl(db, argv[3], argv[4]);
	} else if (strcmp(cmd, "begin") == 0) {
		ok = db_begin(db) && db_meta_set(db, "touched", "yes") &&
		    db_commit(db);
	} else if (strcmp(cmd, "rehash") == 0) {
		ok = rehash(db);
	} else if (strcmp(cmd, "check") == 0) {
		ok = check(db);
	} else if (strcmp(cmd, "backup") == 0 && argc == 5) {
		ok = backup_write(db, argv[3], argv[4], &bi);
		if (ok) {
			print_info(&bi);
		}
	} else {
		usage();
	}
	db_rollback(db);
	db_close(db);
	testkey_free(k);
	return ok ? 0 : 1;
}
