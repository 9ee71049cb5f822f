/*
 * eseal-policy: the policy tool for compliance staff and CA operators.
 * Subcommands: lint (certificates against the e-seal profile rules),
 * cmvp (the NIST CMVP registry), hsm (token to CMVP mappings).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmvp.h"
#include "exitcodes.h"
#include "i18n.h"
#include "log.h"
#include "policy.h"

static void
usage(FILE *fp)
{
	fputs(_("usage: eseal-policy [--lang ja|en] COMMAND [options]\n"
	    "\n"
	    "commands:\n"
	    "  lint [--json] [--kind eseal|root|issuing|ocsp] [--profile NAME] [--issuer CERT] CERT...\n"
	    "                          lint certificates (DER or PEM); exit 1 on any FAIL\n"
	    "  cmvp import [--db DB] [--force] FILE...\n"
	    "                          import NIST CMVP snapshots (JSON or CSV)\n"
	    "  cmvp status [--db DB] [--as-of DATE] [--json] CERT-NUMBER...\n"
	    "                          effective CMVP status of certificates\n"
	    "  hsm map|list ...        bind PKCS#11 token identities to CMVP certificates\n"
	    "  report [--db DB] [--format html|json|csv] [--as-of DATE] [--out FILE]\n"
	    "         [--ca-cert FILE]...\n"
	    "                          compliance report of a CA store\n"
	    "\n"
	    "Run \"eseal-policy COMMAND --help\" for a command's options.\n"
	    "Exit status: 0 success, 1 a check failed (FAIL or refusal), 2 usage error,\n"
	    "3 input or store error.\n"
	    "Language: --lang ja|en, else the locale (LANG=ja_JP.UTF-8: Japanese).\n"), fp);
}

int
main(int argc, char **argv)
{
	log_init("eseal-policy");
	if (!i18n_setup(&argc, argv)) {
		return EXIT_USAGE;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("eseal-policy %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "lint") == 0) {
		return cmd_lint(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "cmvp") == 0) {
		return cmd_cmvp(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "hsm") == 0) {
		return cmd_hsm(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "report") == 0) {
		return cmd_report(argc - 1, argv + 1);
	}
	log_warnx("unknown command \"%s\" (see eseal-policy --help)", argv[1]);
	return 2;
}
