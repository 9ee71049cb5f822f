/*
 * "eseal-ca issue": issue every approved e-seal request of one issuing CA
 * (or the listed ones) in one run with one token login.  Before anything
 * is signed the CA must be valid now and not revoked, its token must pass
 * the policy gate, and each request must hold M approvals of its current
 * content.  Each certificate is built once and linted with the token's
 * signature AlgorithmIdentifier and a placeholder signature of the
 * token's length; only a clean lint lets the token sign it.  Certificates
 * are recorded in batches: the certificate rows, the requests' statuses
 * and the audit entries of up to BATCH certificates commit in one
 * transaction before their files are written (by a thread of their own,
 * ca/pemwrite.c, while the next batch is built); the same transaction
 * notes each file as pending (meta "pem_pending:SERIAL" = the absolute
 * output directory) until the files are written and synced, so that a run
 * killed in between leaves the next run to write them.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
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
#include "pemwrite.h"
#include "signpool.h"
#include "request.h"
#include "spki.h"
#include "util.h"

#define MAX_LISTED	1024
#define PEM_PENDING	"pem_pending:"
/* Certificates per store transaction (and per syncfs of the PEM files). */
#define BATCH		64

enum one_result { ONE_ISSUED = 0, ONE_REFUSED, ONE_ERROR };

/* A request's subject key: its CSR's SubjectPublicKeyInfo, decoded. */
struct subject_key {
	const unsigned char	*spki;		/* into the request's csr_der */
	size_t			 len;
	EVP_PKEY		*pub;
};

/* A certificate signed and recorded in the open batch, not yet committed. */
struct pending {
	X509		*cert;
	char		*request;
	char		 serial[33];
	char		 sha[65];
	int		 written;	/* its PEM file is in place */
};

/*
 * A certificate with the token (a slot of the signing pool) while the
 * next ones are rechecked, built and linted; recorded once every
 * certificate in flight is back (inflight_finish).  Only the signing
 * threads use the token meanwhile; the store is the main thread's.
 */
struct inflight {
	struct request		*r;
	X509			*cert;
	time_t			 not_before, not_after;
	char			 serial[33];
	char			 object[64];
	char			*names;
	int			 capped;
};

struct batch {
	struct db		*db;
	struct ca_key		*ck;
	struct ca_row		*ca;
	X509_ALGOR		*aid;		/* the token's AlgorithmIdentifier */
	unsigned char		*placeholder;	/* signature of the token's length */
	int			 placeholder_len;
	const char		*who;
	const char		*out_dir;
	char			*out_dir_abs;	/* recorded while the PEM is pending */
	const char		*profiles_dir;
	const char		*crl_url, *ocsp_url, *ca_issuers_url;
	json_t			*issued;	/* [{request, serial, sha256}] */
	struct alg_policy	*ap;		/* the instance's algorithm policy */
	struct spki_decoder	*dec;		/* subject keys' decoders */
	struct eecert_exts	*exts;		/* extensions kept for the run */
	struct pem_writer	*pw;		/* NULL without --out-dir */
	struct profile_cache	 pc;		/* the last profile read */
	int			 partition;	/* of the certificate being built */
	int			 open;		/* the batch's transaction is open */
	int			 overlap;	/* sign in a thread (no partitions) */
	int			 failed;	/* a certificate in flight failed */
	struct sign_pool	*sp;		/* made at the first signature */
	struct inflight		 fl[SIGN_POOL_MAX];
	size_t			 nfl;		/* certificates in flight */
	struct pending		 v[BATCH + SIGN_POOL_MAX];
	size_t			 n;
};

static int inflight_finish(struct batch *b);

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


/*
 * The token's AlgorithmIdentifier for the CA key under ck->alg, asked of
 * a signing context on the token key (nothing is signed), and a
 * placeholder signature as long as the token's: the modulus length for
 * RSA, the longest DER ECDSA-Sig-Value of the curve for ECDSA (r and s
 * with their top bit set: no token signature is longer), 64 bytes for
 * Ed25519.  The lint of the copy needs its contents, its signature
 * AlgorithmIdentifier and the signature's length, not a signature anyone
 * verifies.  1/0 (logged).
 */
