/*
 * The OCSP core: lookup tables built from a verified export, request
 * parsing, ResponseData construction with ASN.1 templates (RFC 6960
 * 4.2.1), and the assembly of the signed BasicOCSPResponse around a
 * signature made elsewhere (the signer process).  The pre-signed cache
 * holds one response per (issued serial, CertID hash algorithm); slots
 * are guarded by striped mutexes so a reader can take a reference before
 * a refresh replaces the slot.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "responder.h"
#include "util.h"

#define NONCE_MAX		32	/* RFC 8954 */
#define MAX_CERTIDS		64
#define NSTRIPES		64

enum halg { HALG_SHA1 = 0, HALG_SHA256, HALG__MAX };


struct rissuer {
	struct export_issuer	*is;
	unsigned char		 name_hash[HALG__MAX][32];
	unsigned char		 key_hash[HALG__MAX][32];
	struct rblob		**cache[HALG__MAX];	/* per entry */
	unsigned char		*used[HALG__MAX];	/* CLOCK reference bits */
	int			 authorized;	/* signer may answer for it */
};

struct rstate {
	int			 refs;
	struct export		*e;
	struct responder_opts	 o;
	struct rissuer		*issuers;
	pthread_mutex_t		 stripes[NSTRIPES];
	uint64_t		 bytes, entries;	/* the cache's (atomics) */
	pthread_mutex_t		 clock_mu;	/* one sweeper at a time */
	size_t			 hand_i, hand_j;	/* CLOCK hand */
	int			 hand_h;
};

struct responder_stats responder_stats;

static const size_t halg_len[HALG__MAX] = { 20, 32 };

static const EVP_MD *
halg_md(enum halg h)
{
	return h == HALG_SHA1 ? EVP_sha1() : EVP_sha256();
}

struct rblob *
rblob_ref(struct rblob *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

void
rblob_unref(struct rblob *b)
{
	if (b == NULL) {
		return;
	}
	if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(b);
	}
}

static struct rblob *
rblob_new(const unsigned char *der, size_t len)
{
	struct rblob *b;

	if ((b = calloc(1, sizeof(*b) + len)) == NULL) {
		fatalx("out of memory");
	}
	b->refs = 1;
	b->len = len;
	memcpy(b->der, der, len);
	return b;
}

struct rblob *
rblob_error(int ocsp_status)
{
	/* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } */
	unsigned char der[5] = { 0x30, 0x03, 0x0a, 0x01, 0 };
	struct rblob *b;

	der[4] = (unsigned char)ocsp_status;
	b = rblob_new(der, sizeof(der));
	b->ocsp_status = ocsp_status;
	return b;
}

static uint64_t
serial_hash(const unsigned char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h = (h ^ s[i]) * 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

/*
 * 1 if signer may sign responses for CertIDs of ca (RFC 6960 4.2.2.2):
 * it is ca itself, or ca issued it (names, key identifiers and the
 * signature).  Else log once (ES-OCSPD-08) and return 0.
 */
static int
signer_authorized(X509 *ca, X509 *signer)
{
	char name[256];

	if (signer != NULL && (X509_cmp(ca, signer) == 0 ||
	    (X509_check_issued(ca, signer) == X509_V_OK &&
	    X509_verify(signer, X509_get0_pubkey(ca)) == 1))) {
		return 1;
	}
	ERR_clear_error();
	X509_NAME_oneline(X509_get_subject_name(ca), name, sizeof(name));
	log_warnx("%s: ES-OCSPD-08: the signer certificate was not issued by "
	    "this CA; its CertIDs are answered unauthorized (RFC 6960 "
	    "4.2.2.2)", name);
	return 0;
}

struct rstate *
rstate_new(struct export *e, const struct responder_opts *o)
{
	struct rstate *st;
	size_t i;
	int h;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->issuers = calloc(e->nissuers, sizeof(*st->issuers))) ==
	    NULL) {
		fatalx("out of memory");
	}
	st->refs = 1;
	st->e = e;
	st->o = *o;
	for (i = 0; i < NSTRIPES; i++) {
		pthread_mutex_init(&st->stripes[i], NULL);
	}
	pthread_mutex_init(&st->clock_mu, NULL);
	for (i = 0; i < e->nissuers; i++) {
		struct rissuer *ri = &st->issuers[i];
		const ASN1_BIT_STRING *key;
		unsigned char *name = NULL;
		int nlen;

		ri->is = &e->issuers[i];
		ri->authorized = signer_authorized(ri->is->ca, o->signer);
		key = X509_get0_pubkey_bitstr(ri->is->ca);
		if ((nlen = i2d_X509_NAME(X509_get_subject_name(ri->is->ca),
		    &name)) <= 0 || key == NULL) {
			fatalx("cannot encode CA name");
		}
		for (h = 0; h < HALG__MAX; h++) {
			if (!EVP_Digest(name, (size_t)nlen, ri->name_hash[h],
			    NULL, halg_md(h), NULL) ||
			    !EVP_Digest(ASN1_STRING_get0_data(key),
			    (size_t)ASN1_STRING_length(key), ri->key_hash[h],
			    NULL, halg_md(h), NULL)) {
				fatalx("digest failed");
			}
			if (ri->is->nentries > 0 &&
			    ((ri->cache[h] = calloc(ri->is->nentries,
			    sizeof(struct rblob *))) == NULL ||
			    (ri->used[h] = calloc(ri->is->nentries, 1)) ==
			    NULL)) {
				fatalx("out of memory");
			}
		}
		OPENSSL_free(name);
	}
	return st;
}

