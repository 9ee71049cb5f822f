/*
 * Encrypted store backups.  A consistent copy is taken with the SQLite
 * online backup API into a private temporary file, encrypted with
 * AES-256-GCM under an scrypt key and written atomically (mode 0600).
 * The file is "ESEALBK1", a fixed header (version, scrypt N/r/p, salt,
 * nonce, creation time, highest CRL number, certificate and audit
 * counts, instance id, ciphertext length) that is the GCM additional
 * data, the ciphertext and the 16-byte tag.  Restoring keeps the
 * replaced store's high-water marks: CRL numbers, serials and status
 * export sequence numbers never go back.  The marks are applied to the
 * decrypted copy before it replaces the store, so that the rename is the
 * one point where a restore takes effect: a restore killed at any point
 * leaves the old store or the whole restored one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "audit.h"
#include "backup.h"
#include "log.h"
#include "schema.h"
#include "secret.h"
#include "util.h"

#define BK_MAGIC	"ESEALBK1"
#define BK_VERSION	1
#define BK_SCRYPT_N	(1u << 15)
#define BK_SCRYPT_R	8
#define BK_SCRYPT_P	1
#define BK_SALT_LEN	16
#define BK_NONCE_LEN	12
#define BK_TAG_LEN	16
#define BK_ID_LEN	40
/* magic, version, N, r, p, salt, nonce, created, max CRL, certs, audit, id, ct length */
#define BK_HDR_LEN	(8 + 4 + 8 + 4 + 4 + BK_SALT_LEN + BK_NONCE_LEN + \
			 8 + 8 + 8 + 8 + BK_ID_LEN + 8)
#define BK_MAX		((size_t)1 << 31)

struct bk_header {
	uint32_t	version;
	uint64_t	n;
	uint32_t	r, p;
	unsigned char	salt[BK_SALT_LEN];
	unsigned char	nonce[BK_NONCE_LEN];
	struct backup_info info;
	uint64_t	ctlen;
};

static void
put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
hdr_encode(const struct bk_header *h, unsigned char out[BK_HDR_LEN])
{
	unsigned char *p = out;

	memcpy(p, BK_MAGIC, 8);
	p += 8;
	put32(p, h->version);
	p += 4;
	put64(p, h->n);
	p += 8;
	put32(p, h->r);
	p += 4;
	put32(p, h->p);
	p += 4;
	memcpy(p, h->salt, BK_SALT_LEN);
	p += BK_SALT_LEN;
	memcpy(p, h->nonce, BK_NONCE_LEN);
	p += BK_NONCE_LEN;
	put64(p, (uint64_t)h->info.created);
	p += 8;
	put64(p, (uint64_t)h->info.max_crl_number);
	p += 8;
	put64(p, (uint64_t)h->info.certificates);
	p += 8;
	put64(p, (uint64_t)h->info.audit_entries);
	p += 8;
	memset(p, 0, BK_ID_LEN);
	memcpy(p, h->info.instance_id, strnlen(h->info.instance_id,
	    BK_ID_LEN - 1));
	p += BK_ID_LEN;
	put64(p, h->ctlen);
}

/* Parse and sanity-check a header from buf (len bytes of file).  1/0 (logged). */
static int
hdr_decode(const char *fn, const unsigned char *buf, size_t len,
    struct bk_header *h)
{
	const unsigned char *p = buf;

