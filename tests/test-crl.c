/*
 * Test driver for libcrl, run by tests/crl.test.  "gen" builds a CRL
 * from a text file of revocations with a SOFTWARE signing callback (a
 * PEM key made with the openssl CLI; the CA signs on its token instead),
 * with switches that provoke each refusal.  "check" parses a CRL with
 * OpenSSL (no trailing bytes, X509_CRL_verify) and checks that OpenSSL
 * re-encodes the TBSCertList and every extension to the same bytes, i.e.
 * that the hand-written DER is canonical.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crl/crl.h"
#include "log.h"
#include "util.h"

struct signer {
	EVP_PKEY	*key;
	int		 fail;
};

/* The software signing callback: EVP_PKEY_sign over the digest. */
static int
soft_sign(void *arg, enum sig_alg alg, const unsigned char *md, size_t mdlen,
    unsigned char **sig, size_t *siglen)
{
	struct signer *s = arg;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_MD *h = NULL;
	int ret = 0;

	*sig = NULL;
	if (s->fail) {
		log_warnx("test signer: refusing to sign (--fail-sign)");
		return 0;
	}
	if ((h = EVP_MD_fetch(NULL, sig_alg_digest(alg), NULL)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, s->key, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, h) <= 0) {
		goto out;
	}
	if (sig_alg_is_pss(alg) &&
	    (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, h) <= 0)) {
		goto out;
	}
	if (EVP_PKEY_sign(ctx, NULL, siglen, md, mdlen) <= 0) {
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
		log_ssl("test signer");
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_MD_free(h);
	return ret;
}

/* An iterator wrapper that misbehaves on one pass (1-based). */
struct unstable {
	struct crl_iter	 inner;
	int		 pass;
	int		 change_on;	/* shift the first entry's date */
	int		 drop_on;	/* drop the first entry */
	int		 first;
};

static int
unstable_next(void *arg, struct crl_entry *e)
{
	struct unstable *u = arg;
	int r;

	r = u->inner.next(u->inner.arg, e);
	if (r == 1 && u->first) {
		u->first = 0;
		if (u->pass == u->drop_on) {
			return u->inner.next(u->inner.arg, e);
		}
		if (u->pass == u->change_on) {
			e->revoked += 1;
		}
	}
	return r;
}

static int
unstable_rewind(void *arg)
{
	struct unstable *u = arg;

	u->pass++;
	u->first = 1;
	return u->inner.rewind(u->inner.arg);
}

static X509 *
load_cert(const char *path)
{
	X509 *x = NULL;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	if ((x = PEM_read_X509(fp, NULL, NULL, NULL)) == NULL) {
		log_ssl("%s", path);
	}
	fclose(fp);
	return x;
}

static EVP_PKEY *
load_key(const char *path)
{
	EVP_PKEY *k = NULL;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	if ((k = PEM_read_PrivateKey(fp, NULL, NULL, NULL)) == NULL) {
		log_ssl("%s", path);
	}
	fclose(fp);
	return k;
}

/*
 * --tamper-placed: once the CRL is in place in the spill, flip a bit in
 * its middle (the read-back check must catch it).
 */
static void
tamper_placed(void *arg, int fd, uint64_t off, uint64_t len)
{
	unsigned char b;

	(void)arg;
	if (pread(fd, &b, 1, (off_t)(off + len / 2)) == 1) {
		b ^= 0x01;
		if (pwrite(fd, &b, 1, (off_t)(off + len / 2)) != 1) {
			fprintf(stderr, "tamper: pwrite failed\n");
		}
	}
}

/*
 * --in-place: crl_write_spilled(), then the DER copied from the spill to
 * path.  1/0 (logged).
 */
static int
gen_in_place(const char *path, const struct crl_params *p,
    const struct crl_iter *it, struct crl_stats *st)
{
	unsigned char buf[4096];
	uint64_t off, done = 0;
	struct stat sb;
	FILE *fp = NULL;
	ssize_t n;
	int fd = -1, ret = 0;

	if (!crl_write_spilled(path, p, it, st, &fd, &off)) {
		goto out;
	}
	if (fstat(fd, &sb) == -1 || (uint64_t)sb.st_size != off + st->bytes) {
		log_warnx("%s: the spill does not end with the CRL", path);
		goto out;
	}
	if ((fp = fopen(path, "wb")) == NULL) {
		log_warn("%s", path);
		goto out;
	}
	while (done < st->bytes) {
		if ((n = pread(fd, buf, sizeof(buf), (off_t)(off + done))) <= 0) {
			log_warn("%s: reading the spill", path);
			goto out;
		}
		fwrite(buf, 1, (size_t)n, fp);
		done += (uint64_t)n;
	}
	if (fclose(fp) == EOF) {
		fp = NULL;
		log_warn("%s", path);
		goto out;
	}
	fp = NULL;
	ret = 1;
out:
	if (fp != NULL) {
		fclose(fp);
	}
	if (fd != -1) {
		close(fd);
	}
	return ret;
}

