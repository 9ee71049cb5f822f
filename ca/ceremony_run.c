/*
 * Running a key ceremony (the file is parsed by ceremony_parse.c).  With
 * a quorum of officers present the ceremony generates the key on the
 * token, builds the certificate, signs a throw-away copy with an
 * ephemeral key and lints it, and only then signs the real certificate on
 * the token (or a CSR, for an external root).  Each step goes into a
 * transcript whose hash is in the audit chain; the CA row, the ceremony
 * and its audit entries commit in one transaction.  An "arl" ceremony is
 * handed to cmd_crl.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <uuid/uuid.h>

#include "args.h"
#include "audit.h"
#include "ca.h"
#include "cacert.h"
#include "carow.h"
#include "ceremony.h"
#include "gate.h"
#include "i18n.h"
#include "lint.h"
#include "log.h"
#include "operators.h"
#include "util.h"

struct transcript {
	char	*buf;
	size_t	 len;
	int	 quiet;
};

static void
tx_step(struct transcript *tx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tx_step(struct transcript *tx, const char *fmt, ...)
{
	char line[1024], ts[32];
	va_list ap;
	size_t n;

	time_fmt(now_utc(), ts, sizeof(ts));
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(ts) + strlen(line) + 3;
	if ((tx->buf = realloc(tx->buf, tx->len + n + 1)) == NULL) {
		fatalx("out of memory");
	}
	snprintf(tx->buf + tx->len, n + 1, "%s  %s\n", ts, line);
	tx->len += strlen(tx->buf + tx->len);
	if (!tx->quiet) {
		printf("%s  %s\n", ts, line);
		fflush(stdout);
	}
}


static char *
spki_sha256(EVP_PKEY *pub)
{
	unsigned char *der = NULL;
	char hex[65], *s;
	int len;

	if ((len = i2d_PUBKEY(pub, &der)) <= 0) {
		fatalx("cannot encode public key");
	}
	sha256_hex(der, (size_t)len, hex);
	OPENSSL_free(der);
	if ((s = strdup(hex)) == NULL) {
		fatalx("out of memory");
	}
	return s;
}


static int
cn_has_test(X509_NAME *name)
{
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	ASN1_STRING *s;

	if (i < 0) {
		return 0;
	}
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	return memmem(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
	    "TEST", 4) != NULL;
}

static int
officer_listed(const struct ceremony *c, const char *name)
{
	size_t i;

	if (c->nofficers == 0) {
		return 1;
	}
	for (i = 0; i < c->nofficers; i++) {
		if (strcmp(c->officers[i], name) == 0) {
			return 1;
		}
	}
	return 0;
}

/* The token's mechanism names as a JSON array (malloc'd), NULL (logged). */
static char *
token_mechanisms_json(struct hsm_module *mod, const struct hsm_token_info *ti)
{
	struct hsm_mech *m = NULL;
	json_t *arr;
	size_t n = 0, i;
	char *s;

	if (!hsm_module_mechanisms(mod, ti->slot_id, &m, &n)) {
		return NULL;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(arr, json_string(m[i].name));
	}
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	free(m);
	if (s == NULL) {
		fatalx("out of memory");
	}
	return s;
}

/*
 * Record the token in the HSM inventory (in the caller's transaction):
 * identity as reported over PKCS#11, library, mechanisms, first and last
 * seen.  1/0 (logged).
 */
static int
record_token(struct db *db, const struct hsm_token_info *ti, const char *hw,
    const char *fw, const char *module, const char *mechs, const char *now)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "INSERT INTO tokens (manufacturer, model, serial,"
	    " label, hw, fw, library, module_path, mechanisms, first_seen,"
	    " last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
	    " ON CONFLICT (manufacturer, model, serial) DO UPDATE SET"
	    " label = excluded.label, hw = excluded.hw, fw = excluded.fw,"
	    " library = excluded.library, module_path = excluded.module_path,"
	    " mechanisms = excluded.mechanisms, last_seen = excluded.last_seen");
	if (st == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, ti->manufacturer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ti->model, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, ti->serial, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, ti->label, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, hw, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, fw, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, ti->lib_description, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, module, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, mechs, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 11, now, -1, SQLITE_TRANSIENT);
	return db_step_done(db, st, "record token");
}

