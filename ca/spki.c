/*
 * The subject key of a stored CSR for "eseal-ca issue": where its
 * SubjectPublicKeyInfo lies in the CSR's DER, its key decoded with
 * decoder contexts kept for the run (one per key type: OpenSSL 3.0 builds
 * a context by enumerating every provider's decoders and key managers,
 * which costs several times the decoding), and its algorithm and bits
 * copied into a certificate.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "log.h"
#include "spki.h"

#define SPKI_DECODERS	8

struct spki_decoder {
	struct {
		char			 oid[80];
		OSSL_DECODER_CTX	*ctx;
		EVP_PKEY		*out;	/* where ctx puts its key */
	} v[SPKI_DECODERS];
	size_t n;
};

struct spki_decoder *
spki_decoder_new(void)
{
	struct spki_decoder *d;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		fatalx("out of memory");
	}
	return d;
}

void
spki_decoder_free(struct spki_decoder *d)
{
	size_t i;

	if (d == NULL) {
		return;
	}
	for (i = 0; i < d->n; i++) {
		OSSL_DECODER_CTX_free(d->v[i].ctx);
		EVP_PKEY_free(d->v[i].out);
	}
	free(d);
}

/*
 * Read the header of a universal constructed SEQUENCE at *p (before end):
 * *p moves to its contents, *clen is their length.  1/0.
 */
static int
seq_enter(const unsigned char **p, const unsigned char *end, long *clen)
{
	int tag, xclass, inf;

	inf = ASN1_get_object(p, clen, &tag, &xclass, end - *p);
	return !(inf & 0x80) && inf == V_ASN1_CONSTRUCTED &&
	    tag == V_ASN1_SEQUENCE && xclass == V_ASN1_UNIVERSAL;
}

/* Skip the element at *p (before end), of the given universal tag.  1/0. */
static int
skip(const unsigned char **p, const unsigned char *end, int want)
{
	long clen;
	int tag, xclass, inf;

	inf = ASN1_get_object(p, &clen, &tag, &xclass, end - *p);
	if ((inf & 0x80) || inf == 0x21 || tag != want ||
	    xclass != V_ASN1_UNIVERSAL) {
		return 0;
	}
	*p += clen;
	return 1;
}

int
csr_spki(const unsigned char *der, size_t len, const unsigned char **spki,
    size_t *spki_len)
{
	const unsigned char *p = der, *end = der + len, *start;
	long clen;

	/* CertificationRequest ::= SEQUENCE { certificationRequestInfo, */
	if (len == 0 || len > 1 << 20 || !seq_enter(&p, end, &clen) ||
	    p + clen != end) {
		return 0;
	}
	/* CertificationRequestInfo ::= SEQUENCE { version, subject, spki, */
	if (!seq_enter(&p, end, &clen)) {
		return 0;
	}
	end = p + clen;
	if (!skip(&p, end, V_ASN1_INTEGER) || !skip(&p, end, V_ASN1_SEQUENCE)) {
		return 0;
	}
	start = p;
	if (!skip(&p, end, V_ASN1_SEQUENCE)) {
		return 0;
	}
	*spki = start;
	*spki_len = (size_t)(p - start);
	return 1;
}

/*
 * The algorithm and the bits of spki (exactly len bytes), decoded as
 * plain ASN.1.  1/0; on success the caller frees both.
 */
static int
spki_parts(const unsigned char *spki, size_t len, X509_ALGOR **alg,
    ASN1_BIT_STRING **bits)
{
	const unsigned char *p = spki, *end = spki + len;
	long clen;

	*alg = NULL;
	*bits = NULL;
	if (!seq_enter(&p, end, &clen) || p + clen != end ||
	    (*alg = d2i_X509_ALGOR(NULL, &p, end - p)) == NULL ||
	    (*bits = d2i_ASN1_BIT_STRING(NULL, &p, end - p)) == NULL ||
	    p != end) {
		X509_ALGOR_free(*alg);
		ASN1_BIT_STRING_free(*bits);
		*alg = NULL;
		*bits = NULL;
		return 0;
	}
	return 1;
}

