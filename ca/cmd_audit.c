/*
 * "eseal-ca audit verify|show|sign|anchor", "eseal-ca backup create|verify" and
 * "eseal-ca restore".  Verification needs only the CA certificates given
 * on the command line, never the store's own copies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "args.h"
#include "audit.h"
#include "backup.h"
#include "ca.h"
#include "log.h"
#include "util.h"
#include "witness.h"

#define MAX_CERTS 16
#define MAX_WITNESSES 32

static void
audit_usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca audit verify --ca-cert FILE... [--witness FILE...] [--json]\n"
	    "       eseal-ca audit show [--last N] [--json]\n"
	    "       eseal-ca audit sign --pin SRC\n"
	    "       eseal-ca audit anchor --pin SRC --out FILE [--ca NAME]\n"
	    "  verify checks every entry's hash chain and every signed head with\n"
	    "  the given CA certificates only, and names each entry that was\n"
	    "  altered, removed or reordered (exit 1); each --witness (a status\n"
	    "  export or an anchor, signed by one of those CAs) names a head the\n"
	    "  store must still hold.  sign signs the current head with the audit\n"
	    "  CA's key on its token (PIN from SRC).  anchor writes a statement of\n"
	    "  the current head signed by CA NAME (default: the audit CA) to keep\n"
	    "  off-site.\n"));
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

/*
 * Read the --witness files into w[] (verified against certs).  Returns
 * EXIT_OK, or the exit code of the first bad one: EXIT_REFUSED for a
 * signature that does not verify, EXIT_ERROR for a file that is not a
 * witness.
 */
static int
read_witnesses(char **files, size_t nw, X509 *const *certs, size_t ncerts,
    struct audit_witness *w)
{
	size_t i;

	for (i = 0; i < nw; i++) {
		switch (witness_read(files[i], certs, ncerts, &w[i])) {
		case WITNESS_OK:
			break;
		case WITNESS_FORGED:
			return EXIT_REFUSED;
		default:
			return EXIT_ERROR;
		}
	}
	return EXIT_OK;
}

static const char *
witness_result_name(enum audit_witness_result r)
{
	switch (r) {
	case AUDIT_WITNESS_MATCHES:
		return "matches";
	case AUDIT_WITNESS_MISSING:
		return "missing";
	case AUDIT_WITNESS_DIFFERS:
		return "differs";
	default:
		return "unchecked";
	}
}

/* Print the verdict of audit verify (text or JSON). */
static void
verify_print(int intact, const struct audit_verify_result *res,
    const struct audit_witness *w, size_t nw)
{
	json_t *jw;
	size_t i;

	if (g.json) {
		if ((jw = json_array()) == NULL) {
			fatalx("out of memory");
		}
		for (i = 0; i < nw; i++) {
			json_array_append_new(jw, json_pack("{s:s,s:I,s:s,s:s}",
			    "witness", w[i].what, "seq", (json_int_t)w[i].seq,
			    "hash", w[i].hash, "result",
			    witness_result_name(w[i].result)));
		}
		json_print(json_pack("{s:s,s:I,s:I,s:I,s:i,s:i,s:o}", "result",
		    intact ? "intact" : "tampered", "entries",
		    (json_int_t)res->entries, "signed_heads",
		    (json_int_t)res->signatures, "last_signed_seq",
		    (json_int_t)res->last_signed_seq, "unsigned_tail",
		    res->unsigned_tail, "problems", res->problems,
		    "witnesses", jw));
		return;
	}
	printf(_("audit chain %s: %lld entries, %lld signed heads verified, "
	    "last signed entry %lld, %d entries after it, %d problems"),
	    intact ? "intact" : "TAMPERED", (long long)res->entries,
	    (long long)res->signatures, (long long)res->last_signed_seq,
	    res->unsigned_tail, res->problems);
	if (nw > 0) {
		for (i = 0; i < nw && w[i].result == AUDIT_WITNESS_MATCHES; i++)
			;
		printf(_(", %zu witnesses %s"), nw, i == nw ? "match" :
		    "contradict it");
	}
	printf("\n");
}

/* "audit verify": exit code. */
static int
audit_verify_cmd(const struct args *a)
{
	struct audit_verify_result res;
	struct audit_witness w[MAX_WITNESSES];
	struct db *db = NULL;
	X509 *certs[MAX_CERTS];
	char *files[MAX_CERTS], *wfiles[MAX_WITNESSES + 1];
	size_t n, nw, i;
	int intact, ret = EXIT_ERROR;

	n = args_all(a, "ca-cert", files, MAX_CERTS);
	if (n == 0) {
		log_warnx("audit verify: give the CA certificate(s) with --ca-cert "
		    "(the store's own copies are not trusted)");
		return EXIT_USAGE;
	}
	if ((nw = args_all(a, "witness", wfiles, MAX_WITNESSES + 1)) >
	    MAX_WITNESSES) {
		log_warnx("audit verify: at most %d --witness", MAX_WITNESSES);
		return EXIT_USAGE;
	}
	for (i = 0; i < n; i++) {
		if ((certs[i] = x509_read_file(files[i])) == NULL) {
			n = i;
			goto out;
		}
	}
	if ((ret = read_witnesses(wfiles, nw, certs, n, w)) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_ERROR;
	if ((db = db_open(g.db_path != NULL ? g.db_path : "",
	    DB_OPEN_READONLY, g.busy_ms)) == NULL) {
		goto out;
	}
	memset(&res, 0, sizeof(res));
	intact = audit_verify_witnessed(db, certs, n, w, nw, stderr, &res);
	ret = intact ? EXIT_OK : EXIT_REFUSED;
	verify_print(intact, &res, w, nw);
out:
	for (i = 0; i < n; i++) {
		X509_free(certs[i]);
	}
	db_close(db);
	return ret;
}

int
cmd_audit(int argc, char **argv)
{
	static const char *const valued[] = { "ca-cert", "last", "pin",
	    "witness", "out", "ca", NULL };
	struct args a;
	struct db *db = NULL;
	int ret = EXIT_ERROR;

	if (!args_start(argc, argv, valued, NULL, &a, audit_usage, &ret)) {
		return ret;
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
	if (strcmp(a.pos[0], "anchor") == 0) {
		return audit_anchor_cmd(&a);
	}
	if (strcmp(a.pos[0], "verify") != 0) {
		audit_usage(stderr);
		return EXIT_USAGE;
	}
	return audit_verify_cmd(&a);
}
