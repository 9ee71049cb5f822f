/*
 * The selection side of eseal-ca's CRLs (see crlsel.h): CRL settings,
 * partition URLs and the partition of a new certificate, and the
 * revocations of one CRL read from the store in serial order.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/x509.h>

#include "crlsel.h"
#include "log.h"
#include "util.h"

void
crl_cfg_clear(struct crl_cfg *cfg)
{
	free(cfg->crl_url);
	free(cfg->delta_url);
	memset(cfg, 0, sizeof(*cfg));
}

static int
cfg_url(json_t *js, const char *key, char **out, const char *what)
{
	json_t *v = json_object_get(js, key);

	if (v == NULL) {
		return 1;
	}
	if (!json_is_string(v) || (strncmp(json_string_value(v), "http://",
	    7) != 0 && strncmp(json_string_value(v), "ldap://", 7) != 0)) {
		log_warnx("%s: ES-CRL-05: setting \"%s\" must be an http:// or "
		    "ldap:// URL", what, key);
		return 0;
	}
	if ((*out = strdup(json_string_value(v))) == NULL) {
		fatalx("out of memory");
	}
	return 1;
}

static int
cfg_int(json_t *js, const char *key, int64_t min, int64_t max, int64_t *out,
    const char *what)
{
	json_t *v = json_object_get(js, key);

	if (v == NULL) {
		return 1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		log_warnx("%s: ES-CRL-05: setting \"%s\" must be an integer "
		    "%lld..%lld", what, key, (long long)min, (long long)max);
		return 0;
	}
	*out = json_integer_value(v);
	return 1;
}

int
crl_cfg_load(struct db *db, int64_t ca_id, struct crl_cfg *cfg,
    const char *what)
{
	sqlite3_stmt *st = NULL;
	json_t *js = NULL, *v;
	json_error_t jerr;
	int64_t period = 7, parts = 0, psize = 0;
	int ret = 0;

	memset(cfg, 0, sizeof(*cfg));
	if ((st = db_cached(db, "SELECT settings FROM cas WHERE id = ?")) ==
	    NULL) {
		goto out;
	}
	sqlite3_bind_int64(st, 1, ca_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_log_error(db, "CA settings");
		goto out;
	}
	if ((js = json_loads((const char *)sqlite3_column_text(st, 0), 0,
	    &jerr)) == NULL || !json_is_object(js)) {
		log_warnx("%s: the CA's settings are not a JSON object", what);
		goto out;
	}
	if (!cfg_url(js, "crl-url", &cfg->crl_url, what) ||
	    !cfg_url(js, "delta-crl-url", &cfg->delta_url, what) ||
	    !cfg_int(js, "crl-period-days", 1, 3660, &period, what) ||
	    !cfg_int(js, "crl-partitions", 0, 100000, &parts, what) ||
	    !cfg_int(js, "partition-size", 1, INT64_MAX, &psize, what)) {
		goto out;
	}
	if ((v = json_object_get(js, "expired-certs-on-crl")) != NULL) {
		if (!json_is_boolean(v)) {
			log_warnx("%s: ES-CRL-05: setting \"expired-certs-on-crl\" "
			    "must be true or false", what);
			goto out;
		}
		cfg->expired_on_crl = json_is_true(v);
	}
	cfg->complete_idp = parts > 1;
	if ((v = json_object_get(js, "complete-crl-idp")) != NULL) {
		if (!json_is_boolean(v)) {
			log_warnx("%s: ES-CRL-05: setting \"complete-crl-idp\" "
			    "must be true or false", what);
			goto out;
		}
		cfg->complete_idp = json_is_true(v);
	}
	cfg->period_days = (int)period;
	cfg->partitions = (int)parts;
	cfg->partition_size = psize;
	ret = 1;
out:
	json_decref(js);
	db_release(st);
	return ret;
}

char *
crl_partition_url(const char *base, int n)
{
	size_t len = strlen(base);
	char *s;

	if (n == 0) {
		s = strdup(base);
	} else if (len > 4 && strcmp(base + len - 4, ".crl") == 0) {
		if (asprintf(&s, "%.*s-%d.crl", (int)(len - 4), base, n) == -1) {
			s = NULL;
		}
	} else if (asprintf(&s, "%s-%d.crl", base, n) == -1) {
		s = NULL;
	}
	if (s == NULL) {
		fatalx("out of memory");
	}
	return s;
}

int
crl_partition_for_new_cert(struct db *db, int64_t ca_id, int *partition,
    char **url)
{
	struct crl_cfg cfg;
	sqlite3_stmt *st = NULL;
	int64_t *count = NULL, p;
	int i, best = 0, rc, ret = 0;
	char what[64];

	*partition = 0;
	*url = NULL;
	snprintf(what, sizeof(what), "ca id %lld", (long long)ca_id);
	if (!crl_cfg_load(db, ca_id, &cfg, what)) {
		goto out;
	}
	if (cfg.crl_url == NULL) {
		log_warnx("%s: ES-CRL-05: no \"crl-url\" setting for the CRL "
		    "distribution point", what);
		goto out;
	}
	if (cfg.partitions <= 1) {
		*url = crl_partition_url(cfg.crl_url, 0);
		ret = 1;
		goto out;
	}
	if ((count = calloc((size_t)cfg.partitions + 1, sizeof(*count))) ==
	    NULL) {
		fatalx("out of memory");
	}
	if ((st = db_prepare(db, "SELECT partition, count(*) FROM certificates"
	    " WHERE ca_id = ? AND partition BETWEEN 1 AND ? GROUP BY"
	    " partition")) == NULL) {
		goto out;
	}
	sqlite3_bind_int64(st, 1, ca_id);
	sqlite3_bind_int(st, 2, cfg.partitions);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		p = sqlite3_column_int64(st, 0);
		count[p] = sqlite3_column_int64(st, 1);
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "counting partitions");
		goto out;
	}
	for (i = 1; i <= cfg.partitions; i++) {
		if (cfg.partition_size > 0) {
			if (count[i] < cfg.partition_size) {
				best = i;
				break;
			}
		} else if (best == 0 || count[i] < count[best]) {
			best = i;
		}
	}
	if (best == 0) {
		log_warnx("%s: ES-CRL-08: all %d CRL partitions are full "
		    "(partition-size %lld): raise crl-partitions", what,
		    cfg.partitions, (long long)cfg.partition_size);
		goto out;
	}
	*partition = best;
	*url = crl_partition_url(cfg.crl_url, best);
	ret = 1;
out:
	sqlite3_finalize(st);
	free(count);
	crl_cfg_clear(&cfg);
	return ret;
}

/*
 * The end-entity rows are stepped by a producer thread, which copies the
 * stored text of each row into batches of a small ring; the iterator
 * (the encoder's thread) parses them (hex serial, two times) and
 * encodes.  SQLite's scan of the covering index and the parsing and
 * encoding were the bulk of a CRL of a million entries, one after the
 * other; now they overlap on two cores.  The statement's connection is
 * the producer's until the walk ends (rewind or free joins it).  With
 * the encoder's spill (crl_params.spill_dir) the rows are walked once.
 */