EVP_PKEY *
spki_decode(struct spki_decoder *d, const unsigned char *spki, size_t len)
{
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *bits = NULL;
	const ASN1_OBJECT *aobj;
	const unsigned char *p = spki;
	OSSL_DECODER_CTX *one = NULL, *ctx;
	EVP_PKEY *pk = NULL, *out = NULL, **outp;
	char oid[80];
	size_t i, plen = len;

	if (!spki_parts(spki, len, &alg, &bits)) {
		return NULL;
	}
	X509_ALGOR_get0(&aobj, NULL, NULL, alg);
	/* The key type as x509_pubkey_ex_d2i_ex() names it. */
	if (OBJ_obj2txt(oid, sizeof(oid), aobj, 0) <= 0) {
		goto out;
	}
	for (i = 0; i < d->n; i++) {
		if (strcmp(d->v[i].oid, oid) == 0) {
			break;
		}
	}
	if (i == d->n && d->n < SPKI_DECODERS) {
		snprintf(d->v[i].oid, sizeof(d->v[i].oid), "%s", oid);
		if ((d->v[i].ctx = OSSL_DECODER_CTX_new_for_pkey(&d->v[i].out,
		    "DER", "SubjectPublicKeyInfo", oid, EVP_PKEY_PUBLIC_KEY,
		    NULL, NULL)) == NULL) {
			goto out;
		}
		d->n++;
	}
	if (i < d->n) {
		ctx = d->v[i].ctx;
		outp = &d->v[i].out;
	} else {
		/* More key types than a CA meets: a context for this one. */
		if ((one = OSSL_DECODER_CTX_new_for_pkey(&out, "DER",
		    "SubjectPublicKeyInfo", oid, EVP_PKEY_PUBLIC_KEY, NULL,
		    NULL)) == NULL) {
			goto out;
		}
		ctx = one;
		outp = &out;
	}
	*outp = NULL;
	if (OSSL_DECODER_from_data(ctx, &p, &plen) && plen == 0) {
		pk = *outp;
	} else {
		EVP_PKEY_free(*outp);
	}
	*outp = NULL;
out:
	OSSL_DECODER_CTX_free(one);
	X509_ALGOR_free(alg);
	ASN1_BIT_STRING_free(bits);
	return pk;
}

int
spki_copy_to(X509 *x, const unsigned char *spki, size_t len)
{
	X509_PUBKEY *dst = X509_get_X509_PUBKEY(x);
	ASN1_BIT_STRING *dbits = X509_get0_pubkey_bitstr(x);
	X509_ALGOR *alg = NULL, *dalg = NULL;
	ASN1_BIT_STRING *bits = NULL;
	unsigned char *der = NULL;
	int dlen, ret = 0;

	if (dst == NULL || dbits == NULL ||
	    !X509_PUBKEY_get0_param(NULL, NULL, NULL, &dalg, dst) ||
	    !spki_parts(spki, len, &alg, &bits)) {
		goto out;
	}
	if (!X509_ALGOR_copy(dalg, alg) ||
	    !ASN1_STRING_set(dbits, ASN1_STRING_get0_data(bits),
	    ASN1_STRING_length(bits))) {
		goto out;
	}
	/* The same unused-bits count as the source. */
	dbits->flags = (dbits->flags & ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07)) |
	    (bits->flags & (ASN1_STRING_FLAG_BITS_LEFT | 0x07));
	/* BER the copy would not reproduce (unused bits not zero, ...). */
	dlen = i2d_X509_PUBKEY(dst, &der);
	ret = dlen > 0 && (size_t)dlen == len && memcmp(der, spki, len) == 0;
out:
	OPENSSL_free(der);
	X509_ALGOR_free(alg);
	ASN1_BIT_STRING_free(bits);
	return ret;
}
