/*
 * Witnesses of a restore: status exports and CRLs (DER or PEM) that were
 * published, so outside the store.  Each is verified against the CA
 * certificates of the backup and of the store being replaced (never
 * against certificates it carries itself) and turned into what the
 * restore must not let go back: certificate statuses, CRL numbers and
 * export sequences (common/restore.h).  Serials of CA certificates (an
 * ARL's entries) are left out: a CA's revocation lives in its row.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "export.h"
#include "log.h"
#include "restore.h"
#include "restore_witness.h"
#include "util.h"

#define MAX_TRUST 64

struct trust {
	X509	*cert[MAX_TRUST];
	char	*name[MAX_TRUST];
	size_t	 n;
};

static void
trust_free(struct trust *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		X509_free(t->cert[i]);
		free(t->name[i]);
	}
	t->n = 0;
}

/* Add the CA certificates of db (names not yet in t).  1/0 (logged). */
static int
trust_add(struct trust *t, struct db *db)
{
	sqlite3_stmt *st;
	const unsigned char *p;
	const char *name;
	X509 *x;
	size_t i;
	int rc;

	if ((st = db_prepare(db, "SELECT name, cert_der FROM cas WHERE"
	    " cert_der IS NOT NULL ORDER BY id")) == NULL) {
		return 0;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && t->n < MAX_TRUST) {
		name = (const char *)sqlite3_column_text(st, 0);
		for (i = 0; i < t->n && strcmp(t->name[i], name) != 0; i++) {
			;
		}
		p = sqlite3_column_blob(st, 1);
		if (i < t->n || (x = d2i_X509(NULL, &p,
		    sqlite3_column_bytes(st, 1))) == NULL) {
			ERR_clear_error();
			continue;
		}
		t->cert[t->n] = x;
		if ((t->name[t->n++] = strdup(name)) == NULL) {
			fatalx("out of memory");
		}
	}
	sqlite3_finalize(st);
	return 1;
}

/* 1 if serial is the serial of one of the CA certificates. */
static int
is_ca_serial(const struct trust *t, const ASN1_INTEGER *serial)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (ASN1_INTEGER_cmp(X509_get0_serialNumber(t->cert[i]),
		    serial) == 0) {
			return 1;
		}
	}
	return 0;
}

static time_t
asn1_time(const ASN1_TIME *a)
{
	struct tm tm;

	if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1) {
		return 0;
	}
	return timegm(&tm);
}

/* The lower-case hex form of a positive INTEGER (malloc'd), or NULL. */
static char *
int_hex(const ASN1_INTEGER *ai)
{
	unsigned char buf[64];
	BIGNUM *bn;
	int len;

	if ((bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL ||
	    BN_is_negative(bn) || (len = BN_num_bytes(bn)) > (int)sizeof(buf)) {
		BN_free(bn);
		return NULL;
	}
	BN_bn2bin(bn, buf);
	BN_free(bn);
	return restore_serial_hex(buf, (size_t)(len == 0 ? 1 : len));
}

/* The CRL's number (-1 if absent). */
static int64_t
crl_number(X509_CRL *crl)
{
	ASN1_INTEGER *n;
	int64_t v = -1;

	if ((n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL)) !=
	    NULL && ASN1_INTEGER_get_int64(&v, n) != 1) {
		v = -1;
	}
	ASN1_INTEGER_free(n);
	return v;
}

/* The entry's CRLReason (0 if absent) and invalidity date (0 if absent). */
static int
entry_reason(X509_REVOKED *r, time_t *inv)
{
	ASN1_ENUMERATED *e;
	ASN1_GENERALIZEDTIME *gt;
	long v = 0;

	if ((e = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL)) !=
	    NULL) {
		v = ASN1_ENUMERATED_get(e);
	}
	ASN1_ENUMERATED_free(e);
	gt = X509_REVOKED_get_ext_d2i(r, NID_invalidity_date, NULL, NULL);
	*inv = asn1_time(gt);
	ASN1_GENERALIZEDTIME_free(gt);
	return v >= 0 && v <= 10 ? (int)v : 0;
}

/* The CA of t that issued and signed crl, or -1 (refusal logged). */
static int
crl_issuer(const struct trust *t, X509_CRL *crl, const char *fn)
{
	EVP_PKEY *pk;
	char *iss;
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (X509_NAME_cmp(X509_get_subject_name(t->cert[i]),
		    X509_CRL_get_issuer(crl)) != 0 ||
		    (pk = X509_get0_pubkey(t->cert[i])) == NULL) {
			continue;
		}
		if (X509_CRL_verify(crl, pk) == 1) {
			return (int)i;
		}
	}
	ERR_clear_error();
	iss = x509_name_str(X509_CRL_get_issuer(crl));
	log_warnx("%s: ES-RESTORE-02: the CRL's signature does not verify "
	    "with a CA certificate of the backup or the store (issuer %s)", fn,
	    iss);
	free(iss);
	return -1;
}

/* The statuses and number of a verified CRL.  1/0 (logged). */
static int
add_crl(const struct trust *t, X509_CRL *crl, const char *fn,
    struct restore_seen *seen)
{
	STACK_OF(X509_REVOKED) *revs;
	X509_REVOKED *r;
	char *hex;
	time_t inv;
	int64_t num;
	int ca, i, reason;

