/*
 * Helpers shared by the eseal-ca subcommands: opening the store, opening
 * a CA's key on its token (with the audit record of a refusal), signing
 * the audit head, certificate file I/O, and the hashes of a ceremony's
 * binaries.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit.h"
#include "ca.h"
#include "carow.h"
#include "gate.h"
#include "lint.h"
#include "log.h"
#include "secret.h"
#include "util.h"

struct db *
ca_open_db(void)
{
	if (g.db_path == NULL) {
		log_warnx("no CA store: use --db STORE or set ESEAL_DB");
		return NULL;
	}
	return db_open(g.db_path, DB_OPEN_EXISTING, g.busy_ms);
}

void
json_print(json_t *v)
{
	char *s;

	if (v == NULL) {
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s != NULL) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(v);
}

int
list_rows(struct db *db, sqlite3_stmt *st, const char *what,
    int (*row)(void *, sqlite3_stmt *, json_t *), void *arg)
{
	json_t *arr;
	int rc, ret = EXIT_ERROR;

	if ((arr = json_array()) == NULL) {
		fatalx("out of memory");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!row(arg, st, arr)) {
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, what);
		goto out;
	}
	if (g.json) {
		json_print(arr);
		arr = NULL;
	}
	ret = EXIT_OK;
out:
	json_decref(arr);
	sqlite3_finalize(st);
	return ret;
}

int
x509_write_pem(X509 *cert, const char *path)
{
	BIO *bio = NULL;
	char *data;
	long len;
	int ret = 0;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509(bio, cert)) {
		log_ssl("%s: cannot encode certificate", path);
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	ret = file_write_atomic(path, data, (size_t)len, 0644);
out:
	BIO_free(bio);
	return ret;
}

void
x509_sha256_hex(X509 *cert, char out[65])
{
	unsigned char *der = NULL;
	int len;

	if ((len = i2d_X509(cert, &der)) <= 0) {
		fatalx("cannot encode certificate");
	}
	sha256_hex(der, (size_t)len, out);
	OPENSSL_free(der);
}

char *
x509_name_str(const X509_NAME *name)
{
	BIO *bio;
	char *data, *s;
	long len;

	if ((bio = BIO_new(BIO_s_mem())) == NULL) {
		fatalx("out of memory");
	}
	X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_get_mem_data(bio, &data);
	if ((s = strndup(data, (size_t)len)) == NULL) {
		fatalx("out of memory");
	}
	BIO_free(bio);
	return s;
}

void
ca_key_free(struct ca_key *ck)
{
	if (ck == NULL) {
		return;
	}
	hsm_key_free(ck->key);
	hsm_token_close(ck->tok);
	hsm_module_free(ck->mod);
	X509_free(ck->cert);
	free(ck->name);
	free(ck->kind);
	free(ck);
}

struct ca_key *
ca_key_open(struct db *db, const char *name, const char *pin_source,
    const char *actor, int *why)
{
	struct ca_key *ck = NULL, *ret = NULL;
	struct carow_token t;
	struct hsm_provenance prov;
	const struct hsm_token_info *ti;
	const char *module, *serial, *keyid, *manuf, *model;
	char object[160];
	enum hsm_login_result lr;

	*why = EXIT_ERROR;
	snprintf(object, sizeof(object), "ca:%s", name);
	if ((ck = calloc(1, sizeof(*ck))) == NULL) {
		fatalx("out of memory");
	}
	switch (carow_token_load(db, name, &t)) {
	case -1:
		goto out;
	case 0:
		*why = EXIT_REFUSED;
		goto out;
	}
	ck->id = t.id;
	ck->name = strdup(name);
	ck->kind = t.kind;
	t.kind = NULL;
	ck->cert = t.cert;
	t.cert = NULL;
	if (ck->cert != NULL) {
		x509_sha256_hex(ck->cert, ck->cert_sha256);
	}
	module = t.module_path;
	serial = t.token_serial;
	keyid = t.key_id;
	manuf = t.manufacturer;
	model = t.model;
	if (t.key_destroyed != NULL) {
		log_warnx("ca %s: ES-KEY-03: key destroyed on %s", name,
		    t.key_destroyed);
		*why = EXIT_REFUSED;
		goto out;
	}
	if (!sig_alg_from_name(t.sig_alg, &ck->alg, name)) {
		goto out;
	}
	if ((ck->mod = hsm_module_load(module)) == NULL) {
		audit_append(db, actor, "token-open", object, NULL,
		    "refused: module not loadable", module);
		goto out;
	}
	if ((ck->tok = hsm_token_open(ck->mod, NULL, serial)) == NULL) {
		audit_append(db, actor, "token-open", object, NULL,
		    "refused: token missing", serial);
		goto out;
	}
	ti = hsm_token_get_info(ck->tok);
	if (strcmp(ti->manufacturer, manuf) != 0 || strcmp(ti->model, model) != 0) {
		log_warnx("ca %s: ES-HSM-ID-02: token %s reports %s/%s, key was "
		    "generated on %s/%s", name, serial, ti->manufacturer,
		    ti->model, manuf, model);
		audit_append(db, actor, "token-open", object, NULL,
		    "refused: token identity changed", serial);
		*why = EXIT_REFUSED;
		goto out;
	}
	lr = hsm_token_login(ck->tok, pin_source);
	if (lr != HSM_LOGIN_OK) {
		audit_append(db, actor, "token-login", object, NULL,
		    lr == HSM_LOGIN_BAD_PIN ? "refused: wrong PIN" :
		    lr == HSM_LOGIN_LOCKED ? "refused: PIN locked" :
		    lr == HSM_LOGIN_NO_SECRET ? "refused: no PIN" :
		    "refused: login error", serial);
		*why = lr == HSM_LOGIN_ERROR ? EXIT_ERROR : EXIT_REFUSED;
		goto out;
	}
	audit_append(db, actor, "token-login", object, NULL, "ok", serial);
	if ((ck->key = hsm_key_find(ck->tok, keyid)) == NULL) {
		goto out;
	}
	if (!hsm_key_provenance(ck->key, &prov)) {
		goto out;
	}
	if (!prov.local || !prov.always_sensitive || !prov.never_extractable ||
	    prov.extractable) {
		log_warnx("ca %s: ES-KEY-01: key %s provenance LOCAL=%d "
		    "ALWAYS_SENSITIVE=%d NEVER_EXTRACTABLE=%d EXTRACTABLE=%d; "
		    "refusing to sign", name, keyid, prov.local,
		    prov.always_sensitive, prov.never_extractable,
		    prov.extractable);
		*why = EXIT_REFUSED;
		goto out;
	}
	ret = ck;
	ck = NULL;
	*why = EXIT_OK;
out:
	ca_key_free(ck);
	carow_token_clear(&t);
	return ret;
}

static int
sign_with_key(void *arg, const unsigned char *msg, size_t msglen,
    unsigned char **sig, size_t *siglen)
{
	struct ca_key *ck = arg;
	EVP_MD_CTX *mctx = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	int ret = 0;

	*sig = NULL;
	if ((mctx = EVP_MD_CTX_new()) == NULL) {
		fatalx("out of memory");
	}
	if (!hsm_sign_init(mctx, ck->key, ck->alg)) {
		goto out;
	}
	if (EVP_DigestSign(mctx, NULL, &len, msg, msglen) != 1 ||
	    (buf = malloc(len)) == NULL ||
	    EVP_DigestSign(mctx, buf, &len, msg, msglen) != 1) {
		log_ssl("ca %s: cannot sign the audit head", ck->name);
		goto out;
	}
	/* Checked before it is stored, as "audit verify" will check it. */
	if (!sig_verify(X509_get0_pubkey(ck->cert), ck->alg, msg, msglen, buf,
	    len)) {
		log_ssl("ca %s: ES-HSM-SIG-01: the token's signature of the "
		    "audit head does not verify; not stored", ck->name);
		goto out;
	}
	*sig = buf;
	*siglen = len;
	buf = NULL;
	ret = 1;
