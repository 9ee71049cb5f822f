/*
 * The subject key of a stored CSR for issuance: its SubjectPublicKeyInfo
 * located in the CSR's DER without decoding the CSR, decoded once with a
 * decoder context kept per key type for the whole run (creating one costs
 * more than the decoding), and copied into a certificate as DER.
 */
#ifndef ESEAL_SPKI_H
#define ESEAL_SPKI_H

#include <stddef.h>

#include <openssl/x509.h>

struct spki_decoder;

struct spki_decoder *spki_decoder_new(void);
void spki_decoder_free(struct spki_decoder *d);

/*
 * The SubjectPublicKeyInfo of the DER CertificationRequest der (exactly
 * len bytes, nothing after it): *spki points into der, *spki_len is its
 * whole encoding.  1/0 (not logged).
 */
int csr_spki(const unsigned char *der, size_t len, const unsigned char **spki,
    size_t *spki_len);

/*
 * The public key of the DER SubjectPublicKeyInfo spki (exactly len
 * bytes), decoded as d2i_PUBKEY() would (same decoders, chosen by the
 * algorithm OID).  NULL if it does not decode (OpenSSL error queued).
 */
EVP_PKEY *spki_decode(struct spki_decoder *d, const unsigned char *spki,
    size_t len);

/*
 * Give x the algorithm and public key bits of the DER SubjectPublicKeyInfo
 * spki (exactly len bytes), without decoding the key.  X509_get0_pubkey()
 * of x is NULL afterwards.  1 if x's SubjectPublicKeyInfo now encodes to
 * exactly spki; 0 if not (x's is then unusable: set it with
 * X509_set_pubkey()).  Not logged.
 */
int spki_copy_to(X509 *x, const unsigned char *spki, size_t len);

#endif