static int
cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "alg", required_argument, NULL, 'a' },
		{ "entries", required_argument, NULL, 'e' },
		{ "out", required_argument, NULL, 'o' },
		{ "der", no_argument, NULL, 'D' },
		{ "number", required_argument, NULL, 'n' },
		{ "last", required_argument, NULL, 'l' },
		{ "this", required_argument, NULL, 't' },
		{ "next", required_argument, NULL, 'x' },
		{ "delta", required_argument, NULL, 'd' },
		{ "idp", required_argument, NULL, 'i' },
		{ "scope", required_argument, NULL, 's' },
		{ "freshest", required_argument, NULL, 'f' },
		{ "fail-sign", no_argument, NULL, 'F' },
		{ "change-on-pass", required_argument, NULL, 'C' },
		{ "drop-on-pass", required_argument, NULL, 'R' },
		{ "spill", required_argument, NULL, 'S' },
		{ "in-place", no_argument, NULL, 'P' },
		{ "tamper-placed", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	struct crl_params p;
	struct crl_stats st;
	struct signer sg = { NULL, 0 };
	struct unstable u;
	struct crl_iter it;
	struct crl_file *f = NULL;
	const char *entries = NULL, *out = NULL, *this = "2025-01-01T00:00:00Z";
	const char *next = NULL;
	int c, in_place = 0, ret = 0;

	memset(&p, 0, sizeof(p));
	memset(&u, 0, sizeof(u));
	p.alg = SIG_NONE;
	p.number = 1;
	p.pem = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if ((p.issuer = load_cert(optarg)) == NULL) {
				goto out;
			}
			break;
		case 'k':
			if ((sg.key = load_key(optarg)) == NULL) {
				goto out;
			}
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
		case 'D':
			p.pem = 0;
			break;
		case 'n':
			p.number = strtoull(optarg, NULL, 10);
			break;
		case 'l':
			p.have_last = 1;
			p.last_number = strtoull(optarg, NULL, 10);
			break;
		case 't':
			this = optarg;
			break;
		case 'x':
			next = optarg;
			break;
		case 'd':
			p.delta = 1;
			p.base_number = strtoull(optarg, NULL, 10);
			break;
		case 'i':
			p.idp_uri = optarg;
			break;
		case 's':
			if (strcmp(optarg, "user") == 0) {
				p.scope = CRL_SCOPE_USER;
			} else if (strcmp(optarg, "ca") == 0) {
				p.scope = CRL_SCOPE_CA;
			} else {
				p.scope = CRL_SCOPE_ALL;
			}
			break;
		case 'f':
			p.freshest_uri = optarg;
			break;
		case 'F':
			sg.fail = 1;
			break;
		case 'C':
			u.change_on = atoi(optarg);
			break;
		case 'R':
			u.drop_on = atoi(optarg);
			break;
		case 'S':
			p.spill_dir = optarg;
			break;
		case 'P':
			in_place = 1;
			break;
		case 'T':
			p.placed = tamper_placed;
			break;
		default:
			goto out;
		}
	}
	if (p.issuer == NULL || sg.key == NULL || entries == NULL ||
	    out == NULL) {
		log_warnx("usage: test-crl gen --ca PEM --key PEM --alg ALG "
		    "--entries FILE --out FILE [...]");
		goto out;
	}
	if (p.alg == SIG_NONE) {
		p.alg = sig_alg_default(key_alg_of_pkey(sg.key));
	}
	if (!time_parse(this, &p.this_update, "--this")) {
		goto out;
	}
	if (next == NULL) {
		p.next_update = p.this_update + 7 * 86400;
	} else if (!time_parse(next, &p.next_update, "--next")) {
		goto out;
	}
	p.sign = soft_sign;
	p.sign_arg = &sg;
	if ((f = crl_file_open(entries)) == NULL) {
		goto out;
	}
	crl_file_iter(f, &u.inner);
	it.next = unstable_next;
	it.rewind = unstable_rewind;
	it.arg = &u;
	if (in_place) {
		ret = gen_in_place(out, &p, &it, &st);
	} else if (strcmp(out, "-") == 0) {
		ret = crl_write_fp(stdout, "stdout", &p, &it, &st);
	} else {
		ret = crl_write(out, &p, &it, &st);
	}
	if (ret) {
		fprintf(stderr, "%llu entries, %llu bytes\n",
		    (unsigned long long)st.entries,
		    (unsigned long long)st.bytes);
	}