#define ROWS_BATCH	1024
#define ROWS_RING	4

struct raw_row {
	char		 serial[48];
	char		 time[32];
	char		 inv[32];	/* "" if NULL */
	int		 reason;
	int		 too_long;	/* a stored text did not fit */
};

struct rows_batch {
	struct raw_row	 row[ROWS_BATCH];
	size_t		 n;
	int		 end;		/* SQLITE_DONE after these rows */
	int		 err;		/* a step failed after these rows */
};

struct crl_rows {
	sqlite3_stmt		*st;	/* end-entity revocations */
	struct crl_entry	*arr;	/* ARL: revoked sub-CAs, sorted */
	size_t			 n, i;
	const char		*what;
	/* The producer and its ring. */
	pthread_t		 th;
	int			 running;	/* th to be joined */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct rows_batch	*ring;		/* ROWS_RING batches */
	size_t			 head, tail, full;
	int			 stop;
	char			 errmsg[256];	/* of a failed step */
	int			 holding;	/* consumer owns ring[tail] */
	size_t			 pos;
};

/*
 * Stored times are "YYYY-MM-DDTHH:MM:SSZ" (common/util.h time_fmt); parse
 * that form without strptime/timegm (a million rows), and
 * anything else through time_parse.  1/0 (not logged).
 */
