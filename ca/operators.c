/*
 * Operators and dual control.  Passphrases are stored as scrypt hashes
 * ("scrypt$N$r$p$salthex$hashhex", OpenSSL's EVP_PBE_scrypt) and compared
 * in constant time; five consecutive wrong passphrases lock the account.
 * Each evaluation is reserved first, in one transaction that counts it as
 * a failure until the passphrase is found right: parallel guesses cannot
 * get past the limit, and a locked account answers a right and a wrong
 * passphrase alike without evaluating either.
 * An operator bound to a PKCS#11 card must also sign a fresh random
 * challenge on it, checked against the public key stored at binding.
 * Every login attempt is recorded in the audit chain in its own
 * transaction, so that a refusal stays on record when the caller then
 * gives up.  A quorum is M distinct officers who all authenticated.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "audit.h"
#include "db.h"
#include "hsm/hsm.h"
#include "i18n.h"
#include "log.h"
#include "operators.h"
#include "secret.h"
#include "sigalg.h"
#include "util.h"

#define SCRYPT_N	32768	/* 2^15: about 0.1 s and 32 MiB */
#define SCRYPT_R	8
#define SCRYPT_P	1
#define SALT_LEN	16
#define HASH_LEN	32
#define MAX_FAILURES	5
#define MIN_PASS_CHARS	12
#define NAME_MAX_LEN	64
#define CHALLENGE_LEN	32
#define REASON_LEN	256

static const char *const role_names[] = {
	[ROLE_OFFICER] = "officer",
	[ROLE_OPERATOR] = "operator",
	[ROLE_AUDITOR] = "auditor",
	[ROLE_ANY] = "any",
	[ROLE_ACTOR] = "officer or operator",
};

const char *
op_role_name(enum op_role r)
{
	if ((unsigned int)r >= sizeof(role_names) / sizeof(role_names[0])) {
		return "?";
	}
	return role_names[r];
}

int
op_role_from_name(const char *name, enum op_role *out)
{
	int r;

	for (r = ROLE_OFFICER; r <= ROLE_AUDITOR; r++) {
		if (strcmp(name, role_names[r]) == 0) {
			*out = (enum op_role)r;
			return 1;
		}
	}
	log_warnx("%s: unknown role (officer, operator or auditor)", name);
	return 0;
}

/* A role in quorum messages: "officer", n == 1, or "officers". */
static const char *
role_plural(enum op_role r, size_t n)
{
	switch (r) {
	case ROLE_OFFICER:
		return n == 1 ? "officer" : "officers";
	case ROLE_AUDITOR:
		return n == 1 ? "auditor" : "auditors";
	default:
		return n == 1 ? "operator" : "operators";
	}
}

/*
 * Operator names appear in quorum lists ("alice,bob") and specs
 * ("alice=env:P"), so they are restricted to a safe alphabet.
 */
static int
name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > NAME_MAX_LEN) {
		return 0;
	}
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-' || c == '@')) {
			return 0;
		}
	}
	return 1;
}

/* Characters of a UTF-8 string (continuation bytes not counted). */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80) {
			n++;
		}
	}
	return n;
}

/*
 * scrypt of pass into out (outlen bytes).  The memory bound is the scrypt
 * KDF's own default (1025 MiB), which EVP_PBE_scrypt() would otherwise
 * lower to 32 MiB.  1/0 (logged).
 */
static int
scrypt_derive(const char *pass, const unsigned char *salt, size_t saltlen,
    uint64_t n, uint32_t r, uint32_t p, unsigned char *out, size_t outlen,
    const char *what)
{
	if (EVP_PBE_scrypt(pass, strlen(pass), salt, saltlen, n, r, p,
	    (uint64_t)1025 * 1024 * 1024, out, outlen) != 1) {
		log_ssl("%s: scrypt failed", what);
		return 0;
	}
	return 1;
}

/* The stored form of pass with a fresh salt; malloc'd, NULL if logged. */
static char *
pass_hash(const char *pass, const char *what)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char *salthex = NULL, *hashhex = NULL, *ret = NULL;

	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		log_ssl("%s: no random salt", what);
		goto out;
	}
	if (!scrypt_derive(pass, salt, sizeof(salt), SCRYPT_N, SCRYPT_R,
	    SCRYPT_P, hash, sizeof(hash), what)) {
		goto out;
	}
	salthex = hex_encode(salt, sizeof(salt));
	hashhex = hex_encode(hash, sizeof(hash));
	if (asprintf(&ret, "scrypt$%d$%d$%d$%s$%s", SCRYPT_N, SCRYPT_R,
	    SCRYPT_P, salthex, hashhex) == -1) {
		fatalx("out of memory");
	}
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	free(salthex);
	free(hashhex);
	return ret;
}

static int
parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9') {
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max) {
		return 0;
	}
	*out = v;
	return 1;
}

enum pass_check { PASS_MATCH, PASS_MISMATCH, PASS_ERROR };

/*
 * Compare pass with a stored hash.  The parameters are bounded so that a
 * tampered store cannot make us spend unbounded memory or time.
 */