struct rstate *
rstate_ref(struct rstate *st)
{
	__atomic_add_fetch(&st->refs, 1, __ATOMIC_RELAXED);
	return st;
}

void
rstate_unref(struct rstate *st)
{
	size_t i, j;
	int h;

	if (st == NULL ||
	    __atomic_sub_fetch(&st->refs, 1, __ATOMIC_ACQ_REL) != 0) {
		return;
	}
	for (i = 0; i < st->e->nissuers; i++) {
		struct rissuer *ri = &st->issuers[i];

		for (h = 0; h < HALG__MAX; h++) {
			for (j = 0; ri->cache[h] != NULL &&
			    j < ri->is->nentries; j++) {
				rblob_unref(ri->cache[h][j]);
			}
			free(ri->cache[h]);
			free(ri->used[h]);
		}
	}
	__atomic_sub_fetch(&responder_stats.cache_bytes, st->bytes,
	    __ATOMIC_RELAXED);
	__atomic_sub_fetch(&responder_stats.cache_entries, st->entries,
	    __ATOMIC_RELAXED);
	for (i = 0; i < NSTRIPES; i++) {
		pthread_mutex_destroy(&st->stripes[i]);
	}
	pthread_mutex_destroy(&st->clock_mu);
	free(st->issuers);
	export_free(st->e);
	free(st);
}

const struct export *
rstate_export(const struct rstate *st)
{
	return st->e;
}

int
rstate_fresh(const struct rstate *st, time_t now)
{
	size_t i;

	for (i = 0; i < st->e->nissuers; i++) {
		if (now >= st->e->issuers[i].next_update) {
			return 0;
		}
	}
	return 1;
}

const struct export_crl *
rstate_crl(const struct rstate *st, const char *name)
{
	size_t i, j;

	for (i = 0; i < st->e->nissuers; i++) {
		const struct export_issuer *is = &st->e->issuers[i];

		for (j = 0; j < is->ncrls; j++) {
			if (strcmp(is->crls[j].name, name) == 0) {
				return &is->crls[j];
			}
		}
	}
	return NULL;
}

/* One CertID resolved against the state. */
struct lookup {
	OCSP_CERTID		*cid;	/* get0 from the request */
	struct rissuer		*ri;
	enum halg		 h;
	long			 idx;	/* entry index or -1: never issued */
};

int
responder_signer_prepare(struct responder_signer *sg)
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int len;

	if ((len = i2d_X509(sg->cert, &der)) <= 0 ||
	    !X509_pubkey_digest(sg->cert, EVP_sha1(), sg->key_hash, &mdlen) ||
	    mdlen != sizeof(sg->key_hash)) {
		log_ssl("responder: cannot prepare the signer certificate");
		OPENSSL_free(der);
		return 0;
	}
	OPENSSL_free(sg->cert_der);
	sg->cert_der = der;
	sg->cert_der_len = (size_t)len;
	return 1;
}

void
responder_signer_clear(struct responder_signer *sg)
{
	OPENSSL_free(sg->cert_der);
	sg->cert_der = NULL;
	sg->cert_der_len = 0;
}

/* DER length/tag helpers for the outer wrappers. */
static size_t
der_hdr(unsigned char *p, unsigned char tag, size_t len)
{
	size_t n = 0;

	p[n++] = tag;
	if (len < 0x80) {
		p[n++] = (unsigned char)len;
	} else if (len < 0x100) {
		p[n++] = 0x81;
		p[n++] = (unsigned char)len;
	} else if (len < 0x10000) {
		p[n++] = 0x82;
		p[n++] = (unsigned char)(len >> 8);
		p[n++] = (unsigned char)len;
	} else {
		p[n++] = 0x83;
		p[n++] = (unsigned char)(len >> 16);
		p[n++] = (unsigned char)(len >> 8);
		p[n++] = (unsigned char)len;
	}
	return n;
}

/*
 * Wrap tbs and sig into OCSPResponse { successful, BasicOCSPResponse
 * { tbs, algid, BIT STRING sig, [0] { certs } } }.
 */
