/*
 * Internals shared by the PKCS#11 layer (p11.c) and the in-process
 * OpenSSL provider (provider.c).  Nothing outside hsm/ includes this.
 */
#ifndef ESEAL_HSM_INT_H
#define ESEAL_HSM_INT_H

#include <openssl/evp.h>

#include "hsm.h"

/*
 * Make the EVP_PKEY whose private operations run on the token through the
 * eseal-hsm provider.  The EVP_PKEY refers to key without owning it, so
 * it must be freed before key (hsm_key_free does this).  NULL (logged)
 * on failure or for a key type the provider does not offer.
 */
EVP_PKEY *hsm_provider_pkey_new(struct hsm_key *key);

/*
 * 1 if alg fits key's type and the token has the signing mechanism;
 * otherwise 0, logged ("ES-HSM-MECH-01: mechanism CKM_X not supported").
 */
int hsm_key_check_sign(struct hsm_key *key, enum sig_alg alg);

/*
 * Try to read the private key's secret attributes (CKA_VALUE,
 * CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2).  Returns 1 if any of
 * them can be read (a key that must never be used by eseal), 0 if the
 * token refuses them all.  why receives each attribute's PKCS#11 result,
 * e.g. "CKA_VALUE: CKR_ATTRIBUTE_SENSITIVE, ...".  Not logged.
 */
int hsm_key_secret_readable(struct hsm_key *key, char *why, size_t whysz);

/* The PKCS#11 mechanism name ("CKM_RSA_PKCS_PSS") or NULL if unknown. */
const char *hsm_mech_name(unsigned long type);

#endif