static enum pass_check
pass_verify(const char *pass, const char *stored, const char *what)
{
	char *copy = NULL, *field[6], *p, *s;
	unsigned char *salt = NULL, *want = NULL, got[64];
	size_t saltlen = 0, wantlen = 0, i = 0;
	unsigned long n, r, par;
	enum pass_check ret = PASS_ERROR;

	if ((copy = strdup(stored)) == NULL) {
		fatalx("out of memory");
	}
	for (s = copy; i < 6 && (p = strsep(&s, "$")) != NULL; i++) {
		field[i] = p;
	}
	if (i != 6 || s != NULL || strcmp(field[0], "scrypt") != 0 ||
	    !parse_ulong(field[1], 1UL << 20, &n) || n < 2 ||
	    (n & (n - 1)) != 0 || !parse_ulong(field[2], 32, &r) || r == 0 ||
	    !parse_ulong(field[3], 16, &par) || par == 0 ||
	    (salt = hex_decode(field[4], &saltlen)) == NULL || saltlen == 0 ||
	    (want = hex_decode(field[5], &wantlen)) == NULL ||
	    wantlen < 16 || wantlen > sizeof(got)) {
		log_warnx("%s: stored passphrase hash is malformed", what);
		goto out;
	}
	if (!scrypt_derive(pass, salt, saltlen, n, (uint32_t)r,
	    (uint32_t)par, got, wantlen, what)) {
		goto out;
	}
	ret = CRYPTO_memcmp(got, want, wantlen) == 0 ? PASS_MATCH :
	    PASS_MISMATCH;
out:
	OPENSSL_cleanse(got, sizeof(got));
	free(copy);
	free(salt);
	free(want);
	return ret;
}

/*
 * Read a new passphrase for name from source and check the length rule.
 * A prompt asks twice.  NULL if logged.
 */
static char *
new_pass_read(const char *name, const char *source)
{
	char what[128], *pass = NULL, *again = NULL;

	snprintf(what, sizeof(what), _("new passphrase for %s"), name);
	if ((pass = secret_read(source, what)) == NULL) {
		goto out;
	}
	if (utf8_chars(pass) < MIN_PASS_CHARS) {
		log_warnx("operator %s: ES-OP-02: passphrase shorter than %d "
		    "characters", name, MIN_PASS_CHARS);
		secret_free(pass);
		pass = NULL;
		goto out;
	}
	if (source == NULL || strcmp(source, "prompt") == 0) {
		snprintf(what, sizeof(what), _("repeat new passphrase for %s"),
		    name);
		if ((again = secret_read(source, what)) == NULL) {
			secret_free(pass);
			pass = NULL;
			goto out;
		}
		if (strcmp(pass, again) != 0) {
			log_warnx("operator %s: the passphrases differ", name);
			secret_free(pass);
			pass = NULL;
		}
	}
out:
	secret_free(again);
	return pass;
}