static struct rblob *
assemble(const struct responder_signer *sg, const unsigned char *tbs,
    size_t tbs_len, const unsigned char *sig, size_t sig_len)
{
	static const unsigned char basic_oid[] = { 0x06, 0x09, 0x2b, 0x06,
	    0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01 };
	const unsigned char *cert = sg->cert_der;
	unsigned char *buf, hdr[8];
	unsigned char md[32];
	size_t certs_len, certs_seq, bit_len, basic_len, basic_tot, n, oct;
	size_t rb_len, rb_tot, tot, off = 0, clen = sg->cert_der_len;
	struct rblob *b;
	char *hex;

	if (cert == NULL) {
		fatalx("responder: signer not prepared");
	}
	certs_seq = der_hdr(hdr, 0x30, clen) + clen;
	certs_len = der_hdr(hdr, 0xa0, certs_seq) + certs_seq;
	bit_len = der_hdr(hdr, 0x03, sig_len + 1) + sig_len + 1;
	basic_len = tbs_len + sg->algid_len + bit_len + certs_len;
	basic_tot = der_hdr(hdr, 0x30, basic_len) + basic_len;
	oct = der_hdr(hdr, 0x04, basic_tot) + basic_tot;
	rb_len = sizeof(basic_oid) + oct;
	rb_tot = der_hdr(hdr, 0x30, rb_len) + rb_len;
	n = 3 + der_hdr(hdr, 0xa0, rb_tot) + rb_tot;
	tot = der_hdr(hdr, 0x30, n) + n;
	if ((b = calloc(1, sizeof(*b) + tot)) == NULL) {
		fatalx("out of memory");
	}
	buf = b->der;
	off += der_hdr(buf + off, 0x30, n);
	buf[off++] = 0x0a;
	buf[off++] = 0x01;
	buf[off++] = 0x00;
	off += der_hdr(buf + off, 0xa0, rb_tot);
	off += der_hdr(buf + off, 0x30, rb_len);
	memcpy(buf + off, basic_oid, sizeof(basic_oid));
	off += sizeof(basic_oid);
	off += der_hdr(buf + off, 0x04, basic_tot);
	off += der_hdr(buf + off, 0x30, basic_len);
	memcpy(buf + off, tbs, tbs_len);
	off += tbs_len;
	memcpy(buf + off, sg->algid, sg->algid_len);
	off += sg->algid_len;
	off += der_hdr(buf + off, 0x03, sig_len + 1);
	buf[off++] = 0x00;
	memcpy(buf + off, sig, sig_len);
	off += sig_len;
	off += der_hdr(buf + off, 0xa0, certs_seq);
	off += der_hdr(buf + off, 0x30, clen);
	memcpy(buf + off, cert, clen);
	off += clen;
	if (off != tot) {
		fatalx("response assembly: length mismatch");
	}
	b->refs = 1;
	b->len = tot;
	b->ocsp_status = OCSP_RESPONSE_STATUS_SUCCESSFUL;
	sha256(buf, tot, md);
	hex = hex_encode(md, 16);
	snprintf(b->etag, sizeof(b->etag), "\"%s\"", hex);
	free(hex);
	return b;
}


/*
 * A growing DER buffer.  The ResponseData is written by hand: it is
 * built for every nonce answer, and OpenSSL's template encoder cost more
 * than the rest of the answer together.
 */
struct dbuf {
	unsigned char	*p;
	size_t		 len, cap;
};

static void
db_put(struct dbuf *d, const void *src, size_t n)
{
	if (d->len + n > d->cap) {
		d->cap = (d->len + n) * 2 + 64;
		if ((d->p = realloc(d->p, d->cap)) == NULL) {
			fatalx("out of memory");
		}
	}
	memcpy(d->p + d->len, src, n);
	d->len += n;
}

/* Append tag, length and the content of c (c is emptied). */
static void
db_wrap(struct dbuf *d, unsigned char tag, struct dbuf *c)
{
	unsigned char hdr[8];

	db_put(d, hdr, der_hdr(hdr, tag, c->len));
	if (c->len > 0) {
		db_put(d, c->p, c->len);
	}
	c->len = 0;
}

static void
put_dec(unsigned char *p, int v, int digits)
{
	while (digits-- > 0) {
		p[digits] = (unsigned char)('0' + v % 10);
		v /= 10;
	}
}

/* GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 4.1.2.5.2). */
static void
db_time(struct dbuf *d, time_t t)
{
	unsigned char b[17];
	struct tm tm;

	gmtime_r(&t, &tm);
	b[0] = 0x18;
	b[1] = 15;
	put_dec(b + 2, tm.tm_year + 1900, 4);
	put_dec(b + 6, tm.tm_mon + 1, 2);
	put_dec(b + 8, tm.tm_mday, 2);
	put_dec(b + 10, tm.tm_hour, 2);
	put_dec(b + 12, tm.tm_min, 2);
	put_dec(b + 14, tm.tm_sec, 2);
	b[16] = 'Z';
	db_put(d, b, sizeof(b));
}

