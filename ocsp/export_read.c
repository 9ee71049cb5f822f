/*
 * The verifying decoder of the signed status export (see export.h for
 * the ASN.1), written for ten million entries: the CMS signature is
 * checked over the content where it lies in the export's DER (the
 * envelope is parsed without it), and the content is walked by hand,
 * strict DER, once.  Each StatusEntry is validated where it lies and
 * indexed by its offset (four bytes per entry, sorted by serial); an
 * entry is decoded again only when it is asked for.  The small parts
 * (the CA certificates, the CRLs, the integers of the header) still go
 * through OpenSSL's d2i on their exact bytes.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "export.h"
#include "log.h"
#include "util.h"

/* DER tags of the export's content. */
#define T_INT	0x02
#define T_OCT	0x04
#define T_OID	0x06
#define T_ENUM	0x0a
#define T_UTF8	0x0c
#define T_GT	0x18
#define T_SEQ	0x30
#define T_SET	0x31
#define T_CTX0	0xa0
#define T_CTX1	0xa1
#define T_CTX2	0xa2

/*
 * Read one DER TLV of tag at *p (before end): its contents into *body,
 * *blen, and *p past it.  Definite, minimal lengths only.  1/0.
 */
static int
der_get(const unsigned char **p, const unsigned char *end, unsigned char tag,
    const unsigned char **body, size_t *blen)
{
	const unsigned char *q = *p;
	size_t l, n, i;

	if (end - q < 2 || q[0] != tag) {
		return 0;
	}
	l = q[1];
	q += 2;
	if (l & 0x80) {
		n = l & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) < n || q[0] == 0) {
			return 0;
		}
		for (l = 0, i = 0; i < n; i++) {
			l = l << 8 | q[i];
		}
		q += n;
		if (l < 128) {
			return 0;
		}
	}
	if ((size_t)(end - q) < l) {
		return 0;
	}
	*body = q;
	*blen = l;
	*p = q + l;
	return 1;
}

/* Write the DER header of tag and len at p (6 bytes room); its length. */
static size_t
der_put_hdr(unsigned char *p, unsigned char tag, size_t len)
{
	size_t n = 0, i;

	p[0] = tag;
	if (len < 128) {
		p[1] = (unsigned char)len;
		return 2;
	}
	for (i = len; i > 0; i >>= 8) {
		n++;
	}
	p[1] = (unsigned char)(0x80 | n);
	for (i = 0; i < n; i++) {
		p[1 + n - i] = (unsigned char)(len >> (8 * i));
	}
	return 2 + n;
}

static int
is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long
days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * A GeneralizedTime's contents to time_t, accepting exactly what
 * ASN1_TIME_to_tm() accepts: the DER form YYYYMMDDHHMMSSZ with valid
 * fields here, any other form through OpenSSL.  1/0.
 */
static int
gt_parse(const unsigned char *s, size_t len, time_t *out)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	ASN1_GENERALIZEDTIME *gt;
	struct tm tm;
	long v[7], y;
	size_t i;
	int ok;

	if (len == 15 && s[14] == 'Z') {
		for (i = 0; i < 14 && s[i] >= '0' && s[i] <= '9'; i++) {
			;
		}
		if (i == 14) {
			for (i = 0; i < 7; i++) {
				v[i] = (s[2 * i] - '0') * 10 + s[2 * i + 1] - '0';
			}
			y = v[0] * 100 + v[1];
			if (v[2] >= 1 && v[2] <= 12 && v[3] >= 1 &&
			    v[3] <= mdays[v[2] - 1] + (v[2] == 2 && is_leap(y)) &&
			    v[4] <= 23 && v[5] <= 59 && v[6] <= 59) {
				*out = (time_t)days_from_civil(y, v[2], v[3]) *
				    86400 + v[4] * 3600 + v[5] * 60 + v[6];
				return 1;
			}
		}
	}
	if (len < 15 || len > 64 || (gt = ASN1_GENERALIZEDTIME_new()) == NULL) {
		return 0;
	}
	ok = ASN1_STRING_set(gt, s, (int)len) && ASN1_TIME_to_tm(gt, &tm);
	ASN1_GENERALIZEDTIME_free(gt);
	ERR_clear_error();
	if (ok) {
		*out = timegm(&tm);
	}
	return ok;
}

/* A GeneralizedTime TLV at *p to time_t; 1/0. */
static int
gt_get(const unsigned char **p, const unsigned char *end, time_t *out)
{
	const unsigned char *b;
	size_t l;

	return der_get(p, end, T_GT, &b, &l) && gt_parse(b, l, out);
}

/* Any ASN1_TIME (a CRL's) to time_t; 1/0. */
static int
asn1_time_get(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
		return 0;
	}
	*out = timegm(&tm);
	return 1;
}

/*
 * An INTEGER or ENUMERATED's contents as OpenSSL's c2i reads them: 1 if
 * well formed (not empty, no redundant leading octet), *neg its sign.
 */
static int
int_ok(const unsigned char *b, size_t l, int *neg)
{
	size_t i;
	int pad = 0;

	if (l == 0) {
		return 0;
	}
	*neg = (b[0] & 0x80) != 0;
	if (l == 1) {
		return 1;
	}
	if (b[0] == 0) {
		pad = 1;
	} else if (b[0] == 0xff) {
		for (i = 1; i < l && !pad; i++) {
			pad = b[i] != 0;
		}
	}
	return !(pad && *neg == ((b[1] & 0x80) != 0));
}