static int
placeholder_init(struct batch *b, const char *what)
{
	unsigned char aid[256], *der = NULL;
	const unsigned char *p;
	OSSL_PARAM params[2];
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY *pub = hsm_key_public(b->ck->key);
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	int len, ret = 0;

	if ((mctx = EVP_MD_CTX_new()) == NULL) {
		fatalx("out of memory");
	}
	if (!hsm_sign_init(mctx, b->ck->key, b->ck->alg)) {
		goto out;
	}
	params[0] = OSSL_PARAM_construct_octet_string(
	    OSSL_SIGNATURE_PARAM_ALGORITHM_ID, aid, sizeof(aid));
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_PKEY_CTX_get_params(EVP_MD_CTX_get_pkey_ctx(mctx),
	    params) != 1 || !OSSL_PARAM_modified(params)) {
		log_ssl("%s: the token's signature AlgorithmIdentifier", what);
		goto out;
	}
	p = aid;
	if ((b->aid = d2i_X509_ALGOR(NULL, &p,
	    (long)params[0].return_size)) == NULL ||
	    p != aid + params[0].return_size) {
		log_ssl("%s: the token's signature AlgorithmIdentifier is not "
		    "one DER AlgorithmIdentifier", what);
		goto out;
	}
	if (sig_alg_is_ecdsa(b->ck->alg)) {
		if ((es = ECDSA_SIG_new()) == NULL || (r = BN_new()) == NULL ||
		    (s = BN_new()) == NULL ||
		    !BN_set_bit(r, EVP_PKEY_get_bits(pub) - 1) ||
		    !BN_set_bit(s, EVP_PKEY_get_bits(pub) - 1) ||
		    !ECDSA_SIG_set0(es, r, s)) {
			fatalx("out of memory");
		}
		r = s = NULL;
		if ((len = i2d_ECDSA_SIG(es, &der)) <= 0) {
			fatalx("i2d_ECDSA_SIG");
		}
	} else {
		len = EVP_PKEY_get_size(pub);
		if (len <= 0 || (der = OPENSSL_zalloc((size_t)len)) == NULL) {
			fatalx("out of memory");
		}
	}
	b->placeholder = der;
	b->placeholder_len = len;
	der = NULL;
	ret = 1;
out:
	EVP_MD_CTX_free(mctx);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	OPENSSL_free(der);
	return ret;
}

/*
 * Give cert the token's AlgorithmIdentifier (inside and outside the
 * TBSCertificate) and the placeholder signature, as X509_sign_ctx() would
 * with a real signature.  OpenSSL has no setters for these fields of an
 * X509: the pointers it hands out are written through.
 */
static void
placeholder_sign(struct batch *b, X509 *cert)
{
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;

	X509_get0_signature(&sig, &alg, cert);
	if (!X509_ALGOR_copy((X509_ALGOR *)X509_get0_tbs_sigalg(cert),
	    b->aid) || !X509_ALGOR_copy((X509_ALGOR *)alg, b->aid) ||
	    !ASN1_BIT_STRING_set((ASN1_BIT_STRING *)sig, b->placeholder,
	    b->placeholder_len) || i2d_re_X509_tbs(cert, NULL) <= 0) {
		fatalx("out of memory");
	}
	/* No unused bits (RFC 5280 4.1.1.3: the signature's octets). */
	((ASN1_BIT_STRING *)sig)->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	((ASN1_BIT_STRING *)sig)->flags |= ASN1_STRING_FLAG_BITS_LEFT;
}

/* Forget the pending note of serial (a pem_writer_collect callback). */
static int
forget_note(void *arg, const char *serial)
{
	struct batch *b = arg;
	char pkey[64];

	snprintf(pkey, sizeof(pkey), PEM_PENDING "%s", serial);
	return db_meta_delete(b->db, pkey);
}

/*
 * In the open transaction: forget the notes of the previous batch's files
 * that are written and durable (waiting for the writer), under a
 * savepoint: a failure leaves them pending, the batch goes on.
 */
static void
forget_written(struct batch *b)
{
	if (b->pw == NULL) {
		return;
	}
	if (!db_exec(b->db, "SAVEPOINT forget")) {
		(void)pem_writer_collect(b->pw, NULL, NULL);
		return;
	}
	if (!pem_writer_collect(b->pw, forget_note, b)) {
		(void)db_exec(b->db, "ROLLBACK TO forget");
	}
	(void)db_exec(b->db, "RELEASE forget");
}

/*
 * Make the batch's work durable: record the certificate in flight, forget
 * the notes of the previous batch's files once they are durable, commit
 * the batch's transaction (certificate rows, request statuses, audit
 * entries, pending-PEM notes), then hand its certificates to the PEM
 * writer (written and made durable with one syncfs(2) while the next
 * batch is built; their notes go with the next commit, or pems_drain()).
 * A file not written stays pending for the next run.  1 if the batch
 * committed (or none was open); 0 if the commit failed: its serials are
 * burned (logged).
 */