static int
stored_time(const unsigned char *s, time_t *out)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
	long y, m, d, era, yoe, doy, doe;
	int i, v[20];

	if (s == NULL) {
		return 0;
	}
	for (i = 0; i < 20; i++) {
		v[i] = s[i] - '0';
		if (pat[i] == 'd' ? (unsigned)v[i] > 9 : s[i] != pat[i]) {
			break;
		}
	}
	if (i != 20 || s[20] != '\0') {
		return time_parse((const char *)s, out, "stored time");
	}
	y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
	m = v[5] * 10 + v[6];
	d = v[8] * 10 + v[9];
	if (m < 1 || m > 12 || d < 1 || d > 31) {
		return 0;
	}
	/* Days from 1970-01-01 (H. Hinnant's days_from_civil). */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*out = (time_t)(era * 146097 + doe - 719468) * 86400 +
	    (v[11] * 10 + v[12]) * 3600 + (v[14] * 10 + v[15]) * 60 +
	    v[17] * 10 + v[18];
	return 1;
}

/*
 * Copy the text of column c into buf (size bufsz).  0 if it was too
 * long.  Its length by strlen, not sqlite3_column_bytes (an API call
 * more per column and row): the parsers stop at a NUL all the same.
 */
static int
col_copy(sqlite3_stmt *st, int c, char *buf, size_t bufsz)
{
	const unsigned char *t = sqlite3_column_text(st, c);
	size_t n;

	if (t == NULL) {
		buf[0] = '\0';
		return 1;
	}
	n = strlen((const char *)t);
	if (n >= bufsz) {
		memcpy(buf, t, bufsz - 1);
		buf[bufsz - 1] = '\0';
		return 0;
	}
	memcpy(buf, t, n + 1);
	return 1;
}

/* The producer: fill batches until the rows end, a step fails or stop. */
static void *
rows_produce(void *arg)
{
	struct crl_rows *r = arg;
	struct rows_batch *b;
	struct raw_row *w;
	int rc, ok;

	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (r->full == ROWS_RING && !r->stop) {
			pthread_cond_wait(&r->cv, &r->mu);
		}
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		b = &r->ring[r->head];
		pthread_mutex_unlock(&r->mu);
		b->n = 0;
		b->end = b->err = 0;
		while (b->n < ROWS_BATCH) {
			if ((rc = sqlite3_step(r->st)) == SQLITE_DONE) {
				b->end = 1;
				break;
			}
			if (rc != SQLITE_ROW) {
				snprintf(r->errmsg, sizeof(r->errmsg), "%s",
				    sqlite3_errmsg(sqlite3_db_handle(r->st)));
				b->err = 1;
				break;
			}
			w = &b->row[b->n++];
			ok = col_copy(r->st, 0, w->serial, sizeof(w->serial));
			ok &= col_copy(r->st, 1, w->time, sizeof(w->time));
			ok &= col_copy(r->st, 3, w->inv, sizeof(w->inv));
			w->too_long = !ok;
			w->reason = sqlite3_column_int(r->st, 2);
		}
		pthread_mutex_lock(&r->mu);
		r->head = (r->head + 1) % ROWS_RING;
		r->full++;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		if (b->end || b->err) {
			break;
		}
	}
	return NULL;
}

/* Stop and join the producer, if running. */
static void
rows_stop(struct crl_rows *r)
{
	if (!r->running) {
		return;
	}
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	r->running = 0;
}

/* One stored row into e.  1/0 (logged). */
static int
row_decode(struct crl_rows *r, const struct raw_row *w, struct crl_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (w->too_long) {
		log_warnx("%s: ES-CRL-05: revocation of %s...: a stored value "
		    "is too long", r->what, w->serial);
		return 0;
	}
	if (!crl_entry_set_serial_hex(e, w->serial, r->what)) {
		return 0;
	}
	if (!stored_time((const unsigned char *)w->time, &e->revoked)) {
		log_warnx("%s: revocation of %s: bad time", r->what, w->serial);
		return 0;
	}
	e->reason = w->reason;
	if (w->inv[0] != '\0' &&
	    !stored_time((const unsigned char *)w->inv, &e->invalidity)) {
		log_warnx("%s: revocation of %s: bad invalidity date", r->what,
		    w->serial);
		return 0;
	}
	return 1;
}