/* Extension { oid, OCTET STRING { GeneralizedTime } }, not critical. */
static void
db_time_ext(struct dbuf *d, const unsigned char *oid, size_t oid_len,
    time_t t)
{
	struct dbuf e = { NULL, 0, 0 }, v = { NULL, 0, 0 };

	db_put(&e, oid, oid_len);
	db_time(&v, t);
	db_wrap(&e, 0x04, &v);
	db_wrap(d, 0x30, &e);
	free(e.p);
	free(v.p);
}

/*
 * The DER ResponseData (RFC 6960 4.2.1) for the resolved CertIDs,
 * malloc'd, and the earliest nextUpdate in it.  nonce is an extension
 * to echo or NULL.  1/0 (logged).
 */
static int
build_tbs(struct rstate *st, const struct responder_signer *sg,
    const struct lookup *lk, size_t n, X509_EXTENSION *nonce, time_t now,
    unsigned char **tbsp, size_t *tbs_lenp, time_t *nextp)
{
	/* id-ce-invalidityDate, id-pkix-ocsp-archive-cutoff */
	static const unsigned char oid_inv[] = { 0x06, 0x03, 0x55, 0x1d,
	    0x18 };
	static const unsigned char oid_cutoff[] = { 0x06, 0x09, 0x2b, 0x06,
	    0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x06 };
	/* id-pkix-ocsp-extended-revoke with NULL (RFC 6960 4.4.8) */
	static const unsigned char ext_xr[] = { 0x30, 0x0f, 0x06, 0x09, 0x2b,
	    0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x09, 0x04, 0x02, 0x05,
	    0x00 };
	static const unsigned char good[] = { 0x80, 0x00 };
	static const unsigned char unknown[] = { 0x82, 0x00 };
	struct dbuf rd = { NULL, 0, 0 }, all = { NULL, 0, 0 };
	struct dbuf one = { NULL, 0, 0 }, t = { NULL, 0, 0 };
	struct dbuf x = { NULL, 0, 0 };
	unsigned char *der = NULL, hdr[4];
	size_t i;
	time_t next = 0;
	int len, need_xr = st->o.extended_revoke, ret = 0;

	for (i = 0; i < n; i++) {
		const struct export_entry *en = NULL;
		struct export_entry ent;
		time_t nu;

		if (lk[i].idx >= 0) {
			export_entry_get(lk[i].ri->is, (size_t)lk[i].idx,
			    &ent);
			en = &ent;
		}
		if ((len = i2d_OCSP_CERTID(lk[i].cid, &der)) <= 0) {
			log_ssl("ocsp: cannot encode a CertID");
			goto out;
		}
		db_put(&one, der, (size_t)len);
		OPENSSL_free(der);
		der = NULL;
		if (en != NULL && en->status == EXPORT_GOOD) {
			db_put(&one, good, sizeof(good));
			__atomic_add_fetch(&responder_stats.good, 1,
			    __ATOMIC_RELAXED);
		} else if (en != NULL ||
		    st->o.unknown == UNKNOWN_AS_REVOKED) {
			/* RevokedInfo; never issued: RFC 6960 2.2. */
			int reason = en != NULL ? en->reason :
			    OCSP_REVOKED_STATUS_CERTIFICATEHOLD;

			if (en == NULL) {
				need_xr = 1;
			}
			db_time(&t, en != NULL ? en->revocation_time : 0);
			if (reason >= 0) {
				hdr[0] = 0xa0;
				hdr[1] = 0x03;
				hdr[2] = 0x0a;
				hdr[3] = 0x01;
				db_put(&t, hdr, 4);
				hdr[0] = (unsigned char)reason;
				db_put(&t, hdr, 1);
			}
			db_wrap(&one, 0xa1, &t);
			if (en != NULL && en->invalidity_date != 0) {
				db_time_ext(&x, oid_inv, sizeof(oid_inv),
				    en->invalidity_date);
			}
			__atomic_add_fetch(&responder_stats.revoked, 1,
			    __ATOMIC_RELAXED);
		} else {
			db_put(&one, unknown, sizeof(unknown));
			__atomic_add_fetch(&responder_stats.unknown, 1,
			    __ATOMIC_RELAXED);
		}
		db_time(&one, now);
		nu = now + st->o.validity;
		if (nu > lk[i].ri->is->next_update) {
			nu = lk[i].ri->is->next_update;
		}
		if (next == 0 || nu < next) {
			next = nu;
		}
		db_time(&t, nu);
		db_wrap(&one, 0xa0, &t);
		if (st->o.archive_cutoff_days > 0) {
			db_time_ext(&x, oid_cutoff, sizeof(oid_cutoff),
			    now - (time_t)st->o.archive_cutoff_days * 86400);
		}
		if (x.len > 0) {
			db_wrap(&t, 0x30, &x);
			db_wrap(&one, 0xa1, &t);
		}
		db_wrap(&all, 0x30, &one);
	}
	/* responderID byKey [2] KeyHash, producedAt, responses */
	hdr[0] = 0xa2;
	hdr[1] = 2 + sizeof(sg->key_hash);
	hdr[2] = 0x04;
	hdr[3] = sizeof(sg->key_hash);
	db_put(&rd, hdr, 4);
	db_put(&rd, sg->key_hash, sizeof(sg->key_hash));
	db_time(&rd, now);
	db_wrap(&rd, 0x30, &all);
	if (nonce != NULL) {
		if ((len = i2d_X509_EXTENSION(nonce, &der)) <= 0) {
			log_ssl("ocsp: cannot encode the nonce");
			goto out;
		}
		db_put(&x, der, (size_t)len);
		OPENSSL_free(der);
		der = NULL;
	}
	if (need_xr) {
		db_put(&x, ext_xr, sizeof(ext_xr));
	}
	if (x.len > 0) {
		db_wrap(&t, 0x30, &x);
		db_wrap(&rd, 0xa1, &t);
	}
	db_wrap(&x, 0x30, &rd);
	*tbsp = x.p;
	*tbs_lenp = x.len;
	x.p = NULL;
	*nextp = next;
	ret = 1;
 out:
	free(rd.p);
	free(all.p);
	free(one.p);
	free(t.p);
	free(x.p);
	return ret;
}

