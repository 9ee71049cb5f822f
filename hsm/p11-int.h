/*
 * The PKCS#11 side's objects, shared by p11.c and session.c (more
 * sessions on a token): module, token session and key pair handles.
 * Includes the PKCS#11 header: nothing outside hsm/ includes this.
 */
#ifndef ESEAL_P11_INT_H
#define ESEAL_P11_INT_H

#include <p11-kit/pkcs11.h>

#include "hsm-int.h"

struct hsm_module {
	void			*dl;
	CK_FUNCTION_LIST	*f;
	char			*path;
	int			 finalize;	/* we initialised it */
};

struct hsm_token {
	struct hsm_module	*mod;
	CK_SESSION_HANDLE	 sess;
	struct hsm_token_info	 info;
	int			 logged_in;
};

struct hsm_key {
	struct hsm_token	*tok;
	int			 own_tok;	/* tok is a session of its own */
	CK_OBJECT_HANDLE	 priv, pub;
	enum key_alg		 alg;
	char			*id_hex;
	char			*label;
	EVP_PKEY		*pub_pkey;
	EVP_PKEY		*priv_pkey;	/* provider key, lazily made */
};

/* The name of a CK_RV ("CKR_PIN_INCORRECT"), or its value in hex. */
const char *hsm_rv_name(unsigned long rv);

#endif
