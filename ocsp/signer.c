/*
 * eseal-ocsp-signer: the only eseal-ocspd process that holds the
 * delegated OCSP signing key.  Started by eseal-ocspd with fork+exec, it
 * loads its certificate and key, refuses a certificate that is not a
 * pure OCSP signer (ES-OCSPD-06), drops privileges, enters its seccomp
 * sandbox (-S: not), announces its certificate and signature
 * AlgorithmIdentifier, then answers one kind of request on the socket:
 * "sign this ResponseData".
 *
 *   eseal-ocsp-signer -f FD -c CERT.pem -k KEY.pem [-p PASS-SOURCE]
 *       [-a SIGALG] [-u USER] [-s] [-S]
 *   eseal-ocsp-signer -C -c CERT.pem      (only check the certificate)
 *   eseal-ocsp-signer -h | --help
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "hsm.h"
#include "ipc.h"
#include "lint.h"
#include "log.h"
#include "priv.h"
#include "sandbox.h"
#include "secret.h"
#include "sigalg.h"

/*
 * RFC 6960 4.2.2.2: a delegated responder certificate carries
 * id-kp-OCSPSigning; it must not be able to sign certificates or CRLs,
 * so that a compromise of this process cannot mint either.  1/0.
 */
static int
signer_cert_ok(X509 *x, const char *fn)
{
	uint32_t ku;

	if (X509_check_purpose(x, -1, 0) != 1) {
		log_ssl("%s: ES-OCSPD-06: cannot parse extensions", fn);
		return 0;
	}
	ku = X509_get_key_usage(x);
	if (ku != UINT32_MAX && (ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) != 0) {
		log_warnx("%s: ES-OCSPD-06: keyUsage has keyCertSign or cRLSign; "
		    "refusing to hold a CA key", fn);
		return 0;
	}
	if ((X509_get_extension_flags(x) & EXFLAG_CA) != 0) {
		log_warnx("%s: ES-OCSPD-06: certificate is a CA", fn);
		return 0;
	}
	if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) == 0 ||
	    (X509_get_extended_key_usage(x) & XKU_OCSP_SIGN) == 0) {
		log_warnx("%s: ES-OCSPD-06: extendedKeyUsage lacks "
		    "id-kp-OCSPSigning", fn);
		return 0;
	}
	return 1;
}

static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	size_t n;

	if (u == NULL) {
		return -1;
	}
	n = strlen(u);
	if (n >= (size_t)size) {
		return -1;
	}
	memcpy(buf, u, n);
	return (int)n;
}

/*
 * A key on the signer's own PKCS#11 token (never the CA's): the library
 * context that holds the eseal-hsm provider, and the objects that must
 * outlive the EVP_PKEY.  NULL/unused for a PEM file key.
 */
static OSSL_LIB_CTX	*sign_libctx;
static const char	*sign_propq;
static struct hsm_module *sign_mod;
static struct hsm_token	*sign_tok;
static struct hsm_key	*sign_hk;

/*
 * Open "pkcs11:MODULE-PATH:TOKEN-LABEL:KEY-ID-HEX", log in with the PIN
 * from pin_src (a secret source) and return the token-backed key (get0:
 * valid while the token objects live).  NULL (logged).
 */
static EVP_PKEY *
token_key(const char *spec, const char *pin_src)
{
	char *copy = NULL, *label, *id;
	EVP_PKEY *key = NULL;

	if ((copy = strdup(spec + 7)) == NULL) {
		fatalx("out of memory");
	}
	if ((id = strrchr(copy, ':')) == NULL) {
		goto bad;
	}
	*id++ = '\0';
	if ((label = strrchr(copy, ':')) == NULL) {
		goto bad;
	}
	*label++ = '\0';
	if (*copy == '\0' || *label == '\0' || *id == '\0') {
		goto bad;
	}
	if ((sign_mod = hsm_module_load(copy)) == NULL ||
	    (sign_tok = hsm_token_open(sign_mod, label, NULL)) == NULL ||
	    hsm_token_login(sign_tok, pin_src) != HSM_LOGIN_OK ||
	    (sign_hk = hsm_key_find(sign_tok, id)) == NULL ||
	    (key = hsm_key_private(sign_hk)) == NULL) {
		goto out;
	}
	sign_libctx = hsm_libctx();
	sign_propq = hsm_propq();
	goto out;
 bad:
	log_warnx("%s: want pkcs11:MODULE-PATH:TOKEN-LABEL:KEY-ID-HEX", spec);
 out:
	free(copy);
	return key;
}

/*
 * A signing context initialised once (algorithm fetch, key binding,
 * PSS parameters); each signature works on a copy of it.
 */
static EVP_MD_CTX *sign_tmpl;
static size_t sign_max;
/* What a token's signatures are checked with (ES-HSM-SIG-01). */
static EVP_PKEY *sign_pub;	/* get0, from the certificate */
static enum sig_alg sign_alg;