/*
 * The value of an ENUMERATED's contents if it is in 0..127, else -1;
 * -2 if it is malformed.
 */
static int
enum_small(const unsigned char *b, size_t l)
{
	int neg;

	if (!int_ok(b, l, &neg)) {
		return -2;
	}
	if (l != 1 || neg) {
		return -1;
	}
	return b[0];
}

/* Why an entry is refused (the text after "ES-OCSPD-02: "). */
static const char *const entry_why[] = {
	NULL, "malformed entry", "bad serial", "bad status",
	"good entry with revocation data",
	"revoked entry without revocationTime", "bad reason",
	"bad invalidityDate"
};

enum entry_err {
	E_OK = 0, E_MALFORMED, E_SERIAL, E_STATUS, E_GOOD_REV, E_NO_RT,
	E_REASON, E_INVALIDITY
};

/*
 * Decode the contents (b, l) of one StatusEntry into *out (may be NULL
 * to validate only) and its serial's magnitude into *s, *sl, with the
 * checks the template decoder and the old flattening made.
 */
static enum entry_err
entry_parse(const unsigned char *b, size_t l, struct export_entry *out,
    const unsigned char **s, size_t *sl)
{
	const unsigned char *p = b, *end = b + l, *v, *x, *q;
	size_t vl, xl;
	time_t rt = 0, inv = 0;
	int neg, st, rs = -1;

	if (!der_get(&p, end, T_INT, &v, &vl) || !int_ok(v, vl, &neg)) {
		return E_MALFORMED;
	}
	if (vl > 1 && v[0] == 0) {
		v++;
		vl--;
	}
	if (neg || vl > EXPORT_SERIAL_MAX) {
		return E_SERIAL;
	}
	*s = v;
	*sl = vl;
	if (!der_get(&p, end, T_ENUM, &v, &vl) ||
	    (st = enum_small(v, vl)) == -2) {
		return E_MALFORMED;
	}
	if (st != EXPORT_GOOD && st != EXPORT_REVOKED) {
		return E_STATUS;
	}
	if (p < end && *p == T_CTX0) {
		if (!der_get(&p, end, T_CTX0, &v, &vl)) {
			return E_MALFORMED;
		}
		q = v;
		if (!der_get(&q, v + vl, T_GT, &x, &xl) || q != v + vl) {
			return E_MALFORMED;
		}
		if (st == EXPORT_GOOD) {
			return E_GOOD_REV;
		}
		if (!gt_parse(x, xl, &rt)) {
			return E_NO_RT;
		}
	}
	if (p < end && *p == T_CTX1) {
		if (!der_get(&p, end, T_CTX1, &v, &vl)) {
			return E_MALFORMED;
		}
		q = v;
		if (!der_get(&q, v + vl, T_ENUM, &x, &xl) || q != v + vl ||
		    (rs = enum_small(x, xl)) == -2) {
			return E_MALFORMED;
		}
		if (st == EXPORT_GOOD) {
			return E_GOOD_REV;
		}
	}
	if (p < end && *p == T_CTX2) {
		if (!der_get(&p, end, T_CTX2, &v, &vl)) {
			return E_MALFORMED;
		}
		q = v;
		if (!der_get(&q, v + vl, T_GT, &x, &xl) || q != v + vl) {
			return E_MALFORMED;
		}
		if (p == end && st == EXPORT_REVOKED && rt == 0) {
			return E_NO_RT;
		}
		if (p == end && !gt_parse(x, xl, &inv)) {
			return E_INVALIDITY;
		}
	}
	if (p != end) {
		return E_MALFORMED;
	}
	if (st == EXPORT_REVOKED && rt == 0) {
		return E_NO_RT;
	}
	if (rs != -1 && (rs < 0 || rs > 10 || rs == 7)) {
		return E_REASON;
	}
	if (out != NULL) {
		memcpy(out->serial, *s, *sl);
		out->serial_len = (uint8_t)*sl;
		out->status = (uint8_t)st;
		out->revocation_time = rt;
		out->reason = (int8_t)rs;
		out->invalidity_date = inv;
	}
	return E_OK;
}

/* The serial magnitude of the (validated) entry at ent + off. */
static void
entry_serial(const unsigned char *ent, uint32_t off,
    const unsigned char **s, size_t *sl)
{
	const unsigned char *p = ent + off;
	size_t l;

	/* An entry is at most 69 bytes but for long time forms. */
	p += (p[1] & 0x80) ? 2 + (p[1] & 0x7f) : 2;
	l = p[1];
	p += 2;
	if (l > 1 && p[0] == 0) {
		p++;
		l--;
	}
	*s = p;
	*sl = l;
}

/* Serial order: shorter magnitude first, then the bytes. */
static int
serial_cmp(const unsigned char *a, size_t al, const unsigned char *b,
    size_t bl)
{
	if (al != bl) {
		return al < bl ? -1 : 1;
	}
	return memcmp(a, b, al);
}

/*
 * size bytes of zeroed anonymous memory in transparent huge pages where
 * the kernel has them (a page fault per 2 MiB, not per 4 KiB: the faults
 * cost more than the copying on a busy virtual machine).  Out of memory
 * is fatal.  Freed with big_free().
 */