static int
rows_next(void *arg, struct crl_entry *e)
{
	struct crl_rows *r = arg;
	struct rows_batch *b;

	if (r->st == NULL) {
		if (r->i >= r->n) {
			return 0;
		}
		*e = r->arr[r->i++];
		return 1;
	}
	for (;;) {
		if (!r->holding) {
			pthread_mutex_lock(&r->mu);
			while (r->full == 0) {
				pthread_cond_wait(&r->cv, &r->mu);
			}
			pthread_mutex_unlock(&r->mu);
			r->holding = 1;
			r->pos = 0;
		}
		b = &r->ring[r->tail];
		if (r->pos < b->n) {
			return row_decode(r, &b->row[r->pos++], e) ? 1 : -1;
		}
		if (b->end) {
			return 0;
		}
		if (b->err) {
			log_warnx("%s: reading revocations: %s", r->what,
			    r->errmsg);
			return -1;
		}
		pthread_mutex_lock(&r->mu);
		r->tail = (r->tail + 1) % ROWS_RING;
		r->full--;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		r->holding = 0;
	}
}

static int
rows_rewind(void *arg)
{
	struct crl_rows *r = arg;
	int rc;

	if (r->st == NULL) {
		r->i = 0;
		return 1;
	}
	rows_stop(r);
	sqlite3_reset(r->st);
	r->head = r->tail = r->full = r->pos = 0;
	r->holding = r->stop = 0;
	r->errmsg[0] = '\0';
	if ((rc = pthread_create(&r->th, NULL, rows_produce, r)) != 0) {
		errno = rc;
		log_warn("%s: reading revocations: thread", r->what);
		return 0;
	}
	r->running = 1;
	return 1;
}

void
crl_rows_iter(struct crl_rows *r, struct crl_iter *it)
{
	it->next = rows_next;
	it->rewind = rows_rewind;
	it->arg = r;
}

void
crl_rows_free(struct crl_rows *r)
{
	if (r == NULL) {
		return;
	}
	rows_stop(r);
	sqlite3_finalize(r->st);
	if (r->ring != NULL) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		free(r->ring);
	}
	free(r->arr);
	free(r);
}

/* Numeric order of two serial magnitudes (leading zeros stripped). */
static int
entry_cmp(const void *a, const void *b)
{
	const struct crl_entry *x = a, *y = b;

	if (x->serial_len != y->serial_len) {
		return x->serial_len < y->serial_len ? -1 : 1;
	}
	return memcmp(x->serial, y->serial, x->serial_len);
}

/* One revoked sub-CA: serial from its certificate, the rest from settings. */
static int
arl_entry(const unsigned char *der, int derlen, const char *settings,
    const char *name, const struct crl_sel *sel, struct crl_entry *e,
    int *keep, const char *what)
{
	const unsigned char *p = der;
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	json_t *js = NULL, *rv, *v;
	int ret = 0;

	memset(e, 0, sizeof(*e));
	*keep = 1;
	if ((x = d2i_X509(NULL, &p, derlen)) == NULL || p != der + derlen) {
		log_ssl("%s: CA %s: stored certificate unreadable", what, name);
		goto out;
	}
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL || BN_is_negative(bn) || BN_is_zero(bn) ||
	    BN_num_bytes(bn) > CRL_SERIAL_MAX) {
		log_warnx("%s: CA %s: ES-CRL-05: certificate serial unusable",
		    what, name);
		goto out;
	}
	e->serial_len = (size_t)BN_bn2bin(bn, e->serial);
	if ((js = json_loads(settings, 0, NULL)) == NULL ||
	    (rv = json_object_get(js, "revocation")) == NULL ||
	    (v = json_object_get(rv, "time")) == NULL || !json_is_string(v) ||
	    !time_parse(json_string_value(v), &e->revoked, what)) {
		log_warnx("%s: CA %s is revoked but its revocation time is not "
		    "recorded (settings \"revocation\")", what, name);
		goto out;
	}
	if ((v = json_object_get(rv, "reason")) != NULL &&
	    json_is_integer(v)) {
		e->reason = (int)json_integer_value(v);
	}
	if ((v = json_object_get(rv, "invalidity-date")) != NULL &&
	    json_is_string(v) && !time_parse(json_string_value(v),
	    &e->invalidity, what)) {
		goto out;
	}
	if (!sel->keep_expired &&
	    X509_cmp_time(X509_get0_notAfter(x), (time_t *)&sel->this_update) <
	    0) {
		*keep = 0;
	}
	ret = 1;