	memset(h, 0, sizeof(*h));
	if (len < BK_HDR_LEN + BK_TAG_LEN || memcmp(p, BK_MAGIC, 8) != 0) {
		log_warnx("%s: not an eseal backup", fn);
		return 0;
	}
	p += 8;
	h->version = get32(p);
	p += 4;
	h->n = get64(p);
	p += 8;
	h->r = get32(p);
	p += 4;
	h->p = get32(p);
	p += 4;
	memcpy(h->salt, p, BK_SALT_LEN);
	p += BK_SALT_LEN;
	memcpy(h->nonce, p, BK_NONCE_LEN);
	p += BK_NONCE_LEN;
	h->info.created = (time_t)get64(p);
	p += 8;
	h->info.max_crl_number = (int64_t)get64(p);
	p += 8;
	h->info.certificates = (int64_t)get64(p);
	p += 8;
	h->info.audit_entries = (int64_t)get64(p);
	p += 8;
	memcpy(h->info.instance_id, p, BK_ID_LEN);
	h->info.instance_id[BK_ID_LEN - 1] = '\0';
	p += BK_ID_LEN;
	h->ctlen = get64(p);
	if (h->version != BK_VERSION) {
		log_warnx("%s: backup format version %u is not supported", fn,
		    h->version);
		return 0;
	}
	/* Bounded work for an attacker-supplied header. */
	if (h->n < 2 || (h->n & (h->n - 1)) != 0 || h->n > (1u << 20) ||
	    h->r == 0 || h->r > 32 || h->p == 0 || h->p > 16) {
		log_warnx("%s: unreasonable scrypt parameters", fn);
		return 0;
	}
	if (h->ctlen != len - BK_HDR_LEN - BK_TAG_LEN) {
		log_warnx("%s: backup is truncated or has trailing bytes", fn);
		return 0;
	}
	return 1;
}

/* Derive the 32-byte key from the passphrase with scrypt.  1/0 (logged). */
static int
derive_key(const char *pass, const struct bk_header *h, unsigned char key[32])
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[6], *p = params;
	uint64_t n = h->n;
	uint32_t r = h->r, pp = h->p;
	int ret = 0;

	if ((kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL) {
		log_ssl("backup: scrypt unavailable");
		goto out;
	}
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
	    (void *)pass, strlen(pass));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)h->salt, BK_SALT_LEN);
	*p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*p++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	*p++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &pp);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, key, 32, params) != 1) {
		log_ssl("backup: scrypt");
		goto out;
	}
	ret = 1;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ret;
}

/* A private temporary file in $TMPDIR; *path is malloc'd.  fd or -1 (logged). */
static int
tmp_file(const char *dir, const char *stem, char **path)
{
	const char *d = dir;
	int fd;

	if (d == NULL && ((d = getenv("TMPDIR")) == NULL || *d == '\0')) {
		d = "/tmp";
	}
	if (asprintf(path, "%s/%s.XXXXXX", d, stem) == -1) {
		fatalx("out of memory");
	}
	if ((fd = mkstemp(*path)) == -1) {
		log_warn("%s: cannot create a temporary file", *path);
		free(*path);
		*path = NULL;
		return -1;
	}
	(void)fchmod(fd, 0600);
	return fd;
}

/* Remove a temporary SQLite file and its companions. */
static void
tmp_remove(char *path)
{
	static const char *const sfx[] = { "-wal", "-shm", "-journal" };
	char *p;
	size_t i;

	if (path == NULL) {
		return;
	}
	(void)unlink(path);
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (asprintf(&p, "%s%s", path, sfx[i]) == -1) {
			fatalx("out of memory");
		}
		(void)unlink(p);
		free(p);
	}
	free(path);
}

/* Wipe and free a plaintext copy. */
static void
wipe_free(unsigned char *buf, size_t len)
{
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
}

