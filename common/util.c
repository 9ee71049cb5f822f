/*
 * Shared helpers: hex, whole-file I/O with atomic replacement, UTC time,
 * SHA-256 and PKCS#11-style blank-padded strings.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "log.h"
#include "util.h"

char *
hex_encode(const unsigned char *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *s;
	size_t i;

	if ((s = malloc(len * 2 + 1)) == NULL) {
		fatalx("out of memory");
	}
	for (i = 0; i < len; i++) {
		s[2 * i] = digits[buf[i] >> 4];
		s[2 * i + 1] = digits[buf[i] & 0xf];
	}
	s[len * 2] = '\0';
	return s;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = tolower(c);
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	return -1;
}

unsigned char *
hex_decode(const char *hex, size_t *out_len)
{
	unsigned char *buf;
	size_t len, i;

	len = strlen(hex);
	if (len % 2 != 0) {
		return NULL;
	}
	if ((buf = malloc(len / 2 + 1)) == NULL) {
		fatalx("out of memory");
	}
	for (i = 0; i < len / 2; i++) {
		int hi = hexval((unsigned char)hex[2 * i]);
		int lo = hexval((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(buf);
			return NULL;
		}
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	*out_len = len / 2;
	return buf;
}

int
file_open_max(const char *path, size_t max, size_t *size)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		log_warn("%s", path);
	} else if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file", path);
	} else if ((size_t)st.st_size > max) {
		log_warnx("%s: larger than %zu bytes", path, max);
	} else {
		*size = (size_t)st.st_size;
		return fd;
	}
	if (fd != -1) {
		close(fd);
	}
	return -1;
}

int
fd_read_full(int fd, void *buf, size_t len, size_t *got, const char *path)
{
	unsigned char *p = buf;
	ssize_t r;

	*got = 0;
	while (*got < len) {
		if ((r = read(fd, p + *got, len - *got)) == -1 &&
		    errno == EINTR) {
			continue;
		}
		if (r == -1) {
			log_warn("%s", path);
			return 0;
		}
		if (r == 0) {
			break;
		}
		*got += (size_t)r;
	}
	return 1;
}

int
file_read(const char *path, size_t max, unsigned char **out, size_t *out_len)
{
	unsigned char *buf;
	size_t size, off;
	int fd, ok;

	*out = NULL;
	*out_len = 0;
	if ((fd = file_open_max(path, max, &size)) == -1) {
		return 0;
	}
	if ((buf = malloc(size + 1)) == NULL) {
		fatalx("out of memory");
	}
	if ((ok = fd_read_full(fd, buf, size, &off, path))) {
		buf[off] = '\0';
		*out = buf;
		*out_len = off;
	} else {
		free(buf);
	}
	close(fd);
	return ok;
}

int
file_write_tmp(const char *path, const void *buf, size_t len, int mode,
    char **tmp)
{
	const unsigned char *p = buf;
	size_t off = 0;
	ssize_t w;
	int fd, ret = 0;

	if ((fd = tmp_create(path, mode, tmp)) == -1) {
		return 0;
	}
	while (off < len) {
		w = write(fd, p + off, len - off);
		if (w == -1 && errno == EINTR) {
			continue;
		}
		if (w == -1) {
			log_warn("%s: write", *tmp);
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1) {
		log_warn("%s: fsync", *tmp);
		goto out;
	}
	ret = 1;
out:
	if (close(fd) == -1 && ret) {
		log_warn("%s: close", *tmp);
		ret = 0;
	}
	if (!ret) {
		tmp_discard(*tmp, 1);
		*tmp = NULL;
	}
	return ret;
}

int
file_commit_tmp(char *tmp, const char *path)
{
	char *dcopy = NULL;
	int dfd, ret = 0;

	if (rename(tmp, path) == -1) {
		log_warn("%s: rename", path);
		goto out;
	}
	if ((dcopy = strdup(path)) == NULL) {
		fatalx("out of memory");
	}
	if ((dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	ret = 1;
out:
	tmp_discard(tmp, !ret);
	free(dcopy);
	return ret;
}

int
file_write_atomic(const char *path, const void *buf, size_t len, int mode)
{
	char *tmp = NULL;

	return file_write_tmp(path, buf, len, mode, &tmp) &&
	    file_commit_tmp(tmp, path);
}

int
dir_writable(const char *dir, const char *what)
{
	struct stat sb;
	char *probe = NULL;
	int fd, ret = 0;

	if (stat(dir, &sb) == -1) {
		log_warnx("%s: ES-OUT-01: cannot write in %s: %s", what, dir,
		    strerror(errno));
		return 0;
	}
	if (!S_ISDIR(sb.st_mode)) {
		log_warnx("%s: ES-OUT-01: cannot write in %s: not a directory",
		    what, dir);
		return 0;
	}
	if (asprintf(&probe, "%s/.eseal-probe-XXXXXX", dir) == -1) {
		fatalx("out of memory");
	}
	if ((fd = mkstemp(probe)) == -1) {
		log_warnx("%s: ES-OUT-01: cannot write in %s: %s", what, dir,
		    strerror(errno));
		goto out;
	}
	close(fd);
	ret = 1;
out:
	/* The probe file exists only if it was created. */
	tmp_discard(probe, ret);
	return ret;
}

int
out_path_writable(const char *path, const char *what)
{
	struct stat sb;
	char *dcopy;
	int ret;

	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		log_warnx("%s: ES-OUT-01: cannot write %s: it is a directory",
		    what, path);
		return 0;
	}
	if ((dcopy = strdup(path)) == NULL) {
		fatalx("out of memory");
	}
	ret = dir_writable(dirname(dcopy), what);
	free(dcopy);
	return ret;
}

