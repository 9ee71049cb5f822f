/*
 * "eseal-ca issue": issue every approved e-seal request of one issuing CA
 * (or the listed ones) in one run with one token login.  Before anything
 * is signed the CA must be valid now and not revoked, its token must pass
 * the policy gate, and each request must hold M approvals of its current
 * content.  Each certificate is built once, signed by a throw-away
 * software key and linted; only a clean lint lets the token sign it.  The
 * certificate row, the request's status and the audit entry commit in one
 * transaction before the certificate file is written; the same
 * transaction notes the file as pending (meta "pem_pending:SERIAL" = the
 * absolute output directory) until it is written, so that a run killed
 * in between leaves the next run to write it.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "i18n.h"
#include "args.h"
#include "attest.h"
#include "audit.h"
#include "ca.h"
#include "cacert.h"
#include "cmvp.h"
#include "crlsel.h"
#include "eecert.h"
#include "gate.h"
#include "lint.h"
#include "log.h"
#include "operators.h"
#include "profile.h"
#include "request.h"
#include "util.h"

#define MAX_LISTED	1024
#define PEM_PENDING	"pem_pending:"

enum one_result { ONE_ISSUED = 0, ONE_REFUSED, ONE_ERROR };

struct batch {
	struct db		*db;
	struct ca_key		*ck;
	struct ca_row		*ca;
	EVP_PKEY		*tk;		/* throw-away signer */
	const char		*who;
	const char		*out_dir;
	char			*out_dir_abs;	/* recorded while the PEM is pending */
	const char		*profiles_dir;
	const char		*crl_url, *ocsp_url, *ca_issuers_url;
	json_t			*issued;	/* [{request, serial, sha256}] */
	struct alg_policy	*ap;		/* the instance's algorithm policy */
};

/* Mark r refused with text, audited, in one transaction. 1/0. */
static int
refuse_request(struct batch *b, const struct request *r, const char *text)
{
	sqlite3_stmt *st = NULL;
	char object[64];
	int ok = 0;

	snprintf(object, sizeof(object), "request:%s", r->id);
	if (!db_begin(b->db)) {
		return 0;
	}
	st = db_prepare(b->db, "UPDATE requests SET status = 'refused',"
	    " refusal = ? WHERE id = ?");
	if (st == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, r->id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(b->db, "refuse request");
		goto out;
	}
	if (!audit_append(b->db, b->who, "certificate-issue", object, r->hash,
	    "refused", text) || !db_commit(b->db)) {
		goto out;
	}
	ok = 1;
out:
	if (!ok) {
		db_rollback(b->db);
	}
	sqlite3_finalize(st);
	return ok;
}

static int
burn_serial(struct db *db, const char *serial, const char *why)
{
	sqlite3_stmt *st;
	int ok;

	if ((st = db_prepare(db, "INSERT OR IGNORE INTO serials_burned"
	    " (serial, source) VALUES (?, ?)")) == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, why, -1, SQLITE_TRANSIENT);
	ok = sqlite3_step(st) == SQLITE_DONE;
	if (!ok) {
		db_log_error(db, "burn serial");
	}
	sqlite3_finalize(st);
	return ok;
}