/*
 * One running ceremony: what its steps share.  Owned pointers start NULL
 * and run_free() releases them all; ret is the exit code the ceremony
 * ends with (EXIT_ERROR until a step refuses or everything succeeds).
 */
struct run {
	const struct ceremony		*c;
	struct transcript		 tx;
	struct quorum			 q;
	struct findings			 f;
	struct db			*db;
	struct hsm_module		*mod;
	struct hsm_token		*tok;
	struct hsm_key			*key;
	struct hsm_provenance		 prov;
	struct ca_binaries		 bins;	/* sha256 of eseal-ca, module */
	const struct hsm_token_info	*ti;
	struct ca_key			*parent;
	X509_NAME			*subject;
	X509				*cert;
	X509_REQ			*req;
	EVP_PKEY			*tk;
	struct alg_policy		*ap;
	char				*who, *mode, *fp, *mechs;
	char				 object[160], ceremony_id[37];
	char				 hw[16], fw[16], tx_sha[65];
	char				 cmvp_cert[32], cmvp_status[32];
	char				 cert_sha[65], started[32];
	unsigned char			*der;
	int				 derlen;
	const char			*kind_name;
	int				 committed;
	int				 ret;
};

/* Start a run of ceremony c: its id, its object name, its start time. */
static void
run_init(struct run *r, const struct ceremony *c, int quiet)
{
	uuid_t uu;

	memset(r, 0, sizeof(*r));
	r->c = c;
	r->tx.quiet = quiet;
	r->ret = EXIT_ERROR;
	r->kind_name = c->issuing ? "issuing" : "root";
	findings_init(&r->f);
	snprintf(r->object, sizeof(r->object), "ca:%s", c->ca);
	uuid_generate_random(uu);
	uuid_unparse_lower(uu, r->ceremony_id);
	time_fmt(now_utc(), r->started, sizeof(r->started));
}

/* Release everything run r owns (any of it may be NULL). */
static void
run_free(struct run *r)
{
	findings_free(&r->f);
	ca_key_free(r->parent);
	hsm_key_free(r->key);
	hsm_token_close(r->tok);
	hsm_module_free(r->mod);
	X509_NAME_free(r->subject);
	X509_free(r->cert);
	X509_REQ_free(r->req);
	EVP_PKEY_free(r->tk);
	alg_policy_free(r->ap);
	OPENSSL_free(r->der);
	quorum_free(&r->q);
	db_close(r->db);
	free(r->tx.buf);
	free(r->who);
	free(r->mode);
	free(r->fp);
	free(r->mechs);
}

/*
 * The store and the name: the subject parses, the store opens, the CA
 * name is new, and a test instance's CA carries "TEST" in its CN.
 * 1/0 (logged; r->ret set).
 */
static int
run_open(struct run *r)
{
	const struct ceremony *c = r->c;

	if ((r->subject = name_from_json(c->subject, c->file)) == NULL) {
		r->ret = EXIT_REFUSED;
		return 0;
	}
	if ((r->db = ca_open_db()) == NULL) {
		return 0;
	}
	r->mode = db_meta_get(r->db, "instance_mode");
	/* The CA name must be new. */
	switch (carow_exists(r->db, c->ca)) {
	case -1:
		return 0;
	case 1:
		log_warnx("%s: CA \"%s\" already exists in %s", c->file, c->ca,
		    db_path(r->db));
		r->ret = EXIT_REFUSED;
		return 0;
	}
	if (r->mode != NULL && strcmp(r->mode, "test") == 0 &&
	    !cn_has_test(r->subject)) {
		log_warnx("%s: ES-ENV-01: a test instance's CA names carry a "
		    "visible test marker: put \"TEST\" in the subject CN", c->file);
		r->ret = EXIT_REFUSED;
		return 0;
	}
	return 1;
}

/*
 * Dual control: M distinct officers, from the file's list if given;
 * the start goes into the transcript and the audit chain.  1/0 (logged;
 * r->ret set).
 */
