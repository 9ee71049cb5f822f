/*
 * Parsing CMVP snapshot data (cmvp_parse.h): the NIST-CMVP-API JSON
 * layout and our CSV layout (doc/cmvp-csv.md, RFC 4180, UTF-8 only),
 * parsed whole and normalised before the store is touched, and the dates
 * they use.  Pure: text in, records out, no file and no store access
 * (policy/fuzz_cmvp.c is its fuzz target).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "cmvp_parse.h"
#include "log.h"
#include "util.h"





static char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL) {
		fatalx("out of memory");
	}
	return p;
}

/* A copy of s without leading and trailing white space. */
char *
cmvpf_trimdup(const char *s)
{
	size_t n;

	while (isspace((unsigned char)*s)) {
		s++;
	}
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1])) {
		n--;
	}
	return xstrndup(s, n);
}

void
cmvpf_rec_clear(struct rec *r)
{
	free(r->cert);
	free(r->vendor);
	free(r->module);
	free(r->standard);
	free(r->status);
	free(r->module_type);
	free(r->embodiment);
	free(r->sunset);
	free(r->vdates);
	free(r->snapshot);
	memset(r, 0, sizeof(*r));
}

void
cmvpf_infile_free(struct infile *f)
{
	size_t i;

	if (f == NULL) {
		return;
	}
	for (i = 0; i < f->n; i++) {
		cmvpf_rec_clear(&f->v[i]);
	}
	free(f->v);
}

static struct rec *
infile_add(struct infile *f)
{
	f->v = array_grow(f->v, &f->cap, f->n, sizeof(*f->v), 256);
	memset(&f->v[f->n], 0, sizeof(f->v[0]));
	return &f->v[f->n++];
}

