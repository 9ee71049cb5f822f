/*
 * Test-only software signing keys for the store tests: load a PEM key and
 * its certificate, and sign audit heads with them through the same
 * audit_sign_fn interface the CA uses with a token key.
 */
#ifndef ESEAL_TESTKEY_H
#define ESEAL_TESTKEY_H

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "log.h"
#include "sigalg.h"
#include "util.h"

struct testkey {
	EVP_PKEY	*pkey;
	X509		*cert;
	enum sig_alg	 alg;
	char		 cert_sha256[65];
};

static inline void
testkey_free(struct testkey *k)
{
	if (k == NULL) {
		return;
	}
	EVP_PKEY_free(k->pkey);
	X509_free(k->cert);
	free(k);
}

static inline X509 *
testkey_load_cert(const char *path)
{
	X509 *x = NULL;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	if ((x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		log_ssl("%s: cannot read certificate", path);
	}
	fclose(f);
	return x;
}

/* Load keyfile and certfile (PEM); alg is the default for the key. */
static inline struct testkey *
testkey_load(const char *keyfile, const char *certfile)
{
	struct testkey *k;
	unsigned char *der = NULL;
	FILE *f;
	int len;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		fatalx("out of memory");
	}
	if ((f = fopen(keyfile, "r")) == NULL) {
		log_warn("%s", keyfile);
		goto fail;
	}
	k->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k->pkey == NULL) {
		log_ssl("%s: cannot read key", keyfile);
		goto fail;
	}
	if ((k->cert = testkey_load_cert(certfile)) == NULL) {
		goto fail;
	}
	if ((k->alg = sig_alg_default(key_alg_of_pkey(k->pkey))) == SIG_NONE) {
		log_warnx("%s: unsupported key", keyfile);
		goto fail;
	}
	if ((len = i2d_X509(k->cert, &der)) <= 0) {
		goto fail;
	}
	sha256_hex(der, (size_t)len, k->cert_sha256);
	OPENSSL_free(der);
	return k;
fail:
	testkey_free(k);
	return NULL;
}

/* audit_sign_fn over a struct testkey. */
static inline int
testkey_sign(void *arg, const unsigned char *msg, size_t msglen,
    unsigned char **sig, size_t *siglen)
{
	struct testkey *k = arg;
	EVP_MD_CTX *mctx = NULL;
	size_t len = 0;
	int ret = 0;

	*sig = NULL;
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    !sig_ctx_init(mctx, k->pkey, k->alg, NULL, NULL, "test key")) {
		goto out;
	}
	if (EVP_DigestSign(mctx, NULL, &len, msg, msglen) != 1 ||
	    (*sig = malloc(len)) == NULL ||
	    EVP_DigestSign(mctx, *sig, &len, msg, msglen) != 1) {
		log_ssl("test key: sign");
		free(*sig);
		*sig = NULL;
		goto out;
	}
	*siglen = len;
	ret = 1;
out:
	EVP_MD_CTX_free(mctx);
	return ret;
}

#endif
