/*
 * The streaming CRL encoder: three passes over a rewindable iterator
 * (measure, hash and sign once, write), hand-written DER for the
 * per-entry bytes, OpenSSL i2d for the small fixed parts.  See crl.h for
 * the contract and the reasons for the design.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crl.h"
#include "crltime.h"
#include "log.h"
#include "util.h"

/*
 * AlgorithmIdentifier DER, exactly as in pkilint's list: RSA PKCS#1 with
 * NULL parameters, RSASSA-PSS with hash (NULL params), MGF1 same hash and
 * salt = hash length, ECDSA without parameters.
 */
static const unsigned char alg_rsa256[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a,
    0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00 };
static const unsigned char alg_rsa384[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a,
    0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00 };
static const unsigned char alg_rsa512[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a,
    0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00 };
#define PSS_ALG(h, salt) { 0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, \
    0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, \
    0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, (h), 0x05, 0x00, \
    0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, \
    0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, \
    0x03, 0x04, 0x02, (h), 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, (salt) }
static const unsigned char alg_pss256[] = PSS_ALG(0x01, 0x20);
static const unsigned char alg_pss384[] = PSS_ALG(0x02, 0x30);
static const unsigned char alg_pss512[] = PSS_ALG(0x03, 0x40);
static const unsigned char alg_ec256[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const unsigned char alg_ec384[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 };
static const unsigned char alg_ec512[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04 };

static const struct {
	enum sig_alg		 alg;
	const unsigned char	*der;
	size_t			 len;
} algids[] = {
	{ SIG_RSA_SHA256, alg_rsa256, sizeof(alg_rsa256) },
	{ SIG_RSA_SHA384, alg_rsa384, sizeof(alg_rsa384) },
	{ SIG_RSA_SHA512, alg_rsa512, sizeof(alg_rsa512) },
	{ SIG_RSAPSS_SHA256, alg_pss256, sizeof(alg_pss256) },
	{ SIG_RSAPSS_SHA384, alg_pss384, sizeof(alg_pss384) },
	{ SIG_RSAPSS_SHA512, alg_pss512, sizeof(alg_pss512) },
	{ SIG_ECDSA_SHA256, alg_ec256, sizeof(alg_ec256) },
	{ SIG_ECDSA_SHA384, alg_ec384, sizeof(alg_ec384) },
	{ SIG_ECDSA_SHA512, alg_ec512, sizeof(alg_ec512) },
};

/* Largest encoded CRL entry: 2 + 22 + 17 + 2 + 12 + 26 = 81 bytes. */
#define ENTRY_MAX	128

/* Output buffer; a multiple of 48 so that PEM lines are cut evenly. */
#define SINK_BUF	(48 * 1365)

/*
 * Where encoded bytes go: hashed while hashing is on (from hstart in
 * buf), written as DER or PEM to fp when there is one.
 */
struct sink {
	unsigned char	 buf[SINK_BUF];
	char		 b64[SINK_BUF / 48 * 65 + 66];
	size_t		 len;
	size_t		 hstart;
	int		 hashing;
	EVP_MD_CTX	*md;
	EVP_MAC_CTX	*mac;		/* with md while hashing, or NULL */
	FILE		*fp;
	int		 pem;
	int		 err;		/* a write failed (errno kept) */
	uint64_t	 total;
	EVP_MD_CTX	*omd;		/* SHA-256 of every byte output, or NULL */
	int		 writeback;	/* start fp's writeback as it fills */
	uint64_t	 wb_done;	/* bytes whose writeback was started */
	uint64_t	 wb_out;	/* bytes handed to fp */
};

/* The state of one generation, shared by the three passes. */
struct gen {
	const struct crl_params	*p;
	const struct crl_iter	*it;
	const char		*what;
	const unsigned char	*algid;
	size_t			 algid_len;
	unsigned char		*pre;		/* version .. nextUpdate */
	size_t			 pre_len;
	unsigned char		*ext;		/* [0] Extensions */
	size_t			 ext_len;
	uint64_t		 count;		/* entries (pass 1) */
	uint64_t		 list_len;	/* sum of entry TLVs (pass 1) */
	uint64_t		 tbs_len;	/* TBSCertList content */
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen;
	unsigned char		*sig;
	size_t			 siglen;
	const EVP_MD		*mdalg;
	struct sink		*sink;
	struct day_memo		 days;
	FILE			*spill;		/* encoded entries, or NULL */
	uint64_t		 list_off;	/* where they start in it */
	unsigned char		 sha256[32];	/* of the output DER (pass 3) */
	/* Pass 2's Poly1305 of the TBSCertList (see complete_in_place). */
	unsigned char		 mac_key[32];	/* random, one-time */
	unsigned char		 tbs_tag[16];
};

/* Number of length octets DER needs for len (tag not included). */
static size_t
der_len_size(uint64_t len)
{
	size_t n = 1;

	if (len < 0x80) {
		return 1;
	}
	while (len > 0) {
		n++;
		len >>= 8;
	}
	return n;
}

/* Write the DER length octets of len to p; returns their number. */
static size_t
der_len_put(unsigned char *p, uint64_t len)
{
	size_t n, i;

	if (len < 0x80) {
		p[0] = (unsigned char)len;
		return 1;
	}
	n = der_len_size(len) - 1;
	p[0] = (unsigned char)(0x80 | n);
	for (i = 0; i < n; i++) {
		p[n - i] = (unsigned char)(len >> (8 * i));
	}
	return n + 1;
}

/* Total size of a TLV with content length len (one-byte tag). */
static uint64_t
tlv_size(uint64_t len)
{
	return 1 + der_len_size(len) + len;
}

static void
sink_init(struct sink *s, FILE *fp, int pem, EVP_MD_CTX *md)
{
	s->len = s->hstart = 0;
	s->hashing = 0;
	s->md = md;
	s->mac = NULL;
	s->fp = fp;
	s->pem = pem;
	s->err = 0;
	s->total = 0;
	s->omd = NULL;
	s->writeback = 0;
	s->wb_done = s->wb_out = 0;
}

/*
 * With s->writeback, start the kernel's writeback of every further 8 MiB
 * handed to s->fp (the spill: the fsync that makes it the CRL's file then
 * finds little left to write; 51 MB at a million entries).
 */
static void
sink_writeback(struct sink *s, size_t n)
{
	s->wb_out += n;
	if (!s->writeback || s->wb_out - s->wb_done < (8u << 20)) {
		return;
	}
	if (fflush(s->fp) == EOF) {
		s->err = errno ? errno : EIO;
		return;
	}
#ifdef SYNC_FILE_RANGE_WRITE
	(void)sync_file_range(fileno(s->fp), (off_t)s->wb_done,
	    (off_t)(s->wb_out - s->wb_done), SYNC_FILE_RANGE_WRITE);
#endif
	s->wb_done = s->wb_out;
}

/*
 * Hash what is pending and write out the buffer (for PEM, whole 48-byte
 * lines unless final; the rest stays buffered).
 */
static void
sink_flush(struct sink *s, int final)
{
	size_t n, i, o;

	if (s->hashing && s->len > s->hstart) {
		if (!EVP_DigestUpdate(s->md, s->buf + s->hstart,
		    s->len - s->hstart) || (s->mac != NULL &&
		    !EVP_MAC_update(s->mac, s->buf + s->hstart,
		    s->len - s->hstart))) {
			s->err = EIO;
		}
	}
	n = s->len;
	if (s->fp != NULL && s->pem && !final) {
		n -= n % 48;
	}
	if (s->omd != NULL && n > 0 && !EVP_DigestUpdate(s->omd, s->buf, n)) {
		s->err = EIO;
	}
	if (s->fp != NULL && !s->pem) {
		if (n > 0 && fwrite(s->buf, 1, n, s->fp) != n) {
			s->err = errno ? errno : EIO;
		}
		sink_writeback(s, n);
	} else if (s->fp != NULL) {
		for (i = 0, o = 0; i < n; i += 48) {
			size_t k = n - i < 48 ? n - i : 48;

			o += (size_t)EVP_EncodeBlock((unsigned char *)s->b64 + o,
			    s->buf + i, (int)k);
			s->b64[o++] = '\n';
		}
		if (o > 0 && fwrite(s->b64, 1, o, s->fp) != o) {
			s->err = errno ? errno : EIO;
		}
	}
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
	s->hstart = s->len;
}

/* A pointer to room for n (<= 4096) bytes; commit with sink_commit(). */
static unsigned char *
sink_room(struct sink *s, size_t n)
{
	if (SINK_BUF - s->len < n) {
		sink_flush(s, 0);
	}
	return s->buf + s->len;
}

static void
sink_commit(struct sink *s, size_t n)
{
	s->len += n;
	s->total += n;
}

static void
sink_put(struct sink *s, const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t k = SINK_BUF - s->len;

		if (k == 0) {
			sink_flush(s, 0);
			continue;
		}
		if (k > n) {
			k = n;
		}
		memcpy(s->buf + s->len, p, k);
		sink_commit(s, k);
		p += k;
		n -= k;
	}
}

