/*
 * "eseal-ca export-status": the signed status export the online OCSP
 * responder loads.  For each issuing CA named, one section with every
 * serial it issued and its status and the CA's current CRLs; the CMS
 * SignedData carries one SignerInfo per CA, each made on that CA's token.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "args.h"
#include "audit.h"
#include "ca.h"
#include "carow.h"
#include "certrow.h"
#include "crlstore.h"
#include "export.h"
#include "gate.h"
#include "log.h"
#include "operators.h"
#include "util.h"

/* Most issuing CAs in one export. */
#define EXPORT_MAX_CAS 16

static void
export_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: eseal-ca export-status --ca NAME[,NAME...] --pin SRC [--pin SRC...]\n"
	    "                              --out FILE [--next-update HOURS]\n"
	    "                              [--operator NAME=SRC]\n"
	    "  Writes the status export for eseal-ocspd: for each issuing CA named,\n"
	    "  every serial it issued with its status and its latest CRLs, under\n"
	    "  one strictly increasing sequence number, as CMS SignedData with one\n"
	    "  signature per CA made on its token.  One --pin serves every CA (read\n"
	    "  once per CA: use file: or env:), or give one --pin per CA in the\n"
	    "  --ca order.  nextUpdate defaults to 48 hours.\n");
}

/* The value of hex digit c + 1, or 0 (a table: ten million serials). */
static const unsigned char hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16
};

/* Parse a stored UTC time; 0 for NULL. */
static time_t
stored_time(const unsigned char *s)
{
	time_t t = 0;

	if (s != NULL && !time_parse((const char *)s, &t, "stored time")) {
		t = 0;
	}
	return t;
}

/* Where add_entry() adds and counts. */
struct entries {
	struct export_builder	*b;
	size_t			*n, *nrev;
};

/*
 * The stored serial (hex without leading zeros) as its magnitude into
 * mag (room for 32 octets); its length, or 0 if it is
 * not hex or too long.
 */
static size_t
serial_mag(const char *hex, unsigned char *mag)
{
	const unsigned char *h = (const unsigned char *)hex;
	size_t n = strlen(hex), len = (n + 1) / 2, i;
	int hi, lo;

	if (n == 0 || len > 32) {
		return 0;
	}
	for (i = 0; i < len; i++) {
		/* An odd count: the first octet has one digit. */
		hi = (i == 0 && n % 2) ? 1 : hexval[*h++];
		lo = hexval[*h++];
		if (hi == 0 || lo == 0) {
			return 0;
		}
		mag[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
	}
	return len;
}

/* Add one issued serial (good or revoked) to the export.  1/0 (logged). */
static int
add_entry(void *arg, const struct certrow_status *cs)
{
	struct entries *e = arg;
	unsigned char mag[32];
	size_t len;
	int ok;

	if ((len = serial_mag(cs->serial, mag)) == 0) {
		log_warnx("export: stored serial %s is not hex", cs->serial);
		return 0;
	}
	ok = export_builder_add_entry(e->b, mag, len, cs->revoked ?
	    EXPORT_REVOKED : EXPORT_GOOD, cs->revoked ? stored_time(
	    (const unsigned char *)cs->time) : 0, cs->revoked ? cs->reason :
	    -1, cs->revoked ? stored_time(
	    (const unsigned char *)cs->invalidity_date) : 0);
	if (ok) {
		(*e->n)++;
		if (cs->revoked) {
			(*e->nrev)++;
		}
	}
	return ok;
}

/* Add every issued serial of the CA (good or revoked). 1/0. */
static int
add_entries(struct db *db, struct export_builder *b, int64_t ca_id,
    size_t *n, size_t *nrev)
{
	struct entries e = { b, n, nrev };

	return certrow_each_status(db, ca_id, add_entry, &e);
}

/* Add the CA's latest full, delta and partition CRLs. 1/0. */
static int
add_crls(struct db *db, struct export_builder *b, int64_t ca_id,
    const char *ca_name, size_t *ncrls)
{
	sqlite3_stmt *st;
	unsigned char *file_der = NULL;
	const void *der;
	size_t der_len;
	char name[160];
	int rc, ok = 0;

	st = db_prepare(db, "SELECT kind, partition, der, sha256 FROM crls c WHERE"
	    " ca_id = ?1 AND kind IN ('full', 'delta') AND number = (SELECT"
	    " MAX(number) FROM crls d WHERE d.ca_id = ?1 AND d.kind = c.kind AND"
	    " d.partition IS c.partition) ORDER BY kind, partition");
	if (st == NULL) {
		return 0;
	}
	sqlite3_bind_int64(st, 1, ca_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		int part = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 :
		    sqlite3_column_int(st, 1);

		snprintf(name, sizeof(name), "%s%s%s", ca_name,
		    strcmp(kind, "delta") == 0 ? "-delta" : "", "");
		if (part > 0) {
			size_t l = strlen(name);

			snprintf(name + l, sizeof(name) - l, "-p%d", part);
		}
		der = sqlite3_column_blob(st, 2);
		der_len = (size_t)sqlite3_column_bytes(st, 2);
		/* An empty der: the CRL is a file beside the store. */
		if (der_len == 0) {
			free(file_der);
			if (!crl_der_load(db_path(db), (const char *)
			    sqlite3_column_text(st, 3), &file_der, &der_len)) {
				goto out;
			}
			der = file_der;
		}
		if (!export_builder_add_crl(b, name, der, der_len)) {
			goto out;
		}
		(*ncrls)++;
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "export: reading CRLs");
		goto out;
	}
	ok = 1;
out:
	free(file_der);
	sqlite3_finalize(st);
	return ok;
}

