/*
 * The HSM policy gate as the CA applies it: before a CA key is generated
 * (and before a CA key signs), the token must be allowed for the
 * instance (production refuses SoftHSM2), mapped to a NIST CMVP
 * certificate whose effective status is Active and whose level meets the
 * policy minimum.  Every decision, pass or refuse, is audited with the
 * rule IDs and the data used.
 */
#ifndef ESEAL_GATE_H
#define ESEAL_GATE_H

#include <time.h>

#include "db.h"
#include "hsm.h"

enum gate_use {
	GATE_KEYGEN_ROOT = 0,	/* new root key */
	GATE_KEYGEN_ISSUING,	/* new issuing-CA key */
	GATE_SIGN		/* signing with an existing CA key */
};

/*
 * Check token ti for use.  On success copies the CMVP certificate number
 * and effective status into cert/status (may be NULL).  Logs and audits
 * the decision (actor, object).  1 pass, 0 refused or error.
 */
int gate_check(struct db *db, const struct hsm_token_info *ti,
    enum gate_use use, const char *actor, const char *object,
    char *cert, size_t certsz, char *status, size_t statussz);

/*
 * ES-HSM-02 (warning): if CMVP certificate cert sunsets before not_after
 * (the notAfter of a CA certificate whose key the token holds), log and
 * audit a warning and copy it to warn (may be NULL).  Never refuses.
 */
void gate_sunset_warn(struct db *db, const char *cert, time_t not_after,
    const char *actor, const char *object, char *warn, size_t warnsz);

#endif