/* Tag and length of a TLV whose content has length len. */
static void
sink_head(struct sink *s, unsigned char tag, uint64_t len)
{
	unsigned char *p = sink_room(s, 16);

	p[0] = tag;
	sink_commit(s, 1 + der_len_put(p + 1, len));
}

static void
sink_hash_on(struct sink *s)
{
	s->hashing = 1;
	s->hstart = s->len;
}

static void
sink_hash_off(struct sink *s)
{
	if (s->len > s->hstart &&
	    (!EVP_DigestUpdate(s->md, s->buf + s->hstart, s->len - s->hstart) ||
	    (s->mac != NULL && !EVP_MAC_update(s->mac, s->buf + s->hstart,
	    s->len - s->hstart)))) {
		s->err = EIO;
	}
	s->hashing = 0;
	s->hstart = s->len;
}

/* Strip leading zeros: the significant bytes go to mag and len. */
static void
serial_mag(const struct crl_entry *e, const unsigned char **mag, size_t *len)
{
	const unsigned char *p = e->serial;
	size_t n = e->serial_len;

	while (n > 0 && *p == 0) {
		p++;
		n--;
	}
	*mag = p;
	*len = n;
}

static const char *
serial_hex(const unsigned char *mag, size_t len, char *buf, size_t bufsz)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len && 2 * i + 2 < bufsz; i++) {
		buf[2 * i] = digits[mag[i] >> 4];
		buf[2 * i + 1] = digits[mag[i] & 0xf];
	}
	buf[2 * i] = '\0';
	return len == 0 ? "0" : buf;
}

static int
reason_valid(int r)
{
	return (r >= CRL_REASON_UNSPECIFIED &&
	    r <= CRL_REASON_CERTIFICATE_HOLD) ||
	    (r >= CRL_REASON_REMOVE_FROM_CRL && r <= CRL_REASON_AA_COMPROMISE);
}

/*
 * Check entry number idx (1-based) against the previous serial (prev,
 * prevlen; prevlen 0 for the first) and encode it into out.  Returns
 * the TLV length, or 0 after logging.
 */
