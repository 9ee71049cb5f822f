/*
 * "eseal-hsm": an in-process OpenSSL 3 provider whose RSA and EC keys live
 * on a PKCS#11 token.  It offers key management (a key is only a reference
 * to a struct hsm_key; public parts are answered by the key's plain public
 * EVP_PKEY) and signatures: the message is hashed in software with the
 * default provider and the digest is signed on the token through
 * hsm_sign_digest().  The provider lives in a private library context
 * (hsm_libctx()) next to the default provider; the global library context
 * is never touched.  OpenSSL's X509/CRL/REQ/OCSP/CMS signing code asks the
 * signature context for its AlgorithmIdentifier, so that is answered
 * exactly here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "hsm-int.h"
#include "log.h"
#include "sigalg.h"

#define PROV_NAME	"eseal-hsm"
#define PROV_PROPS	"provider=" PROV_NAME
/* The private OSSL_PARAM carrying a struct hsm_key pointer to import. */
#define PARAM_KEYREF	"eseal-hsm-key"

enum pk_type { PK_RSA, PK_EC };

/* Key management data: a borrowed reference to a token key. */
struct pkey {
	enum pk_type	 type;
	struct hsm_key	*key;
};

/* Signature context. */
struct sigctx {
	enum pk_type	 type;
	struct pkey	*pk;
	EVP_MD		*md;		/* from the default provider */
	EVP_MD_CTX	*mctx;		/* digest_sign_* */
	int		 pad;		/* RSA_PKCS1_PADDING or _PSS_PADDING */
	int		 saltlen;	/* RSA_PSS_SALTLEN_DIGEST or bytes */
	EVP_MD		*mgf1;
};

static OSSL_LIB_CTX *libctx;
static CRYPTO_ONCE once = CRYPTO_ONCE_STATIC_INIT;
static int init_ok;

/* ---- key management ---- */

static void *
km_new(enum pk_type t)
{
	struct pkey *pk;

	if ((pk = calloc(1, sizeof(*pk))) == NULL) {
		return NULL;
	}
	pk->type = t;
	return pk;
}

static void
km_free(void *kd)
{
	free(kd);
}

static int
km_has(const void *kd, int selection)
{
	const struct pkey *pk = kd;

	/* The private half is on the token: a reference has all parts. */
	return pk != NULL && pk->key != NULL;
}

static int
km_import(void *kd, int selection, const OSSL_PARAM params[])
{
	struct pkey *pk = kd;
	const OSSL_PARAM *p;
	struct hsm_key *key;

	p = OSSL_PARAM_locate_const(params, PARAM_KEYREF);
	if (p == NULL || p->data_type != OSSL_PARAM_OCTET_STRING ||
	    p->data_size != sizeof(key)) {
		/* Only token key references can be imported. */
		return 0;
	}
	memcpy(&key, p->data, sizeof(key));
	pk->key = key;
	return 1;
}

static const OSSL_PARAM *
km_import_types(int selection)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_octet_string(PARAM_KEYREF, NULL, 0),
		OSSL_PARAM_END
	};

	return types;
}

static int
km_export(void *kd, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
	struct pkey *pk = kd;
	OSSL_PARAM *params = NULL;
	int ret;

	/* The private key never leaves the token. */
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 ||
	    pk->key == NULL) {
		return 0;
	}
	if (EVP_PKEY_todata(hsm_key_public(pk->key), selection,
	    &params) != 1) {
		return 0;
	}
	ret = cb(params, cbarg);
	OSSL_PARAM_free(params);
	return ret;
}

/* Everything gettable is a public property: ask the public key. */
static int
km_get_params(void *kd, OSSL_PARAM params[])
{
	struct pkey *pk = kd;
	OSSL_PARAM *p;

	if (pk->key == NULL) {
		return 0;
	}
	for (p = params; p->key != NULL; p++) {
		OSSL_PARAM one[2] = { *p, OSSL_PARAM_END };

		if (EVP_PKEY_get_params(hsm_key_public(pk->key), one) == 1) {
			p->return_size = one[0].return_size;
		}
	}
	return 1;
}

static int
km_match(const void *kd1, const void *kd2, int selection)
{
	const struct pkey *a = kd1, *b = kd2;

	if (a->key == NULL || b->key == NULL) {
		return 0;
	}
	return EVP_PKEY_eq(hsm_key_public(a->key),
	    hsm_key_public(b->key)) == 1;
}

