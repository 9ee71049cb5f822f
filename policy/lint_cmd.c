/*
 * "eseal-policy lint": read certificates (DER or PEM), lint each against
 * the rules for its kind (and e-seal profile), print the findings as text
 * or JSON, and exit 1 if any rule failed.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "i18n.h"
#include "lint.h"
#include "lint_int.h"
#include "log.h"
#include "policy.h"
#include "subcmd.h"
#include "util.h"

static const char *const lint_usage = N_(
    "usage: eseal-policy lint [--json] [--kind eseal|root|issuing|ocsp]\n"
    "           [--profile NAME] [--issuer CERT] [--policy FILE] CERT...\n"
    "\n"
    "  --json          print one JSON object per certificate (an array\n"
    "                  when several are given)\n"
    "  --kind KIND     eseal (default), root, issuing or ocsp\n"
    "  --profile NAME  e-seal profile: eseal-qualified, eseal, eseal-jp\n"
    "  --issuer CERT   the issuing CA certificate (chain checks)\n"
    "  --policy FILE   algorithm policy (JSON) instead of the default\n"
    "\n"
    "Exit status: 0 no FAIL, 1 a rule failed, 2 usage, 3 unreadable input.\n");

int
cmd_lint(int argc, char **argv)
{
	struct opts		 so;
	struct lint_opts	 o;
	struct alg_policy	*ap = NULL;
	struct findings		 f;
	X509			*issuer = NULL, *x;
	const char		*issuer_path, *policy_path;
	int			 first, json, ret = EXIT_OK, i, printed = 0;

	if (!sub_open(argc, argv, B(O_JSON) | B(O_KIND) | B(O_PROFILE) |
	    B(O_ISSUER) | B(O_POLICY), lint_usage, OPERANDS_ANY, &so, &first,
	    &ret)) {
		return ret;
	}
	memset(&o, 0, sizeof(o));
	if (so.kind == NULL || strcmp(so.kind, "eseal") == 0) {
		o.kind = LINT_ESEAL;
	} else if (strcmp(so.kind, "root") == 0) {
		o.kind = LINT_ROOT_CA;
	} else if (strcmp(so.kind, "issuing") == 0) {
		o.kind = LINT_ISSUING_CA;
	} else if (strcmp(so.kind, "ocsp") == 0) {
		o.kind = LINT_OCSP_SIGNER;
	} else {
		log_warnx("lint: unknown kind \"%s\" (eseal, root, issuing, "
		    "ocsp)", so.kind);
		return EXIT_USAGE;
	}
	if (so.profile != NULL && eseal_profile_find(so.profile) == NULL) {
		log_warnx("lint: unknown profile \"%s\" (eseal-qualified, eseal, "
		    "eseal-jp)", so.profile);
		return EXIT_USAGE;
	}
	o.profile = so.profile;
	issuer_path = so.issuer;
	policy_path = so.policy;
	json = so.json;
	argc -= first;
	argv += first;
	if (argc == 0) {
		fputs(_(lint_usage), stderr);
		return EXIT_USAGE;
	}
	if (o.profile != NULL && o.kind != LINT_ESEAL) {
		log_warnx("lint: --profile applies to --kind eseal only");
		return EXIT_USAGE;
	}
	if (issuer_path != NULL && (issuer = x509_read_file(issuer_path)) == NULL) {
		ret = EXIT_ERROR;
		goto out;
	}
	if (policy_path != NULL && (ap = alg_policy_load(policy_path)) ==
	    NULL) {
		ret = EXIT_ERROR;
		goto out;
	}
	o.issuer = issuer;
	o.ap = ap;

	if (json && argc > 1) {
		printf("[\n");
	}
	for (i = 0; i < argc; i++) {
		if ((x = x509_read_file(argv[i])) == NULL) {
			ret = EXIT_ERROR;
			continue;
		}
		findings_init(&f);
		if (!lint_certificate(x, &o, &f) && ret == EXIT_OK) {
			ret = EXIT_REFUSED;
		}
		if (json && printed++ > 0) {
			printf(",\n");
		}
		findings_print(stdout, &f, argv[i], json);
		findings_free(&f);
		X509_free(x);
	}
	if (json && argc > 1) {
		printf("]\n");
	}
	fflush(stdout);
 out:
	alg_policy_free(ap);
	X509_free(issuer);
	return ret;
}
