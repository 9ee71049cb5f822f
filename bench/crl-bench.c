/*
 * Benchmark driver for libcrl (run by bench/crl, never by make check):
 * writes a CRL for a text file of revocations, signing either on a
 * PKCS#11 token through libhsm (hsm_sign_digest, as eseal-ca does) or,
 * with --key, with a software key (labelled so by the script).
 */
#include "config.h"

#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "crl/crl.h"
#include "hsm/hsm.h"
#include "log.h"
#include "util.h"

static int
token_sign(void *arg, enum sig_alg alg, const unsigned char *md,
    size_t mdlen, unsigned char **sig, size_t *siglen)
{
	return hsm_sign_digest(arg, alg, md, mdlen, sig, siglen);
}

static int
soft_sign(void *arg, enum sig_alg alg, const unsigned char *md, size_t mdlen,
    unsigned char **sig, size_t *siglen)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_MD *h = NULL;
	int ret = 0;

	*sig = NULL;
	if ((h = EVP_MD_fetch(NULL, sig_alg_digest(alg), NULL)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, arg, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, h) <= 0 ||
	    (sig_alg_is_pss(alg) &&
	    (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, h) <= 0)) ||
	    EVP_PKEY_sign(ctx, NULL, siglen, md, mdlen) <= 0) {
		goto out;
	}
	if ((*sig = malloc(*siglen)) == NULL) {
		fatalx("out of memory");
	}
	if (EVP_PKEY_sign(ctx, *sig, siglen, md, mdlen) <= 0) {
		free(*sig);
		*sig = NULL;
		goto out;
	}
	ret = 1;
out:
	if (!ret) {
		log_ssl("software signer");
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_MD_free(h);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "alg", required_argument, NULL, 'a' },
		{ "entries", required_argument, NULL, 'e' },
		{ "out", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "module", required_argument, NULL, 'm' },
		{ "token", required_argument, NULL, 't' },
		{ "pin", required_argument, NULL, 'p' },
		{ "key-id", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 }
	};
	struct crl_params p;
	struct crl_stats st;
	struct crl_iter it;
	struct crl_file *f = NULL;
	char *outdir = NULL;
	struct hsm_module *mod = NULL;
	struct hsm_token *tok = NULL;
	struct hsm_key *key = NULL;
	EVP_PKEY *soft = NULL;
	FILE *fp;
	const char *entries = NULL, *out = NULL, *module = NULL, *token = NULL;
	const char *pin = NULL, *keyid = NULL, *keyfile = NULL;
	int c, ret = 1;

	log_init(argv[0]);
	memset(&p, 0, sizeof(p));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if ((fp = fopen(optarg, "r")) == NULL ||
			    (p.issuer = PEM_read_X509(fp, NULL, NULL, NULL)) ==
			    NULL) {
				log_ssl("%s", optarg);
				goto out;
			}
			fclose(fp);
			break;
		case 'a':
			if (!sig_alg_from_name(optarg, &p.alg, "--alg")) {
				goto out;
			}
			break;
		case 'e':
			entries = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'm':
			module = optarg;
			break;
		case 't':
			token = optarg;
			break;
		case 'p':
			pin = optarg;
			break;
		case 'i':
			keyid = optarg;
			break;
		default:
			goto out;
		}
	}
	if (p.issuer == NULL || p.alg == SIG_NONE || entries == NULL ||
	    out == NULL || (keyfile == NULL && (module == NULL ||
	    token == NULL || pin == NULL || keyid == NULL))) {
		log_warnx("usage: crl-bench --ca PEM --alg ALG --entries FILE "
		    "--out FILE (--key PEM | --module SO --token LABEL "
		    "--pin SOURCE --key-id HEX)");
		goto out;
	}
	if (keyfile != NULL) {
		if ((fp = fopen(keyfile, "r")) == NULL ||
		    (soft = PEM_read_PrivateKey(fp, NULL, NULL, NULL)) == NULL) {
			log_ssl("%s", keyfile);
			goto out;
		}
		fclose(fp);
		p.sign = soft_sign;
		p.sign_arg = soft;
	} else {
		if ((mod = hsm_module_load(module)) == NULL ||
		    (tok = hsm_token_open(mod, token, NULL)) == NULL ||
		    hsm_token_login(tok, pin) != HSM_LOGIN_OK ||
		    (key = hsm_key_find(tok, keyid)) == NULL) {
			goto out;
		}
		p.sign = token_sign;
		p.sign_arg = key;
	}
	p.this_update = now_utc();
	p.next_update = p.this_update + 7 * 86400;
	p.number = 1;
	p.scope = CRL_SCOPE_USER;
	p.idp_uri = "http://crl.example/bench.crl";
	p.pem = 1;
	/*
	 * As eseal-ca crl does: the entries file is parsed once, the
	 * encoder's later passes re-read its spill beside the output.
	 */
	if ((outdir = strdup(out)) == NULL) {
		fatalx("out of memory");
	}
	p.spill_dir = dirname(outdir);
	if ((f = crl_file_open(entries)) == NULL) {
		goto out;
	}
	crl_file_iter(f, &it);
	if (!crl_write(out, &p, &it, &st)) {
		goto out;
	}
	fprintf(stderr, "%llu entries, %llu bytes\n",
	    (unsigned long long)st.entries, (unsigned long long)st.bytes);
	ret = 0;
out:
	free(outdir);
	crl_file_free(f);
	hsm_key_free(key);
	hsm_token_close(tok);
	hsm_module_free(mod);
	EVP_PKEY_free(soft);
	X509_free(p.issuer);
	return ret;
}
