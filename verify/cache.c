/*
 * The disk cache of eseal-verify: OCSP responses and CRLs fetched over
 * HTTP, one file per key (the SHA-256 of the URL and, for OCSP, of the
 * CertID), each starting with a one-line header that holds its expiry
 * time (the earlier of nextUpdate and Cache-Control max-age).  Files are
 * replaced atomically; an unreadable or expired entry is a miss.  The
 * cache only saves round trips: everything read from it is checked
 * again like a fresh answer.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"
#include "verify.h"

#define CACHE_MAGIC	"eseal-verify-cache 1 "
#define CACHE_MAX	(64u * 1024 * 1024)

char *
cache_default_dir(void)
{
	const char	*x, *home;
	char		*s = NULL;

	if ((x = getenv("XDG_CACHE_HOME")) != NULL && x[0] == '/') {
		if (asprintf(&s, "%s/eseal-verify", x) == -1) {
			fatalx("cache: out of memory");
		}
	} else if ((home = getenv("HOME")) != NULL && home[0] == '/') {
		if (asprintf(&s, "%s/.cache/eseal-verify", home) == -1) {
			fatalx("cache: out of memory");
		}
	}
	return s;
}

static void
cache_path(const char *dir, const char *key, char *buf, size_t bufsz)
{
	char	hex[65];

	sha256_hex(key, strlen(key), hex);
	snprintf(buf, bufsz, "%s/%s", dir, hex);
}

int
cache_get(const char *dir, const char *key, time_t now,
    unsigned char **out, size_t *out_len)
{
	unsigned char	*buf = NULL;
	char		 path[4096], *nl;
	size_t		 len, hl;
	long long	 exp;
	FILE		*f;
	int		 ok = 0;

	*out = NULL;
	*out_len = 0;
	if (dir == NULL) {
		return 0;
	}
	cache_path(dir, key, path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL) {
		return 0;
	}
	fclose(f);
	if (!file_read(path, CACHE_MAX, &buf, &len)) {
		goto out;
	}
	hl = strlen(CACHE_MAGIC);
	if (len < hl + 2 || memcmp(buf, CACHE_MAGIC, hl) != 0 ||
	    (nl = memchr(buf, '\n', len < 64 ? len : 64)) == NULL) {
		goto out;
	}
	*nl = '\0';
	exp = strtoll((char *)buf + hl, NULL, 10);
	if (exp <= (long long)now) {
		goto out;
	}
	hl = (size_t)((unsigned char *)nl - buf) + 1;
	if ((*out = malloc(len - hl + 1)) == NULL) {
		fatalx("cache: out of memory");
	}
	memcpy(*out, buf + hl, len - hl);
	*out_len = len - hl;
	ok = 1;
 out:
	free(buf);
	return ok;
}

/* mkdir -p for the cache directory (mode 0700). 1/0. */
static int
mkdirs(const char *dir)
{
	char	tmp[4096], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp)) {
		return 0;
	}
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0700) == -1 && errno != EEXIST) {
				return 0;
			}
			*p = '/';
		}
	}
	return mkdir(tmp, 0700) == 0 || errno == EEXIST;
}

int
cache_put(const char *dir, const char *key, time_t expires,
    const unsigned char *buf, size_t len)
{
	unsigned char	*all = NULL;
	char		 path[4096], head[64];
	size_t		 hl;
	int		 ok = 0;

	if (dir == NULL || len > CACHE_MAX) {
		return 0;
	}
	if (!mkdirs(dir)) {
		log_warn("%s: cannot create the cache directory", dir);
		return 0;
	}
	cache_path(dir, key, path, sizeof(path));
	hl = (size_t)snprintf(head, sizeof(head), "%s%lld\n", CACHE_MAGIC,
	    (long long)expires);
	if ((all = malloc(hl + len)) == NULL) {
		fatalx("cache: out of memory");
	}
	memcpy(all, head, hl);
	memcpy(all + hl, buf, len);
	ok = file_write_atomic(path, all, hl + len, 0600);
	free(all);
	return ok;
}
