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

/* The PKCS#11 mechanism name ("CKM_RSA_PKCS_PSS") or NULL if unknown. */
const char *hsm_mech_name(unsigned long type);

#endif