static int
run_quorum(struct run *r, char **specs, size_t nspecs)
{
	const struct ceremony *c = r->c;
	size_t i;

	if (!quorum_gather(r->db, specs, nspecs, quorum_size(r->db),
	    ROLE_OFFICER, "ceremony", &r->q)) {
		r->ret = EXIT_REFUSED;
		return 0;
	}
	for (i = 0; i < r->q.n; i++) {
		if (!officer_listed(c, r->q.names[i])) {
			log_warnx("%s: ES-QUORUM-04: officer %s is not named in the "
			    "ceremony file", c->file, r->q.names[i]);
			audit_append(r->db, r->q.names[i], "ceremony", r->object,
			    c->file_sha256, "refused: officer not named", NULL);
			r->ret = EXIT_REFUSED;
			return 0;
		}
	}
	r->who = quorum_names(&r->q);
	tx_step(&r->tx, "ceremony %s: %s CA \"%s\" from %s (sha256 %s)",
	    r->ceremony_id, r->kind_name, c->ca, c->file, c->file_sha256);
	tx_step(&r->tx, "officers present and authenticated: %s", r->who);
	audit_append(r->db, r->who, "ceremony-start", r->object,
	    c->file_sha256, "ok", r->ceremony_id);
	return 1;
}

/*
 * The token, its identity and the policy gate; then the login and the
 * mechanisms the ceremony needs.  1/0 (logged; r->ret set).
 */
static int
run_token(struct run *r)
{
	const struct ceremony *c = r->c;
	char sunset_warn[256] = "";
	enum hsm_login_result lr;

	if ((r->mod = hsm_module_load(c->module)) == NULL ||
	    (r->tok = hsm_token_open(r->mod, c->token_label,
	    c->token_label != NULL ? NULL : c->token_serial)) == NULL) {
		audit_append(r->db, r->who, "ceremony", r->object,
		    c->file_sha256, "refused: token missing",
		    c->token_label != NULL ? c->token_label : c->token_serial);
		return 0;
	}
	if (!ca_binaries_hash(c->module, &r->bins) ||
	    !ca_binaries_audit(r->db, r->who, r->object, &r->bins)) {
		return 0;
	}
	tx_step(&r->tx, "executable: %s sha256 %s", r->bins.exe,
	    r->bins.exe_sha256);
	tx_step(&r->tx, "PKCS#11 module: %s sha256 %s", r->bins.module,
	    r->bins.module_sha256);
	r->ti = hsm_token_get_info(r->tok);
	snprintf(r->hw, sizeof(r->hw), "%u.%u", r->ti->hw_major,
	    r->ti->hw_minor);
	snprintf(r->fw, sizeof(r->fw), "%u.%u", r->ti->fw_major,
	    r->ti->fw_minor);
	tx_step(&r->tx, "token: label \"%s\" manufacturer \"%s\" model \"%s\" "
	    "serial \"%s\" hw %s fw %s library \"%s\"", r->ti->label,
	    r->ti->manufacturer, r->ti->model, r->ti->serial, r->hw, r->fw,
	    r->ti->lib_description);
	if (!gate_check(r->db, r->ti, c->issuing ? GATE_KEYGEN_ISSUING :
	    GATE_KEYGEN_ROOT, r->who, r->object, r->cmvp_cert,
	    sizeof(r->cmvp_cert), r->cmvp_status, sizeof(r->cmvp_status))) {
		r->ret = EXIT_REFUSED;
		return 0;
	}
	tx_step(&r->tx, "policy gate: CMVP certificate %s, effective status %s",
	    r->cmvp_cert, r->cmvp_status);
	gate_sunset_warn(r->db, r->cmvp_cert, c->na, r->who, r->object,
	    sunset_warn, sizeof(sunset_warn));
	if (sunset_warn[0] != '\0') {
		tx_step(&r->tx, "%s", sunset_warn);
	}
	if ((r->mechs = token_mechanisms_json(r->mod, r->ti)) == NULL) {
		return 0;
	}
	lr = hsm_token_login(r->tok, c->pin);
	if (lr != HSM_LOGIN_OK) {
		audit_append(r->db, r->who, "token-login", r->object, NULL,
		    lr == HSM_LOGIN_BAD_PIN ? "refused: wrong PIN" :
		    "refused: login failed", r->ti->serial);
		r->ret = lr == HSM_LOGIN_ERROR ? EXIT_ERROR : EXIT_REFUSED;
		return 0;
	}
	audit_append(r->db, r->who, "token-login", r->object, NULL, "ok",
	    r->ti->serial);
	if (!hsm_token_can_generate(r->tok, c->kalg) ||
	    !hsm_token_can_sign(r->tok, c->salg)) {
		log_warnx("%s: ES-HSM-MECH-01: token %s does not support %s "
		    "with %s", c->file, r->ti->serial, key_alg_name(c->kalg),
		    sig_alg_name(c->salg));
		audit_append(r->db, r->who, "ceremony", r->object,
		    c->file_sha256, "refused: mechanism not supported",
		    key_alg_name(c->kalg));
		r->ret = EXIT_REFUSED;
		return 0;
	}
	return 1;
}

