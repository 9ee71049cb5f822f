/*
 * "eseal-ca audit verify|show", "eseal-ca backup create|verify" and
 * "eseal-ca restore".  Verification needs only the CA certificates given
 * on the command line, never the store's own copies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "audit.h"
#include "backup.h"
#include "ca.h"
#include "log.h"
#include "util.h"

#define MAX_CERTS 16

static void
audit_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: eseal-ca audit verify --ca-cert FILE... [--json]\n"
	    "       eseal-ca audit show [--last N] [--json]\n"
	    "       eseal-ca audit sign --pin SRC\n"
	    "  verify checks every entry's hash chain and every signed head with\n"
	    "  the given CA certificates only, and names each entry that was\n"
	    "  altered, removed or reordered (exit 1).  sign signs the current head\n"
	    "  with the audit CA's key on its token (PIN from SRC).\n");
}

static int
audit_show(struct db *db, long last)
{
	sqlite3_stmt *st;
	json_t *arr = json_array();

	st = db_prepare(db, "SELECT seq, time, operators, action, object,"
	    " request_hash, result, detail, hash FROM audit WHERE seq >"
	    " (SELECT COALESCE(MAX(seq), 0) FROM audit) - ?1 ORDER BY seq");
	if (st == NULL) {
		json_decref(arr);
		return EXIT_ERROR;
	}
	sqlite3_bind_int64(st, 1, last > 0 ? last : (long)1 << 62);
	while (sqlite3_step(st) == SQLITE_ROW) {
#define T(i) ((const char *)sqlite3_column_text(st, (i)))
		if (g.json) {
			json_array_append_new(arr, json_pack(
			    "{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
			    "seq", (json_int_t)sqlite3_column_int64(st, 0),
			    "time", T(1), "operators", T(2), "action", T(3),
			    "object", T(4), "request_hash", T(5), "result", T(6),
			    "detail", T(7), "hash", T(8)));
		} else {
			printf("%6lld %s %-12s %-18s %-24s %s%s%s\n",
			    (long long)sqlite3_column_int64(st, 0), T(1), T(2),
			    T(3), T(4), T(6), T(7)[0] ? " " : "", T(7));
		}
#undef T
	}
	sqlite3_finalize(st);
	if (g.json) {
		json_print(arr);
	} else {
		json_decref(arr);
	}
	return EXIT_OK;
}

int
cmd_audit(int argc, char **argv)
{
	static const char *const valued[] = { "ca-cert", "last", "pin", NULL };
	struct audit_verify_result res;
	struct args a;
	struct db *db = NULL;
	X509 *certs[MAX_CERTS];
	char *files[MAX_CERTS];
	size_t n = 0, i;
	int ret = EXIT_ERROR;

	if (!args_parse(argc, argv, valued, NULL, &a)) {
		return EXIT_USAGE;
	}
	if (a.help) {
		audit_usage(stdout);
		return EXIT_OK;
	}
	if (a.npos != 1) {
		audit_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(a.pos[0], "show") == 0) {
		if ((db = ca_open_db()) != NULL) {
			ret = audit_show(db, args_get(&a, "last") != NULL ?
			    atol(args_get(&a, "last")) : 0);
		}
		db_close(db);
		return ret;
	}
	if (strcmp(a.pos[0], "sign") == 0) {
		if (!args_need(&a, "pin", "audit sign")) {
			return EXIT_USAGE;
		}
		if ((db = ca_open_db()) != NULL &&
		    ca_audit_sign(db, NULL, args_get(&a, "pin"))) {
			ret = EXIT_OK;
		}
		db_close(db);
		return ret;
	}
	if (strcmp(a.pos[0], "verify") != 0) {
		audit_usage(stderr);
		return EXIT_USAGE;
	}
	n = args_all(&a, "ca-cert", files, MAX_CERTS);
	if (n == 0) {
		log_warnx("audit verify: give the CA certificate(s) with --ca-cert "
		    "(the store's own copies are not trusted)");
		return EXIT_USAGE;
	}
	for (i = 0; i < n; i++) {
		if ((certs[i] = x509_read_file(files[i])) == NULL) {
			n = i;
			goto out;
		}
	}
	if ((db = db_open(g.db_path != NULL ? g.db_path : "",
	    DB_OPEN_READONLY, g.busy_ms)) == NULL) {
		goto out;
	}
	memset(&res, 0, sizeof(res));
	if (audit_verify(db, certs, n, stderr, &res)) {
		ret = EXIT_OK;
	} else {
		ret = EXIT_REFUSED;
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:I,s:I,s:I,s:i,s:i}", "result",
		    ret == EXIT_OK ? "intact" : "tampered", "entries",
		    (json_int_t)res.entries, "signed_heads",
		    (json_int_t)res.signatures, "last_signed_seq",
		    (json_int_t)res.last_signed_seq, "unsigned_tail",
		    res.unsigned_tail, "problems", res.problems));
	} else {
		printf("audit chain %s: %lld entries, %lld signed heads verified, "
		    "last signed entry %lld, %d entries after it, %d problems\n",
		    ret == EXIT_OK ? "intact" : "TAMPERED",
		    (long long)res.entries, (long long)res.signatures,
		    (long long)res.last_signed_seq, res.unsigned_tail,
		    res.problems);
	}
out:
	for (i = 0; i < n; i++) {
		X509_free(certs[i]);
	}
	db_close(db);
	return ret;
}