static void *
big_alloc(size_t size)
{
	void *p;

	if ((p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		fatalx("out of memory");
	}
	(void)madvise(p, size, MADV_HUGEPAGE);
	return p;
}

static void
big_free(void *p, size_t size)
{
	if (p != NULL) {
		(void)munmap(p, size);
	}
}

void
export_entry_get(const struct export_issuer *is, size_t i,
    struct export_entry *out)
{
	const unsigned char *p = is->ent + is->off[i], *b, *s;
	size_t l, sl;

	memset(out, 0, sizeof(*out));
	if (!der_get(&p, is->ent_end, T_SEQ, &b, &l) ||
	    entry_parse(b, l, out, &s, &sl) != E_OK) {
		/* Validated when indexed: the memory changed under us. */
		fatalx("export: entry %zu no longer decodes", i);
	}
}

long
export_issuer_find(const struct export_issuer *is,
    const unsigned char *serial, size_t len)
{
	const unsigned char *s;
	size_t lo = 0, hi = is->nentries, mid, sl;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		entry_serial(is->ent, is->off[mid], &s, &sl);
		if ((c = serial_cmp(s, sl, serial, len)) == 0) {
			return (long)mid;
		}
		if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return -1;
}

/*
 * A sort record is one 64-bit word: the key in the high bits, the
 * entry's offset in the low obits (the fewest that hold every offset:
 * 28 at ten million entries), so that the two arrays of an LSD radix
 * sort take 8 bytes an entry, not 12 (fresh memory costs its page
 * faults and zeroing, a third of the start-up CPU at ten million).
 */
struct sortctx {
	const unsigned char	*ent;
	unsigned int		 obits;
};

/*
 * The key of a serial (kbits wide): its length (5 bits: at most
 * EXPORT_SERIAL_MAX), then the bytes from cp (the bytes before cp are
 * the same in every serial being sorted, as in serials that start with
 * a date), as many as fit.
 */
static uint64_t
skey_of(const unsigned char *s, size_t sl, size_t cp, unsigned int kbits)
{
	uint64_t k = 0;
	size_t i;

	for (i = 0; i < 8; i++) {
		k = k << 8 | (cp + i < sl ? s[cp + i] : 0);
	}
	return ((uint64_t)sl << 59 | k >> 5) >> (64 - kbits);
}

/* qsort_r comparison of two records' full serials (ties of the key). */
static int
skey_cmp(const void *a, const void *b, void *arg)
{
	const struct sortctx *sc = arg;
	uint64_t mask = ((uint64_t)1 << sc->obits) - 1;
	const unsigned char *s, *t;
	size_t sl, tl;

	entry_serial(sc->ent, (uint32_t)(*(const uint64_t *)a & mask), &s,
	    &sl);
	entry_serial(sc->ent, (uint32_t)(*(const uint64_t *)b & mask), &t,
	    &tl);
	return serial_cmp(s, sl, t, tl);
}

#define RADIX_BITS	11
#define RADIX_MASK	((1U << RADIX_BITS) - 1)

/*
 * Sort is->off by serial, all of whose serials share their first cp
 * bytes (an LSD radix sort on the key bits that differ, the histograms
 * of all digits counted in one pass and a digit all records share
 * skipped; then the rare ties by the full serial), refusing a duplicate
 * serial (ES-OCSPD-02).  1/0 (logged).
 */
static int
index_sort(struct export_issuer *is, size_t cp, const char *what)
{
	struct sortctx sc;
	uint64_t *a, *b, *t, mask, key, vary = 0;
	size_t n = is->nentries, i, j, k, sl, tl, (*cnt)[RADIX_MASK + 1];
	const unsigned char *s, *u;
	unsigned int nd, d, sh, lo;
	int ret = 1;
	char *hex;

	sc.ent = is->ent;
	for (sc.obits = 1; sc.obits < 32 &&
	    (size_t)(is->ent_end - is->ent) >> sc.obits != 0; sc.obits++) {
		;
	}
	mask = ((uint64_t)1 << sc.obits) - 1;
	a = big_alloc(n * sizeof(*a));
	b = big_alloc(n * sizeof(*b));
	for (i = 0; i < n; i++) {
		entry_serial(is->ent, is->off[i], &s, &sl);
		key = skey_of(s, sl, cp, 64 - sc.obits);
		a[i] = key << sc.obits | is->off[i];
		vary |= key ^ (a[0] >> sc.obits);
	}
	/*
	 * Only the bits that differ between keys are sorted on, in digits
	 * of RADIX_BITS: two passes for the 24 bits that differ in ten
	 * million serials numbered in sequence, three for random ones.
	 */
	lo = vary != 0 ? (unsigned int)__builtin_ctzll(vary) : 0;
	nd = vary != 0 ? (64 - (unsigned int)__builtin_clzll(vary) - lo +
	    RADIX_BITS - 1) / RADIX_BITS : 0;
	if ((cnt = calloc(nd + 1, sizeof(*cnt))) == NULL) {
		fatalx("out of memory");
	}
	for (i = 0; i < n; i++) {
		key = a[i] >> (sc.obits + lo);
		for (d = 0; d < nd; d++) {
			cnt[d][(key >> RADIX_BITS * d) & RADIX_MASK]++;
		}
	}
	/* 2048 buckets: their counts and write positions stay in the cache. */
	for (d = 0; d < nd; d++) {
		size_t sum = 0, c;

		sh = sc.obits + lo + RADIX_BITS * d;
		if (cnt[d][(a[0] >> sh) & RADIX_MASK] == n) {
			continue;	/* one digit for all: nothing to move */
		}
		for (i = 0; i <= RADIX_MASK; i++) {
			c = cnt[d][i];
			cnt[d][i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++) {
			b[cnt[d][(a[i] >> sh) & RADIX_MASK]++] = a[i];
		}
		t = a;
		a = b;
		b = t;
	}
	/* Only serials with the same key can be equal. */
	for (i = 0; i < n && ret; i = j) {
		for (j = i + 1; j < n && a[j] >> sc.obits == a[i] >> sc.obits;
		    j++) {
			;
		}
		if (j - i < 2) {
			continue;
		}
		qsort_r(a + i, j - i, sizeof(*a), skey_cmp, &sc);
		for (k = i + 1; k < j && ret; k++) {
			entry_serial(is->ent, (uint32_t)(a[k - 1] & mask), &s,
			    &sl);
			entry_serial(is->ent, (uint32_t)(a[k] & mask), &u, &tl);
			if (serial_cmp(s, sl, u, tl) == 0) {
				hex = hex_encode(u, tl);
				log_warnx("%s: ES-OCSPD-02: duplicate serial %s",
				    what, hex);
				free(hex);
				ret = 0;
			}
		}
	}
	for (i = 0; i < n; i++) {
		is->off[i] = (uint32_t)(a[i] & mask);
	}
	free(cnt);
	big_free(a, n * sizeof(*a));
	big_free(b, n * sizeof(*b));
	return ret;
}

int
export_issuer_index(struct export_issuer *is, const unsigned char *ent,
    size_t len, const char *what)
{
	const unsigned char *p = ent, *end = ent + len, *b, *s, *ps = NULL;
	const unsigned char *fs = NULL;
	size_t l, sl, psl = 0, cap = 0, cp = 0, j;
	enum entry_err err;
	int sorted = 1;
	char *hex;

	free(is->off);
	is->off = NULL;
	is->nentries = 0;
	is->resorted = 0;
	is->ent = ent;
	is->ent_end = end;
	if (len > UINT32_MAX) {
		log_warnx("%s: ES-OCSPD-02: entries too large", what);
		return 0;
	}
	while (p < end) {
		if (is->nentries == cap) {
			/* About 13 bytes an entry: one allocation or two. */
			cap = cap == 0 ? len / 12 + 16 : cap * 2;
			if ((is->off = reallocarray(is->off, cap,
			    sizeof(*is->off))) == NULL) {
				fatalx("out of memory");
			}
		}
		is->off[is->nentries] = (uint32_t)(p - ent);
		if (!der_get(&p, end, T_SEQ, &b, &l)) {
			err = E_MALFORMED;
		} else {
			err = entry_parse(b, l, NULL, &s, &sl);
		}
		if (err != E_OK) {
			log_warnx("%s: entry %zu: ES-OCSPD-02: %s", what,
			    is->nentries, entry_why[err]);
			return 0;
		}
		if (ps != NULL && sorted &&
		    (sorted = serial_cmp(ps, psl, s, sl) < 0) == 0 &&
		    serial_cmp(ps, psl, s, sl) == 0) {
			goto dup;
		}
		/* The bytes every serial shares, for the sort's key. */
		if (fs == NULL) {
			fs = s;
			cp = sl;
		}
		for (j = 0; j < cp && j < sl && s[j] == fs[j]; j++) {
			;
		}
		cp = j;
		ps = s;
		psl = sl;
		is->nentries++;
	}
	/* In serial order as written (eseal-ca's export): no sort. */
	if (!sorted && !(is->resorted = index_sort(is, cp, what))) {
		return 0;
	}
	return 1;
 dup:
	hex = hex_encode(s, sl);
	log_warnx("%s: ES-OCSPD-02: duplicate serial %s", what, hex);
	free(hex);
	return 0;
}

/* The trust decision on an issuer section's CA; 1/0 (logged). */
static int
issuer_trusted(X509 *ca, X509 *const *trust, size_t ntrust,
    STACK_OF(X509) *signers, const char *what)
{
	char name[256];
	size_t i;
	int found = 0, signed_by = 0;

	X509_NAME_oneline(X509_get_subject_name(ca), name, sizeof(name));
	for (i = 0; i < ntrust; i++) {
		if (X509_cmp(ca, trust[i]) == 0) {
			found = 1;
		}
	}
	if (!found) {
		log_warnx("%s: ES-OCSPD-03: issuer section for a CA that is "
		    "not configured (%s)", what, name);
		return 0;
	}
	for (i = 0; i < (size_t)sk_X509_num(signers); i++) {
		if (X509_cmp(ca, sk_X509_value(signers, (int)i)) == 0) {
			signed_by = 1;
		}
	}
	if (!signed_by) {
		log_warnx("%s: ES-OCSPD-03: issuer section for %s without a "
		    "valid SignerInfo from that CA", what, name);
		return 0;
	}
	return 1;
}

/*
 * The NamedCRLs (the SEQUENCE OF's contents b, l) of section is: names,
 * each CRL signed by the section's CA, kept as their DER.  1/0 (logged).
 */
static int
crls_parse(struct export_issuer *is, const unsigned char *b, size_t l,
    const char *what)
{
	const unsigned char *p = b, *end = b + l, *nb, *q, *v, *c;
	size_t nl, vl, cap = 0;
	X509_CRL *crl = NULL;
	struct export_crl *cr;
	EVP_PKEY *pub = X509_get0_pubkey(is->ca);
	int ret = 0;

	while (p < end) {
		if (!der_get(&p, end, T_SEQ, &nb, &nl)) {
			goto malformed;
		}
		q = nb;
		if (!der_get(&q, nb + nl, T_UTF8, &v, &vl)) {
			goto malformed;
		}
		c = q;
		if ((crl = d2i_X509_CRL(NULL, &q, (long)(nb + nl - q))) ==
		    NULL || q != nb + nl) {
			goto malformed;
		}
		if (is->ncrls == cap) {
			cap = cap ? 2 * cap : 4;
			if ((is->crls = reallocarray(is->crls, cap,
			    sizeof(*is->crls))) == NULL) {
				fatalx("out of memory");
			}
		}
		cr = &is->crls[is->ncrls++];
		memset(cr, 0, sizeof(*cr));
		if (!export_crl_name_ok((const char *)v, vl)) {
			log_warnx("%s: ES-OCSPD-02: bad CRL name", what);
			goto out;
		}
		if ((cr->name = strndup((const char *)v, vl)) == NULL ||
		    (cr->der = malloc((size_t)(q - c))) == NULL) {
			fatalx("out of memory");
		}
		if (pub == NULL || X509_CRL_verify(crl, pub) != 1) {
			log_ssl("%s: CRL %s: signature does not verify with "
			    "the issuer's CA key", what, cr->name);
			goto out;
		}
		memcpy(cr->der, c, (size_t)(q - c));
		cr->der_len = (size_t)(q - c);
		if (!asn1_time_get(X509_CRL_get0_lastUpdate(crl),
		    &cr->this_update) ||
		    (X509_CRL_get0_nextUpdate(crl) != NULL &&
		    !asn1_time_get(X509_CRL_get0_nextUpdate(crl),
		    &cr->next_update))) {
			log_warnx("%s: CRL %s: ES-OCSPD-02: bad times", what,
			    cr->name);
			goto out;
		}
		X509_CRL_free(crl);
		crl = NULL;
	}
	ret = 1;
	goto out;
 malformed:
	ERR_clear_error();
	log_warnx("%s: ES-OCSPD-02: malformed export content (CRLs)", what);
 out:
	X509_CRL_free(crl);
	return ret;
}

/*
 * One IssuerStatus (contents b, l) into is (zeroed by the caller).  With
 * trust NULL (fuzzing) no trust decision is made.  1/0 (logged).
 */
static int
issuer_parse(struct export_issuer *is, const unsigned char *b, size_t l,
    X509 *const *trust, size_t ntrust, STACK_OF(X509) *signers,
    const char *what)
{
	const unsigned char *p = b, *end = b + l, *q, *eb, *cb;
	size_t el, cl;

	q = p;
	if ((is->ca = d2i_X509(NULL, &q, (long)l)) == NULL ||
	    !der_get(&p, end, T_SEQ, &eb, &el) || q != p) {
		ERR_clear_error();
		log_warnx("%s: ES-OCSPD-02: malformed export content (issuer "
		    "certificate)", what);
		return 0;
	}
	if (trust != NULL &&
	    !issuer_trusted(is->ca, trust, ntrust, signers, what)) {
		return 0;
	}
	if (!gt_get(&p, end, &is->this_update) ||
	    !gt_get(&p, end, &is->next_update) ||
	    is->this_update >= is->next_update) {
		log_warnx("%s: ES-OCSPD-02: bad thisUpdate/nextUpdate", what);
		return 0;
	}
	if (!der_get(&p, end, T_SEQ, &eb, &el) ||
	    !der_get(&p, end, T_SEQ, &cb, &cl) || p != end) {
		log_warnx("%s: ES-OCSPD-02: malformed export content (issuer "
		    "section)", what);
		return 0;
	}
	return export_issuer_index(is, eb, el, what) &&
	    crls_parse(is, cb, cl, what);
}

/* An INTEGER TLV at *p through d2i, as an int64; 1/0. */
static int
int64_get(const unsigned char **p, const unsigned char *end, int64_t *v)
{
	const unsigned char *q = *p, *b;
	ASN1_INTEGER *ai;
	size_t l;
	int ok;

	if (!der_get(p, end, T_INT, &b, &l)) {
		return 0;
	}
	ai = d2i_ASN1_INTEGER(NULL, &q, *p - q);
	ok = ai != NULL && q == *p && ASN1_INTEGER_get_int64(v, ai);
	ASN1_INTEGER_free(ai);
	ERR_clear_error();
	return ok;
}

/* The [0] AuditHead (contents b, l) into e; 1/0 (logged). */
static int
audit_head_parse(struct export *e, const unsigned char *b, size_t l,
    const char *what)
{
	const unsigned char *p = b, *end = b + l, *s, *h;
	size_t sl, hl;
	char *hex;

	if (!der_get(&p, end, T_SEQ, &s, &sl) || p != end) {
		goto bad;
	}
	p = s;
	end = s + sl;
	if (!int64_get(&p, end, &e->audit_seq) || e->audit_seq < 0 ||
	    !der_get(&p, end, T_OCT, &h, &hl) || hl != 32 || p != end) {
		goto bad;
	}
	hex = hex_encode(h, 32);
	memcpy(e->audit_hash, hex, 65);
	free(hex);
	e->has_audit_head = 1;
	return 1;
 bad:
	log_warnx("%s: ES-OCSPD-02: bad audit head", what);
	return 0;
}

/* The top of StatusExport (contents b, l) up to its issuers; 1/0. */
static int
header_parse(struct export *e, const unsigned char **pp,
    const unsigned char *end, const char *what)
{
	int64_t v;

	if (!int64_get(pp, end, &v) ||
	    (v != EXPORT_VERSION && v != EXPORT_VERSION_AUDIT)) {
		log_warnx("%s: ES-OCSPD-02: unsupported export version", what);
		return 0;
	}
	e->version = (int)v;
	if (!gt_get(pp, end, &e->produced)) {
		log_warnx("%s: ES-OCSPD-02: bad produced time", what);
		return 0;
	}
	if (!int64_get(pp, end, &e->sequence) || e->sequence < 0) {
		log_warnx("%s: ES-OCSPD-02: bad sequence number", what);
		return 0;
	}
	return 1;
}

/*
 * Walk the StatusExport content (c, len) into e.  trust NULL: no trust
 * decision (fuzzing).  1/0 (logged).
 */
static int
content_parse(struct export *e, const unsigned char *c, size_t len,
    X509 *const *trust, size_t ntrust, STACK_OF(X509) *signers,
    const char *what)
{
	const unsigned char *p = c, *end, *b, *ib, *q;
	size_t l, il, cap = 0;
	struct export_issuer *is;

	if (!der_get(&p, c + len, T_SEQ, &b, &l)) {
		log_warnx("%s: ES-OCSPD-02: malformed export content", what);
		return 0;
	}
	if (p != c + len) {
		log_warnx("%s: ES-OCSPD-02: trailing bytes after the export "
		    "content", what);
		return 0;
	}
	p = b;
	end = b + l;
	if (!header_parse(e, &p, end, what)) {
		return 0;
	}
	if (!der_get(&p, end, T_SEQ, &ib, &il)) {
		log_warnx("%s: ES-OCSPD-02: malformed export content", what);
		return 0;
	}
	if (p < end && *p == T_CTX0) {
		if (!der_get(&p, end, T_CTX0, &b, &l) ||
		    !audit_head_parse(e, b, l, what)) {
			return 0;
		}
	}
	if (p != end) {
		log_warnx("%s: ES-OCSPD-02: malformed export content", what);
		return 0;
	}
	if (e->has_audit_head != (e->version == EXPORT_VERSION_AUDIT)) {
		log_warnx("%s: ES-OCSPD-02: audit head %s in a version %d "
		    "export", what, e->has_audit_head ? "present" : "missing",
		    e->version);
		return 0;
	}
	for (q = ib; q < ib + il;) {
		if (!der_get(&q, ib + il, T_SEQ, &b, &l)) {
			log_warnx("%s: ES-OCSPD-02: malformed export content",
			    what);
			return 0;
		}
		if (e->nissuers == cap) {
			cap = cap ? 2 * cap : 4;
			if ((e->issuers = reallocarray(e->issuers, cap,
			    sizeof(*e->issuers))) == NULL) {
				fatalx("out of memory");
			}
		}
		is = &e->issuers[e->nissuers++];
		memset(is, 0, sizeof(*is));
		if (!issuer_parse(is, b, l, trust, ntrust, signers, what)) {
			return 0;
		}
	}
	if (e->nissuers == 0) {
		log_warnx("%s: ES-OCSPD-02: no issuer section", what);
		return 0;
	}
	return 1;
}

/*
 * Find the eContent of a DER SignedData export (der, len) and make the
 * same ContentInfo without it (detached), *small (malloc'd).  0 if the
 * export is not in that plain DER shape (the caller then lets OpenSSL
 * parse the whole of it and say what is wrong).
 */
static int
cms_split(const unsigned char *der, size_t len, size_t *c_off, size_t *c_len,
    unsigned char **small, size_t *small_len)
{
	const unsigned char *p = der, *ci, *oid, *oid_end, *a0, *sd, *sd_end;
	const unsigned char *ver, *dig, *enc, *tail, *eoid, *ex, *x, *b;
	unsigned char h[4][6], *s, *w;
	size_t cil, a0l, sdl, encl, l, xl, hl[4], n_enc, sdlen;

	if (!der_get(&p, der + len, T_SEQ, &ci, &cil) || p != der + len) {
		return 0;
	}
	p = oid = ci;
	if (!der_get(&p, ci + cil, T_OID, &b, &l)) {
		return 0;
	}
	oid_end = p;
	if (!der_get(&p, ci + cil, T_CTX0, &a0, &a0l) || p != ci + cil) {
		return 0;
	}
	p = a0;
	if (!der_get(&p, a0 + a0l, T_SEQ, &sd, &sdl) || p != a0 + a0l) {
		return 0;
	}
	sd_end = sd + sdl;
	p = ver = sd;
	if (!der_get(&p, sd_end, T_INT, &b, &l) ||
	    !der_get(&p, sd_end, T_SET, &b, &l)) {
		return 0;
	}
	dig = p;
	if (!der_get(&p, sd_end, T_SEQ, &enc, &encl)) {
		return 0;
	}
	tail = p;
	p = eoid = enc;
	if (!der_get(&p, enc + encl, T_OID, &b, &l)) {
		return 0;
	}
	ex = p;
	if (!der_get(&p, enc + encl, T_CTX0, &x, &xl) || p != enc + encl) {
		return 0;
	}
	p = x;
	if (!der_get(&p, x + xl, T_OCT, &b, &l) || p != x + xl) {
		return 0;
	}
	*c_off = (size_t)(b - der);
	*c_len = l;
	/* SEQ { OID, [0] { SEQ { ver, digests, SEQ { eOID }, tail } } } */
	n_enc = (size_t)(ex - eoid);
	hl[0] = der_put_hdr(h[0], T_SEQ, n_enc);
	sdlen = (size_t)(dig - ver) + hl[0] + n_enc + (size_t)(sd_end - tail);
	hl[1] = der_put_hdr(h[1], T_SEQ, sdlen);
	hl[2] = der_put_hdr(h[2], T_CTX0, hl[1] + sdlen);
	hl[3] = der_put_hdr(h[3], T_SEQ,
	    (size_t)(oid_end - oid) + hl[2] + hl[1] + sdlen);
	if ((s = malloc(hl[3] + (size_t)(oid_end - oid) + hl[2] + hl[1] +
	    sdlen)) == NULL) {
		fatalx("out of memory");
	}
	w = s;
	memcpy(w, h[3], hl[3]);
	w += hl[3];
	memcpy(w, oid, (size_t)(oid_end - oid));
	w += oid_end - oid;
	memcpy(w, h[2], hl[2]);
	w += hl[2];
	memcpy(w, h[1], hl[1]);
	w += hl[1];
	memcpy(w, ver, (size_t)(dig - ver));
	w += dig - ver;
	memcpy(w, h[0], hl[0]);
	w += hl[0];
	memcpy(w, eoid, n_enc);
	w += n_enc;
	memcpy(w, tail, (size_t)(sd_end - tail));
	w += sd_end - tail;
	*small = s;
	*small_len = (size_t)(w - s);
	return 1;
}

/* An X509_STORE of trust[] for CMS_verify(); NULL (logged). */
static X509_STORE *
trust_store(X509 *const *trust, size_t ntrust)
{
	X509_STORE *store;
	size_t i;

	if ((store = X509_STORE_new()) == NULL) {
		return NULL;
	}
	for (i = 0; i < ntrust; i++) {
		if (!X509_STORE_add_cert(store, trust[i])) {
			X509_STORE_free(store);
			return NULL;
		}
	}
	/*
	 * CMS_verify() defaults to the S/MIME signing purpose, which a CA
	 * certificate (keyCertSign, cRLSign only) does not have.  The
	 * trust decision is "signed by a configured CA", so any purpose.
	 */
	X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	return store;
}

/*
 * The whole export through d2i_CMS_ContentInfo(), for any shape
 * cms_split() does not take: NULL (logged) if it does not parse.
 */
static CMS_ContentInfo *
cms_full(const unsigned char *der, size_t len, const char *what)
{
	CMS_ContentInfo *cms;
	const unsigned char *p = der;

	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL) {
		log_ssl("%s: ES-OCSPD-02: not a CMS structure", what);
		return NULL;
	}
	if (p != der + len) {
		log_warnx("%s: ES-OCSPD-02: %td bytes trailing garbage", what,
		    (der + len) - p);
		CMS_ContentInfo_free(cms);
		return NULL;
	}
	return cms;
}

/*
 * Verify e->der and point *content at its eContent (in e->der, or in
 * e->copy when OpenSSL parsed the whole); *signers the verified
 * signers' certificates (own references).  1/0 (logged).
 */
static int
export_verify(struct export *e, X509 *const *trust, size_t ntrust,
    const char *what, const unsigned char **content, size_t *clen,
    STACK_OF(X509) **signers)
{
	CMS_ContentInfo *cms = NULL;
	X509_STORE *store = NULL;
	STACK_OF(X509) *sg = NULL;
	BIO *dcont = NULL;
	ASN1_OBJECT *oid = NULL;
	ASN1_OCTET_STRING **pos;
	const ASN1_OBJECT *ctype;
	unsigned char *small = NULL;
	const unsigned char *p;
	size_t off = 0, slen;
	int ret = 0;

	if (cms_split(e->der, e->der_len, &off, clen, &small, &slen)) {
		p = small;
		if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)slen)) ==
		    NULL || p != small + slen ||
		    (dcont = BIO_new_mem_buf(e->der + off, (int)*clen)) ==
		    NULL) {
			CMS_ContentInfo_free(cms);
			cms = NULL;
			ERR_clear_error();
		}
	}
	if (cms == NULL && (cms = cms_full(e->der, e->der_len, what)) == NULL) {
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		log_warnx("%s: ES-OCSPD-02: not CMS SignedData", what);
		goto out;
	}
	oid = OBJ_txt2obj(EXPORT_OID, 1);
	ctype = CMS_get0_eContentType(cms);
	if (oid == NULL || ctype == NULL || OBJ_cmp(ctype, oid) != 0) {
		log_warnx("%s: ES-OCSPD-02: eContentType is not a status "
		    "export", what);
		goto out;
	}
	if ((store = trust_store(trust, ntrust)) == NULL) {
		log_ssl("%s: cannot verify", what);
		goto out;
	}
	/* CMS_verify() checks every SignerInfo: one bad signature fails. */
	if (CMS_verify(cms, NULL, store, dcont, NULL, CMS_BINARY) != 1) {
		log_ssl("%s: ES-OCSPD-01: signature does not verify against "
		    "the configured CA certificate(s)", what);
		goto out;
	}
	/* Their own references: the CMS structure is freed here. */
	if ((sg = CMS_get0_signers(cms)) == NULL ||
	    (*signers = X509_chain_up_ref(sg)) == NULL) {
		log_ssl("%s: cannot verify", what);
		goto out;
	}
	if (dcont != NULL) {
		*content = e->der + off;
	} else {
		pos = CMS_get0_content(cms);
		if (pos == NULL || *pos == NULL) {
			log_warnx("%s: ES-OCSPD-02: detached or empty content",
			    what);
			goto out;
		}
		*clen = (size_t)ASN1_STRING_length(*pos);
		if ((e->copy = malloc(*clen + 1)) == NULL) {
			fatalx("out of memory");
		}
		memcpy(e->copy, ASN1_STRING_get0_data(*pos), *clen);
		*content = e->copy;
	}
	ret = 1;
 out:
	if (!ret) {
		sk_X509_pop_free(*signers, X509_free);
		*signers = NULL;
	}
	sk_X509_free(sg);
	BIO_free(dcont);
	free(small);
	X509_STORE_free(store);
	ASN1_OBJECT_free(oid);
	CMS_ContentInfo_free(cms);
	return ret;
}

