/*
 * E-seal end-entity certificates: the TBS from the request, the profile
 * and the issuing CA's settings.  Standard extensions are made with
 * OpenSSL's X509V3 configuration functions; qcStatements (EN 319 412-5),
 * which OpenSSL does not know, is encoded here with ASN1_SEQUENCE_ANY.
 * A batch keeps the extensions that are the same for every certificate
 * of a profile and CA (struct eecert_exts) and adds copies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cacert.h"
#include "eecert.h"
#include "log.h"
#include "qcoids.h"
#include "spki.h"
#include "util.h"

int
eecert_new_serial(struct db *db, char hex[33])
{
	unsigned char buf[16];
	sqlite3_stmt *st = NULL;
	char *h;
	int tries, rc, ret = 0;

	st = db_cached(db, "SELECT (SELECT COUNT(*) FROM certificates WHERE"
	    " serial = ?1) + (SELECT COUNT(*) FROM serials_burned WHERE"
	    " serial = ?1)");
	if (st == NULL) {
		return 0;
	}
	for (tries = 0; tries < 16; tries++) {
		if (RAND_bytes(buf, sizeof(buf)) != 1) {
			log_ssl("cannot get a random serial");
			goto out;
		}
		/* Positive (top bit clear) and 16 bytes long (first byte non-zero). */
		buf[0] &= 0x7f;
		if (buf[0] == 0) {
			continue;
		}
		/* Stored as lower-case hex without leading zeros. */
		h = hex_encode(buf, sizeof(buf));
		snprintf(hex, 33, "%s", h + strspn(h, "0"));
		free(h);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
		if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
			db_log_error(db, "serial lookup");
			goto out;
		}
		if (sqlite3_column_int(st, 0) == 0) {
			ret = 1;
			goto out;
		}
		log_info("serial %s already used or burned: drawing another",
		    hex);
	}
	log_warnx("ES-SER-01: no unused serial after %d draws", tries);
out:
	db_release(st);
	return ret;
}

time_t
eecert_not_after(X509 *issuer, time_t not_before, int days, int *capped)
{
	time_t na = not_before + (time_t)days * 86400;
	struct tm tm;

	*capped = 0;
	if (issuer != NULL && X509_cmp_time(X509_get0_notAfter(issuer), &na) < 0 &&
	    ASN1_TIME_to_tm(X509_get0_notAfter(issuer), &tm) == 1) {
		na = timegm(&tm);
		*capped = 1;
	}
	return na;
}

/* ASN1_TYPE builders; each returns a new object or ends the program. */

static ASN1_TYPE *
t_oid(const char *oid)
{
	ASN1_OBJECT *o;
	ASN1_TYPE *t;

	if ((o = OBJ_txt2obj(oid, 1)) == NULL || (t = ASN1_TYPE_new()) == NULL) {
		fatalx("cannot encode OID %s", oid);
	}
	ASN1_TYPE_set(t, V_ASN1_OBJECT, o);
	return t;
}

static ASN1_TYPE *
t_str(int type, const char *s)
{
	ASN1_STRING *a;
	ASN1_TYPE *t;

	if ((a = ASN1_STRING_type_new(type)) == NULL ||
	    !ASN1_STRING_set(a, s, -1) || (t = ASN1_TYPE_new()) == NULL) {
		fatalx("out of memory");
	}
	ASN1_TYPE_set(t, type, a);
	return t;
}