/* 1 if y-m-d is a calendar date in a sane range; writes YYYY-MM-DD. */
static int
make_date(int y, int m, int d, char out[11])
{
	struct tm tm;
	time_t t;

	if (y < 1990 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31) {
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	if (tm.tm_mday != d || tm.tm_mon != m - 1) {
		return 0;
	}
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
	return 1;
}

static int
digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/*
 * Match a date at s: YYYY-MM-DD or M/D/YYYY (one or two digit month and
 * day).  Returns the number of characters matched (0: no match); *ok says
 * whether it is a real calendar date.
 */
static int
num(const char *s, size_t n)
{
	int v = 0;

	while (n-- > 0) {
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

static size_t
match_date(const char *s, char out[11], int *ok)
{
	size_t a, b;

	*ok = 0;
	if (digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && s[7] == '-' &&
	    digits(s + 8, 2)) {
		*ok = make_date(num(s, 4), num(s + 5, 2), num(s + 8, 2), out);
		return 10;
	}
	/* Like the regex \d{1,2}/\d{1,2}/\d{4}: longer alternatives first. */
	for (a = 2; a > 0; a--) {
		if (!digits(s, a) || s[a] != '/') {
			continue;
		}
		for (b = 2; b > 0; b--) {
			if (digits(s + a + 1, b) && s[a + 1 + b] == '/' &&
			    digits(s + a + b + 2, 4)) {
				*ok = make_date(num(s + a + b + 2, 4),
				    num(s, a), num(s + a + 1, b), out);
				return a + b + 6;
			}
		}
	}
	return 0;
}

/* Parse a whole field as one date ("" stays ""). 1/0 (not logged). */
int
cmvpf_parse_date(const char *s, char out[11])
{
	int ok;

	out[0] = '\0';
	if (*s == '\0') {
		return 1;
	}
	return match_date(s, out, &ok) == strlen(s) && ok;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * The validation dates in s, however written: NIST concatenates M/D/YYYY
 * dates with no separator ("10/16/202206/18/2024"); our CSV separates ISO
 * dates with ';'.  Impossible dates (NIST has "01/31/11") are dropped.
 * Returns a malloc'd "YYYY-MM-DD;..." list, oldest first.
 */
static char *
scan_dates(const char *s)
{
	char (*d)[11] = NULL, one[11], *out;
	size_t n = 0, i, len = strlen(s), m;
	int ok;

	if ((d = calloc(len / 8 + 1, sizeof(*d))) == NULL ||
	    (out = calloc(len / 8 + 1, 11)) == NULL) {
		fatalx("out of memory");
	}
	for (i = 0; i < len; ) {
		m = match_date(s + i, one, &ok);
		if (m == 0) {
			i++;
			continue;
		}
		if (ok) {
			memcpy(d[n++], one, 11);
		}
		i += m;
	}
	qsort(d, n, sizeof(*d), cmpstr);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(d[i], d[i - 1]) == 0) {
			continue;
		}
		if (*out != '\0') {
			strcat(out, ";");
		}
		strcat(out, d[i]);
	}
	free(d);
	return out;
}

static int
cmp_ptrstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
cmvpf_ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/*
 * Validate and normalise a record read from a file.  where is "FILE:
 * record N" or "FILE: line N" for the messages.  1/0 (logged).
 */
int
cmvpf_rec_normalise(struct rec *r, const char *where, int local)
{
	const char *s;
	char date[11], *p;
	size_t i;

	if (r->cert == NULL || *r->cert == '\0') {
		log_warnx("%s: ES-CMVP-01: certificate number missing", where);
		return 0;
	}
	if (local) {
		/* Local numbers may carry letters to stay clear of NIST's. */
		for (i = 0; r->cert[i] != '\0'; i++) {
			if (!isalnum((unsigned char)r->cert[i]) &&
			    strchr("._-", r->cert[i]) == NULL) {
				break;
			}
		}
		if (r->cert[i] != '\0' || i > 15) {
			log_warnx("%s: bad certificate number \"%s\" (at most "
			    "15 letters, digits, '.', '_', '-')", where,
			    r->cert);
			return 0;
		}
	} else if (strlen(r->cert) > 10 || !digits(r->cert, strlen(r->cert))) {
		log_warnx("%s: ES-CMVP-01: bad certificate number \"%s\"",
		    where, r->cert);
		return 0;
	}
	/* NIST has records with no vendor or module name (about 110). */
	if (r->vendor == NULL) {
		r->vendor = xstrdup_or_empty("");
	}
	if (r->module == NULL) {
		r->module = xstrdup_or_empty("");
	}
	s = r->status != NULL ? r->status : "";
	if (cmvpf_ieq(s, "Active")) {
		s = "Active";
	} else if (cmvpf_ieq(s, "Historical")) {
		s = "Historical";
	} else if (cmvpf_ieq(s, "Revoked")) {
		s = "Revoked";
	} else {
		log_warnx("%s: ES-CMVP-01: certificate %s: unknown status "
		    "\"%s\"", where, r->cert, s);
		return 0;
	}
	p = xstrdup_or_empty(s);
	free(r->status);
	r->status = p;

	s = r->standard != NULL ? r->standard : "";
	if (strncasecmp(s, "FIPS", 4) == 0) {
		s += 4;
		while (*s == ' ' || *s == '-') {
			s++;
		}
	}
	if (*s == '\0') {
		s = "";
	} else if (strcmp(s, "140-1") == 0) {
		s = "FIPS 140-1";
	} else if (strcmp(s, "140-2") == 0) {
		s = "FIPS 140-2";
	} else if (strcmp(s, "140-3") == 0) {
		s = "FIPS 140-3";
	} else {
		log_warnx("%s: ES-CMVP-01: certificate %s: unknown standard "
		    "\"%s\"", where, r->cert, r->standard);
		return 0;
	}
	p = xstrdup_or_empty(s);
	free(r->standard);
	r->standard = p;

	if (r->level < 0 || r->level > 4) {
		log_warnx("%s: ES-CMVP-01: certificate %s: overall level %d "
		    "out of range 1..4", where, r->cert, r->level);
		return 0;
	}

	if (r->sunset == NULL) {
		r->sunset = xstrdup_or_empty("");
	}
	if (!cmvpf_parse_date(r->sunset, date)) {
		log_warnx("%s: ES-CMVP-01: certificate %s: bad sunset date "
		    "\"%s\"", where, r->cert, r->sunset);
		return 0;
	}
	free(r->sunset);
	r->sunset = xstrdup_or_empty(date);

	p = scan_dates(r->vdates != NULL ? r->vdates : "");
	free(r->vdates);
	r->vdates = p;

	/* NIST spells the same form several ways. */
	if (r->module_type == NULL) {
		r->module_type = xstrdup_or_empty("");
	}
	for (i = 1; r->module_type[i - 1] != '\0' &&
	    r->module_type[i] != '\0'; i++) {
		if (r->module_type[i - 1] == '-') {
			r->module_type[i] =
			    toupper((unsigned char)r->module_type[i]);
		}
	}
	s = r->embodiment != NULL ? r->embodiment : "";
	if (cmvpf_ieq(s, "MultiChipStand") || cmvpf_ieq(s, "Multi-chip standalone") ||
	    cmvpf_ieq(s, "Multi-Chip Stand Alone")) {
		s = "Multi-Chip Stand Alone";
	} else if (cmvpf_ieq(s, "MultiChipEmbed") || cmvpf_ieq(s, "Multi-chip embedded")) {
		s = "Multi-Chip Embedded";
	} else if (cmvpf_ieq(s, "SingleChip") || cmvpf_ieq(s, "Single Chip")) {
		s = "Single Chip";
	}
	p = xstrdup_or_empty(s);
	free(r->embodiment);
	r->embodiment = p;
	return 1;
}

/* ---- JSON (NIST-CMVP-API modules.json, historical-modules.json) ---- */

/*
 * The first of names present in o as a trimmed string (numbers are
 * converted).  *out is NULL when none is present.  1/0 (logged).
 */
static int
json_field(json_t *o, const char *const *names, char **out, const char *where)
{
	json_t *v;
	char buf[64];

	*out = NULL;
	for (; *names != NULL; names++) {
		v = json_object_get(o, *names);
		if (v == NULL || json_is_null(v)) {
			continue;
		}
		if (json_is_string(v)) {
			*out = cmvpf_trimdup(json_string_value(v));
			if (**out == '\0' && names[1] != NULL) {
				free(*out);	/* try the other spelling */
				*out = NULL;
				continue;
			}
		} else if (json_is_integer(v)) {
			snprintf(buf, sizeof(buf), "%lld",
			    (long long)json_integer_value(v));
			*out = xstrdup_or_empty(buf);
		} else {
			log_warnx("%s: ES-CMVP-01: \"%s\" is not a string",
			    where, *names);
			return 0;
		}
		return 1;
	}
	return 1;
}

static const char *const f_cert[] = { "Certificate Number", "cert_number",
    "certificate_number", NULL };
static const char *const f_vendor[] = { "Vendor Name", "vendor",
    "vendor_name", NULL };
static const char *const f_module[] = { "module_name", "Module Name", NULL };
static const char *const f_standard[] = { "standard", "Standard", NULL };
static const char *const f_status[] = { "status", "Status", NULL };
static const char *const f_level[] = { "overall_level", "Overall Level",
    NULL };
static const char *const f_type[] = { "module_type", "Module Type", NULL };
static const char *const f_embodiment[] = { "embodiment", "Embodiment", NULL };
static const char *const f_sunset[] = { "sunset_date", "Sunset Date", NULL };
static const char *const f_vdates[] = { "Validation Date", "validation_dates",
    "validation_date", NULL };

/* "2026-03-29T03:09:34Z" -> "2026-03-29" if it starts with a date. */
void
cmvpf_generated_at(json_t *meta, char out[11])
{
	const char *s;
	char tmp[11];

	out[0] = '\0';
	s = json_string_value(json_object_get(meta, "generated_at"));
	if (s == NULL || strlen(s) < 10) {
		return;
	}
	memcpy(tmp, s, 10);
	tmp[10] = '\0';
	if (cmvpf_parse_date(tmp, out) == 0) {
		out[0] = '\0';
	}
}

static int
parse_json(struct infile *f, const unsigned char *buf, size_t len)
{
	json_t *root = NULL, *list = NULL, *o, *v;
	json_error_t err;
	struct rec *r;
	const char *key;
	char where[512], *lvl = NULL;
	size_t i;
	int ret = 0;

	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		log_warnx("%s: line %d: ES-CMVP-01: malformed JSON: %s",
		    f->path, err.line, err.text);
		goto out;
	}
	if (json_is_array(root)) {
		list = root;
	} else if (json_is_object(root)) {
		cmvpf_generated_at(json_object_get(root, "metadata"),
		    f->embedded);
		list = json_object_get(root, "modules");
		if (!json_is_array(list)) {
			list = NULL;
			json_object_foreach(root, key, v) {
				if (json_is_array(v)) {
					list = v;
					break;
				}
			}
		}
	}
	if (list == NULL) {
		log_warnx("%s: ES-CMVP-01: no list of modules in the JSON "
		    "document", f->path);
		goto out;
	}
	json_array_foreach(list, i, o) {
		snprintf(where, sizeof(where), "%s: record %zu", f->path,
		    i + 1);
		if (!json_is_object(o)) {
			log_warnx("%s: ES-CMVP-01: not a JSON object", where);
			goto out;
		}
		r = infile_add(f);
		if (!json_field(o, f_cert, &r->cert, where) ||
		    !json_field(o, f_vendor, &r->vendor, where) ||
		    !json_field(o, f_module, &r->module, where) ||
		    !json_field(o, f_standard, &r->standard, where) ||
		    !json_field(o, f_status, &r->status, where) ||
		    !json_field(o, f_type, &r->module_type, where) ||
		    !json_field(o, f_embodiment, &r->embodiment, where) ||
		    !json_field(o, f_sunset, &r->sunset, where) ||
		    !json_field(o, f_vdates, &r->vdates, where) ||
		    !json_field(o, f_level, &lvl, where)) {
			goto out;
		}
		if (lvl != NULL && *lvl != '\0') {
			if (strlen(lvl) != 1 || !isdigit((unsigned char)*lvl)) {
				log_warnx("%s: ES-CMVP-01: bad overall level "
				    "\"%s\"", where, lvl);
				goto out;
			}
			r->level = *lvl - '0';
		}
		free(lvl);
		lvl = NULL;
		if (!cmvpf_rec_normalise(r, where, 0)) {
			goto out;
		}
	}
	ret = 1;
 out:
	free(lvl);
	json_decref(root);
	return ret;
}

/* ---- CSV (doc/cmvp-csv.md, RFC 4180) ---- */

static const char *const csv_columns[] = { "cert_number", "vendor",
    "module_name", "standard", "status", "overall_level", "module_type",
    "embodiment", "validation_dates", "sunset_date", "snapshot_date" };
#define CSV_NCOLS (sizeof(csv_columns) / sizeof(csv_columns[0]))

/*
 * Append c to the field of length *flen in a buffer of *fcap bytes,
 * growing it; keeps room for the terminating NUL.  Returns the buffer.
 */
static char *
field_put(char *field, size_t *flen, size_t *fcap, char c)
{
	if (*flen + 2 > *fcap) {
		*fcap *= 2;
		if ((field = realloc(field, *fcap)) == NULL) {
			fatalx("out of memory");
		}
	}
	field[(*flen)++] = c;
	return field;
}

/*
 * Read one CSV record starting at *pos: fields are malloc'd into fld
 * (at most CSV_NCOLS + 1 are kept, *nf counts them all).  *line is
 * advanced past the record's line breaks.  Returns 1 for a record, 0 at
 * the end of the data, -1 on a syntax error (logged).
 */
static int
csv_record(const struct infile *f, const char *buf, size_t len, size_t *pos,
    long *line, char **fld, size_t *nf)
{
	size_t p = *pos, start;
	char *field = NULL;
	size_t flen, fcap;
	int quoted;

	*nf = 0;
	if (p >= len) {
		return 0;
	}
	for (;;) {
		fcap = 64;
		flen = 0;
		if ((field = malloc(fcap)) == NULL) {
			fatalx("out of memory");
		}
		quoted = p < len && buf[p] == '"';
		if (quoted) {
			start = *line;
			p++;
			for (;;) {
				if (p >= len) {
					log_warnx("%s: line %zu: ES-CMVP-01: "
					    "unterminated quoted field",
					    f->path, start);
					free(field);
					return -1;
				}
				if (buf[p] == '"') {
					if (p + 1 < len && buf[p + 1] == '"') {
						p++;
					} else {
						p++;
						break;
					}
				} else if (buf[p] == '\n') {
					(*line)++;
				}
				field = field_put(field, &flen, &fcap,
				    buf[p++]);
			}
			if (p < len && buf[p] != ',' && buf[p] != '\n' &&
			    !(buf[p] == '\r' && p + 1 < len &&
			    buf[p + 1] == '\n')) {
				log_warnx("%s: line %ld: ES-CMVP-01: text after "
				    "a closing quote", f->path, *line);
				free(field);
				return -1;
			}
		} else {
			while (p < len && buf[p] != ',' && buf[p] != '\n' &&
			    !(buf[p] == '\r' && p + 1 < len &&
			    buf[p + 1] == '\n')) {
				if (buf[p] == '"' || buf[p] == '\r') {
					log_warnx("%s: line %ld: ES-CMVP-01: "
					    "stray %s in an unquoted field",
					    f->path, *line, buf[p] == '"' ?
					    "quote" : "carriage return");
					free(field);
					return -1;
				}
				field = field_put(field, &flen, &fcap,
				    buf[p++]);
			}
		}
		field[flen] = '\0';
		if (*nf <= CSV_NCOLS) {
			fld[*nf] = field;
		} else {
			free(field);
		}
		field = NULL;
		(*nf)++;
		if (p < len && buf[p] == ',') {
			p++;
			continue;
		}
		if (p < len && buf[p] == '\r') {
			p++;
		}
		if (p < len && buf[p] == '\n') {
			p++;
		}
		(*line)++;
		break;
	}
	*pos = p;
	return 1;
}

static void
fields_free(char **fld, size_t nf)
{
	size_t i;

	for (i = 0; i < nf && i <= CSV_NCOLS; i++) {
		free(fld[i]);
		fld[i] = NULL;
	}
}

static int
parse_csv(struct infile *f, const unsigned char *ubuf, size_t len)
{
	const char *buf = (const char *)ubuf;
	char *fld[CSV_NCOLS + 1] = { NULL }, where[512], date[11];
	struct rec *r;
	size_t pos = 0, nf = 0, i, bad;
	long line = 1, recline;
	int rc, ret = 0;

	if (memchr(buf, '\0', len) != NULL) {
		log_warnx("%s: ES-CMVP-01: NUL byte in a CSV file", f->path);
		return 0;
	}
	if ((bad = utf8_invalid_at(ubuf, len)) < len) {
		for (i = 0; i < bad; i++) {
			line += buf[i] == '\n';
		}
		log_warnx("%s: line %ld: ES-CMVP-08: not valid UTF-8 (byte "
		    "0x%02x at offset %zu)", f->path, line, ubuf[bad], bad);
		return 0;
	}
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		pos = 3;
	}
	rc = csv_record(f, buf, len, &pos, &line, fld, &nf);
	if (rc < 0) {
		goto out;
	}
	for (i = 0; rc == 1 && i < CSV_NCOLS && i < nf; i++) {
		char *h = cmvpf_trimdup(fld[i]);
		int same = strcasecmp(h, csv_columns[i]) == 0;

		free(h);
		if (!same) {
			break;
		}
	}
	if (rc == 0 || nf != CSV_NCOLS || i != CSV_NCOLS) {
		log_warnx("%s: line 1: ES-CMVP-01: the header must be "
		    "cert_number,vendor,module_name,standard,status,"
		    "overall_level,module_type,embodiment,validation_dates,"
		    "sunset_date,snapshot_date", f->path);
		goto out;
	}
	fields_free(fld, nf);
	for (;;) {
		recline = line;
		rc = csv_record(f, buf, len, &pos, &line, fld, &nf);
		if (rc < 0) {
			goto out;
		}
		if (rc == 0) {
			break;
		}
		if (nf == 1 && fld[0][0] == '\0') {
			fields_free(fld, nf);	/* an empty line */
			continue;
		}
		snprintf(where, sizeof(where), "%s: line %ld", f->path,
		    recline);
		if (nf != CSV_NCOLS) {
			log_warnx("%s: ES-CMVP-01: %zu fields, expected %zu",
			    where, nf, CSV_NCOLS);
			goto out;
		}
		r = infile_add(f);
		r->cert = cmvpf_trimdup(fld[0]);
		r->vendor = cmvpf_trimdup(fld[1]);
		r->module = cmvpf_trimdup(fld[2]);
		r->standard = cmvpf_trimdup(fld[3]);
		r->status = cmvpf_trimdup(fld[4]);
		r->module_type = cmvpf_trimdup(fld[6]);
		r->embodiment = cmvpf_trimdup(fld[7]);
		r->vdates = cmvpf_trimdup(fld[8]);
		r->sunset = cmvpf_trimdup(fld[9]);
		r->snapshot = cmvpf_trimdup(fld[10]);
		if (fld[5][0] != '\0') {
			if (strlen(fld[5]) != 1 ||
			    !isdigit((unsigned char)fld[5][0])) {
				log_warnx("%s: ES-CMVP-01: bad overall level "
				    "\"%s\"", where, fld[5]);
				goto out;
			}
			r->level = fld[5][0] - '0';
		}
		if (!cmvpf_rec_normalise(r, where, 0)) {
			goto out;
		}
		if (!cmvpf_parse_date(r->snapshot, date)) {
			log_warnx("%s: ES-CMVP-01: bad snapshot date \"%s\"",
			    where, r->snapshot);
			goto out;
		}
		if (date[0] != '\0') {
			if (f->embedded[0] == '\0') {
				memcpy(f->embedded, date, 11);
			} else if (strcmp(f->embedded, date) != 0) {
				log_warnx("%s: ES-CMVP-01: snapshot date %s "
				    "differs from %s (one snapshot per file)",
				    where, date, f->embedded);
				goto out;
			}
		}
		fields_free(fld, nf);
	}
	ret = 1;
 out:
	fields_free(fld, nf);
	return ret;
}