/*
 * An issuing CA's parent key must be usable before a key is made: open
 * it and check that its certificate is valid now and outlives the new
 * one.  A root (or external) ceremony has nothing to do.  1/0 (logged;
 * r->ret set).
 */
static int
run_parent(struct run *r)
{
	const struct ceremony *c = r->c;
	time_t now_t;
	int why;

	if (c->parent == NULL) {
		return 1;
	}
	if ((r->parent = ca_key_open_signing(r->db, c->parent, c->parent_pin,
	    r->who, r->object, NULL, &why)) == NULL) {
		r->ret = why;
		return 0;
	}
	if (r->parent->cert == NULL) {
		log_warnx("%s: parent CA %s has no certificate yet", c->file,
		    c->parent);
		r->ret = EXIT_REFUSED;
		return 0;
	}
	now_t = now_utc();
	if (X509_cmp_time(X509_get0_notAfter(r->parent->cert), &now_t) <= 0 ||
	    X509_cmp_time(X509_get0_notBefore(r->parent->cert), &now_t) > 0) {
		log_warnx("%s: ES-CA-05: parent CA %s is not valid now",
		    c->file, c->parent);
		r->ret = EXIT_REFUSED;
		return 0;
	}
	if (ASN1_TIME_cmp_time_t(X509_get0_notAfter(r->parent->cert),
	    c->na) < 0) {
		log_warnx("%s: ES-VAL-02: not-after is beyond the parent "
		    "CA's notAfter", c->file);
		r->ret = EXIT_REFUSED;
		return 0;
	}
	tx_step(&r->tx, "parent CA \"%s\" key opened on token %s", c->parent,
	    hsm_token_get_info(r->parent->tok)->serial);
	return 1;
}

/*
 * Algorithm policy on a throw-away key of the same type, before keygen
 * (the throw-away key r->tk later signs the throw-away copy of a root's
 * certificate).  1/0 (logged; r->ret set).
 */
static int
run_alg_policy(struct run *r)
{
	const struct ceremony *c = r->c;

	if ((r->tk = throwaway_key(c->kalg)) == NULL) {
		log_ssl("%s: cannot make a throw-away %s key", c->file,
		    key_alg_name(c->kalg));
		return 0;
	}
	if ((r->ap = ca_alg_policy(r->db)) == NULL) {
		return 0;
	}
	if (!alg_policy_check_key_for(r->ap, r->tk, KEY_USE_CA,
	    sig_alg_name(c->salg), c->na, &r->f)) {
		findings_log_fails(&r->f, c->file);
		audit_append(r->db, r->who, "ceremony", r->object,
		    c->file_sha256, "refused: algorithm policy",
		    key_alg_name(c->kalg));
		r->ret = EXIT_REFUSED;
		return 0;
	}
	return 1;
}

/*
 * Generate the key on the token and check its provenance (LOCAL,
 * ALWAYS_SENSITIVE, NEVER_EXTRACTABLE, not EXTRACTABLE).  On failure
 * after the key exists, the caller destroys it.  1/0 (logged; r->ret
 * set).
 */
