/*
 * "eseal-ca ocsp-signer issue": the delegated OCSP signing certificate
 * (RFC 6960 4.2.2.2): EKU id-kp-OCSPSigning, id-pkix-ocsp-nocheck,
 * digitalSignature only, CA:FALSE, short-lived (ES-OCSPD-07); linted as
 * a throw-away copy before the issuing CA signs it on its token.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "i18n.h"
#include "args.h"
#include "audit.h"
#include "ca.h"
#include "cacert.h"
#include "carow.h"
#include "certrow.h"
#include "eecert.h"
#include "gate.h"
#include "lint.h"
#include "log.h"
#include "operators.h"
#include "util.h"

#define MAX_OFFICERS 16

static void
signer_usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca ocsp-signer issue --ca NAME --csr FILE --out FILE --pin SRC\n"
	    "                                  --officer NAME=SRC... [--validity-days N]\n"
	    "  Issues the delegated OCSP signing certificate (RFC 6960 4.2.2.2) for\n"
	    "  the key in the CSR: id-kp-OCSPSigning, id-pkix-ocsp-nocheck,\n"
	    "  keyUsage digitalSignature, CA:FALSE; 30 days by default, at most 90.\n"));
}

static int
add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value,
    const char *what)
{
	X509_EXTENSION *ext;

	ERR_clear_error();
	if ((ext = X509V3_EXT_nconf_nid(ctx->db, ctx, nid, value)) == NULL ||
	    !X509_add_ext(x, ext, -1)) {
		log_ssl("%s: cannot add extension %s", what, OBJ_nid2sn(nid));
		X509_EXTENSION_free(ext);
		return 0;
	}
	X509_EXTENSION_free(ext);
	return 1;
}

/* Build the unsigned OCSP signer certificate.  NULL (logged). */
static X509 *
signer_build(X509 *ca, EVP_PKEY *pub, X509_NAME *subject, const char *serial,
    time_t nb, time_t na, const char *ca_issuers, const char *what)
{
	X509 *x = NULL, *ret = NULL;
	CONF *conf = NULL;
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	X509V3_CTX ctx;
	char buf[512];

	if ((x = X509_new()) == NULL || (conf = NCONF_new_ex(NULL, NULL)) ==
	    NULL) {
		fatalx("out of memory");
	}
	if (!BN_hex2bn(&bn, serial) || (sn = BN_to_ASN1_INTEGER(bn, NULL)) ==
	    NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, sn) ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca)) ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &nb) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &na) == NULL ||
	    !X509_set_pubkey(x, pub)) {
		log_ssl("%s: cannot build the OCSP signer certificate", what);
		goto out;
	}
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	X509V3_set_nconf(&ctx, conf);
	snprintf(buf, sizeof(buf), "caIssuers;URI:%s", ca_issuers);
	if (!add_conf_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE",
	    what) ||
	    !add_conf_ext(x, &ctx, NID_key_usage, "critical,digitalSignature",
	    what) ||
	    !add_conf_ext(x, &ctx, NID_ext_key_usage, "OCSPSigning", what) ||
	    !add_conf_ext(x, &ctx, NID_id_pkix_OCSP_noCheck, "ignored", what) ||
	    !add_conf_ext(x, &ctx, NID_subject_key_identifier, "hash", what) ||
	    !add_conf_ext(x, &ctx, NID_authority_key_identifier, "keyid:always",
	    what) ||
	    !add_conf_ext(x, &ctx, NID_info_access, buf, what)) {
		goto out;
	}
	ret = x;
	x = NULL;
out:
	BN_free(bn);
	ASN1_INTEGER_free(sn);
	NCONF_free(conf);
	X509_free(x);
	return ret;
}

