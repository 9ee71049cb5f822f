/*
 * Test driver for the HSM layer: one subcommand per operation, so that
 * tests/hsm.test can check each result with the openssl CLI.  Exit 0 on
 * success, 1 on failure (the reason is logged on stderr).
 *
 *   list MODULE
 *   login MODULE LABEL PINSRC
 *   cansign MODULE LABEL SIGALG          prints yes/no
 *   gen MODULE LABEL PINSRC KEYALG KEYLABEL   prints the key id
 *   find|prov|destroy|export|readpriv MODULE LABEL PINSRC KEYID
 *   selfsign MODULE LABEL PINSRC KEYID SIGALG OUT.pem
 *   crl|req MODULE LABEL PINSRC KEYID SIGALG CA.pem OUT.pem
 *   ocsp MODULE LABEL PINSRC KEYID SIGALG CA.pem OUT.der
 *   cms MODULE LABEL PINSRC KEYID SIGALG CA.pem IN OUT.der
 *   sigdigest MODULE LABEL PINSRC KEYID SIGALG IN OUT.sig PUB.pem
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "hsm/hsm.h"
#include "hsm/hsm-int.h"
#include "log.h"
#include "sigalg.h"
#include "util.h"

static struct hsm_module *mod;
static struct hsm_token *tok;
static struct hsm_key *key;

static int
usage(void)
{
	fprintf(stderr, "usage: test-hsm list|login|cansign|gen|find|prov|"
	    "destroy|export|selfsign|crl|req|ocsp|cms|sigdigest ...\n");
	return 2;
}

/* Load MODULE, open LABEL, log in with PINSRC (if given), find KEYID (if given). */
static int
setup(const char *module, const char *label, const char *pinsrc,
    const char *keyid)
{
	if ((mod = hsm_module_load(module)) == NULL ||
	    (tok = hsm_token_open(mod, label, NULL)) == NULL) {
		return 0;
	}
	if (pinsrc != NULL && hsm_token_login(tok, pinsrc) != HSM_LOGIN_OK) {
		return 0;
	}
	if (keyid != NULL && (key = hsm_key_find(tok, keyid)) == NULL) {
		return 0;
	}
	return 1;
}

static void
teardown(void)
{
	hsm_key_free(key);
	hsm_token_close(tok);
	hsm_module_free(mod);
}

static X509 *
read_cert(const char *path)
{
	X509 *x = NULL;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	if ((x = PEM_read_X509(fp, NULL, NULL, NULL)) == NULL) {
		log_ssl("%s: not a PEM certificate", path);
	}
	fclose(fp);
	return x;
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL) {
		log_ssl("extension %s", OBJ_nid2sn(nid));
		return 0;
	}
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static EVP_MD_CTX *
sign_ctx(const char *signame)
{
	EVP_MD_CTX *m;
	enum sig_alg alg;

	if (!sig_alg_from_name(signame, &alg, "test-hsm")) {
		return NULL;
	}
	if ((m = EVP_MD_CTX_new()) == NULL) {
		fatalx("out of memory");
	}
	if (!hsm_sign_init(m, key, alg)) {
		EVP_MD_CTX_free(m);
		return NULL;
	}
	return m;
}

static int
write_pem(const char *path, int (*fn)(BIO *, const void *), const void *obj)
{
	BIO *b;
	int ok;

	if ((b = BIO_new_file(path, "w")) == NULL) {
		log_ssl("%s", path);
		return 0;
	}
	ok = fn(b, obj);
	BIO_free(b);
	return ok;
}