static ASN1_TYPE *
t_int(long v)
{
	ASN1_INTEGER *i;
	ASN1_TYPE *t;

	if ((i = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set(i, v) ||
	    (t = ASN1_TYPE_new()) == NULL) {
		fatalx("out of memory");
	}
	ASN1_TYPE_set(t, V_ASN1_INTEGER, i);
	return t;
}

static STACK_OF(ASN1_TYPE) *
seq_new(void)
{
	STACK_OF(ASN1_TYPE) *sk;

	if ((sk = sk_ASN1_TYPE_new_null()) == NULL) {
		fatalx("out of memory");
	}
	return sk;
}

static void
seq_add(STACK_OF(ASN1_TYPE) *sk, ASN1_TYPE *t)
{
	if (!sk_ASN1_TYPE_push(sk, t)) {
		fatalx("out of memory");
	}
}

/* Encode sk as a SEQUENCE and wrap it in an ASN1_TYPE; frees sk. */
static ASN1_TYPE *
t_seq(STACK_OF(ASN1_TYPE) *sk)
{
	unsigned char *der = NULL;
	ASN1_STRING *s;
	ASN1_TYPE *t;
	int len;

	if ((len = i2d_ASN1_SEQUENCE_ANY(sk, &der)) <= 0 ||
	    (s = ASN1_STRING_type_new(V_ASN1_SEQUENCE)) == NULL ||
	    (t = ASN1_TYPE_new()) == NULL) {
		fatalx("cannot encode a SEQUENCE");
	}
	ASN1_STRING_set0(s, der, len);
	ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
	sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
	return t;
}

/* QCStatement ::= SEQUENCE { statementId OID, statementInfo ANY OPTIONAL } */
static void
add_statement(STACK_OF(ASN1_TYPE) *qcs, const char *oid, ASN1_TYPE *info)
{
	STACK_OF(ASN1_TYPE) *st = seq_new();

	seq_add(st, t_oid(oid));
	if (info != NULL) {
		seq_add(st, info);
	}
	seq_add(qcs, t_seq(st));
}

X509_EXTENSION *
eecert_qc_statements(const struct profile *p, int *err)
{
	STACK_OF(ASN1_TYPE) *qcs, *s, *pds;
	ASN1_OCTET_STRING *os = NULL;
	ASN1_OBJECT *obj = NULL;
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	size_t i;
	int len;

	*err = 0;
	if (!p->qc_compliance && !p->qc_type_eseal && !p->qc_sscd &&
	    p->npds == 0 && p->ncc == 0 && p->retention_years == 0 &&
	    !p->qc_semantics_legal) {
		return NULL;
	}
	qcs = seq_new();
	if (p->qc_semantics_legal) {
		/*
		 * RFC 3739 3.2.6.1 pkixQCSyntax-v2, SemanticsInformation
		 * { semanticsIdentifier id-etsi-qcs-semanticsId-Legal }:
		 * the organizationIdentifier follows EN 319 412-1 5.1.4.
		 */
		s = seq_new();
		seq_add(s, t_oid(OID_SEMANTICS_LEGAL));
		add_statement(qcs, OID_QCS_SYNTAX_V2, t_seq(s));
	}
	if (p->qc_compliance) {
		add_statement(qcs, OID_QC_COMPLIANCE, NULL);
	}
	if (p->retention_years > 0) {
		add_statement(qcs, OID_QC_RETENTION, t_int(p->retention_years));
	}
	if (p->qc_sscd) {
		add_statement(qcs, OID_QC_SSCD, NULL);
	}
	if (p->npds > 0) {
		/* QcPDS: SEQUENCE OF PdsLocation { url IA5String, language PrintableString } */
		pds = seq_new();
		for (i = 0; i < p->npds; i++) {
			s = seq_new();
			seq_add(s, t_str(V_ASN1_IA5STRING, p->pds[i].url));
			seq_add(s, t_str(V_ASN1_PRINTABLESTRING,
			    p->pds[i].language));
			seq_add(pds, t_seq(s));
		}
		add_statement(qcs, OID_QC_PDS, t_seq(pds));
	}
	if (p->qc_type_eseal) {
		s = seq_new();
		seq_add(s, t_oid(OID_QCT_ESEAL));
		add_statement(qcs, OID_QC_TYPE, t_seq(s));
	}
	if (p->ncc > 0) {
		s = seq_new();
		for (i = 0; i < p->ncc; i++) {
			seq_add(s, t_str(V_ASN1_PRINTABLESTRING,
			    p->cc_legislation[i]));
		}
		add_statement(qcs, OID_QC_CCLEG, t_seq(s));
	}
	len = i2d_ASN1_SEQUENCE_ANY(qcs, &der);
	sk_ASN1_TYPE_pop_free(qcs, ASN1_TYPE_free);
	if (len <= 0 || (os = ASN1_OCTET_STRING_new()) == NULL ||
	    (obj = OBJ_txt2obj(OID_QC_STATEMENTS, 1)) == NULL) {
		log_ssl("%s: cannot encode qcStatements", p->path);
		*err = 1;
		goto out;
	}
	ASN1_STRING_set0(os, der, len);
	der = NULL;
	/* EN 319 412-5 QCS-4.1-02 (ES-QC-00): not critical. */
	if ((ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) == NULL) {
		log_ssl("%s: cannot make the qcStatements extension", p->path);
		*err = 1;
	}
out:
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ext;
}

/* Extension sets kept (a profile and key usage setting each). */
#define EXTS_MAX	8

/* The extensions of one profile, key usage, issuer and URLs. */
struct exts_entry {
	char				 profile_sha[65];
	enum ku_setting			 ku;
	X509				*issuer;
	char				*crl_url, *ocsp_url, *ca_issuers_url;
	STACK_OF(X509_EXTENSION)	*exts;	/* all but the SKI, in order */
	int				 ski_at;	/* the SKI's place */
};

struct eecert_exts {
	struct exts_entry	 v[EXTS_MAX];
	size_t			 n;
};

struct eecert_exts *
eecert_exts_new(void)
{
	struct eecert_exts *ex;

	if ((ex = calloc(1, sizeof(*ex))) == NULL) {
		fatalx("out of memory");
	}
	return ex;
}

static void
exts_entry_clear(struct exts_entry *e)
{
	free(e->crl_url);
	free(e->ocsp_url);
	free(e->ca_issuers_url);
	sk_X509_EXTENSION_pop_free(e->exts, X509_EXTENSION_free);
	memset(e, 0, sizeof(*e));
}

void
eecert_exts_free(struct eecert_exts *ex)
{
	size_t i;

	if (ex == NULL) {
		return;
	}
	for (i = 0; i < ex->n; i++) {
		exts_entry_clear(&ex->v[i]);
	}
	free(ex);
}

static int
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL &&
	    strcmp(a, b) == 0);
}