/*
 * export_decode() of der (len bytes).  Unless view, der is taken:
 * malloc'd if map is 0, else a big_alloc() of map bytes, freed with the
 * export or on failure.  With view it stays the caller's and is never
 * written through.
 */
static struct export *
decode_at(unsigned char *der, size_t len, size_t map, int view,
    X509 *const *trust, size_t ntrust, const char *what)
{
	STACK_OF(X509) *signers = NULL;
	struct export *e;
	const unsigned char *content = NULL;
	size_t clen = 0;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		fatalx("out of memory");
	}
	e->der = der;
	e->der_len = len;
	e->der_map = map;
	e->der_view = view;
	if (!export_verify(e, trust, ntrust, what, &content, &clen,
	    &signers) ||
	    !content_parse(e, content, clen, trust, ntrust, signers, what)) {
		export_free(e);
		e = NULL;
	}
	sk_X509_pop_free(signers, X509_free);
	return e;
}

struct export *
export_decode_view(const unsigned char *der, size_t len, X509 *const *trust,
    size_t ntrust, const char *what)
{
	/* Never written through: the decoder only reads e->der. */
	return decode_at((unsigned char *)(uintptr_t)der, len, 0, 1, trust,
	    ntrust, what);
}

struct export *
export_decode(const unsigned char *der, size_t len, X509 *const *trust,
    size_t ntrust, const char *what)
{
	unsigned char *copy;

	copy = big_alloc(len + 1);
	memcpy(copy, der, len);
	return decode_at(copy, len, len + 1, 0, trust, ntrust, what);
}