static int
cmd_list(const char *module)
{
	struct hsm_token_info *t = NULL;
	struct hsm_mech *m = NULL;
	size_t n, nm, i, j;

	if ((mod = hsm_module_load(module)) == NULL ||
	    !hsm_module_tokens(mod, &t, &n)) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		printf("token slot=%lu label=\"%s\" manufacturer=\"%s\" "
		    "model=\"%s\" serial=\"%s\" hw=%u.%u fw=%u.%u flags=0x%lx "
		    "error_state=%d cmvp=\"%s\"\n", t[i].slot_id, t[i].label,
		    t[i].manufacturer, t[i].model, t[i].serial, t[i].hw_major,
		    t[i].hw_minor, t[i].fw_major, t[i].fw_minor, t[i].flags,
		    t[i].error_state, t[i].cmvp_cert);
		printf("library manufacturer=\"%s\" description=\"%s\" "
		    "version=%u.%u cryptoki=%u.%u\n", t[i].lib_manufacturer,
		    t[i].lib_description, t[i].lib_major, t[i].lib_minor,
		    t[i].cryptoki_major, t[i].cryptoki_minor);
		if (!hsm_module_mechanisms(mod, t[i].slot_id, &m, &nm)) {
			free(t);
			return 0;
		}
		for (j = 0; j < nm; j++) {
			printf("mech %s min=%lu max=%lu flags=0x%lx\n",
			    m[j].name, m[j].min_key, m[j].max_key, m[j].flags);
		}
		free(m);
	}
	free(t);
	return 1;
}

static int
cmd_prov(void)
{
	struct hsm_provenance p;

	if (!hsm_key_provenance(key, &p)) {
		return 0;
	}
	printf("token=%d private=%d sensitive=%d local=%d always_sensitive=%d "
	    "never_extractable=%d extractable=%d keygen=0x%lx\n", p.token,
	    p.private_, p.sensitive, p.local, p.always_sensitive,
	    p.never_extractable, p.extractable, p.keygen_mech);
	return 1;
}

/* Every way OpenSSL has to get at the private key must fail. */
static int
cmd_export(void)
{
	EVP_PKEY *pk = hsm_key_private(key);
	OSSL_PARAM *params = NULL;
	BIO *b = NULL;
	int leaked = 0;

	if (pk == NULL) {
		return 0;
	}
	if (EVP_PKEY_todata(pk, EVP_PKEY_KEYPAIR, &params) == 1) {
		leaked = 1;
	}
	OSSL_PARAM_free(params);
	if ((b = BIO_new(BIO_s_mem())) == NULL) {
		fatalx("out of memory");
	}
	if (PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) == 1 &&
	    BIO_number_written(b) > 0) {
		leaked = 1;
	}
	BIO_free(b);
	ERR_clear_error();
	if (leaked) {
		printf("private key exported\n");
		return 1;
	}
	log_warnx("key %s: cannot export the private key", hsm_key_id(key));
	return 0;
}

static int
cmd_selfsign(const char *signame, const char *out)
{
	X509 *x = NULL;
	X509_NAME *name;
	EVP_MD_CTX *m = NULL;
	char cn[64];
	int ok = 0;

	snprintf(cn, sizeof(cn), "eseal test CA %s", signame);
	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL) {
		fatalx("out of memory");
	}
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    !X509_set_pubkey(x, hsm_key_public(key)) ||
	    !add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(x, x, NID_key_usage,
	    "critical,digitalSignature,keyCertSign,cRLSign") ||
	    !add_ext(x, x, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, x, NID_authority_key_identifier, "keyid:always")) {
		X509_NAME_free(name);
		log_ssl("building the certificate");
		goto out;
	}
	X509_NAME_free(name);
	if ((m = sign_ctx(signame)) == NULL) {
		goto out;
	}
	if (X509_sign_ctx(x, m) <= 0) {
		log_ssl("X509_sign_ctx");
		goto out;
	}
	if (X509_verify(x, hsm_key_public(key)) != 1) {
		log_ssl("X509_verify");
		goto out;
	}
	ok = write_pem(out, (int (*)(BIO *, const void *))PEM_write_bio_X509,
	    x);
out:
	EVP_MD_CTX_free(m);
	X509_free(x);
	return ok;
}

