/*
 * Signature and key algorithm names, and EVP_MD_CTX set-up for signing,
 * shared by the CA (token keys) and the OCSP signer (file or token keys).
 */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "log.h"
#include "sigalg.h"

static const struct {
	enum sig_alg	 alg;
	const char	*name;
	const char	*md;
} sigs[] = {
	{ SIG_RSA_SHA256, "rsa-pkcs1-sha256", "SHA256" },
	{ SIG_RSA_SHA384, "rsa-pkcs1-sha384", "SHA384" },
	{ SIG_RSA_SHA512, "rsa-pkcs1-sha512", "SHA512" },
	{ SIG_RSAPSS_SHA256, "rsa-pss-sha256", "SHA256" },
	{ SIG_RSAPSS_SHA384, "rsa-pss-sha384", "SHA384" },
	{ SIG_RSAPSS_SHA512, "rsa-pss-sha512", "SHA512" },
	{ SIG_ECDSA_SHA256, "ecdsa-sha256", "SHA256" },
	{ SIG_ECDSA_SHA384, "ecdsa-sha384", "SHA384" },
	{ SIG_ECDSA_SHA512, "ecdsa-sha512", "SHA512" },
	{ SIG_ED25519, "ed25519", NULL },
};

static const struct {
	enum key_alg	 alg;
	const char	*name;
} keys[] = {
	{ KEY_RSA_2048, "rsa-2048" },
	{ KEY_RSA_3072, "rsa-3072" },
	{ KEY_RSA_4096, "rsa-4096" },
	{ KEY_EC_P256, "ec-p256" },
	{ KEY_EC_P384, "ec-p384" },
	{ KEY_ED25519, "ed25519" },
};

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

int
sig_alg_from_name(const char *name, enum sig_alg *out, const char *what)
{
	size_t i;

	for (i = 0; name != NULL && i < NITEMS(sigs); i++) {
		if (strcmp(sigs[i].name, name) == 0) {
			*out = sigs[i].alg;
			return 1;
		}
	}
	log_warnx("%s: unknown signature algorithm \"%s\" (known: "
	    "rsa-pss-sha256/384/512, rsa-pkcs1-sha256/384/512, "
	    "ecdsa-sha256/384/512, ed25519)", what, name ? name : "");
	return 0;
}

const char *
sig_alg_name(enum sig_alg alg)
{
	size_t i;

	for (i = 0; i < NITEMS(sigs); i++) {
		if (sigs[i].alg == alg) {
			return sigs[i].name;
		}
	}
	return "none";
}

const char *
sig_alg_digest(enum sig_alg alg)
{
	size_t i;

	for (i = 0; i < NITEMS(sigs); i++) {
		if (sigs[i].alg == alg) {
			return sigs[i].md;
		}
	}
	return NULL;
}

int
key_alg_from_name(const char *name, enum key_alg *out, const char *what)
{
	size_t i;

	for (i = 0; name != NULL && i < NITEMS(keys); i++) {
		if (strcmp(keys[i].name, name) == 0) {
			*out = keys[i].alg;
			return 1;
		}
	}
	log_warnx("%s: unknown key algorithm \"%s\" (known: rsa-2048, "
	    "rsa-3072, rsa-4096, ec-p256, ec-p384, ed25519)", what,
	    name ? name : "");
	return 0;
}

const char *
key_alg_name(enum key_alg alg)
{
	size_t i;

	for (i = 0; i < NITEMS(keys); i++) {
		if (keys[i].alg == alg) {
			return keys[i].name;
		}
	}
	return "none";
}

int
sig_alg_is_rsa(enum sig_alg alg)
{
	return alg >= SIG_RSA_SHA256 && alg <= SIG_RSAPSS_SHA512;
}

int
sig_alg_is_pss(enum sig_alg alg)
{
	return alg >= SIG_RSAPSS_SHA256 && alg <= SIG_RSAPSS_SHA512;
}

int
sig_alg_is_ecdsa(enum sig_alg alg)
{
	return alg >= SIG_ECDSA_SHA256 && alg <= SIG_ECDSA_SHA512;
}

int
sig_alg_fits_key(enum sig_alg alg, enum key_alg k)
{
	switch (k) {
	case KEY_RSA_2048:
	case KEY_RSA_3072:
	case KEY_RSA_4096:
		return sig_alg_is_rsa(alg);
	case KEY_EC_P256:
		/* ES-ALG: ECDSA hashes match the curve (TS 119 312). */
		return alg == SIG_ECDSA_SHA256;
	case KEY_EC_P384:
		return alg == SIG_ECDSA_SHA384;
	case KEY_ED25519:
		return alg == SIG_ED25519;
	default:
		return 0;
	}
}