static int
batch_flush(struct batch *b)
{
	X509 *certs[BATCH + 1];
	char serials[BATCH + 1][33];
	struct pending *pd;
	size_t i;
	int ok = 1;

	(void)inflight_finish(b);
	if (!b->open) {
		return 1;
	}
	b->open = 0;
	forget_written(b);
	if (!db_commit(b->db)) {
		db_rollback(b->db);
		for (i = 0; i < b->n; i++) {
			burn_serial(b->db, b->v[i].serial, "commit failed");
		}
		ok = 0;
		goto out;
	}
	for (i = 0; i < b->n; i++) {
		pd = &b->v[i];
		json_array_append_new(b->issued, json_pack("{s:s,s:s,s:s}",
		    "request", pd->request, "serial", pd->serial, "sha256",
		    pd->sha));
		certs[i] = pd->cert;
		memcpy(serials[i], pd->serial, sizeof(serials[i]));
	}
	if (b->pw != NULL) {
		pem_writer_start(b->pw, certs, serials, b->n);
		for (i = 0; i < b->n; i++) {
			b->v[i].cert = NULL;
		}
	}
out:
	for (i = 0; i < b->n; i++) {
		X509_free(b->v[i].cert);
		free(b->v[i].request);
	}
	b->n = 0;
	return ok;
}

/*
 * The last batch's files: wait for the writer and forget the notes of the
 * durable ones in one transaction.  1/0 (logged; the notes stay).
 */
static int
pems_drain(struct batch *b)
{
	if (b->pw == NULL) {
		return 1;
	}
	if (!db_begin(b->db)) {
		(void)pem_writer_collect(b->pw, NULL, NULL);
		return 0;
	}
	if (!pem_writer_collect(b->pw, forget_note, b)) {
		db_rollback(b->db);
		return 0;
	}
	return db_commit(b->db);
}

/*
 * The batch's write transaction, begun if none is open.  Every
 * certificate goes into it under a savepoint of its own.  1/0.
 */
static int
batch_open(struct batch *b)
{
	if (b->open) {
		return 1;
	}
	if (!db_begin(b->db)) {
		return 0;
	}
	b->open = 1;
	return 1;
}

/*
 * Refuse r with text (logged by the caller): the open batch is committed
 * first, so that the audit entries keep the order of the requests.
 */
static enum one_result
refuse(struct batch *b, const struct request *r, const char *text)
{
	if (!batch_flush(b)) {
		return ONE_ERROR;
	}
	return refuse_request(b, r, text) ? ONE_REFUSED : ONE_ERROR;
}

/*
 * What may have changed since r was approved: its approvals (*names gets
 * the approvers), its profile (*prof), an attested key's chain and the
 * subject key HSM's CMVP status.  ONE_ISSUED if r may go on.
 */
static enum one_result
recheck(struct batch *b, struct request *r, const struct subject_key *sk,
    const struct profile **prof, char **names, const char *object)
{
	struct cmvp_effective eff;
	struct attest att;
	enum attest_result ar;
	enum one_result ret = ONE_ERROR;
	const char *psha, *chain;
	char text[1024];

	memset(&att, 0, sizeof(att));
	text[0] = '\0';
	if (request_approvals(b->db, r, names) < (int)quorum_size(b->db)) {
		/* Checked by the caller; a change since is a refusal too. */
		log_warnx("%s: ES-APPR-04: approvals changed during the run",
		    object);
		ret = ONE_REFUSED;
		goto out;
	}
	/* The profile must still be the one the approvers saw. */
	psha = json_string_value(json_object_get(r->dj, "profile_sha256"));
	if ((*prof = profile_load_cached(&b->pc, b->profiles_dir,
	    r->profile)) == NULL ||
	    psha == NULL || strcmp(psha, (*prof)->sha256) != 0) {
		snprintf(text, sizeof(text), "%s: ES-PROF-02: profile %s %s "
		    "since the request was approved: submit it again", object,
		    r->profile, *prof == NULL ? "is gone" : "changed");
		goto refused;
	}
	/*
	 * An attested subject key: the chain must still verify to a
	 * configured vendor root that attests the same CMVP number.
	 */
	chain = json_string_value(json_object_get(json_object_get(r->dj,
	    "attestation"), "chain"));
	if (chain != NULL) {
		ar = attest_verify(b->db, (const unsigned char *)chain,
		    strlen(chain), sk->pub, &att);
		if (ar == ATTEST_ERROR) {
			goto out;
		}
		if (ar == ATTEST_REFUSED) {
			snprintf(text, sizeof(text), "%s: %s: %s", object,
			    att.rule, att.reason);
			goto refused;
		}
		if (r->subject_hsm == NULL ||
		    strcmp(att.cmvp, r->subject_hsm) != 0) {
			snprintf(text, sizeof(text), "%s: ES-ATT-01: vendor "
			    "root %s now attests CMVP #%s, the request says "
			    "#%s: submit it again", object, att.root, att.cmvp,
			    r->subject_hsm != NULL ? r->subject_hsm : "-");
			goto refused;
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
			goto refused;
		}
	}
	ret = ONE_ISSUED;
	goto out;
refused:
	log_warnx("%s", text);
	ret = refuse(b, r, text);
out:
	attest_clear(&att);
	return ret;
}

/*
 * Build r's certificate with serial (drawn here): validity, CRL
 * partition, URLs.  *capped tells whether the CA's notAfter applied.
 * NULL (logged).
 */