out:
	free(buf);
	EVP_MD_CTX_free(mctx);
	return ret;
}

int
ca_audit_sign(struct db *db, struct ca_key *ck, const char *pin_source)
{
	struct ca_key *own = NULL;
	char *audit_ca = NULL;
	int ret = 0, why;

	if (ck == NULL || ck->cert == NULL) {
		audit_ca = db_meta_get(db, "audit_ca");
		if (audit_ca == NULL) {
			log_info("audit head left unsigned: no CA key yet "
			    "(the first ceremony signs it)");
			ret = 1;
			goto out;
		}
		if (pin_source == NULL) {
			log_warnx("notice: audit head left unsigned: give --pin "
			    "for CA %s's token to sign it (the next signed head "
			    "covers it)", audit_ca);
			ret = 1;
			goto out;
		}
		if ((own = ca_key_open(db, audit_ca, pin_source, "system",
		    &why)) == NULL) {
			goto out;
		}
		ck = own;
	}
	ret = audit_sign_head(db, sign_with_key, ck, ck->cert_sha256,
	    sig_alg_name(ck->alg));
out:
	ca_key_free(own);
	free(audit_ca);
	return ret;
}

int
x509_sign_with(X509 *x, EVP_PKEY *sw, struct hsm_key *hk, enum sig_alg alg,
    const char *what)
{
	EVP_MD_CTX *mctx;
	int ok;

	if ((mctx = EVP_MD_CTX_new()) == NULL) {
		fatalx("out of memory");
	}
	if (hk != NULL) {
		ok = hsm_sign_init(mctx, hk, alg);
	} else {
		ok = sig_ctx_init(mctx, sw, alg, NULL, NULL, what);
	}
	if (ok && X509_sign_ctx(x, mctx) <= 0) {
		log_ssl("%s: signing failed", what);
		ok = 0;
	}
	EVP_MD_CTX_free(mctx);
	return ok;
}