static size_t
entry_encode(struct gen *g, const struct crl_entry *e, uint64_t idx,
    const unsigned char *prev, size_t prevlen, unsigned char *out)
{
	const unsigned char *mag;
	unsigned char tm[20], inv[20];
	char h1[2 * CRL_SERIAL_MAX + 8], h2[2 * CRL_SERIAL_MAX + 8];
	size_t mlen, ilen, tlen, invlen = 0, extlen = 0, clen, n;
	unsigned char *p;
	int cmp;

	if (e->serial_len > sizeof(e->serial)) {
		log_warnx("%s: ES-CRL-05: entry %llu: serial longer than 20 "
		    "octets", g->what, (unsigned long long)idx);
		return 0;
	}
	serial_mag(e, &mag, &mlen);
	ilen = mlen + (mlen > 0 && (mag[0] & 0x80) ? 1 : 0);
	if (mlen == 0 || ilen > CRL_SERIAL_MAX) {
		log_warnx("%s: ES-CRL-05: entry %llu: serial %s is not a "
		    "positive INTEGER of at most 20 octets", g->what,
		    (unsigned long long)idx, serial_hex(mag, mlen, h1,
		    sizeof(h1)));
		return 0;
	}
	if (prevlen > 0) {
		cmp = mlen != prevlen ? (mlen > prevlen ? 1 : -1) :
		    memcmp(mag, prev, mlen);
		if (cmp <= 0) {
			log_warnx("%s: ES-CRL-04: entry %llu: serial %s %s "
			    "serial %s (entries must be in strictly increasing "
			    "serial order)", g->what, (unsigned long long)idx,
			    serial_hex(mag, mlen, h1, sizeof(h1)),
			    cmp == 0 ? "duplicates" : "is below the previous",
			    serial_hex(prev, prevlen, h2, sizeof(h2)));
			return 0;
		}
	}
	if (!reason_valid(e->reason)) {
		log_warnx("%s: ES-CRL-05: entry %llu: unknown reason code %d",
		    g->what, (unsigned long long)idx, e->reason);
		return 0;
	}
	if (e->reason == CRL_REASON_REMOVE_FROM_CRL && !g->p->delta) {
		log_warnx("%s: ES-CRL-05: entry %llu: removeFromCRL is only "
		    "allowed in a delta CRL (RFC 5280 5.3.1)", g->what,
		    (unsigned long long)idx);
		return 0;
	}
	if ((tlen = crl_time_put(tm, e->revoked, 0, &g->days)) == 0 ||
	    (e->invalidity != 0 &&
	    (invlen = crl_time_put(inv, e->invalidity, 1, &g->days)) == 0)) {
		log_warnx("%s: ES-CRL-05: entry %llu: time outside "
		    "1950..9999", g->what, (unsigned long long)idx);
		return 0;
	}
	if (e->reason != CRL_REASON_UNSPECIFIED) {
		extlen += 12;
	}
	if (invlen > 0) {
		extlen += 2 + 5 + 2 + invlen;	/* 30 18, OID, 04 11, time */
	}
	clen = 2 + ilen + tlen + (extlen > 0 ? 2 + extlen : 0);

	p = out;
	*p++ = 0x30;
	*p++ = (unsigned char)clen;		/* < 128: see ENTRY_MAX */
	*p++ = 0x02;
	*p++ = (unsigned char)ilen;
	if (ilen > mlen) {
		*p++ = 0x00;
	}
	memcpy(p, mag, mlen);
	p += mlen;
	memcpy(p, tm, tlen);
	p += tlen;
	if (extlen > 0) {
		*p++ = 0x30;
		*p++ = (unsigned char)extlen;
	}
	if (e->reason != CRL_REASON_UNSPECIFIED) {
		static const unsigned char rc[] = { 0x30, 0x0a, 0x06, 0x03,
		    0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01 };

		memcpy(p, rc, sizeof(rc));
		p += sizeof(rc);
		*p++ = (unsigned char)e->reason;
	}
	if (invlen > 0) {
		static const unsigned char id[] = { 0x06, 0x03, 0x55, 0x1d,
		    0x18 };

		*p++ = 0x30;
		*p++ = (unsigned char)(5 + 2 + invlen);
		memcpy(p, id, sizeof(id));
		p += sizeof(id);
		*p++ = 0x04;
		*p++ = (unsigned char)invlen;
		memcpy(p, inv, invlen);
		p += invlen;
	}
	n = (size_t)(p - out);
	return n;
}

/*
 * One walk over the iterator.  first (pass 1): check and measure, and
 * encode into s if there is one (the spill).  Otherwise (passes 2 and 3
 * without a spill): check, encode into s, and compare with pass 1.
 * Returns 1/0 (logged).
 */
static int
walk(struct gen *g, struct sink *s, int first)
{
	struct crl_entry e;
	unsigned char prev[CRL_SERIAL_MAX + 1], scratch[ENTRY_MAX];
	const unsigned char *mag;
	size_t prevlen = 0, n, mlen;
	uint64_t count = 0, len = 0;
	int r;

	if (!g->it->rewind(g->it->arg)) {
		return 0;
	}
	for (;;) {
		memset(&e, 0, sizeof(e));
		if ((r = g->it->next(g->it->arg, &e)) == 0) {
			break;
		}
		if (r < 0) {
			return 0;
		}
		count++;
		n = entry_encode(g, &e, count, prev, prevlen,
		    s != NULL ? sink_room(s, ENTRY_MAX) : scratch);
		if (n == 0) {
			return 0;
		}
		if (s != NULL) {
			sink_commit(s, n);
		}
		len += n;
		serial_mag(&e, &mag, &mlen);
		memcpy(prev, mag, mlen);
		prevlen = mlen;
	}
	if (first) {
		g->count = count;
		g->list_len = len;
		return 1;
	}
	if (count != g->count || len != g->list_len) {
		log_warnx("%s: ES-CRL-04: the revocation list changed between "
		    "passes (%llu entries, then %llu)", g->what,
		    (unsigned long long)g->count, (unsigned long long)count);
		return 0;
	}
	return 1;
}

/*
 * Passes 2 and 3 with a spill: the list_len encoded bytes of pass 1,
 * read back into s.  1/0 (logged).
 */
static int
replay(struct gen *g, struct sink *s)
{
	uint64_t left = g->list_len;
	size_t k;

	if (fseeko(g->spill, (off_t)g->list_off, SEEK_SET) == -1) {
		log_warn("%s: the encoded entries' spill file", g->what);
		return 0;
	}
	while (left > 0) {
		if (s->len == SINK_BUF) {
			sink_flush(s, 0);
		}
		k = SINK_BUF - s->len;
		if (k > left) {
			k = (size_t)left;
		}
		if (fread(s->buf + s->len, 1, k, g->spill) != k) {
			log_warnx("%s: ES-CRL-04: the encoded entries' spill file "
			    "is short or unreadable", g->what);
			return 0;
		}
		sink_commit(s, k);
		left -= k;
	}
	return 1;
}