/* The finished response around tbs and its signature. Never NULL. */
static struct rblob *
finish(const struct responder_signer *sg, const unsigned char *tbs,
    size_t tbs_len, const unsigned char *sig, size_t sig_len, time_t now,
    time_t next)
{
	struct rblob *b;

	__atomic_add_fetch(&responder_stats.signatures, 1, __ATOMIC_RELAXED);
	b = assemble(sg, tbs, tbs_len, sig, sig_len);
	b->produced = now;
	b->this_update = now;
	b->next_update = next;
	return b;
}

/*
 * Build, sign (through sg->sign, waiting) and assemble a response for
 * the resolved CertIDs.  NULL on failure (logged).
 */
static struct rblob *
build(struct rstate *st, const struct responder_signer *sg,
    const struct lookup *lk, size_t n, X509_EXTENSION *nonce, time_t now)
{
	unsigned char *tbs = NULL, *sig = NULL;
	struct rblob *b = NULL;
	size_t tbs_len, sig_len;
	time_t next;

	if (!build_tbs(st, sg, lk, n, nonce, now, &tbs, &tbs_len, &next)) {
		return NULL;
	}
	if (!sg->sign(sg->arg, tbs, tbs_len, &sig, &sig_len)) {
		__atomic_add_fetch(&responder_stats.sign_failures, 1,
		    __ATOMIC_RELAXED);
	} else {
		b = finish(sg, tbs, tbs_len, sig, sig_len, now, next);
	}
	free(tbs);
	free(sig);
	return b;
}

/* Resolve cid; 0 if the issuer is not served (or the hash unsupported). */
static int
resolve(struct rstate *st, OCSP_CERTID *cid, struct lookup *lk)
{
	ASN1_OCTET_STRING *nh, *kh;
	ASN1_OBJECT *md;
	ASN1_INTEGER *serial;
	size_t i;
	int nid, h;

	if (!OCSP_id_get0_info(&nh, &md, &kh, &serial, cid)) {
		return 0;
	}
	nid = OBJ_obj2nid(md);
	if (nid == NID_sha1) {
		h = HALG_SHA1;
	} else if (nid == NID_sha256) {
		h = HALG_SHA256;
	} else {
		return 0;
	}
	if ((size_t)ASN1_STRING_length(nh) != halg_len[h] ||
	    (size_t)ASN1_STRING_length(kh) != halg_len[h]) {
		return 0;
	}
	lk->cid = cid;
	lk->h = h;
	for (i = 0; i < st->e->nissuers; i++) {
		struct rissuer *ri = &st->issuers[i];

		if (memcmp(ri->name_hash[h], ASN1_STRING_get0_data(nh),
		    halg_len[h]) == 0 &&
		    memcmp(ri->key_hash[h], ASN1_STRING_get0_data(kh),
		    halg_len[h]) == 0) {
			lk->ri = ri;
			lk->idx = -1;
			if (ASN1_STRING_type(serial) == V_ASN1_INTEGER &&
			    ASN1_STRING_length(serial) >= 1 &&
			    ASN1_STRING_length(serial) <= EXPORT_SERIAL_MAX) {
				lk->idx = export_issuer_find(ri->is,
				    ASN1_STRING_get0_data(serial),
				    (size_t)ASN1_STRING_length(serial));
			}
			return 1;
		}
	}
	return 0;
}

