/*
 * eseal-ca: the offline e-seal CA signer.  Every CA key lives on a
 * PKCS#11 token; every sensitive act needs a quorum of officers and is
 * written to the tamper-evident audit chain.  This file only dispatches
 * to the subcommands.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "attest.h"
#include "ca.h"
#include "i18n.h"
#include "log.h"

struct ca_global g;

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*synopsis;
} commands[] = {
	{ "init", cmd_init,
	  N_("init --mode test|production [--quorum M] --officer NAME=SRC...\n"
	  "                        create a CA instance store and its first officers") },
	{ "token", cmd_token,
	  N_("token list|mechanisms --module PATH [--token LABEL]\n"
	  "                        list PKCS#11 tokens and their mechanisms") },
	{ "operator", cmd_operator,
	  N_("operator add|list|passwd|unlock|bind-card ...\n"
	  "                        manage operators (officer, operator, auditor)") },
	{ "ceremony", cmd_ceremony,
	  N_("ceremony show|run FILE --officer NAME=SRC...\n"
	  "                        review or run a key ceremony (root or issuing CA)") },
	{ "ca", cmd_ca,
	  N_("ca list|show|export|import-cert|revoke ...\n"
	  "                        CAs of this instance") },
	{ "key", cmd_key,
	  N_("key destroy --ca NAME --pin SRC --officer NAME=SRC...\n"
	  "                        destroy a retired CA key on its token") },
	{ "request", cmd_request,
	  N_("request submit|list|show|approve|reject|amend ...\n"
	  "                        e-seal certificate requests under dual control") },
	{ "attestation-root", cmd_attestation_root,
	  N_("attestation-root add|list|remove ...\n"
	  "                        vendor roots of HSM key attestation chains (quorum)") },
	{ "issue", cmd_issue,
	  N_("issue --ca NAME [--request ID...] --pin SRC [--operator NAME=SRC]\n"
	  "                        issue every approved request (lint first, one login)") },
	{ "cert", cmd_cert,
	  N_("cert export SERIAL [--out FILE] [--der]\n"
	  "                        print an issued certificate from the store") },
	{ "revoke", cmd_revoke,
	  N_("revoke SERIAL --ca NAME --reason R --requester NAME=SRC --approver NAME=SRC...\n"
	  "                        revoke an e-seal certificate under dual control") },
	{ "policy", cmd_policy,
	  N_("policy show | policy set allow-historical-signing DATE|none | policy set min-cmvp-level N\n"
	  "                        the policy gate's settings (quorum, audited)") },
	{ "crl", cmd_crl,
	  N_("crl --ca NAME --pin SRC [--delta] [--partition N] [--out FILE] [--pem]\n"
	  "                        sign a CA's CRL (full, delta, partition) or a root's ARL") },
	{ "export-status", cmd_export_status,
	  N_("export-status --ca NAME --pin SRC --out FILE [--next-update HOURS]\n"
	  "                        the signed status export for eseal-ocspd") },
	{ "ocsp-signer", cmd_ocsp_signer,
	  N_("ocsp-signer issue --ca NAME --csr FILE --out FILE --pin SRC --officer NAME=SRC...\n"
	  "                        the delegated OCSP signing certificate") },
	{ "audit", cmd_audit,
	  N_("audit verify --ca-cert FILE... | audit show [--last N] | audit sign --pin SRC\n"
	  "                        verify or show the audit chain") },
	{ "backup", cmd_backup,
	  N_("backup create|verify FILE --pass SRC [--officer NAME=SRC...]\n"
	  "                        encrypted, integrity-protected store backups (create: quorum)") },
	{ "restore", cmd_restore,
	  N_("restore FILE --pass SRC --officer NAME=SRC... [--witness FILE...] [--replace-newer]\n"
	  "                        restore a verified backup under the quorum; revocations,\n"
	  "                        serials, CRL numbers and export sequences never go back") },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *fp)
{
	size_t i;

	fputs(_("usage: eseal-ca [--db STORE] [--json] [--lang ja|en] COMMAND [options]\n\n"
	    "commands:\n"), fp);
	for (i = 0; i < NCOMMANDS; i++) {
		fprintf(fp, "  %s\n", _(commands[i].synopsis));
	}
	fputs(_("\n"
	    "Secrets (PINs, passphrases) are never taken from the command line: SRC is\n"
	    "prompt, file:PATH, fd:N or env:VAR.  The store is --db or $ESEAL_DB.\n"
	    "Run \"eseal-ca COMMAND --help\" for a command's options.\n"
	    "Exit status: 0 done, 1 refused (policy, quorum, lint, verification),\n"
	    "2 usage error, 3 input, store or token error.\n"
	    "Language: --lang ja|en, else the locale (LANG=ja_JP.UTF-8: Japanese).\n"), fp);
}

int
main(int argc, char **argv)
{
	size_t i;
	int argi = 1;

	log_init("eseal-ca");
	if (!i18n_setup(&argc, argv)) {
		return EXIT_USAGE;
	}
	g.db_path = getenv("ESEAL_DB");
	g.busy_ms = 2000;
	while (argi < argc && argv[argi][0] == '-') {
		if (strcmp(argv[argi], "--help") == 0 ||
		    strcmp(argv[argi], "-h") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else if (strcmp(argv[argi], "--version") == 0) {
			printf("eseal-ca %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		} else if (strcmp(argv[argi], "--json") == 0) {
			g.json = 1;
		} else if (strcmp(argv[argi], "-v") == 0) {
			log_set_verbose(2);
		} else if (strcmp(argv[argi], "-q") == 0) {
			log_set_verbose(0);
		} else if (strcmp(argv[argi], "--db") == 0 && argi + 1 < argc) {
			g.db_path = argv[++argi];
		} else if (strcmp(argv[argi], "--busy-timeout") == 0 &&
		    argi + 1 < argc) {
			g.busy_ms = atoi(argv[++argi]);
		} else if (strncmp(argv[argi], "--db=", 5) == 0) {
			g.db_path = argv[argi] + 5;
		} else {
			log_warnx("unknown option %s (see eseal-ca --help)",
			    argv[argi]);
			return EXIT_USAGE;
		}
		argi++;
	}
	if (argi >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[argi], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[argi], commands[i].name) == 0) {
			return commands[i].fn(argc - argi, argv + argi);
		}
	}
	log_warnx("unknown command \"%s\" (see eseal-ca --help)", argv[argi]);
	return EXIT_USAGE;
}