/* The TBSCertList into s (passes 2 and 3). */
static int
emit_tbs(struct gen *g, struct sink *s)
{
	sink_head(s, 0x30, g->tbs_len);
	sink_put(s, g->pre, g->pre_len);
	if (g->count > 0) {
		sink_head(s, 0x30, g->list_len);
		if (g->spill != NULL ? !replay(g, s) : !walk(g, s, 0)) {
			return 0;
		}
	}
	sink_put(s, g->ext, g->ext_len);
	return 1;
}

/* An unlinked temporary file in dir.  NULL (logged). */
static FILE *
spill_open(const char *dir, const char *what)
{
	char *path = NULL;
	FILE *fp = NULL;
	int fd;

	if (asprintf(&path, "%s/.eseal-crl-spill.XXXXXX", dir) == -1) {
		fatalx("out of memory");
	}
	/* Unnamed (O_TMPFILE) where it can be: a caller may link it. */
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) == -1) {
		if ((fd = mkstemp(path)) == -1) {
			log_warn("%s: spill file in %s", what, dir);
			goto out;
		}
		(void)unlink(path);
	}
	if ((fp = fdopen(fd, "w+")) == NULL) {
		log_warn("%s: spill file", what);
		close(fd);
	}
out:
	free(path);
	return fp;
}

static const unsigned char zeros[256];

/*
 * Pass 1: check and measure the entries; with a spill directory, also
 * keep their encoding in an unlinked file there.  1/0 (logged).
 */
static int
measure(struct gen *g)
{
	if (g->p->spill_dir == NULL) {
		return walk(g, NULL, 1);
	}
	if ((g->spill = spill_open(g->p->spill_dir, g->what)) == NULL) {
		return 0;
	}
	sink_init(g->sink, g->spill, 0, NULL);
	g->sink->writeback = 1;
	/*
	 * Room before the list for the headers in front of it (outer,
	 * TBSCertList and list tag and length: 6 bytes each for lengths
	 * below 4 GiB) and the fixed part: crl_write_spilled() completes the
	 * CRL in place, at offset 0 when all three lengths are 2^24 or more
	 * (a list of 16 MiB or more), so that the file can become the CRL's.
	 */
	g->list_off = g->pre_len + 18;
	while (g->sink->total < g->list_off) {
		size_t k = g->list_off - g->sink->total;

		sink_put(g->sink, zeros, k < sizeof(zeros) ? k : sizeof(zeros));
	}
	if (!walk(g, g->sink, 1)) {
		return 0;
	}
	sink_flush(g->sink, 1);
	if (fflush(g->spill) == EOF) {
		g->sink->err = errno ? errno : EIO;
	}
	if (g->sink->err) {
		errno = g->sink->err;
		log_warn("%s: writing the encoded entries' spill file", g->what);
		return 0;
	}
	return 1;
}

static DIST_POINT_NAME *
dpn_uri(const char *uri)
{
	DIST_POINT_NAME *dpn;
	GENERAL_NAME *gn;
	ASN1_IA5STRING *s;

	if ((dpn = DIST_POINT_NAME_new()) == NULL ||
	    (gn = GENERAL_NAME_new()) == NULL ||
	    (s = ASN1_IA5STRING_new()) == NULL) {
		fatalx("out of memory");
	}
	if (!ASN1_STRING_set(s, uri, (int)strlen(uri))) {
		fatalx("out of memory");
	}
	GENERAL_NAME_set0_value(gn, GEN_URI, s);
	dpn->type = 0;
	if ((dpn->name.fullname = sk_GENERAL_NAME_new_null()) == NULL ||
	    !sk_GENERAL_NAME_push(dpn->name.fullname, gn)) {
		fatalx("out of memory");
	}
	return dpn;
}

/*
 * Extension ::= SEQUENCE { extnID 2.5.29.60, extnValue OCTET STRING {
 * GeneralizedTime } }: the DER before the time, whose 17 bytes time_put()
 * writes.  OpenSSL has no NID for ExpiredCertsOnCRL, so no
 * X509V3_add1_i2d() here.
 */
static const unsigned char ext_expired_head[] = { 0x30, 0x18, 0x06, 0x03,
    0x55, 0x1d, 0x3c, 0x04, 0x11 };

/*
 * Append ExpiredCertsOnCRL (X.509 2.5.29.60 ::= GeneralizedTime, not
 * critical) for t, which must lie in 1950..9999, to *exts.  1/0 (logged).
 */
static int
add_expired_certs_on_crl(STACK_OF(X509_EXTENSION) **exts, time_t t,
    struct day_memo *dm, const char *what)
{
	unsigned char der[sizeof(ext_expired_head) + 17];
	const unsigned char *p = der;
	X509_EXTENSION *ext;
	int ok;

	memcpy(der, ext_expired_head, sizeof(ext_expired_head));
	if (crl_time_put(der + sizeof(ext_expired_head), t, 1, dm) != 17) {
		log_warnx("%s: ES-CRL-05: ExpiredCertsOnCRL outside 1950..9999",
		    what);
		return 0;
	}
	ext = d2i_X509_EXTENSION(NULL, &p, (long)sizeof(der));
	ok = ext != NULL && X509v3_add_ext(exts, ext, -1) != NULL;
	if (!ok) {
		log_ssl("%s: ES-CRL-05: ExpiredCertsOnCRL", what);
	}
	X509_EXTENSION_free(ext);
	return ok;
}

/*
 * The fixed parts: version .. nextUpdate into g->pre and the [0]
 * Extensions into g->ext.  1/0 (logged).
 */