int
operator_add(struct db *db, const char *name, enum op_role role,
    const char *pass_source, const char *created_by)
{
	sqlite3_stmt *st = NULL;
	char *pass = NULL, *hash = NULL, what[128], created[32];
	int ok = 0, rc;

	if (!name_valid(name)) {
		log_warnx("operator %s: name must be 1 to %d letters, digits "
		    "or . _ - @", name, NAME_MAX_LEN);
		goto out;
	}
	if (role != ROLE_OFFICER && role != ROLE_OPERATOR &&
	    role != ROLE_AUDITOR) {
		log_warnx("operator %s: no such role", name);
		goto out;
	}
	if ((st = db_prepare(db, "SELECT 1 FROM operators WHERE name = ?"))
	    == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = db_step_row(db, st, "operators");
	sqlite3_finalize(st);
	if (rc == 1) {
		log_warnx("operator %s: already registered", name);
	}
	if (rc != 0) {
		goto out;
	}

	if ((pass = new_pass_read(name, pass_source)) == NULL) {
		goto out;
	}
	snprintf(what, sizeof(what), "operator %s", name);
	if ((hash = pass_hash(pass, what)) == NULL) {
		goto out;
	}
	time_fmt(now_utc(), created, sizeof(created));
	if ((st = db_prepare(db, "INSERT INTO operators (name, role, "
	    "pass_hash, created, created_by) VALUES (?, ?, ?, ?, ?)")) == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op_role_name(role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, created, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, created_by != NULL ? created_by : "", -1,
	    SQLITE_STATIC);
	ok = db_step_done(db, st, "operators: insert");
out:
	secret_free(pass);
	free(hash);
	return ok;
}

/* An operator row as authentication needs it. */
struct op_row {
	int64_t		 id;
	enum op_role	 role;
	char		*pass_hash;
	int		 failures, locked, disabled;
	char		*card_module, *card_serial, *card_key_id;
	unsigned char	*card_pubkey;
	size_t		 card_pubkey_len;
};

static void
op_row_clear(struct op_row *r)
{
	free(r->pass_hash);
	free(r->card_module);
	free(r->card_serial);
	free(r->card_key_id);
	free(r->card_pubkey);
	memset(r, 0, sizeof(*r));
}

static char *
col_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	char *d;

	if (s == NULL) {
		return NULL;
	}
	if ((d = strdup((const char *)s)) == NULL) {
		fatalx("out of memory");
	}
	return d;
}

enum row_result { ROW_FOUND, ROW_ABSENT, ROW_ERROR };

static enum row_result
op_row_load(struct db *db, const char *name, struct op_row *r)
{
	sqlite3_stmt *st = NULL;
	enum row_result ret = ROW_ERROR;
	const void *blob;
	int rc, len;

	memset(r, 0, sizeof(*r));
	if ((st = db_prepare(db, "SELECT id, role, pass_hash, failures, "
	    "locked, disabled, card_module, card_token_serial, card_key_id, "
	    "card_pubkey FROM operators WHERE name = ?")) == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		ret = ROW_ABSENT;
		goto out;
	} else if (rc != SQLITE_ROW) {
		db_log_error(db, "operators");
		goto out;
	}
	r->id = sqlite3_column_int64(st, 0);
	if (sqlite3_column_text(st, 1) == NULL ||
	    !op_role_from_name((const char *)sqlite3_column_text(st, 1),
	    &r->role)) {
		goto out;
	}
	r->pass_hash = col_strdup(st, 2);
	r->failures = sqlite3_column_int(st, 3);
	r->locked = sqlite3_column_int(st, 4);
	r->disabled = sqlite3_column_int(st, 5);
	r->card_module = col_strdup(st, 6);
	r->card_serial = col_strdup(st, 7);
	r->card_key_id = col_strdup(st, 8);
	blob = sqlite3_column_blob(st, 9);
	len = sqlite3_column_bytes(st, 9);
	if (blob != NULL && len > 0) {
		if ((r->card_pubkey = malloc(len)) == NULL) {
			fatalx("out of memory");
		}
		memcpy(r->card_pubkey, blob, len);
		r->card_pubkey_len = len;
	}
	if (r->pass_hash == NULL) {
		log_warnx("operator %s: no passphrase hash", name);
		goto out;
	}
	ret = ROW_FOUND;
out:
	sqlite3_finalize(st);
	if (ret != ROW_FOUND) {
		op_row_clear(r);
	}
	return ret;
}

/*
 * Sign a fresh random challenge with key and verify it with pub.  On
 * failure reason says why (for the log and the audit entry).  1/0.
 */
static int
card_challenge(struct hsm_key *key, EVP_PKEY *pub, char *reason,
    size_t reasonsz, const char *what)
{
	EVP_MD_CTX *sctx = NULL;
	unsigned char chal[CHALLENGE_LEN], *sig = NULL;
	size_t siglen = 0;
	enum sig_alg alg;
	int ok = 0;

	alg = sig_alg_default(hsm_key_alg(key));
	if (alg == SIG_NONE || key_alg_of_pkey(pub) != hsm_key_alg(key)) {
		i18n_reasonf(reason, reasonsz, "ES-OP-04: card key type does not "
		    "match the bound key");
		goto out;
	}
	if (RAND_bytes(chal, sizeof(chal)) != 1) {
		log_ssl("%s: no random challenge", what);
		i18n_reasonf(reason, reasonsz, "ES-OP-04: no random challenge");
		goto out;
	}
	if ((sctx = EVP_MD_CTX_new()) == NULL) {
		fatalx("out of memory");
	}
	if (!hsm_sign_init(sctx, key, alg) ||
	    EVP_DigestSign(sctx, NULL, &siglen, chal, sizeof(chal)) != 1) {
		log_ssl("%s: card signature", what);
		i18n_reasonf(reason, reasonsz, "ES-OP-04: card cannot sign");
		goto out;
	}
	if ((sig = malloc(siglen)) == NULL) {
		fatalx("out of memory");
	}
	if (EVP_DigestSign(sctx, sig, &siglen, chal, sizeof(chal)) != 1) {
		log_ssl("%s: card signature", what);
		i18n_reasonf(reason, reasonsz, "ES-OP-04: card cannot sign");
		goto out;
	}
	if (!sig_verify(pub, alg, chal, sizeof(chal), sig, siglen)) {
		ERR_clear_error();
		i18n_reasonf(reason, reasonsz, "ES-OP-04: card signature does not "
		    "verify with the bound key");
		goto out;
	}
	ok = 1;
out:
	EVP_MD_CTX_free(sctx);
	free(sig);
	return ok;
}

/*
 * The second factor of r: the card must be present, accept the PIN and
 * sign a challenge that the stored public key verifies.  1/0 with the
 * reason filled in (not logged here).
 */
static int
card_check(const char *name, const struct op_row *r,
    const char *pin_source, char *reason, size_t reasonsz)
{
	struct hsm_module *mod = NULL;
	struct hsm_token *tok = NULL;
	struct hsm_key *key = NULL;
	EVP_PKEY *pub = NULL;
	const unsigned char *p;
	char what[128];
	int ok = 0;

	snprintf(what, sizeof(what), "operator %s", name);
	if (r->card_module == NULL || r->card_serial == NULL ||
	    r->card_key_id == NULL || r->card_pubkey == NULL) {
		i18n_reasonf(reason, reasonsz, "ES-OP-04: card binding incomplete");
		goto out;
	}
	p = r->card_pubkey;
	if ((pub = d2i_PUBKEY(NULL, &p, (long)r->card_pubkey_len)) == NULL ||
	    p != r->card_pubkey + r->card_pubkey_len) {
		ERR_clear_error();
		i18n_reasonf(reason, reasonsz, "ES-OP-04: stored card key is "
		    "malformed");
		goto out;
	}
	if ((mod = hsm_module_load(r->card_module)) == NULL) {
		i18n_reasonf(reason, reasonsz, "ES-OP-04: card module %s cannot "
		    "be loaded", r->card_module);
		goto out;
	}
	if ((tok = hsm_token_open(mod, NULL, r->card_serial)) == NULL) {
		i18n_reasonf(reason, reasonsz, "ES-OP-04: card %s not present",
		    r->card_serial);
		goto out;
	}
	snprintf(what, sizeof(what), _("card PIN for %s"), name);
	if (hsm_token_login(tok, pin_source != NULL ? pin_source : "prompt")
	    != HSM_LOGIN_OK) {
		i18n_reasonf(reason, reasonsz, "ES-OP-04: card %s login failed",
		    r->card_serial);
		goto out;
	}
	if ((key = hsm_key_find(tok, r->card_key_id)) == NULL) {
		i18n_reasonf(reason, reasonsz, "ES-OP-04: key %s not on card %s",
		    r->card_key_id, r->card_serial);
		goto out;
	}
	ok = card_challenge(key, pub, reason, reasonsz, what);
out:
	hsm_key_free(key);
	hsm_token_close(tok);
	hsm_module_free(mod);
	EVP_PKEY_free(pub);
	return ok;
}

/*
 * Reserve one passphrase evaluation for name, in one transaction (BEGIN
 * IMMEDIATE, so that parallel logins are serialised here): load the row
 * into *r and, unless the account is locked, has MAX_FAILURES attempts
 * counted or is disabled, count this attempt as a failure at once and set
 * *attempt to its number (1..MAX_FAILURES).  The count is pessimistic: an
 * attempt is a failure from its reservation until its passphrase is found
 * right, so N parallel wrong guesses count N, a guess past the limit is
 * never evaluated, and a login killed while it runs scrypt stays counted.
 * Returns ROW_FOUND with *attempt 0 and reason filled in when refused.
 */
static enum row_result
attempt_reserve(struct db *db, const char *name, struct op_row *r,
    int *attempt, char *reason, size_t reasonsz)
{
	sqlite3_stmt *st = NULL;
	enum row_result ret = ROW_ERROR;

	*attempt = 0;
	if (!db_begin(db)) {
		return ROW_ERROR;
	}
	if ((ret = op_row_load(db, name, r)) != ROW_FOUND) {
		goto out;
	}
	if (r->locked || r->failures >= MAX_FAILURES) {
		i18n_reasonf(reason, reasonsz, "ES-OP-03: locked after %d failed "
		    "logins", MAX_FAILURES);
		goto out;
	}
	if (r->disabled) {
		i18n_reasonf(reason, reasonsz, "ES-OP-03: disabled");
		goto out;
	}
	if ((st = db_prepare(db, "UPDATE operators SET failures = failures "
	    "+ 1 WHERE id = ? AND locked = 0 AND disabled = 0 AND "
	    "failures < ?")) == NULL) {
		ret = ROW_ERROR;
		goto out;
	}
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int(st, 2, MAX_FAILURES);
	if (sqlite3_step(st) != SQLITE_DONE ||
	    sqlite3_changes(db_handle(db)) != 1) {
		db_log_error(db, "operators: failure count");
		ret = ROW_ERROR;
		goto out;
	}
	*attempt = r->failures + 1;
out:
	sqlite3_finalize(st);
	if (ret == ROW_FOUND && !db_commit(db)) {
		ret = ROW_ERROR;
	}
	if (ret != ROW_FOUND) {
		db_rollback(db);
		op_row_clear(r);
		*attempt = 0;
	}
	return ret;
}

/*
 * Settle a reserved attempt (number attempt, 0 if none was reserved) and
 * record the outcome *ret of the login in its own transaction, with the
 * audit entry "refused: REASON" or "ok".  A wrong passphrase stays
 * counted (the reason, with the attempt's number, is written here) and
 * the attempt that reaches the limit locks the account; a right one
 * starts the count over.  An attempt is judged by its passphrase alone,
 * whatever other logins did meanwhile, except that an account disabled
 * meanwhile refuses right and wrong passphrases alike.  1/0.
 */
static int
login_record(struct db *db, const char *name, int64_t id, int attempt,
    enum auth_result *ret, char *reason, size_t reasonsz, const char *detail)
{
	sqlite3_stmt *st = NULL;
	char object[128], *result = NULL;
	int ok = 0, disabled = 0;

	snprintf(object, sizeof(object), "operator:%s", name);
	if (!db_begin(db)) {
		goto out;
	}
	if (attempt > 0) {
		if ((st = db_prepare(db, "SELECT disabled FROM operators "
		    "WHERE id = ?")) == NULL) {
			goto out;
		}
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) != SQLITE_ROW) {
			db_log_error(db, "operators");
			goto out;
		}
		disabled = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		st = NULL;
		if (disabled) {
			*ret = AUTH_LOCKED;
			i18n_reasonf(reason, reasonsz, "ES-OP-03: disabled");
		} else if (*ret == AUTH_BAD_PASS) {
			if (attempt >= MAX_FAILURES) {
				i18n_reasonf(reason, reasonsz, "ES-OP-01: wrong "
				    "passphrase (%d of %d failures), now locked",
				    attempt, MAX_FAILURES);
			} else {
				i18n_reasonf(reason, reasonsz, "ES-OP-01: wrong "
				    "passphrase (%d of %d failures)", attempt,
				    MAX_FAILURES);
			}
		}
		if (!disabled && (*ret != AUTH_BAD_PASS ||
		    attempt >= MAX_FAILURES)) {
			if ((st = db_prepare(db, *ret == AUTH_BAD_PASS ?
			    "UPDATE operators SET locked = 1 WHERE id = ?" :
			    "UPDATE operators SET failures = 0 WHERE id = ?"))
			    == NULL) {
				goto out;
			}
			sqlite3_bind_int64(st, 1, id);
			if (sqlite3_step(st) != SQLITE_DONE) {
				db_log_error(db, "operators: failure count");
				goto out;
			}
		}
	}
	if (*ret == AUTH_OK) {
		result = strdup("ok");
	} else if (asprintf(&result, "refused: %s", reason) == -1) {
		result = NULL;
	}
	if (result == NULL) {
		fatalx("out of memory");
	}
	if (!audit_append(db, name, "login", object, NULL, result, detail)) {
		goto out;
	}
	if (!db_commit(db)) {
		goto out;
	}
	ok = 1;
