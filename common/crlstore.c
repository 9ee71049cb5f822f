/*
 * Large CRLs as content-addressed files beside the store: the DER of a
 * CRL of CRL_FILE_MIN bytes or more lives in <store dir>/crls/<sha256>.der
 * (written and fsync'ed, with its directory, before the crls row
 * commits), and its crls row keeps an empty der, the sha256 and nothing
 * else of it; smaller CRLs stay in the row.  A file is read back only
 * through crl_der_load(), which checks its SHA-256 against the row.
 * Backups carry the DER in the row (crl_files_inline() on the backup's
 * copy), so a backup restores anywhere; a restore in place keeps the files.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crlstore.h"
#include "log.h"
#include "util.h"

uint64_t
crl_file_min(void)
{
	const char *s = getenv("ESEAL_CRL_FILE_MIN");
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0') {
		return CRL_FILE_MIN;
	}
	v = strtoull(s, &end, 10);
	return *end == '\0' ? (uint64_t)v : CRL_FILE_MIN;
}

/* "<dir of db_path>/crls", malloc'd. */
static char *
crls_dir(const char *db_path)
{
	char *d, *out;

	if ((d = strdup(db_path)) == NULL ||
	    asprintf(&out, "%s/crls", dirname(d)) == -1) {
		fatalx("out of memory");
	}
	free(d);
	return out;
}

char *
crl_file_path(const char *db_path, const char *sha)
{
	char *dir, *out;

	dir = crls_dir(db_path);
	if (asprintf(&out, "%s/%s.der", dir, sha) == -1) {
		fatalx("out of memory");
	}
	free(dir);
	return out;
}

/* fsync the directory dir.  1/0 (logged). */
static int
sync_dir(const char *dir)
{
	int fd, ok;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_warn("%s", dir);
		return 0;
	}
	if (!(ok = fsync(fd) != -1)) {
		log_warn("%s: fsync", dir);
	}
	close(fd);
	return ok;
}

/*
 * Copy len bytes at off in in to out (in the kernel), in chunks whose
 * writeback is started at once (the fsync after has less to wait for).
 * 1/0, errno set.
 */
static int
copy_range(int in, uint64_t off, uint64_t len, int out)
{
	loff_t o = (loff_t)off, w = 0;
	ssize_t n;

	while (len > 0) {
		n = copy_file_range(in, &o, out, NULL, len > (8u << 20) ?
		    (size_t)8 << 20 : (size_t)len, 0);
#ifdef SYNC_FILE_RANGE_WRITE
		if (n > 0) {
			(void)sync_file_range(out, w, n, SYNC_FILE_RANGE_WRITE);
			w += n;
		}
#endif
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			if (n == 0) {
				errno = EIO;
			}
			return 0;
		}
		len -= (uint64_t)n;
	}
	return 1;
}

char *
crl_files_dir(const char *db_path)
{
	char *dir = crls_dir(db_path);

	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		log_warn("%s", dir);
		free(dir);
		return NULL;
	}
	return dir;
}

/*
 * The PID in name if it is a temporary file of crl_file_store(): 64
 * hex digits, ".der.tmp" PID "." six characters (mkstemp) or ".der.link"
 * PID.  0 for any other name.
 */
static long
temp_writer(const char *name)
{
	const char *p = name;
	char *end;
	long pid;
	size_t i;

	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)p[i])) {
			return 0;
		}
	}
	p += 64;
	if (strncmp(p, ".der.tmp", 8) == 0) {
		p += 8;
	} else if (strncmp(p, ".der.link", 9) == 0) {
		p += 9;
	} else {
		return 0;
	}
	if (!isdigit((unsigned char)*p) ||
	    (pid = strtol(p, &end, 10)) <= 0) {
		return 0;
	}
	if (*end == '\0' && p[-1] == 'k') {		/* .link<pid> */
		return pid;
	}
	return *end == '.' && strlen(end + 1) == 6 && p[-1] == 'p' ? pid : 0;
}

/*
 * Remove the temporary files in dir that writers killed before their
 * rename left behind (their PID no longer runs).  Failures are ignored:
 * a file left is only space.
 */
static void
sweep_temps(const char *dir)
{
	struct dirent *de;
	DIR *d;
	long pid;
	int dfd;

	if ((d = opendir(dir)) == NULL) {
		return;
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if ((pid = temp_writer(de->d_name)) == 0 ||
		    (kill((pid_t)pid, 0) == 0 || errno != ESRCH)) {
			continue;
		}
		if (unlinkat(dfd, de->d_name, 0) == 0) {
			log_info("%s/%s: removed (left by a writer that "
			    "ended before renaming it)", dir, de->d_name);
		}
	}
	closedir(d);
}

/*
 * fd holds exactly the CRL (len bytes from offset 0) in an unnamed
 * O_TMPFILE in the crls directory: make it path's file (fsync'ed, linked
 * under a temporary name, renamed) without copying it.  1 if done, 0 if
 * not possible (nothing logged; the caller copies instead), -1 on a
 * failure after the link (logged).
 */