static int
build_fixed(struct gen *g)
{
	const struct crl_params *p = g->p;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	AUTHORITY_KEYID *aki = NULL;
	ASN1_INTEGER *num = NULL, *base = NULL;
	ISSUING_DIST_POINT *idp = NULL;
	CRL_DIST_POINTS *fresh = NULL;
	DIST_POINT *dp = NULL;
	const ASN1_OCTET_STRING *skid;
	unsigned char *name = NULL, *der = NULL, *q;
	unsigned char t1[20], t2[20];
	size_t l1, l2, hl;
	int nlen, dlen, ret = 0;

	if ((skid = X509_get0_subject_key_id(p->issuer)) == NULL) {
		log_warnx("%s: ES-CRL-05: the issuer certificate has no "
		    "subjectKeyIdentifier for the CRL's authorityKeyIdentifier",
		    g->what);
		goto out;
	}
	if ((nlen = i2d_X509_NAME(X509_get_subject_name(p->issuer),
	    &name)) <= 0) {
		log_ssl("%s: issuer name", g->what);
		goto out;
	}
	if ((l1 = crl_time_put(t1, p->this_update, 0, &g->days)) == 0 ||
	    (l2 = crl_time_put(t2, p->next_update, 0, &g->days)) == 0) {
		log_warnx("%s: ES-CRL-05: thisUpdate/nextUpdate outside "
		    "1950..9999", g->what);
		goto out;
	}
	g->pre_len = 3 + g->algid_len + (size_t)nlen + l1 + l2;
	if ((g->pre = malloc(g->pre_len)) == NULL) {
		fatalx("out of memory");
	}
	q = g->pre;
	*q++ = 0x02;
	*q++ = 0x01;
	*q++ = 0x01;		/* v2 */
	memcpy(q, g->algid, g->algid_len);
	q += g->algid_len;
	memcpy(q, name, (size_t)nlen);
	q += nlen;
	memcpy(q, t1, l1);
	q += l1;
	memcpy(q, t2, l2);

	/* RFC 5280 5.2.1 AKI, 5.2.3 number, 5.2.4 delta, 5.2.5 IDP, 5.2.6. */
	if ((aki = AUTHORITY_KEYID_new()) == NULL ||
	    (aki->keyid = ASN1_OCTET_STRING_dup(skid)) == NULL ||
	    (num = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set_uint64(num, p->number)) {
		fatalx("out of memory");
	}
	if (!X509V3_add1_i2d(&exts, NID_authority_key_identifier, aki, 0,
	    X509V3_ADD_APPEND) ||
	    !X509V3_add1_i2d(&exts, NID_crl_number, num, 0,
	    X509V3_ADD_APPEND)) {
		log_ssl("%s: CRL extensions", g->what);
		goto out;
	}
	if (p->delta) {
		if ((base = ASN1_INTEGER_new()) == NULL ||
		    !ASN1_INTEGER_set_uint64(base, p->base_number)) {
			fatalx("out of memory");
		}
		if (!X509V3_add1_i2d(&exts, NID_delta_crl, base, 1,
		    X509V3_ADD_APPEND)) {
			log_ssl("%s: deltaCRLIndicator", g->what);
			goto out;
		}
	}
	if (p->idp_uri != NULL || p->scope != CRL_SCOPE_ALL) {
		if ((idp = ISSUING_DIST_POINT_new()) == NULL) {
			fatalx("out of memory");
		}
		if (p->idp_uri != NULL) {
			idp->distpoint = dpn_uri(p->idp_uri);
		}
		/* DER BOOLEAN TRUE is 0xff; the encoder copies the value. */
		if (p->scope == CRL_SCOPE_USER) {
			idp->onlyuser = 0xff;
		} else if (p->scope == CRL_SCOPE_CA) {
			idp->onlyCA = 0xff;
		}
		if (!X509V3_add1_i2d(&exts, NID_issuing_distribution_point,
		    idp, 1, X509V3_ADD_APPEND)) {
			log_ssl("%s: issuingDistributionPoint", g->what);
			goto out;
		}
	}
	if (p->freshest_uri != NULL) {
		if ((fresh = sk_DIST_POINT_new_null()) == NULL ||
		    (dp = DIST_POINT_new()) == NULL) {
			fatalx("out of memory");
		}
		dp->distpoint = dpn_uri(p->freshest_uri);
		if (!sk_DIST_POINT_push(fresh, dp)) {
			fatalx("out of memory");
		}
		dp = NULL;
		if (!X509V3_add1_i2d(&exts, NID_freshest_crl, fresh, 0,
		    X509V3_ADD_APPEND)) {
			log_ssl("%s: freshestCRL", g->what);
			goto out;
		}
	}
	if (p->expired_certs_on_crl != 0 &&
	    !add_expired_certs_on_crl(&exts, p->expired_certs_on_crl,
	    &g->days, g->what)) {
		goto out;
	}
	if ((dlen = i2d_X509_EXTENSIONS(exts, &der)) <= 0) {
		log_ssl("%s: CRL extensions", g->what);
		goto out;
	}
	hl = 1 + der_len_size((uint64_t)dlen);
	g->ext_len = hl + (size_t)dlen;
	if ((g->ext = malloc(g->ext_len)) == NULL) {
		fatalx("out of memory");
	}
	g->ext[0] = 0xa0;
	der_len_put(g->ext + 1, (uint64_t)dlen);
	memcpy(g->ext + hl, der, (size_t)dlen);
	ret = 1;
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	AUTHORITY_KEYID_free(aki);
	ASN1_INTEGER_free(num);
	ASN1_INTEGER_free(base);
	ISSUING_DIST_POINT_free(idp);
	sk_DIST_POINT_pop_free(fresh, DIST_POINT_free);
	DIST_POINT_free(dp);
	OPENSSL_free(name);
	OPENSSL_free(der);
	return ret;
}

/* Refusals that need no entry: times, numbers, issuer, algorithm. */
static int
check_params(struct gen *g)
{
	const struct crl_params *p = g->p;
	char a[32], b[32];
	EVP_PKEY *pub;
	size_t i;

	if (p->issuer == NULL || p->sign == NULL) {
		log_warnx("%s: no issuer certificate or signer", g->what);
		return 0;
	}
	if (p->next_update <= p->this_update) {
		time_fmt(p->next_update, a, sizeof(a));
		time_fmt(p->this_update, b, sizeof(b));
		log_warnx("%s: ES-CRL-02: nextUpdate before thisUpdate "
		    "(nextUpdate %s, thisUpdate %s)", g->what, a, b);
		return 0;
	}
	if (p->have_last && p->number <= p->last_number) {
		log_warnx("%s: ES-CRL-03: CRL number %llu would not increase "
		    "(last published %llu)", g->what,
		    (unsigned long long)p->number,
		    (unsigned long long)p->last_number);
		return 0;
	}
	if (p->delta && p->base_number >= p->number) {
		log_warnx("%s: ES-CRL-03: delta CRL number %llu is not above "
		    "its base CRL number %llu", g->what,
		    (unsigned long long)p->number,
		    (unsigned long long)p->base_number);
		return 0;
	}
	if (p->delta && p->freshest_uri != NULL) {
		log_warnx("%s: ES-CRL-05: freshestCRL belongs in base CRLs, "
		    "not in a delta CRL (RFC 5280 5.2.6)", g->what);
		return 0;
	}
	for (i = 0; i < sizeof(algids) / sizeof(algids[0]); i++) {
		if (algids[i].alg == p->alg) {
			g->algid = algids[i].der;
			g->algid_len = algids[i].len;
		}
	}
	if (g->algid == NULL) {
		log_warnx("%s: ES-CRL-05: %s cannot sign a precomputed digest "
		    "(the streaming encoder needs RSA or ECDSA)", g->what,
		    sig_alg_name(p->alg));
		return 0;
	}
	pub = X509_get0_pubkey(p->issuer);
	if (pub == NULL || !sig_alg_fits_key(p->alg, key_alg_of_pkey(pub))) {
		log_warnx("%s: ES-CRL-05: %s does not fit the issuer's %s key",
		    g->what, sig_alg_name(p->alg),
		    pub != NULL ? key_alg_name(key_alg_of_pkey(pub)) : "missing");
		return 0;
	}
	if ((X509_get_extension_flags(p->issuer) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(p->issuer) & KU_CRL_SIGN)) {
		log_warnx("%s: ES-CRL-05: the issuer certificate's keyUsage "
		    "lacks cRLSign", g->what);
		return 0;
	}
	return 1;
}

/* Check sig over g->md with the issuer's public key.  1/0 (logged). */
static int
check_sig(struct gen *g)
{
	EVP_PKEY_CTX *ctx = NULL;
	int ok = 0;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL,
	    X509_get0_pubkey(g->p->issuer), NULL)) == NULL ||
	    EVP_PKEY_verify_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, g->mdalg) <= 0) {
		goto out;
	}
	if (sig_alg_is_pss(g->p->alg) &&
	    (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, g->mdalg) <= 0)) {
		goto out;
	}
	if (sig_alg_is_rsa(g->p->alg) && !sig_alg_is_pss(g->p->alg) &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
		goto out;
	}
	ok = EVP_PKEY_verify(ctx, g->sig, g->siglen, g->md, g->mdlen) == 1;