out:
	sqlite3_finalize(st);
	free(result);
	if (!ok) {
		db_rollback(db);
	}
	return ok;
}

/*
 * The checks after a right passphrase: the role needed and the card.
 * Returns AUTH_OK or the refusal (reason filled in).
 */
static enum auth_result
after_pass(const char *name, const struct op_row *r, const char *card_pin_source,
    enum op_role need, char *reason, size_t reasonsz)
{
	if (need == ROLE_ACTOR ? r->role == ROLE_AUDITOR :
	    need != ROLE_ANY && r->role != need) {
		i18n_reasonf(reason, reasonsz, "ES-QUORUM-03: role %s, %s needed",
		    op_role_name(r->role), op_role_name(need));
		return AUTH_WRONG_ROLE;
	}
	if (r->card_serial != NULL &&
	    !card_check(name, r, card_pin_source, reason, reasonsz)) {
		return AUTH_CARD_FAILED;
	}
	return AUTH_OK;
}

/*
 * operator_authenticate with the purpose of the login (NULL or a quorum
 * action) recorded as the audit entry's detail.  The passphrase is
 * evaluated only inside a reserved attempt (attempt_reserve), so that a
 * locked account answers a right and a wrong passphrase alike, without
 * running scrypt.
 */
static enum auth_result
authenticate(struct db *db, const char *name, const char *pass_source,
    const char *card_pin_source, enum op_role need, const char *purpose,
    int64_t *op_id)
{
	struct op_row r;
	enum auth_result ret = AUTH_ERROR;
	enum pass_check pc;
	char *pass = NULL, what[128], reason[REASON_LEN], detail[192];
	int attempt = 0;

	memset(&r, 0, sizeof(r));
	reason[0] = '\0';
	if (purpose != NULL) {
		snprintf(detail, sizeof(detail), "for %s", purpose);
	} else {
		detail[0] = '\0';
	}
	if (db_in_transaction(db)) {
		log_warnx("operator %s: authentication must not run inside a "
		    "transaction", name);
		return AUTH_ERROR;
	}
	snprintf(what, sizeof(what), _("passphrase for %s"), name);
	if ((pass = secret_read(pass_source, what)) == NULL) {
		ret = AUTH_NO_SECRET;
		i18n_reasonf(reason, sizeof(reason), "no passphrase");
		goto record;
	}
	switch (name_valid(name) ? attempt_reserve(db, name, &r, &attempt,
	    reason, sizeof(reason)) : ROW_ABSENT) {
	case ROW_FOUND:
		break;
	case ROW_ABSENT:
		ret = AUTH_UNKNOWN;
		i18n_reasonf(reason, sizeof(reason), "ES-OP-01: unknown operator");
		goto record;
	default:
		goto out;
	}
	if (attempt == 0) {
		ret = AUTH_LOCKED;
		goto record;
	}
	snprintf(what, sizeof(what), "operator %s", name);
	pc = pass_verify(pass, r.pass_hash, what);
	secret_free(pass);
	pass = NULL;
	if (pc == PASS_ERROR) {
		/* The attempt stays counted. */
		goto out;
	}
	ret = pc == PASS_MISMATCH ? AUTH_BAD_PASS :
	    after_pass(name, &r, card_pin_source, need, reason,
	    sizeof(reason));
record:
	secret_free(pass);
	pass = NULL;
	if (!login_record(db, name, r.id, attempt, &ret, reason,
	    sizeof(reason), detail)) {
		/* An outcome that cannot be recorded lets nobody in. */
		ret = AUTH_ERROR;
		goto out;
	}
	if (ret != AUTH_OK && ret != AUTH_NO_SECRET) {
		log_warnx("operator %s: %s", name, i18n_reason(reason));
	} else if (ret == AUTH_OK && op_id != NULL) {
		*op_id = r.id;
	}
out:
	secret_free(pass);
	op_row_clear(&r);
	return ret;
}

