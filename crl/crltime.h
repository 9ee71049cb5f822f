/*
 * RFC 5280 Time encoding for the CRL encoder (crlgen.c), with a memo of
 * recent day numbers' dates: a CRL of a million entries encodes a time
 * or two per entry.
 */
#ifndef ESEAL_CRLTIME_H
#define ESEAL_CRLTIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * Dates of recent day numbers (civil_from_days, ~60 cycles, ran for
 * every time of a million entries): slot day % DAY_MEMO, key day + 1
 * (0: empty).  The revocation times of a CRL fall on a few thousand days.
 */
#define DAY_MEMO	1024
struct day_memo {
	int64_t		 key[DAY_MEMO];
	int64_t		 y[DAY_MEMO];
	unsigned char	 m[DAY_MEMO], d[DAY_MEMO];
};

/*
 * Encode t as RFC 5280 Time into p: UTCTime for 1950..2049, else
 * GeneralizedTime (always GeneralizedTime if gen).  Returns the TLV
 * length (15 or 17), or 0 if t is outside 1950..9999.  dm (zeroed before
 * first use) remembers the dates of recent days.
 */
size_t crl_time_put(unsigned char *p, time_t t, int gen, struct day_memo *dm);

#endif