/* The entry made for spec's profile, key usage, issuer and URLs, or NULL. */
static const struct exts_entry *
exts_find(const struct eecert_exts *ex, const struct eecert_spec *spec)
{
	const struct exts_entry *e;
	size_t i;

	for (i = 0; i < ex->n; i++) {
		e = &ex->v[i];
		if (e->ku == spec->ku && e->issuer == spec->issuer &&
		    strcmp(e->profile_sha, spec->profile->sha256) == 0 &&
		    str_eq(e->crl_url, spec->crl_url) &&
		    str_eq(e->ocsp_url, spec->ocsp_url) &&
		    str_eq(e->ca_issuers_url, spec->ca_issuers_url)) {
			return e;
		}
	}
	return NULL;
}

/* Keep x's extensions but its SKI for the certificates after it. */
static void
exts_keep(struct eecert_exts *ex, const struct eecert_spec *spec, X509 *x)
{
	struct exts_entry *e;
	X509_EXTENSION *d;
	int i, n = X509_get_ext_count(x);

	if (ex->n == EXTS_MAX) {
		exts_entry_clear(&ex->v[--ex->n]);
	}
	e = &ex->v[ex->n++];
	snprintf(e->profile_sha, sizeof(e->profile_sha), "%s",
	    spec->profile->sha256);
	e->ku = spec->ku;
	e->issuer = spec->issuer;
	e->crl_url = xstrdup(spec->crl_url);
	e->ocsp_url = xstrdup(spec->ocsp_url);
	e->ca_issuers_url = xstrdup(spec->ca_issuers_url);
	if ((e->exts = sk_X509_EXTENSION_new_null()) == NULL) {
		fatalx("out of memory");
	}
	e->ski_at = X509_get_ext_by_NID(x, NID_subject_key_identifier, -1);
	for (i = 0; i < n; i++) {
		if (i == e->ski_at) {
			continue;
		}
		if ((d = X509_EXTENSION_dup(X509_get_ext(x, i))) == NULL ||
		    !sk_X509_EXTENSION_push(e->exts, d)) {
			fatalx("out of memory");
		}
	}
}

/*
 * Append x's subjectKeyIdentifier: the SHA-1 of its subjectPublicKey's
 * bits (RFC 5280 4.2.1.2, method 1), as X509V3 "hash" makes it.  1/0.
 */
static int
add_ski(X509 *x, const char *what)
{
	const unsigned char *pk;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	ASN1_OCTET_STRING *os = NULL;
	int pklen, ret = 0;

	if (!X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL,
	    X509_get_X509_PUBKEY(x)) ||
	    !EVP_Digest(pk, (size_t)pklen, md, &mdlen, EVP_sha1(), NULL)) {
		log_ssl("%s: cannot hash the subject key", what);
		goto out;
	}
	if ((os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, md, (int)mdlen)) {
		fatalx("out of memory");
	}
	if (X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0,
	    X509V3_ADD_APPEND) != 1) {
		log_ssl("%s: cannot add extension subjectKeyIdentifier", what);
		goto out;
	}
	ret = 1;
out:
	ASN1_OCTET_STRING_free(os);
	return ret;
}

