/*
 * Encrypted store backups.  A consistent copy is taken with the SQLite
 * online backup API into a private temporary file, encrypted with
 * AES-256-GCM under an scrypt key and written atomically (mode 0600).
 * The file is "ESEALBK1", a fixed header (version, scrypt N/r/p, salt,
 * nonce, creation time, highest CRL number, certificate and audit
 * counts, instance id, ciphertext length) that is the GCM additional
 * data, the ciphertext and the 16-byte tag.  A restore decrypts next to
 * the store, lets the caller carry over what the backup lacks
 * (common/restore.c) and switches with one rename.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "audit.h"
#include "backup.h"
#include "i18n.h"
#include "crlstore.h"
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

/*
 * scrypt's memory bound: the scrypt KDF's own default (1025 MiB), which
 * EVP_PBE_scrypt() would otherwise lower to 32 MiB.
 */
#define BK_SCRYPT_MAXMEM	((uint64_t)1025 * 1024 * 1024)

/* Derive the 32-byte key from the passphrase with scrypt.  1/0 (logged). */
static int
derive_key(const char *pass, const struct bk_header *h, unsigned char key[32])
{
	if (EVP_PBE_scrypt(pass, strlen(pass), h->salt, BK_SALT_LEN, h->n,
	    h->r, h->p, BK_SCRYPT_MAXMEM, key, 32) != 1) {
		log_ssl("backup: scrypt");
		return 0;
	}
	return 1;
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
	if ((pass = secret_read(pass_source, _("backup passphrase"))) == NULL) {
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
	/* The backup carries the CRLs kept as files beside the store. */
	if (!crl_files_inline(dst, db_path(db))) {
		goto out;
	}
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
	sha256_hex(out, outlen, h.info.sha256);
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
	sha256_hex(buf, len, h->info.sha256);
	if ((pass = secret_read(pass_source, _("backup passphrase"))) == NULL ||
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

int
backup_decrypt_near(const char *path, const char *pass_source,
    const char *db_path, char **tmp_path, struct backup_info *info)
{
	struct bk_header h;
	char *dir = dir_of(db_path);
	int ret;

	/* Next to the target, so that the final rename is atomic. */
	ret = decrypt_to_file(path, pass_source, dir, tmp_path, &h);
	if (ret && info != NULL) {
		*info = h.info;
	}
	free(dir);
	return ret;
}

void
backup_discard(char *tmp_path)
{
	tmp_remove(tmp_path);
}

/*
 * A .pre-restore left by a restore interrupted between its link and its
 * rename is the store itself (same inode): remove it.  Any other is
 * refused.  1 if pre does not exist (any more), else 0 (logged).
 */
static int
pre_restore_clear(const char *db_path, const char *pre)
{
	struct stat sp, sd;

	if (lstat(pre, &sp) == -1) {
		return 1;
	}
	if (stat(db_path, &sd) == 0 && sp.st_dev == sd.st_dev &&
	    sp.st_ino == sd.st_ino && unlink(pre) == 0) {
		return 1;
	}
	log_warnx("%s: exists from an earlier restore; move it away first",
	    pre);
	return 0;
}

int
backup_install_check(const char *db_path)
{
	char *pre = NULL;
	int ret;

	if (asprintf(&pre, "%s.pre-restore", db_path) == -1) {
		fatalx("out of memory");
	}
	ret = pre_restore_clear(db_path, pre);
	free(pre);
	return ret;
}

int
backup_install(const char *tmp_path, const char *db_path)
{
	struct stat sb;
	char *pre = NULL, *wal = NULL, *dir = dir_of(db_path);
	int dfd, linked = 0, ret = 0;

	if (asprintf(&pre, "%s.pre-restore", db_path) == -1 ||
	    asprintf(&wal, "%s-wal", db_path) == -1) {
		fatalx("out of memory");
	}
	if (!backup_install_check(db_path)) {
		goto out;
	}
	/* The caller closed the store: a WAL left means another user. */
	if (lstat(wal, &sb) == 0) {
		log_warnx("%s: the store is in use by another process",
		    db_path);
		goto out;
	}
	/*
	 * The old store stays reachable as .pre-restore; the rename is the
	 * one atomic switch.  A crash before it leaves the old store in
	 * place (and .pre-restore the same file, removed by the next try).
	 */
	if (stat(db_path, &sb) == 0) {
		if (link(db_path, pre) == -1) {
			log_warn("%s", pre);
			goto out;
		}
		linked = 1;
	}
	if (rename(tmp_path, db_path) == -1) {
		log_warn("%s: installing the restored store", db_path);
		if (linked) {
			(void)unlink(pre);
		}
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	log_info("%s: restored%s%s", db_path,
	    linked ? "; the previous store is " : "", linked ? pre : "");
	ret = 1;
out:
	free(pre);
	free(wal);
	free(dir);
	return ret;
}