/* 1 if a cached response is still to be used at now. */
static int
cache_usable(const struct rblob *b, const struct rstate *st, time_t now)
{
	return b != NULL && now < b->this_update + st->o.validity / 2 &&
	    now < b->next_update;
}

/* Take a reference on the cached response of (lk), or NULL. */
static struct rblob *
cache_get(struct rstate *st, const struct lookup *lk)
{
	pthread_mutex_t *m = &st->stripes[lk->idx % NSTRIPES];
	struct rblob *b;

	pthread_mutex_lock(m);
	b = lk->ri->cache[lk->h][lk->idx];
	if (b != NULL) {
		rblob_ref(b);
		lk->ri->used[lk->h][lk->idx] = 1;
	}
	pthread_mutex_unlock(m);
	return b;
}

static uint64_t
blob_cost(const struct rblob *b)
{
	return b == NULL ? 0 : sizeof(*b) + b->len;
}

/*
 * Count (sign 1) or uncount (-1) b in the state's and the global sizes.
 * The counters are unsigned: adding the two's complement subtracts.
 */
static void
cache_account(struct rstate *st, const struct rblob *b, int sign)
{
	uint64_t c = blob_cost(b), n = 1;

	if (b == NULL) {
		return;
	}
	if (sign < 0) {
		c = -c;
		n = -n;
	}
	__atomic_add_fetch(&st->bytes, c, __ATOMIC_RELAXED);
	__atomic_add_fetch(&st->entries, n, __ATOMIC_RELAXED);
	__atomic_add_fetch(&responder_stats.cache_bytes, c, __ATOMIC_RELAXED);
	__atomic_add_fetch(&responder_stats.cache_entries, n,
	    __ATOMIC_RELAXED);
}

/* Move the CLOCK hand one slot on; 0 when the state has no slots. */
static int
clock_advance(struct rstate *st)
{
	size_t tries;

	if (st->e->nissuers == 0) {
		return 0;
	}
	st->hand_j++;
	for (tries = 0; tries <= st->e->nissuers * HALG__MAX; tries++) {
		struct rissuer *ri = &st->issuers[st->hand_i];

		if (ri->cache[st->hand_h] != NULL &&
		    st->hand_j < ri->is->nentries) {
			return 1;
		}
		st->hand_j = 0;
		if (++st->hand_h == HALG__MAX) {
			st->hand_h = 0;
			st->hand_i = (st->hand_i + 1) % st->e->nissuers;
		}
	}
	return 0;
}

/*
 * Bring the cache under 90 % of its bound: the CLOCK hand clears the
 * reference bit of a recently used response and drops one not used
 * since its last pass.  One sweeper at a time; the others go on.
 */
static void
cache_evict(struct rstate *st)
{
	uint64_t target = st->o.cache_max / 10 * 9, slots = 0, scanned = 0;
	size_t i;

	if (pthread_mutex_trylock(&st->clock_mu) != 0) {
		return;
	}
	for (i = 0; i < st->e->nissuers; i++) {
		slots += HALG__MAX * st->issuers[i].is->nentries;
	}
	while (__atomic_load_n(&st->bytes, __ATOMIC_RELAXED) > target &&
	    scanned++ < 2 * slots && clock_advance(st)) {
		struct rissuer *ri = &st->issuers[st->hand_i];
		size_t j = st->hand_j;
		pthread_mutex_t *m = &st->stripes[j % NSTRIPES];
		struct rblob *gone = NULL;

		pthread_mutex_lock(m);
		if (ri->cache[st->hand_h][j] != NULL) {
			if (ri->used[st->hand_h][j]) {
				ri->used[st->hand_h][j] = 0;
			} else {
				gone = ri->cache[st->hand_h][j];
				ri->cache[st->hand_h][j] = NULL;
				cache_account(st, gone, -1);
			}
		}
		pthread_mutex_unlock(m);
		if (gone != NULL) {
			rblob_unref(gone);
			__atomic_add_fetch(&responder_stats.evictions, 1,
			    __ATOMIC_RELAXED);
		}
	}
	pthread_mutex_unlock(&st->clock_mu);
}

static void
cache_put(struct rstate *st, const struct lookup *lk, struct rblob *b)
{
	pthread_mutex_t *m = &st->stripes[lk->idx % NSTRIPES];
	struct rblob *old;

	rblob_ref(b);
	pthread_mutex_lock(m);
	old = lk->ri->cache[lk->h][lk->idx];
	lk->ri->cache[lk->h][lk->idx] = b;
	lk->ri->used[lk->h][lk->idx] = 1;
	cache_account(st, old, -1);
	cache_account(st, b, 1);
	pthread_mutex_unlock(m);
	rblob_unref(old);
	if (st->o.cache_max > 0 &&
	    __atomic_load_n(&st->bytes, __ATOMIC_RELAXED) > st->o.cache_max) {
		cache_evict(st);
	}
}