enum sig_alg
sig_alg_default(enum key_alg k)
{
	switch (k) {
	case KEY_RSA_2048:
	case KEY_RSA_3072:
		return SIG_RSAPSS_SHA256;
	case KEY_RSA_4096:
		return SIG_RSAPSS_SHA384;
	case KEY_EC_P256:
		return SIG_ECDSA_SHA256;
	case KEY_EC_P384:
		return SIG_ECDSA_SHA384;
	case KEY_ED25519:
		return SIG_ED25519;
	default:
		return SIG_NONE;
	}
}

enum key_alg
key_alg_of_pkey(const EVP_PKEY *pkey)
{
	char curve[64];
	size_t len;

	if (EVP_PKEY_is_a(pkey, "RSA")) {
		switch (EVP_PKEY_get_bits(pkey)) {
		case 2048:
			return KEY_RSA_2048;
		case 3072:
			return KEY_RSA_3072;
		case 4096:
			return KEY_RSA_4096;
		default:
			return KEY_NONE;
		}
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (!EVP_PKEY_get_utf8_string_param(pkey,
		    OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), &len)) {
			return KEY_NONE;
		}
		if (strcmp(curve, "prime256v1") == 0) {
			return KEY_EC_P256;
		}
		if (strcmp(curve, "secp384r1") == 0) {
			return KEY_EC_P384;
		}
		return KEY_NONE;
	}
	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		return KEY_ED25519;
	}
	return KEY_NONE;
}

/*
 * Set up mctx to sign (verify 0) or verify (verify 1) under alg with pkey:
 * the digest and, for PSS, salt length = digest length and MGF1 with the
 * same digest.  The one place both directions take their parameters
 * from.  1/0, errors left on the OpenSSL queue.
 */
static int
md_ctx_init(EVP_MD_CTX *mctx, EVP_PKEY *pkey, enum sig_alg alg,
    OSSL_LIB_CTX *libctx, const char *propq, int verify)
{
	OSSL_PARAM params[4], *p = params;
	const char *md = sig_alg_digest(alg);
	char pad[] = OSSL_PKEY_RSA_PAD_MODE_PSS;
	char salt[] = OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST;
	char mgfmd[16];

	if (sig_alg_is_pss(alg)) {
		strncpy(mgfmd, md, sizeof(mgfmd) - 1);
		mgfmd[sizeof(mgfmd) - 1] = '\0';
		*p++ = OSSL_PARAM_construct_utf8_string(
		    OSSL_SIGNATURE_PARAM_PAD_MODE, pad, 0);
		*p++ = OSSL_PARAM_construct_utf8_string(
		    OSSL_SIGNATURE_PARAM_PSS_SALTLEN, salt, 0);
		*p++ = OSSL_PARAM_construct_utf8_string(
		    OSSL_SIGNATURE_PARAM_MGF1_DIGEST, mgfmd, 0);
	}
	*p = OSSL_PARAM_construct_end();
	if (verify) {
		return EVP_DigestVerifyInit_ex(mctx, NULL, md, libctx, propq,
		    pkey, params) == 1;
	}
	return EVP_DigestSignInit_ex(mctx, NULL, md, libctx, propq, pkey,
	    params) == 1;
}

int
sig_ctx_init(EVP_MD_CTX *mctx, EVP_PKEY *pkey, enum sig_alg alg,
    OSSL_LIB_CTX *libctx, const char *propq, const char *what)
{
	if (alg == SIG_NONE || alg >= SIG__MAX) {
		log_warnx("%s: no signature algorithm", what);
		return 0;
	}
	if (!md_ctx_init(mctx, pkey, alg, libctx, propq, 0)) {
		log_ssl("%s: cannot sign with %s", what, sig_alg_name(alg));
		return 0;
	}
	return 1;
}

int
sig_verify(EVP_PKEY *pub, enum sig_alg alg, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *mctx = NULL;
	int ret = 0;

	if (alg == SIG_NONE || alg >= SIG__MAX || pub == NULL) {
		return 0;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL) {
		fatalx("out of memory");
	}
	if (md_ctx_init(mctx, pub, alg, NULL, NULL, 1) &&
	    EVP_DigestVerify(mctx, sig, siglen, msg, msglen) == 1) {
		ret = 1;
	}
	EVP_MD_CTX_free(mctx);
	return ret;
}
