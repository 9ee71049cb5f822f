/*
 * Shared state of the eseal-ca subcommands: the open store, output mode,
 * the CA keys a command opened on their tokens, and the helpers every
 * command uses (open a CA's key, sign the audit head, print JSON).
 */
#ifndef ESEAL_CA_H
#define ESEAL_CA_H

#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "db.h"
#include "exitcodes.h"
#include "hsm.h"
#include "sigalg.h"


struct ca_global {
	const char	*db_path;	/* --db or $ESEAL_DB */
	int		 json;		/* --json */
	int		 busy_ms;	/* --busy-timeout */
};

extern struct ca_global g;

/* A CA row with its key opened on the token. */
struct ca_key {
	int64_t			 id;
	char			*name;
	char			*kind;		/* "root" / "issuing" */
	struct hsm_module	*mod;
	struct hsm_token	*tok;
	struct hsm_key		*key;
	X509			*cert;		/* NULL while pending */
	enum sig_alg		 alg;
	char			 cert_sha256[65];
};

/*
 * Open the store named by g.db_path (must exist).  NULL after logging.
 */
struct db *ca_open_db(void);

/*
 * Open CA name's key: load its module, open its token by serial (the
 * token must present the identity recorded at key generation), log in
 * with the PIN from pin_source, find the key and check its provenance
 * (ES-KEY-01).  A refused login or a missing token is written to the audit
 * chain (actor names who asked).  NULL after logging; *why is set to an
 * exit code.
 */
struct ca_key *ca_key_open(struct db *db, const char *name,
    const char *pin_source, const char *actor, int *why);
void ca_key_free(struct ca_key *ck);
/*
 * ca_key_open() for signing: the token must also pass the HSM policy
 * gate for signing (audited under actor and object).  With need_issuing,
 * CA name must be an issuing CA with a certificate (ES-CA-07; what says
 * what it was to make, e.g. "a status export").  NULL after logging;
 * *why is set to an exit code.
 */
struct ca_key *ca_key_open_signing(struct db *db, const char *name,
    const char *pin_source, const char *actor, const char *object,
    const char *need_issuing, int *why);

/*
 * The binaries of a ceremony: this eseal-ca and the PKCS#11 module file
 * the dynamic loader mapped (which a module path without '/' does not
 * name), with their SHA-256, to match against the package hashes that
 * tools/repro-check.sh prints and sha256sum of the installed files.
 */
struct ca_binaries {
	char	exe[4096];		/* readlink /proc/self/exe */
	char	exe_sha256[65];
	char	module[4096];
	char	module_sha256[65];
};
/*
 * Fill b for the module already loaded from module_path.  1/0 (logged).
 */
int ca_binaries_hash(const char *module_path, struct ca_binaries *b);
/*
 * The audit entry "ceremony-binaries" for b: request hash the
 * executable's, detail "eseal-ca HEX PATH; module HEX PATH" (joins an
 * open transaction).  1/0 (logged).
 */
int ca_binaries_audit(struct db *db, const char *who, const char *object,
    const struct ca_binaries *b);

/*
 * Sign the audit chain head with ck (a CA key on its token).  If ck is
 * NULL, open the instance's audit CA (meta "audit_ca") with pin_source;
 * if there is no such CA yet or no pin_source, leave the head unsigned
 * with a notice (the next signature covers it).  1/0.
 */
int ca_audit_sign(struct db *db, struct ca_key *ck, const char *pin_source);

/*
 * Sign x with a software key sw (throw-away lint copies) or, if hk is not
 * NULL, with a token key, under alg.  1/0 (logged with what).
 */
int x509_sign_with(X509 *x, EVP_PKEY *sw, struct hsm_key *hk,
    enum sig_alg alg, const char *what);
/*
 * Whether UTF-8 string s holds a control character (C0, DEL or C1): a
 * review print would pass it to the terminal, where an escape sequence
 * or a carriage return could hide or forge a line.
 */
int str_has_control(const char *s);
/*
 * 1 if every key of the JSON object obj is in allowed (NULL-terminated);
 * else log "file: where: unknown key" (nothing in a reviewed file is
 * implicit or ignored) and return 0.
 */
int json_known_keys(json_t *obj, const char *const *allowed,
    const char *where, const char *file);

struct alg_policy;
/*
 * The instance's algorithm policy: the one set with "eseal-ca policy set
 * algorithm-policy" (stored in the store, so it is audited and backed
 * up), else the documented default, with the dated policies set with
 * "eseal-ca policy set dated-algorithm-policy" (ES-ALG-KEY-06).  Free
 * with alg_policy_free().  NULL (logged) if a stored policy does not
 * parse.
 */
struct alg_policy *ca_alg_policy(struct db *db);

/* Print a JSON value to stdout (compact, one line) and free it. */
void json_print(json_t *v);
/*
 * List the rows of st (finalized here): row(arg, st, arr) appends the
 * row's JSON to arr and, without --json, prints its text line (1/0,
 * logged); with --json arr is printed at the end.  Returns the exit code
 * (a failed step logged with what).
 */
int list_rows(struct db *db, sqlite3_stmt *st, const char *what,
    int (*row)(void *, sqlite3_stmt *, json_t *), void *arg);

/* Write cert as PEM to path atomically (mode 0644). 1/0. */
int x509_write_pem(X509 *cert, const char *path);
/* SHA-256 hex of the DER of cert. */
void x509_sha256_hex(X509 *cert, char out[65]);
/* One-line RFC 2253 form of a name: malloc'd. */
char *x509_name_str(const X509_NAME *name);

/* Subcommands (argv[0] is the subcommand name). Return exit codes. */
int cmd_init(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_operator(int argc, char **argv);
int cmd_ceremony(int argc, char **argv);
int cmd_ca(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_export_status(int argc, char **argv);
int cmd_ocsp_signer(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_issue(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_crl(int argc, char **argv);
/*
 * A root CA's ARL signed in a ceremony (ceremony file kind "arl"): the
 * same code path as "eseal-ca crl --ca ROOT --officer ..." (cmd_crl.c),
 * with the ceremony file's hash in the ceremony record, the officers
 * limited to its "officers" list (if not empty), the CA's module and
 * token checked against the file's (if given) and the transcript also
 * written to its "transcript" path (if given).  Returns an exit code.
 */
struct arl_ceremony {
	const char	 *file;
	const char	 *file_sha256;
	const char	 *ca;		/* must be a root */
	const char	 *pin;		/* secret source */
	const char	 *module;	/* or NULL */
	const char	 *token_label, *token_serial;	/* or NULL */
	const char	 *next_days;	/* decimal string, or NULL */
	const char	 *output;
	int		  pem;
	const char	 *transcript;	/* or NULL */
	const char *const *listed;	/* officers named in the file */
	size_t		  nlisted;
	char		**specs;	/* --officer NAME=SRC */
	size_t		  nspecs;
};
int crl_arl_ceremony(const struct arl_ceremony *ac);
int cmd_cert(int argc, char **argv);
/*
 * Normalise a certificate serial (hex in any case, colons allowed) to
 * the store's form: lower-case, no leading zeros, in out (outsz bytes).
 * 0 if it is not hex, is zero, or does not fit.
 */
int serial_norm(const char *in, char *out, size_t outsz);
/* "ca revoke ..." (argv[0] is "revoke"), dispatched by cmd_ca. */
int cmd_ca_revoke(int argc, char **argv);

/* Parse a CSR file (PEM or DER, no trailing bytes).  NULL (logged). */
X509_REQ *csr_read_file(const char *path, unsigned char **der, int *derlen);

#endif
