/*
 * Dated algorithm policies (ETSI TS 119 312, the CRYPTREC list; one JSON
 * document each, doc/report.md): the end date of every key type and size
 * and hash they name, and rule ES-ALG-KEY-06, "the key stays in the policy
 * until the certificate's notAfter", which the policy gate (eseal-ca) and
 * the compliance report (eseal-policy report) both apply.
 */
#ifndef ESEAL_ALGDATED_H
#define ESEAL_ALGDATED_H

#include <stddef.h>

#include <jansson.h>

/*
 * Check one dated policy document: "policy", "source", "entries", each
 * entry one of "key" or "hash", a "clause", "end" YYYY-MM-DD or none,
 * "scheme" pkcs1|pss or none.  1/0, logged as "what: problem".
 */
int alg_dated_valid(json_t *p, const char *what);
/*
 * The dated policies in dir (every *.json, sorted by name, each with
 * "file" set to its name): a new array, empty if dir does not exist; NULL
 * (logged) if a file does not parse or is not a dated policy.
 */
json_t *alg_dated_load_dir(const char *dir);
/* One dated policy file: a new document with "file" set, or NULL (logged). */
json_t *alg_dated_load_file(const char *path);

/* What one dated policy says of a key (and the hash it signs with). */
struct alg_dated_result {
	int	listed;		/* the policy names the key or the hash */
	int	leaves;		/* it ends before the notAfter given */
	char	end[11];	/* the earliest end, YYYY-MM-DD; "": none */
	char	clause[1024];	/* the clauses that matched, "; " between */
};

/*
 * ES-ALG-KEY-06 under policy p: the entries for a key of kind ("rsa",
 * "ec", "ed25519", "ed448"; case, '-' and '_' ignored) and bits, signing
 * with hash ("SHA256"...; "" or NULL: the key alone) and padding scheme
 * ("pkcs1", "pss"; NULL: unknown, so every scheme's entry counts and the
 * earlier end wins).  not_after ("YYYY-MM-DD...", NULL: none) is compared
 * with the end: r->leaves when the policy ends first.  Fills r.
 */
void alg_dated_eval(json_t *p, const char *kind, int bits, const char *hash,
    const char *scheme, const char *not_after, struct alg_dated_result *r);

/*
 * The RSA padding scheme of a toolkit signature algorithm name (sigalg.h):
 * "pss" for rsa-pss-*, "pkcs1" for rsa-pkcs1-*, else (or NULL) NULL.
 */
const char *alg_dated_scheme(const char *sig_alg);

#endif