static X509 *
build_cert(struct batch *b, struct request *r, const struct subject_key *sk,
    const struct profile *prof, char serial[33], struct eecert_spec *spec,
    int *capped, const char *object)
{
	enum ku_setting ku = KU_A;
	char *part_url = NULL;
	int partition = 0;
	X509 *cert = NULL;

	ku_setting_from_name(json_string_value(json_object_get(r->dj,
	    "key_usage")), &ku);
	if (!eecert_new_serial(b->db, serial)) {
		return NULL;
	}
	memset(spec, 0, sizeof(*spec));
	spec->subject = json_object_get(r->dj, "subject");
	spec->subject_pub = sk->pub;
	spec->subject_spki = sk->spki;
	spec->subject_spki_len = sk->len;
	spec->issuer = b->ca->cert;
	spec->profile = prof;
	spec->ku = ku;
	spec->not_before = now_utc();
	spec->not_after = eecert_not_after(b->ca->cert, spec->not_before,
	    (int)json_integer_value(json_object_get(r->dj, "validity_days")),
	    capped);
	/* The CRL partition, chosen now (counting this batch's rows). */
	if (!crl_partition_for_new_cert(b->db, b->ca->id, &partition,
	    &part_url)) {
		return NULL;
	}
	b->partition = partition;
	spec->crl_url = part_url;
	spec->ocsp_url = b->ocsp_url;
	spec->ca_issuers_url = b->ca_issuers_url;
	spec->serial_hex = serial;
	if (b->exts == NULL) {
		b->exts = eecert_exts_new();
	}
	spec->exts = b->exts;
	cert = eecert_build(spec, object);
	spec->crl_url = NULL;
	free(part_url);
	return cert;
}

/*
 * Lint the copy of cert that carries the token's AlgorithmIdentifier and
 * a placeholder signature of the token's length (placeholder_sign).
 * cert's SubjectPublicKeyInfo is a copy of sk's, whose decoded key the
 * rules check.  ONE_ISSUED if clean; else r is refused with every FAIL
 * (logged).
 */
static enum one_result
lint_copy(struct batch *b, struct request *r, const struct subject_key *sk,
    X509 *cert,
    const struct profile *prof, const char *object)
{
	struct findings f;
	struct lint_opts lo;
	enum one_result ret = ONE_ISSUED;
	char text[1024];
	size_t i, len;

	findings_init(&f);
	placeholder_sign(b, cert);
	memset(&lo, 0, sizeof(lo));
	lo.kind = LINT_ESEAL;
	lo.ap = b->ap;
	lo.profile = prof->lint_profile;
	lo.issuer = b->ca->cert;
	lo.throwaway = 1;
	lo.subject_spki = sk->spki;
	lo.subject_spki_len = sk->len;
	lo.subject_pub = sk->pub;
	if (!lint_certificate(cert, &lo, &f)) {
		findings_log_fails(&f, object);
		text[0] = '\0';
		for (i = 0, len = 0; i < f.n && len < sizeof(text); i++) {
			if (f.v[i].result == RULE_FAIL) {
				len += snprintf(text + len, sizeof(text) - len,
				    "%s%s: %s: %s", len > 0 ? "\n" : "", object,
				    f.v[i].id, f.v[i].detail);
			}
		}
		log_warnx("%s: the throw-away certificate failed lint (%d "
		    "FAIL): nothing signed", object, f.fails);
		ret = refuse(b, r, text);
	}
	findings_free(&f);
	return ret;
}

/*
 * In the batch's transaction: the certificate row (der, derlen bytes, its
 * SHA-256 sha), the request's status, the pending-PEM note and the audit
 * entry.  1/0 (logged).
 */