static int
link_whole(int fd, uint64_t len, const char *path)
{
	struct stat sb;
	char proc[64], *tmp = NULL;
	int ret = 0;

	if (fstat(fd, &sb) == -1 || (uint64_t)sb.st_size != len ||
	    sb.st_nlink != 0) {
		return 0;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (asprintf(&tmp, "%s.link%ld", path, (long)getpid()) == -1) {
		fatalx("out of memory");
	}
	(void)unlink(tmp);
	if (fchmod(fd, 0644) == -1 || fsync(fd) == -1 ||
	    linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == -1) {
		goto out;
	}
	if (rename(tmp, path) == -1) {
		log_warn("%s: rename", path);
		(void)unlink(tmp);
		ret = -1;
		goto out;
	}
	ret = 1;
out:
	free(tmp);
	return ret;
}

int
crl_file_store(const char *db_path, int fd, uint64_t off, uint64_t len,
    const char *sha)
{
	char *dir = NULL, *path = NULL, *tmp = NULL;
	int out = -1, ret = 0, linked;

	path = crl_file_path(db_path, sha);
	if ((dir = crl_files_dir(db_path)) == NULL) {
		goto out;
	}
	sweep_temps(dir);
	/* The encoder's spill is the CRL's file already: link it. */
	if (off == 0 && (linked = link_whole(fd, len, path)) != 0) {
		ret = linked == 1 && sync_dir(dir);
		goto out;
	}
	if ((out = tmp_create(path, 0644, &tmp)) == -1) {
		goto out;
	}
	if (!copy_range(fd, off, len, out) ||
	    fsync(out) == -1) {
		log_warn("%s", tmp);
		goto out;
	}
	if (close(out) == -1) {
		out = -1;
		log_warn("%s: close", tmp);
		goto out;
	}
	out = -1;
	if (rename(tmp, path) == -1) {
		log_warn("%s: rename", path);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	ret = sync_dir(dir);
out:
	if (out != -1) {
		close(out);
	}
	tmp_discard(tmp, 1);
	free(path);
	free(dir);
	return ret;
}

int
crl_der_load(const char *db_path, const char *sha, unsigned char **der,
    size_t *len)
{
	char *path, got[65];
	int ret = 0;

	*der = NULL;
	*len = 0;
	path = crl_file_path(db_path, sha);
	if (!file_read(path, (size_t)1 << 32, der, len)) {
		goto out;
	}
	sha256_hex(*der, *len, got);
	if (strcmp(got, sha) != 0) {
		log_warnx("%s: ES-CRL-10: the file's SHA-256 is %s, its crls "
		    "row says %s", path, got, sha);
		free(*der);
		*der = NULL;
		*len = 0;
		goto out;
	}
	ret = 1;
out:
	free(path);
	return ret;
}

/* What the SQL function eseal_crl_file() works with. */
struct crl_file_fn_ctx {
	const char	*db_path;	/* the store the files are beside */
	int		 logged;	/* crl_der_load() logged a failure */
};

/*
 * SQL eseal_crl_file(sha256): the DER of the CRL file beside the store
 * with that SHA-256, read through crl_der_load() (which logs a failure;
 * the statement then fails).
 */
static void
crl_file_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct crl_file_fn_ctx *c = sqlite3_user_data(ctx);
	const unsigned char *sha = sqlite3_value_text(argv[0]);
	unsigned char *der;
	size_t len;

	if (!crl_der_load(c->db_path, sha != NULL ? (const char *)sha : "",
	    &der, &len)) {
		c->logged = 1;
		sqlite3_result_error(ctx, "CRL file unreadable", -1);
		return;
	}
	sqlite3_result_blob64(ctx, der, len, free);
}

int
crl_files_inline(sqlite3 *h, const char *db_path)
{
	struct crl_file_fn_ctx c = { db_path, 0 };
	char *err = NULL;
	int ok;

	if (sqlite3_create_function(h, "eseal_crl_file", 1, SQLITE_UTF8, &c,
	    crl_file_fn, NULL, NULL) != SQLITE_OK) {
		log_warnx("%s: %s", db_path, sqlite3_errmsg(h));
		return 0;
	}
	ok = sqlite3_exec(h, "UPDATE crls SET der = eseal_crl_file(sha256)"
	    " WHERE length(der) = 0", NULL, NULL, &err) == SQLITE_OK;
	if (!ok && !c.logged) {
		log_warnx("%s: %s", db_path, err != NULL ? err :
		    sqlite3_errmsg(h));
	}
	sqlite3_free(err);
	/* c lives in this frame: the function goes with it. */
	(void)sqlite3_create_function(h, "eseal_crl_file", 1, SQLITE_UTF8,
	    NULL, NULL, NULL, NULL);
	return ok;
}