#define KM_COMMON							\
	{ OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))km_free },		\
	{ OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))km_has },		\
	{ OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))km_match },		\
	{ OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))km_import },	\
	{ OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))km_import_types }, \
	{ OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))km_export },	\
	{ OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))km_get_params }

/* The public parameters of each key type, in OpenSSL's names. */
#define RSA_PUBLIC							\
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),			\
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0)
#define EC_PUBLIC							\
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),	\
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0)
/* What km_get_params answers for a key of any type. */
#define KEY_GETTABLE							\
	OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),			\
	OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),		\
	OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),			\
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0)

static const OSSL_PARAM rsa_export[] = { RSA_PUBLIC, OSSL_PARAM_END };
static const OSSL_PARAM ec_export[] = { EC_PUBLIC, OSSL_PARAM_END };
static const OSSL_PARAM rsa_gettable[] = {
	KEY_GETTABLE,
	RSA_PUBLIC,
	OSSL_PARAM_END
};
static const OSSL_PARAM ec_gettable[] = {
	KEY_GETTABLE,
	EC_PUBLIC,
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
	OSSL_PARAM_END
};

/*
 * KM_TYPE(t, pk, op) defines km_<t>, the key management of key type t:
 * a new key is a struct pkey of type pk, it exports <t>_export (never
 * the private half, which stays on the token), reports <t>_gettable and
 * names op for the signature operation; the rest is KM_COMMON.  OpenSSL
 * passes these callbacks no key, so each type needs its own.
 */
#define KM_TYPE(t, pk, op)						\
static void *								\
km_##t##_new(void *provctx)						\
{									\
	return km_new(pk);						\
}									\
static const OSSL_PARAM *						\
km_##t##_export_types(int selection)					\
{									\
	return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ? NULL :	\
	    t##_export;							\
}									\
static const OSSL_PARAM *						\
km_##t##_gettable(void *provctx)					\
{									\
	return t##_gettable;						\
}									\
static const char *							\
km_##t##_opname(int opid)						\
{									\
	return opid == OSSL_OP_SIGNATURE ? (op) : NULL;			\
}									\
static const OSSL_DISPATCH km_##t[] = {					\
	{ OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))km_##t##_new },	\
	{ OSSL_FUNC_KEYMGMT_EXPORT_TYPES,				\
	    (void (*)(void))km_##t##_export_types },			\
	{ OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS,				\
	    (void (*)(void))km_##t##_gettable },			\
	{ OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME,			\
	    (void (*)(void))km_##t##_opname },				\
	KM_COMMON,							\
	{ 0, NULL }							\
}

KM_TYPE(rsa, PK_RSA, "RSA");
KM_TYPE(ec, PK_EC, "EC");

/* ---- signatures ---- */

static void *
sig_new(enum pk_type t)
{
	struct sigctx *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		return NULL;
	}
	c->type = t;
	c->pad = RSA_PKCS1_PADDING;
	c->saltlen = RSA_PSS_SALTLEN_DIGEST;
	return c;
}

static void
sig_free(void *vc)
{
	struct sigctx *c = vc;

	if (c == NULL) {
		return;
	}
	EVP_MD_CTX_free(c->mctx);
	EVP_MD_free(c->md);
	EVP_MD_free(c->mgf1);
	free(c);
}

static void *
sig_dup(void *vc)
{
	struct sigctx *c = vc, *d;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		return NULL;
	}
	*d = *c;
	d->mctx = NULL;
	if ((d->md != NULL && !EVP_MD_up_ref(d->md)) ||
	    (d->mgf1 != NULL && !EVP_MD_up_ref(d->mgf1))) {
		free(d);
		return NULL;
	}
	if (c->mctx != NULL) {
		if ((d->mctx = EVP_MD_CTX_new()) == NULL ||
		    !EVP_MD_CTX_copy_ex(d->mctx, c->mctx)) {
			sig_free(d);
			return NULL;
		}
	}
	return d;
}

/* Fetch a SHA-2 digest from the default provider; NULL otherwise. */
static EVP_MD *
fetch_md(const char *name)
{
	EVP_MD *md;

	if ((md = EVP_MD_fetch(libctx, name, "provider=default")) == NULL) {
		return NULL;
	}
	if (!EVP_MD_is_a(md, "SHA256") && !EVP_MD_is_a(md, "SHA384") &&
	    !EVP_MD_is_a(md, "SHA512")) {
		EVP_MD_free(md);
		return NULL;
	}
	return md;
}

