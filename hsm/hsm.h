/*
 * The HSM layer: the only code in eseal that includes PKCS#11 headers.
 * It loads any PKCS#11 module by path, lists its tokens and mechanisms,
 * logs in with a PIN from a secret source (never argv, wiped after use,
 * never cached), generates non-extractable key pairs on the token, reads
 * back their provenance attributes, and hands out EVP_PKEYs whose private
 * operations run on the token through an in-process OpenSSL 3 provider
 * ("eseal-hsm"), so that OpenSSL does all the ASN.1 (X509_sign_ctx,
 * X509_CRL_sign_ctx, OCSP_basic_sign_ctx, CMS).
 *
 * Ownership: a module outlives its tokens, a token outlives its keys.
 * Every _free()/_close() accepts NULL.  Errors are logged once, here.
 */
#ifndef ESEAL_HSM_H
#define ESEAL_HSM_H

#include <stddef.h>

#include <openssl/evp.h>

#include "sigalg.h"

struct hsm_module;
struct hsm_token;
struct hsm_key;

/* Token identity as reported by C_GetTokenInfo/C_GetInfo (blanks stripped). */
struct hsm_token_info {
	unsigned long	slot_id;
	char		label[33];
	char		manufacturer[33];
	char		model[17];
	char		serial[17];
	unsigned int	hw_major, hw_minor;
	unsigned int	fw_major, fw_minor;
	unsigned long	flags;			/* CK_TOKEN_INFO.flags */
	int		error_state;		/* CKF_ERROR_STATE set */
	char		lib_manufacturer[33];	/* CK_INFO.manufacturerID */
	char		lib_description[33];	/* CK_INFO.libraryDescription */
	unsigned int	lib_major, lib_minor;
	unsigned int	cryptoki_major, cryptoki_minor;
	/* PKCS#11 3.2 validation object naming a NIST CMVP certificate, or "". */
	char		cmvp_cert[32];
};

struct hsm_mech {
	unsigned long	type;		/* CKM_* value */
	char		name[48];	/* "CKM_RSA_PKCS_PSS", or "0x..." if unknown */
	unsigned long	min_key, max_key;
	unsigned long	flags;		/* CKF_SIGN, CKF_GENERATE_KEY_PAIR ... */
};

/* Provenance attributes read back from the private key (ES-KEY-01). */
struct hsm_provenance {
	int	token, private_, sensitive;
	int	local, always_sensitive, never_extractable, extractable;
	unsigned long keygen_mech;	/* CKA_KEY_GEN_MECHANISM, or ~0UL */
};

enum hsm_login_result {
	HSM_LOGIN_OK = 0,
	HSM_LOGIN_BAD_PIN,	/* CKR_PIN_INCORRECT / CKR_PIN_INVALID / CKR_PIN_LEN_RANGE */
	HSM_LOGIN_LOCKED,	/* CKR_PIN_LOCKED */
	HSM_LOGIN_NO_SECRET,	/* the PIN source could not be read */
	HSM_LOGIN_ERROR		/* anything else */
};

/* Load a module by path and C_Initialize it.  NULL on failure (logged). */
struct hsm_module *hsm_module_load(const char *path);
void hsm_module_free(struct hsm_module *mod);

/* Tokens present in the module's slots; *out is malloc'd (free()). 1/0. */
int hsm_module_tokens(struct hsm_module *mod, struct hsm_token_info **out,
    size_t *n);
/* Mechanisms of the token in slot; *out is malloc'd (free()). 1/0. */
int hsm_module_mechanisms(struct hsm_module *mod, unsigned long slot,
    struct hsm_mech **out, size_t *n);

/*
 * Open a R/W session on the one token whose label (or, if label is NULL,
 * serial) matches exactly.  Refuses (NULL, logged): no such token ("no
 * token labelled X in MODULE"), several matches, a token in
 * CKF_ERROR_STATE (fail closed), an uninitialised token.
 */
struct hsm_token *hsm_token_open(struct hsm_module *mod, const char *label,
    const char *serial);
/* Log out (if logged in) and close the session. */
void hsm_token_close(struct hsm_token *tok);
const struct hsm_token_info *hsm_token_get_info(const struct hsm_token *tok);

/*
 * Read the user PIN from pin_source (see secret.h), C_Login as CKU_USER,
 * wipe the PIN.  The result says why a login failed (logged as well).
 */
enum hsm_login_result hsm_token_login(struct hsm_token *tok,
    const char *pin_source);

/* 1 if the token can generate keys of type k / sign with alg, else 0 (not logged). */
int hsm_token_can_generate(struct hsm_token *tok, enum key_alg k);
int hsm_token_can_sign(struct hsm_token *tok, enum sig_alg alg);

/*
 * Generate a key pair of type k on the (logged-in) token with a fresh
 * random 16-byte CKA_ID and the given CKA_LABEL; the private key has
 * CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true and CKA_EXTRACTABLE false.
 * Refuses an unsupported mechanism naming it.  NULL on failure.
 */
struct hsm_key *hsm_key_generate(struct hsm_token *tok, enum key_alg k,
    const char *label);
/* Find a key pair by its CKA_ID in hex.  NULL (logged) if absent. */
struct hsm_key *hsm_key_find(struct hsm_token *tok, const char *id_hex);
void hsm_key_free(struct hsm_key *key);

const char *hsm_key_id(const struct hsm_key *key);	/* hex CKA_ID */
const char *hsm_key_label(const struct hsm_key *key);
enum key_alg hsm_key_alg(const struct hsm_key *key);
/* Read CKA_LOCAL, CKA_ALWAYS_SENSITIVE, ... from the private key. 1/0. */
int hsm_key_provenance(struct hsm_key *key, struct hsm_provenance *out);
/* get0: the public key as a plain (default provider) EVP_PKEY. */
EVP_PKEY *hsm_key_public(struct hsm_key *key);
/* get0: an EVP_PKEY whose private operations run on the token. */
EVP_PKEY *hsm_key_private(struct hsm_key *key);
/*
 * The same key pair on a session of its own on key's token, for a thread
 * that signs while key's session signs something else (a session runs
 * one operation at a time).  It is logged in as key's session is (a
 * login holds for all of an application's sessions on a token);
 * hsm_key_free() closes its session without logging out.  Free it before
 * key's token is closed.  NULL if the token opens no further session:
 * not logged, the caller does with the sessions it has.
 */
struct hsm_key *hsm_key_session(struct hsm_key *key);
/* Destroy both objects on the token (C_DestroyObject) and free key. 1/0. */
int hsm_key_destroy(struct hsm_key *key);

/*
 * Set up mctx to sign with a token key under alg (wraps sig_ctx_init with
 * the provider's library context).  1/0, logged.
 */
int hsm_sign_init(EVP_MD_CTX *mctx, struct hsm_key *key, enum sig_alg alg);
/*
 * Sign a precomputed digest (of alg's hash) on the token: PKCS#1 v1.5
 * DigestInfo, PSS, or DER ECDSA-Sig-Value.  *sig is malloc'd.  1/0.
 * Used by streaming signers (CRLs) that hash the TBS as they write it.
 */
int hsm_sign_digest(struct hsm_key *key, enum sig_alg alg,
    const unsigned char *md, size_t mdlen, unsigned char **sig, size_t *siglen);

/* Library context and property query holding the eseal-hsm provider. */
OSSL_LIB_CTX *hsm_libctx(void);
const char *hsm_propq(void);

#endif