void
time_fmt(time_t t, char *buf, size_t bufsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
time_parse(const char *s, time_t *out, const char *what)
{
	struct tm tm;
	const char *end;

	if (strcmp(s, "now") == 0) {
		*out = now_utc();
		return 1;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (end == NULL || *end != '\0') {
			log_warnx("%s: bad time \"%s\" (want YYYY-MM-DD or "
			    "YYYY-MM-DDTHH:MM:SSZ)", what, s);
			return 0;
		}
	}
	*out = timegm(&tm);
	return 1;
}

time_t
now_utc(void)
{
	const char *fake = getenv("ESEAL_NOW");
	time_t t;

	if (fake != NULL && *fake != '\0' && strcmp(fake, "now") != 0 &&
	    time_parse(fake, &t, "ESEAL_NOW")) {
		return t;
	}
	return time(NULL);
}

void
sha256(const void *buf, size_t len, unsigned char out[32])
{
	unsigned int n = 32;

	if (!EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL)) {
		fatalx("SHA-256 failed");
	}
}

void
sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];
	char *h;

	sha256(buf, len, md);
	h = hex_encode(md, sizeof(md));
	memcpy(out, h, 65);
	free(h);
}

int
sha256_file_hex(const char *path, char out[65])
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char buf[65536], md[32];
	unsigned int mdlen = 0;
	char *h = NULL;
	ssize_t n;
	int fd = -1, ok = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s: cannot open", path);
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		fatalx("out of memory");
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR) {
				continue;
			}
			log_warn("%s: read", path);
			goto out;
		}
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			fatalx("SHA-256 failed");
		}
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != sizeof(md)) {
		fatalx("SHA-256 failed");
	}
	h = hex_encode(md, sizeof(md));
	memcpy(out, h, 65);
	ok = 1;
out:
	free(h);
	EVP_MD_CTX_free(ctx);
	if (fd != -1) {
		close(fd);
	}
	return ok;
}

void
fixed_to_str(char *dst, size_t dstsz, const unsigned char *src, size_t srclen)
{
	size_t n = srclen;

	while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0')) {
		n--;
	}
	if (n >= dstsz) {
		n = dstsz - 1;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

size_t
utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	uint32_t cp, min;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			/* 0x80..0xc1 (continuation, overlong lead), 0xf5..0xff */
			return i;
		}
		if (len - i <= n) {
			return i;
		}
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80) {
				return i;
			}
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, UTF-16 surrogates, beyond U+10FFFF. */
		if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) ||
		    cp > 0x10ffff) {
			return i;
		}
		i += n + 1;
	}
	return len;
}

int
tmp_create(const char *path, int mode, char **tmp)
{
	int fd;

	if (asprintf(tmp, "%s.tmp%ld.XXXXXX", path, (long)getpid()) == -1) {
		fatalx("out of memory");
	}
	if ((fd = mkstemp(*tmp)) == -1) {
		log_warn("%s: cannot create a temporary file", path);
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	if (fchmod(fd, (mode_t)mode) == -1) {
		log_warn("%s: chmod", *tmp);
		close(fd);
		tmp_discard(*tmp, 1);
		*tmp = NULL;
		return -1;
	}
	return fd;
}

void
tmp_discard(char *tmp, int remove)
{
	if (remove && tmp != NULL) {
		(void)unlink(tmp);
	}
	free(tmp);
}

char *
xstrdup(const char *s)
{
	char *d;

	if (s == NULL) {
		return NULL;
	}
	if ((d = strdup(s)) == NULL) {
		fatalx("out of memory");
	}
	return d;
}

char *
xstrdup_or_empty(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

void *
array_grow(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t ncap;

	if (n < *cap) {
		return v;
	}
	ncap = *cap != 0 ? *cap * 2 : first;
	if ((v = reallocarray(v, ncap, size)) == NULL) {
		fatalx("out of memory");
	}
	*cap = ncap;
	return v;
}

/*
 * The PEM certificate of buf (len bytes), with nothing but blanks after
 * it; NULL (logged with path) otherwise.
 */
static X509 *
x509_from_pem(const unsigned char *buf, size_t len, const char *path)
{
	BIO *bio;
	X509 *x;
	char rest[256];
	int i, n;

	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		fatalx("out of memory");
	}
	if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		log_ssl("%s: not a PEM certificate", path);
	}
	while (x != NULL && (n = BIO_read(bio, rest, sizeof(rest))) > 0) {
		for (i = 0; i < n; i++) {
			if (!isspace((unsigned char)rest[i])) {
				log_warnx("%s: trailing data after the "
				    "certificate", path);
				X509_free(x);
				x = NULL;
				break;
			}
		}
	}
	BIO_free(bio);
	return x;
}

/* The DER certificate that is all of buf; NULL (logged with path) if not. */
static X509 *
x509_from_der(const unsigned char *buf, size_t len, const char *path)
{
	const unsigned char *p = buf;
	X509 *x;

	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL) {
		log_ssl("%s: not a DER or PEM certificate", path);
	} else if (p != buf + len) {
		log_warnx("%s: %td bytes trailing garbage", path,
		    (buf + len) - p);
		X509_free(x);
		x = NULL;
	}
	return x;
}

X509 *
x509_read_file(const char *path)
{
	unsigned char *buf;
	size_t len, i;
	X509 *x;

	if (!file_read(path, 1 << 20, &buf, &len)) {
		return NULL;
	}
	for (i = 0; i < len && isspace(buf[i]); i++) {
		continue;
	}
	if (len - i >= 11 && memcmp(buf + i, "-----BEGIN ", 11) == 0) {
		x = x509_from_pem(buf, len, path);
	} else {
		x = x509_from_der(buf, len, path);
	}
	free(buf);
	return x;
}
