/*
 * The cas table: one row per CA of the instance (root or issuing), its
 * certificate, token, key and settings.  carow.c owns this table's SQL;
 * other modules read and write CA rows through these functions (ca_key
 * of ca.h opens a CA's key on its token from such a row).
 */
#ifndef ESEAL_CAROW_H
#define ESEAL_CAROW_H

#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "db.h"
#include "hsm.h"

/* A CA's row (no token opened). */
struct ca_row {
	int64_t	 id;
	char	*name;
	char	*kind;
	char	*status;
	char	*sig_alg;
	X509	*cert;		/* NULL while pending */
	json_t	*settings;	/* never NULL */
};

/* Load CA name's row.  NULL if absent (logged) or on error. */
struct ca_row *ca_row_load(struct db *db, const char *name);
struct ca_row *ca_row_load_id(struct db *db, int64_t id);
void ca_row_free(struct ca_row *c);
/* A string setting of the CA ("crl-url"...), or NULL. */
const char *ca_setting(const struct ca_row *c, const char *key);

/* Whether CA name is in the store: 1 yes, 0 no, -1 error (logged). */
int carow_exists(struct db *db, const char *name);

/* A new CA's row, as a ceremony makes it. */
struct carow_new {
	const char			*name;
	const char			*kind;		/* "root" / "issuing" */
	int64_t				 parent_id;	/* 0: none */
	const char			*status;	/* "active" / "pending" */
	const unsigned char		*cert_der;	/* NULL while pending */
	int				 cert_der_len;
	const char			*cert_sha256;
	const char			*subject;
	const char			*not_before, *not_after;
	const char			*key_alg, *sig_alg;
	const char			*module_path;
	const struct hsm_token_info	*ti;
	const char			*hw, *fw;
	const char			*key_id, *key_label;
	const struct hsm_provenance	*prov;
	const char			*cmvp_cert, *cmvp_status;
	const char			*ceremony_id;
	const char			*settings;	/* JSON text */
	const char			*created;
};

/*
 * Insert the row of a new CA (in the caller's transaction).  Its id, or
 * 0 on error (logged).
 */
int64_t carow_insert(struct db *db, const struct carow_new *row);

/*
 * CA id's status ("active", "pending", "revoked", "retired"), malloc'd;
 * NULL if absent or on error.
 */
char *carow_status(struct db *db, int64_t id);

/*
 * Record that CA id's key is destroyed at time now: a revoked CA stays
 * revoked, any other turns retired (in the caller's transaction).  1/0.
 */
int carow_set_key_destroyed(struct db *db, int64_t id, const char *now);

/*
 * Install the certificate (DER, its SHA-256 hex, validity) of pending CA
 * id, which turns active (in the caller's transaction).  1/0; 0 also if
 * the CA has a certificate already.
 */
int carow_set_certificate(struct db *db, int64_t id, const unsigned char *der,
    int len, const char *sha256, const char *not_before,
    const char *not_after);

/*
 * Mark active or retired CA id revoked, with its new settings JSON text
 * (which carries the revocation), in the caller's transaction.  1/0; 0
 * also if the CA was in no such state.
 */
int carow_set_revoked(struct db *db, int64_t id, const char *settings);

/* Where a CA's key lives, as its row records it (all malloc'd). */
struct carow_token {
	int64_t	 id;
	char	*kind;
	char	*module_path;
	char	*token_serial;
	char	*key_id;
	char	*manufacturer, *model;	/* of the token the key was made on */
	char	*sig_alg;
	char	*key_destroyed;		/* NULL unless destroyed: when */
	X509	*cert;			/* NULL while pending */
};

/*
 * CA name's key location into t.  1 found, 0 no such CA (logged as "ca
 * NAME: no such CA in STORE"), -1 error (logged).  Release t with
 * carow_token_clear() whatever the result.
 */
int carow_token_load(struct db *db, const char *name, struct carow_token *t);
void carow_token_clear(struct carow_token *t);

/*
 * CA name's certificate into *out.  1 found, 0 no such CA or no
 * certificate yet (not logged), -1 error (logged, also an unreadable
 * stored certificate).
 */
int carow_cert_load(struct db *db, const char *name, X509 **out);

/* A CA's kind, status and settings (JSON text), all malloc'd. */
struct carow_state {
	int64_t	 id;
	char	*kind;
	char	*status;
	char	*settings;
};

/*
 * CA name's state into cs.  1 found, 0 no such CA (not logged), -1 error
 * (logged).  Release cs with carow_state_clear() whatever the result.
 */
int carow_state_load(struct db *db, const char *name, struct carow_state *cs);
void carow_state_clear(struct carow_state *cs);

#endif