static enum one_result
issue_one(struct batch *b, struct request *r)
{
	struct eecert_spec spec;
	struct profile *prof = NULL;
	struct findings f;
	struct lint_opts lo;
	struct cmvp_effective eff;
	struct attest att;
	enum attest_result ar;
	sqlite3_stmt *st = NULL;
	X509_REQ *req = NULL;
	X509 *cert = NULL;
	const unsigned char *p;
	unsigned char *der = NULL;
	char *names = NULL, *subj = NULL, *path = NULL, *part_url = NULL;
	char object[64], serial[33], sha[65], nb[32], na[32], now[32];
	char pkey[64];
	int partition = 0;
	char text[1024], detail[1024];
	const char *psha, *chain;
	enum ku_setting ku = KU_A;
	enum one_result ret = ONE_ERROR;
	size_t i, len;
	int derlen, capped;

	findings_init(&f);
	memset(&att, 0, sizeof(att));
	snprintf(object, sizeof(object), "request:%s", r->id);
	p = r->csr_der;
	if ((req = d2i_X509_REQ(NULL, &p, r->csr_len)) == NULL ||
	    X509_REQ_get0_pubkey(req) == NULL) {
		log_ssl("%s: stored CSR unreadable", object);
		goto out;
	}
	if (request_approvals(b->db, r, &names) < (int)quorum_size(b->db)) {
		/* Checked by the caller; a change since is a refusal too. */
		log_warnx("%s: ES-APPR-04: approvals changed during the run",
		    object);
		ret = ONE_REFUSED;
		goto out;
	}
	/* The profile must still be the one the approvers saw. */
	psha = json_string_value(json_object_get(r->dj, "profile_sha256"));
	if ((prof = profile_load(b->profiles_dir, r->profile)) == NULL ||
	    psha == NULL || strcmp(psha, prof->sha256) != 0) {
		snprintf(text, sizeof(text), "%s: ES-PROF-02: profile %s %s "
		    "since the request was approved: submit it again", object,
		    r->profile, prof == NULL ? "is gone" : "changed");
		log_warnx("%s", text);
		ret = refuse_request(b, r, text) ? ONE_REFUSED : ONE_ERROR;
		goto out;
	}
	/*
	 * An attested subject key: the chain must still verify to a
	 * configured vendor root that attests the same CMVP number.
	 */
	chain = json_string_value(json_object_get(json_object_get(r->dj,
	    "attestation"), "chain"));
	if (chain != NULL) {
		ar = attest_verify(b->db, (const unsigned char *)chain,
		    strlen(chain), X509_REQ_get0_pubkey(req), &att);
		if (ar == ATTEST_ERROR) {
			goto out;
		}
		if (ar == ATTEST_REFUSED) {
			snprintf(text, sizeof(text), "%s: %s: %s", object,
			    att.rule, att.reason);
		} else if (r->subject_hsm == NULL ||
		    strcmp(att.cmvp, r->subject_hsm) != 0) {
			snprintf(text, sizeof(text), "%s: ES-ATT-01: vendor "
			    "root %s now attests CMVP #%s, the request says "
			    "#%s: submit it again", object, att.root, att.cmvp,
			    r->subject_hsm != NULL ? r->subject_hsm : "-");
		}
		if (ar == ATTEST_REFUSED || r->subject_hsm == NULL ||
		    strcmp(att.cmvp, r->subject_hsm) != 0) {
			log_warnx("%s", text);
			ret = refuse_request(b, r, text) ? ONE_REFUSED :
			    ONE_ERROR;
			goto out;
		}
	}
	/* The subject key's HSM may have lost its validation since. */
	if (r->subject_hsm != NULL) {
		if (!cmvp_effective(b->db, r->subject_hsm, now_utc(), &eff)) {
			goto out;
		}
		if (eff.status != CMVP_ACTIVE) {
			snprintf(text, sizeof(text), "%s: ES-HSM-05: subject key "
			    "HSM CMVP #%s is %s%s%s", object, r->subject_hsm,
			    cmvp_status_name(eff.status), eff.since[0] != '\0' ?
			    " since " : "", eff.since);
			log_warnx("%s", text);
			ret = refuse_request(b, r, text) ? ONE_REFUSED :
			    ONE_ERROR;
			goto out;
		}
	}
	ku_setting_from_name(json_string_value(json_object_get(r->dj,
	    "key_usage")), &ku);
	if (!eecert_new_serial(b->db, serial)) {
		goto out;
	}
	memset(&spec, 0, sizeof(spec));
	spec.subject = json_object_get(r->dj, "subject");
	spec.subject_pub = X509_REQ_get0_pubkey(req);
	spec.issuer = b->ca->cert;
	spec.profile = prof;
	spec.ku = ku;
	spec.not_before = now_utc();
	spec.not_after = eecert_not_after(b->ca->cert, spec.not_before,
	    (int)json_integer_value(json_object_get(r->dj, "validity_days")),
	    &capped);
	/* The certificate's CRL partition, chosen now and written into its CRLDP. */
	if (!crl_partition_for_new_cert(b->db, b->ca->id, &partition,
	    &part_url)) {
		goto out;
	}
	spec.crl_url = part_url;
	spec.ocsp_url = b->ocsp_url;
	spec.ca_issuers_url = b->ca_issuers_url;
	spec.serial_hex = serial;
	if ((cert = eecert_build(&spec, object)) == NULL) {
		goto out;
	}

	/* Throw-away copy: same contents, ephemeral signer, linted. */
	if (!x509_sign_with(cert, b->tk, NULL, b->ck->alg, object)) {
		goto out;
	}
	memset(&lo, 0, sizeof(lo));
	lo.kind = LINT_ESEAL;
	lo.ap = b->ap;
	lo.profile = prof->lint_profile;
	lo.issuer = b->ca->cert;
	lo.throwaway = 1;
	if (!lint_certificate(cert, &lo, &f)) {
		findings_log_fails(&f, object);
		for (i = 0, len = 0; i < f.n && len < sizeof(text); i++) {
			if (f.v[i].result == RULE_FAIL) {
				len += snprintf(text + len, sizeof(text) - len,
				    "%s%s: %s: %s", len > 0 ? "\n" : "", object,
				    f.v[i].id, f.v[i].detail);
			}
		}
		log_warnx("%s: the throw-away certificate failed lint (%d "
		    "FAIL): nothing signed", object, f.fails);
		ret = refuse_request(b, r, text) ? ONE_REFUSED : ONE_ERROR;
		goto out;
	}

	/* The real signature, on the token, checked before it is kept. */
	if (!x509_sign_with(cert, NULL, b->ck->key, b->ck->alg, object)) {
		burn_serial(b->db, serial, "token signing failed");
		goto out;
	}
	if (X509_verify(cert, X509_get0_pubkey(b->ca->cert)) != 1) {
		log_ssl("%s: the token's signature does not verify", object);
		burn_serial(b->db, serial, "token signature did not verify");
		goto out;
	}
	x509_sha256_hex(cert, sha);
	if ((derlen = i2d_X509(cert, &der)) <= 0) {
		log_ssl("%s: cannot encode certificate", object);
		burn_serial(b->db, serial, "certificate not encodable");
		goto out;
	}
	subj = x509_name_str(X509_get_subject_name(cert));
	time_fmt(spec.not_before, nb, sizeof(nb));
	time_fmt(spec.not_after, na, sizeof(na));
	time_fmt(now_utc(), now, sizeof(now));

	/* Commit: certificate row, request status, audit entry. */
	if (!db_begin(b->db)) {
		burn_serial(b->db, serial, "store busy at commit");
		goto out;
	}
	st = db_prepare(b->db, "INSERT INTO certificates (ca_id, serial,"
	    " request_id, subject, profile, not_before, not_after, der, sha256,"
	    " issued, partition) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
	if (st == NULL) {
		goto rollback;
	}
	sqlite3_bind_int64(st, 1, b->ca->id);
	sqlite3_bind_text(st, 2, serial, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, r->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, subj, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, r->profile, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, nb, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, na, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 8, der, derlen, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, now, -1, SQLITE_TRANSIENT);
	if (partition > 0) {
		sqlite3_bind_int(st, 11, partition);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(b->db, "insert certificate");
		goto rollback;
	}
	sqlite3_finalize(st);
	st = db_prepare(b->db, "UPDATE requests SET status = 'issued' WHERE"
	    " id = ? AND status = 'pending'");
	if (st == NULL) {
		goto rollback;
	}
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE ||
	    sqlite3_changes(db_handle(b->db)) != 1) {
		log_warnx("%s: the request is no longer pending", object);
		goto rollback;
	}
	snprintf(detail, sizeof(detail), "serial %s; certificate sha256 %s; "
	    "approved by %s; profile %s; CA %s%s", serial, sha, names,
	    r->profile, b->ca->name, capped ? "; notAfter capped at the CA's "
	    "notAfter" : "");
	if (b->out_dir != NULL) {
		snprintf(pkey, sizeof(pkey), PEM_PENDING "%s", serial);
		if (!db_meta_set(b->db, pkey, b->out_dir_abs)) {
			goto rollback;
		}
	}
	if (!audit_append(b->db, b->who, "certificate-issue", object, r->hash,
	    "ok", detail) || !db_commit(b->db)) {
		goto rollback;
	}
	if (b->out_dir != NULL) {
		if (asprintf(&path, "%s/%s.pem", b->out_dir, serial) == -1) {
			fatalx("out of memory");
		}
		if (!x509_write_pem(cert, path)) {
			goto out;	/* still pending: the next run writes it */
		}
		(void)db_meta_delete(b->db, pkey);
	}
	json_array_append_new(b->issued, json_pack("{s:s,s:s,s:s}", "request",
	    r->id, "serial", serial, "sha256", sha));
	ret = ONE_ISSUED;
	goto out;
rollback:
	db_rollback(b->db);
	burn_serial(b->db, serial, "commit failed");
out:
	sqlite3_finalize(st);
	attest_clear(&att);
	free(part_url);
	findings_free(&f);
	profile_free(prof);
	X509_REQ_free(req);
	X509_free(cert);
	OPENSSL_free(der);
	free(names);
	free(subj);
	free(path);
	return ret;
}