enum auth_result
operator_authenticate(struct db *db, const char *name,
    const char *pass_source, const char *card_pin_source, enum op_role need,
    int64_t *op_id)
{
	return authenticate(db, name, pass_source, card_pin_source, need, NULL,
	    op_id);
}

int
operator_passwd(struct db *db, const char *name, const char *old_source,
    const char *new_source)
{
	sqlite3_stmt *st = NULL;
	char *pass = NULL, *hash = NULL, what[128], object[128];
	int64_t id;
	int ok = 0;

	if (authenticate(db, name, old_source, NULL, ROLE_ANY, "passwd", &id)
	    != AUTH_OK) {
		return 0;
	}
	snprintf(object, sizeof(object), "operator:%s", name);
	snprintf(what, sizeof(what), "operator %s", name);
	if ((pass = new_pass_read(name, new_source)) == NULL) {
		audit_append(db, name, "passwd", object, NULL,
		    "refused: new passphrase not accepted", NULL);
		goto out;
	}
	if ((hash = pass_hash(pass, what)) == NULL) {
		goto out;
	}
	if (!db_begin(db)) {
		goto out;
	}
	if ((st = db_prepare(db, "UPDATE operators SET pass_hash = ? "
	    "WHERE id = ?")) == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, "operators: passphrase");
		goto out;
	}
	if (!audit_append(db, name, "passwd", object, NULL, "ok", NULL) ||
	    !db_commit(db)) {
		goto out;
	}
	ok = 1;