static int
record_cert(struct batch *b, struct request *r, X509 *cert,
    const unsigned char *der, int derlen, const struct eecert_spec *spec,
    const char *serial, const char *sha, const char *detail,
    const char *object)
{
	sqlite3_stmt *st = NULL;
	char *subj = NULL, nb[32], na[32], now[32], pkey[64];
	int ret = 0;

	subj = x509_name_str(X509_get_subject_name(cert));
	time_fmt(spec->not_before, nb, sizeof(nb));
	time_fmt(spec->not_after, na, sizeof(na));
	time_fmt(now_utc(), now, sizeof(now));
	st = db_cached(b->db, "INSERT INTO certificates (ca_id, serial,"
	    " request_id, subject, profile, not_before, not_after, der, sha256,"
	    " issued, partition) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
	if (st == NULL) {
		goto out;
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
	if (b->partition > 0) {
		sqlite3_bind_int(st, 11, b->partition);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(b->db, "insert certificate");
		goto out;
	}
	db_release(st);
	st = db_cached(b->db, "UPDATE requests SET status = 'issued' WHERE"
	    " id = ? AND status = 'pending'");
	if (st == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE ||
	    sqlite3_changes(db_handle(b->db)) != 1) {
		log_warnx("%s: the request is no longer pending", object);
		goto out;
	}
	snprintf(pkey, sizeof(pkey), PEM_PENDING "%s", serial);
	if ((b->out_dir == NULL || db_meta_set(b->db, pkey,
	    b->out_dir_abs)) && audit_append(b->db, b->who,
	    "certificate-issue", object, r->hash, "ok", detail)) {
		ret = 1;
	}
out:
	db_release(st);
	free(subj);
	return ret;
}

/*
 * Record fl's certificate, signed (why NULL) or not, in the batch's
 * transaction under a savepoint of its own.  A failure burns its serial.
 * 1/0 (logged).
 */
static int
inflight_record(struct batch *b, struct inflight *fl, const char *why,
    const unsigned char *der, int derlen, const char *sha)
{
	struct eecert_spec spec;
	struct pending *pd;
	char detail[1024];

	if (why != NULL) {
		burn_serial(b->db, fl->serial, why);
		return 0;
	}
	snprintf(detail, sizeof(detail), "serial %s; certificate sha256 %s; "
	    "approved by %s; profile %s; CA %s%s", fl->serial, sha, fl->names,
	    fl->r->profile, b->ca->name, fl->capped ? "; notAfter capped at "
	    "the CA's notAfter" : "");
	memset(&spec, 0, sizeof(spec));
	spec.not_before = fl->not_before;
	spec.not_after = fl->not_after;
	if (!db_exec(b->db, "SAVEPOINT one")) {
		burn_serial(b->db, fl->serial, "store busy at commit");
		return 0;
	}
	if (!record_cert(b, fl->r, fl->cert, der, derlen, &spec, fl->serial,
	    sha, detail, fl->object)) {
		(void)db_exec(b->db, "ROLLBACK TO one");
		(void)db_exec(b->db, "RELEASE one");
		burn_serial(b->db, fl->serial, "commit failed");
		return 0;
	}
	(void)db_exec(b->db, "RELEASE one");
	pd = &b->v[b->n++];
	pd->cert = fl->cert;
	fl->cert = NULL;
	snprintf(pd->serial, sizeof(pd->serial), "%s", fl->serial);
	memcpy(pd->sha, sha, sizeof(pd->sha));	/* 64 hex digits and NUL */
	if ((pd->request = strdup(fl->r->id)) == NULL) {
		fatalx("out of memory");
	}
	return 1;
}

/*
 * Wait until every certificate in flight is back from the token, then
 * record them in the order they were handed over (in the batch's
 * transaction): no signature runs while one is recorded.  After a
 * failure the later ones are not recorded and their serials are burned;
 * b->failed is set, and no certificate is signed after it.  1 if none
 * failed, else 0.
 */
static int
inflight_finish(struct batch *b)
{
	const char *why[SIGN_POOL_MAX];
	unsigned char *der[SIGN_POOL_MAX];
	int derlen[SIGN_POOL_MAX];
	char sha[SIGN_POOL_MAX][65];
	size_t i;
	int ok = 1;

	for (i = 0; i < b->nfl; i++) {
		why[i] = sign_pool_wait(b->sp, i, &der[i], &derlen[i], sha[i]);
	}
	for (i = 0; i < b->nfl; i++) {
		if (!ok) {
			burn_serial(b->db, b->fl[i].serial, "not recorded: a "
			    "certificate before it failed");
		} else if (!inflight_record(b, &b->fl[i], why[i], der[i],
		    derlen[i], sha[i])) {
			ok = 0;
		}
		OPENSSL_free(der[i]);
		X509_free(b->fl[i].cert);
		b->fl[i].cert = NULL;
		free(b->fl[i].names);
		b->fl[i].names = NULL;
	}
	b->nfl = 0;
	if (!ok) {
		b->failed = 1;
	}
	return ok;
}

/* Signing threads (token sessions): one per CPU, at least 2. */
static size_t
pool_want(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 2 ? 2 : (size_t)n;
}

/*
 * Hand cert (owned from here on) to a free slot of the signing pool; if
 * none is free, the certificates in flight are recorded first.  Without
 * overlap (CRL partitions counted), one slot, waited for at once.
 * ONE_ISSUED, or ONE_ERROR (logged).
 */
static enum one_result
sign_start(struct batch *b, struct request *r, X509 *cert,
    const struct eecert_spec *spec, const char *serial, char *names,
    int capped, const char *object)
{
	struct inflight *fl;

	if (b->sp == NULL) {
		b->sp = sign_pool_new(b->ck->key, b->ck->alg, b->ca->cert,
		    b->overlap ? pool_want() : 1);
	}
	if (b->nfl == sign_pool_size(b->sp) && !inflight_finish(b)) {
		X509_free(cert);
		free(names);
		return ONE_ERROR;
	}
	fl = &b->fl[b->nfl++];
	fl->r = r;
	fl->cert = cert;
	fl->not_before = spec->not_before;
	fl->not_after = spec->not_after;
	snprintf(fl->serial, sizeof(fl->serial), "%s", serial);
	snprintf(fl->object, sizeof(fl->object), "%s", object);
	fl->names = names;
	fl->capped = capped;
	sign_pool_start(b->sp, b->nfl - 1, cert, object);
	if (!b->overlap && !inflight_finish(b)) {
		return ONE_ERROR;
	}
	return ONE_ISSUED;
}

/*
 * Issue r in the batch: recheck, build, lint the copy, then the token
 * signs it in a thread while the next request is prepared; it is
 * recorded by inflight_finish() and committed by batch_flush().
 */
static enum one_result
issue_one(struct batch *b, struct request *r)
{
	struct eecert_spec spec;
	const struct profile *prof = NULL;
	struct subject_key sk;
	X509 *cert = NULL;
	char *names = NULL, object[64], serial[33];
	enum one_result ret = ONE_ERROR;
	int capped = 0;

	snprintf(object, sizeof(object), "request:%s", r->id);
	memset(&sk, 0, sizeof(sk));
	if (b->dec == NULL) {
		b->dec = spki_decoder_new();
	}
	if (!csr_spki(r->csr_der, r->csr_len, &sk.spki, &sk.len) ||
	    (sk.pub = spki_decode(b->dec, sk.spki, sk.len)) == NULL) {
		log_ssl("%s: stored CSR unreadable", object);
		goto out;
	}
	if ((ret = recheck(b, r, &sk, &prof, &names, object)) != ONE_ISSUED) {
		goto out;
	}
	ret = ONE_ERROR;
	if (!batch_open(b) || (cert = build_cert(b, r, &sk, prof, serial,
	    &spec, &capped, object)) == NULL) {
		goto out;
	}
	if ((ret = lint_copy(b, r, &sk, cert, prof, object)) != ONE_ISSUED) {
		goto out;
	}
	ret = sign_start(b, r, cert, &spec, serial, names, capped, object);
	cert = NULL;
	names = NULL;
out:
	EVP_PKEY_free(sk.pub);
	X509_free(cert);
	free(names);
	return ret;
}

/*
 * Remove path's temporary files left by a killed run: path.tmpPID.XXXXXX
 * (tmp_create()), and path.tmpXXXXXX of earlier versions.
 */
static void
remove_stale_tmp(const char *path)
{
	glob_t gl;
	char *pat = NULL;
	size_t i;

	if (asprintf(&pat, "%s.tmp*", path) == -1) {
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

/*
 * Which CA: --ca, or the one CA of the listed or pending requests.
 * EXIT_OK with *ca_name set, or NULL if nothing is pending; else the exit
 * status (logged).
 */
static int
pick_ca(struct db *db, struct args *a, int listed, char **ca_name)
{
	sqlite3_stmt *st = NULL;
	struct request *r0;
	char *ids[1];
	int why, ret = EXIT_ERROR;

	*ca_name = NULL;
	if (args_get(a, "ca") != NULL) {
		*ca_name = strdup(args_get(a, "ca"));
		ret = EXIT_OK;
	} else if (listed) {
		args_all(a, "request", ids, 1);
		if ((r0 = request_load(db, ids[0], &why)) == NULL) {
			return why;
		}
		*ca_name = strdup(r0->ca_name);
		request_free(r0);
		ret = EXIT_OK;
	} else {
		if ((st = db_prepare(db, "SELECT DISTINCT c.name FROM requests r"
		    " JOIN cas c ON c.id = r.ca_id WHERE r.status ="
		    " 'pending'")) == NULL) {
			return EXIT_ERROR;
		}
		if (sqlite3_step(st) != SQLITE_ROW) {
			log_info("issue: no pending requests");
			sqlite3_finalize(st);
			return EXIT_OK;
		}
		*ca_name = strdup((const char *)sqlite3_column_text(st, 0));
		ret = EXIT_OK;
		if (sqlite3_step(st) == SQLITE_ROW) {
			log_warnx("issue: pending requests for several CAs: name "
			    "one with --ca");
			free(*ca_name);
			*ca_name = NULL;
			ret = EXIT_USAGE;
		}
		sqlite3_finalize(st);
		return ret;
	}
	if (*ca_name == NULL) {
		fatalx("out of memory");
	}
	return ret;
}

/*
 * The requests of reqs that are ready to issue (for ca_name, pending, M
 * approvals of their current content) into ready; the others refused
 * (explicitly listed ones) or left for later.  1/0.
 */
static int
filter_ready(struct db *db, const char *who, const char *ca_name,
    int listed, struct request **reqs, size_t nreqs, struct request **ready,
    size_t *nready, size_t *refused)
{
	char text[160];
	size_t i, m = quorum_size(db);
	int nap;

	for (i = 0; i < nreqs; i++) {
		struct request *r = reqs[i];

		snprintf(text, sizeof(text), "request:%s", r->id);
		if (strcmp(r->ca_name, ca_name) != 0) {
			log_warnx("request %s: for CA %s, not %s", r->id,
			    r->ca_name, ca_name);
			audit_append(db, who, "certificate-issue", text, r->hash,
			    "refused: other CA", r->ca_name);
			(*refused)++;
			continue;
		}
		if (strcmp(r->status, "pending") != 0) {
			log_warnx("request %s: ES-APPR-05: the request is %s, "
			    "not pending", r->id, r->status);
			audit_append(db, who, "certificate-issue", text, r->hash,
			    "refused: not pending", r->status);
			(*refused)++;
			continue;
		}
		if ((nap = request_approvals(db, r, NULL)) < 0) {
			return 0;
		}
		if ((size_t)nap < m) {
			if (listed) {
				log_warnx("request %s: ES-APPR-04: %d of %zu "
				    "approvals of its current content (approvals "
				    "of an earlier content are void)", r->id, nap,
				    m);
				audit_append(db, who, "certificate-issue", text,
				    r->hash, "refused: approvals", NULL);
				(*refused)++;
			} else {
				log_debug("request %s: %d of %zu approvals: not "
				    "yet", r->id, nap, m);
			}
			continue;
		}
		ready[(*nready)++] = r;
	}
	return 1;
}

/*
 * The issuing CA: an issuing CA with a certificate, active, valid now,
 * its URLs set; b's algorithm policy and URLs are loaded.  EXIT_OK, or
 * the exit status (refusals audited).
 */
static int
check_ca(struct batch *b, const char *ca_name, const char *object)
{
	struct tm tb, ta;
	char nb[32] = "", na[32] = "", text[64];
	time_t now = now_utc();

	if (strcmp(b->ca->kind, "issuing") != 0 || b->ca->cert == NULL) {
		log_warnx("ca %s: ES-CA-07: e-seals are issued by an issuing CA "
		    "with a certificate", ca_name);
		audit_append(b->db, b->who, "certificate-issue", object, NULL,
		    "refused: not an issuing CA", NULL);
		return EXIT_REFUSED;
	}
	if (strcmp(b->ca->status, "active") != 0) {
		log_warnx("ca %s: ES-CA-06: issuing CA %s is %s: it issues "
		    "nothing", ca_name, ca_name, b->ca->status);
		audit_append(b->db, b->who, "certificate-issue", object, NULL,
		    "refused: CA not active", b->ca->status);
		return EXIT_REFUSED;
	}
	if (X509_cmp_time(X509_get0_notAfter(b->ca->cert), &now) <= 0 ||
	    X509_cmp_time(X509_get0_notBefore(b->ca->cert), &now) > 0) {
		time_fmt(now, text, sizeof(text));
		if (ASN1_TIME_to_tm(X509_get0_notBefore(b->ca->cert),
		    &tb) == 1 && ASN1_TIME_to_tm(X509_get0_notAfter(
		    b->ca->cert), &ta) == 1) {
			time_fmt(timegm(&tb), nb, sizeof(nb));
			time_fmt(timegm(&ta), na, sizeof(na));
		}
		log_warnx("ca %s: ES-CA-05: issuing CA %s is not valid at %s "
		    "(valid %s .. %s)", ca_name, ca_name, text, nb, na);
		audit_append(b->db, b->who, "certificate-issue", object, NULL,
		    "refused: CA not valid now", text);
		return EXIT_REFUSED;
	}
	if ((b->ap = ca_alg_policy(b->db)) == NULL) {
		return EXIT_ERROR;
	}
	b->crl_url = ca_setting(b->ca, "crl-url");
	b->ocsp_url = ca_setting(b->ca, "ocsp-url");
	b->ca_issuers_url = ca_setting(b->ca, "ca-issuers-url");
	if (b->crl_url == NULL || b->ocsp_url == NULL ||
	    b->ca_issuers_url == NULL || strncmp(b->crl_url, "http://", 7) !=
	    0 || strncmp(b->ocsp_url, "http://", 7) != 0 ||
	    strncmp(b->ca_issuers_url, "http://", 7) != 0) {
		log_warnx("ca %s: ES-CA-08: the CA's settings need http:// "
		    "\"crl-url\", \"ocsp-url\" and \"ca-issuers-url\"", ca_name);
		audit_append(b->db, b->who, "certificate-issue", object, NULL,
		    "refused: CA settings", NULL);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/*
 * Issue the ready requests in batches of BATCH (one store transaction
 * and one syncfs of the PEM files each), print the result and sign the
 * audit head.  Returns the exit status.
 */
static int
run_batches(struct batch *b, struct request **ready, size_t nready,
    size_t refused, const char *ca_name)
{
	enum one_result or;
	size_t i, issued = 0;
	int ret = EXIT_OK, tty = isatty(STDERR_FILENO);

	for (i = 0; i < nready; i++) {
		if ((or = issue_one(b, ready[i])) == ONE_REFUSED) {
			refused++;
		} else if (or == ONE_ERROR) {
			ret = EXIT_ERROR;
			break;
		}
		if (b->failed || (b->n >= BATCH && !batch_flush(b))) {
			ret = EXIT_ERROR;
			break;
		}
		issued = json_array_size(b->issued) + b->n;
		if (tty) {
			fprintf(stderr, "\rissued %zu/%zu", issued, nready);
		}
	}
	if (!batch_flush(b) || b->failed) {
		ret = EXIT_ERROR;
	}
	(void)pems_drain(b);
	issued = json_array_size(b->issued);
	if (tty) {
		fprintf(stderr, "\n");
	}
	if (ret == EXIT_OK && refused > 0) {
		ret = EXIT_REFUSED;
	}
	if (!ca_audit_sign(b->db, b->ck, NULL) && ret == EXIT_OK) {
		ret = EXIT_ERROR;
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:I,s:I,s:O}", "ca", ca_name,
		    "issued", (json_int_t)issued, "refused", (json_int_t)refused,
		    "certificates", b->issued));
		return ret;
	}
	for (i = 0; i < issued; i++) {
		json_t *e = json_array_get(b->issued, i);

		printf("%s %s\n", json_string_value(json_object_get(e,
		    "serial")), json_string_value(json_object_get(e,
		    "request")));
	}
	log_info("issue: CA %s: %zu issued, %zu refused", ca_name, issued,
	    refused);
	return ret;
}

int
cmd_issue(int argc, char **argv)
{
	static const char *const valued[] = { "ca", "request", "pin",
	    "operator", "out-dir", "profiles", NULL };
	static const char *const flags[] = { NULL };
	struct batch b;
	struct crl_cfg cfg;
	struct args a;
	struct request **reqs = NULL, **ready = NULL;
	struct db *db = NULL;
	char *who = NULL, *ca_name = NULL, object[160];
	size_t nreqs = 0, nready = 0, i, refused = 0;
	int64_t op_id;
	int ret = EXIT_ERROR, why, listed, pems_ok = 1;

	memset(&b, 0, sizeof(b));
	/*
	 * Each certificate frees what it allocated: keep the heap rather
	 * than give it back to the kernel (brk) and ask again every time.
	 */
	(void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
	(void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
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
	if ((ret = pick_ca(db, &a, listed, &ca_name)) != EXIT_OK ||
	    ca_name == NULL) {
		goto out;
	}
	ret = EXIT_ERROR;
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
	if (!filter_ready(db, who, ca_name, listed, reqs, nreqs, ready,
	    &nready, &refused)) {
		goto out;
	}
	if (nready == 0) {
		if (refused == 0) {
			log_info("issue: no approved requests for CA %s",
			    ca_name);
		}
		ret = refused > 0 ? EXIT_REFUSED : EXIT_OK;
		goto out;
	}
	if ((ret = check_ca(&b, ca_name, object)) != EXIT_OK) {
		goto out;
	}

	/* One login for the whole batch; the token must pass the gate. */
	if ((b.ck = ca_key_open_signing(db, ca_name, args_get(&a, "pin"), who,
	    object, NULL, &why)) == NULL) {
		ret = why;
		goto out;
	}
	if (!placeholder_init(&b, object) || !crl_cfg_load(db, b.ca->id, &cfg,
	    object)) {
		ret = EXIT_ERROR;
		goto out;
	}
	/*
	 * The token signs in a thread while the next request is prepared,
	 * unless partitions are counted: the next certificate's partition
	 * must see the one before it.
	 */
	b.overlap = cfg.partitions <= 1;
	crl_cfg_clear(&cfg);
	if (b.out_dir != NULL) {
		b.pw = pem_writer_new(b.out_dir, b.out_dir_abs);
	}
	ret = run_batches(&b, ready, nready, refused, ca_name);
out:
	sign_pool_free(b.sp);	/* waits for a certificate in flight */
	for (i = 0; i < b.nfl; i++) {
		X509_free(b.fl[i].cert);
		free(b.fl[i].names);
	}
	pem_writer_free(b.pw);
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
	X509_ALGOR_free(b.aid);
	OPENSSL_free(b.placeholder);
	alg_policy_free(b.ap);
	spki_decoder_free(b.dec);
	eecert_exts_free(b.exts);
	profile_cache_clear(&b.pc);
	json_decref(b.issued);
	db_close(db);
	free(who);
	free(ca_name);
	free(b.out_dir_abs);
	return ret;
}