static int
cmd_crl(const char *signame, const char *capath, const char *out)
{
	X509 *ca = NULL;
	X509_CRL *crl = NULL;
	X509_REVOKED *rev = NULL;
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *serial = NULL, *num = NULL;
	EVP_MD_CTX *m = NULL;
	int ok = 0;

	if ((ca = read_cert(capath)) == NULL) {
		goto out;
	}
	if ((crl = X509_CRL_new()) == NULL || (rev = X509_REVOKED_new()) ==
	    NULL || (t = X509_gmtime_adj(NULL, 0)) == NULL ||
	    (serial = ASN1_INTEGER_new()) == NULL ||
	    (num = ASN1_INTEGER_new()) == NULL) {
		fatalx("out of memory");
	}
	if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) ||
	    !X509_CRL_set1_lastUpdate(crl, t) ||
	    X509_gmtime_adj(t, 86400) == NULL ||
	    !X509_CRL_set1_nextUpdate(crl, t) ||
	    !ASN1_INTEGER_set(serial, 42) ||
	    !X509_REVOKED_set_serialNumber(rev, serial) ||
	    X509_gmtime_adj(t, -60) == NULL ||
	    !X509_REVOKED_set_revocationDate(rev, t) ||
	    !X509_CRL_add0_revoked(crl, rev)) {
		log_ssl("building the CRL");
		goto out;
	}
	rev = NULL;
	if (!ASN1_INTEGER_set(num, 7) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0)) {
		log_ssl("CRL number");
		goto out;
	}
	X509_CRL_sort(crl);
	if ((m = sign_ctx(signame)) == NULL) {
		goto out;
	}
	if (X509_CRL_sign_ctx(crl, m) <= 0) {
		log_ssl("X509_CRL_sign_ctx");
		goto out;
	}
	ok = write_pem(out,
	    (int (*)(BIO *, const void *))PEM_write_bio_X509_CRL, crl);
out:
	EVP_MD_CTX_free(m);
	ASN1_INTEGER_free(serial);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	X509_REVOKED_free(rev);
	X509_CRL_free(crl);
	X509_free(ca);
	return ok;
}

static int
cmd_req(const char *signame, const char *capath, const char *out)
{
	X509 *ca = NULL;
	X509_REQ *req = NULL;
	EVP_MD_CTX *m = NULL;
	int ok = 0;

	if ((ca = read_cert(capath)) == NULL) {
		goto out;
	}
	if ((req = X509_REQ_new()) == NULL) {
		fatalx("out of memory");
	}
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, X509_get_subject_name(ca)) ||
	    !X509_REQ_set_pubkey(req, hsm_key_public(key))) {
		log_ssl("building the request");
		goto out;
	}
	if ((m = sign_ctx(signame)) == NULL) {
		goto out;
	}
	if (X509_REQ_sign_ctx(req, m) <= 0) {
		log_ssl("X509_REQ_sign_ctx");
		goto out;
	}
	ok = write_pem(out,
	    (int (*)(BIO *, const void *))PEM_write_bio_X509_REQ, req);
out:
	EVP_MD_CTX_free(m);
	X509_REQ_free(req);
	X509_free(ca);
	return ok;
}

static int
cmd_ocsp(const char *signame, const char *capath, const char *out)
{
	X509 *ca = NULL;
	OCSP_CERTID *cid = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	ASN1_TIME *thisupd = NULL, *nextupd = NULL;
	EVP_MD_CTX *m = NULL;
	unsigned char *der = NULL;
	int len, ok = 0;

	if ((ca = read_cert(capath)) == NULL) {
		goto out;
	}
	if ((bs = OCSP_BASICRESP_new()) == NULL ||
	    (cid = OCSP_cert_to_id(NULL, ca, ca)) == NULL ||
	    (thisupd = X509_gmtime_adj(NULL, 0)) == NULL ||
	    (nextupd = X509_gmtime_adj(NULL, 3600)) == NULL) {
		fatalx("out of memory");
	}
	if (OCSP_basic_add1_status(bs, cid, V_OCSP_CERTSTATUS_GOOD, 0, NULL,
	    thisupd, nextupd) == NULL) {
		log_ssl("OCSP_basic_add1_status");
		goto out;
	}
	if ((m = sign_ctx(signame)) == NULL) {
		goto out;
	}
	if (OCSP_basic_sign_ctx(bs, ca, m, NULL, 0) != 1) {
		log_ssl("OCSP_basic_sign_ctx");
		goto out;
	}
	if ((resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
	    bs)) == NULL || (len = i2d_OCSP_RESPONSE(resp, &der)) <= 0) {
		log_ssl("OCSP_response_create");
		goto out;
	}
	ok = file_write_atomic(out, der, len, 0644);
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(m);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(cid);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	X509_free(ca);
	return ok;
}