static int
set_md(EVP_MD **slot, const char *name)
{
	EVP_MD *md;

	if ((md = fetch_md(name)) == NULL) {
		ERR_raise_data(ERR_LIB_PROV, ERR_R_UNSUPPORTED,
		    "eseal-hsm: digest %s not supported", name);
		return 0;
	}
	EVP_MD_free(*slot);
	*slot = md;
	return 1;
}

static int
sig_set_ctx_params(void *vc, const OSSL_PARAM params[])
{
	struct sigctx *c = vc;
	const OSSL_PARAM *p;
	const char *s;
	int i;

	if (params == NULL) {
		return 1;
	}
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_DIGEST)) != NULL) {
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || !set_md(&c->md,
		    s)) {
			return 0;
		}
	}
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL) {
		if (c->type != PK_RSA) {
			return 0;
		}
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			if (!OSSL_PARAM_get_utf8_string_ptr(p, &s)) {
				return 0;
			}
			if (strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0) {
				i = RSA_PKCS1_PSS_PADDING;
			} else if (strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) ==
			    0) {
				i = RSA_PKCS1_PADDING;
			} else {
				return 0;
			}
		} else if (!OSSL_PARAM_get_int(p, &i)) {
			return 0;
		}
		if (i != RSA_PKCS1_PADDING && i != RSA_PKCS1_PSS_PADDING) {
			ERR_raise_data(ERR_LIB_PROV, ERR_R_UNSUPPORTED,
			    "eseal-hsm: RSA padding %d not supported", i);
			return 0;
		}
		c->pad = i;
	}
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			if (!OSSL_PARAM_get_utf8_string_ptr(p, &s)) {
				return 0;
			}
			if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0) {
				i = RSA_PSS_SALTLEN_DIGEST;
			} else {
				i = atoi(s);
				if (i <= 0) {
					ERR_raise_data(ERR_LIB_PROV,
					    ERR_R_UNSUPPORTED, "eseal-hsm: PSS "
					    "salt length %s not supported", s);
					return 0;
				}
			}
		} else if (!OSSL_PARAM_get_int(p, &i)) {
			return 0;
		}
		/* Checked against the digest length when signing. */
		c->saltlen = i;
	}
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL) {
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &s) ||
		    !set_md(&c->mgf1, s)) {
			return 0;
		}
	}
	return 1;
}

/* The signature context's settings: settable, and gettable as well. */
#define SIG_SETTINGS							\
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),	\
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),	\
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0), \
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0)

static const OSSL_PARAM *
sig_settable_ctx_params(void *vc, void *provctx)
{
	static const OSSL_PARAM types[] = { SIG_SETTINGS, OSSL_PARAM_END };

	return types;
}

/*
 * The eseal signature algorithm for the context's key type, padding and
 * digest, or SIG_NONE for a combination we do not sign (PSS with another
 * MGF1 hash or salt length than the digest's).
 */
static enum sig_alg
ctx_sig_alg(const struct sigctx *c)
{
	int h;

	if (c->md == NULL) {
		return SIG_NONE;
	}
	h = EVP_MD_is_a(c->md, "SHA256") ? 0 : EVP_MD_is_a(c->md, "SHA384") ?
	    1 : 2;
	if (c->type == PK_EC) {
		return SIG_ECDSA_SHA256 + h;
	}
	if (c->pad == RSA_PKCS1_PADDING) {
		return SIG_RSA_SHA256 + h;
	}
	if (c->mgf1 != NULL && !EVP_MD_is_a(c->mgf1, EVP_MD_get0_name(c->md))) {
		return SIG_NONE;
	}
	if (c->saltlen != RSA_PSS_SALTLEN_DIGEST &&
	    c->saltlen != EVP_MD_get_size(c->md)) {
		return SIG_NONE;
	}
	return SIG_RSAPSS_SHA256 + h;
}

/*
 * DER of the RSASSA-PSS AlgorithmIdentifier with SHA-256: MGF1 with the
 * same hash, saltLength = hash length, trailerField omitted (RFC 4055).
 * SHA-384 and SHA-512 differ only in the last octet of the two hash OIDs
 * (2.16.840.1.101.3.4.2.1/2/3) and in the saltLength (32/48/64).
 */
static const unsigned char pss_sha256[] = {
	0x30, 0x3d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	0x01, 0x0a, 0x30, 0x30, 0xa0, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x60,
	0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0xa1, 0x1a, 0x30,
	0x18, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
	0x08, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	0x04, 0x02, 0x01, 0xa2, 0x03, 0x02, 0x01, 0x20
};
#define PSS_HASH_AT	29	/* hashAlgorithm's OID, last octet */
#define PSS_MGF_HASH_AT	57	/* MGF1's hash OID, last octet */
#define PSS_SALT_AT	62	/* saltLength */

