/*
 * "eseal-ca ca ..." (list, show, export the CAs of the instance; import
 * the certificate an external root issued for a pending CA; "ca revoke"
 * is cmd_carevoke.c's).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "args.h"
#include "audit.h"
#include "ca.h"
#include "carow.h"
#include "i18n.h"
#include "lint.h"
#include "log.h"
#include "operators.h"
#include "util.h"

#define MAX_OFFICERS 16

static void
ca_usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca ca list [--json]\n"
	    "       eseal-ca ca show NAME [--json]\n"
	    "       eseal-ca ca export NAME --out FILE\n"
	    "       eseal-ca ca import-cert NAME CERT --officer NAME=SRC... [--pin SRC]\n"
	    "       eseal-ca ca revoke NAME --reason R --officer NAME=SRC... [--pin SRC]\n"
	    "  import-cert installs the certificate an external root issued for a\n"
	    "  pending issuing CA (its public key must be the token key's; it is\n"
	    "  linted first).\n"));
}

static int
ca_list(struct db *db, const char *only)
{
	sqlite3_stmt *st;
	json_t *arr = NULL;
	int found = 0;

	st = db_prepare(db, "SELECT c.name, c.kind, c.status, c.subject,"
	    " c.not_before, c.not_after, c.key_alg, c.sig_alg, c.token_serial,"
	    " c.token_manufacturer, c.token_model, c.key_id, c.prov_local,"
	    " c.prov_always_sensitive, c.prov_never_extractable,"
	    " c.prov_extractable, c.cmvp_cert, c.cmvp_status_at_gen,"
	    " c.cert_sha256, c.key_destroyed, p.name, c.settings"
	    " FROM cas c LEFT JOIN cas p ON p.id = c.parent_id"
	    " WHERE ?1 IS NULL OR c.name = ?1 ORDER BY c.id");
	if (st == NULL) {
		return EXIT_ERROR;
	}
	if (only != NULL) {
		sqlite3_bind_text(st, 1, only, -1, SQLITE_TRANSIENT);
	}
	arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
#define T(i) ((const char *)sqlite3_column_text(st, (i)))
#define TS(i) (T(i) != NULL ? T(i) : "")
		found++;
		if (g.json) {
			json_t *settings = json_loads(TS(21), 0, NULL);

			if (settings == NULL) {
				settings = json_object();
			}
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,"
			    "s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:b,s:b,s:b,s:b},"
			    "s:s,s:s,s:s,s:s,s:s,s:o}",
			    "name", TS(0), "kind", TS(1), "status", TS(2),
			    "subject", TS(3), "not_before", TS(4),
			    "not_after", TS(5), "key_alg", TS(6),
			    "sig_alg", TS(7), "token_serial", TS(8),
			    "token_manufacturer", TS(9), "token_model", TS(10),
			    "key_id", TS(11), "provenance",
			    "local", sqlite3_column_int(st, 12),
			    "always_sensitive", sqlite3_column_int(st, 13),
			    "never_extractable", sqlite3_column_int(st, 14),
			    "extractable", sqlite3_column_int(st, 15),
			    "cmvp_cert", TS(16), "cmvp_status_at_generation",
			    TS(17), "cert_sha256", TS(18), "key_destroyed",
			    TS(19), "parent", TS(20),
			    "settings", settings));
		} else if (only == NULL) {
			printf("%-20s %-8s %-8s %-10s %s\n", TS(0), TS(1), TS(2),
			    TS(6), TS(3));
		} else {
			printf("name            %s\nkind            %s\n"
			    "status          %s\nsubject         %s\n"
			    "validity        %s .. %s\nkey             %s on "
			    "token %s (%s/%s) id %s\nsignature       %s\n"
			    "provenance      LOCAL=%d ALWAYS_SENSITIVE=%d "
			    "NEVER_EXTRACTABLE=%d EXTRACTABLE=%d\n"
			    "CMVP            %s (%s at key generation)\n"
			    "certificate     sha256 %s\nparent          %s\n"
			    "key destroyed   %s\nsettings        %s\n",
			    TS(0), TS(1), TS(2), TS(3), TS(4), TS(5), TS(6),
			    TS(8), TS(9), TS(10), TS(11), TS(7),
			    sqlite3_column_int(st, 12),
			    sqlite3_column_int(st, 13),
			    sqlite3_column_int(st, 14),
			    sqlite3_column_int(st, 15), TS(16), TS(17), TS(18),
			    TS(20), T(19) != NULL ? T(19) : "no", TS(21));
		}
#undef T
#undef TS
	}
	sqlite3_finalize(st);
	if (g.json) {
		json_print(only != NULL && json_array_size(arr) == 1 ?
		    json_incref(json_array_get(arr, 0)) : json_incref(arr));
	}
	json_decref(arr);
	if (only != NULL && found == 0) {
		log_warnx("ca %s: no such CA", only);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

static int
ca_export(struct db *db, const char *name, const char *out)
{
	X509 *x = NULL;
	int ret = EXIT_ERROR;

	switch (carow_cert_load(db, name, &x)) {
	case -1:
		break;
	case 0:
		log_warnx("ca %s: no such CA or no certificate yet", name);
		ret = EXIT_REFUSED;
		break;
	default:
		if (x509_write_pem(x, out)) {
			ret = EXIT_OK;
		}
	}
	X509_free(x);
	return ret;
}

static int
ca_import_cert(struct db *db, const char *name, const char *file,
    char **specs, size_t nspecs, const char *pin)
{
	struct quorum q = { 0 };
	struct ca_key *ck = NULL;
	struct findings f;
	struct lint_opts lo;
	X509 *x = NULL;
	unsigned char *der = NULL;
	char sha[65], nb[32], na[32], *who = NULL, object[160];
	int ret = EXIT_ERROR, why, len;
	time_t t;

	findings_init(&f);
	snprintf(object, sizeof(object), "ca:%s", name);
	if ((x = x509_read_file(file)) == NULL) {
		goto out;
	}
	if (!quorum_gather(db, specs, nspecs, quorum_size(db), ROLE_OFFICER,
	    "ca-import-cert", &q)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	who = quorum_names(&q);
	if ((ck = ca_key_open(db, name, pin, who, &why)) == NULL) {
		ret = why;
		goto out;
	}
	if (ck->cert != NULL) {
		log_warnx("ca %s: already has a certificate", name);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(x), hsm_key_public(ck->key)) != 1) {
		log_warnx("%s: ES-CA-06: the certificate's public key is not CA "
		    "%s's token key", file, name);
		audit_append(db, who, "ca-import-cert", object, NULL,
		    "refused: key mismatch", file);
		ret = EXIT_REFUSED;
		goto out;
	}
	memset(&lo, 0, sizeof(lo));
	lo.kind = LINT_ISSUING_CA;
	if (!lint_certificate(x, &lo, &f)) {
		findings_log_fails(&f, file);
		audit_append(db, who, "ca-import-cert", object, NULL,
		    "refused: lint", file);
		ret = EXIT_REFUSED;
		goto out;
	}
	x509_sha256_hex(x, sha);
	if ((len = i2d_X509(x, &der)) <= 0) {
		log_ssl("%s: cannot encode", file);
		goto out;
	}
	t = 0;
	{
		struct tm tm;

		ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm);
		t = timegm(&tm);
		time_fmt(t, nb, sizeof(nb));
		ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm);
		t = timegm(&tm);
		time_fmt(t, na, sizeof(na));
	}
	if (!db_begin(db)) {
		goto out;
	}
	if (!carow_set_certificate(db, ck->id, der, len, sha, nb, na) ||
	    !audit_append(db, who, "ca-import-cert", object, NULL, "ok", sha) ||
	    !db_commit(db)) {
		db_rollback(db);
		goto out;
	}
	printf(_("ca %s: certificate %s installed\n"), name, sha);
	/*
	 * The head is signed on the token this command logged in to, by the
	 * CA now installed: --pin is that token's PIN, not the audit CA's,
	 * and trying it on another token would spend a PIN attempt there
	 * and fail after the commit.
	 */
	ck->cert = x;
	x = NULL;
	memcpy(ck->cert_sha256, sha, sizeof(ck->cert_sha256));
	ret = ca_audit_sign(db, ck, NULL) ? EXIT_OK : EXIT_ERROR;