/* Remove path's temporary files (path.tmpXXXXXX) left by a killed run. */
static void
remove_stale_tmp(const char *path)
{
	glob_t gl;
	char *pat = NULL;
	size_t i;

	if (asprintf(&pat, "%s.tmp??????", path) == -1) {
		fatalx("out of memory");
	}
	if (glob(pat, GLOB_NOSORT, NULL, &gl) == 0) {
		for (i = 0; i < gl.gl_pathc; i++) {
			(void)unlink(gl.gl_pathv[i]);
		}
		globfree(&gl);
	}
	free(pat);
}

/*
 * Write the PEM file of every certificate that a run committed but did
 * not write (killed or failed between the commit and the file: meta
 * "pem_pending:SERIAL" names the directory), then forget it.  Returns 1
 * if none is left pending, 0 (each logged) otherwise.
 */
static int
write_pending_pems(struct db *db)
{
	char **keys = NULL, **dirs = NULL, *path = NULL;
	const char *serial, *why;
	sqlite3_stmt *st = NULL;
	const unsigned char *p;
	struct stat sb;
	X509 *x = NULL;
	size_t n, i;
	int left = 0;

	if (!db_meta_list(db, PEM_PENDING, &keys, &dirs, &n)) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		serial = keys[i] + strlen(PEM_PENDING);
		sqlite3_finalize(st);
		X509_free(x);
		x = NULL;
		free(path);
		if (asprintf(&path, "%s/%s.pem", dirs[i], serial) == -1) {
			fatalx("out of memory");
		}
		if ((st = db_prepare(db, "SELECT der FROM certificates WHERE"
		    " serial = ?")) == NULL) {
			left++;
			continue;
		}
		sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			/* Not in this store (restored from before it). */
			log_info("issue: certificate %s is not in the store: "
			    "%s not written", serial, path);
			(void)db_meta_delete(db, keys[i]);
			continue;
		}
		p = sqlite3_column_blob(st, 0);
		if ((x = d2i_X509(NULL, &p, sqlite3_column_bytes(st, 0))) ==
		    NULL) {
			log_ssl("issue: certificate %s: stored DER unreadable",
			    serial);
			left++;
			continue;
		}
		why = NULL;
		if (stat(dirs[i], &sb) == -1 ||
		    access(dirs[i], W_OK | X_OK) == -1) {
			why = strerror(errno);
		} else if (!S_ISDIR(sb.st_mode)) {
			why = "not a directory";
		}
		if (why != NULL) {
			log_warnx("issue: certificate %s (committed by an "
			    "interrupted run): ES-OUT-01: cannot write %s: %s; "
			    "it stays pending (eseal-ca cert export %s prints "
			    "it)", serial, path, why, serial);
			left++;
			continue;
		}
		if (!x509_write_pem(x, path)) {
			left++;
			continue;
		}
		log_info("issue: certificate %s (committed by an interrupted "
		    "run): wrote %s", serial, path);
		(void)db_meta_delete(db, keys[i]);
		remove_stale_tmp(path);
	}
	sqlite3_finalize(st);
	X509_free(x);
	free(path);
	db_meta_list_free(keys, dirs, n);
	return left == 0;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca issue [--ca NAME] [--request ID...] --pin SRC\n"
	    "           [--operator NAME=SRC] [--out-dir DIR] [--profiles DIR]\n"
	    "  Issues every approved request of the issuing CA (or the listed\n"
	    "  ones) with one token login: lint of a throw-away copy first, then\n"
	    "  the token's signature; the store records each certificate before\n"
	    "  DIR/SERIAL.pem is written.  A run first writes the files that an\n"
	    "  interrupted run committed but did not write.\n"));
}