/*
 * Set the signing context up for key under alg; pub (the certificate's
 * key, kept as get0) checks what a token signs.  1/0 (logged).
 */
static int
sign_prepare(EVP_PKEY *key, enum sig_alg alg, EVP_PKEY *pub)
{
	int n;

	sign_pub = pub;
	sign_alg = alg;
	if ((sign_tmpl = EVP_MD_CTX_new()) == NULL ||
	    !sig_ctx_init(sign_tmpl, key, alg, sign_libctx, sign_propq,
	    "signer") || (n = EVP_PKEY_get_size(key)) <= 0) {
		return 0;
	}
	sign_max = (size_t)n;
	return 1;
}

/*
 * Sign tbs after checking it is exactly one ResponseData; a token's
 * signature must verify (ES-HSM-SIG-01).  *sig malloc'd.  1/0 (logged).
 */
static int
sign_one(const unsigned char *tbs, size_t len, unsigned char **sig,
    size_t *sig_len)
{
	OCSP_RESPDATA *rd;
	EVP_MD_CTX *mctx = NULL;
	const unsigned char *p = tbs;
	int ret = 0;

	*sig = NULL;
	if ((rd = d2i_OCSP_RESPDATA(NULL, &p, (long)len)) == NULL ||
	    p != tbs + len) {
		log_ssl("sign: ES-OCSPD-05: request is not one DER ResponseData");
		goto out;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_MD_CTX_copy_ex(mctx, sign_tmpl)) {
		log_ssl("sign: cannot copy the signing context");
		goto out;
	}
	if ((*sig = malloc(sign_max)) == NULL) {
		fatalx("out of memory");
	}
	*sig_len = sign_max;
	if (EVP_DigestSign(mctx, *sig, sig_len, tbs, len) != 1) {
		log_ssl("sign: signature failed");
		free(*sig);
		*sig = NULL;
		goto out;
	}
	/*
	 * A token's signature is checked before it leaves this process:
	 * a wrong one must not become an OCSP response (a short one was
	 * refused by the HSM layer already).
	 */
	if (sign_hk != NULL && !sig_verify(sign_pub, sign_alg, tbs, len, *sig,
	    *sig_len)) {
		log_ssl("sign: ES-HSM-SIG-01: the token's signature does not "
		    "verify with the signer certificate; refused");
		free(*sig);
		*sig = NULL;
		goto out;
	}
	ret = 1;
 out:
	EVP_MD_CTX_free(mctx);
	OCSP_RESPDATA_free(rd);
	return ret;
}

/*
 * Answer one SIGNOP_SIGNV: sign each framed ResponseData (a refused one
 * gets an empty signature); framing errors refuse the whole batch.
 * 0 when the daemon is gone.
 */
static int
sign_batch(int fd, const unsigned char *msg, size_t len)
{
	const unsigned char *q = msg, *end = msg + len;
	unsigned char *out = NULL, *sig = NULL;
	size_t olen = 0, ocap = 0, sig_len, l;
	int n = 0, ret;

	while (q < end) {
		if (end - q < 4 || ++n > 256) {
			goto bad;
		}
		l = ipc_get32(q);
		q += 4;
		if ((size_t)(end - q) < l) {
			goto bad;
		}
		if (!sign_one(q, l, &sig, &sig_len)) {
			sig_len = 0;
		}
		if (olen + 4 + sig_len > ocap) {
			ocap = (olen + 4 + sig_len) * 2;
			if ((out = realloc(out, ocap)) == NULL) {
				fatalx("out of memory");
			}
		}
		ipc_put32(out + olen, (uint32_t)sig_len);
		if (sig_len > 0) {
			memcpy(out + olen + 4, sig, sig_len);
		}
		olen += 4 + sig_len;
		free(sig);
		sig = NULL;
		q += l;
	}
	if (n == 0) {
		goto bad;
	}
	ret = ipc_send(fd, SIGNOP_SIGV, out, olen);
	free(out);
	return ret;
 bad:
	log_warnx("signer: ES-OCSPD-05: malformed batch");
	free(out);
	return ipc_send(fd, SIGNOP_ERROR, NULL, 0);
}