out:
	crl_file_free(f);
	X509_free(p.issuer);
	EVP_PKEY_free(sg.key);
	return ret ? 0 : 1;
}

/* Each extension's value re-encodes to the same bytes.  1/0 (logged). */
static int
exts_canonical(const STACK_OF(X509_EXTENSION) *exts, const char *what)
{
	X509_EXTENSION *ex;
	ASN1_OCTET_STRING *v;
	void *val;
	unsigned char *der = NULL;
	const X509V3_EXT_METHOD *m;
	int i, len, ok;

	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		ex = sk_X509_EXTENSION_value(exts, i);
		v = X509_EXTENSION_get_data(ex);
		if ((m = X509V3_EXT_get(ex)) == NULL ||
		    (val = X509V3_EXT_d2i(ex)) == NULL) {
			log_ssl("%s: extension %d does not parse", what, i);
			return 0;
		}
		der = NULL;
		len = ASN1_item_i2d(val, &der, ASN1_ITEM_ptr(m->it));
		ok = len == ASN1_STRING_length(v) &&
		    memcmp(der, ASN1_STRING_get0_data(v), (size_t)len) == 0;
		ASN1_item_free(val, ASN1_ITEM_ptr(m->it));
		OPENSSL_free(der);
		if (!ok) {
			log_warnx("%s: extension %d is not canonical DER", what,
			    i);
			return 0;
		}
	}
	return 1;
}

static int
cmd_check(int argc, char **argv)
{
	X509 *ca = NULL;
	X509_CRL *crl = NULL;
	BIO *b = NULL;
	unsigned char *buf = NULL, *der = NULL, *re = NULL;
	const unsigned char *pp, *tbs;
	char *name = NULL, *hdr = NULL;
	long dlen;
	size_t len;
	long tlen;
	int i, rlen, tag, xclass, ret = 0;

	if (argc != 3 || (ca = load_cert(argv[1])) == NULL) {
		log_warnx("usage: test-crl check CA.pem CRL");
		goto out;
	}
	if (!file_read(argv[2], 1 << 30, &buf, &len)) {
		goto out;
	}
	if (len > 0 && buf[0] == '-') {
		if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL ||
		    !PEM_read_bio(b, &name, &hdr, &der, &dlen) ||
		    strcmp(name, "X509 CRL") != 0) {
			log_ssl("%s: not a PEM X509 CRL", argv[2]);
			goto out;
		}
	} else {
		der = OPENSSL_memdup(buf, len);
		dlen = (long)len;
	}
	pp = der;
	if ((crl = d2i_X509_CRL(NULL, &pp, dlen)) == NULL) {
		log_ssl("%s: d2i_X509_CRL", argv[2]);
		goto out;
	}
	if (pp != der + dlen) {
		log_warnx("%s: %td bytes trailing garbage", argv[2],
		    der + dlen - pp);
		goto out;
	}
	if (X509_CRL_verify(crl, X509_get0_pubkey(ca)) != 1) {
		log_ssl("%s: X509_CRL_verify failed", argv[2]);
		goto out;
	}
	/* The TBSCertList as written: the first element of the outer SEQUENCE. */
	pp = der;
	ASN1_get_object(&pp, &tlen, &tag, &xclass, dlen);
	tbs = pp;
	ASN1_get_object(&pp, &tlen, &tag, &xclass, dlen);
	tlen += pp - tbs;
	if ((rlen = i2d_re_X509_CRL_tbs(crl, &re)) != tlen ||
	    memcmp(re, tbs, (size_t)tlen) != 0) {
		log_warnx("%s: OpenSSL re-encodes the TBSCertList differently "
		    "(%d bytes vs %ld)", argv[2], rlen, tlen);
		goto out;
	}
	if (!exts_canonical(X509_CRL_get0_extensions(crl), argv[2])) {
		goto out;
	}
	for (i = 0; i < sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(
		    X509_CRL_get_REVOKED(crl), i);

		if (!exts_canonical(X509_REVOKED_get0_extensions(r),
		    argv[2])) {
			goto out;
		}
	}
	printf("ok %d entries\n", sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)));
	ret = 1;
out:
	X509_free(ca);
	X509_CRL_free(crl);
	BIO_free(b);
	free(buf);
	OPENSSL_free(der);
	OPENSSL_free(re);
	OPENSSL_free(name);
	OPENSSL_free(hdr);
	return ret ? 0 : 1;
}

int
main(int argc, char **argv)
{
	log_init("test-crl");
	if (argc >= 2 && strcmp(argv[1], "gen") == 0) {
		return cmd_gen(argc - 1, argv + 1);
	}
	if (argc >= 2 && strcmp(argv[1], "check") == 0) {
		return cmd_check(argc - 1, argv + 1);
	}
	log_warnx("usage: test-crl gen|check ...");
	return 2;
}