out:
	sqlite3_finalize(st);
	if (!ok) {
		db_rollback(db);
	}
	secret_free(pass);
	free(hash);
	return ok;
}

int
operator_bind_card(struct db *db, const char *name, const char *module,
    const char *token_serial, const char *key_id_hex,
    const char *card_pin_source)
{
	struct op_row r;
	struct hsm_module *mod = NULL;
	struct hsm_token *tok = NULL;
	struct hsm_key *key = NULL;
	EVP_PKEY *pub;
	sqlite3_stmt *st = NULL;
	unsigned char *der = NULL;
	char what[128], reason[REASON_LEN];
	int derlen, own = 0, ok = 0;

	memset(&r, 0, sizeof(r));
	snprintf(what, sizeof(what), "operator %s", name);
	switch (name_valid(name) ? op_row_load(db, name, &r) : ROW_ABSENT) {
	case ROW_FOUND:
		break;
	case ROW_ABSENT:
		log_warnx("operator %s: ES-OP-01: unknown operator", name);
		goto out;
	default:
		goto out;
	}
	if ((mod = hsm_module_load(module)) == NULL) {
		log_warnx("operator %s: ES-OP-04: card module %s cannot be "
		    "loaded", name, module);
		goto out;
	}
	if ((tok = hsm_token_open(mod, NULL, token_serial)) == NULL) {
		log_warnx("operator %s: ES-OP-04: card %s not present", name,
		    token_serial);
		goto out;
	}
	if (hsm_token_login(tok, card_pin_source != NULL ? card_pin_source :
	    "prompt") != HSM_LOGIN_OK) {
		log_warnx("operator %s: ES-OP-04: card %s login failed", name,
		    token_serial);
		goto out;
	}
	if ((key = hsm_key_find(tok, key_id_hex)) == NULL) {
		log_warnx("operator %s: ES-OP-04: key %s not on card %s", name,
		    key_id_hex, token_serial);
		goto out;
	}
	if ((pub = hsm_key_public(key)) == NULL) {
		log_warnx("operator %s: ES-OP-04: card key %s has no public "
		    "key", name, key_id_hex);
		goto out;
	}
	/* Prove now that the card signs and the public key is its own. */
	if (!card_challenge(key, pub, reason, sizeof(reason), what)) {
		log_warnx("operator %s: %s", name, i18n_reason(reason));
		goto out;
	}
	if ((derlen = i2d_PUBKEY(pub, &der)) <= 0) {
		log_ssl("operator %s: card public key", name);
		goto out;
	}
	if (!db_in_transaction(db)) {
		if (!db_begin(db)) {
			goto out;
		}
		own = 1;
	}
	if ((st = db_prepare(db, "UPDATE operators SET card_module = ?, "
	    "card_token_serial = ?, card_key_id = ?, card_pubkey = ? "
	    "WHERE id = ?")) == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hsm_token_get_info(tok)->serial, -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hsm_key_id(key), -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, der, derlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, r.id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, "operators: card");
		goto out;
	}
	if (own && !db_commit(db)) {
		goto out;
	}
	ok = 1;
out:
	sqlite3_finalize(st);
	if (own && !ok) {
		db_rollback(db);
	}
	OPENSSL_free(der);
	hsm_key_free(key);
	hsm_token_close(tok);
	hsm_module_free(mod);
	op_row_clear(&r);
	return ok;
}

void
quorum_free(struct quorum *q)
{
	size_t i;

	if (q == NULL) {
		return;
	}
	for (i = 0; i < q->n; i++) {
		free(q->names[i]);
	}
	free(q->names);
	free(q->ids);
	free(q->who);
	memset(q, 0, sizeof(*q));
}

