/*
 * Fuzz target for the CSR subject key reader of "eseal-ca issue"
 * (ca/spki.c): csr_spki() locates the SubjectPublicKeyInfo in the stored
 * CSR's DER, spki_decode() decodes it with the run's decoder contexts,
 * spki_copy_to() copies it into a certificate.  Differential: when
 * d2i_X509_REQ() reads the input with a public key, ours must read the
 * same key (EVP_PKEY_eq), and a certificate's SPKI that spki_copy_to()
 * accepts must encode to the located bytes; a mismatch aborts.  The seeds are tests/corpus/
 * fuzz_csr_spki/ (P-256, explicit P-256, RSA, Ed25519 CSRs).  Built with
 * -fsanitize=fuzzer it is a libFuzzer target; tests/test-spki-fuzz.c is
 * the make check driver.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "spki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* For the driver: inputs [0] refused, [1] decoded. */
unsigned long fuzz_spki_seen[2];

static struct spki_decoder *dec;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *spki = NULL, *p = data;
	unsigned char *der = NULL;
	size_t len = 0;
	EVP_PKEY *pk = NULL;
	X509_REQ *req = NULL;
	X509 *x = NULL;
	int dlen = 0;

	if (dec == NULL && (dec = spki_decoder_new()) == NULL) {
		abort();
	}
	if (csr_spki(data, size, &spki, &len)) {
		if (spki < data || spki + len > data + size) {
			abort();
		}
		pk = spki_decode(dec, spki, len);
	}
	fuzz_spki_seen[pk != NULL]++;
	req = d2i_X509_REQ(NULL, &p, (long)size);
	if (req != NULL && p == data + size &&
	    X509_REQ_get0_pubkey(req) != NULL &&
	    (pk == NULL || EVP_PKEY_eq(pk, X509_REQ_get0_pubkey(req)) != 1)) {
		abort();
	}
	if (pk != NULL) {
		if ((x = X509_new()) == NULL) {
			abort();
		}
		if (spki_copy_to(x, spki, len) && ((dlen = i2d_X509_PUBKEY(
		    X509_get_X509_PUBKEY(x), &der)) <= 0 || (size_t)dlen !=
		    len || memcmp(der, spki, len) != 0)) {
			abort();
		}
	}
	OPENSSL_free(der);
	X509_free(x);
	X509_REQ_free(req);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return 0;
}