static int
run_keygen(struct run *r)
{
	const struct ceremony *c = r->c;
	struct hsm_provenance *prov = &r->prov;

	if ((r->key = hsm_key_generate(r->tok, c->kalg, c->key_label)) ==
	    NULL) {
		audit_append(r->db, r->who, "key-generate", r->object, NULL,
		    "failed", key_alg_name(c->kalg));
		return 0;
	}
	if ((r->fp = spki_sha256(hsm_key_public(r->key))) == NULL ||
	    !hsm_key_provenance(r->key, prov)) {
		return 0;
	}
	tx_step(&r->tx, "key generated on token %s: %s id %s label \"%s\" SPKI "
	    "sha256 %s", r->ti->serial, key_alg_name(c->kalg),
	    hsm_key_id(r->key), c->key_label, r->fp);
	tx_step(&r->tx, "key provenance: LOCAL=%d ALWAYS_SENSITIVE=%d "
	    "NEVER_EXTRACTABLE=%d EXTRACTABLE=%d SENSITIVE=%d", prov->local,
	    prov->always_sensitive, prov->never_extractable, prov->extractable,
	    prov->sensitive);
	if (!prov->local || !prov->always_sensitive ||
	    !prov->never_extractable || prov->extractable) {
		log_warnx("%s: ES-KEY-01: key provenance not proven (LOCAL, "
		    "ALWAYS_SENSITIVE, NEVER_EXTRACTABLE must be true, "
		    "EXTRACTABLE false)", c->file);
		audit_append(r->db, r->who, "key-generate", r->object, r->fp,
		    "refused: provenance", NULL);
		r->ret = EXIT_REFUSED;
		return 0;
	}
	return 1;
}

/* External root: a CSR signed on the token, into r->req.  1/0 (logged). */
static int
run_csr(struct run *r)
{
	const struct ceremony *c = r->c;
	EVP_MD_CTX *mctx = NULL;
	int ok = 0;

	if ((r->req = csr_build(r->subject, hsm_key_public(r->key),
	    c->file)) == NULL) {
		goto out;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    !hsm_sign_init(mctx, r->key, c->salg) ||
	    X509_REQ_sign_ctx(r->req, mctx) <= 0 ||
	    X509_REQ_verify(r->req, hsm_key_public(r->key)) != 1) {
		log_ssl("%s: cannot sign the CSR on the token", c->file);
		goto out;
	}
	tx_step(&r->tx, "CSR signed on the token with %s",
	    sig_alg_name(c->salg));
	ok = 1;
out:
	EVP_MD_CTX_free(mctx);
	return ok;
}

/*
 * Throw-away copy: the certificate's contents signed by an ephemeral key
 * of the real signer's type, and linted; nothing is signed on a token if
 * it fails.  1/0 (logged; r->ret set).
 */
static int
run_lint_throwaway(struct run *r, struct lint_opts *lo, enum sig_alg alg)
{
	const struct ceremony *c = r->c;
	EVP_PKEY *tsign = NULL;
	int ok = 0;

	/* The throw-away signer has the real signer's key type. */
	if (r->parent != NULL && (tsign = throwaway_key(key_alg_of_pkey(
	    X509_get0_pubkey(r->parent->cert)))) == NULL) {
		log_ssl("%s: cannot make a throw-away signer key", c->file);
		goto out;
	}
	if (!x509_sign_with(r->cert, tsign != NULL ? tsign : r->tk, NULL, alg,
	    c->file)) {
		goto out;
	}
	findings_free(&r->f);
	findings_init(&r->f);
	if (!lint_certificate(r->cert, lo, &r->f)) {
		findings_log_fails(&r->f, c->file);
		tx_step(&r->tx, "lint of the throw-away certificate: %d "
		    "FAIL; nothing signed", r->f.fails);
		audit_append(r->db, r->who, "lint", r->object, c->file_sha256,
		    "refused", "throw-away certificate failed lint");
		r->ret = EXIT_REFUSED;
		goto out;
	}
	tx_step(&r->tx, "lint of the throw-away certificate: %zu rules, 0 "
	    "FAIL, %d WARN", r->f.n, r->f.warns);
	ok = 1;
out:
	EVP_PKEY_free(tsign);
	return ok;
}

/*
 * The certificate: built, its throw-away copy linted, then signed on the
 * token (the parent's, or the new key for a root), verified, linted
 * again and encoded into r->der.  1/0 (logged; r->ret set).
 */