char *
quorum_names(const struct quorum *q)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < q->n; i++) {
		len += strlen(q->names[i]) + 1;
	}
	if ((s = malloc(len)) == NULL) {
		fatalx("out of memory");
	}
	s[0] = '\0';
	for (i = 0; i < q->n; i++) {
		if (i > 0) {
			strcat(s, ",");
		}
		strcat(s, q->names[i]);
	}
	return s;
}

size_t
quorum_size(struct db *db)
{
	unsigned long v;
	char *s;
	size_t ret = 2;

	if ((s = db_meta_get(db, "quorum")) == NULL) {
		return ret;
	}
	if (!parse_ulong(s, 64, &v)) {
		log_warnx("meta quorum: \"%s\" is not a number from 1 to 64, "
		    "using 2", s);
	} else {
		ret = v < 1 ? 1 : v;
	}
	free(s);
	return ret;
}

static int
quorum_has(const struct quorum *q, const char *name)
{
	size_t i;

	for (i = 0; i < q->n; i++) {
		if (strcmp(q->names[i], name) == 0) {
			return 1;
		}
	}
	return 0;
}

static void
quorum_add(struct quorum *q, int64_t id, const char *name)
{
	char **names;
	int64_t *ids;

	if ((names = reallocarray(q->names, q->n + 1, sizeof(*names))) == NULL) {
		fatalx("out of memory");
	}
	q->names = names;
	if ((ids = reallocarray(q->ids, q->n + 1, sizeof(*ids))) == NULL) {
		fatalx("out of memory");
	}
	q->ids = ids;
	if ((q->names[q->n] = strdup(name)) == NULL) {
		fatalx("out of memory");
	}
	q->ids[q->n++] = id;
}

/*
 * Split spec, "NAME=SOURCE[,card=SOURCE]" (copied into *buf), into its
 * parts; label names it in messages ("quorum member 2", "--operator").
 * The card part is the last ",card=" so that a path may hold commas.
 * 1/0 (logged).
 */
static int
spec_parse(const char *spec, const char *label, char **buf, char **name,
    char **pass, char **card)
{
	char *eq, *c;

	*buf = NULL;
	*card = NULL;
	if ((*buf = strdup(spec)) == NULL) {
		fatalx("out of memory");
	}
	if ((eq = strchr(*buf, '=')) == NULL || eq == *buf || eq[1] == '\0') {
		/* Not echoed: it might be a mistyped secret. */
		log_warnx("%s: must be NAME=SOURCE or NAME=SOURCE,card=SOURCE",
		    label);
		goto bad;
	}
	*eq = '\0';
	*name = *buf;
	*pass = eq + 1;
	if ((c = strstr(*pass, ",card=")) != NULL) {
		char *next;

		while ((next = strstr(c + 1, ",card=")) != NULL) {
			c = next;
		}
		*c = '\0';
		*card = c + 6;
	}
	if (!secret_source_valid(*pass, *name) ||
	    (*card != NULL && !secret_source_valid(*card, *name))) {
		goto bad;
	}
	return 1;
bad:
	free(*buf);
	*buf = NULL;
	return 0;
}

enum auth_result
operator_auth_spec(struct db *db, const char *spec, const char *what,
    enum op_role need, const char *act, char **name, int64_t *op_id)
{
	char *buf = NULL, *nm, *pass, *card;
	enum auth_result ret = AUTH_NO_SECRET;

	*name = NULL;
	if (!spec_parse(spec, what, &buf, &nm, &pass, &card)) {
		goto out;
	}
	if ((ret = authenticate(db, nm, pass, card, need, act, op_id)) !=
	    AUTH_OK) {
		goto out;
	}
	if ((*name = strdup(nm)) == NULL) {
		fatalx("out of memory");
	}
out:
	free(buf);
	return ret;
}

/* 1 if one of the first i specs names name (whether or not it logged in). */
static int
spec_repeats(char *const *specs, size_t i, const char *name)
{
	size_t j, len = strlen(name);

	for (j = 0; j < i; j++) {
		if (strncmp(specs[j], name, len) == 0 && specs[j][len] == '=') {
			return 1;
		}
	}
	return 0;
}

/* Read a line with echo from the terminal fd; 1/0, 0 at end of input. */
static int
tty_line(int fd, const char *prompt, char *buf, size_t bufsz)
{
	size_t n = 0;
	ssize_t r;
	char c;

	dprintf(fd, "%s", prompt);
	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			return 0;
		}
		if (c == '\n') {
			break;
		}
		if (n + 1 < bufsz) {
			buf[n++] = c;
		}
	}
	while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == ' ')) {
		n--;
	}
	buf[n] = '\0';
	return 1;
}

/* Record a refused quorum in the audit chain (best effort: logged). */
static void
quorum_refusal(struct db *db, const struct quorum *q, const char *action,
    const char *reason)
{
	char *names = quorum_names(q), *result = NULL;

	if (asprintf(&result, "refused: %s", reason) == -1) {
		fatalx("out of memory");
	}
	audit_append(db, names, action, "quorum", NULL, result, NULL);
	free(names);
	free(result);
}

