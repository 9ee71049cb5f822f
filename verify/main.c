/*
 * eseal-verify: says whether an e-seal certificate, or a sealed CMS
 * document, can be trusted at a time: the signature (for a document),
 * the path to a given trust anchor, the revocation status of every
 * certificate on it (OCSP with a fresh nonce, then CRLs), and the e-seal
 * profile rules of policy/ (the same rules as "eseal-policy lint").
 * The answer is an ETSI TS 119 102-1 indication with the evidence used,
 * as text or JSON, and an exit status (doc/eseal-verify.1).  It holds
 * no key and never links the HSM layer.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "exitcodes.h"
#include "i18n.h"
#include "lint.h"
#include "log.h"
#include "util.h"
#include "verify.h"

#define MAX_LIST	32

struct vopts {
	const char	*anchors[MAX_LIST];
	size_t		 nanchors;
	const char	*chains[MAX_LIST];
	size_t		 nchains;
	const char	*crls[MAX_LIST];
	const char	*ocsp_files[MAX_LIST];
	const char	*profile;	/* NULL: any */
	const char	*cms;
	const char	*content;
	const char	*cert;
	char		*cache_dir;
	int		 json;
	int		 no_cache;
	struct vparams	 vp;
};

static void
usage(FILE *fp)
{
	fputs(_("usage: eseal-verify [--anchor FILE|DIR]... [--chain FILE]...\n"
	    "           [--ocsp-url URL] [--ocsp-response FILE]...\n"
	    "           [--crl FILE|URL]... [--offline] [--at TIME]\n"
	    "           [--profile eseal|eseal-qualified|eseal-jp|any] [--json]\n"
	    "           [--timeout SECONDS] [--max-body BYTES] [--skew SECONDS]\n"
	    "           [--cache-dir DIR | --no-cache] [--allow-cached] CERT\n"
	    "       eseal-verify ... --cms FILE [--content FILE]\n"
	    "\n"
	    "Exit status: 0 TOTAL-PASSED, 1 TOTAL-FAILED, 2 usage, 3 input error,\n"
	    "4 INDETERMINATE.  See eseal-verify(1).\n"
	    "Language: --lang ja|en, else the locale (LANG=ja_JP.UTF-8: Japanese).\n"), fp);
}

static int
add_to(const char **v, size_t *n, const char *s, const char *opt)
{
	if (*n == MAX_LIST) {
		log_warnx("%s: at most %d times", opt, MAX_LIST);
		return 0;
	}
	v[(*n)++] = s;
	return 1;
}

/* A positive number of at most max; 1/0 (logged). */
static int
number(const char *s, long max, const char *opt, long *out)
{
	char	*end;
	long	 v;

	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > max) {
		log_warnx("%s: \"%s\" is not a number from 1 to %ld", opt, s,
		    max);
		return 0;
	}
	*out = v;
	return 1;
}