/* The DER AlgorithmIdentifier of alg with key; *out malloc'd. 1/0. */
static int
algid(EVP_PKEY *key, enum sig_alg alg, unsigned char **out, size_t *len)
{
	EVP_MD_CTX *mctx = NULL;
	OSSL_PARAM params[2];
	unsigned char buf[256];
	int ret = 0;

	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    !sig_ctx_init(mctx, key, alg, sign_libctx, sign_propq, "signer")) {
		goto out;
	}
	params[0] = OSSL_PARAM_construct_octet_string(
	    OSSL_SIGNATURE_PARAM_ALGORITHM_ID, buf, sizeof(buf));
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_PKEY_CTX_get_params(EVP_MD_CTX_get_pkey_ctx(mctx), params) ||
	    !OSSL_PARAM_modified(&params[0])) {
		log_ssl("signer: no AlgorithmIdentifier for %s",
		    sig_alg_name(alg));
		goto out;
	}
	*len = params[0].return_size;
	if ((*out = malloc(*len)) == NULL) {
		fatalx("out of memory");
	}
	memcpy(*out, buf, *len);
	ret = 1;
 out:
	EVP_MD_CTX_free(mctx);
	return ret;
}

/*
 * Announce the certificate cert (file fn) and the signature
 * AlgorithmIdentifier aid on fd: HELLO = u32 certificate length, DER
 * certificate, DER AlgorithmIdentifier.  1/0.
 */
static int
send_hello(int fd, X509 *cert, const char *fn, const unsigned char *aid,
    size_t aid_len)
{
	unsigned char *cder = NULL, *hello = NULL;
	int clen, ret = 0;

	if ((clen = i2d_X509(cert, &cder)) <= 0) {
		log_ssl("%s", fn);
		goto out;
	}
	if ((hello = malloc(4 + (size_t)clen + aid_len)) == NULL) {
		fatalx("out of memory");
	}
	ipc_put32(hello, (uint32_t)clen);
	memcpy(hello + 4, cder, (size_t)clen);
	memcpy(hello + 4 + clen, aid, aid_len);
	ret = ipc_send(fd, SIGNOP_HELLO, hello, 4 + (size_t)clen + aid_len);
 out:
	free(hello);
	OPENSSL_free(cder);
	return ret;
}

/*
 * Answer requests on fd until SIGNOP_STOP or the daemon closes it (1);
 * 0 on a refused request type or a failed send (logged).
 */
static int
serve(int fd)
{
	enum signop type;
	unsigned char *msg = NULL, *sig = NULL;
	size_t len, sig_len;
	int ret = 0, sent;

	for (;;) {
		free(msg);
		msg = NULL;
		if (!ipc_recv(fd, &type, &msg, &len, IPC_MAX)) {
			break;
		}
		if (type == SIGNOP_STOP) {
			break;
		}
		if (type == SIGNOP_SIGNV) {
			if (!sign_batch(fd, msg, len)) {
				goto out;
			}
			continue;
		}
		if (type != SIGNOP_SIGN) {
			log_warnx("signer: ES-OCSPD-05: refusing request type %d",
			    (int)type);
			goto out;
		}
		if (!sign_one(msg, len, &sig, &sig_len)) {
			if (!ipc_send(fd, SIGNOP_ERROR, NULL, 0)) {
				goto out;
			}
			continue;
		}
		sent = ipc_send(fd, SIGNOP_SIG, sig, sig_len);
		free(sig);
		sig = NULL;
		if (!sent) {
			goto out;
		}
	}
	ret = 1;
 out:
	free(msg);
	return ret;
}

/* The usage, every option (usage_exit() prints it). */
static const char usage_text[] =
    "usage: eseal-ocsp-signer -f FD -c CERT -k KEY "
    "[-p PASS-SOURCE] [-a SIGALG] [-P POLICY] [-u USER] [-sS]\n"
    "       eseal-ocsp-signer -C -c CERT\n"
    "       eseal-ocsp-signer -h | --help\n"
    "  -a SIGALG       the responses' signature algorithm\n"
    "  -c CERT         the delegated OCSP signer certificate (PEM)\n"
    "  -C              only check the certificate, then exit\n"
    "  -f FD           the socket to eseal-ocspd\n"
    "  -k KEY          a PEM file, or "
    "pkcs11:MODULE-PATH:TOKEN-LABEL:KEY-ID-HEX\n"
    "  -p PASS-SOURCE  the key's passphrase source (the token PIN "
    "source with pkcs11:)\n"
    "  -P POLICY       the algorithm policy SIGALG is checked against "
    "(JSON; default: the built-in one)\n"
    "  -s              log to syslog\n"
    "  -S              no seccomp sandbox\n"
    "  -u USER         the user to run as\n"
    "  -h, --help      print this help and exit\n";

/* The command line of the signer. */
struct signer_opts {
	const char	*certfn, *keyfn, *pass_src, *algname, *user;
	const char	*policy;	/* -P: algorithm policy file, NULL: built-in */
	int		 fd, check_only, sandbox;
};

/*
 * Read the command line into o.  A wrong command line, -h or --help
 * ends the program through usage_exit().
 */