/* The pending requests to work on; *nlisted counts explicit ones. */
static int
select_requests(struct db *db, struct args *a, const char *ca_name,
    struct request ***out, size_t *n)
{
	char *ids[MAX_LISTED];
	struct request **v = NULL;
	sqlite3_stmt *st = NULL;
	size_t nids, i, cap = 0;
	int why, rc, ret = 0;

	*n = 0;
	nids = args_all(a, "request", ids, MAX_LISTED);
	if (nids == 0) {
		st = db_prepare(db, "SELECT r.id FROM requests r JOIN cas c ON"
		    " c.id = r.ca_id WHERE r.status = 'pending' AND c.name = ?"
		    " ORDER BY r.submitted, r.rowid");
		if (st == NULL) {
			goto out;
		}
		sqlite3_bind_text(st, 1, ca_name, -1, SQLITE_TRANSIENT);
	}
	for (i = 0;; i++) {
		const char *id;
		struct request *r;

		if (nids > 0) {
			if (i >= nids) {
				break;
			}
			id = ids[i];
		} else {
			if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
				if (rc != SQLITE_DONE) {
					db_log_error(db, "select requests");
					goto out;
				}
				break;
			}
			id = (const char *)sqlite3_column_text(st, 0);
		}
		if ((r = request_load(db, id, &why)) == NULL) {
			goto out;
		}
		if (*n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((v = reallocarray(v, cap, sizeof(*v))) == NULL) {
				fatalx("out of memory");
			}
		}
		v[(*n)++] = r;
	}
	ret = 1;
