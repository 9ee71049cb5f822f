/*
 * HSM key attestation.  An HSM vendor signs, for a key generated inside
 * one of its HSMs, a certificate binding the key to the device (YubiHSM 2:
 * the attestation certificate from "Sign Attestation Certificate", chained
 * to the Yubico attestation CA; Thales Luna: the PKC chain MIC, HOC, DAC,
 * PKC; Entrust nShield: the key generation certificate of nfkmattest,
 * once in X.509 form).  The instance pins the vendor roots it trusts, each
 * with the CMVP certificate of the product line it attests, under the
 * quorum; a request's attestation chain must verify to one of them and
 * attest the CSR's own key.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "i18n.h"
#include "args.h"
#include "attest.h"
#include "audit.h"
#include "ca.h"
#include "cmvp.h"
#include "log.h"
#include "operators.h"
#include "util.h"

#define MAX_OFFICERS	16
#define MAX_CHAIN	16		/* certificates in one bundle */
#define MAX_BUNDLE	(256 * 1024)	/* bytes */

/* A configured vendor root. */
struct att_root {
	char	 name[65];
	char	 sha256[65];
	char	 cmvp[16];
	X509	*cert;
};

void
attest_clear(struct attest *a)
{
	if (a == NULL) {
		return;
	}
	free(a->pem);
	memset(a, 0, sizeof(*a));
}