/* Parse argv into o; an exit status, or -1 to go on. */
static int
parse_args(int argc, char **argv, struct vopts *o)
{
	static const struct option longopts[] = {
		{ "anchor", required_argument, NULL, 'a' },
		{ "chain", required_argument, NULL, 'c' },
		{ "ocsp-url", required_argument, NULL, 'u' },
		{ "ocsp-response", required_argument, NULL, 'R' },
		{ "crl", required_argument, NULL, 'l' },
		{ "offline", no_argument, NULL, 'o' },
		{ "at", required_argument, NULL, 't' },
		{ "profile", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "cms", required_argument, NULL, 'm' },
		{ "content", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-body", required_argument, NULL, 'B' },
		{ "skew", required_argument, NULL, 'S' },
		{ "cache-dir", required_argument, NULL, 'D' },
		{ "no-cache", no_argument, NULL, 'N' },
		{ "allow-cached", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	long	v;
	int	ch, ok = 1;

	opterr = 0;
	while (ok && (ch = getopt_long(argc, argv, "h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'a':
			ok = add_to(o->anchors, &o->nanchors, optarg,
			    "--anchor");
			break;
		case 'c':
			ok = add_to(o->chains, &o->nchains, optarg, "--chain");
			break;
		case 'u':
			o->vp.ocsp_url = optarg;
			break;
		case 'R':
			ok = add_to(o->ocsp_files, &o->vp.nocsp_files, optarg,
			    "--ocsp-response");
			break;
		case 'l':
			ok = add_to(o->crls, &o->vp.ncrls, optarg, "--crl");
			break;
		case 'o':
			o->vp.offline = 1;
			break;
		case 't':
			ok = time_parse(optarg, &o->vp.at, "--at");
			break;
		case 'p':
			if (strcmp(optarg, "any") == 0) {
				o->profile = NULL;
			} else if (lint_profile_known(optarg)) {
				o->profile = optarg;
			} else {
				log_warnx("--profile: unknown profile \"%s\" "
				    "(eseal, eseal-qualified, eseal-jp, any)",
				    optarg);
				ok = 0;
			}
			break;
		case 'j':
			o->json = 1;
			break;
		case 'm':
			o->cms = optarg;
			break;
		case 'C':
			o->content = optarg;
			break;
		case 'T':
			ok = number(optarg, 3600, "--timeout", &o->vp.http.timeout);
			break;
		case 'B':
			if ((ok = number(optarg, 1L << 30, "--max-body", &v))) {
				o->vp.http.max_body = (size_t)v;
			}
			break;
		case 'S':
			ok = number(optarg, 86400, "--skew", &o->vp.skew);
			break;
		case 'D':
			free(o->cache_dir);
			if ((o->cache_dir = strdup(optarg)) == NULL) {
				fatalx("out of memory");
			}
			break;
		case 'N':
			o->no_cache = 1;
			break;
		case 'A':
			o->vp.allow_cached = 1;
			break;
		case 'h':
			usage(stdout);
			return VEXIT_PASSED;
		default:
			log_warnx("unknown option or missing argument: %s",
			    argv[optind - 1]);
			usage(stderr);
			return VEXIT_USAGE;
		}
	}
	if (!ok) {
		return VEXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if ((o->cms == NULL && argc != 1) || (o->cms != NULL && argc != 0)) {
		log_warnx("give one certificate, or --cms FILE");
		usage(stderr);
		return VEXIT_USAGE;
	}
	if (o->content != NULL && o->cms == NULL) {
		log_warnx("--content goes with --cms");
		return VEXIT_USAGE;
	}
	if (o->nanchors == 0) {
		log_warnx("at least one --anchor is needed");
		return VEXIT_USAGE;
	}
	if (o->no_cache && (o->cache_dir != NULL || o->vp.allow_cached)) {
		log_warnx("--no-cache excludes --cache-dir and --allow-cached");
		return VEXIT_USAGE;
	}
	o->cert = o->cms == NULL ? argv[0] : NULL;
	return -1;
}

/* The e-seal profile rules (policy/), qualified and QSCD claims. */
static void
check_profile(X509 *cert, X509 *issuer, const struct vopts *o,
    struct report *r)
{
	struct lint_opts	 lo;
	struct findings		 f;
	struct qc_claims	 qc;
	json_t			*arr;
	size_t			 i;
	const char		*first = NULL;

	memset(&lo, 0, sizeof(lo));
	lo.kind = LINT_ESEAL;
	lo.profile = o->profile;
	lo.issuer = issuer;
	lo.now = o->vp.at;
	findings_init(&f);
	lint_certificate(cert, &lo, &f);
	lint_qc_claims(cert, &qc);
	arr = json_array();
	for (i = 0; i < f.n; i++) {
		if (f.v[i].result == RULE_FAIL && first == NULL) {
			first = f.v[i].id;
		}
		if (f.v[i].result == RULE_FAIL || f.v[i].result == RULE_WARN) {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, "
			    "s:s}", "id", f.v[i].id, "source", f.v[i].source,
			    "result", f.v[i].result == RULE_FAIL ? "fail" :
			    "warn", "detail", f.v[i].detail));
		}
	}
	report_set(r, "profile", json_pack("{s:s, s:b, s:b, s:b, s:i, s:i, "
	    "s:o}", "profile", o->profile != NULL ? o->profile : "any",
	    "qualified", qc.compliance, "qscd", qc.compliance && qc.sscd,
	    "qcTypeEseal", qc.type_eseal, "fails", f.fails, "warns", f.warns,
	    "findings", arr));
	report_line(r, "qualified: %s, key in a QSCD: %s (qcStatements)",
	    qc.compliance ? "yes" : "no", qc.compliance && qc.sscd ? "yes" :
	    "no");
	if (f.fails == 0) {
		report_check(r, "profile", "passed", "%s: %zu rules, %d "
		    "warning(s)", o->profile != NULL ? o->profile : "any",
		    f.n, f.warns);
	} else if (o->profile == NULL) {
		report_check(r, "profile", "warning", "e-seal rules: %d "
		    "failed (first %s); no profile required", f.fails, first);
	} else {
		for (i = 0; i < f.n; i++) {
			if (f.v[i].result == RULE_FAIL) {
				report_line(r, "profile %s: %s: %s", o->profile,
				    f.v[i].id, f.v[i].detail);
			}
		}
		report_check(r, "profile", "failed", "%s: %d rule(s) failed, "
		    "first %s", o->profile, f.fails, first);
		report_indication(r, V_INDETERMINATE,
		    SUB_CHAIN_CONSTRAINTS_FAILURE, "not an %s seal (%s)",
		    o->profile, first);
	}
	findings_free(&f);
}

/* Load the anchors and intermediates; 1/0 (logged). */
static int
load_inputs(const struct vopts *o, STACK_OF(X509) *anchors,
    STACK_OF(X509) *untrusted)
{
	STACK_OF(X509)	*sk;
	size_t		 i;

	for (i = 0; i < o->nanchors; i++) {
		if (!anchors_add(anchors, o->anchors[i])) {
			return 0;
		}
	}
	for (i = 0; i < o->nchains; i++) {
		if ((sk = certs_load(o->chains[i])) == NULL) {
			return 0;
		}
		while (sk_X509_num(sk) > 0) {
			sk_X509_push(untrusted, sk_X509_shift(sk));
		}
		sk_X509_free(sk);
	}
	return 1;
}

/* The whole verification into r. */
static void
run(struct vopts *o, struct report *r)
{
	STACK_OF(X509)	*anchors = NULL, *untrusted = NULL, *chain = NULL;
	X509		*cert = NULL;
	json_t		*arr;
	int		 i;

	if ((anchors = sk_X509_new_null()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL) {
		fatalx("out of memory");
	}
	if (!load_inputs(o, anchors, untrusted)) {
		report_indication(r, V_INDETERMINATE, SUB_FORMAT_FAILURE,
		    "unreadable anchor or chain file");
		goto out;
	}
	if (o->cms != NULL) {
		if (!cms_verify_seal(o->cms, o->content, r, &cert, untrusted)) {
			goto out;
		}
	} else if ((cert = cert_load_one(o->cert)) == NULL) {
		report_indication(r, V_INDETERMINATE, SUB_FORMAT_FAILURE,
		    "%s: not a certificate", o->cert);
		goto out;
	}
	report_cert(r, "signer", cert);
	if (!chain_build(cert, anchors, untrusted,
	    o->profile != NULL ? lint_profile_policy(o->profile) : NULL,
	    &o->vp, r, &chain)) {
		goto out;
	}
	arr = json_array();
	for (i = 0; i < sk_X509_num(chain); i++) {
		json_array_append_new(arr, cert_json(sk_X509_value(chain, i)));
	}
	report_set(r, "chain", arr);
	check_profile(cert, sk_X509_value(chain, 1), o, r);
	if (status_chain(chain, &o->vp, r) &&
	    report_main(r) == V_PASSED) {
		report_indication(r, V_PASSED, SUB_NONE, "the seal can be "
		    "trusted at the validation time");
	}
 out:
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(anchors, X509_free);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(cert);
}

int
main(int argc, char **argv)
{
	struct vopts	 o;
	struct report	*r = NULL;
	int		 ret;

	log_init("eseal-verify");
	if (!i18n_setup(&argc, argv)) {
		return VEXIT_USAGE;
	}
	memset(&o, 0, sizeof(o));
	o.vp.http.timeout = 10;
	o.vp.http.max_body = 16u * 1024 * 1024;
	o.vp.skew = 300;
	if ((ret = parse_args(argc, argv, &o)) != -1) {
		goto out;
	}
	o.vp.now = now_utc();
	if (o.vp.at == 0) {
		o.vp.at = o.vp.now;
	}
	o.vp.crls = o.crls;
	o.vp.ocsp_files = o.ocsp_files;
	if (!o.no_cache && o.cache_dir == NULL) {
		o.cache_dir = cache_default_dir();
	}
	o.vp.http.cache_dir = o.no_cache ? NULL : o.cache_dir;
	if (!http_global_init()) {
		fatalx("cannot initialise libcurl");
	}
	r = report_new();
	run(&o, r);
	report_print(r, o.json, o.vp.at);
	ret = report_exit(r);
	http_global_cleanup();
 out:
	report_free(r);
	free(o.cache_dir);
	return ret;
}