unsigned int
responder_shard_of(const unsigned char *serial, size_t len, unsigned int n)
{
	if (n < 2) {
		return 1;
	}
	return (unsigned int)(serial_hash(serial, len) % n) + 1;
}

/* 1 while pre-signing may add to the cache (under 80 % of its bound). */
static int
presign_room(struct rstate *st)
{
	return st->o.cache_max == 0 ||
	    __atomic_load_n(&st->bytes, __ATOMIC_RELAXED) <
	    st->o.cache_max / 10 * 8;
}

struct rpending {
	struct rstate		*st;		/* a reference */
	const struct responder_signer *sg;
	struct lookup		 lk;		/* cache slot, when cache */
	int			 cache;
	unsigned char		*tbs;
	size_t			 tbs_len;
	time_t			 now, next;
};

/*
 * A response left to sign, holding a reference on st; NULL when the
 * ResponseData cannot be built (logged).
 */
static struct rpending *
pending(struct rstate *st, const struct responder_signer *sg,
    const struct lookup *lk, size_t n, X509_EXTENSION *nonce, time_t now,
    int cache)
{
	struct rpending *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		fatalx("out of memory");
	}
	if (!build_tbs(st, sg, lk, n, nonce, now, &p->tbs, &p->tbs_len,
	    &p->next)) {
		free(p);
		return NULL;
	}
	p->st = rstate_ref(st);
	p->sg = sg;
	p->lk = lk[0];
	p->lk.cid = NULL;
	p->cache = cache;
	p->now = now;
	return p;
}

/*
 * responder_answer(), and responder_answer_async() when pend is not
 * NULL: then a response to sign is left in *pend instead of being
 * signed here.
 */
static void
answer(struct rstate *st, const struct responder_signer *sg,
    const unsigned char *req, size_t req_len, time_t now,
    struct rblob **out, struct rpending **pend)
{
	OCSP_REQUEST *rq = NULL;
	X509_EXTENSION *nonce = NULL;
	ASN1_OCTET_STRING *inner = NULL;
	struct lookup lk[MAX_CERTIDS];
	struct rblob *b = NULL;
	const unsigned char *p = req;
	int i, n, status = OCSP_RESPONSE_STATUS_MALFORMEDREQUEST;

	*out = NULL;
	if ((rq = d2i_OCSP_REQUEST(NULL, &p, (long)req_len)) == NULL ||
	    p != req + req_len) {
		ERR_clear_error();
		goto out;
	}
	n = OCSP_request_onereq_count(rq);
	if (n < 1 || n > MAX_CERTIDS) {
		goto out;
	}
	for (i = 0; i < OCSP_REQUEST_get_ext_count(rq); i++) {
		X509_EXTENSION *ex = OCSP_REQUEST_get_ext(rq, i);
		const ASN1_OCTET_STRING *v;
		const unsigned char *q;

		if (OBJ_obj2nid(X509_EXTENSION_get_object(ex)) !=
		    NID_id_pkix_OCSP_Nonce) {
			continue;
		}
		if (nonce != NULL) {
			goto out;	/* two nonces */
		}
		/* RFC 8954: Nonce ::= OCTET STRING (SIZE(1..32)) */
		v = X509_EXTENSION_get_data(ex);
		q = ASN1_STRING_get0_data(v);
		if ((inner = d2i_ASN1_OCTET_STRING(NULL, &q,
		    ASN1_STRING_length(v))) == NULL ||
		    q != ASN1_STRING_get0_data(v) + ASN1_STRING_length(v) ||
		    ASN1_STRING_length(inner) < 1 ||
		    ASN1_STRING_length(inner) > NONCE_MAX) {
			ERR_clear_error();
			goto out;
		}
		nonce = ex;
	}
	for (i = 0; i < n; i++) {
		OCSP_CERTID *cid =
		    OCSP_onereq_get0_id(OCSP_request_onereq_get0(rq, i));

		if (!resolve(st, cid, &lk[i]) || !lk[i].ri->authorized) {
			status = OCSP_RESPONSE_STATUS_UNAUTHORIZED;
			goto out;
		}
		if (now >= lk[i].ri->is->next_update) {
			status = OCSP_RESPONSE_STATUS_TRYLATER;
			goto out;
		}
	}
	if (nonce == NULL && n == 1 && lk[0].idx >= 0) {
		b = cache_get(st, &lk[0]);
		if (cache_usable(b, st, now)) {
			__atomic_add_fetch(&responder_stats.presigned_hits, 1,
			    __ATOMIC_RELAXED);
			goto out;
		}
		rblob_unref(b);
		b = NULL;
		if (pend != NULL) {
			*pend = pending(st, sg, lk, 1, NULL, now, 1);
		} else if ((b = build(st, sg, lk, 1, NULL, now)) != NULL) {
			cache_put(st, &lk[0], b);
		}
	} else if (pend != NULL) {
		*pend = pending(st, sg, lk, (size_t)n, nonce, now, 0);
	} else {
		b = build(st, sg, lk, (size_t)n, nonce, now);
	}
	if (pend != NULL && *pend != NULL) {
		goto out;
	}
	if (b == NULL) {
		status = OCSP_RESPONSE_STATUS_INTERNALERROR;
	}
 out:
	OCSP_REQUEST_free(rq);
	ASN1_OCTET_STRING_free(inner);
	if (pend == NULL || *pend == NULL) {
		*out = b != NULL ? b : rblob_error(status);
	}
}

