/*
 * Test-only: build and sign a status export with file CA keys, the way
 * eseal-ca does with token keys.  Usage:
 *   test-ocsp-mkexport SIGNER.pem KEY.pem [SIGNER2.pem KEY2.pem ...] OUT.der
 *       < spec
 * (one SignerInfo per SIGNER/KEY pair, in order).
 * The spec has one directive per line:
 *   sequence N | produced TIME
 *   issuer CA.pem THIS NEXT
 *   good SERIALHEX
 *   revoked SERIALHEX TIME REASON|- [INVALIDITY]
 *   range FIRSTHEX COUNT          (COUNT good serials from FIRSTHEX up)
 *   crl NAME FILE.der
 *   raw STATUS SERIALHEX REVTIME REASON   (numbers passed to the builder as is)
 *   append-garbage                (append one byte after the CMS)
 *   corrupt-signer N              (flip a bit in SignerInfo N's signature)
 *   sorted                        (entries in serial order, duplicates
 *                                  refused, as eseal-ca writes them; by
 *                                  default they stay in the spec's order)
 * TIME is as for time_parse().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/pem.h>

#include "export.h"
#include "log.h"
#include "util.h"

static X509 *
read_cert(const char *path)
{
	FILE *f;
	X509 *x;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		log_ssl("%s: not a PEM certificate", path);
	}
	return x;
}

/* Flip the last bit of SignerInfo idx's signature in *der. 1/0. */
static int
corrupt_signer(unsigned char **der, size_t *len, int idx)
{
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING *sig;
	const unsigned char *p = *der;
	unsigned char *out = NULL, *v;
	int n, ok = 0;

	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)*len)) == NULL ||
	    (si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), idx)) ==
	    NULL || (sig = CMS_SignerInfo_get0_signature(si)) == NULL ||
	    ASN1_STRING_length(sig) < 1) {
		log_ssl("corrupt-signer %d", idx);
		goto out;
	}
	v = (unsigned char *)ASN1_STRING_get0_data(sig);
	v[ASN1_STRING_length(sig) - 1] ^= 1;
	if ((n = i2d_CMS_ContentInfo(cms, &out)) <= 0) {
		log_ssl("corrupt-signer: encode");
		goto out;
	}
	OPENSSL_free(*der);
	*der = out;
	*len = (size_t)n;
	ok = 1;
 out:
	CMS_ContentInfo_free(cms);
	return ok;
}