/*
 * Parse the text of one snapshot file (JSON or CSV) into f->v, with its
 * SHA-256 and any snapshot date it carries (f->embedded).  1/0 (logged).
 */
int
cmvpf_parse(struct infile *f, const unsigned char *buf, size_t len)
{
	size_t i, j, skip;
	int ret = 0;

	sha256_hex(buf, len, f->sha256);
	skip = len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	for (i = skip; i < len && isspace(buf[i]); i++) {
		continue;
	}
	if (i < len && (buf[i] == '{' || buf[i] == '[')) {
		ret = parse_json(f, buf + skip, len - skip);
	} else {
		ret = parse_csv(f, buf, len);
	}
	if (!ret) {
		return 0;
	}
	/* A certificate twice in one file is an error of the file. */
	if (f->n > 1) {
		char **nums;

		if ((nums = calloc(f->n, sizeof(*nums))) == NULL) {
			fatalx("out of memory");
		}
		for (j = 0; j < f->n; j++) {
			nums[j] = f->v[j].cert;
		}
		qsort(nums, f->n, sizeof(*nums), cmp_ptrstr);
		for (j = 1; j < f->n; j++) {
			if (strcmp(nums[j], nums[j - 1]) == 0) {
				log_warnx("%s: ES-CMVP-01: certificate %s "
				    "appears twice", f->path, nums[j]);
				free(nums);
				return 0;
			}
		}
		free(nums);
	}
	return 1;
}