out:
	sqlite3_finalize(st);
	*out = v;
	return ret;
}

int
cmd_issue(int argc, char **argv)
{
	static const char *const valued[] = { "ca", "request", "pin",
	    "operator", "out-dir", "profiles", NULL };
	static const char *const flags[] = { NULL };
	struct batch b;
	struct args a;
	struct request **reqs = NULL, **ready = NULL;
	struct db *db = NULL;
	char *who = NULL, *ca_name = NULL;
	char object[160], nb[32], na[32], text[512];
	size_t nreqs = 0, nready = 0, i, issued = 0, refused = 0, m;
	time_t now;
	int64_t op_id;
	int ret = EXIT_ERROR, why, tty, listed, nap, pems_ok = 1;

	memset(&b, 0, sizeof(b));
	if (!args_parse(argc, argv, valued, flags, &a)) {
		return EXIT_USAGE;
	}
	if (a.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (a.npos != 0 || !args_need(&a, "pin", "issue")) {
		usage(stderr);
		return EXIT_USAGE;
	}
	listed = args_get(&a, "request") != NULL;
	if (args_get(&a, "out-dir") != NULL &&
	    !dir_writable(args_get(&a, "out-dir"), "issue --out-dir")) {
		return EXIT_USAGE;
	}
	if ((db = ca_open_db()) == NULL) {
		return EXIT_ERROR;
	}
	pems_ok = write_pending_pems(db);
	b.db = db;
	b.out_dir = args_get(&a, "out-dir");
	if (b.out_dir != NULL && (b.out_dir_abs = realpath(b.out_dir,
	    NULL)) == NULL) {
		log_warn("issue: --out-dir %s", b.out_dir);
		ret = EXIT_USAGE;
		goto out;
	}
	b.profiles_dir = args_get(&a, "profiles");
	if ((b.issued = json_array()) == NULL) {
		fatalx("out of memory");
	}
	if (args_get(&a, "operator") != NULL) {
		if (!auth_spec(db, args_get(&a, "operator"), "issue "
		    "certificates", &who, &op_id)) {
			ret = EXIT_REFUSED;
			goto out;
		}
	} else if ((who = strdup("unattended")) == NULL) {
		fatalx("out of memory");
	}
	b.who = who;

	/* Which CA: --ca, or the one CA of the listed/pending requests. */
	if (args_get(&a, "ca") != NULL) {
		ca_name = strdup(args_get(&a, "ca"));
	} else {
		sqlite3_stmt *st = db_prepare(db, "SELECT DISTINCT c.name FROM"
		    " requests r JOIN cas c ON c.id = r.ca_id WHERE r.status ="
		    " 'pending'");

		if (st == NULL) {
			goto out;
		}
		if (listed) {
			struct request *r0;
			char *ids[1];

			args_all(&a, "request", ids, 1);
			if ((r0 = request_load(db, ids[0], &why)) == NULL) {
				sqlite3_finalize(st);
				ret = why;
				goto out;
			}
			ca_name = strdup(r0->ca_name);
			request_free(r0);
		} else if (sqlite3_step(st) == SQLITE_ROW) {
			ca_name = strdup((const char *)sqlite3_column_text(st,
			    0));
			if (sqlite3_step(st) == SQLITE_ROW) {
				log_warnx("issue: pending requests for several "
				    "CAs: name one with --ca");
				sqlite3_finalize(st);
				ret = EXIT_USAGE;
				goto out;
			}
		} else {
			log_info("issue: no pending requests");
			sqlite3_finalize(st);
			ret = EXIT_OK;
			goto out;
		}
		sqlite3_finalize(st);
	}
	if (ca_name == NULL) {
		fatalx("out of memory");
	}
	snprintf(object, sizeof(object), "ca:%s", ca_name);
	if ((b.ca = ca_row_load(db, ca_name)) == NULL) {
		ret = EXIT_REFUSED;
		goto out;
	}

	/* The requests and their approvals (of the current content). */
	if (!select_requests(db, &a, ca_name, &reqs, &nreqs)) {
		goto out;
	}
	if ((ready = calloc(nreqs + 1, sizeof(*ready))) == NULL) {
		fatalx("out of memory");
	}
	m = quorum_size(db);
	for (i = 0; i < nreqs; i++) {
		struct request *r = reqs[i];

		snprintf(text, sizeof(text), "request:%s", r->id);
		if (strcmp(r->ca_name, ca_name) != 0) {
			log_warnx("request %s: for CA %s, not %s", r->id,
			    r->ca_name, ca_name);
			audit_append(db, who, "certificate-issue", text, r->hash,
			    "refused: other CA", r->ca_name);
			refused++;
			continue;
		}
		if (strcmp(r->status, "pending") != 0) {
			log_warnx("request %s: ES-APPR-05: the request is %s, "
			    "not pending", r->id, r->status);
			audit_append(db, who, "certificate-issue", text, r->hash,
			    "refused: not pending", r->status);
			refused++;
			continue;
		}
		if ((nap = request_approvals(db, r, NULL)) < 0) {
			goto out;
		}
		if ((size_t)nap < m) {
			if (listed) {
				log_warnx("request %s: ES-APPR-04: %d of %zu "
				    "approvals of its current content (approvals "
				    "of an earlier content are void)", r->id, nap,
				    m);
				audit_append(db, who, "certificate-issue", text,
				    r->hash, "refused: approvals", NULL);
				refused++;
			} else {
				log_debug("request %s: %d of %zu approvals: not "
				    "yet", r->id, nap, m);
			}
			continue;
		}
		ready[nready++] = r;
	}
	if (nready == 0) {
		if (refused == 0) {
			log_info("issue: no approved requests for CA %s",
			    ca_name);
		}
		ret = refused > 0 ? EXIT_REFUSED : EXIT_OK;
		goto out;
	}

	/* The issuing CA: active, valid now, its URLs set. */
	now = now_utc();
	if (strcmp(b.ca->kind, "issuing") != 0 || b.ca->cert == NULL) {
		log_warnx("ca %s: ES-CA-07: e-seals are issued by an issuing CA "
		    "with a certificate", ca_name);
		audit_append(db, who, "certificate-issue", object, NULL,
		    "refused: not an issuing CA", NULL);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (strcmp(b.ca->status, "active") != 0) {
		log_warnx("ca %s: ES-CA-06: issuing CA %s is %s: it issues "
		    "nothing", ca_name, ca_name, b.ca->status);
		audit_append(db, who, "certificate-issue", object, NULL,
		    "refused: CA not active", b.ca->status);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (X509_cmp_time(X509_get0_notAfter(b.ca->cert), &now) <= 0 ||
	    X509_cmp_time(X509_get0_notBefore(b.ca->cert), &now) > 0) {
		struct tm tb, ta;

		time_fmt(now, text, sizeof(text));
		nb[0] = na[0] = '\0';
		if (ASN1_TIME_to_tm(X509_get0_notBefore(b.ca->cert), &tb) == 1 &&
		    ASN1_TIME_to_tm(X509_get0_notAfter(b.ca->cert), &ta) == 1) {
			time_fmt(timegm(&tb), nb, sizeof(nb));
			time_fmt(timegm(&ta), na, sizeof(na));
		}
		log_warnx("ca %s: ES-CA-05: issuing CA %s is not valid at %s "
		    "(valid %s .. %s)", ca_name, ca_name, text, nb, na);
		audit_append(db, who, "certificate-issue", object, NULL,
		    "refused: CA not valid now", text);
		ret = EXIT_REFUSED;
		goto out;
	}
	if ((b.ap = ca_alg_policy(db)) == NULL) {
		goto out;
	}
	b.crl_url = ca_setting(b.ca, "crl-url");
	b.ocsp_url = ca_setting(b.ca, "ocsp-url");
	b.ca_issuers_url = ca_setting(b.ca, "ca-issuers-url");
	if (b.crl_url == NULL || b.ocsp_url == NULL || b.ca_issuers_url ==
	    NULL || strncmp(b.crl_url, "http://", 7) != 0 ||
	    strncmp(b.ocsp_url, "http://", 7) != 0 ||
	    strncmp(b.ca_issuers_url, "http://", 7) != 0) {
		log_warnx("ca %s: ES-CA-08: the CA's settings need http:// "
		    "\"crl-url\", \"ocsp-url\" and \"ca-issuers-url\"", ca_name);
		audit_append(db, who, "certificate-issue", object, NULL,
		    "refused: CA settings", NULL);
		ret = EXIT_REFUSED;
		goto out;
	}

	/* One login for the whole batch; the token must pass the gate. */
	if ((b.ck = ca_key_open_signing(db, ca_name, args_get(&a, "pin"), who,
	    object, NULL, &why)) == NULL) {
		ret = why;
		goto out;
	}
	if ((b.tk = throwaway_key(key_alg_of_pkey(hsm_key_public(
	    b.ck->key)))) == NULL) {
		log_ssl("ca %s: cannot make a throw-away key", ca_name);
		goto out;
	}

	tty = isatty(STDERR_FILENO);
	ret = EXIT_OK;
	for (i = 0; i < nready; i++) {
		enum one_result or = issue_one(&b, ready[i]);

		if (or == ONE_ISSUED) {
			issued++;
		} else if (or == ONE_REFUSED) {
			refused++;
		} else {
			ret = EXIT_ERROR;
			break;
		}
		if (tty) {
			fprintf(stderr, "\rissued %zu/%zu", issued, nready);
		}
	}
	if (tty) {
		fprintf(stderr, "\n");
	}
	if (ret == EXIT_OK && refused > 0) {
		ret = EXIT_REFUSED;
	}
	if (!ca_audit_sign(db, b.ck, NULL) && ret == EXIT_OK) {
		ret = EXIT_ERROR;
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:I,s:I,s:O}", "ca", ca_name,
		    "issued", (json_int_t)issued, "refused", (json_int_t)refused,
		    "certificates", b.issued));
	} else {
		for (i = 0; i < json_array_size(b.issued); i++) {
			json_t *e = json_array_get(b.issued, i);

			printf("%s %s\n", json_string_value(json_object_get(e,
			    "serial")), json_string_value(json_object_get(e,
			    "request")));
		}
		log_info("issue: CA %s: %zu issued, %zu refused", ca_name,
		    issued, refused);
	}
out:
	if (!pems_ok && ret == EXIT_OK) {
		ret = EXIT_ERROR;	/* an earlier certificate's file is missing */
	}
	for (i = 0; i < nreqs; i++) {
		request_free(reqs[i]);
	}
	free(reqs);
	free(ready);
	ca_key_free(b.ck);
	ca_row_free(b.ca);
	EVP_PKEY_free(b.tk);
	alg_policy_free(b.ap);
	json_decref(b.issued);
	db_close(db);
	free(who);
	free(ca_name);
	free(b.out_dir_abs);
	return ret;
}