struct alg_policy *
ca_alg_policy(struct db *db)
{
	struct alg_policy *ap;
	char *text;

	if ((text = db_meta_get(db, "algorithm_policy")) == NULL ||
	    *text == '\0') {
		ap = alg_policy_default();
	} else {
		ap = alg_policy_parse(text, "stored algorithm policy");
	}
	free(text);
	text = NULL;
	if (ap != NULL && (text = db_meta_get(db,
	    "dated_algorithm_policies")) != NULL && *text != '\0' &&
	    !alg_policy_set_dated(&ap, text, "stored dated algorithm policy")) {
		alg_policy_free(ap);
		ap = NULL;
	}
	free(text);
	return ap;
}

struct ca_key *
ca_key_open_signing(struct db *db, const char *name, const char *pin_source,
    const char *actor, const char *object, const char *need_issuing,
    int *why)
{
	struct ca_key *ck;

	if ((ck = ca_key_open(db, name, pin_source, actor, why)) == NULL) {
		return NULL;
	}
	if (need_issuing != NULL &&
	    (ck->cert == NULL || strcmp(ck->kind, "issuing") != 0)) {
		log_warnx("ca %s: ES-CA-07: %s is made by an issuing CA with a "
		    "certificate", name, need_issuing);
		goto refused;
	}
	if (!gate_check(db, hsm_token_get_info(ck->tok), GATE_SIGN, actor,
	    object, NULL, 0, NULL, 0)) {
		goto refused;
	}
	return ck;
refused:
	ca_key_free(ck);
	*why = EXIT_REFUSED;
	return NULL;
}

X509_REQ *
csr_read_file(const char *path, unsigned char **der, int *derlen)
{
	unsigned char *buf = NULL, *out = NULL;
	const unsigned char *p;
	X509_REQ *req = NULL;
	BIO *bio = NULL;
	size_t len;
	int n;

	*der = NULL;
	if (!file_read(path, 1 << 20, &buf, &len)) {
		goto out;
	}
	if (len > 11 && memcmp(buf, "-----BEGIN ", 11) == 0) {
		if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
		    (req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL)) ==
		    NULL) {
			log_ssl("%s: not a PEM CSR", path);
		}
	} else {
		p = buf;
		if ((req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL) {
			log_ssl("%s: not a DER CSR", path);
		} else if (p != buf + len) {
			log_warnx("%s: %td bytes trailing garbage after the CSR",
			    path, (ptrdiff_t)(buf + len - p));
			X509_REQ_free(req);
			req = NULL;
		}
	}
	if (req == NULL) {
		goto out;
	}
	if ((n = i2d_X509_REQ(req, &out)) <= 0) {
		log_ssl("%s: cannot encode the CSR", path);
		X509_REQ_free(req);
		req = NULL;
		goto out;
	}
	*der = out;
	*derlen = n;
out:
	BIO_free(bio);
	free(buf);
	return req;
}

/* The file the loader mapped for the loaded module at path, else path. */
static void
module_file(const char *path, char *buf, size_t bufsz)
{
	Dl_info di;
	void *h, *sym;

	snprintf(buf, bufsz, "%s", path);
	/* RTLD_NOLOAD: the handle of the mapping hsm_module_load() made. */
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD)) == NULL) {
		return;
	}
	sym = dlsym(h, "C_GetFunctionList");
	if (sym != NULL && dladdr(sym, &di) != 0 && di.dli_fname != NULL &&
	    di.dli_fname[0] == '/') {
		snprintf(buf, bufsz, "%s", di.dli_fname);
	}
	dlclose(h);
}

int
ca_binaries_hash(const char *module_path, struct ca_binaries *b)
{
	ssize_t n;

	memset(b, 0, sizeof(*b));
	module_file(module_path, b->module, sizeof(b->module));
	if ((n = readlink("/proc/self/exe", b->exe, sizeof(b->exe) - 1)) ==
	    -1) {
		log_warn("/proc/self/exe");
		return 0;
	}
	b->exe[n] = '\0';
	return sha256_file_hex("/proc/self/exe", b->exe_sha256) &&
	    sha256_file_hex(b->module, b->module_sha256);
}

int
ca_binaries_audit(struct db *db, const char *who, const char *object,
    const struct ca_binaries *b)
{
	char *detail = NULL;
	int ok;

	if (asprintf(&detail, "eseal-ca %s %s; module %s %s", b->exe_sha256,
	    b->exe, b->module_sha256, b->module) == -1) {
		fatalx("out of memory");
	}
	ok = audit_append(db, who, "ceremony-binaries", object, b->exe_sha256,
	    "ok", detail);
	free(detail);
	return ok;
}