/*
 * CMS SignedData with the token key: the CMS object must be created in
 * hsm_libctx() so that CMS_final's signing finds the eseal-hsm provider.
 */
static int
cmd_cms(const char *signame, const char *capath, const char *in,
    const char *out)
{
	X509 *ca = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	EVP_PKEY_CTX *pctx;
	EVP_MD *md = NULL;
	BIO *data = NULL, *o = NULL;
	enum sig_alg alg;
	unsigned int flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
	int ok = 0;

	if (!sig_alg_from_name(signame, &alg, "test-hsm") ||
	    (ca = read_cert(capath)) == NULL) {
		goto out;
	}
	if (hsm_key_private(key) == NULL) {
		goto out;
	}
	if ((data = BIO_new_file(in, "rb")) == NULL) {
		log_ssl("%s", in);
		goto out;
	}
	if ((md = EVP_MD_fetch(hsm_libctx(), sig_alg_digest(alg),
	    "provider=default")) == NULL ||
	    (cms = CMS_sign_ex(NULL, NULL, NULL, NULL, flags, hsm_libctx(),
	    hsm_propq())) == NULL) {
		log_ssl("CMS_sign_ex");
		goto out;
	}
	if ((si = CMS_add1_signer(cms, ca, hsm_key_private(key), md,
	    flags | (sig_alg_is_pss(alg) ? CMS_KEY_PARAM : 0))) == NULL) {
		log_ssl("CMS_add1_signer");
		goto out;
	}
	if (sig_alg_is_pss(alg)) {
		pctx = CMS_SignerInfo_get0_pkey_ctx(si);
		if (EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) <= 0) {
			log_ssl("CMS PSS parameters");
			goto out;
		}
	}
	if (!CMS_final(cms, data, NULL, flags)) {
		log_ssl("CMS_final");
		goto out;
	}
	if ((o = BIO_new_file(out, "wb")) == NULL ||
	    !i2d_CMS_bio(o, cms)) {
		log_ssl("%s", out);
		goto out;
	}
	ok = 1;
out:
	BIO_free(o);
	BIO_free(data);
	CMS_ContentInfo_free(cms);
	EVP_MD_free(md);
	X509_free(ca);
	return ok;
}

static int
cmd_sigdigest(const char *signame, const char *in, const char *out,
    const char *pubout)
{
	unsigned char *buf = NULL, *sig = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	size_t len, siglen;
	enum sig_alg alg;
	int ok = 0;

	if (!sig_alg_from_name(signame, &alg, "test-hsm") ||
	    !file_read(in, 1 << 20, &buf, &len)) {
		goto out;
	}
	if (alg == SIG_ED25519) {
		/* PureEdDSA: the token signs the message itself. */
		if (len > sizeof(md)) {
			log_warnx("%s: too long for this test", in);
			goto out;
		}
		memcpy(md, buf, len);
		mdlen = len;
	} else if (!EVP_Digest(buf, len, md, &mdlen,
	    EVP_get_digestbyname(sig_alg_digest(alg)), NULL)) {
		log_ssl("EVP_Digest");
		goto out;
	}
	if (!hsm_sign_digest(key, alg, md, mdlen, &sig, &siglen) ||
	    !file_write_atomic(out, sig, siglen, 0644) ||
	    !write_pem(pubout,
	    (int (*)(BIO *, const void *))PEM_write_bio_PUBKEY,
	    hsm_key_public(key))) {
		goto out;
	}
	ok = 1;
out:
	free(buf);
	free(sig);
	return ok;
}