	if ((ca = crl_issuer(t, crl, fn)) < 0) {
		return 0;
	}
	if ((num = crl_number(crl)) >= 0) {
		restore_seen_add_number(seen, 1, t->name[ca], num, fn);
	}
	revs = X509_CRL_get_REVOKED(crl);
	for (i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		r = sk_X509_REVOKED_value(revs, i);
		reason = entry_reason(r, &inv);
		if (reason == 8 || is_ca_serial(t,
		    X509_REVOKED_get0_serialNumber(r))) {
			continue;	/* removeFromCRL; a CA on an ARL */
		}
		if ((hex = int_hex(X509_REVOKED_get0_serialNumber(r))) ==
		    NULL) {
			log_warnx("%s: ES-RESTORE-02: CRL entry %d: bad serial",
			    fn, i);
			return 0;
		}
		restore_seen_add_status(seen, t->name[ca], hex, 1,
		    asn1_time(X509_REVOKED_get0_revocationDate(r)), reason, inv,
		    fn);
		free(hex);
	}
	return 1;
}

/* The name of the CA whose certificate is x, or NULL. */
static const char *
ca_of(const struct trust *t, X509 *x)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (X509_cmp(t->cert[i], x) == 0) {
			return t->name[i];
		}
	}
	return NULL;
}

/* The statuses, sequence and CRL numbers of a verified export.  1/0. */
static int
add_export(const struct trust *t, const struct export *e, const char *fn,
    struct restore_seen *seen)
{
	const struct export_issuer *is;
	struct export_entry ent, *en = &ent;
	const unsigned char *p;
	const char *ca;
	X509_CRL *crl;
	char *hex;
	size_t i, j;

	restore_seen_add_number(seen, 0, NULL, e->sequence, fn);
	for (i = 0; i < e->nissuers; i++) {
		is = &e->issuers[i];
		if ((ca = ca_of(t, is->ca)) == NULL) {
			continue;	/* the decoder checked it is in t */
		}
		for (j = 0; j < is->nentries; j++) {
			export_entry_get(is, j, &ent);
			hex = restore_serial_hex(en->serial, en->serial_len);
			restore_seen_add_status(seen, ca, hex,
			    en->status == EXPORT_REVOKED, en->revocation_time,
			    en->reason, en->invalidity_date, fn);
			free(hex);
		}
		for (j = 0; j < is->ncrls; j++) {
			p = is->crls[j].der;
			if ((crl = d2i_X509_CRL(NULL, &p,
			    (long)is->crls[j].der_len)) != NULL &&
			    crl_number(crl) >= 0) {
				restore_seen_add_number(seen, 1, ca,
				    crl_number(crl), fn);
			}
			X509_CRL_free(crl);
		}
	}
	return 1;
}

/* A CRL in PEM or DER (no trailing bytes), or NULL. */
static X509_CRL *
parse_crl(const unsigned char *buf, size_t len)
{
	const unsigned char *p = buf;
	X509_CRL *crl = NULL;
	BIO *b;

	if (len > 10 && memcmp(buf, "-----BEGIN", 10) == 0) {
		if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL) {
			fatalx("out of memory");
		}
		crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		BIO_free(b);
	} else if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) != NULL &&
	    p != buf + len) {
		X509_CRL_free(crl);
		crl = NULL;
	}
	ERR_clear_error();
	return crl;
}

/* 1 if buf is one DER CMS ContentInfo (an export to decode). */
static int
is_cms(const unsigned char *buf, size_t len)
{
	const unsigned char *p = buf;
	CMS_ContentInfo *cms;
	int ok;

	cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	ok = cms != NULL && p == buf + len;
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return ok;
}

/* One witness file into seen.  1/0 (logged). */
static int
load_one(const struct trust *t, const char *fn, struct restore_seen *seen)
{
	struct export *e = NULL;
	X509_CRL *crl = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	int ok = 0;

	if (!file_read(fn, EXPORT_FILE_MAX, &buf, &len)) {
		goto out;
	}
	if ((crl = parse_crl(buf, len)) != NULL) {
		ok = add_crl(t, crl, fn, seen);
	} else if (!is_cms(buf, len)) {
		log_warnx("%s: ES-RESTORE-02: not a status export or a CRL "
		    "(DER or PEM)", fn);
	} else if ((e = export_decode(buf, len, t->cert, t->n, fn)) != NULL) {
		ok = add_export(t, e, fn, seen);
	}
out:
	export_free(e);
	X509_CRL_free(crl);
	free(buf);
	return ok;
}

int
restore_witness_load(char *const *files, size_t nfiles, struct db *backup,
    struct db *store, struct restore_seen *seen)
{
	struct trust t;
	size_t i;
	int ok = 0;

	memset(&t, 0, sizeof(t));
	if (nfiles == 0) {
		return 1;
	}
	if (!trust_add(&t, backup) || (store != NULL && !trust_add(&t,
	    store))) {
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		if (!load_one(&t, files[i], seen)) {
			goto out;
		}
	}
	ok = 1;
out:
	trust_free(&t);
	return ok;
}