/*
 * Read path (a regular file of at most EXPORT_FILE_MAX bytes) into
 * big_alloc() memory: *buf, *len, *map.  1/0 (logged).
 */
static int
read_big(const char *path, unsigned char **buf, size_t *len, size_t *map)
{
	struct stat st;
	size_t off = 0;
	ssize_t r;
	int fd, ret = 0;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		log_warn("%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > EXPORT_FILE_MAX) {
		log_warnx("%s: larger than %zu bytes", path, EXPORT_FILE_MAX);
		goto out;
	}
	*map = (size_t)st.st_size + 1;
	*buf = big_alloc(*map);
	while (off < (size_t)st.st_size) {
		if ((r = read(fd, *buf + off, (size_t)st.st_size - off)) ==
		    -1 && errno == EINTR) {
			continue;
		}
		if (r == -1) {
			log_warn("%s", path);
			goto out;
		}
		if (r == 0) {
			break;
		}
		off += (size_t)r;
	}
	*len = off;
	ret = 1;
 out:
	if (fd != -1) {
		close(fd);
	}
	if (!ret && *buf != NULL) {
		big_free(*buf, *map);
		*buf = NULL;
	}
	return ret;
}

struct export *
export_load(const char *path, X509 *const *trust, size_t ntrust)
{
	unsigned char *buf;
	size_t len, map;

	if (!read_big(path, &buf, &len, &map)) {
		return NULL;
	}
	return decode_at(buf, len, map, 0, trust, ntrust, path);
}