/* Write the PSS AlgorithmIdentifier of SHA-2 hash h (0: 256, 1: 384, 2: 512). */
static int
set_pss_id(OSSL_PARAM *p, int h)
{
	unsigned char der[sizeof(pss_sha256)];

	memcpy(der, pss_sha256, sizeof(der));
	der[PSS_HASH_AT] = der[PSS_MGF_HASH_AT] = (unsigned char)(1 + h);
	der[PSS_SALT_AT] = (unsigned char)(32 + 16 * h);
	return OSSL_PARAM_set_octet_string(p, der, sizeof(der));
}

/* Write the AlgorithmIdentifier DER of alg into p. */
static int
set_algorithm_id(OSSL_PARAM *p, enum sig_alg alg)
{
	X509_ALGOR *a = NULL;
	unsigned char *der = NULL;
	int nid, len, ret = 0;

	switch (alg) {
	case SIG_RSAPSS_SHA256:
		return set_pss_id(p, 0);
	case SIG_RSAPSS_SHA384:
		return set_pss_id(p, 1);
	case SIG_RSAPSS_SHA512:
		return set_pss_id(p, 2);
	case SIG_RSA_SHA256:
		nid = NID_sha256WithRSAEncryption;
		break;
	case SIG_RSA_SHA384:
		nid = NID_sha384WithRSAEncryption;
		break;
	case SIG_RSA_SHA512:
		nid = NID_sha512WithRSAEncryption;
		break;
	case SIG_ECDSA_SHA256:
		nid = NID_ecdsa_with_SHA256;
		break;
	case SIG_ECDSA_SHA384:
		nid = NID_ecdsa_with_SHA384;
		break;
	case SIG_ECDSA_SHA512:
		nid = NID_ecdsa_with_SHA512;
		break;
	default:
		return 0;
	}
	/* RFC 4055: NULL parameters for RSA; RFC 5758: absent for ECDSA. */
	if ((a = X509_ALGOR_new()) == NULL ||
	    !X509_ALGOR_set0(a, OBJ_nid2obj(nid), sig_alg_is_rsa(alg) ?
	    V_ASN1_NULL : V_ASN1_UNDEF, NULL) ||
	    (len = i2d_X509_ALGOR(a, &der)) <= 0) {
		goto out;
	}
	ret = OSSL_PARAM_set_octet_string(p, der, len);
out:
	OPENSSL_free(der);
	X509_ALGOR_free(a);
	return ret;
}

static int
sig_get_ctx_params(void *vc, OSSL_PARAM params[])
{
	struct sigctx *c = vc;
	OSSL_PARAM *p;
	enum sig_alg alg = ctx_sig_alg(c);

	if ((p = OSSL_PARAM_locate(params,
	    OSSL_SIGNATURE_PARAM_ALGORITHM_ID)) != NULL) {
		if (alg == SIG_NONE || !set_algorithm_id(p, alg)) {
			return 0;
		}
	}
	if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST)) !=
	    NULL) {
		if (c->md == NULL || !OSSL_PARAM_set_utf8_string(p,
		    EVP_MD_get0_name(c->md))) {
			return 0;
		}
	}
	if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) !=
	    NULL) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			if (!OSSL_PARAM_set_utf8_string(p,
			    c->pad == RSA_PKCS1_PSS_PADDING ?
			    OSSL_PKEY_RSA_PAD_MODE_PSS :
			    OSSL_PKEY_RSA_PAD_MODE_PKCSV15)) {
				return 0;
			}
		} else if (!OSSL_PARAM_set_int(p, c->pad)) {
			return 0;
		}
	}
	if ((p = OSSL_PARAM_locate(params,
	    OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL) {
		int sl = c->md != NULL ? EVP_MD_get_size(c->md) : c->saltlen;

		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			char buf[16];

			snprintf(buf, sizeof(buf), "%d", sl);
			if (!OSSL_PARAM_set_utf8_string(p, buf)) {
				return 0;
			}
		} else if (!OSSL_PARAM_set_int(p, sl)) {
			return 0;
		}
	}
	if ((p = OSSL_PARAM_locate(params,
	    OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL) {
		const EVP_MD *m = c->mgf1 != NULL ? c->mgf1 : c->md;

		if (m == NULL || !OSSL_PARAM_set_utf8_string(p,
		    EVP_MD_get0_name(m))) {
			return 0;
		}
	}
	return 1;
}

static const OSSL_PARAM *
sig_gettable_ctx_params(void *vc, void *provctx)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID,
		    NULL, 0),
		SIG_SETTINGS,
		OSSL_PARAM_END
	};

	return types;
}

