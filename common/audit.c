/*
 * The audit chain: each entry's hash is SHA-256 over an unambiguous
 * encoding of the previous entry's hash and its own fields (every field
 * length-prefixed; the sequence number is not hashed, so moving or
 * dropping entries shows up in the prev_hash links).  Signed heads bind
 * a sequence number and a hash with a CA key; verification walks the
 * chain and reports each finding on its own line, naming the entry.
 */
#include "config.h"

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "audit.h"
#include "log.h"
#include "sigalg.h"
#include "util.h"

#define ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define HEAD_MSG_FMT "eseal-audit-head-v1\n%lld\n%s\n"
/* seq, hash, then the previous signed head: seq, hash, SHA-256 of its
 * signature (0, 64 zeros, 64 zeros for the first). */
#define HEAD_MSG2_FMT "eseal-audit-head-v2\n%lld\n%s\n%lld\n%s\n%s\n"

/* The signed head a new signature covers (the last one recorded). */
struct prev_head {
	int64_t	seq;
	char	hash[65];
	char	sig_sha256[65];
};

/* The hashed fields of one entry, in hashing order after prev_hash. */
struct entry {
	int64_t	 seq;
	char	*f[8];		/* prev_hash, time, operators, action, object,
				   request_hash, result, detail */
	char	 hash[65];	/* stored */
	char	 calc[65];	/* recomputed */
};

/* Append an 8-byte big-endian length and the bytes of s to the digest. */
static int
hash_field(EVP_MD_CTX *ctx, const char *s)
{
	unsigned char len[8];
	uint64_t n = strlen(s);
	int i;

	for (i = 7; i >= 0; i--) {
		len[i] = n & 0xff;
		n >>= 8;
	}
	return EVP_DigestUpdate(ctx, len, sizeof(len)) &&
	    EVP_DigestUpdate(ctx, s, strlen(s));
}

/*
 * The entry hash: SHA-256 over the domain tag and the eight fields
 * (prev_hash first), each length-prefixed.  out gets lower-case hex.
 */
static void
entry_hash(char *const f[8], char out[65])
{
	static const char tag[] = "eseal-audit-entry-v1";
	EVP_MD_CTX *ctx;
	unsigned char md[32];
	char *h;
	int i, ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		fatalx("out of memory");
	}
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && hash_field(ctx, tag);
	for (i = 0; ok && i < 8; i++) {
		ok = hash_field(ctx, f[i] != NULL ? f[i] : "");
	}
	if (!ok || !EVP_DigestFinal_ex(ctx, md, NULL)) {
		fatalx("SHA-256 failed");
	}
	EVP_MD_CTX_free(ctx);
	h = hex_encode(md, sizeof(md));
	memcpy(out, h, 65);
	free(h);
}

int
audit_head(struct db *db, int64_t *seq, char hash[65])
{
	sqlite3_stmt *st = NULL;
	const char *h;
	int rc, ret = 0;

	*seq = 0;
	memcpy(hash, ZERO_HASH, 65);
	if ((st = db_cached(db, "SELECT seq, hash FROM audit "
	    "ORDER BY seq DESC LIMIT 1")) == NULL) {
		goto out;
	}
	if ((rc = db_step_row(db, st, "reading the audit head")) < 0) {
		goto out;
	}
	if (rc == 1) {
		*seq = sqlite3_column_int64(st, 0);
		h = (const char *)sqlite3_column_text(st, 1);
		if (h == NULL || strlen(h) != 64) {
			log_warnx("%s: audit entry %lld: malformed hash",
			    db_path(db), (long long)*seq);
			goto out;
		}
		memcpy(hash, h, 65);
	}
	ret = 1;
out:
	db_release(st);
	return ret;
}

int
audit_take_attached(struct db *db)
{
	return db_exec(db, "DELETE FROM audit_signatures") &&
	    db_exec(db, "DELETE FROM audit") &&
	    db_exec(db, "INSERT INTO audit (seq, time, operators, action, "
	    "object, request_hash, result, detail, prev_hash, hash) SELECT "
	    "seq, time, operators, action, object, request_hash, result, "
	    "detail, prev_hash, hash FROM old.audit") &&
	    db_exec(db, "INSERT INTO audit_signatures (id, seq, head_hash, "
	    "time, signer_cert_sha256, sig_alg, signature, prev_seq, "
	    "prev_head_hash, prev_sig_sha256) SELECT id, seq, head_hash, time, "
	    "signer_cert_sha256, sig_alg, signature, prev_seq, prev_head_hash, "
	    "prev_sig_sha256 FROM old.audit_signatures");
}