int
main(int argc, char *argv[])
{
	const char *cmd;
	enum key_alg k;
	enum sig_alg alg;
	int ok = 0;

	log_init("test-hsm");
	if (argc < 3) {
		return usage();
	}
	cmd = argv[1];
	if (strcmp(cmd, "list") == 0 && argc == 3) {
		ok = cmd_list(argv[2]);
	} else if (strcmp(cmd, "login") == 0 && argc == 5) {
		ok = setup(argv[2], argv[3], argv[4], NULL);
	} else if (strcmp(cmd, "cansign") == 0 && argc == 5) {
		if ((ok = sig_alg_from_name(argv[4], &alg, "test-hsm") &&
		    setup(argv[2], argv[3], NULL, NULL))) {
			printf("%s\n", hsm_token_can_sign(tok, alg) ? "yes" :
			    "no");
		}
	} else if (strcmp(cmd, "gen") == 0 && argc == 7) {
		if (key_alg_from_name(argv[5], &k, "test-hsm") &&
		    setup(argv[2], argv[3], argv[4], NULL) &&
		    (key = hsm_key_generate(tok, k, argv[6])) != NULL) {
			printf("%s\n", hsm_key_id(key));
			ok = 1;
		}
	} else if (argc == 6 && (strcmp(cmd, "find") == 0 ||
	    strcmp(cmd, "prov") == 0 || strcmp(cmd, "destroy") == 0 ||
	    strcmp(cmd, "export") == 0 || strcmp(cmd, "readpriv") == 0)) {
		if (!setup(argv[2], argv[3], argv[4], argv[5])) {
			ok = 0;
		} else if (strcmp(cmd, "find") == 0) {
			printf("%s %s %s\n", hsm_key_id(key),
			    key_alg_name(hsm_key_alg(key)), hsm_key_label(key));
			ok = 1;
		} else if (strcmp(cmd, "prov") == 0) {
			ok = cmd_prov();
		} else if (strcmp(cmd, "export") == 0) {
			ok = cmd_export();
		} else if (strcmp(cmd, "readpriv") == 0) {
			char why[256];

			if ((ok = hsm_key_secret_readable(key, why,
			    sizeof(why)))) {
				printf("private key readable: %s\n", why);
			} else {
				log_warnx("key %s: private key material not "
				    "readable (%s)", hsm_key_id(key), why);
			}
		} else {
			ok = hsm_key_destroy(key);
			key = NULL;
		}
	} else if (strcmp(cmd, "selfsign") == 0 && argc == 8) {
		ok = setup(argv[2], argv[3], argv[4], argv[5]) &&
		    cmd_selfsign(argv[6], argv[7]);
	} else if (strcmp(cmd, "crl") == 0 && argc == 9) {
		ok = setup(argv[2], argv[3], argv[4], argv[5]) &&
		    cmd_crl(argv[6], argv[7], argv[8]);
	} else if (strcmp(cmd, "req") == 0 && argc == 9) {
		ok = setup(argv[2], argv[3], argv[4], argv[5]) &&
		    cmd_req(argv[6], argv[7], argv[8]);
	} else if (strcmp(cmd, "ocsp") == 0 && argc == 9) {
		ok = setup(argv[2], argv[3], argv[4], argv[5]) &&
		    cmd_ocsp(argv[6], argv[7], argv[8]);
	} else if (strcmp(cmd, "cms") == 0 && argc == 10) {
		ok = setup(argv[2], argv[3], argv[4], argv[5]) &&
		    cmd_cms(argv[6], argv[7], argv[8], argv[9]);
	} else if (strcmp(cmd, "sigdigest") == 0 && argc == 10) {
		ok = setup(argv[2], argv[3], argv[4], argv[5]) &&
		    cmd_sigdigest(argv[6], argv[7], argv[8], argv[9]);
	} else {
		return usage();
	}
	teardown();
	return ok ? 0 : 1;
}