int
main(int argc, char **argv)
{
	struct export_builder *b = NULL;
	struct export_signer sg[8];
	X509 *ca = NULL;
	FILE *f;
	char line[4096], a[1024], c[256], d[256], e[256], g[256];
	unsigned char *der = NULL, *bin = NULL, *crl = NULL;
	size_t len, binlen, crllen;
	int64_t seq = 1;
	time_t produced = now_utc(), t1, t2, t3;
	int garbage = 0, corrupt = -1, sorted = 0, rc = 1, n, reason;
	size_t nsg = 0, j;
	unsigned long long first, count, i;

	log_init(argv[0]);
	memset(sg, 0, sizeof(sg));
	if (argc < 4 || argc % 2 != 0 || (size_t)(argc - 2) / 2 > 8) {
		fprintf(stderr, "usage: %s SIGNER.pem KEY.pem "
		    "[SIGNER.pem KEY.pem ...] OUT.der < spec\n", argv[0]);
		return 2;
	}
	for (nsg = 0; nsg < (size_t)(argc - 2) / 2; nsg++) {
		const char *cf = argv[1 + 2 * nsg], *kf = argv[2 + 2 * nsg];

		sg[nsg].alg = SIG_NONE;
		if ((sg[nsg].cert = read_cert(cf)) == NULL) {
			goto out;
		}
		if ((f = fopen(kf, "r")) == NULL) {
			log_warn("%s", kf);
			goto out;
		}
		sg[nsg].key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (sg[nsg].key == NULL) {
			log_ssl("%s: cannot read key", kf);
			goto out;
		}
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		g[0] = '\0';
		if (line[0] == '#' || line[0] == '\n') {
			continue;
		}
		if (sscanf(line, "sequence %lld", (long long *)&seq) == 1) {
			continue;
		}
		if (strcmp(line, "sorted\n") == 0) {
			sorted = 1;
			continue;
		}
		if (sscanf(line, "produced %255s", c) == 1) {
			if (!time_parse(c, &produced, "produced")) {
				goto out;
			}
			continue;
		}
		if (b == NULL &&
		    (b = export_builder_new(seq, produced)) == NULL) {
			goto out;
		}
		if (sscanf(line, "issuer %1023s %255s %255s", a, c, d) == 3) {
			X509_free(ca);
			if ((ca = read_cert(a)) == NULL ||
			    !time_parse(c, &t1, "this") ||
			    !time_parse(d, &t2, "next") ||
			    !export_builder_add_issuer(b, ca, t1, t2)) {
				goto out;
			}
		} else if (sscanf(line, "good %255s", c) == 1 &&
		    strncmp(line, "good", 4) == 0) {
			free(bin);
			if ((bin = hex_decode(c, &binlen)) == NULL ||
			    !export_builder_add_entry(b, bin, binlen,
			    EXPORT_GOOD, 0, -1, 0)) {
				goto out;
			}
		} else if ((n = sscanf(line, "revoked %255s %255s %255s %255s",
		    c, d, e, g)) >= 3) {
			free(bin);
			t3 = 0;
			reason = strcmp(e, "-") == 0 ? -1 :
			    export_reason_from_name(e);
			if ((bin = hex_decode(c, &binlen)) == NULL ||
			    !time_parse(d, &t1, "revoked") ||
			    (n == 4 && !time_parse(g, &t3, "invalidity")) ||
			    !export_builder_add_entry(b, bin, binlen,
			    EXPORT_REVOKED, t1, reason, t3)) {
				goto out;
			}
		} else if (sscanf(line, "raw %d %255s %lld %d", &n, c,
		    (long long *)&t1, &reason) == 4) {
			free(bin);
			if ((bin = hex_decode(c, &binlen)) == NULL ||
			    !export_builder_add_entry(b, bin, binlen, n, t1,
			    reason, 0)) {
				goto out;
			}
		} else if (sscanf(line, "range %llx %llu", &first,
		    &count) == 2) {
			for (i = 0; i < count; i++) {
				unsigned long long s = first + i;
				unsigned char sb[8];
				int k, off = 0;

				for (k = 0; k < 8; k++) {
					sb[k] = (unsigned char)(s >> (56 - 8 * k));
				}
				while (off < 7 && sb[off] == 0) {
					off++;
				}
				if (!export_builder_add_entry(b, sb + off,
				    8 - off, EXPORT_GOOD, 0, -1, 0)) {
					goto out;
				}
			}
		} else if (sscanf(line, "crl %255s %1023s", c, a) == 2) {
			free(crl);
			crl = NULL;
			if (!file_read(a, 1 << 24, &crl, &crllen) ||
			    !export_builder_add_crl(b, c, crl, crllen)) {
				goto out;
			}
		} else if (strncmp(line, "append-garbage", 14) == 0) {
			garbage = 1;
		} else if (sscanf(line, "corrupt-signer %d", &corrupt) == 1) {
			continue;
		} else {
			log_warnx("spec: bad line: %s", line);
			goto out;
		}
	}
	if (b == NULL && (b = export_builder_new(seq, produced)) == NULL) {
		goto out;
	}
	if (!sorted) {
		export_builder_keep_order(b);
	}
	if (!export_builder_sign_multi(b, sg, nsg, NULL, NULL, &der, &len)) {
		goto out;
	}
	if (corrupt >= 0 && !corrupt_signer(&der, &len, corrupt)) {
		goto out;
	}
	if (garbage) {
		unsigned char *nd = OPENSSL_realloc(der, len + 1);

		if (nd == NULL) {
			goto out;
		}
		der = nd;
		der[len++] = 0;
	}
	if (!file_write_atomic(argv[argc - 1], der, len, 0644)) {
		goto out;
	}
	rc = 0;
 out:
	export_builder_free(b);
	for (j = 0; j < 8; j++) {
		X509_free(sg[j].cert);
		EVP_PKEY_free(sg[j].key);
	}
	X509_free(ca);
	OPENSSL_free(der);
	free(bin);
	free(crl);
	return rc;
}