void
responder_answer(struct rstate *st, const struct responder_signer *sg,
    const unsigned char *req, size_t req_len, time_t now,
    struct rblob **out)
{
	answer(st, sg, req, req_len, now, out, NULL);
}

int
responder_answer_async(struct rstate *st, const struct responder_signer *sg,
    const unsigned char *req, size_t req_len, time_t now,
    struct rblob **out, struct rpending **pend)
{
	*pend = NULL;
	answer(st, sg, req, req_len, now, out, pend);
	return *pend != NULL;
}

void
rpending_tbs(const struct rpending *p, const unsigned char **tbs,
    size_t *len)
{
	*tbs = p->tbs;
	*len = p->tbs_len;
}

struct rblob *
rpending_finish(struct rpending *p, int ok, const unsigned char *sig,
    size_t sig_len)
{
	struct rblob *b;

	if (!ok) {
		__atomic_add_fetch(&responder_stats.sign_failures, 1,
		    __ATOMIC_RELAXED);
		b = rblob_error(OCSP_RESPONSE_STATUS_INTERNALERROR);
	} else {
		b = finish(p->sg, p->tbs, p->tbs_len, sig, sig_len, p->now,
		    p->next);
		if (p->cache) {
			cache_put(p->st, &p->lk, b);
		}
	}
	rpending_free(p);
	return b;
}

void
rpending_free(struct rpending *p)
{
	if (p == NULL) {
		return;
	}
	rstate_unref(p->st);
	free(p->tbs);
	free(p);
}

static int
stopped(int *stop)
{
	return __atomic_load_n(stop, __ATOMIC_RELAXED);
}

size_t
responder_presign(struct rstate *st, const struct responder_signer *sg,
    time_t now, int *stop, unsigned int part, unsigned int nparts)
{
	size_t i, j, n = 0;

	for (i = 0; i < st->e->nissuers && !stopped(stop); i++) {
		struct rissuer *ri = &st->issuers[i];
		OCSP_CERTID *cid = NULL;
		X509_NAME *name = X509_get_subject_name(ri->is->ca);
		const ASN1_BIT_STRING *key = X509_get0_pubkey_bitstr(ri->is->ca);

		if (!ri->authorized || now >= ri->is->next_update) {
			continue;
		}
		for (j = part; j < ri->is->nentries && !stopped(stop) &&
		    presign_room(st); j += nparts) {
			struct export_entry ent, *en = &ent;
			struct lookup lk;
			struct rblob *b;
			ASN1_INTEGER *ai;
			int usable;

			export_entry_get(ri->is, j, &ent);
			if (st->o.shard_n > 1 &&
			    responder_shard_of(en->serial, en->serial_len,
			    st->o.shard_n) != st->o.shard_k) {
				continue;
			}
			lk.ri = ri;
			lk.h = HALG_SHA1;
			lk.idx = (long)j;
			b = cache_get(st, &lk);
			usable = cache_usable(b, st, now);
			rblob_unref(b);
			if (usable) {
				continue;
			}
			if ((ai = ASN1_INTEGER_new()) == NULL ||
			    !ASN1_STRING_set(ai, en->serial, en->serial_len) ||
			    (cid = OCSP_cert_id_new(EVP_sha1(), name,
			    (ASN1_BIT_STRING *)key, ai)) == NULL) {
				ASN1_INTEGER_free(ai);
				log_ssl("presign: CertID");
				return n;
			}
			ASN1_INTEGER_free(ai);
			lk.cid = cid;
			b = build(st, sg, &lk, 1, NULL, now);
			OCSP_CERTID_free(cid);
			if (b == NULL) {
				return n;
			}
			cache_put(st, &lk, b);
			rblob_unref(b);
			n++;
		}
	}
	return n;
}