static void
refuse(struct attest *a, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
refuse(struct attest *a, const char *rule, const char *fmt, ...)
{
	va_list ap;

	snprintf(a->rule, sizeof(a->rule), "%s", rule);
	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
}

/*
 * Parse a PEM bundle of certificates only: every PEM block must be a
 * CERTIFICATE without headers whose DER has no trailing bytes.  Text
 * between blocks is ignored (openssl writes "subject=" lines).  Returns
 * the certificates in file order, or NULL with a refusal in a.
 */
static STACK_OF(X509) *
bundle_parse(const unsigned char *buf, size_t len, struct attest *a)
{
	STACK_OF(X509) *sk = NULL, *ret = NULL;
	BIO *bio = NULL;
	X509 *x = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const unsigned char *p;
	unsigned long e;
	long dlen;
	int n = 0;

	if (len == 0 || len > MAX_BUNDLE) {
		refuse(a, "ES-ATT-03", "the attestation file is %s",
		    len == 0 ? "empty" : "too large");
		return NULL;
	}
	if ((sk = sk_X509_new_null()) == NULL ||
	    (bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		fatalx("out of memory");
	}
	for (;;) {
		ERR_clear_error();
		if (!PEM_read_bio(bio, &name, &header, &data, &dlen)) {
			e = ERR_peek_last_error();
			ERR_clear_error();
			if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE && n > 0) {
				break;
			}
			refuse(a, "ES-ATT-03", "the attestation file is not a "
			    "PEM bundle of certificates (%s after %d "
			    "certificate%s)", n == 0 ? "no PEM certificate" :
			    "a malformed PEM block", n, n == 1 ? "" : "s");
			goto out;
		}
		n++;
		if (strcmp(name, "CERTIFICATE") != 0 || header[0] != '\0') {
			refuse(a, "ES-ATT-03", "PEM block %d of the attestation "
			    "file is \"%s\", not a CERTIFICATE", n, name);
			goto out;
		}
		p = data;
		if ((x = d2i_X509(NULL, &p, dlen)) == NULL ||
		    p != data + dlen) {
			ERR_clear_error();
			refuse(a, "ES-ATT-03", "certificate %d of the "
			    "attestation file is not valid DER%s", n,
			    x != NULL ? " (trailing bytes)" : "");
			goto out;
		}
		if (n > MAX_CHAIN) {
			refuse(a, "ES-ATT-03", "more than %d certificates in "
			    "the attestation file", MAX_CHAIN);
			goto out;
		}
		if (!sk_X509_push(sk, x)) {
			fatalx("out of memory");
		}
		x = NULL;
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	ret = sk;
	sk = NULL;
out:
	X509_free(x);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	return ret;
}

/* The bundle re-encoded as PEM (no text between blocks): malloc'd. */
static char *
bundle_pem(STACK_OF(X509) *sk)
{
	BIO *bio;
	char *data, *s;
	long len;
	int i;

	if ((bio = BIO_new(BIO_s_mem())) == NULL) {
		fatalx("out of memory");
	}
	for (i = 0; i < sk_X509_num(sk); i++) {
		if (!PEM_write_bio_X509(bio, sk_X509_value(sk, i))) {
			fatalx("out of memory");
		}
	}
	len = BIO_get_mem_data(bio, &data);
	if ((s = strndup(data, (size_t)len)) == NULL) {
		fatalx("out of memory");
	}
	BIO_free(bio);
	return s;
}

/* Free what vendor root r (a struct att_root) owns. */
static void
root_clear(void *r)
{
	X509_free(((struct att_root *)r)->cert);
}

static void
roots_free(struct att_root *r, size_t n)
{
	size_t i;

	for (i = 0; r != NULL && i < n; i++) {
		root_clear(&r[i]);
	}
	free(r);
}

/* Fill vendor root r from the row of st.  1/0 (logged). */
static int
root_fill(void *arg, sqlite3_stmt *st, void *r)
{
	struct att_root *x = r;
	const unsigned char *p;

	(void)arg;
	snprintf(x->name, sizeof(x->name), "%s", sqlite3_column_text(st, 0));
	snprintf(x->sha256, sizeof(x->sha256), "%s",
	    sqlite3_column_text(st, 2));
	snprintf(x->cmvp, sizeof(x->cmvp), "%s", sqlite3_column_text(st, 3));
	p = sqlite3_column_blob(st, 1);
	if ((x->cert = d2i_X509(NULL, &p, sqlite3_column_bytes(st, 1))) ==
	    NULL) {
		log_ssl("attestation root %s: stored certificate unreadable",
		    x->name);
		return 0;
	}
	return 1;
}

/* Load every configured vendor root.  1/0 (logged). */
static int
roots_load(struct db *db, struct att_root **out, size_t *nout)
{
	sqlite3_stmt *st;
	void *rows;

	*out = NULL;
	*nout = 0;
	st = db_prepare(db, "SELECT name, cert_der, cert_sha256, cmvp_cert"
	    " FROM attestation_roots ORDER BY name");
	if (st == NULL || !db_rows_load(db, st, "attestation roots",
	    sizeof(**out), root_fill, root_clear, NULL, &rows, nout)) {
		return 0;
	}
	*out = rows;
	return 1;
}

enum attest_result
attest_verify(struct db *db, const unsigned char *buf, size_t len,
    EVP_PKEY *subject_pub, struct attest *out)
{
	STACK_OF(X509) *sk = NULL, *untrusted = NULL, *chain;
	struct att_root *roots = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *leaf, *anchor;
	char sha[65];
	size_t nroots = 0, i;
	enum attest_result ret = ATTEST_ERROR;
	int j;

	memset(out, 0, sizeof(*out));
	if ((sk = bundle_parse(buf, len, out)) == NULL) {
		ret = ATTEST_REFUSED;
		goto out;
	}
	out->pem = bundle_pem(sk);
	if (!roots_load(db, &roots, &nroots)) {
		goto out;
	}
	if (nroots == 0) {
		refuse(out, "ES-ATT-01", "attestation chain does not verify to "
		    "a configured vendor root (no vendor root is configured: "
		    "eseal-ca attestation-root add)");
		ret = ATTEST_REFUSED;
		goto out;
	}
	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL) {
		fatalx("out of memory");
	}
	/* Only the configured roots: no default paths, no partial chains. */
	for (i = 0; i < nroots; i++) {
		if (!X509_STORE_add_cert(store, roots[i].cert)) {
			log_ssl("attestation root %s", roots[i].name);
			goto out;
		}
	}
	leaf = sk_X509_value(sk, 0);
	for (j = 1; j < sk_X509_num(sk); j++) {
		if (!sk_X509_push(untrusted, sk_X509_value(sk, j))) {
			fatalx("out of memory");
		}
	}
	if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
		log_ssl("attestation: cannot set up verification");
		goto out;
	}
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
	X509_VERIFY_PARAM_clear_flags(X509_STORE_CTX_get0_param(ctx),
	    X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	X509_STORE_CTX_set_time(ctx, 0, now_utc());
	if (X509_verify_cert(ctx) != 1) {
		ERR_clear_error();
		refuse(out, "ES-ATT-01", "attestation chain does not verify to "
		    "a configured vendor root (%s)",
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		ret = ATTEST_REFUSED;
		goto out;
	}
	chain = X509_STORE_CTX_get0_chain(ctx);
	anchor = sk_X509_value(chain, sk_X509_num(chain) - 1);
	x509_sha256_hex(anchor, sha);
	for (i = 0; i < nroots; i++) {
		if (strcmp(roots[i].sha256, sha) == 0) {
			break;
		}
	}
	if (i == nroots) {
		/* Cannot happen: the store holds only these roots. */
		refuse(out, "ES-ATT-01", "attestation chain does not verify to "
		    "a configured vendor root (anchor %s is not one)", sha);
		ret = ATTEST_REFUSED;
		goto out;
	}
	if (subject_pub == NULL ||
	    EVP_PKEY_eq(X509_get0_pubkey(leaf), subject_pub) != 1) {
		ERR_clear_error();
		refuse(out, "ES-ATT-02", "the attested public key is not the "
		    "CSR's key");
		ret = ATTEST_REFUSED;
		goto out;
	}
	snprintf(out->root, sizeof(out->root), "%s", roots[i].name);
	snprintf(out->root_sha256, sizeof(out->root_sha256), "%s", sha);
	snprintf(out->cmvp, sizeof(out->cmvp), "%s", roots[i].cmvp);
	ret = ATTEST_OK;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	sk_X509_pop_free(sk, X509_free);
	roots_free(roots, nroots);
	return ret;
}

/* --- eseal-ca attestation-root --- */

static void
usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca attestation-root add NAME --cert ROOT.pem --cmvp NUMBER\n"
	    "           --officer NAME=SRC... [--pin SRC]\n"
	    "       eseal-ca attestation-root list [--json]\n"
	    "       eseal-ca attestation-root remove NAME --officer NAME=SRC... [--pin SRC]\n"
	    "  Vendor roots of HSM key attestation chains (YubiHSM 2, Thales Luna PKC,\n"
	    "  nShield), each mapped to the CMVP certificate of the HSM product line it\n"
	    "  attests.  \"request submit --attestation FILE\" verifies against them only.\n"));
}