int
audit_append(struct db *db, const char *operators, const char *action,
    const char *object, const char *request_hash, const char *result,
    const char *detail)
{
	sqlite3_stmt *st = NULL;
	char prev[65], when[32], hash[65];
	char *f[8];
	int64_t seq;
	int i, own = 0, ret = 0;

	if (!db_in_transaction(db)) {
		if (!db_begin(db)) {
			return 0;
		}
		own = 1;
	}
	if (!audit_head(db, &seq, prev)) {
		goto out;
	}
	time_fmt(now_utc(), when, sizeof(when));
	f[0] = prev;
	f[1] = when;
	f[2] = (char *)(operators != NULL ? operators : "");
	f[3] = (char *)(action != NULL ? action : "");
	f[4] = (char *)(object != NULL ? object : "");
	f[5] = (char *)(request_hash != NULL ? request_hash : "");
	f[6] = (char *)(result != NULL ? result : "");
	f[7] = (char *)(detail != NULL ? detail : "");
	entry_hash(f, hash);
	if ((st = db_cached(db, "INSERT INTO audit (seq, prev_hash, time, "
	    "operators, action, object, request_hash, result, detail, hash) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) == NULL) {
		goto out;
	}
	sqlite3_bind_int64(st, 1, seq + 1);
	for (i = 0; i < 8; i++) {
		sqlite3_bind_text(st, i + 2, f[i], -1, SQLITE_STATIC);
	}
	sqlite3_bind_text(st, 10, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, "appending to the audit chain");
		goto out;
	}
	if (own && !db_commit(db)) {
		own = 0;
		goto out;
	}
	own = 0;
	ret = 1;
out:
	db_release(st);
	if (own) {
		db_rollback(db);
	}
	return ret;
}

/*
 * The last recorded signed head (highest seq, then latest row), or the
 * zero head when none is recorded.  1/0 (logged).
 */
static int
last_signed_head(struct db *db, struct prev_head *p)
{
	sqlite3_stmt *st;
	const char *h;
	int rc;

	p->seq = 0;
	memcpy(p->hash, ZERO_HASH, 65);
	memcpy(p->sig_sha256, ZERO_HASH, 65);
	if ((st = db_prepare(db, "SELECT seq, head_hash, signature FROM "
	    "audit_signatures ORDER BY seq DESC, id DESC LIMIT 1")) == NULL) {
		return 0;
	}
	if ((rc = db_step_row(db, st, "reading audit signatures")) == 1) {
		p->seq = sqlite3_column_int64(st, 0);
		h = (const char *)sqlite3_column_text(st, 1);
		snprintf(p->hash, sizeof(p->hash), "%s", h != NULL ? h : "");
		sha256_hex(sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2), p->sig_sha256);
	}
	sqlite3_finalize(st);
	return rc >= 0;
}