/* Write len bytes to fd.  1/0 (logged). */
static int
write_all(int fd, const unsigned char *buf, size_t len, const char *fn)
{
	ssize_t w;
	size_t off = 0;

	while (off < len) {
		w = write(fd, buf + off, len - off);
		if (w == -1 && errno == EINTR) {
			continue;
		}
		if (w == -1) {
			log_warn("%s: write", fn);
			return 0;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1) {
		log_warn("%s: fsync", fn);
		return 0;
	}
	return 1;
}

/* One integer from a query on h (0 when NULL).  1/0 (logged with fn). */
static int
query_int(sqlite3 *h, const char *fn, const char *sql, int64_t *v)
{
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		log_warnx("%s: %s", fn, sqlite3_errmsg(h));
		goto out;
	}
	*v = sqlite3_column_int64(st, 0);
	ret = 1;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Fill the counts and instance id of info from the store copy h. */
static int
read_info(sqlite3 *h, const char *fn, struct backup_info *info)
{
	sqlite3_stmt *st = NULL;
	const char *id;

	if (!query_int(h, fn, "SELECT max(coalesce((SELECT max(number) FROM "
	    "crls), 0), coalesce((SELECT max(floor) FROM crl_floor), 0))",
	    &info->max_crl_number) ||
	    !query_int(h, fn, "SELECT count(*) FROM certificates",
	    &info->certificates) ||
	    !query_int(h, fn, "SELECT count(*) FROM audit",
	    &info->audit_entries)) {
		return 0;
	}
	memset(info->instance_id, 0, sizeof(info->instance_id));
	if (sqlite3_prepare_v2(h, "SELECT value FROM meta WHERE key = "
	    "'instance_id'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    (id = (const char *)sqlite3_column_text(st, 0)) != NULL) {
		snprintf(info->instance_id, sizeof(info->instance_id), "%s", id);
	}
	sqlite3_finalize(st);
	return 1;
}

int
backup_write(struct db *db, const char *path, const char *pass_source,
    struct backup_info *info)
{
	struct bk_header h;
	EVP_CIPHER_CTX *cctx = NULL;
	sqlite3 *dst = NULL;
	sqlite3_backup *bk = NULL;
	unsigned char key[32], *plain = NULL, *out = NULL;
	size_t plainlen = 0, outlen = 0;
	char *pass = NULL, *tmp = NULL;
	int fd = -1, len, rc, ret = 0;

	memset(&h, 0, sizeof(h));
	if ((pass = secret_read(pass_source, "backup passphrase")) == NULL) {
		goto out;
	}
	if ((fd = tmp_file(NULL, "eseal-backup", &tmp)) == -1) {
		goto out;
	}
	close(fd);
	fd = -1;

	/* A consistent copy, whatever other processes do meanwhile. */
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_warnx("%s: %s", tmp, sqlite3_errmsg(dst));
		goto out;
	}
	if ((bk = sqlite3_backup_init(dst, "main", db_handle(db), "main")) ==
	    NULL) {
		log_warnx("%s: backup: %s", db_path(db), sqlite3_errmsg(dst));
		goto out;
	}
	while ((rc = sqlite3_backup_step(bk, -1)) == SQLITE_BUSY ||
	    rc == SQLITE_LOCKED) {
		sqlite3_sleep(50);
	}
	if (sqlite3_backup_finish(bk) != SQLITE_OK || rc != SQLITE_DONE) {
		bk = NULL;
		log_warnx("%s: backup: %s", db_path(db), sqlite3_errmsg(dst));
		goto out;
	}
	bk = NULL;
	h.info.created = now_utc();
	if (!read_info(dst, tmp, &h.info)) {
		goto out;
	}
	sqlite3_close(dst);
	dst = NULL;
	if (!file_read(tmp, BK_MAX, &plain, &plainlen)) {
		goto out;
	}

	h.version = BK_VERSION;
	h.n = BK_SCRYPT_N;
	h.r = BK_SCRYPT_R;
	h.p = BK_SCRYPT_P;
	h.ctlen = plainlen;
	if (RAND_bytes(h.salt, BK_SALT_LEN) != 1 ||
	    RAND_bytes(h.nonce, BK_NONCE_LEN) != 1) {
		log_ssl("%s: random", path);
		goto out;
	}
	if (!derive_key(pass, &h, key)) {
		goto out;
	}
	outlen = BK_HDR_LEN + plainlen + BK_TAG_LEN;
	if ((out = malloc(outlen)) == NULL) {
		fatalx("out of memory");
	}
	hdr_encode(&h, out);
	if ((cctx = EVP_CIPHER_CTX_new()) == NULL) {
		fatalx("out of memory");
	}
	if (EVP_EncryptInit_ex2(cctx, EVP_aes_256_gcm(), key, h.nonce,
	    NULL) != 1 ||
	    EVP_EncryptUpdate(cctx, NULL, &len, out, BK_HDR_LEN) != 1 ||
	    EVP_EncryptUpdate(cctx, out + BK_HDR_LEN, &len, plain,
	    (int)plainlen) != 1 ||
	    EVP_EncryptFinal_ex(cctx, out + BK_HDR_LEN + len, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(cctx, EVP_CTRL_AEAD_GET_TAG, BK_TAG_LEN,
	    out + BK_HDR_LEN + plainlen) != 1) {
		log_ssl("%s: encryption failed", path);
		goto out;
	}
	if (!file_write_atomic(path, out, outlen, 0600)) {
		goto out;
	}
	if (info != NULL) {
		*info = h.info;
	}
	ret = 1;
out:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_CIPHER_CTX_free(cctx);
	if (bk != NULL) {
		sqlite3_backup_finish(bk);
	}
	sqlite3_close(dst);
	wipe_free(plain, plainlen);
	free(out);
	tmp_remove(tmp);
	secret_free(pass);
	return ret;
}

/*
 * Decrypt the backup at path into a new private file in dir (NULL:
 * $TMPDIR) whose malloc'd name is put in *plain_path, and run the SQLite
 * integrity check on it.  The header fields go to *h.  1/0 (logged).
 */
static int
decrypt_to_file(const char *path, const char *pass_source, const char *dir,
    char **plain_path, struct bk_header *h)
{
	EVP_CIPHER_CTX *cctx = NULL;
	sqlite3 *sq = NULL;
	sqlite3_stmt *st = NULL;
	unsigned char key[32], *buf = NULL, *plain = NULL;
	unsigned char tag[BK_TAG_LEN];
	size_t len = 0;
	const char *msg;
	char *pass = NULL, *tmp = NULL;
	int64_t v = 0;
	int fd = -1, n, ret = 0;

	*plain_path = NULL;
	if (!file_read(path, BK_MAX, &buf, &len) ||
	    !hdr_decode(path, buf, len, h)) {
		goto out;
	}
	if ((pass = secret_read(pass_source, "backup passphrase")) == NULL ||
	    !derive_key(pass, h, key)) {
		goto out;
	}
	if ((plain = malloc(h->ctlen + 1)) == NULL) {
		fatalx("out of memory");
	}
	memcpy(tag, buf + BK_HDR_LEN + h->ctlen, BK_TAG_LEN);
	if ((cctx = EVP_CIPHER_CTX_new()) == NULL) {
		fatalx("out of memory");
	}
	if (EVP_DecryptInit_ex2(cctx, EVP_aes_256_gcm(), key, h->nonce,
	    NULL) != 1 ||
	    EVP_DecryptUpdate(cctx, NULL, &n, buf, BK_HDR_LEN) != 1 ||
	    EVP_DecryptUpdate(cctx, plain, &n, buf + BK_HDR_LEN,
	    (int)h->ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(cctx, EVP_CTRL_AEAD_SET_TAG, BK_TAG_LEN,
	    tag) != 1 ||
	    EVP_DecryptFinal_ex(cctx, plain + n, &n) != 1) {
		ERR_clear_error();
		log_warnx("%s: backup integrity check failed (wrong passphrase "
		    "or altered file)", path);
		goto out;
	}
	if ((fd = tmp_file(dir, dir != NULL ? ".eseal-restore" :
	    "eseal-backup", &tmp)) == -1 ||
	    !write_all(fd, plain, h->ctlen, tmp)) {
		goto out;
	}
	close(fd);
	fd = -1;

	if (sqlite3_open_v2(tmp, &sq, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_warnx("%s: backup content: %s", path, sqlite3_errmsg(sq));
		goto out;
	}
	if (!query_int(sq, path, "PRAGMA user_version", &v)) {
		goto out;
	}
	if (v < 1 || v > (int64_t)db_migrations_count) {
		log_warnx("%s: backup store schema version %lld is not "
		    "supported by this program (%zu)", path, (long long)v,
		    db_migrations_count);
		goto out;
	}
	if (sqlite3_prepare_v2(sq, "PRAGMA integrity_check", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
	    (msg = (const char *)sqlite3_column_text(st, 0)) == NULL ||
	    strcmp(msg, "ok") != 0) {
		log_warnx("%s: backup content fails the SQLite integrity "
		    "check", path);
		goto out;
	}
	*plain_path = tmp;
	tmp = NULL;
	ret = 1;
out:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_CIPHER_CTX_free(cctx);
	sqlite3_finalize(st);
	sqlite3_close(sq);
	if (fd != -1) {
		close(fd);
	}
	wipe_free(plain, h->ctlen);
	free(buf);
	tmp_remove(tmp);
	secret_free(pass);
	return ret;
}

int
backup_verify(const char *path, const char *pass_source,
    struct backup_info *info)
{
	struct bk_header h;
	char *tmp = NULL;
	int ret;

	ret = decrypt_to_file(path, pass_source, NULL, &tmp, &h);
	if (ret && info != NULL) {
		*info = h.info;
	}
	tmp_remove(tmp);
	return ret;
}

/* What the replaced store knew: per-CA highest CRL numbers and all serials. */
struct old_marks {
	char	**ca_names;
	int64_t	 *ca_max;
	size_t	  ncas;
	char	**serials;
	size_t	  nserials;
	int64_t	  export_seq;	/* meta status_export_seq, 0 if none */
};

static void
old_marks_free(struct old_marks *m)
{
	size_t i;

	for (i = 0; i < m->ncas; i++) {
		free(m->ca_names[i]);
	}
	for (i = 0; i < m->nserials; i++) {
		free(m->serials[i]);
	}
	free(m->ca_names);
	free(m->ca_max);
	free(m->serials);
	memset(m, 0, sizeof(*m));
}

static void
push_str(char ***arr, size_t *n, const char *s)
{
	char **tmp;

	if ((tmp = reallocarray(*arr, *n + 1, sizeof(**arr))) == NULL ||
	    ((*arr = tmp), (tmp[*n] = strdup(s)) == NULL)) {
		fatalx("out of memory");
	}
	(*n)++;
}

/* Read the high-water marks of the store at db_path.  1/0 (logged). */
static int
read_old_marks(const char *db_path, struct old_marks *m)
{
	struct db *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t *tmp;
	char *seq = NULL;
	int rc, ret = 0;

	if ((db = db_open(db_path, DB_OPEN_EXISTING, 0)) == NULL) {
		goto out;
	}
	if ((st = db_prepare(db, "SELECT c.name, max(coalesce((SELECT "
	    "max(number) FROM crls WHERE ca_id = c.id), 0), coalesce((SELECT "
	    "floor FROM crl_floor WHERE ca_id = c.id), 0)) FROM cas c")) ==
	    NULL) {
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((tmp = reallocarray(m->ca_max, m->ncas + 1,
		    sizeof(*tmp))) == NULL) {
			fatalx("out of memory");
		}
		m->ca_max = tmp;
		m->ca_max[m->ncas] = sqlite3_column_int64(st, 1);
		push_str(&m->ca_names, &m->ncas,
		    (const char *)sqlite3_column_text(st, 0));
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "reading CRL numbers");
		goto out;
	}
	sqlite3_finalize(st);
	if ((st = db_prepare(db, "SELECT serial FROM certificates UNION "
	    "SELECT serial FROM serials_burned")) == NULL) {
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		push_str(&m->serials, &m->nserials,
		    (const char *)sqlite3_column_text(st, 0));
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "reading serials");
		goto out;
	}
	if ((seq = db_meta_get(db, "status_export_seq")) != NULL) {
		m->export_seq = strtoll(seq, NULL, 10);
	}
	ret = 1;
out:
	free(seq);
	sqlite3_finalize(st);
	db_close(db);
	return ret;
}

/*
 * The status export sequence of the restored store (db) is raised to
 * the replaced store's, so that the next export takes a number above
 * every export made before.  In the caller's transaction.  1/0 (logged).
 */
static int
keep_export_seq(struct db *db, const struct old_marks *m, int *kept)
{
	char *cur, buf[32];
	int64_t v;

	*kept = 0;
	cur = db_meta_get(db, "status_export_seq");
	v = cur != NULL ? strtoll(cur, NULL, 10) : 0;
	free(cur);
	if (m->export_seq <= v) {
		return 1;
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)m->export_seq);
	*kept = 1;
	return db_meta_set(db, "status_export_seq", buf);
}

/*
 * In the restored store (db, not yet installed at target), raise
 * crl_floor and the export sequence to the old marks and burn the
 * serials the backup does not know; record the restore in the audit
 * chain.  One transaction.  1/0 (logged).
 */
static int
apply_marks(struct db *db, const char *target, const struct old_marks *m,
    const char *backup, const struct bk_header *h)
{
	sqlite3_stmt *fl = NULL, *bn = NULL;
	unsigned char *raw = NULL;
	size_t rawlen, i;
	char sha[65], *detail = NULL, when[32];
	int raised = 0, burned = 0, missing = 0, seq_kept = 0, ret = 0;

	if (!db_begin(db)) {
		return 0;
	}
	if ((fl = db_prepare(db, "INSERT INTO crl_floor (ca_id, floor) "
	    "SELECT c.id, max(?2, coalesce((SELECT max(number) FROM crls "
	    "WHERE ca_id = c.id), 0)) FROM cas c WHERE c.name = ?1 "
	    "ON CONFLICT (ca_id) DO UPDATE SET floor = max(floor, "
	    "excluded.floor)")) == NULL ||
	    (bn = db_prepare(db, "INSERT OR IGNORE INTO serials_burned "
	    "(serial, source) SELECT ?1, 'restore' WHERE NOT EXISTS (SELECT 1 "
	    "FROM certificates WHERE serial = ?1)")) == NULL) {
		goto out;
	}
	for (i = 0; i < m->ncas; i++) {
		sqlite3_reset(fl);
		sqlite3_bind_text(fl, 1, m->ca_names[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(fl, 2, m->ca_max[i]);
		if (sqlite3_step(fl) != SQLITE_DONE) {
			db_log_error(db, "raising the CRL floor");
			goto out;
		}
		if (sqlite3_changes(db_handle(db)) == 0) {
			log_warnx("%s: CA %s is not in the backup; its CRL "
			    "number %lld cannot be carried over", target,
			    m->ca_names[i], (long long)m->ca_max[i]);
			missing++;
		} else {
			raised++;
		}
	}
	for (i = 0; i < m->nserials; i++) {
		sqlite3_reset(bn);
		sqlite3_bind_text(bn, 1, m->serials[i], -1, SQLITE_STATIC);
		if (sqlite3_step(bn) != SQLITE_DONE) {
			db_log_error(db, "burning serials");
			goto out;
		}
		burned += sqlite3_changes(db_handle(db));
	}
	if (!keep_export_seq(db, m, &seq_kept)) {
		goto out;
	}
	if (!file_read(backup, BK_MAX, &raw, &rawlen)) {
		goto out;
	}
	sha256_hex(raw, rawlen, sha);
	time_fmt(h->info.created, when, sizeof(when));
	if (asprintf(&detail, "backup created %s; crl floors kept for %d CA(s)"
	    "%s; %d serial(s) of the replaced store burned; export sequence "
	    "%s %lld", when, raised, missing ? " (some CAs missing from the "
	    "backup)" : "", burned, seq_kept ? "kept at" : "of the backup, at "
	    "least", (long long)m->export_seq) == -1) {
		fatalx("out of memory");
	}
	if (!audit_append(db, "", "restore", backup, sha, "ok", detail)) {
		goto out;
	}
	ret = db_commit(db);
out:
	sqlite3_finalize(fl);
	sqlite3_finalize(bn);
	free(raw);
	free(detail);
	if (!ret) {
		db_rollback(db);
	}
	return ret;
}

/* The directory part of path (malloc'd). */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;

	if (slash == NULL) {
		d = strdup(".");
	} else if (slash == path) {
		d = strdup("/");
	} else {
		d = strndup(path, (size_t)(slash - path));
	}
	if (d == NULL) {
		fatalx("out of memory");
	}
	return d;
}

/*
 * The closed SQLite file at path has no write-ahead log left (its last
 * connection checkpointed it), so the file alone is the whole store.
 * 1/0 (logged).
 */
static int
wal_empty(const char *path)
{
	struct stat sb;
	char *wal;
	int ok;

	if (asprintf(&wal, "%s-wal", path) == -1) {
		fatalx("out of memory");
	}
	ok = stat(wal, &sb) == -1 || sb.st_size == 0;
	if (!ok) {
		log_warnx("%s: the restored copy's log was not checkpointed",
		    wal);
	}
	free(wal);
	return ok;
}

/*
 * A db_path.pre-restore that is the same file as the store is the link
 * an interrupted restore made before it could install the restored
 * store: nothing was replaced, so it is removed.  1 if pre is free now,
 * 0 (logged) if it holds another store.
 */
static int
pre_restore_free(const char *db_path, const char *pre)
{
	struct stat sa, sb;

	if (lstat(pre, &sb) == -1) {
		return 1;
	}
	if (stat(db_path, &sa) == 0 && sa.st_dev == sb.st_dev &&
	    sa.st_ino == sb.st_ino) {
		if (unlink(pre) == -1) {
			log_warn("%s", pre);
			return 0;
		}
		log_info("%s: removed, left by an interrupted restore (it was "
		    "the store itself)", pre);
		return 1;
	}
	log_warnx("%s: exists from an earlier restore; move it away first",
	    pre);
	return 0;
}

int
backup_restore(const char *path, const char *pass_source, const char *db_path)
{
	struct old_marks m;
	struct bk_header h;
	struct stat sb;
	struct db *db = NULL;
	char *dir = NULL, *tmp = NULL, *pre = NULL, *wal = NULL;
	int exists, linked = 0, ret = 0;

	memset(&m, 0, sizeof(m));
	dir = dir_of(db_path);
	if (asprintf(&pre, "%s.pre-restore", db_path) == -1 ||
	    asprintf(&wal, "%s-wal", db_path) == -1) {
		fatalx("out of memory");
	}
	/* Decrypted next to the target, so the final rename is atomic. */
	if (!decrypt_to_file(path, pass_source, dir, &tmp, &h)) {
		goto out;
	}
	exists = stat(db_path, &sb) == 0;
	if (exists) {
		if (!pre_restore_free(db_path, pre) ||
		    !read_old_marks(db_path, &m)) {
			goto out;
		}
		if (lstat(wal, &sb) == 0) {
			log_warnx("%s: the store is in use by another process",
			    db_path);
			goto out;
		}
	}
	/* The marks and the audit entry go into the copy, not yet in place. */
	if ((db = db_open(tmp, DB_OPEN_EXISTING, 0)) == NULL ||
	    !apply_marks(db, db_path, &m, path, &h)) {
		goto out;
	}
	db_close(db);
	db = NULL;
	if (!wal_empty(tmp)) {
		goto out;
	}
	if (exists) {
		if (link(db_path, pre) == -1) {
			log_warn("%s", pre);
			goto out;
		}
		linked = 1;
	}
	/* The one step that replaces the store. */
	if (rename(tmp, db_path) == -1) {
		log_warn("%s: installing the restored store", db_path);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	log_info("%s: restored from %s%s%s", db_path, path,
	    linked ? "; the previous store is " : "", linked ? pre : "");
	ret = 1;
out:
	db_close(db);
	if (!ret && linked) {
		(void)unlink(pre);
	}
	tmp_remove(tmp);
	old_marks_free(&m);
	free(dir);
	free(pre);
	free(wal);
	return ret;
}
