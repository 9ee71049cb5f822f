/*
 * Running the rule tables: lint_certificate() runs the rows of
 * rules_cert.c and rules_eseal.c that apply to a kind of certificate,
 * then the algorithm policy on its key and signature; lint_subject() runs
 * the subject rows alone on a CSR's subject.  The tables know nothing of
 * each other; this file is the only one that knows them all.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "i18n.h"
#include "lint.h"
#include "lint_int.h"
#include "util.h"
#include "x509util.h"

/*
 * Run the rows of rules that apply to c->o->kind, adding one finding per
 * row with its ID, source, result and detail.
 */
static void
run_rules(struct lint_ctx *c, const struct lint_rule *rules, size_t n,
    struct findings *out)
{
	enum rule_result	 r;
	char			 detail[256];
	size_t			 i;

	for (i = 0; i < n; i++) {
		if ((rules[i].kinds & (1u << c->o->kind)) == 0) {
			continue;
		}
		detail[0] = '\0';
		r = rules[i].fn(c, detail, sizeof(detail));
		findings_add(out, rules[i].id, rules[i].source, r, "%s",
		    detail);
	}
}

/* 1 if a encodes to the len bytes of der (nothing is decoded). */
static int
spki_same(const X509_PUBKEY *a, const unsigned char *der, size_t len)
{
	unsigned char *da = NULL;
	int la, same;

	la = i2d_X509_PUBKEY(a, &da);
	same = la > 0 && (size_t)la == len && memcmp(da, der, len) == 0;
	OPENSSL_free(da);
	return same;
}

int
lint_certificate(X509 *cert, const struct lint_opts *o,
    struct findings *out)
{
	struct lint_ctx		 c;
	const EVP_PKEY		*signer = NULL;
	enum key_use		 use;
	int			 fails = out->fails;

	memset(&c, 0, sizeof(c));
	c.cert = cert;
	c.o = o;
	c.ap = o->ap != NULL ? o->ap : alg_policy_default();
	c.now = o->now != 0 ? o->now : now_utc();
	c.subject = X509_get_subject_name(cert);
	c.pub = o->subject_spki != NULL && o->subject_pub != NULL &&
	    spki_same(X509_get_X509_PUBKEY(cert), o->subject_spki,
	    o->subject_spki_len) ? o->subject_pub : X509_get0_pubkey(cert);
	ERR_clear_error();
	if (o->kind == LINT_ESEAL && o->profile != NULL &&
	    (c.profile = eseal_profile_find(o->profile)) == NULL) {
		findings_add(out, "ES-PROF-01", "eseal profiles", RULE_FAIL,
		    "unknown profile \"%s\"", o->profile);
		return 0;
	}

	run_rules(&c, cert_rules, cert_nrules, out);
	if (o->kind == LINT_ESEAL) {
		qc_parse(&c);
		run_rules(&c, subject_rules, subject_nrules, out);
		run_rules(&c, eseal_rules, eseal_nrules, out);
	}

	switch (o->kind) {
	case LINT_ROOT_CA:
	case LINT_ISSUING_CA:
		use = KEY_USE_CA;
		break;
	case LINT_OCSP_SIGNER:
		use = KEY_USE_OCSP;
		break;
	default:
		use = KEY_USE_SUBJECT;
		break;
	}
	alg_policy_check_key_for(c.ap, c.pub, use, o->key_sig_alg,
	    asn1_time_t(X509_get0_notAfter(cert)), out);
	if (o->kind == LINT_ROOT_CA) {
		signer = c.pub;
	} else if (o->issuer != NULL) {
		signer = X509_get0_pubkey(o->issuer);
	}
	alg_policy_check_sigalg(c.ap, X509_get0_tbs_sigalg(cert), signer,
	    asn1_time_t(X509_get0_notAfter(cert)), out);
	ERR_clear_error();
	return out->fails == fails;
}

int
lint_subject(const X509_NAME *subject, const char *profile, int ntrjp,
    struct findings *out)
{
	struct lint_ctx		c;
	struct lint_opts	o;
	struct eseal_profile	p;
	int			fails = out->fails;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	memset(&p, 0, sizeof(p));
	o.kind = LINT_ESEAL;
	p.name = profile != NULL ? profile : "";
	p.jp = ntrjp;
	c.o = &o;
	c.subject = subject;
	c.profile = &p;
	run_rules(&c, subject_rules, subject_nrules, out);
	return out->fails == fails;
}