/* Add e's extensions to x, its own SKI in its place.  1/0 (logged). */
static int
exts_add(X509 *x, const struct exts_entry *e, const char *what)
{
	int i, n = sk_X509_EXTENSION_num(e->exts);

	for (i = 0; i <= n; i++) {
		if (i == e->ski_at && !add_ski(x, what)) {
			return 0;
		}
		if (i < n && !X509_add_ext(x,
		    sk_X509_EXTENSION_value(e->exts, i), -1)) {
			log_ssl("%s: cannot add extension", what);
			return 0;
		}
	}
	return 1;
}

/*
 * Make x's extensions from the profile, key usage, issuer and URLs with
 * OpenSSL's X509V3 configuration functions (and qcStatements).  1/0.
 */
static int
exts_make(X509 *x, const struct eecert_spec *spec, const char *what)
{
	const struct profile *p = spec->profile;
	X509_EXTENSION *qc = NULL;
	CONF *conf = NULL;
	X509V3_CTX ctx;
	char buf[1024];
	size_t i, off;
	int err, ret = 0;

	X509V3_set_ctx(&ctx, spec->issuer, x, NULL, NULL, 0);
	/* certificatePolicies needs a config database, even an empty one. */
	if ((conf = NCONF_new_ex(NULL, NULL)) == NULL) {
		fatalx("out of memory");
	}
	X509V3_set_nconf(&ctx, conf);
	if (!cacert_add_ext(x, &ctx, NID_basic_constraints,
	    "critical,CA:FALSE", what) ||
	    !cacert_add_ext(x, &ctx, NID_key_usage, spec->ku == KU_B ?
	    "critical,nonRepudiation,digitalSignature" :
	    "critical,nonRepudiation", what) ||
	    !cacert_add_ext(x, &ctx, NID_subject_key_identifier, "hash",
	    what) ||
	    !cacert_add_ext(x, &ctx, NID_authority_key_identifier,
	    "keyid:always", what)) {
		goto out;
	}
	for (i = 0, off = 0; i < p->npolicies; i++) {
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    i > 0 ? "," : "", p->policies[i]);
	}
	if (!cacert_add_ext(x, &ctx, NID_certificate_policies, buf, what)) {
		goto out;
	}
	snprintf(buf, sizeof(buf), "OCSP;URI:%s,caIssuers;URI:%s",
	    spec->ocsp_url, spec->ca_issuers_url);
	if (!cacert_add_ext(x, &ctx, NID_info_access, buf, what)) {
		goto out;
	}
	snprintf(buf, sizeof(buf), "URI:%s", spec->crl_url);
	if (!cacert_add_ext(x, &ctx, NID_crl_distribution_points, buf,
	    what)) {
		goto out;
	}
	if ((qc = eecert_qc_statements(p, &err)) == NULL && err) {
		goto out;
	}
	if (qc != NULL && !X509_add_ext(x, qc, -1)) {
		log_ssl("%s: cannot add qcStatements", what);
		goto out;
	}
	ret = 1;
out:
	NCONF_free(conf);
	X509_EXTENSION_free(qc);
	return ret;
}

X509 *
eecert_build(const struct eecert_spec *spec, const char *what)
{
	const struct exts_entry *e = NULL;
	X509 *x = NULL, *ret = NULL;
	BIGNUM *bn = NULL;
	time_t nb = spec->not_before, na = spec->not_after;

	if ((x = X509_new()) == NULL) {
		fatalx("out of memory");
	}
	/* Built in place: X509_set_subject_name() would copy it. */
	if (!name_fill_json(X509_get_subject_name(x), spec->subject, what)) {
		goto out;
	}
	if (!BN_hex2bn(&bn, spec->serial_hex) ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL) {
		log_ssl("%s: cannot set serial %s", what, spec->serial_hex);
		goto out;
	}
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(spec->issuer)) ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &nb) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &na) == NULL ||
	    !((spec->subject_spki != NULL && spki_copy_to(x,
	    spec->subject_spki, spec->subject_spki_len)) ||
	    X509_set_pubkey(x, spec->subject_pub))) {
		log_ssl("%s: cannot build certificate", what);
		goto out;
	}
	if (spec->exts != NULL && (e = exts_find(spec->exts, spec)) != NULL) {
		if (!exts_add(x, e, what)) {
			goto out;
		}
	} else {
		if (!exts_make(x, spec, what)) {
			goto out;
		}
		if (spec->exts != NULL) {
			exts_keep(spec->exts, spec, x);
		}
	}
	ret = x;
	x = NULL;
out:
	BN_free(bn);
	X509_free(x);
	return ret;
}