/*
 * The next export sequence number (the last one used + 1), read without
 * taking it: record_sequence() takes it when the signed export is
 * recorded, so that a run that fails before (a token error while
 * signing) consumes none.  -1 on error.
 */
static int64_t
peek_sequence(struct db *db)
{
	char *cur;
	int64_t seq;

	cur = db_meta_get(db, "status_export_seq");
	seq = cur != NULL ? strtoll(cur, NULL, 10) + 1 : 1;
	free(cur);
	return seq;
}

/*
 * Inside the caller's transaction: take seq, which must still be the
 * next one (another export may have taken it meanwhile).  1/0, logged.
 */
static int
record_sequence(struct db *db, int64_t seq)
{
	char buf[32];

	if (peek_sequence(db) != seq) {
		log_warnx("export-status: sequence %lld was taken by another "
		    "export meanwhile; nothing written (run it again)",
		    (long long)seq);
		return 0;
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)seq);
	return db_meta_set(db, "status_export_seq", buf);
}

/*
 * Split the --ca list into names[] (malloc'd copy in *buf); at most
 * EXPORT_MAX_CAS names, none empty, no duplicates.  Returns the count,
 * 0 on error (logged).
 */
static size_t
split_cas(const char *list, char **buf, const char **names)
{
	char *p, *tok, *save = NULL;
	size_t n = 0, i;

	if ((*buf = strdup(list)) == NULL) {
		fatalx("out of memory");
	}
	p = *buf;
	if (*p == '\0' || p[strlen(p) - 1] == ',' || strstr(p, ",,") != NULL ||
	    *p == ',') {
		log_warnx("export-status: --ca: empty CA name in \"%s\"", list);
		return 0;
	}
	for (tok = strtok_r(p, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (n == EXPORT_MAX_CAS) {
			log_warnx("export-status: --ca: at most %d CAs",
			    EXPORT_MAX_CAS);
			return 0;
		}
		for (i = 0; i < n; i++) {
			if (strcmp(names[i], tok) == 0) {
				log_warnx("export-status: --ca: %s named twice",
				    tok);
				return 0;
			}
		}
		names[n++] = tok;
	}
	return n;
}

/*
 * Refuse, before any token is opened, a name that is not an issuing CA
 * with a certificate.  1/0 (logged).
 */
static int
check_issuing(struct db *db, const char *name)
{
	struct ca_row *row;
	int ok;

	if ((row = ca_row_load(db, name)) == NULL) {
		return 0;
	}
	ok = row->cert != NULL && strcmp(row->kind, "issuing") == 0;
	if (!ok) {
		log_warnx("ca %s: ES-CA-07: a status export is made by an "
		    "issuing CA with a certificate", name);
	}
	ca_row_free(row);
	return ok;
}

/*
 * One export in the making: its numbers, times and counts; once signed
 * and checked, its SHA-256 and the temporary file beside --out that
 * holds it (renamed over --out once the export is recorded).
 */
struct export_run {
	int64_t	 seq, aseq;
	char	 ahash[65];
	time_t	 now, next;
	size_t	 n, nrev, ncrls;
	char	 sha[65];
	char	*tmp;
};

/* The export's file and hash, made beside the check (export_write()). */
struct export_writer {
	const char		*out;
	const unsigned char	*der;
	size_t			 len;
	char			*tmp;
	char			 sha[65];
	int			 ok;
};

/*
 * Thread body: write w->der to a temporary file beside w->out (w->tmp)
 * and hash it into w->sha; w->ok 1/0 (logged).  Runs while the main
 * thread checks the export: two passes over hundreds of MiB beside the
 * check's own two.
 */
static void *
export_write(void *arg)
{
	struct export_writer *w = arg;

	sha256_hex(w->der, w->len, w->sha);
	w->ok = file_write_tmp(w->out, w->der, w->len, 0644, &w->tmp);
	return NULL;
}

/*
 * The command line of export-status: --next-update into *hours, --ca
 * into names (*nca of them, pointing into *cabuf), --pin into pins (one
 * for all CAs or one per CA), and an --out that can be written.  1/0
 * (logged; a usage error).
 */
static int
export_args(struct args *a, long *hours, char **cabuf, const char **names,
    size_t *nca, char **pins, size_t *npin)
{
	if (args_get(a, "next-update") != NULL) {
		*hours = strtol(args_get(a, "next-update"), NULL, 10);
		if (*hours < 1 || *hours > 24 * 31) {
			log_warnx("export-status: --next-update must be 1..744 "
			    "hours");
			return 0;
		}
	}
	if ((*nca = split_cas(args_get(a, "ca"), cabuf, names)) == 0) {
		return 0;
	}
	*npin = args_all(a, "pin", pins, EXPORT_MAX_CAS + 1);
	if (*npin != 1 && *npin != *nca) {
		log_warnx("export-status: give one --pin for every CA, or one "
		    "--pin per CA in the --ca order (%zu CAs, %zu --pin)", *nca,
		    *npin);
		return 0;
	}
	/* Before a number is taken or a token opened. */
	return out_path_writable(args_get(a, "out"), "export-status --out");
}

/*
 * Who makes the export: the --operator authenticated, else "system",
 * into *who (malloc'd).  1/0 (logged).
 */
static int
export_actor(struct db *db, struct args *a, char **who)
{
	int64_t op_id;

	if (args_get(a, "operator") != NULL) {
		return auth_spec(db, args_get(a, "operator"), "export-status",
		    who, &op_id);
	}
	if ((*who = strdup("system")) == NULL) {
		fatalx("out of memory");
	}
	return 1;
}

/*
 * Check the signed export der (len bytes) as eseal-ocspd will check it
 * against trust[] (ntrust), and meanwhile, in a second thread, write it
 * to a temporary file beside out and hash it: er->tmp and er->sha on
 * success; nothing left behind on failure.  1/0 (logged).
 */
static int
export_check_write(const unsigned char *der, size_t len, X509 **trust,
    size_t ntrust, const char *out, struct export_run *er)
{
	struct export_writer w;
	struct export *check;
	pthread_t th;
	int threaded;

	memset(&w, 0, sizeof(w));
	w.out = out;
	w.der = der;
	w.len = len;
	threaded = pthread_create(&th, NULL, export_write, &w) == 0;
	check = export_decode_view(der, len, trust, ntrust, out);
	if (threaded) {
		pthread_join(th, NULL);
	} else {
		export_write(&w);
	}
	if (check == NULL) {
		log_warnx("export-status: ES-HSM-SIG-01: the export signed on "
		    "the token does not verify; nothing written");
		tmp_discard(w.tmp, 1);
		return 0;
	}
	export_free(check);
	if (!w.ok) {
		return 0;
	}
	er->tmp = w.tmp;
	memcpy(er->sha, w.sha, sizeof(er->sha));
	return 1;
}

/*
 * The signed export of the nca CAs whose keys ck holds: the audit head
 * at this point (the export witnesses the chain up to it), every serial
 * and CRL of each CA, one signature per CA on its token, checked as
 * eseal-ocspd will check them.  The export at *buf + *off, *derlen
 * bytes (*buf OPENSSL_malloc'd), in the temporary file er->tmp, its
 * hash and the counts in er on success.  1/0 (logged).
 */
static int
export_build(struct db *db, struct ca_key **ck, const char **names,
    size_t nca, const char *out, struct export_run *er, unsigned char **buf,
    size_t *off, size_t *derlen)
{
	struct export_signer sg[EXPORT_MAX_CAS];
	struct export_builder *b = NULL;
	X509 *trust[EXPORT_MAX_CAS];
	size_t i;
	int ok = 0;

	for (i = 0; i < nca; i++) {
		sg[i].cert = ck[i]->cert;
		sg[i].key = hsm_key_private(ck[i]->key);
		sg[i].alg = ck[i]->alg;
		trust[i] = ck[i]->cert;
	}
	if (!audit_head(db, &er->aseq, er->ahash) ||
	    (b = export_builder_new(er->seq, er->now)) == NULL ||
	    !export_builder_set_audit_head(b, er->aseq, er->ahash)) {
		goto out;
	}
	for (i = 0; i < nca; i++) {
		if (!export_builder_add_issuer(b, ck[i]->cert, er->now,
		    er->next) || !add_entries(db, b, ck[i]->id, &er->n,
		    &er->nrev) || !add_crls(db, b, ck[i]->id, names[i],
		    &er->ncrls)) {
			goto out;
		}
	}
	if (!export_builder_sign_at(b, sg, nca, hsm_libctx(), hsm_propq(),
	    buf, off, derlen)) {
		goto out;
	}
	ok = export_check_write(*buf + *off, *derlen, trust, nca, out, er);
out:
	export_builder_free(b);
	return ok;
}

/* What export-status tells: the export's file, numbers and CAs. */
static void
export_print(const char *out, const char **names, size_t nca,
    const struct export_run *er, const char *ts, const char *tn,
    const char *sha, const char *detail)
{
	json_t *jcas;
	size_t i;

	if (!g.json) {
		printf("%s: status export %s\n", out, detail);
		return;
	}
	if ((jcas = json_array()) == NULL) {
		fatalx("out of memory");
	}
	for (i = 0; i < nca; i++) {
		json_array_append_new(jcas, json_string(names[i]));
	}
	json_print(json_pack("{s:s,s:I,s:o,s:I,s:I,s:I,s:s,s:s,s:s,"
	    "s:{s:I,s:s}}", "file", out, "sequence", (json_int_t)er->seq,
	    "cas", jcas, "certificates", (json_int_t)er->n, "revoked",
	    (json_int_t)er->nrev, "crls", (json_int_t)er->ncrls, "produced",
	    ts, "next_update", tn, "sha256", sha, "audit_head", "seq",
	    (json_int_t)er->aseq, "hash", er->ahash));
}

int
cmd_export_status(int argc, char **argv)
{
	static const char *const valued[] = { "ca", "pin", "out", "next-update",
	    "operator", NULL };
	struct export_run er;
	struct args a;
	struct db *db = NULL;
	struct ca_key *ck[EXPORT_MAX_CAS];
	unsigned char *buf = NULL;
	char *who = NULL, *cabuf = NULL, *tmp, *pins[EXPORT_MAX_CAS + 1];
	char object[512], sha[65], detail[1024], ts[32], tn[32], obj[160];
	const char *names[EXPORT_MAX_CAS], *out;
	size_t i, nca = 0, npin, off = 0, derlen = 0;
	long hours = 48;
	int ret = EXIT_ERROR, why;

	memset(ck, 0, sizeof(ck));
	memset(&er, 0, sizeof(er));
	if (!args_start(argc, argv, valued, NULL, &a, export_usage, &ret)) {
		return ret;
	}
	if (a.npos != 0 || !args_need(&a, "ca", "export-status") ||
	    !args_need(&a, "pin", "export-status") ||
	    !args_need(&a, "out", "export-status")) {
		export_usage(stderr);
		return EXIT_USAGE;
	}
	if (!export_args(&a, &hours, &cabuf, names, &nca, pins, &npin)) {
		ret = EXIT_USAGE;
		goto out;
	}
	out = args_get(&a, "out");
	snprintf(object, sizeof(object), "ca:%s", args_get(&a, "ca"));
	if ((db = ca_open_db()) == NULL) {
		goto out;
	}
	for (i = 0; i < nca; i++) {
		if (!check_issuing(db, names[i])) {
			ret = EXIT_REFUSED;
			goto out;
		}
	}
	if (!export_actor(db, &a, &who)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	for (i = 0; i < nca; i++) {
		snprintf(obj, sizeof(obj), "ca:%s", names[i]);
		/* Checked above; the row could not change since (one store). */
		if ((ck[i] = ca_key_open_signing(db, names[i],
		    pins[npin == 1 ? 0 : i], who, obj, "a status export",
		    &why)) == NULL) {
			ret = why;
			goto out;
		}
	}
	er.now = now_utc();
	er.next = er.now + hours * 3600;
	/*
	 * One counter for the whole store, so the number increases strictly
	 * for every CA whichever exports carry it.  It is taken with the
	 * audit record, before the file exists (never reused), and only once
	 * the export is signed and verified (a failed run takes none).
	 */
	if ((er.seq = peek_sequence(db)) < 0) {
		goto out;
	}
	if (!export_build(db, ck, names, nca, out, &er, &buf, &off,
	    &derlen)) {
		audit_append(db, who, "status-export", object, NULL, "failed",
		    NULL);
		goto out;
	}
	memcpy(sha, er.sha, sizeof(sha));
	time_fmt(er.now, ts, sizeof(ts));
	time_fmt(er.next, tn, sizeof(tn));
	snprintf(detail, sizeof(detail), "sequence %lld, %zu certificates "
	    "(%zu revoked), %zu CRLs, produced %s, nextUpdate %s, audit head "
	    "%lld, sha256 %s", (long long)er.seq, er.n, er.nrev, er.ncrls, ts,
	    tn, (long long)er.aseq, sha);
	if (nca > 1) {
		size_t l = strlen(detail);

		snprintf(detail + l, sizeof(detail) - l, ", CAs %s",
		    args_get(&a, "ca"));
	}
	if (!db_begin(db)) {
		goto out;
	}
	if (!record_sequence(db, er.seq) ||
	    !audit_append(db, who, "status-export", object, sha, "ok", detail) ||
	    !db_meta_set(db, "last_status_export", detail) || !db_commit(db)) {
		db_rollback(db);
		goto out;
	}
	/* Written and fsync'ed already: now in place. */
	tmp = er.tmp;
	er.tmp = NULL;
	if (!file_commit_tmp(tmp, out)) {
		/* Recorded, not written: the sequence stays used. */
		audit_append(db, who, "status-export", object, sha,
		    "failed: file not written", out);
		goto out;
	}
	export_print(out, names, nca, &er, ts, tn, sha, detail);
	ret = ca_audit_sign(db, ck[0], NULL) ? EXIT_OK : EXIT_ERROR;
out:
	/* Not recorded: the export is not put in place. */
	tmp_discard(er.tmp, 1);
	OPENSSL_free(buf);
	/*
	 * Reverse order: CAs sharing a module or token opened it after the
	 * first, which alone finalizes the module.
	 */
	for (i = nca; i > 0; i--) {
		ca_key_free(ck[i - 1]);
	}
	free(who);
	free(cabuf);
	db_close(db);
	return ret;
}