struct export *
export_content_decode(const unsigned char *content, size_t len,
    const char *what)
{
	struct export *e;

	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->copy = malloc(len + 1)) == NULL) {
		fatalx("out of memory");
	}
	memcpy(e->copy, content, len);
	if (!content_parse(e, e->copy, len, NULL, 0, NULL, what)) {
		export_free(e);
		return NULL;
	}
	return e;
}

int
export_content_audit_head(const unsigned char *content, size_t len,
    const char *what, int64_t *sequence, int *has_head, int64_t *audit_seq,
    char audit_hash[65])
{
	struct export *e;
	int ret = 0;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		fatalx("out of memory");
	}
	if (content_parse(e, content, len, NULL, 0, NULL, what)) {
		*sequence = e->sequence;
		*has_head = e->has_audit_head;
		*audit_seq = e->audit_seq;
		memcpy(audit_hash, e->audit_hash, 65);
		ret = 1;
	}
	export_free(e);
	return ret;
}

void
export_free(struct export *e)
{
	size_t i, j;

	if (e == NULL) {
		return;
	}
	for (i = 0; i < e->nissuers; i++) {
		struct export_issuer *is = &e->issuers[i];

		X509_free(is->ca);
		free(is->off);
		for (j = 0; j < is->ncrls; j++) {
			free(is->crls[j].name);
			free(is->crls[j].der);
		}
		free(is->crls);
	}
	free(e->issuers);
	if (e->der_view) {
		/* The caller's. */
	} else if (e->der_map != 0) {
		big_free(e->der, e->der_map);
	} else {
		free(e->der);
	}
	free(e->copy);
	free(e);
}