static int
run_certificate(struct run *r)
{
	const struct ceremony *c = r->c;
	struct cacert_spec spec;
	struct lint_opts lo;
	enum sig_alg cert_alg;

	memset(&spec, 0, sizeof(spec));
	spec.subject = r->subject;
	spec.not_before = c->nb;
	spec.not_after = c->na;
	spec.path_len = c->path_len;
	spec.subject_pub = hsm_key_public(r->key);
	spec.issuer = r->parent != NULL ? r->parent->cert : NULL;
	spec.crldp_url = c->crldp;
	spec.ca_issuers_url = c->ca_issuers;
	spec.ocsp_url = c->ocsp;
	spec.policies = (char **)c->policies;
	spec.npolicies = c->npolicies;
	if ((r->cert = cacert_build(&spec, c->file)) == NULL) {
		return 0;
	}
	cert_alg = r->parent != NULL ? r->parent->alg : c->salg;
	memset(&lo, 0, sizeof(lo));
	lo.kind = c->issuing ? LINT_ISSUING_CA : LINT_ROOT_CA;
	lo.ap = r->ap;
	lo.issuer = r->parent != NULL ? r->parent->cert : NULL;
	lo.throwaway = 1;
	lo.key_sig_alg = sig_alg_name(c->salg);
	if (!run_lint_throwaway(r, &lo, cert_alg)) {
		return 0;
	}

	/* The real signature, on the token. */
	if (!x509_sign_with(r->cert, NULL, r->parent != NULL ? r->parent->key :
	    r->key, cert_alg, c->file)) {
		return 0;
	}
	if (X509_verify(r->cert, r->parent != NULL ?
	    X509_get0_pubkey(r->parent->cert) : hsm_key_public(r->key)) != 1) {
		log_ssl("%s: the token's signature does not verify", c->file);
		return 0;
	}
	lo.throwaway = 0;
	findings_free(&r->f);
	findings_init(&r->f);
	if (!lint_certificate(r->cert, &lo, &r->f)) {
		findings_log_fails(&r->f, c->file);
		return 0;
	}
	x509_sha256_hex(r->cert, r->cert_sha);
	tx_step(&r->tx, "certificate signed on token %s with %s: sha256 %s",
	    r->parent != NULL ? hsm_token_get_info(r->parent->tok)->serial :
	    r->ti->serial, sig_alg_name(cert_alg), r->cert_sha);
	if ((r->derlen = i2d_X509(r->cert, &r->der)) <= 0) {
		log_ssl("%s: cannot encode certificate", c->file);
		return 0;
	}
	return 1;
}

/*
 * The new CA's row in cas (in the caller's transaction), from the
 * ceremony, its token and key; r->c->settings or "{}".  1/0 (logged).
 */
static int
run_insert_ca(struct run *r, const char *now)
{
	const struct ceremony *c = r->c;
	struct carow_new row;
	char nb[32], na[32];
	char *settings = NULL, *subj = NULL;
	int ok;

	time_fmt(c->nb, nb, sizeof(nb));
	time_fmt(c->na, na, sizeof(na));
	if (c->settings != NULL) {
		settings = json_dumps(c->settings, JSON_COMPACT | JSON_SORT_KEYS);
	} else if ((settings = strdup("{}")) == NULL) {
		fatalx("out of memory");
	}
	subj = x509_name_str(r->subject);
	memset(&row, 0, sizeof(row));
	row.name = c->ca;
	row.kind = r->kind_name;
	row.parent_id = r->parent != NULL ? r->parent->id : 0;
	row.status = r->cert != NULL ? "active" : "pending";
	row.cert_der = r->der;
	row.cert_der_len = r->derlen;
	row.cert_sha256 = r->cert_sha;
	row.subject = subj;
	row.not_before = nb;
	row.not_after = na;
	row.key_alg = key_alg_name(c->kalg);
	row.sig_alg = sig_alg_name(c->salg);
	row.module_path = c->module;
	row.ti = r->ti;
	row.hw = r->hw;
	row.fw = r->fw;
	row.key_id = hsm_key_id(r->key);
	row.key_label = c->key_label;
	row.prov = &r->prov;
	row.cmvp_cert = r->cmvp_cert;
	row.cmvp_status = r->cmvp_status;
	row.ceremony_id = r->ceremony_id;
	row.settings = settings;
	row.created = now;
	ok = carow_insert(r->db, &row) != 0;
	free(subj);
	free(settings);
	return ok;
}