out:
	json_decref(js);
	BN_free(bn);
	X509_free(x);
	return ret;
}

static int
arl_load(struct db *db, struct crl_rows *r, const struct crl_sel *sel)
{
	sqlite3_stmt *st;
	struct crl_entry e;
	int rc, keep, ret = 0;

	if ((st = db_prepare(db, "SELECT cert_der, settings, name FROM cas"
	    " WHERE parent_id = ? AND status = 'revoked' AND cert_der IS NOT"
	    " NULL")) == NULL) {
		return 0;
	}
	sqlite3_bind_int64(st, 1, sel->ca_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!arl_entry(sqlite3_column_blob(st, 0),
		    sqlite3_column_bytes(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2), sel, &e, &keep,
		    r->what)) {
			goto out;
		}
		if (!keep) {
			continue;
		}
		if ((r->arr = reallocarray(r->arr, r->n + 1,
		    sizeof(*r->arr))) == NULL) {
			fatalx("out of memory");
		}
		r->arr[r->n++] = e;
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "reading revoked CAs");
		goto out;
	}
	if (r->n > 0) {
		qsort(r->arr, r->n, sizeof(*r->arr), entry_cmp);
	}
	ret = 1;
out:
	sqlite3_finalize(st);
	return ret;
}

/*
 * The SELECT of sel's end-entity revocations into buf (size bufsz, room
 * enough): ?1 the CA, ?3 the oldest notAfter kept, ?4 the partition, ?5
 * the delta's start.  Only the conditions sel needs are in the text: the
 * statement is stepped a million times for a large CRL, and a constant
 * condition (a partition of 0, no delta, expired certificates kept) would
 * still be evaluated on every row.
 */
static const char *
rows_sql(const struct crl_sel *sel, char *buf, size_t bufsz)
{
	/*
	 * Serials are lower-case hex without leading zeros: numeric order is
	 * by length, then text, which the covering index
	 * revocations_crl_order (schema 4) yields directly, with the
	 * certificate's notAfter and partition copied into the revocation:
	 * a pass is one index scan inside the caller's read transaction,
	 * with no sort, no copy and no certificate lookup.
	 */
	snprintf(buf, bufsz, "SELECT r.serial, r.time, r.reason,"
	    " r.invalidity_date"
	    " FROM revocations r INDEXED BY revocations_crl_order"
	    " WHERE r.ca_id = ?1%s%s%s"
	    " ORDER BY r.ca_id, length(r.serial), r.serial",
	    sel->keep_expired ? "" : " AND r.cert_not_after >= ?3",
	    sel->partition == 0 ? "" : sel->partition == -1 ?
	    " AND r.cert_partition IS NULL" : " AND r.cert_partition = ?4",
	    sel->since == NULL ? "" : " AND r.time >= ?5");
	return buf;
}

struct crl_rows *
crl_rows_open(struct db *db, const struct crl_sel *sel, const char *what)
{
	struct crl_rows *r;
	sqlite3_stmt *st;
	char now[32], sql[512];

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		fatalx("out of memory");
	}
	r->what = what;
	if (sel->arl) {
		if (!arl_load(db, r, sel)) {
			crl_rows_free(r);
			return NULL;
		}
		return r;
	}
	time_fmt(sel->this_update, now, sizeof(now));
	if ((st = db_prepare(db, rows_sql(sel, sql, sizeof(sql)))) == NULL) {
		crl_rows_free(r);
		return NULL;
	}
	sqlite3_bind_int64(st, 1, sel->ca_id);
	if (!sel->keep_expired) {
		sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	}
	if (sel->partition != 0 && sel->partition != -1) {
		sqlite3_bind_int(st, 4, sel->partition);
	}
	if (sel->since != NULL) {
		sqlite3_bind_text(st, 5, sel->since, -1, SQLITE_TRANSIENT);
	}
	r->st = st;
	if ((r->ring = calloc(ROWS_RING, sizeof(*r->ring))) == NULL) {
		fatalx("out of memory");
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	return r;
}