out:
	if (!ok) {
		log_ssl("%s: ES-CRL-06: the signature does not verify with the "
		    "issuer certificate's key (wrong key on the token?)",
		    g->what);
	}
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/*
 * A Poly1305 context keyed with g->mac_key, or NULL (logged).  Several
 * GB/s, against SHA-256's ~1.5 and SHA-384's ~0.7 here.
 */
static EVP_MAC_CTX *
tbs_mac_new(struct gen *g)
{
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;

	if ((mac = EVP_MAC_fetch(NULL, "POLY1305", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    !EVP_MAC_init(ctx, g->mac_key, sizeof(g->mac_key), NULL)) {
		log_ssl("%s: Poly1305", g->what);
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	EVP_MAC_free(mac);
	return ctx;
}

/* The tag of ctx into tag (16 bytes).  1/0 (logged). */
static int
tbs_mac_final(struct gen *g, EVP_MAC_CTX *ctx, unsigned char tag[16])
{
	size_t n = 0;

	if (!EVP_MAC_final(ctx, tag, &n, 16) || n != 16) {
		log_ssl("%s: Poly1305", g->what);
		return 0;
	}
	return 1;
}

/*
 * Set g up for p and it (g is zeroed first; gen_clear() it in every
 * case), then passes 1 and 2: check, measure, hash, sign.  1/0 (logged).
 */
static int
prepare(struct gen *g, const struct crl_params *p, const struct crl_iter *it,
    const char *what)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_MAC_CTX *mac = NULL;
	EVP_MD *md = NULL;
	int ret = 0;

	memset(g, 0, sizeof(*g));
	g->p = p;
	g->it = it;
	g->what = what;
	if (!check_params(g) || !build_fixed(g)) {
		goto out;
	}
	if ((g->sink = malloc(sizeof(*g->sink))) == NULL) {
		fatalx("out of memory");
	}
	if (!measure(g)) {
		goto out;
	}
	g->tbs_len = g->pre_len + g->ext_len +
	    (g->count > 0 ? tlv_size(g->list_len) : 0);

	if ((md = EVP_MD_fetch(NULL, sig_alg_digest(g->p->alg), NULL)) ==
	    NULL || (mctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(mctx, md, NULL)) {
		log_ssl("%s: digest %s", g->what, sig_alg_digest(g->p->alg));
		goto out;
	}
	g->mdalg = md;
	sink_init(g->sink, NULL, 0, mctx);
	if (g->spill != NULL) {
		if (RAND_bytes(g->mac_key, sizeof(g->mac_key)) != 1) {
			log_ssl("%s: random key", g->what);
			goto out;
		}
		if ((mac = tbs_mac_new(g)) == NULL) {
			goto out;
		}
		g->sink->mac = mac;
	}
	sink_hash_on(g->sink);
	if (!emit_tbs(g, g->sink)) {
		goto out;
	}
	sink_flush(g->sink, 1);
	if (g->sink->err || g->sink->total != tlv_size(g->tbs_len) ||
	    !EVP_DigestFinal_ex(mctx, g->md, &g->mdlen)) {
		log_ssl("%s: hashing the TBSCertList", g->what);
		goto out;
	}
	if (mac != NULL && !tbs_mac_final(g, mac, g->tbs_tag)) {
		goto out;
	}
	if (!g->p->sign(g->p->sign_arg, g->p->alg, g->md, g->mdlen, &g->sig,
	    &g->siglen) || g->sig == NULL || g->siglen == 0) {
		log_warnx("%s: ES-CRL-06: signing failed; nothing written",
		    g->what);
		goto out;
	}
	if (!check_sig(g)) {
		goto out;
	}
	ret = 1;
out:
	EVP_MD_CTX_free(mctx);
	EVP_MAC_CTX_free(mac);
	if (!ret) {
		EVP_MD_free(md);
		g->mdalg = NULL;
	}
	if (g->sink != NULL) {
		g->sink->md = NULL;
		g->sink->mac = NULL;
	}
	return ret;
}

/* Pass 3: the CertificateList into fp.  1/0 (logged). */
static int
output(struct gen *g, FILE *fp)
{
	EVP_MD_CTX *mctx = NULL, *omd = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	uint64_t bits_len, outer;
	struct sink *s = g->sink;
	int ret = 0;

	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(mctx, g->mdalg, NULL) ||
	    (omd = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(omd, EVP_sha256(), NULL)) {
		log_ssl("%s: digest", g->what);
		goto out;
	}
	bits_len = 1 + g->siglen;
	outer = tlv_size(g->tbs_len) + g->algid_len + tlv_size(bits_len);
	sink_init(s, fp, g->p->pem, mctx);
	s->omd = omd;
	if (g->p->pem && fputs("-----BEGIN X509 CRL-----\n", fp) == EOF) {
		s->err = errno ? errno : EIO;
	}
	sink_head(s, 0x30, outer);
	sink_hash_on(s);
	if (!emit_tbs(g, s)) {
		goto out;
	}
	sink_hash_off(s);
	sink_put(s, g->algid, g->algid_len);
	sink_head(s, 0x03, bits_len);
	sink_put(s, (const unsigned char *)"", 1);	/* no unused bits */
	sink_put(s, g->sig, g->siglen);
	sink_flush(s, 1);
	if (g->p->pem && fputs("-----END X509 CRL-----\n", fp) == EOF) {
		s->err = errno ? errno : EIO;
	}
	if (fflush(fp) == EOF) {
		s->err = errno ? errno : EIO;
	}
	if (s->err) {
		errno = s->err;
		log_warn("%s: write", g->what);
		goto out;
	}
	if (!EVP_DigestFinal_ex(omd, g->sha256, NULL)) {
		log_ssl("%s: SHA-256", g->what);
		goto out;
	}
	if (!EVP_DigestFinal_ex(mctx, md, &mdlen) || mdlen != g->mdlen ||
	    memcmp(md, g->md, mdlen) != 0) {
		log_warnx("%s: ES-CRL-04: the revocation list changed between "
		    "passes (the written TBSCertList is not the signed one)",
		    g->what);
		goto out;
	}
	if (s->total != tlv_size(outer)) {
		log_warnx("%s: internal error: wrote %llu bytes, expected %llu",
		    g->what, (unsigned long long)s->total,
		    (unsigned long long)tlv_size(outer));
		goto out;
	}
	ret = 1;
out:
	s->omd = NULL;
	EVP_MD_CTX_free(omd);
	EVP_MD_CTX_free(mctx);
	return ret;
}

static void
gen_clear(struct gen *g)
{
	if (g->spill != NULL) {
		fclose(g->spill);
	}
	free(g->pre);
	free(g->ext);
	free(g->sig);
	free(g->sink);
	EVP_MD_free((EVP_MD *)g->mdalg);
	OPENSSL_cleanse(g->mac_key, sizeof(g->mac_key));
}

/*
 * The end of every run: if it succeeded (ok), its figures into st (when
 * not NULL); then g released either way.  Returns ok.
 */
static int
gen_finish(struct gen *g, int ok, struct crl_stats *st)
{
	if (ok && st != NULL) {
		st->entries = g->count;
		st->bytes = g->sink->total;
		memcpy(st->sha256, g->sha256, sizeof(st->sha256));
	}
	gen_clear(g);
	return ok;
}

int
crl_write_fp(FILE *fp, const char *what, const struct crl_params *p,
    const struct crl_iter *it, struct crl_stats *st)
{
	struct gen g;
	int ok;

	ok = prepare(&g, p, it, what) && output(&g, fp);
	return gen_finish(&g, ok, st);
}

/* pwrite all of buf at off.  1/0 (errno set). */
static int
pwrite_all(int fd, const unsigned char *buf, size_t len, uint64_t off)
{
	ssize_t n;

	while (len > 0) {
		if ((n = pwrite(fd, buf, len, (off_t)off)) == -1) {
			if (errno == EINTR) {
				continue;
			}
			return 0;
		}
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 1;
}

/*
 * Read the CertificateList (len bytes at off in fd) back in chunks: its
 * SHA-256 into g->sha256, and the Poly1305 tag under g->mac_key of the
 * tbs_len bytes at tbs_off (the TBSCertList) into tag.  Read, not
 * mapped: the pages of a mapping would count in the peak RSS (the whole
 * CRL, 51 MB at a million entries).  1/0 (logged).
 */
static int
read_back(struct gen *g, int fd, uint64_t off, uint64_t len,
    uint64_t tbs_off, uint64_t tbs_len, unsigned char tag[16])
{
	const size_t bufsz = 1 << 20;
	unsigned char *buf;
	EVP_MAC_CTX *tctx = NULL;
	EVP_MD_CTX *sctx = NULL;
	uint64_t pos = off, end = off + len, a, b;
	unsigned int slen;
	ssize_t n;
	int ret = 0;

	if ((buf = malloc(bufsz)) == NULL ||
	    (sctx = EVP_MD_CTX_new()) == NULL) {
		fatalx("out of memory");
	}
	if ((tctx = tbs_mac_new(g)) == NULL) {
		goto out;
	}
	if (!EVP_DigestInit_ex(sctx, EVP_sha256(), NULL)) {
		log_ssl("%s: digest", g->what);
		goto out;
	}
	while (pos < end) {
		n = pread(fd, buf, end - pos < bufsz ? (size_t)(end - pos) :
		    bufsz, (off_t)pos);
		if (n <= 0) {
			log_warn("%s: reading the CRL back from the spill file",
			    g->what);
			goto out;
		}
		a = pos > tbs_off ? pos : tbs_off;
		b = pos + (uint64_t)n < tbs_off + tbs_len ? pos + (uint64_t)n :
		    tbs_off + tbs_len;
		if ((a < b && !EVP_MAC_update(tctx, buf + (a - pos),
		    (size_t)(b - a))) || !EVP_DigestUpdate(sctx, buf,
		    (size_t)n)) {
			log_ssl("%s: digest", g->what);
			goto out;
		}
		pos += (uint64_t)n;
	}
	if (!tbs_mac_final(g, tctx, tag)) {
		goto out;
	}
	if (!EVP_DigestFinal_ex(sctx, g->sha256, &slen)) {
		log_ssl("%s: digest", g->what);
		goto out;
	}
	ret = 1;
out:
	EVP_MAC_CTX_free(tctx);
	EVP_MD_CTX_free(sctx);
	free(buf);
	return ret;
}

/*
 * Pass 3 in place: the headers in front of the list and everything after
 * it are written around the spilled list, then the whole CertificateList
 * is read back (read_back), its TBSCertList checked against pass 2's
 * Poly1305 tag (it must be the signed one: a change by anyone who does
 * not know this run's random key is caught, but for a chance of about
 * 2^-80 at 51 MB; hashing it again under the signature's digest cost a
 * third pass of SHA-256 or SHA-384 over the list) and its SHA-256 taken.
 * 1/0 (logged).
 */
static int
complete_in_place(struct gen *g, int *fdp, uint64_t *off)
{
	unsigned char *head = NULL, *tail = NULL, tag[16];
	uint64_t bits_len, outer, start, total;
	size_t hl = 0, tl = 0, tbs_at;
	int fd = fileno(g->spill), ret = 0;

	bits_len = 1 + g->siglen;
	outer = tlv_size(g->tbs_len) + g->algid_len + tlv_size(bits_len);
	total = tlv_size(outer);
	if ((head = malloc(g->pre_len + 33)) == NULL ||
	    (tail = malloc(g->ext_len + g->algid_len + 11 + g->siglen)) ==
	    NULL) {
		fatalx("out of memory");
	}
	head[hl++] = 0x30;
	hl += der_len_put(head + hl, outer);
	tbs_at = hl;
	head[hl++] = 0x30;
	hl += der_len_put(head + hl, g->tbs_len);
	memcpy(head + hl, g->pre, g->pre_len);
	hl += g->pre_len;
	if (g->count > 0) {
		head[hl++] = 0x30;
		hl += der_len_put(head + hl, g->list_len);
	}
	memcpy(tail, g->ext, g->ext_len);
	tl = g->ext_len;
	memcpy(tail + tl, g->algid, g->algid_len);
	tl += g->algid_len;
	tail[tl++] = 0x03;
	tl += der_len_put(tail + tl, bits_len);
	tail[tl++] = 0x00;		/* no unused bits */
	memcpy(tail + tl, g->sig, g->siglen);
	tl += g->siglen;
	if (hl > g->list_off || hl + g->list_len + tl != total) {
		log_warnx("%s: ES-CRL-05: a CRL of %llu bytes does not fit its "
		    "spill (4 GiB or more)", g->what, (unsigned long long)total);
		goto out;
	}
	start = g->list_off - hl;
	if (!pwrite_all(fd, head, hl, start) ||
	    !pwrite_all(fd, tail, tl, g->list_off + g->list_len)) {
		log_warn("%s: writing the CRL into the spill file", g->what);
		goto out;
	}
	if ((*fdp = dup(fd)) == -1) {
		log_warn("%s: spill file", g->what);
		goto out;
	}
	if (g->p->placed != NULL) {
		g->p->placed(g->p->placed_arg, *fdp, start, total);
	}
	if (!read_back(g, fd, start, total, start + tbs_at,
	    tlv_size(g->tbs_len), tag)) {
		goto out;
	}
	if (CRYPTO_memcmp(tag, g->tbs_tag, sizeof(tag)) != 0) {
		log_warnx("%s: ES-CRL-04: the TBSCertList read back from the "
		    "spill file is not the signed one", g->what);
		goto out;
	}
	g->sink->total = total;
	*off = start;
	ret = 1;
out:
	free(head);
	free(tail);
	return ret;
}

int
crl_write_spilled(const char *what, const struct crl_params *p,
    const struct crl_iter *it, struct crl_stats *st, int *fd, uint64_t *off)
{
	struct gen g;
	int ok;

	*fd = -1;
	*off = 0;
	if (p->spill_dir == NULL || p->pem) {
		log_warnx("%s: internal error: a CRL left in the spill needs a "
		    "spill directory and DER", what);
		return 0;
	}
	ok = prepare(&g, p, it, what) && complete_in_place(&g, fd, off);
	return gen_finish(&g, ok, st);
}

int
crl_write(const char *path, const struct crl_params *p,
    const struct crl_iter *it, struct crl_stats *st)
{
	struct gen g;
	FILE *fp = NULL;
	char *tmp = NULL, *dcopy = NULL;
	int fd = -1, dfd, ret = 0;

	if (!prepare(&g, p, it, path)) {
		goto out;
	}
	if ((fd = tmp_create(path, 0644, &tmp)) == -1) {
		goto out;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		log_warn("%s", tmp);
		goto out;
	}
	fd = -1;
	if (!output(&g, fp)) {
		goto out;
	}
	if (fsync(fileno(fp)) == -1) {
		log_warn("%s: fsync", tmp);
		goto out;
	}
	if (fclose(fp) == EOF) {
		fp = NULL;
		log_warn("%s: close", tmp);
		goto out;
	}
	fp = NULL;
	if (rename(tmp, path) == -1) {
		log_warn("%s: rename", path);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if ((dcopy = strdup(path)) == NULL) {
		fatalx("out of memory");
	}
	if ((dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	ret = 1;
out:
	if (fp != NULL) {
		fclose(fp);
	}
	if (fd != -1) {
		close(fd);
	}
	tmp_discard(tmp, 1);
	free(dcopy);
	return gen_finish(&g, ret, st);
}