/* The ceremony's row with its transcript (in the caller's transaction). */
static int
run_insert_ceremony(struct run *r, const char *now)
{
	sqlite3_stmt *st;

	st = db_prepare(r->db, "INSERT INTO ceremonies (id, kind, file_sha256,"
	    " officers, started, finished, result, transcript,"
	    " transcript_sha256) VALUES (?,?,?,?,?,?,'ok',?,?)");
	if (st == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, r->ceremony_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, r->kind_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->c->file_sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, r->who, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, r->started, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, r->tx.buf, (int)r->tx.len, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, r->tx_sha, -1, SQLITE_TRANSIENT);
	return db_step_done(r->db, st, "insert ceremony");
}

/*
 * Commit: CA row, ceremony with transcript, audit entries, the token in
 * the inventory and, for a root, the audit CA if none yet, in one
 * transaction.  Sets r->committed.  1/0 (logged; rolled back).
 */
static int
run_commit(struct run *r)
{
	const struct ceremony *c = r->c;
	char now[32], *cur = NULL;

	tx_step(&r->tx, "ceremony complete");
	sha256_hex(r->tx.buf, r->tx.len, r->tx_sha);
	time_fmt(now_utc(), now, sizeof(now));
	if (!db_begin(r->db)) {
		return 0;
	}
	if (!run_insert_ca(r, now) || !run_insert_ceremony(r, now)) {
		goto rollback;
	}
	if (!audit_append(r->db, r->who, "key-generate", r->object, r->fp, "ok",
	    hsm_key_id(r->key)) ||
	    (r->cert != NULL && !audit_append(r->db, r->who, "certificate-sign",
	    r->object, c->file_sha256, "ok", r->cert_sha)) ||
	    (r->req != NULL && !audit_append(r->db, r->who, "csr-sign",
	    r->object, c->file_sha256, "ok", r->fp)) ||
	    !audit_append(r->db, r->who, "ceremony-end", r->object, r->tx_sha,
	    "ok", r->ceremony_id)) {
		goto rollback;
	}
	if (!record_token(r->db, r->ti, r->hw, r->fw, c->module, r->mechs,
	    now)) {
		goto rollback;
	}
	if (!c->issuing) {
		cur = db_meta_get(r->db, "audit_ca");
		if (cur == NULL && !db_meta_set(r->db, "audit_ca", c->ca)) {
			goto rollback;
		}
		free(cur);
		cur = NULL;
	}
	if (!db_commit(r->db)) {
		goto rollback;
	}
	r->committed = 1;
	return 1;
rollback:
	free(cur);
	db_rollback(r->db);
	return 0;
}

/* The CSR of an external-root ceremony, as PEM into its file.  1/0. */
static int
write_csr(X509_REQ *req, const char *path)
{
	BIO *bio = NULL;
	char *data;
	long len;
	int ok = 0;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509_REQ(bio, req)) {
		log_ssl("%s: cannot encode CSR", path);
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	ok = file_write_atomic(path, data, (size_t)len, 0644);
out:
	BIO_free(bio);
	return ok;
}

/*
 * Outputs after the commit (the store is the record): certificate or
 * CSR, transcript; then the audit head signed with the root's key or
 * the parent's.  Sets r->ret.
 */
static void
run_outputs(struct run *r)
{
	const struct ceremony *c = r->c;
	struct ca_key newca;

	if ((r->cert != NULL && !x509_write_pem(r->cert, c->output)) ||
	    (r->req != NULL && !write_csr(r->req, c->csr_output)) ||
	    (c->transcript != NULL && !file_write_atomic(c->transcript,
	    r->tx.buf, r->tx.len, 0644))) {
		return;
	}
	if (r->parent != NULL) {
		r->ret = ca_audit_sign(r->db, r->parent, NULL) ? EXIT_OK :
		    EXIT_ERROR;
	} else if (r->cert != NULL) {
		memset(&newca, 0, sizeof(newca));
		newca.name = (char *)c->ca;
		newca.key = r->key;
		newca.cert = r->cert;
		newca.alg = c->salg;
		x509_sha256_hex(r->cert, newca.cert_sha256);
		r->ret = ca_audit_sign(r->db, &newca, NULL) ? EXIT_OK :
		    EXIT_ERROR;
	} else {
		r->ret = EXIT_OK;
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
		    "ceremony", r->ceremony_id, "ca", c->ca, "kind", r->kind_name,
		    "key_id", hsm_key_id(r->key), "spki_sha256", r->fp,
		    "certificate_sha256", r->cert_sha, "transcript_sha256",
		    r->tx_sha, "officers", r->who));
	}
}

