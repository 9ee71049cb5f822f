/*
 * More sessions on a logged-in token, so that several threads sign at
 * once: a session runs one cryptographic operation at a time, and a key
 * pair's object handles and the user's login hold for every session of
 * the application on that token (PKCS#11 2.40, 5.6 and 6.7.1).  The
 * module is initialised with CKF_OS_LOCKING_OK (p11.c), so that its
 * functions may be called from several threads.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "p11-int.h"
#include "log.h"
#include "util.h"

struct hsm_key *
hsm_key_session(struct hsm_key *key)
{
	struct hsm_token *tok = NULL;
	struct hsm_key *k = NULL;
	CK_RV rv;

	if ((tok = calloc(1, sizeof(*tok))) == NULL ||
	    (k = calloc(1, sizeof(*k))) == NULL) {
		fatalx("out of memory");
	}
	tok->mod = key->tok->mod;
	tok->info = key->tok->info;
	/* Signing only: a read-only session in the user's state will do. */
	rv = tok->mod->f->C_OpenSession(tok->info.slot_id, CKF_SERIAL_SESSION,
	    NULL, NULL, &tok->sess);
	if (rv != CKR_OK) {
		log_debug("token %s: another session: C_OpenSession: %s",
		    tok->info.label, hsm_rv_name(rv));
		free(tok);
		free(k);
		return NULL;
	}
	k->tok = tok;
	k->own_tok = 1;
	k->priv = key->priv;
	k->pub = key->pub;
	k->alg = key->alg;
	k->id_hex = xstrdup(key->id_hex);
	k->label = xstrdup(key->label);
	if (key->pub_pkey != NULL) {
		if (!EVP_PKEY_up_ref(key->pub_pkey)) {
			fatalx("EVP_PKEY_up_ref");
		}
		k->pub_pkey = key->pub_pkey;
	}
	return k;
}