int
audit_sign_head(struct db *db, audit_sign_fn sign, void *arg,
    const char *signer_cert_sha256, const char *sig_alg)
{
	sqlite3_stmt *st = NULL;
	struct prev_head prev;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char hash[65], when[32], *msg = NULL;
	enum sig_alg alg;
	int64_t seq;
	int len, rc, own = 0, ret = 0;

	if (!sig_alg_from_name(sig_alg, &alg, db_path(db))) {
		return 0;
	}
	if (!db_in_transaction(db)) {
		if (!db_begin(db)) {
			return 0;
		}
		own = 1;
	}
	if (!audit_head(db, &seq, hash)) {
		goto out;
	}
	if (seq == 0) {
		ret = 1;	/* nothing to sign */
		goto out;
	}
	if ((st = db_prepare(db, "SELECT 1 FROM audit_signatures "
	    "WHERE seq = ? AND head_hash = ?")) == NULL) {
		goto out;
	}
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	if ((rc = db_step_row(db, st, "reading audit signatures")) != 0) {
		ret = rc == 1;	/* 1: already signed */
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;

	if (!last_signed_head(db, &prev)) {
		goto out;
	}
	if ((len = asprintf(&msg, HEAD_MSG2_FMT, (long long)seq, hash,
	    (long long)prev.seq, prev.hash, prev.sig_sha256)) == -1) {
		fatalx("out of memory");
	}
	if (!sign(arg, (const unsigned char *)msg, (size_t)len, &sig,
	    &siglen)) {
		log_warnx("%s: audit head %lld: signing failed", db_path(db),
		    (long long)seq);
		goto out;
	}
	time_fmt(now_utc(), when, sizeof(when));
	if ((st = db_prepare(db, "INSERT INTO audit_signatures (seq, "
	    "head_hash, time, signer_cert_sha256, sig_alg, signature, "
	    "prev_seq, prev_head_hash, prev_sig_sha256) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) == NULL) {
		goto out;
	}
	sqlite3_bind_int64(st, 7, prev.seq);
	sqlite3_bind_text(st, 8, prev.hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, prev.sig_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, when, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, signer_cert_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, sig_alg_name(alg), -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, sig, (int)siglen, SQLITE_STATIC);
	ret = db_step_done(db, st, "recording the audit head signature");
	st = NULL;	/* finalized */
out:
	sqlite3_finalize(st);
	free(sig);
	free(msg);
	if (own) {
		if (ret) {
			ret = db_commit(db);
		} else {
			db_rollback(db);
		}
	}
	return ret;
}

/* 1 if sig over msg verifies with cert's public key under alg_name. */
static int
sig_verifies(X509 *cert, const char *alg_name, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen)
{
	EVP_PKEY *pkey;
	enum sig_alg alg = SIG_NONE;
	size_t i;
	int ret = 0;

	/* Quietly: an unknown name simply does not verify. */
	for (i = SIG_NONE + 1; i < SIG__MAX; i++) {
		if (strcmp(sig_alg_name((enum sig_alg)i), alg_name) == 0) {
			alg = (enum sig_alg)i;
		}
	}
	if (alg != SIG_NONE && (pkey = X509_get0_pubkey(cert)) != NULL) {
		ret = sig_verify(pkey, alg, msg, msglen, sig, siglen);
	}
	ERR_clear_error();
	return ret;
}

/* Free what entry e (a struct entry) owns. */
static void
entry_clear(void *e)
{
	struct entry *x = e;
	int j;

	for (j = 0; j < 8; j++) {
		free(x->f[j]);
	}
}

static void
entries_free(struct entry *e, size_t n)
{
	size_t i;

	for (i = 0; e != NULL && i < n; i++) {
		entry_clear(&e[i]);
	}
	free(e);
}

/* Fill entry e from the row of st, with its recomputed hash.  1. */
static int
entry_fill(void *arg, sqlite3_stmt *st, void *e)
{
	struct entry *x = e;
	const char *s;
	int j;

	(void)arg;
	x->seq = sqlite3_column_int64(st, 0);
	for (j = 0; j < 8; j++) {
		s = (const char *)sqlite3_column_text(st, j + 1);
		if ((x->f[j] = strdup(s != NULL ? s : "")) == NULL) {
			fatalx("out of memory");
		}
	}
	s = (const char *)sqlite3_column_text(st, 9);
	snprintf(x->hash, sizeof(x->hash), "%s", s != NULL ? s : "");
	entry_hash(x->f, x->calc);
	return 1;
}

/* Load every entry ordered by seq, with its recomputed hash.  1/0. */
static int
load_entries(struct db *db, struct entry **out, size_t *nout)
{
	static const char *const cols[8] = { "prev_hash", "time", "operators",
	    "action", "object", "request_hash", "result", "detail" };
	sqlite3_stmt *st;
	char sql[256];
	void *rows;

	snprintf(sql, sizeof(sql), "SELECT seq, %s, %s, %s, %s, %s, %s, %s, "
	    "%s, hash FROM audit ORDER BY seq", cols[0], cols[1], cols[2],
	    cols[3], cols[4], cols[5], cols[6], cols[7]);
	if ((st = db_prepare(db, sql)) == NULL ||
	    !db_rows_load(db, st, "reading the audit chain", sizeof(**out),
	    entry_fill, entry_clear, NULL, &rows, nout)) {
		return 0;
	}
	*out = rows;
	return 1;
}

/* Index of the entry with seq, or -1. */
static ssize_t
find_seq(const struct entry *e, size_t n, int64_t seq)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (e[mid].seq == seq) {
			return (ssize_t)mid;
		}
		if (e[mid].seq < seq) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return -1;
}

/* Check entries and their links; one line per finding.  Returns the count. */
static int
verify_chain(const struct entry *e, size_t n, FILE *out)
{
	const char *expect;
	int64_t prev_seq = 0;
	size_t i, k;
	int problems = 0, gap;

	for (i = 0; i < n; i++) {
		if (strcmp(e[i].calc, e[i].hash) != 0) {
			fprintf(out, "audit entry %lld: altered (stored hash "
			    "does not match its contents)\n",
			    (long long)e[i].seq);
			problems++;
		}
		gap = e[i].seq != prev_seq + 1;
		if (gap) {
			fprintf(out, "audit entries %lld..%lld: removed\n",
			    (long long)(prev_seq + 1),
			    (long long)(e[i].seq - 1));
			problems++;
		}
		expect = i == 0 ? ZERO_HASH : e[i - 1].hash;
		if (strcmp(e[i].f[0], expect) != 0) {
			for (k = 0; k < n; k++) {
				if (k != i && k + 1 != i &&
				    strcmp(e[k].hash, e[i].f[0]) == 0) {
					break;
				}
			}
			if (k < n) {
				fprintf(out, "audit entry %lld: reordered "
				    "(follows entry %lld, expected %lld)\n",
				    (long long)e[i].seq, (long long)e[k].seq,
				    (long long)prev_seq);
				problems++;
			} else if (!gap) {
				/* After a gap the removal explains it. */
				fprintf(out, "audit entry %lld: chain broken "
				    "(entry before it removed or altered)\n",
				    (long long)e[i].seq);
				problems++;
			}
		}
		prev_seq = e[i].seq;
	}
	return problems;
}

/* 1 if the cert's DER SHA-256 (hex) equals want (either case). */
static int
cert_matches(X509 *cert, const char *want)
{
	unsigned char *der = NULL;
	char hex[65];
	int len;

	if ((len = i2d_X509(cert, &der)) <= 0) {
		ERR_clear_error();
		return 0;
	}
	sha256_hex(der, (size_t)len, hex);
	OPENSSL_free(der);
	return strcasecmp(hex, want) == 0;
}

/* One row of audit_signatures, loaded for verification. */
struct sigrow {
	int64_t		 seq;
	char		 head[65];
	char		 signer[65];
	char		 alg[32];
	unsigned char	*sig;
	size_t		 siglen;
	char		 sig_sha256[65];
	int		 chained;	/* prev_* set: message v2 */
	int64_t		 prev_seq;
	char		 prev_hash[65];
	char		 prev_sig[65];
	int		 good;		/* the signature verified */
};

/* Free what signature row r (a struct sigrow) owns. */
static void
sigrow_clear(void *r)
{
	free(((struct sigrow *)r)->sig);
}

static void
sigrows_free(struct sigrow *r, size_t n)
{
	size_t i;

	for (i = 0; r != NULL && i < n; i++) {
		sigrow_clear(&r[i]);
	}
	free(r);
}

/* Copy column i (text, may be NULL) into buf of size len. */
static void
col_text(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	snprintf(buf, len, "%s", t != NULL ? t : "");
}

/* Fill signature row r from the row of st.  1. */
static int
sigrow_fill(void *arg, sqlite3_stmt *st, void *r)
{
	struct sigrow *x = r;

	(void)arg;
	x->seq = sqlite3_column_int64(st, 0);
	col_text(st, 1, x->head, sizeof(x->head));
	col_text(st, 2, x->signer, sizeof(x->signer));
	col_text(st, 3, x->alg, sizeof(x->alg));
	x->siglen = (size_t)sqlite3_column_bytes(st, 4);
	if ((x->sig = malloc(x->siglen + 1)) == NULL) {
		fatalx("out of memory");
	}
	if (x->siglen > 0) {
		memcpy(x->sig, sqlite3_column_blob(st, 4), x->siglen);
	}
	sha256_hex(x->sig, x->siglen, x->sig_sha256);
	x->chained = sqlite3_column_type(st, 5) != SQLITE_NULL;
	x->prev_seq = sqlite3_column_int64(st, 5);
	col_text(st, 6, x->prev_hash, sizeof(x->prev_hash));
	col_text(st, 7, x->prev_sig, sizeof(x->prev_sig));
	return 1;
}

/* Load every signature row ordered by seq, then id.  1/0 (logged). */
static int
load_sigrows(struct db *db, struct sigrow **out, size_t *nout)
{
	sqlite3_stmt *st;
	void *rows;

	if ((st = db_prepare(db, "SELECT seq, head_hash, signer_cert_sha256, "
	    "sig_alg, signature, prev_seq, prev_head_hash, prev_sig_sha256 "
	    "FROM audit_signatures ORDER BY seq, id")) == NULL ||
	    !db_rows_load(db, st, "reading audit signatures", sizeof(**out),
	    sigrow_fill, sigrow_clear, NULL, &rows, nout)) {
		return 0;
	}
	*out = rows;
	return 1;
}

/*
 * Check one signed head against the chain and the certificates; sets
 * r->good.  Prints a finding and returns 1 for a problem, 0 otherwise.
 */
static int
verify_sigrow(struct sigrow *r, const struct entry *e, size_t n,
    X509 *const *certs, size_t ncerts, FILE *out)
{
	char *msg = NULL;
	ssize_t idx;
	size_t c;
	int len, found = 0, problem = 1;

	if ((idx = find_seq(e, n, r->seq)) == -1) {
		fprintf(out, "signed head at %lld: entry %lld removed\n",
		    (long long)r->seq, (long long)r->seq);
		return 1;
	}
	if (strcmp(e[idx].hash, r->head) != 0) {
		fprintf(out, "signed head at %lld: chain rewritten up to %lld\n",
		    (long long)r->seq, (long long)r->seq);
		return 1;
	}
	if (r->chained) {
		len = asprintf(&msg, HEAD_MSG2_FMT, (long long)r->seq, r->head,
		    (long long)r->prev_seq, r->prev_hash, r->prev_sig);
	} else {
		len = asprintf(&msg, HEAD_MSG_FMT, (long long)r->seq, r->head);
	}
	if (len == -1) {
		fatalx("out of memory");
	}
	for (c = 0; c < ncerts && !r->good; c++) {
		if (certs[c] == NULL || !cert_matches(certs[c], r->signer)) {
			continue;
		}
		found = 1;
		r->good = sig_verifies(certs[c], r->alg,
		    (const unsigned char *)msg, (size_t)len, r->sig, r->siglen);
	}
	if (!found) {
		fprintf(out, "signed head at %lld: signer certificate %s not "
		    "supplied\n", (long long)r->seq, r->signer);
	} else if (!r->good) {
		fprintf(out, "signed head at %lld: signature does not verify\n",
		    (long long)r->seq);
	} else {
		problem = 0;
	}
	free(msg);
	return problem;
}

/*
 * The chain of signed heads: a chained head (verified) must cover the
 * row just before it.  One line per broken link; returns the count.
 */
static int
verify_links(const struct sigrow *r, size_t n, FILE *out)
{
	const struct sigrow *p;
	size_t i, j;
	int problems = 0, same;

	for (i = 0; i < n; i++) {
		if (!r[i].chained || !r[i].good) {
			continue;
		}
		p = i > 0 ? &r[i - 1] : NULL;
		if (p == NULL ? r[i].prev_seq == 0 &&
		    strcmp(r[i].prev_sig, ZERO_HASH) == 0 :
		    p->seq == r[i].prev_seq &&
		    strcmp(p->head, r[i].prev_hash) == 0 &&
		    strcmp(p->sig_sha256, r[i].prev_sig) == 0) {
			continue;
		}
		if (p != NULL && p->seq == r[i].prev_seq && !p->good) {
			continue;	/* that row's own finding says it */
		}
		same = 0;
		for (j = 0; j < n; j++) {
			same |= r[j].seq == r[i].prev_seq;
			if (r[j].seq == r[i].prev_seq &&
			    strcmp(r[j].sig_sha256, r[i].prev_sig) == 0) {
				break;
			}
		}
		if (r[i].prev_seq == 0) {
			fprintf(out, "signed head at %lld: ES-AUDIT-01: a "
			    "signed head was inserted before it (it was the "
			    "first)\n", (long long)r[i].seq);
		} else if (j == n) {
			fprintf(out, "signed head at %lld: ES-AUDIT-01: the "
			    "signed head it covers (at %lld) was %s\n",
			    (long long)r[i].seq, (long long)r[i].prev_seq,
			    same ? "replaced" : "removed");
		} else {
			fprintf(out, "signed head at %lld: ES-AUDIT-01: a "
			    "signed head was inserted after the one it covers "
			    "(at %lld)\n", (long long)r[i].seq,
			    (long long)r[i].prev_seq);
		}
		problems++;
	}
	return problems;
}

/*
 * The highest seq below w->seq known to match: a witness that matched or
 * a signed head that verified (0 when none).
 */
static int64_t
trusted_below(const struct audit_witness *w, size_t nw,
    const struct sigrow *r, size_t nr, int64_t seq)
{
	int64_t lo = 0;
	size_t i;

	for (i = 0; i < nw; i++) {
		if (w[i].result == AUDIT_WITNESS_MATCHES && w[i].seq < seq &&
		    w[i].seq > lo) {
			lo = w[i].seq;
		}
	}
	for (i = 0; i < nr; i++) {
		if (r[i].good && r[i].seq < seq && r[i].seq > lo) {
			lo = r[i].seq;
		}
	}
	return lo;
}

/*
 * Compare every witnessed head with the store: present with the same
 * hash, or a finding naming the missing or diverging range.  Sets each
 * witness's result; returns the number of findings.
 */
static int
verify_witnesses(struct audit_witness *w, size_t nw, const struct entry *e,
    size_t n, const struct sigrow *r, size_t nr, FILE *out)
{
	int64_t last = n > 0 ? e[n - 1].seq : 0;
	ssize_t idx;
	size_t i;
	int problems = 0;

	for (i = 0; i < nw; i++) {
		idx = w[i].seq > 0 ? find_seq(e, n, w[i].seq) : -1;
		if (w[i].seq == 0 ? strcmp(w[i].hash, ZERO_HASH) == 0 :
		    idx != -1 && strcmp(e[idx].hash, w[i].hash) == 0) {
			w[i].result = AUDIT_WITNESS_MATCHES;
		} else if (w[i].seq > 0 && idx == -1) {
			w[i].result = AUDIT_WITNESS_MISSING;
		} else {
			w[i].result = AUDIT_WITNESS_DIFFERS;
		}
	}
	/* Second pass: ranges start after the highest matching point. */
	for (i = 0; i < nw; i++) {
		if (w[i].result == AUDIT_WITNESS_MISSING) {
			fprintf(out, "audit verify: ES-AUDIT-02: witnessed head "
			    "%lld (%s) missing: %s %lld\n", (long long)w[i].seq,
			    w[i].what, w[i].seq > last ? "store ends at" :
			    "entry removed, store ends at", (long long)last);
			problems++;
		} else if (w[i].result == AUDIT_WITNESS_DIFFERS) {
			fprintf(out, "audit verify: ES-AUDIT-03: entries "
			    "%lld..%lld differ from the witnessed chain (%s)\n",
			    (long long)trusted_below(w, nw, r, nr, w[i].seq) + 1,
			    (long long)w[i].seq, w[i].what);
			problems++;
		}
	}
	return problems;
}

int
audit_verify(struct db *db, X509 *const *certs, size_t ncerts, FILE *out,
    struct audit_verify_result *res)
{
	return audit_verify_witnessed(db, certs, ncerts, NULL, 0, out, res);
}

int
audit_verify_witnessed(struct db *db, X509 *const *certs, size_t ncerts,
    struct audit_witness *w, size_t nw, FILE *out,
    struct audit_verify_result *res)
{
	struct entry *e = NULL;
	struct sigrow *r = NULL;
	int64_t last, beyond = 0, best = 0;
	size_t n = 0, nr = 0, i;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	if (!load_entries(db, &e, &n) || !load_sigrows(db, &r, &nr)) {
		goto out;
	}
	res->entries = (int64_t)n;
	last = n > 0 ? e[n - 1].seq : 0;
	res->problems = verify_chain(e, n, out);
	for (i = 0; i < nr; i++) {
		if (r[i].seq > last) {
			beyond = r[i].seq;	/* reported once, below */
			continue;
		}
		if (verify_sigrow(&r[i], e, n, certs, ncerts, out)) {
			res->problems++;
			continue;
		}
		res->signatures++;
		if (r[i].seq > best) {
			best = r[i].seq;
		}
	}
	if (beyond > 0) {
		fprintf(out, "audit entries after %lld: removed (signed head "
		    "at %lld)\n", (long long)last, (long long)beyond);
		res->problems++;
	}
	res->problems += verify_links(r, nr, out);
	res->problems += verify_witnesses(w, nw, e, n, r, nr, out);
	res->last_signed_seq = best;
	res->unsigned_tail = (int)(last - best);
	if (res->unsigned_tail > 0) {
		fprintf(out, "note: %d audit entries after the last signed "
		    "head (at %lld) are not signed yet\n", res->unsigned_tail,
		    (long long)best);
	}
	ret = res->problems == 0;
out:
	sigrows_free(r, nr);
	entries_free(e, n);
	return ret;
}