static int
sig_sign_init(void *vc, void *kd, const OSSL_PARAM params[])
{
	struct sigctx *c = vc;
	struct pkey *pk = kd;

	if (pk != NULL) {
		if (pk->key == NULL || pk->type != c->type) {
			return 0;
		}
		c->pk = pk;
	}
	if (c->pk == NULL) {
		return 0;
	}
	return sig_set_ctx_params(c, params);
}

/* Sign md (a digest of c->md, or picked by length) on the token. */
static int
sig_sign(void *vc, unsigned char *sig, size_t *siglen, size_t sigsize,
    const unsigned char *tbs, size_t tbslen)
{
	struct sigctx *c = vc;
	EVP_PKEY *pub = hsm_key_public(c->pk->key);
	unsigned char *out = NULL;
	size_t outlen = 0;
	enum sig_alg alg;

	if (sig == NULL) {
		*siglen = EVP_PKEY_get_size(pub);
		return 1;
	}
	if (c->md == NULL) {
		const char *name = tbslen == 32 ? "SHA256" : tbslen == 48 ?
		    "SHA384" : tbslen == 64 ? "SHA512" : NULL;

		if (name == NULL || !set_md(&c->md, name)) {
			return 0;
		}
	}
	if ((alg = ctx_sig_alg(c)) == SIG_NONE) {
		ERR_raise_data(ERR_LIB_PROV, ERR_R_UNSUPPORTED,
		    "eseal-hsm: PSS needs MGF1 and salt length of the digest");
		return 0;
	}
	if (!hsm_sign_digest(c->pk->key, alg, tbs, tbslen, &out, &outlen)) {
		ERR_raise_data(ERR_LIB_PROV, ERR_R_OPERATION_FAIL,
		    "eseal-hsm: signing on the token failed");
		return 0;
	}
	if (outlen > sigsize) {
		free(out);
		return 0;
	}
	memcpy(sig, out, outlen);
	*siglen = outlen;
	free(out);
	return 1;
}

static int
sig_digest_sign_init(void *vc, const char *mdname, void *kd,
    const OSSL_PARAM params[])
{
	struct sigctx *c = vc;

	if (!sig_sign_init(c, kd, NULL)) {
		return 0;
	}
	if (mdname != NULL && mdname[0] != '\0' && !set_md(&c->md, mdname)) {
		return 0;
	}
	if (!sig_set_ctx_params(c, params)) {
		return 0;
	}
	if (c->md == NULL && !set_md(&c->md, "SHA256")) {
		return 0;
	}
	if (c->mctx == NULL && (c->mctx = EVP_MD_CTX_new()) == NULL) {
		return 0;
	}
	return EVP_DigestInit_ex2(c->mctx, c->md, NULL);
}

static int
sig_digest_sign_update(void *vc, const unsigned char *data, size_t len)
{
	struct sigctx *c = vc;

	return c->mctx != NULL && EVP_DigestUpdate(c->mctx, data, len);
}

static int
sig_digest_sign_final(void *vc, unsigned char *sig, size_t *siglen,
    size_t sigsize)
{
	struct sigctx *c = vc;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (sig == NULL) {
		return sig_sign(c, NULL, siglen, 0, NULL, 0);
	}
	if (c->mctx == NULL || !EVP_DigestFinal_ex(c->mctx, md, &mdlen)) {
		return 0;
	}
	return sig_sign(c, sig, siglen, sigsize, md, mdlen);
}

#define SIG_COMMON							\
	{ OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))sig_free },	\
	{ OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))sig_dup },	\
	{ OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void))sig_sign_init }, \
	{ OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void))sig_sign },		\
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT,				\
	    (void (*)(void))sig_digest_sign_init },			\
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE,			\
	    (void (*)(void))sig_digest_sign_update },			\
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL,			\
	    (void (*)(void))sig_digest_sign_final },			\
	{ OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS,				\
	    (void (*)(void))sig_get_ctx_params },			\
	{ OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS,			\
	    (void (*)(void))sig_gettable_ctx_params },			\
	{ OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS,				\
	    (void (*)(void))sig_set_ctx_params },			\
	{ OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS,			\
	    (void (*)(void))sig_settable_ctx_params }

