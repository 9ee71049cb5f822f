/*
 * Operators of an offline CA instance and dual control.  Each operator has
 * a role (officer, operator, auditor) and a passphrase stored as an scrypt
 * hash (OpenSSL 3 EVP_KDF); five consecutive failures lock the account,
 * counted atomically (a guess past the fifth is never evaluated).
 * An officer may be bound to a personal PKCS#11 card as a second factor
 * (challenge signed on the card, checked against the stored public key).
 * A quorum is M distinct authenticated officers; nobody counts twice.
 * Every authentication success and failure is written to the audit chain.
 */
#ifndef ESEAL_OPERATORS_H
#define ESEAL_OPERATORS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* ROLE_ANY: any role; ROLE_ACTOR: officer or operator (not an auditor). */
enum op_role {
	ROLE_OFFICER = 0, ROLE_OPERATOR, ROLE_AUDITOR, ROLE_ANY, ROLE_ACTOR
};

const char *op_role_name(enum op_role r);
int op_role_from_name(const char *name, enum op_role *out);

enum auth_result {
	AUTH_OK = 0,
	AUTH_UNKNOWN,		/* no such operator */
	AUTH_BAD_PASS,		/* wrong passphrase (failure counted) */
	AUTH_LOCKED,		/* locked after 5 failures */
	AUTH_WRONG_ROLE,	/* authenticated, but lacks the role */
	AUTH_NO_SECRET,		/* the secret source could not be read */
	AUTH_CARD_FAILED,	/* second factor missing or wrong */
	AUTH_ERROR		/* store error */
};

/*
 * Register an operator in the caller's open transaction (the passphrase
 * is read from pass_source, hashed with scrypt, wiped).  Refuses an
 * existing name.  1/0 (logged).
 */
int operator_add(struct db *db, const char *name, enum op_role role,
    const char *pass_source, const char *created_by);

/*
 * Authenticate name with the passphrase from pass_source (and, if the
 * operator is bound to a card, a signature by the card: card PIN from
 * card_pin_source).  Counts failures and locks at 5; success resets the
 * count.  Writes the audit entry for success or failure in its own
 * transaction (action "login").  need is the role required (ROLE_ANY for
 * any).  On AUTH_OK *op_id is set.  The reason is logged on failure as
 * "operator NAME: ES-OP-0x: ...".
 */
enum auth_result operator_authenticate(struct db *db, const char *name,
    const char *pass_source, const char *card_pin_source, enum op_role need,
    int64_t *op_id);

/*
 * Authenticate the person named by spec, "NAME=SOURCE" or
 * "NAME=SOURCE,card=SOURCE" (secret sources, never secrets; what names
 * the option in messages, e.g. "--operator"), with role need, for act
 * (recorded as the login's audit detail "for ACT").  On success *name is
 * malloc'd and *op_id set.  Returns the outcome (refusals logged and
 * audited as by operator_authenticate; a malformed spec is logged and
 * returned as AUTH_NO_SECRET).
 */
enum auth_result operator_auth_spec(struct db *db, const char *spec, const char *what,
    enum op_role need, const char *act, char **name, int64_t *op_id);

/*
 * Authenticate one person from "NAME=SRC" or "NAME=SRC,card=SRC" (any
 * role but auditor: an auditor is refused under ES-QUORUM-03 and
 * audited), what naming the act in messages.  On success *name is
 * malloc'd and *op_id set.  Refusals are logged (and audited by
 * operator_authenticate).  1/0.
 */
int auth_spec(struct db *db, const char *spec, const char *what,
    char **name, int64_t *op_id);

/* Change name's passphrase after checking the old one. 1/0. */
int operator_passwd(struct db *db, const char *name, const char *old_source,
    const char *new_source);

/* Bind name's second factor to the key id_hex on the card token (by serial) in module. 1/0. */
int operator_bind_card(struct db *db, const char *name, const char *module,
    const char *token_serial, const char *key_id_hex,
    const char *card_pin_source);

struct quorum {
	size_t	 n;
	int64_t	*ids;
	char	**names;
	char	*who;		/* "alice,bob" once gathered, owned */
};

/*
 * Gather a quorum of m distinct officers with role need.  specs are
 * "NAME=SOURCE" or "NAME=SOURCE,card=SOURCE" strings (the secret sources
 * of secret.h, never secrets); with no specs and a terminal, names and
 * passphrases are prompted for.  Refusals, each logged with rule
 * ES-QUORUM-01..03: fewer than m authenticated ("2 officers needed, 1
 * authenticated"), the same officer twice, an operator without the role.
 * action names the act for the audit entries.  1/0.
 */
int quorum_gather(struct db *db, char *const *specs, size_t nspecs, size_t m,
    enum op_role need, const char *action, struct quorum *out);
/* Free what q owns (NULL-safe); q is left empty. */
void quorum_free(struct quorum *q);
/* "alice,bob": malloc'd. */
char *quorum_names(const struct quorum *q);
/* The instance's quorum size (meta "quorum", default 2). */
size_t quorum_size(struct db *db);

#endif
