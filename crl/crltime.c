/*
 * RFC 5280 Time encoding for the CRL encoder: time_t to UTCTime or
 * GeneralizedTime without gmtime, the dates of recent days remembered
 * (see crltime.h).
 */
#include "config.h"

#include "crltime.h"

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant). */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

static unsigned char *
put2(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)('0' + v / 10 % 10);
	p[1] = (unsigned char)('0' + v % 10);
	return p + 2;
}

size_t
crl_time_put(unsigned char *p, time_t t, int gen, struct day_memo *dm)
{
	int64_t days, secs, y;
	unsigned m, d;
	unsigned char *q;
	size_t slot;

	days = (int64_t)t / 86400;
	secs = (int64_t)t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	slot = (size_t)((uint64_t)days % DAY_MEMO);
	if (dm->key[slot] == days + 1) {
		y = dm->y[slot];
		m = dm->m[slot];
		d = dm->d[slot];
	} else {
		civil_from_days(days, &y, &m, &d);
		dm->key[slot] = days + 1;
		dm->y[slot] = y;
		dm->m[slot] = (unsigned char)m;
		dm->d[slot] = (unsigned char)d;
	}
	if (y < 1950 || y > 9999) {
		return 0;
	}
	if (!gen && y < 2050) {
		p[0] = 0x17;
		p[1] = 13;
		q = put2(p + 2, (unsigned)(y % 100));
	} else {
		p[0] = 0x18;
		p[1] = 15;
		q = put2(p + 2, (unsigned)(y / 100));
		q = put2(q, (unsigned)(y % 100));
	}
	q = put2(q, m);
	q = put2(q, d);
	q = put2(q, (unsigned)(secs / 3600));
	q = put2(q, (unsigned)(secs / 60 % 60));
	q = put2(q, (unsigned)(secs % 60));
	*q++ = 'Z';
	return (size_t)(q - p);
}
