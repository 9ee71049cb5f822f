/*
 * A text file of revocations read as a crl_iter, with one fixed line
 * buffer, so that tests, the benchmark and imports stream any number of
 * entries in constant memory.  Line format: see crl.h.  Also the
 * parsing of stored hex serials and the names of the reason codes.
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

/* Hex digit values, -1 for anything else; filled by crl_file_open(). */
static signed char hexv[256];

static void
hexv_init(void)
{
	int i;

	for (i = 0; i < 256; i++) {
		hexv[i] = -1;
	}
	for (i = 0; i < 10; i++) {
		hexv['0' + i] = (signed char)i;
	}
	for (i = 0; i < 6; i++) {
		hexv['a' + i] = hexv['A' + i] = (signed char)(10 + i);
	}
}

struct crl_file *
crl_file_open(const char *path)
{
	struct crl_file *f;

	if (hexv['x'] == 0) {	/* not yet filled: 'x' maps to -1 */
		hexv_init();
	}
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

/*
 * Hex digits at *pp into e->serial, advancing *pp past them.  1/0 (not
 * logged): 0 if there are none, too many, or a non-hex character before
 * the next blank.
 */
static int
parse_serial(char **pp, struct crl_entry *e)
{
	const unsigned char *s = (const unsigned char *)*pp, *q = s;
	size_t n, i, j;

	while (hexv[*q] >= 0) {
		q++;
	}
	n = (size_t)(q - s);
	*pp = (char *)q;
	if (n == 0 || n > 2 * sizeof(e->serial) || (*q != ' ' && *q != '\t' &&
	    *q != '\n' && *q != '\r' && *q != '\0')) {
		return 0;
	}
	e->serial_len = (n + 1) / 2;
	j = e->serial_len * 2 - n;
	if (j == 1) {
		e->serial[0] = (unsigned char)hexv[s[0]];
	}
	for (i = j; i < n; i += 2) {
		e->serial[(i + j) / 2] = (unsigned char)(hexv[s[i]] << 4 |
		    hexv[s[i + 1]]);
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

static const struct {
	const char	*name;
	size_t		 len;
	int		 reason;
} rnames[] = {
#define R(s, r) { s, sizeof(s) - 1, r }
	R("keyCompromise", CRL_REASON_KEY_COMPROMISE),
	R("superseded", CRL_REASON_SUPERSEDED),
	R("cessationOfOperation", CRL_REASON_CESSATION_OF_OPERATION),
	R("affiliationChanged", CRL_REASON_AFFILIATION_CHANGED),
	R("unspecified", CRL_REASON_UNSPECIFIED),
	R("cACompromise", CRL_REASON_CA_COMPROMISE),
	R("certificateHold", CRL_REASON_CERTIFICATE_HOLD),
	R("removeFromCRL", CRL_REASON_REMOVE_FROM_CRL),
	R("privilegeWithdrawn", CRL_REASON_PRIVILEGE_WITHDRAWN),
	R("aACompromise", CRL_REASON_AA_COMPROMISE),
#undef R
};

/* Character classes for field(): 1 blank, 2 end of line, 0 other. */
static const unsigned char cls[256] = {
	['\0'] = 2, ['\n'] = 2, ['\r'] = 2, [' '] = 1, ['\t'] = 1
};

/* Split off the next blank-separated field; NULL at the end of line. */
static char *
field(char **pp, size_t *len)
{
	const unsigned char *p = (const unsigned char *)*pp, *s;

	while (cls[*p] == 1) {
		p++;
	}
	if (cls[*p] == 2) {
		return NULL;
	}
	s = p;
	while (cls[*p] == 0) {
		p++;
	}
	*len = (size_t)(p - s);
	*pp = (char *)p;
	return (char *)s;
}

static int
file_next(void *arg, struct crl_entry *e)
{
	struct crl_file *f = arg;
	char *p, *s;
	size_t n, i;
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
	p = s;
	if (!parse_serial(&p, e)) {
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
		for (i = 0; i < sizeof(rnames) / sizeof(rnames[0]); i++) {
			if (rnames[i].len == n &&
			    strncasecmp(rnames[i].name, s, n) == 0) {
				break;
			}
		}
		if (i == sizeof(rnames) / sizeof(rnames[0])) {
			log_warnx("%s:%lu: ES-CRL-05: unknown revocation "
			    "reason \"%.*s\"", f->path, f->line, (int)n, s);
			return -1;
		}
		r = rnames[i].reason;
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

/*
 * One more than the value of each hex digit, 0 for any other byte (a
 * million serials a CRL: a table, no ctype, no branches per digit).
 */
static const unsigned char hex_val1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14,
	['E'] = 15, ['F'] = 16,
};

int
crl_entry_set_serial_hex(struct crl_entry *e, const char *hex,
    const char *what)
{
	const unsigned char *h;
	size_t n, i, len;
	unsigned hi, lo;

	while (hex[0] == '0' && hex[1] != '\0') {
		hex++;
	}
	n = strnlen(hex, 2 * sizeof(e->serial) + 1);
	if (n == 0 || (n + 1) / 2 > sizeof(e->serial)) {
		log_warnx("%s: ES-CRL-05: bad serial \"%s\" (want 1 to 40 hex "
		    "digits)", what, hex);
		return 0;
	}
	len = (n + 1) / 2;
	h = (const unsigned char *)hex;
	i = 0;
	/* An odd count: the first octet has one digit. */
	if (n % 2) {
		if ((lo = hex_val1[*h++] - 1u) > 15) {
			goto bad;
		}
		e->serial[i++] = (unsigned char)lo;
	}
	for (; i < len; i++, h += 2) {
		hi = hex_val1[h[0]] - 1u;
		lo = hex_val1[h[1]] - 1u;
		if ((hi | lo) > 15) {
			goto bad;
		}
		e->serial[i] = (unsigned char)(hi << 4 | lo);
	}
	memset(e->serial + len, 0, sizeof(e->serial) - len);
	e->serial_len = len;
	return 1;
bad:
	log_warnx("%s: ES-CRL-05: bad serial \"%s\" (not hex)", what, hex);
	return 0;
}

static const struct {
	int		 r;
	const char	*name;
} reasons[] = {
	{ CRL_REASON_UNSPECIFIED, "unspecified" },
	{ CRL_REASON_KEY_COMPROMISE, "keyCompromise" },
	{ CRL_REASON_CA_COMPROMISE, "cACompromise" },
	{ CRL_REASON_AFFILIATION_CHANGED, "affiliationChanged" },
	{ CRL_REASON_SUPERSEDED, "superseded" },
	{ CRL_REASON_CESSATION_OF_OPERATION, "cessationOfOperation" },
	{ CRL_REASON_CERTIFICATE_HOLD, "certificateHold" },
	{ CRL_REASON_REMOVE_FROM_CRL, "removeFromCRL" },
	{ CRL_REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn" },
	{ CRL_REASON_AA_COMPROMISE, "aACompromise" },
};

int
crl_reason_from_name(const char *name, int *out,
    const char *what)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (strcasecmp(reasons[i].name, name) == 0) {
			*out = reasons[i].r;
			return 1;
		}
	}
	log_warnx("%s: ES-CRL-05: unknown revocation reason \"%s\"", what,
	    name);
	return 0;
}

const char *
crl_reason_name(int r)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (reasons[i].r == r) {
			return reasons[i].name;
		}
	}
	return "unknown";
}