/*
 * Run ceremony c (root or issuing) with the officers of specs; quiet
 * keeps the transcript off stdout.  Each step logs its own refusal; a
 * key generated by a ceremony that then fails before its commit is
 * destroyed on the token.  Returns an exit code.
 */
static int
ceremony_run(const struct ceremony *c, char **specs, size_t nspecs,
    int quiet)
{
	struct run r;
	int ret;

	run_init(&r, c, quiet);
	if (!run_open(&r) || !run_quorum(&r, specs, nspecs) ||
	    !run_token(&r) || !run_parent(&r) || !run_alg_policy(&r)) {
		goto out;
	}
	if (!run_keygen(&r) || !(c->csr_output != NULL ? run_csr(&r) :
	    run_certificate(&r)) || !run_commit(&r)) {
		/* Nothing was committed: the new key must not survive. */
		if (r.key != NULL && hsm_key_destroy(r.key)) {
			r.key = NULL;
			tx_step(&r.tx, "ceremony aborted: the new key was "
			    "destroyed");
		}
		goto out;
	}
	run_outputs(&r);
out:
	ret = r.ret;
	run_free(&r);
	return ret;
}

/* An "arl" ceremony: signed by cmd_crl.c's code path.  exit code. */
static int
arl_run(const struct ceremony *c, char **specs, size_t nspecs)
{
	struct arl_ceremony ac;

	memset(&ac, 0, sizeof(ac));
	ac.file = c->file;
	ac.file_sha256 = c->file_sha256;
	ac.ca = c->ca;
	ac.pin = c->pin;
	ac.module = c->module;
	ac.token_label = c->token_label;
	ac.token_serial = c->token_serial;
	ac.next_days = c->next_days;
	ac.output = c->output;
	ac.pem = c->pem;
	ac.transcript = c->transcript;
	ac.listed = c->officers;
	ac.nlisted = c->nofficers;
	ac.specs = specs;
	ac.nspecs = nspecs;
	return crl_arl_ceremony(&ac);
}

/*
 * Every file the ceremony will write (certificate or ARL, CSR,
 * transcript) can be created: checked before the store or a token is
 * touched, so that nothing is signed or committed whose output is then
 * lost.  1/0 (logged, ES-OUT-01).
 */
static int
outputs_writable(const struct ceremony *c)
{
	return (c->output == NULL || out_path_writable(c->output, c->file)) &&
	    (c->csr_output == NULL || out_path_writable(c->csr_output,
	    c->file)) && (c->transcript == NULL ||
	    out_path_writable(c->transcript, c->file));
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca ceremony show FILE\n"
	    "       eseal-ca ceremony run FILE --officer NAME=SRC... [--quiet]\n"
	    "  show prints every input of a ceremony file for review; run performs\n"
	    "  it with a quorum of officers (SRC: prompt, file:PATH, fd:N, env:VAR).\n"
	    "  See eseal-ca(8) and doc/ceremony.md for the file format.\n"));
}

int
cmd_ceremony(int argc, char **argv)
{
	static const char *const valued[] = { "officer", NULL };
	static const char *const flags[] = { "quiet", NULL };
	struct ceremony c;
	struct args a;
	char *specs[MAX_OFFICERS];
	size_t n;
	int ret;

	if (!args_start(argc, argv, valued, flags, &a, usage, &ret)) {
		return ret;
	}
	if (a.npos != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!ceremony_parse(a.pos[1], &c)) {
		ceremony_free(&c);
		return EXIT_REFUSED;
	}
	if (strcmp(a.pos[0], "show") == 0) {
		ceremony_print(&c);
		ret = EXIT_OK;
	} else if (strcmp(a.pos[0], "run") == 0 && !outputs_writable(&c)) {
		ret = EXIT_USAGE;
	} else if (strcmp(a.pos[0], "run") == 0) {
		n = args_all(&a, "officer", specs, MAX_OFFICERS);
		ret = c.arl ? arl_run(&c, specs, n) : ceremony_run(&c, specs, n,
		    args_flag(&a, "quiet") || g.json);
	} else {
		usage(stderr);
		ret = EXIT_USAGE;
	}
	ceremony_free(&c);
	return ret;
}