static int
name_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* Count rows of sql with one text parameter; -1 on error (logged). */
static int
count_rows(struct db *db, const char *sql, const char *arg)
{
	sqlite3_stmt *st;
	int n = -1;

	if ((st = db_prepare(db, sql)) == NULL) {
		return -1;
	}
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int(st, 0);
	} else {
		db_log_error(db, "attestation roots");
	}
	sqlite3_finalize(st);
	return n;
}

/*
 * Whether a vendor root named name, or one with the certificate of
 * SHA-256 sha, exists already: 1 (refusal logged, ES-ATT-04), 0 if not,
 * -1 on error (logged).  The name is checked first.
 */
static int
root_exists(struct db *db, const char *name, const char *sha)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = db_prepare(db, "SELECT name = ?1 FROM attestation_roots"
	    " WHERE name = ?1 OR cert_sha256 = ?2 ORDER BY name = ?1 DESC"
	    " LIMIT 1")) == NULL) {
		return -1;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_TRANSIENT);
	if ((rc = db_step_row(db, st, "attestation roots")) == 1) {
		if (sqlite3_column_int(st, 0)) {
			log_warnx("attestation-root %s: ES-ATT-04: a vendor root "
			    "of that name exists", name);
		} else {
			log_warnx("attestation-root %s: ES-ATT-04: certificate "
			    "%s is configured already", name, sha);
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Gather the officers' quorum (--officer NAME=SRC...) for action on the
 * vendor roots into q.  The names of who approved (malloc'd), or NULL
 * when the quorum is refused (logged).
 */
static char *
root_quorum(struct db *db, struct args *a, const char *action,
    struct quorum *q)
{
	char *specs[MAX_OFFICERS];

	if (!quorum_gather(db, specs, args_all(a, "officer", specs,
	    MAX_OFFICERS), quorum_size(db), ROLE_OFFICER, action, q)) {
		return NULL;
	}
	return quorum_names(q);
}

/*
 * End the change of the attestation roots begun by the caller: run st
 * (finalized here; a failure logged with what) and append its audit entry (act on object by who, with
 * detail), then commit; on failure roll back.  1/0.
 */
static int
root_commit(struct db *db, sqlite3_stmt *st, const char *what,
    const char *who, const char *act, const char *object, const char *detail)
{
	if (!db_step_done(db, st, what) ||
	    !audit_append(db, who, act, object, NULL, "ok", detail) ||
	    !db_commit(db)) {
		db_rollback(db);
		return 0;
	}
	return 1;
}

static int
root_add(struct db *db, struct args *a)
{
	struct cmvp_record rec;
	struct quorum q = { 0 };
	sqlite3_stmt *st = NULL;
	X509 *cert = NULL;
	unsigned char *der = NULL;
	char *who = NULL, *subj = NULL;
	char sha[65], now[32], object[96], detail[1024];
	const char *name = a->pos[1], *cmvp = args_get(a, "cmvp");
	time_t t = now_utc();
	int derlen, ret = EXIT_ERROR, rc;

	if (!args_need(a, "cert", "attestation-root add") ||
	    !args_need(a, "cmvp", "attestation-root add")) {
		return EXIT_USAGE;
	}
	if (!name_valid(name)) {
		log_warnx("attestation-root %s: a name is 1..64 letters, digits, "
		    "'.', '_' or '-'", name);
		return EXIT_USAGE;
	}
	if ((cert = x509_read_file(args_get(a, "cert"))) == NULL) {
		goto out;
	}
	subj = x509_name_str(X509_get_subject_name(cert));
	x509_sha256_hex(cert, sha);
	snprintf(object, sizeof(object), "attestation-root:%s", name);
	if (X509_check_ca(cert) == 0 || X509_self_signed(cert, 1) != 1) {
		ERR_clear_error();
		log_warnx("attestation-root %s: ES-ATT-04: %s is not a "
		    "self-signed CA certificate (a vendor root is the trust "
		    "anchor of the chain)", name, subj);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (X509_cmp_time(X509_get0_notAfter(cert), &t) <= 0 ||
	    X509_cmp_time(X509_get0_notBefore(cert), &t) >= 0) {
		log_warnx("attestation-root %s: ES-ATT-04: %s is not valid "
		    "now", name, subj);
		ret = EXIT_REFUSED;
		goto out;
	}
	if ((rc = cmvp_lookup(db, cmvp, &rec)) < 0) {
		goto out;
	}
	if (rc == 0) {
		log_warnx("attestation-root %s: ES-ATT-04: CMVP #%s is not in "
		    "the registry (import a CMVP snapshot or declare the "
		    "record first)", name, cmvp);
		ret = EXIT_REFUSED;
		goto out;
	}
	if ((rc = root_exists(db, name, sha)) != 0) {
		if (rc > 0) {
			ret = EXIT_REFUSED;
		}
		goto out;
	}
	if ((who = root_quorum(db, a, "attestation-root-add", &q)) == NULL) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if ((derlen = i2d_X509(cert, &der)) <= 0) {
		log_ssl("attestation-root %s: cannot encode", name);
		goto out;
	}
	time_fmt(now_utc(), now, sizeof(now));
	snprintf(detail, sizeof(detail), "%s, sha256 %s, attests CMVP #%s "
	    "(%s %s, %s)", subj, sha, cmvp, rec.vendor, rec.module_name,
	    rec.status);
	if (!db_begin(db)) {
		goto out;
	}
	st = db_prepare(db, "INSERT INTO attestation_roots (name, cert_der,"
	    " cert_sha256, cmvp_cert, added_by, added) VALUES (?,?,?,?,?,?)");
	if (st == NULL) {
		db_rollback(db);
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, der, derlen, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, cmvp, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, who, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	if (root_commit(db, st, "add attestation root", who,
	    "attestation-root-add", object, detail)) {
		printf(_("attestation root %s added: %s (approved by %s)\n"),
		    name, detail, who);
		ret = ca_audit_sign(db, NULL, args_get(a, "pin")) ? EXIT_OK :
		    EXIT_ERROR;
	}
out:
	quorum_free(&q);
	X509_free(cert);
	OPENSSL_free(der);
	free(who);
	free(subj);
	return ret;
}

static int
root_remove(struct db *db, struct args *a)
{
	struct quorum q = { 0 };
	sqlite3_stmt *st = NULL;
	char *who = NULL;
	char object[96];
	const char *name = a->pos[1];
	int ret = EXIT_ERROR, rc;

	snprintf(object, sizeof(object), "attestation-root:%s", name);
	if ((rc = count_rows(db, "SELECT COUNT(*) FROM attestation_roots"
	    " WHERE name = ?", name)) != 1) {
		if (rc == 0) {
			log_warnx("attestation-root %s: ES-ATT-04: no such "
			    "vendor root", name);
			ret = EXIT_REFUSED;
		}
		return ret;
	}
	if ((who = root_quorum(db, a, "attestation-root-remove", &q)) == NULL) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if (!db_begin(db)) {
		goto out;
	}
	st = db_prepare(db, "DELETE FROM attestation_roots WHERE name = ?");
	if (st == NULL) {
		db_rollback(db);
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (root_commit(db, st, "remove attestation root", who,
	    "attestation-root-remove", object,
	    "attestation chains to this root are refused from now on")) {
		printf(_("attestation root %s removed (approved by %s)\n"), name,
		    who);
		ret = ca_audit_sign(db, NULL, args_get(a, "pin")) ? EXIT_OK :
		    EXIT_ERROR;
	}
out:
	quorum_free(&q);
	free(who);
	return ret;
}

/* One row of attestation-root list (see list_rows()).  1/0 (logged). */
static int
root_row(void *arg, sqlite3_stmt *st, json_t *arr)
{
	X509 *x;
	struct tm tm;
	const unsigned char *p;
	char *subj, na[32];

	(void)arg;
	p = sqlite3_column_blob(st, 1);
	if ((x = d2i_X509(NULL, &p, sqlite3_column_bytes(st, 1))) == NULL) {
		log_ssl("attestation root %s: stored certificate unreadable",
		    sqlite3_column_text(st, 0));
		return 0;
	}
	subj = x509_name_str(X509_get_subject_name(x));
	snprintf(na, sizeof(na), "?");
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm)) {
		strftime(na, sizeof(na), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (g.json) {
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,"
		    "s:s}", "name", sqlite3_column_text(st, 0), "cmvp",
		    sqlite3_column_text(st, 3), "sha256",
		    sqlite3_column_text(st, 2), "subject", subj, "not_after", na,
		    "added_by", sqlite3_column_text(st, 4), "added",
		    sqlite3_column_text(st, 5)));
	} else {
		printf("%-16s  CMVP #%-6s  %s  until %s  added by %s at %s\n"
		    "    sha256 %s\n", sqlite3_column_text(st, 0),
		    sqlite3_column_text(st, 3), subj, na,
		    sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
		    sqlite3_column_text(st, 2));
	}
	free(subj);
	X509_free(x);
	return 1;
}

static int
root_list(struct db *db)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "SELECT name, cert_der, cert_sha256, cmvp_cert,"
	    " added_by, added FROM attestation_roots ORDER BY name");
	if (st == NULL) {
		return EXIT_ERROR;
	}
	return list_rows(db, st, "attestation roots", root_row, NULL);
}

int
cmd_attestation_root(int argc, char **argv)
{
	static const char *const valued[] = { "cert", "cmvp", "officer", "pin",
	    NULL };
	struct args a;
	struct db *db = NULL;
	int ret;

	if (!args_start(argc, argv, valued, NULL, &a, usage, &ret)) {
		return ret;
	}
	if (a.npos == 0 || !((strcmp(a.pos[0], "add") == 0 && a.npos == 2) ||
	    (strcmp(a.pos[0], "remove") == 0 && a.npos == 2) ||
	    (strcmp(a.pos[0], "list") == 0 && a.npos == 1))) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((db = ca_open_db()) == NULL) {
		return EXIT_ERROR;
	}
	if (strcmp(a.pos[0], "add") == 0) {
		ret = root_add(db, &a);
	} else if (strcmp(a.pos[0], "remove") == 0) {
		ret = root_remove(db, &a);
	} else {
		ret = root_list(db);
	}
	db_close(db);
	return ret;
}
