/*
 * A text file of revocations read as a crl_iter, with one fixed line
 * buffer, so that tests, the benchmark and imports stream any number of
 * entries in constant memory.  Line format: see crl.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crl.h"
#include "log.h"

struct crl_file {
	FILE		*fp;
	char		*path;
	unsigned long	 line;
	char		 buf[512];
};

struct crl_file *
crl_file_open(const char *path)
{
	struct crl_file *f;

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(path)) == NULL) {
		fatalx("out of memory");
	}
	if ((f->fp = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		crl_file_free(f);
		return NULL;
	}
	return f;
}

void
crl_file_free(struct crl_file *f)
{
	if (f == NULL) {
		return;
	}
	if (f->fp != NULL) {
		fclose(f->fp);
	}
	free(f->path);
	free(f);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Hex of length n into e->serial.  1/0 (not logged). */
static int
parse_serial(const char *s, size_t n, struct crl_entry *e)
{
	size_t i, j;
	int v;

	if (n == 0 || n > 2 * sizeof(e->serial)) {
		return 0;
	}
	e->serial_len = (n + 1) / 2;
	memset(e->serial, 0, sizeof(e->serial));
	j = e->serial_len * 2 - n;
	for (i = 0; i < n; i++, j++) {
		if ((v = hexval((unsigned char)s[i])) < 0) {
			return 0;
		}
		e->serial[j / 2] |= (unsigned char)(j % 2 == 0 ? v << 4 : v);
	}
	return 1;
}

/* Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return 0;
		}
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

/* YYYYMMDDHHMMSSZ or YYYY-MM-DDTHH:MM:SSZ.  1/0 (not logged). */
static int
parse_time(const char *s, size_t n, time_t *out)
{
	int y, mo, d, h, mi, sec;

	if (n == 15 && s[14] == 'Z') {
		if (!digits(s, 4, &y) || !digits(s + 4, 2, &mo) ||
		    !digits(s + 6, 2, &d) || !digits(s + 8, 2, &h) ||
		    !digits(s + 10, 2, &mi) || !digits(s + 12, 2, &sec)) {
			return 0;
		}
	} else if (n == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' &&
	    s[13] == ':' && s[16] == ':' && s[19] == 'Z') {
		if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
		    !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
		    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec)) {
			return 0;
		}
	} else {
		return 0;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 59) {
		return 0;
	}
	*out = (time_t)(days_from_civil(y, (unsigned)mo, (unsigned)d) *
	    86400 + h * 3600 + mi * 60 + sec);
	return 1;
}

/* Split off the next blank-separated field; NULL at the end of line. */
static char *
field(char **pp, size_t *len)
{
	char *p = *pp, *s;

	while (*p == ' ' || *p == '\t') {
		p++;
	}
	if (*p == '\0' || *p == '\n' || *p == '\r') {
		return NULL;
	}
	s = p;
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' &&
	    *p != '\r') {
		p++;
	}
	*len = (size_t)(p - s);
	*pp = p;
	return s;
}

static int
file_next(void *arg, struct crl_entry *e)
{
	struct crl_file *f = arg;
	char *p, *s;
	size_t n;
	int r;

	for (;;) {
		if (fgets(f->buf, sizeof(f->buf), f->fp) == NULL) {
			if (ferror(f->fp)) {
				log_warn("%s", f->path);
				return -1;
			}
			return 0;
		}
		f->line++;
		p = f->buf;
		if ((s = field(&p, &n)) != NULL && *s != '#') {
			break;
		}
	}
	if (!parse_serial(s, n, e)) {
		log_warnx("%s:%lu: ES-CRL-05: bad serial \"%.*s\"", f->path,
		    f->line, (int)n, s);
		return -1;
	}
	if ((s = field(&p, &n)) == NULL || !parse_time(s, n, &e->revoked)) {
		log_warnx("%s:%lu: bad or missing revocation time", f->path,
		    f->line);
		return -1;
	}
	e->reason = CRL_REASON_UNSPECIFIED;
	e->invalidity = 0;
	if ((s = field(&p, &n)) != NULL && !(n == 1 && *s == '-')) {
		for (r = 0; r <= CRL_REASON_AA_COMPROMISE; r++) {
			const char *name = crl_reason_name(r);

			if (strlen(name) == n && strncasecmp(name, s, n) == 0) {
				break;
			}
		}
		if (r > CRL_REASON_AA_COMPROMISE) {
			log_warnx("%s:%lu: ES-CRL-05: unknown revocation "
			    "reason \"%.*s\"", f->path, f->line, (int)n, s);
			return -1;
		}
		e->reason = r;
	}
	if (s != NULL && (s = field(&p, &n)) != NULL &&
	    !parse_time(s, n, &e->invalidity)) {
		log_warnx("%s:%lu: bad invalidity time", f->path, f->line);
		return -1;
	}
	if (s != NULL && field(&p, &n) != NULL) {
		log_warnx("%s:%lu: trailing fields", f->path, f->line);
		return -1;
	}
	return 1;
}

static int
file_rewind(void *arg)
{
	struct crl_file *f = arg;

	if (fseek(f->fp, 0, SEEK_SET) == -1) {
		log_warn("%s: rewind", f->path);
		return 0;
	}
	f->line = 0;
	return 1;
}

void
crl_file_iter(struct crl_file *f, struct crl_iter *it)
{
	it->next = file_next;
	it->rewind = file_rewind;
	it->arg = f;
}
