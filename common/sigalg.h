/*
 * Signature algorithms the toolkit signs with, by stable name, and the one
 * place where an EVP_MD_CTX is set up for them (digest, RSA-PSS parameters:
 * MGF1 with the same hash, salt length = hash length).  Works for file keys
 * and for token keys from hsm/ alike (pass the key's library context and
 * property query).
 */
#ifndef ESEAL_SIGALG_H
#define ESEAL_SIGALG_H

#include <openssl/evp.h>

enum sig_alg {
	SIG_NONE = 0,
	SIG_RSA_SHA256,		/* "rsa-pkcs1-sha256" (legacy, allowed) */
	SIG_RSA_SHA384,		/* "rsa-pkcs1-sha384" */
	SIG_RSA_SHA512,		/* "rsa-pkcs1-sha512" */
	SIG_RSAPSS_SHA256,	/* "rsa-pss-sha256" (preferred for RSA) */
	SIG_RSAPSS_SHA384,	/* "rsa-pss-sha384" */
	SIG_RSAPSS_SHA512,	/* "rsa-pss-sha512" */
	SIG_ECDSA_SHA256,	/* "ecdsa-sha256" */
	SIG_ECDSA_SHA384,	/* "ecdsa-sha384" */
	SIG_ECDSA_SHA512,	/* "ecdsa-sha512" */
	SIG_ED25519,		/* "ed25519" (only if the token offers it) */
	SIG__MAX
};

/* Key algorithms for generation on a token. */
enum key_alg {
	KEY_NONE = 0,
	KEY_RSA_2048,		/* "rsa-2048" */
	KEY_RSA_3072,		/* "rsa-3072" */
	KEY_RSA_4096,		/* "rsa-4096" */
	KEY_EC_P256,		/* "ec-p256" */
	KEY_EC_P384,		/* "ec-p384" */
	KEY_ED25519,		/* "ed25519" */
	KEY__MAX
};

/* Name <-> enum; from_name returns 1/0 and logs "what: unknown ..." on 0. */
int sig_alg_from_name(const char *name, enum sig_alg *out, const char *what);
const char *sig_alg_name(enum sig_alg alg);
int key_alg_from_name(const char *name, enum key_alg *out, const char *what);
const char *key_alg_name(enum key_alg alg);

/* The digest name of alg ("SHA256"...), NULL for Ed25519. */
const char *sig_alg_digest(enum sig_alg alg);
/* 1 if alg is an RSA (PKCS#1 v1.5 or PSS) algorithm, ECDSA resp. */
int sig_alg_is_rsa(enum sig_alg alg);
int sig_alg_is_pss(enum sig_alg alg);
int sig_alg_is_ecdsa(enum sig_alg alg);
/* 1 if alg can be used with a key of type k (e.g. ECDSA-SHA384 with P-384). */
int sig_alg_fits_key(enum sig_alg alg, enum key_alg k);
/* The default signature algorithm for a key type (PSS-SHA256 for RSA...). */
enum sig_alg sig_alg_default(enum key_alg k);
/* The key_alg of a public key (RSA by size, EC by curve); KEY_NONE if none fits. */
enum key_alg key_alg_of_pkey(const EVP_PKEY *pkey);

/*
 * Initialise mctx to sign with pkey under alg: EVP_DigestSignInit_ex with
 * the digest and, for PSS, the padding parameters.  libctx/propq may be
 * NULL for file keys; token keys pass hsm_libctx()/hsm_propq().
 * Returns 1/0 (logged with what).
 */
int sig_ctx_init(EVP_MD_CTX *mctx, EVP_PKEY *pkey, enum sig_alg alg,
    OSSL_LIB_CTX *libctx, const char *propq, const char *what);

/*
 * 1 if sig over msg verifies with pub under alg (the parameters
 * sig_ctx_init() signs with), else 0.  Not logged; the OpenSSL error
 * queue is left for the caller's message.
 */
int sig_verify(EVP_PKEY *pub, enum sig_alg alg, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen);

#endif