out:
	findings_free(&f);
	OPENSSL_free(der);
	X509_free(x);
	ca_key_free(ck);
	quorum_free(&q);
	free(who);
	return ret;
}

int
cmd_ca(int argc, char **argv)
{
	static const char *const valued[] = { "out", "officer", "pin", NULL };
	struct args a;
	struct db *db = NULL;
	char *specs[MAX_OFFICERS];
	int ret = EXIT_ERROR;

	if (argc > 1 && strcmp(argv[1], "revoke") == 0) {
		return cmd_ca_revoke(argc - 1, argv + 1);
	}
	if (!args_start(argc, argv, valued, NULL, &a, ca_usage, &ret)) {
		return ret;
	}
	if (a.npos < 1) {
		ca_usage(stderr);
		return EXIT_USAGE;
	}
	if ((db = ca_open_db()) == NULL) {
		return EXIT_ERROR;
	}
	if (strcmp(a.pos[0], "list") == 0 && a.npos == 1) {
		ret = ca_list(db, NULL);
	} else if (strcmp(a.pos[0], "show") == 0 && a.npos == 2) {
		ret = ca_list(db, a.pos[1]);
	} else if (strcmp(a.pos[0], "export") == 0 && a.npos == 2 &&
	    args_need(&a, "out", "ca export")) {
		ret = ca_export(db, a.pos[1], args_get(&a, "out"));
	} else if (strcmp(a.pos[0], "import-cert") == 0 && a.npos == 3) {
		ret = ca_import_cert(db, a.pos[1], a.pos[2], specs,
		    args_all(&a, "officer", specs, MAX_OFFICERS),
		    args_get(&a, "pin"));
	} else {
		ca_usage(stderr);
		ret = EXIT_USAGE;
	}
	db_close(db);
	return ret;
}