static int
signer_issue(struct db *db, const struct args *a)
{
	struct quorum q = { 0 };
	struct ca_key *ck = NULL;
	struct ca_row *row = NULL;
	struct findings f;
	struct lint_opts lo;
	struct certrow_new cr;
	X509_REQ *req = NULL;
	X509 *cert = NULL;
	EVP_PKEY *tk = NULL;
	unsigned char *csrder = NULL, *der = NULL;
	char *specs[MAX_OFFICERS], *who = NULL, *subj = NULL;
	char serial[33], sha[65], nb[32], na[32], now[32], object[160];
	const char *name = args_get(a, "ca"), *ca_issuers;
	long days = 30;
	int ret = EXIT_ERROR, why, csrlen, derlen, capped;
	time_t tnb, tna;

	findings_init(&f);
	snprintf(object, sizeof(object), "ca:%s", name);
	if (args_get(a, "validity-days") != NULL) {
		days = strtol(args_get(a, "validity-days"), NULL, 10);
		if (days < 1 || days > 90) {
			log_warnx("ocsp-signer: --validity-days must be 1..90 "
			    "(ES-OCSPD-07: delegated signers are short-lived)");
			ret = EXIT_USAGE;
			goto out;
		}
	}
	if ((req = csr_read_file(args_get(a, "csr"), &csrder, &csrlen)) ==
	    NULL) {
		goto out;
	}
	if (X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1) {
		ERR_clear_error();
		log_warnx("%s: ES-CSR-01: the CSR's self-signature does not "
		    "verify", args_get(a, "csr"));
		ret = EXIT_REFUSED;
		goto out;
	}
	if (!quorum_gather(db, specs, args_all(a, "officer", specs,
	    MAX_OFFICERS), quorum_size(db), ROLE_OFFICER, "ocsp-signer-issue",
	    &q)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	who = quorum_names(&q);
	if ((row = ca_row_load(db, name)) == NULL) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if ((ca_issuers = ca_setting(row, "ca-issuers-url")) == NULL) {
		log_warnx("ca %s: ES-CA-08: settings lack \"ca-issuers-url\"",
		    name);
		ret = EXIT_REFUSED;
		goto out;
	}
	if ((ck = ca_key_open_signing(db, name, args_get(a, "pin"), who,
	    object, "the OCSP signer", &why)) == NULL) {
		ret = why;
		goto out;
	}
	if (!eecert_new_serial(db, serial)) {
		goto out;
	}
	tnb = now_utc();
	tna = eecert_not_after(ck->cert, tnb, (int)days, &capped);
	if ((cert = signer_build(ck->cert, X509_REQ_get0_pubkey(req),
	    X509_REQ_get_subject_name(req), serial, tnb, tna, ca_issuers,
	    object)) == NULL) {
		goto out;
	}
	/* Throw-away copy first: same contents, ephemeral signer, linted. */
	if ((tk = throwaway_key(key_alg_of_pkey(hsm_key_public(ck->key)))) ==
	    NULL || !x509_sign_with(cert, tk, NULL, ck->alg, object)) {
		goto out;
	}
	memset(&lo, 0, sizeof(lo));
	lo.kind = LINT_OCSP_SIGNER;
	lo.issuer = ck->cert;
	lo.throwaway = 1;
	if (!lint_certificate(cert, &lo, &f)) {
		findings_log_fails(&f, object);
		audit_append(db, who, "ocsp-signer-issue", object, NULL,
		    "refused: lint", args_get(a, "csr"));
		ret = EXIT_REFUSED;
		goto out;
	}
	if (!x509_sign_with(cert, NULL, ck->key, ck->alg, object) ||
	    X509_verify(cert, X509_get0_pubkey(ck->cert)) != 1) {
		log_ssl("%s: signing the OCSP signer certificate failed", object);
		goto out;
	}
	x509_sha256_hex(cert, sha);
	if ((derlen = i2d_X509(cert, &der)) <= 0) {
		log_ssl("%s: cannot encode", object);
		goto out;
	}
	subj = x509_name_str(X509_get_subject_name(cert));
	time_fmt(tnb, nb, sizeof(nb));
	time_fmt(tna, na, sizeof(na));
	time_fmt(now_utc(), now, sizeof(now));
	if (!db_begin(db)) {
		goto out;
	}
	memset(&cr, 0, sizeof(cr));
	cr.ca_id = ck->id;
	cr.serial = serial;
	cr.subject = subj;
	cr.profile = "ocsp-signer";
	cr.not_before = nb;
	cr.not_after = na;
	cr.der = der;
	cr.der_len = derlen;
	cr.sha256 = sha;
	cr.issued = now;
	cr.partition = -1;
	if (!certrow_insert(db, &cr) ||
	    !audit_append(db, who, "ocsp-signer-issue", object, sha, "ok",
	    serial) || !db_commit(db)) {
		db_log_error(db, "record the OCSP signer certificate");
		db_rollback(db);
		goto out;
	}
	if (!x509_write_pem(cert, args_get(a, "out"))) {
		goto out;
	}
	printf(_("%s: OCSP signer certificate %s (serial %s, valid to %s, "
	    "approved by %s)\n"), args_get(a, "out"), sha, serial, na, who);
	ret = ca_audit_sign(db, ck, NULL) ? EXIT_OK : EXIT_ERROR;
out:
	findings_free(&f);
	quorum_free(&q);
	ca_key_free(ck);
	ca_row_free(row);
	X509_REQ_free(req);
	X509_free(cert);
	EVP_PKEY_free(tk);
	OPENSSL_free(csrder);
	OPENSSL_free(der);
	free(who);
	free(subj);
	return ret;
}

int
cmd_ocsp_signer(int argc, char **argv)
{
	static const char *const valued[] = { "ca", "csr", "out", "pin",
	    "officer", "validity-days", NULL };
	struct args a;
	struct db *db = NULL;
	int ret;

	if (!args_start(argc, argv, valued, NULL, &a, signer_usage, &ret)) {
		return ret;
	}
	if (a.npos != 1 || strcmp(a.pos[0], "issue") != 0 ||
	    !args_need(&a, "ca", "ocsp-signer issue") ||
	    !args_need(&a, "csr", "ocsp-signer issue") ||
	    !args_need(&a, "out", "ocsp-signer issue") ||
	    !args_need(&a, "pin", "ocsp-signer issue")) {
		signer_usage(stderr);
		return EXIT_USAGE;
	}
	if (!out_path_writable(args_get(&a, "out"), "ocsp-signer issue --out")) {
		return EXIT_USAGE;
	}
	if ((db = ca_open_db()) == NULL) {
		return EXIT_ERROR;
	}
	ret = signer_issue(db, &a);
	db_close(db);
	return ret;
}