int
quorum_gather(struct db *db, char *const *specs, size_t nspecs, size_t m,
    enum op_role need, const char *action, struct quorum *out)
{
	struct quorum q;
	char *buf = NULL, *name, *pass, *card, reason[REASON_LEN];
	char line[NAME_MAX_LEN + 2], prompt[128], label[48];
	int64_t id;
	size_t i, tries;
	int failed = 0, ok = 0, fd = -1;

	memset(&q, 0, sizeof(q));
	memset(out, 0, sizeof(*out));
	if (m == 0) {
		m = 1;
	}
	if (nspecs == 0) {
		if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
			log_warnx("quorum: %s needs %zu %s: no terminal to "
			    "prompt on, name them as NAME=SOURCE", action, m,
			    role_plural(need, m));
			goto out;
		}
		/* Interactive: refusals may be retried, within reason. */
		for (tries = 0; q.n < m && tries < 3 * m; tries++) {
			snprintf(prompt, sizeof(prompt), _("%s %zu of %zu for %s "
			    "(empty to stop): "), role_plural(need, 1), q.n + 1, m,
			    action);
			if (!tty_line(fd, prompt, line, sizeof(line)) ||
			    line[0] == '\0') {
				break;
			}
			if (quorum_has(&q, line)) {
				i18n_reasonf(reason, sizeof(reason), "ES-QUORUM-02: "
				    "%s %s counted twice", role_plural(need, 1),
				    line);
				log_warnx("quorum: %s", i18n_reason(reason));
				quorum_refusal(db, &q, action, reason);
				continue;
			}
			if (authenticate(db, line, "prompt", "prompt", need,
			    action, &id) == AUTH_OK) {
				quorum_add(&q, id, line);
			}
		}
	}
	for (i = 0; i < nspecs; i++) {
		snprintf(label, sizeof(label), "quorum member %zu", i + 1);
		if (!spec_parse(specs[i], label, &buf, &name, &pass, &card)) {
			failed = 1;
			continue;
		}
		if (spec_repeats(specs, i, name)) {
			i18n_reasonf(reason, sizeof(reason), "ES-QUORUM-02: %s %s "
			    "counted twice", role_plural(need, 1), name);
			log_warnx("quorum: %s", i18n_reason(reason));
			quorum_refusal(db, &q, action, reason);
			free(buf);
			buf = NULL;
			failed = 1;
			continue;
		}
		if (authenticate(db, name, pass, card, need, action, &id) ==
		    AUTH_OK) {
			quorum_add(&q, id, name);
		} else {
			failed = 1;
		}
		free(buf);
		buf = NULL;
	}
	if (q.n < m) {
		i18n_reasonf(reason, sizeof(reason), "ES-QUORUM-01: %s needs %zu "
		    "%s, %zu authenticated", action, m, role_plural(need, m),
		    q.n);
		log_warnx("quorum: %s", i18n_reason(reason));
		quorum_refusal(db, &q, action, reason);
		goto out;
	}
	if (failed) {
		/* Reasons already logged and recorded. */
		goto out;
	}
	q.who = quorum_names(&q);
	*out = q;
	memset(&q, 0, sizeof(q));
	ok = 1;
out:
	if (fd != -1) {
		close(fd);
	}
	free(buf);
	quorum_free(&q);
	return ok;
}

/* Whether operator id has the auditor role: 1, 0, -1 (logged). */
static int
is_auditor(struct db *db, int64_t id)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = db_prepare(db, "SELECT role FROM operators WHERE id = ?")) ==
	    NULL) {
		return -1;
	}
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		rc = strcmp((const char *)sqlite3_column_text(st, 0),
		    "auditor") == 0;
	} else {
		db_log_error(db, "operator lookup");
		rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

int
auth_spec(struct db *db, const char *spec, const char *what, char **name,
    int64_t *op_id)
{
	char *nm = NULL, *src = NULL, *card = NULL, *p;
	enum auth_result ar;
	int rc, ret = 0;

	*name = NULL;
	if ((p = strchr(spec, '=')) == NULL || p == spec) {
		log_warnx("%s: expected NAME=SRC (SRC: prompt, file:PATH, fd:N, "
		    "env:VAR)", what);
		return 0;
	}
	nm = strndup(spec, (size_t)(p - spec));
	src = xstrdup(p + 1);
	if (nm == NULL) {
		fatalx("out of memory");
	}
	if ((p = strstr(src, ",card=")) != NULL) {
		*p = '\0';
		card = p + 6;
	}
	if (!secret_source_valid(src, what)) {
		goto out;
	}
	ar = operator_authenticate(db, nm, src, card, ROLE_ANY, op_id);
	if (ar != AUTH_OK) {
		goto out;
	}
	if ((rc = is_auditor(db, *op_id)) != 0) {
		if (rc == 1) {
			log_warnx("operator %s: ES-QUORUM-03: an auditor cannot "
			    "%s", nm, what);
			audit_append(db, nm, what, "operator", NULL,
			    "refused: auditor", NULL);
		}
		goto out;
	}
	*name = nm;
	nm = NULL;
	ret = 1;
out:
	free(nm);
	free(src);
	return ret;
}