/* SIG_TYPE(t, pk) defines sig_<t>, the signatures with keys of type pk. */
#define SIG_TYPE(t, pk)							\
static void *								\
sig_##t##_new(void *provctx, const char *propq)				\
{									\
	return sig_new(pk);						\
}									\
static const OSSL_DISPATCH sig_##t[] = {				\
	{ OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))sig_##t##_new },	\
	SIG_COMMON,							\
	{ 0, NULL }							\
}

SIG_TYPE(rsa, PK_RSA);
SIG_TYPE(ec, PK_EC);

/* ---- the provider ---- */

#define NAMES_RSA	"RSA:rsaEncryption:1.2.840.113549.1.1.1"
#define NAMES_EC	"EC:id-ecPublicKey:1.2.840.10045.2.1"

static const OSSL_ALGORITHM keymgmts[] = {
	{ NAMES_RSA, PROV_PROPS, km_rsa, "eseal-hsm RSA token key" },
	{ NAMES_EC, PROV_PROPS, km_ec, "eseal-hsm EC token key" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM signatures[] = {
	{ NAMES_RSA, PROV_PROPS, sig_rsa, "eseal-hsm RSA signature" },
	{ NAMES_EC, PROV_PROPS, sig_ec, "eseal-hsm ECDSA signature" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM *
prov_query(void *provctx, int op, int *no_cache)
{
	*no_cache = 0;
	switch (op) {
	case OSSL_OP_KEYMGMT:
		return keymgmts;
	case OSSL_OP_SIGNATURE:
		return signatures;
	default:
		return NULL;
	}
}

static const OSSL_DISPATCH prov_dispatch[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))prov_query },
	{ 0, NULL }
};

static int
prov_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
    const OSSL_DISPATCH **out, void **provctx)
{
	*out = prov_dispatch;
	*provctx = (void *)handle;
	return 1;
}

static void
libctx_init(void)
{
	if ((libctx = OSSL_LIB_CTX_new()) == NULL) {
		log_ssl("eseal-hsm: cannot create a library context");
		return;
	}
	if (OSSL_PROVIDER_load(libctx, "default") == NULL ||
	    !OSSL_PROVIDER_add_builtin(libctx, PROV_NAME, prov_init) ||
	    OSSL_PROVIDER_load(libctx, PROV_NAME) == NULL) {
		log_ssl("eseal-hsm: cannot load the providers");
		return;
	}
	init_ok = 1;
}

OSSL_LIB_CTX *
hsm_libctx(void)
{
	if (!CRYPTO_THREAD_run_once(&once, libctx_init) || !init_ok) {
		return NULL;
	}
	return libctx;
}

const char *
hsm_propq(void)
{
	return "?" PROV_PROPS;
}

EVP_PKEY *
hsm_provider_pkey_new(struct hsm_key *key)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[2];
	const char *type;
	enum key_alg k = hsm_key_alg(key);

	switch (k) {
	case KEY_RSA_2048:
	case KEY_RSA_3072:
	case KEY_RSA_4096:
		type = "RSA";
		break;
	case KEY_EC_P256:
	case KEY_EC_P384:
		type = "EC";
		break;
	default:
		log_warnx("key %s: ES-HSM-MECH-01: %s keys cannot be used "
		    "through the eseal-hsm provider", hsm_key_id(key),
		    key_alg_name(k));
		return NULL;
	}
	if (hsm_libctx() == NULL) {
		return NULL;
	}
	params[0] = OSSL_PARAM_construct_octet_string(PARAM_KEYREF, &key,
	    sizeof(key));
	params[1] = OSSL_PARAM_construct_end();
	if ((pctx = EVP_PKEY_CTX_new_from_name(libctx, type, PROV_PROPS)) ==
	    NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1) {
		log_ssl("key %s: cannot make the eseal-hsm key",
		    hsm_key_id(key));
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(pctx);
	return pkey;
}

int
hsm_sign_init(EVP_MD_CTX *mctx, struct hsm_key *key, enum sig_alg alg)
{
	EVP_PKEY *pkey;
	char what[64];

	snprintf(what, sizeof(what), "key %s", hsm_key_id(key));
	if (!hsm_key_check_sign(key, alg) ||
	    (pkey = hsm_key_private(key)) == NULL) {
		return 0;
	}
	return sig_ctx_init(mctx, pkey, alg, hsm_libctx(), hsm_propq(), what);
}