static void
parse_options(int argc, char **argv, struct signer_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->sandbox = 1;
	while ((ch = getopt_long(argc, argv, "a:c:Cf:hk:p:P:sSu:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage_exit(0, usage_text);
		case 'a':
			o->algname = optarg;
			break;
		case 'c':
			o->certfn = optarg;
			break;
		case 'C':
			o->check_only = 1;
			break;
		case 'f':
			o->fd = atoi(optarg);
			break;
		case 'k':
			o->keyfn = optarg;
			break;
		case 'p':
			o->pass_src = optarg;
			break;
		case 'P':
			o->policy = optarg;
			break;
		case 's':
			log_use_syslog(1);
			break;
		case 'S':
			o->sandbox = 0;
			break;
		case 'u':
			o->user = optarg;
			break;
		default:
			usage_exit(2, usage_text);
		}
	}
	if (o->certfn == NULL ||
	    (!o->check_only && (o->keyfn == NULL || o->fd < 0))) {
		usage_exit(2, usage_text);
	}
}

int
main(int argc, char **argv)
{
	struct signer_opts o;
	struct alg_policy *ap = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	enum sig_alg alg = SIG_NONE;
	unsigned char *aid = NULL;
	size_t aid_len;
	char *pass = NULL;
	FILE *f = NULL;
	int rc = 1;

	log_init(argv[0]);
	parse_options(argc, argv, &o);
	if ((f = fopen(o.certfn, "r")) == NULL ||
	    (cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		log_ssl("%s: cannot read certificate", o.certfn);
		goto out;
	}
	fclose(f);
	f = NULL;
	if (!signer_cert_ok(cert, o.certfn)) {
		goto out;
	}
	if (o.check_only) {
		rc = 0;
		goto out;
	}
	if (strncmp(o.keyfn, "pkcs11:", 7) == 0) {
		/* The delegated key on the signer's own token; -p is its PIN source. */
		if ((key = token_key(o.keyfn, o.pass_src)) == NULL) {
			goto out;
		}
		if (EVP_PKEY_eq(X509_get0_pubkey(cert), hsm_key_public(sign_hk)) !=
		    1) {
			log_warnx("%s: ES-OCSPD-06: token key does not match %s",
			    o.keyfn, o.certfn);
			key = NULL;
			goto out;
		}
	} else {
		if (o.pass_src != NULL && (pass = secret_read(o.pass_src,
		    "signer key passphrase")) == NULL) {
			goto out;
		}
		if ((f = fopen(o.keyfn, "r")) == NULL ||
		    (key = PEM_read_PrivateKey(f, NULL, pass_cb, pass)) == NULL) {
			log_ssl("%s: cannot read key", o.keyfn);
			goto out;
		}
		secret_free(pass);
		pass = NULL;
		fclose(f);
		f = NULL;
		if (X509_check_private_key(cert, key) != 1) {
			log_ssl("%s: ES-OCSPD-06: key does not match %s",
			    o.keyfn, o.certfn);
			goto out;
		}
	}
	if (o.algname != NULL) {
		if (!sig_alg_from_name(o.algname, &alg, "signer-alg")) {
			goto out;
		}
	} else {
		alg = sig_alg_default(key_alg_of_pkey(key));
	}
	if (alg == SIG_NONE || !sig_alg_fits_key(alg, key_alg_of_pkey(key))) {
		log_warnx("%s: signature algorithm does not fit the key",
		    o.keyfn);
		goto out;
	}
	/* ES-ALG-SIG-03: the responses' algorithm, against the policy. */
	if (o.policy != NULL && (ap = alg_policy_load(o.policy)) == NULL) {
		goto out;
	}
	if (!alg_policy_allows_signing(ap, sig_alg_name(alg), "signer-alg")) {
		goto out;
	}
	if (!priv_drop(o.user, 1) || !algid(key, alg, &aid, &aid_len) ||
	    !sign_prepare(key, alg, X509_get0_pubkey(cert))) {
		goto out;
	}
	/*
	 * From here on the signer reads and writes its socket; a token
	 * module has been loaded and logged in, and keeps to its files.
	 */
	if (o.sandbox && !sandbox_apply(sign_hk != NULL ? SANDBOX_SIGNER_TOKEN :
	    SANDBOX_SIGNER)) {
		goto out;
	}
	if (!send_hello(o.fd, cert, o.certfn, aid, aid_len)) {
		goto out;
	}
	if (!serve(o.fd)) {
		goto out;
	}
	rc = 0;
	goto out;
 out:
	if (f != NULL) {
		fclose(f);
	}
	secret_free(pass);
	free(aid);
	alg_policy_free(ap);
	EVP_MD_CTX_free(sign_tmpl);
	X509_free(cert);
	if (sign_hk == NULL) {
		EVP_PKEY_free(key);
	}
	hsm_key_free(sign_hk);
	hsm_token_close(sign_tok);
	hsm_module_free(sign_mod);
	return rc;
}
