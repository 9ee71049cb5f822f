/*
 * Encoder of the signed status export (see export.h for the ASN.1; the
 * decoder is export_read.c).  The content is described with OpenSSL's
 * ASN.1 template macros; the envelope is CMS SignedData with one
 * SignerInfo per issuing CA.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "export.h"
#include "log.h"
#include "util.h"

typedef struct {
	ASN1_INTEGER		*serial;
	ASN1_ENUMERATED		*status;
	ASN1_GENERALIZEDTIME	*revocation_time;
	ASN1_ENUMERATED		*reason;
	ASN1_GENERALIZEDTIME	*invalidity_date;
} ES_ENTRY;

typedef struct {
	ASN1_UTF8STRING	*name;
	X509_CRL	*crl;
} ES_NAMEDCRL;

DEFINE_STACK_OF(ES_ENTRY)
DEFINE_STACK_OF(ES_NAMEDCRL)

typedef struct {
	X509			*ca;
	ASN1_GENERALIZEDTIME	*this_update;
	ASN1_GENERALIZEDTIME	*next_update;
	STACK_OF(ES_ENTRY)	*entries;
	STACK_OF(ES_NAMEDCRL)	*crls;
} ES_ISSUER;

DEFINE_STACK_OF(ES_ISSUER)

typedef struct {
	ASN1_INTEGER		*sequence;
	ASN1_OCTET_STRING	*hash;
} ES_AUDITHEAD;

typedef struct {
	ASN1_INTEGER		*version;
	ASN1_GENERALIZEDTIME	*produced;
	ASN1_INTEGER		*sequence;
	STACK_OF(ES_ISSUER)	*issuers;
	ES_AUDITHEAD		*audit_head;	/* v2 only */
} ES_EXPORT;

/* The templates' item functions are extern: declared before they are made. */
DECLARE_ASN1_ITEM(ES_ENTRY)
DECLARE_ASN1_ITEM(ES_NAMEDCRL)
DECLARE_ASN1_ITEM(ES_ISSUER)
DECLARE_ASN1_ITEM(ES_AUDITHEAD)
DECLARE_ASN1_ITEM(ES_EXPORT)

ASN1_SEQUENCE(ES_ENTRY) = {
	ASN1_SIMPLE(ES_ENTRY, serial, ASN1_INTEGER),
	ASN1_SIMPLE(ES_ENTRY, status, ASN1_ENUMERATED),
	ASN1_EXP_OPT(ES_ENTRY, revocation_time, ASN1_GENERALIZEDTIME, 0),
	ASN1_EXP_OPT(ES_ENTRY, reason, ASN1_ENUMERATED, 1),
	ASN1_EXP_OPT(ES_ENTRY, invalidity_date, ASN1_GENERALIZEDTIME, 2)
} ASN1_SEQUENCE_END(ES_ENTRY)

ASN1_SEQUENCE(ES_NAMEDCRL) = {
	ASN1_SIMPLE(ES_NAMEDCRL, name, ASN1_UTF8STRING),
	ASN1_SIMPLE(ES_NAMEDCRL, crl, X509_CRL)
} ASN1_SEQUENCE_END(ES_NAMEDCRL)

ASN1_SEQUENCE(ES_ISSUER) = {
	ASN1_SIMPLE(ES_ISSUER, ca, X509),
	ASN1_SIMPLE(ES_ISSUER, this_update, ASN1_GENERALIZEDTIME),
	ASN1_SIMPLE(ES_ISSUER, next_update, ASN1_GENERALIZEDTIME),
	ASN1_SEQUENCE_OF(ES_ISSUER, entries, ES_ENTRY),
	ASN1_SEQUENCE_OF(ES_ISSUER, crls, ES_NAMEDCRL)
} ASN1_SEQUENCE_END(ES_ISSUER)

ASN1_SEQUENCE(ES_AUDITHEAD) = {
	ASN1_SIMPLE(ES_AUDITHEAD, sequence, ASN1_INTEGER),
	ASN1_SIMPLE(ES_AUDITHEAD, hash, ASN1_OCTET_STRING)
} ASN1_SEQUENCE_END(ES_AUDITHEAD)

ASN1_SEQUENCE(ES_EXPORT) = {
	ASN1_SIMPLE(ES_EXPORT, version, ASN1_INTEGER),
	ASN1_SIMPLE(ES_EXPORT, produced, ASN1_GENERALIZEDTIME),
	ASN1_SIMPLE(ES_EXPORT, sequence, ASN1_INTEGER),
	ASN1_SEQUENCE_OF(ES_EXPORT, issuers, ES_ISSUER),
	ASN1_EXP_OPT(ES_EXPORT, audit_head, ES_AUDITHEAD, 0)
} ASN1_SEQUENCE_END(ES_EXPORT)

DECLARE_ASN1_FUNCTIONS(ES_AUDITHEAD)
IMPLEMENT_ASN1_FUNCTIONS(ES_AUDITHEAD)
DECLARE_ASN1_FUNCTIONS(ES_ENTRY)
DECLARE_ASN1_FUNCTIONS(ES_NAMEDCRL)
DECLARE_ASN1_FUNCTIONS(ES_ISSUER)
DECLARE_ASN1_FUNCTIONS(ES_EXPORT)
IMPLEMENT_ASN1_FUNCTIONS(ES_ENTRY)
IMPLEMENT_ASN1_FUNCTIONS(ES_NAMEDCRL)
IMPLEMENT_ASN1_FUNCTIONS(ES_ISSUER)
IMPLEMENT_ASN1_FUNCTIONS(ES_EXPORT)

/* Most issuers the encoder writes in one export. */
#define EXPORT_MAX_ISSUERS_ENC 64

/*
 * Room kept before the first issuer's entries, for what precedes them
 * in the export (the CMS prefix, the content's header, the issuer's CA
 * certificate): the export is then written around them, not copied.
 */
#define ENT_ROOM	((size_t)64 << 10)

/*
 * A growing DER buffer (the encoded entries of one issuer), the last
 * serial put (magnitude) and whether the serials so far ascend in the
 * responder's order (export_read.c's serial_cmp: shorter magnitude
 * first, then the bytes, i.e. numeric order).
 */
struct dbuf {
	unsigned char	*p;	/* OPENSSL_malloc'd; the entries after room */
	size_t		 room, len, cap;
	unsigned char	 last[EXPORT_SERIAL_MAX + 1];
	size_t		 last_len;
	int		 unsorted;
	uint32_t	*order;	/* if unsorted: offsets in serial order */
	size_t		 nentries;
};

/*
 * The builder keeps the issuers' CA, times and CRLs in the templates, but
 * encodes each entry straight into its issuer's dbuf (the same DER the
 * ES_ENTRY template gives): ten million template objects would cost
 * five allocations each and a second pass to encode.
 */
struct export_builder {
	ES_EXPORT		*ex;
	ES_ISSUER		*cur;	/* last issuer of ex->issuers */
	struct dbuf		*ent;	/* entries of issuer i, DER */
	size_t			 nent;	/* issuers in ent */
	ASN1_GENERALIZEDTIME	*gt;	/* scratch for entry times */
	int			 keep_order;	/* tests: entries as added */
	int			 consumed;	/* signed: entries given away */
};

static const char *const reason_names[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
	"superseded", "cessationOfOperation", "certificateHold", NULL,
	"removeFromCRL", "privilegeWithdrawn", "aACompromise"
};

int
export_reason_from_name(const char *name)
{
	size_t i;
	char *end;
	long v;

	for (i = 0; i < sizeof(reason_names) / sizeof(reason_names[0]); i++) {
		if (reason_names[i] != NULL &&
		    strcasecmp(name, reason_names[i]) == 0) {
			return (int)i;
		}
	}
	v = strtol(name, &end, 10);
	if (*name != '\0' && *end == '\0' && v >= 0 && v <= 10 && v != 7) {
		return (int)v;
	}
	return -1;
}

const char *
export_reason_name(int reason)
{
	if (reason < 0 || reason > 10 || reason == 7) {
		return "none";
	}
	return reason_names[reason];
}

struct export_builder *
export_builder_new(int64_t sequence, time_t produced)
{
	struct export_builder *b;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		fatalx("out of memory");
	}
	if ((b->ex = ES_EXPORT_new()) == NULL ||
	    !ASN1_INTEGER_set_int64(b->ex->version, EXPORT_VERSION) ||
	    !ASN1_INTEGER_set_int64(b->ex->sequence, sequence) ||
	    ASN1_GENERALIZEDTIME_set(b->ex->produced, produced) == NULL) {
		log_ssl("export: cannot start export");
		export_builder_free(b);
		return NULL;
	}
	if (sequence < 0) {
		log_warnx("export: ES-OCSPD-02: negative sequence number");
		export_builder_free(b);
		return NULL;
	}
	return b;
}

int
export_builder_set_audit_head(struct export_builder *b, int64_t seq,
    const char *hash_hex)
{
	unsigned char *md = NULL;
	size_t len = 0;
	int ret = 0;

	if (seq < 0 || strlen(hash_hex) != 64 ||
	    (md = hex_decode(hash_hex, &len)) == NULL || len != 32) {
		log_warnx("export: ES-OCSPD-02: bad audit head");
		goto out;
	}
	ES_AUDITHEAD_free(b->ex->audit_head);
	if ((b->ex->audit_head = ES_AUDITHEAD_new()) == NULL ||
	    !ASN1_INTEGER_set_int64(b->ex->audit_head->sequence, seq) ||
	    !ASN1_OCTET_STRING_set(b->ex->audit_head->hash, md, 32) ||
	    !ASN1_INTEGER_set_int64(b->ex->version, EXPORT_VERSION_AUDIT)) {
		log_ssl("export: cannot set the audit head");
		goto out;
	}
	ret = 1;
 out:
	free(md);
	return ret;
}

void
export_builder_keep_order(struct export_builder *b)
{
	b->keep_order = 1;
}

void
export_builder_free(struct export_builder *b)
{
	if (b == NULL) {
		return;
	}
	for (size_t i = 0; i < b->nent; i++) {
		OPENSSL_free(b->ent[i].p);
		free(b->ent[i].order);
	}
	free(b->ent);
	ASN1_GENERALIZEDTIME_free(b->gt);
	ES_EXPORT_free(b->ex);
	free(b);
}

int
export_builder_add_issuer(struct export_builder *b, X509 *ca,
    time_t this_update, time_t next_update)
{
	ES_ISSUER *is = NULL;
	int ret = 0;

	if (this_update >= next_update) {
		log_warnx("export: thisUpdate is not before nextUpdate");
		goto out;
	}
	if ((is = ES_ISSUER_new()) == NULL) {
		goto ssl;
	}
	X509_free(is->ca);
	if (!X509_up_ref(ca)) {
		is->ca = NULL;
		goto ssl;
	}
	is->ca = ca;
	if (ASN1_GENERALIZEDTIME_set(is->this_update, this_update) == NULL ||
	    ASN1_GENERALIZEDTIME_set(is->next_update, next_update) == NULL) {
		goto ssl;
	}
	if (!sk_ES_ISSUER_push(b->ex->issuers, is)) {
		goto ssl;
	}
	if ((b->ent = reallocarray(b->ent, b->nent + 1,
	    sizeof(*b->ent))) == NULL) {
		fatalx("out of memory");
	}
	memset(&b->ent[b->nent], 0, sizeof(*b->ent));
	/* The first issuer's entries become the export: room before them. */
	if (b->nent++ == 0) {
		b->ent[0].room = ENT_ROOM;
	}
	b->cur = is;
	is = NULL;
	ret = 1;
	goto out;
 ssl:
	log_ssl("export: cannot add issuer");
 out:
	ES_ISSUER_free(is);
	return ret;
}

/* Grow d to hold at least need bytes in all.  Out of memory is fatal. */
static void
dbuf_grow(struct dbuf *d, size_t need)
{
	size_t cap = d->cap ? d->cap : 4096;

	if (need <= d->cap) {
		return;
	}
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			fatalx("out of memory");
		}
		cap *= 2;
	}
	if ((d->p = OPENSSL_realloc(d->p, cap)) == NULL) {
		fatalx("out of memory");
	}
	d->cap = cap;
}

/* Append len bytes to d's entries.  Out of memory is fatal. */
static void
dbuf_put(struct dbuf *d, const void *p, size_t len)
{
	if (d->cap < d->room || d->cap - d->room - d->len < len) {
		dbuf_grow(d, d->room + d->len + len);
	}
	memcpy(d->p + d->room + d->len, p, len);
	d->len += len;
}

/* Bytes of a DER header (tag and length) for content of len bytes. */
static size_t
der_hdr_len(size_t len)
{
	size_t n = 2;

	if (len < 128) {
		return n;
	}
	for (; len > 0; len >>= 8) {
		n++;
	}
	return n;
}

/* Write the DER header of tag and len at p; the bytes written. */
static size_t
der_hdr(unsigned char *p, unsigned char tag, size_t len)
{
	size_t n = der_hdr_len(len), i;

	p[0] = tag;
	if (len < 128) {
		p[1] = (unsigned char)len;
		return 2;
	}
	p[1] = (unsigned char)(0x80 | (n - 2));
	for (i = n - 1; i >= 2; i--, len >>= 8) {
		p[i] = (unsigned char)len;
	}
	return n;
}

/*
 * The DER of GeneralizedTime t into out (17 bytes: "YYYYMMDDHHMMSSZ",
 * what ASN1_GENERALIZEDTIME_set and i2d give for years 0..9999, without
 * their object per call: a million revoked entries).  1/0 (logged).
 */
static int
gt_der(struct export_builder *b, time_t t, unsigned char out[17])
{
	struct tm tm;
	int y, v[7], i;

	(void)b;
	if (gmtime_r(&t, &tm) == NULL || (y = tm.tm_year + 1900) < 0 ||
	    y > 9999) {
		log_warnx("export: cannot encode time %lld", (long long)t);
		return 0;
	}
	v[0] = y / 100;
	v[1] = y % 100;
	v[2] = tm.tm_mon + 1;
	v[3] = tm.tm_mday;
	v[4] = tm.tm_hour;
	v[5] = tm.tm_min;
	v[6] = tm.tm_sec;
	out[0] = V_ASN1_GENERALIZEDTIME;
	out[1] = 15;
	for (i = 0; i < 7; i++) {
		out[2 + 2 * i] = (unsigned char)('0' + v[i] / 10);
		out[3 + 2 * i] = (unsigned char)('0' + v[i] % 10);
	}
	out[16] = 'Z';
	return 1;
}

/*
 * Note in d whether the serial whose INTEGER TLV is tlv (tlv_len bytes,
 * a positive minimal INTEGER) comes after the last one in serial order;
 * an equal serial also counts as out of order (the sort refuses it).
 */
static void
entry_order(struct dbuf *d, const unsigned char *tlv, size_t tlv_len)
{
	const unsigned char *m = tlv + 2;
	size_t ml = tlv_len - 2;

	if (ml > 1 && m[0] == 0) {
		m++;
		ml--;
	}
	if (ml > sizeof(d->last)) {
		d->unsorted = 1;	/* refused by the check later */
		return;
	}
	if (d->len > 0 && (ml < d->last_len || (ml == d->last_len &&
	    memcmp(m, d->last, ml) <= 0))) {
		d->unsorted = 1;
	}
	memcpy(d->last, m, ml);
	d->last_len = ml;
}

/*
 * Check one entry and append its ES_ENTRY DER (serial: the INTEGER's
 * TLV) to the current issuer's entries.  1/0 (logged).
 */
static int
entry_put(struct export_builder *b, const unsigned char *serial,
    size_t serial_len, enum export_status status, time_t revocation_time,
    int reason, time_t invalidity_date)
{
	unsigned char e[128], rt[17], inv[17];
	size_t body, n;

	if (b->cur == NULL) {
		log_warnx("export: entry added before any issuer");
		return 0;
	}
	if (status == EXPORT_GOOD &&
	    (revocation_time != 0 || reason != -1)) {
		log_warnx("export: ES-OCSPD-02: good entry with revocation "
		    "data");
		return 0;
	}
	if (status == EXPORT_REVOKED && revocation_time == 0) {
		log_warnx("export: ES-OCSPD-02: revoked entry without "
		    "revocationTime");
		return 0;
	}
	if (status != EXPORT_GOOD && status != EXPORT_REVOKED) {
		log_warnx("export: ES-OCSPD-02: bad status %d", (int)status);
		return 0;
	}
	if (reason != -1 && (reason < 0 || reason > 10 || reason == 7)) {
		log_warnx("export: ES-OCSPD-02: bad CRLReason %d", reason);
		return 0;
	}
	if ((revocation_time != 0 && !gt_der(b, revocation_time, rt)) ||
	    (invalidity_date != 0 && !gt_der(b, invalidity_date, inv))) {
		return 0;
	}
	body = serial_len + 3 + (revocation_time != 0 ? 19 : 0) +
	    (reason != -1 ? 5 : 0) + (invalidity_date != 0 ? 19 : 0);
	n = der_hdr(e, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, body);
	memcpy(e + n, serial, serial_len);
	n += serial_len;
	e[n++] = V_ASN1_ENUMERATED;
	e[n++] = 1;
	e[n++] = (unsigned char)status;
	if (revocation_time != 0) {
		e[n++] = 0xa0;
		e[n++] = 17;
		memcpy(e + n, rt, 17);
		n += 17;
	}
	if (reason != -1) {
		e[n++] = 0xa1;
		e[n++] = 3;
		e[n++] = V_ASN1_ENUMERATED;
		e[n++] = 1;
		e[n++] = (unsigned char)reason;
	}
	if (invalidity_date != 0) {
		e[n++] = 0xa2;
		e[n++] = 17;
		memcpy(e + n, inv, 17);
		n += 17;
	}
	entry_order(&b->ent[b->nent - 1], serial, serial_len);
	dbuf_put(&b->ent[b->nent - 1], e, n);
	return 1;
}

int
export_builder_add_entry(struct export_builder *b,
    const unsigned char *serial, size_t serial_len, enum export_status status,
    time_t revocation_time, int reason, time_t invalidity_date)
{
	unsigned char tlv[EXPORT_SERIAL_MAX + 3];
	size_t n = 0;

	if (serial_len == 0 || serial_len > EXPORT_SERIAL_MAX ||
	    serial[0] == 0) {
		log_warnx("export: ES-OCSPD-02: serial must be 1..%d octets "
		    "without leading zero", EXPORT_SERIAL_MAX);
		return 0;
	}
	/* The positive INTEGER's DER: a zero octet before a high bit. */
	tlv[n++] = V_ASN1_INTEGER;
	tlv[n++] = (unsigned char)(serial_len + (serial[0] & 0x80 ? 1 : 0));
	if (serial[0] & 0x80) {
		tlv[n++] = 0;
	}
	memcpy(tlv + n, serial, serial_len);
	return entry_put(b, tlv, n + serial_len, status, revocation_time,
	    reason, invalidity_date);
}

int
export_builder_add_entry_int(struct export_builder *b,
    const ASN1_INTEGER *serial, enum export_status status,
    time_t revocation_time, int reason, time_t invalidity_date)
{
	unsigned char tlv[EXPORT_SERIAL_MAX + 8], *p;
	int n;

	if (ASN1_STRING_type(serial) != V_ASN1_INTEGER ||
	    ASN1_STRING_length(serial) < 1 ||
	    ASN1_STRING_length(serial) > EXPORT_SERIAL_MAX) {
		log_warnx("export: ES-OCSPD-02: serial must be a positive "
		    "INTEGER of at most %d octets", EXPORT_SERIAL_MAX);
		return 0;
	}
	if ((n = i2d_ASN1_INTEGER(serial, NULL)) <= 0 ||
	    n > (int)sizeof(tlv) || (p = tlv, i2d_ASN1_INTEGER(serial, &p)) != n) {
		log_ssl("export: cannot add entry");
		return 0;
	}
	return entry_put(b, tlv, (size_t)n, status, revocation_time, reason,
	    invalidity_date);
}

int
export_crl_name_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > 64 || name[0] == '.') {
		return 0;
	}
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-')) {
			return 0;
		}
	}
	return 1;
}

int
export_builder_add_crl(struct export_builder *b, const char *name,
    const unsigned char *der, size_t der_len)
{
	ES_NAMEDCRL *nc = NULL;
	const unsigned char *p = der;
	int ret = 0;

	if (b->cur == NULL) {
		log_warnx("export: CRL added before any issuer");
		return 0;
	}
	if (!export_crl_name_ok(name, strlen(name))) {
		log_warnx("export: %s: ES-OCSPD-02: bad CRL name", name);
		return 0;
	}
	if ((nc = ES_NAMEDCRL_new()) == NULL ||
	    !ASN1_STRING_set(nc->name, name, (int)strlen(name))) {
		log_ssl("export: cannot add CRL");
		goto out;
	}
	X509_CRL_free(nc->crl);
	if ((nc->crl = d2i_X509_CRL(NULL, &p, (long)der_len)) == NULL) {
		log_ssl("export: CRL %s: not a CRL", name);
		goto out;
	}
	if (p != der + der_len) {
		log_warnx("export: CRL %s: %td bytes trailing garbage", name,
		    (der + der_len) - p);
		goto out;
	}
	if (X509_NAME_cmp(X509_CRL_get_issuer(nc->crl),
	    X509_get_subject_name(b->cur->ca)) != 0) {
		log_warnx("export: CRL %s: ES-OCSPD-02: not issued by the "
		    "issuer's CA", name);
		goto out;
	}
	if (!sk_ES_NAMEDCRL_push(b->cur->crls, nc)) {
		log_ssl("export: cannot add CRL");
		goto out;
	}
	nc = NULL;
	ret = 1;
 out:
	ES_NAMEDCRL_free(nc);
	return ret;
}

/* Add one SignerInfo for sg to cms.  1/0 (logged). */
static int
add_signer(CMS_ContentInfo *cms, const struct export_signer *sg,
    unsigned int flags, OSSL_LIB_CTX *libctx, const char *propq)
{
	CMS_SignerInfo *si;
	EVP_MD *md = NULL;
	EVP_PKEY_CTX *pctx;
	enum sig_alg alg = sg->alg;
	const char *mdname;
	int ret = 0;

	if (alg == SIG_NONE) {
		alg = sig_alg_default(key_alg_of_pkey(sg->key));
	}
	if (alg == SIG_NONE ||
	    !sig_alg_fits_key(alg, key_alg_of_pkey(sg->key))) {
		log_warnx("export: signature algorithm does not fit the key");
		return 0;
	}
	mdname = sig_alg_digest(alg);
	if (mdname != NULL &&
	    (md = EVP_MD_fetch(libctx, mdname, propq)) == NULL) {
		log_ssl("export: digest %s", mdname);
		goto out;
	}
	if ((si = CMS_add1_signer(cms, sg->cert, sg->key, md,
	    flags | CMS_KEY_PARAM)) == NULL) {
		log_ssl("export: cannot add signer");
		goto out;
	}
	if (sig_alg_is_pss(alg)) {
		pctx = CMS_SignerInfo_get0_pkey_ctx(si);
		if (pctx == NULL ||
		    EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) <= 0) {
			log_ssl("export: PSS parameters");
			goto out;
		}
	}
	ret = 1;
 out:
	EVP_MD_free(md);
	return ret;
}

/*
 * A DER header at *p (before end): a one-byte tag, then the length.
 * *p advances past the header; the content length goes to *len.  1 if
 * it is tag and its content fits before end, else 0.
 */
static int
der_read_hdr(const unsigned char **p, const unsigned char *end,
    unsigned char tag, size_t *len)
{
	const unsigned char *q = *p;
	size_t n, i;

	if (end - q < 2 || q[0] != tag) {
		return 0;
	}
	q++;
	if (*q < 0x80) {
		*len = *q++;
	} else {
		n = *q++ & 0x7f;
		if (n == 0 || n > sizeof(size_t) || (size_t)(end - q) < n) {
			return 0;
		}
		for (*len = 0, i = 0; i < n; i++) {
			*len = *len << 8 | *q++;
		}
	}
	if ((size_t)(end - q) < *len) {
		return 0;
	}
	*p = q;
	return 1;
}

/*
 * Where content of len bytes goes into det, the DER of a detached CMS
 * SignedData: the result is the DER the same CMS gives with the content
 * attached, i.e.
 *   ContentInfo { type, [0] SignedData { version, digestAlgorithms,
 *       encapContentInfo { eContentType, [0] OCTET STRING content },
 *       certificates, signerInfos } }
 * with the four enclosing lengths grown: the prefix (up to the content),
 * the content, the suffix (rest .. end of det).
 */
struct splice {
	const unsigned char	*ct, *a0, *sd, *encap, *eoid, *rest, *end;
	size_t			 len, l_enc, n_enc, n_sd, n_a0, n_ci;
	size_t			 prefix, suffix, total;
};

/* Parse det and size the result for len bytes of content.  1/0 (logged). */
static int
splice_plan(const unsigned char *det, size_t det_len, size_t len,
    struct splice *sp)
{
	const unsigned char *p = det, *end = det + det_len;
	size_t l, l_oid, ec;

	/* ContentInfo { contentType, [0] SignedData { version, algs, */
	if (!der_read_hdr(&p, end, 0x30, &l) || p + l != end) {
		goto bad;
	}
	sp->ct = p;
	if (!der_read_hdr(&p, end, 0x06, &l)) {
		goto bad;
	}
	sp->a0 = p += l;
	if (!der_read_hdr(&p, end, 0xa0, &l) || p + l != end ||
	    !der_read_hdr(&p, end, 0x30, &l) || p + l != end) {
		goto bad;
	}
	sp->sd = p;
	if (!der_read_hdr(&p, end, 0x02, &l) || (p += l, 0) ||
	    !der_read_hdr(&p, end, 0x31, &l) || (p += l, 0)) {
		goto bad;
	}
	/* encapContentInfo { eContentType } (detached), then the rest. */
	sp->encap = p;
	if (!der_read_hdr(&p, end, 0x30, &sp->l_enc)) {
		goto bad;
	}
	sp->eoid = p;
	if (!der_read_hdr(&p, end, 0x06, &l_oid) ||
	    (size_t)(p - sp->eoid) + l_oid != sp->l_enc) {
		goto bad;
	}
	sp->rest = p + l_oid;
	sp->end = end;
	sp->len = len;
	ec = der_hdr_len(len) + len;			/* OCTET STRING */
	ec += der_hdr_len(ec);				/* [0] EXPLICIT */
	sp->n_enc = sp->l_enc + ec;
	sp->suffix = (size_t)(end - sp->rest);
	sp->n_sd = (size_t)(sp->encap - sp->sd) + der_hdr_len(sp->n_enc) +
	    sp->n_enc + sp->suffix;
	sp->n_a0 = der_hdr_len(sp->n_sd) + sp->n_sd;
	sp->n_ci = (size_t)(sp->a0 - sp->ct) + der_hdr_len(sp->n_a0) +
	    sp->n_a0;
	sp->total = der_hdr_len(sp->n_ci) + sp->n_ci;
	sp->prefix = sp->total - len - sp->suffix;
	return 1;
 bad:
	log_warnx("export: ES-OCSPD-02: unexpected detached CMS encoding");
	return 0;
}

/* Write sp's prefix (sp->prefix bytes) at q. */
static void
splice_prefix(const struct splice *sp, unsigned char *q)
{
	unsigned char *start = q;

	q += der_hdr(q, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, sp->n_ci);
	memcpy(q, sp->ct, (size_t)(sp->a0 - sp->ct));
	q += sp->a0 - sp->ct;
	q += der_hdr(q, 0xa0, sp->n_a0);
	q += der_hdr(q, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, sp->n_sd);
	memcpy(q, sp->sd, (size_t)(sp->encap - sp->sd));
	q += sp->encap - sp->sd;
	q += der_hdr(q, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, sp->n_enc);
	memcpy(q, sp->eoid, sp->l_enc);
	q += sp->l_enc;
	q += der_hdr(q, 0xa0, der_hdr_len(sp->len) + sp->len);
	q += der_hdr(q, V_ASN1_OCTET_STRING, sp->len);
	if ((size_t)(q - start) != sp->prefix) {
		fatalx("export: CMS splice length mismatch");
	}
}

/* Splice content into det in a new buffer (*out, OPENSSL_malloc'd).  1/0. */
static int
cms_splice(const unsigned char *det, size_t det_len,
    const unsigned char *content, size_t len, unsigned char **out,
    size_t *out_len)
{
	struct splice sp;
	unsigned char *o;

	if (!splice_plan(det, det_len, len, &sp)) {
		return 0;
	}
	if ((o = OPENSSL_malloc(sp.total)) == NULL) {
		fatalx("out of memory");
	}
	splice_prefix(&sp, o);
	memcpy(o + sp.prefix, content, len);
	memcpy(o + sp.prefix + len, sp.rest, sp.suffix);
	*out = o;
	*out_len = sp.total;
	return 1;
}

/*
 * The same in place: *buf (OPENSSL_malloc'd, cap bytes) holds the
 * content at offset room.  The prefix goes in front of it and the suffix
 * after it (the buffer grown if need be): the export is then at *buf +
 * *off, *out_len bytes (no copy of the content; if the prefix does not
 * fit before it, a new buffer, *off 0).  1/0 (logged; *buf is still the
 * caller's to free).
 */
static int
cms_splice_inplace(const unsigned char *det, size_t det_len,
    unsigned char **buf, size_t cap, size_t room, size_t len, size_t *off,
    size_t *out_len)
{
	struct splice sp;
	unsigned char *o;

	if (!splice_plan(det, det_len, len, &sp)) {
		return 0;
	}
	if (sp.prefix > room) {
		if (!cms_splice(det, det_len, *buf + room, len, &o, out_len)) {
			return 0;
		}
		OPENSSL_free(*buf);
		*buf = o;
		*off = 0;
		return 1;
	}
	if (cap - room - len < sp.suffix) {
		if ((*buf = OPENSSL_realloc(*buf, room + len + sp.suffix)) ==
		    NULL) {
			fatalx("out of memory");
		}
	}
	o = *buf;
	splice_prefix(&sp, o + room - sp.prefix);
	memcpy(o + room + len, sp.rest, sp.suffix);
	*off = room - sp.prefix;
	*out_len = sp.total;
	return 1;
}

/*
 * Sign content (len bytes, eContentType oid_txt) detached, one SignerInfo
 * per signer (the content hashed where it lies, not copied): that CMS's
 * DER into *det (OPENSSL_malloc'd).  1/0 (logged).
 */
static int
cms_sign_detached(const unsigned char *content, size_t len,
    const char *oid_txt, const struct export_signer *signers,
    size_t nsigners, OSSL_LIB_CTX *libctx, const char *propq,
    unsigned char **det, size_t *det_len)
{
	CMS_ContentInfo *cms = NULL;
	ASN1_OBJECT *oid = NULL;
	BIO *bio = NULL;
	size_t i;
	int clen, ret = 0;
	unsigned int flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP |
	    CMS_DETACHED;

	*det = NULL;
	if (nsigners < 1) {
		log_warnx("export: ES-OCSPD-01: no signer");
		return 0;
	}
	if (len > INT_MAX ||
	    (oid = OBJ_txt2obj(oid_txt, 1)) == NULL ||
	    (cms = CMS_sign_ex(NULL, NULL, NULL, NULL, flags, libctx,
	    propq)) == NULL ||
	    !CMS_set1_eContentType(cms, oid)) {
		log_ssl("export: cannot set up CMS");
		goto out;
	}
	for (i = 0; i < nsigners; i++) {
		if (!add_signer(cms, &signers[i], flags, libctx, propq)) {
			goto out;
		}
	}
	/*
	 * CMS_final() over the content, without its 4 KiB copies: the
	 * content written at once into the digest BIOs (a null sink after
	 * them, the content being detached).
	 */
	if ((bio = CMS_dataInit(cms, NULL)) == NULL ||
	    BIO_write(bio, content, (int)len) != (int)len ||
	    !CMS_dataFinal(cms, bio)) {
		log_ssl("export: cannot sign");
		goto out;
	}
	if ((clen = i2d_CMS_ContentInfo(cms, det)) <= 0) {
		log_ssl("export: cannot encode CMS");
		goto out;
	}
	*det_len = (size_t)clen;
	ret = 1;
 out:
	BIO_free_all(bio);
	ASN1_OBJECT_free(oid);
	CMS_ContentInfo_free(cms);
	return ret;
}

int
export_cms_sign(const unsigned char *content, size_t len, const char *oid_txt,
    const struct export_signer *signers, size_t nsigners,
    OSSL_LIB_CTX *libctx, const char *propq, unsigned char **out,
    size_t *out_len)
{
	unsigned char *det = NULL;
	size_t det_len = 0;
	int ret;

	/* The DER of CMS_final over the attached content, without its copies. */
	*out = NULL;
	*out_len = 0;
	ret = cms_sign_detached(content, len, oid_txt, signers, nsigners,
	    libctx, propq, &det, &det_len) &&
	    cms_splice(det, det_len, content, len, out, out_len);
	OPENSSL_free(det);
	return ret;
}

/*
 * If d's entries were not added in serial order, index them in that
 * order (d->order), as the responder does: with its own validation and
 * sort (export_issuer_index()), so that the file lists each issuer's
 * entries ascending and the responder's start-up finds them sorted.  A
 * duplicate serial is refused (ES-OCSPD-02).  1/0 (logged).
 */
static int
entries_order(struct dbuf *d)
{
	struct export_issuer is;

	if (!d->unsorted || d->order != NULL) {
		return 1;
	}
	memset(&is, 0, sizeof(is));
	if (!export_issuer_index(&is, d->p + d->room, d->len, "export")) {
		free(is.off);
		return 0;
	}
	d->order = is.off;
	d->nentries = is.nentries;
	return 1;
}

/* Copy d's entries to *pp in serial order and advance it. */
static void
entries_write(const struct dbuf *d, unsigned char **pp)
{
	const unsigned char *ent = d->p + d->room, *e, *q;
	size_t i, n;

	if (d->order == NULL) {
		if (d->len > 0) {
			memcpy(*pp, ent, d->len);
			*pp += d->len;
		}
		return;
	}
	for (i = 0; i < d->nentries; i++) {
		/* Validated by export_issuer_index(). */
		q = e = ent + d->order[i];
		if (!der_read_hdr(&q, ent + d->len,
		    V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, &n)) {
			fatalx("export: entry %zu no longer decodes", i);
		}
		n += (size_t)(q - e);
		memcpy(*pp, e, n);
		*pp += n;
	}
}

/*
 * The parts of issuer i: the DER lengths of its CA, times and CRLs (the
 * entries are in b->ent[i], put in serial order here if they were not
 * added in it); its ES_ISSUER content length in *body, that of its CA
 * and times in *pre.  1/0 (logged).
 */
static int
issuer_len(struct export_builder *b, int i, size_t *body, size_t *pre)
{
	ES_ISSUER *is = sk_ES_ISSUER_value(b->ex->issuers, i);
	size_t crls = 0, n = b->ent[i].len;
	int l[3], j, k;

	if (!b->keep_order && !entries_order(&b->ent[i])) {
		return 0;
	}
	l[0] = i2d_X509(is->ca, NULL);
	l[1] = i2d_ASN1_GENERALIZEDTIME(is->this_update, NULL);
	l[2] = i2d_ASN1_GENERALIZEDTIME(is->next_update, NULL);
	for (j = 0; j < sk_ES_NAMEDCRL_num(is->crls); j++) {
		if ((k = i2d_ES_NAMEDCRL(sk_ES_NAMEDCRL_value(is->crls, j),
		    NULL)) <= 0) {
			goto ssl;
		}
		crls += (size_t)k;
	}
	if (l[0] <= 0 || l[1] <= 0 || l[2] <= 0) {
		goto ssl;
	}
	*pre = (size_t)l[0] + (size_t)l[1] + (size_t)l[2];
	*body = *pre + der_hdr_len(n) + n + der_hdr_len(crls) + crls;
	return 1;
 ssl:
	log_ssl("export: cannot encode issuer");
	return 0;
}

/* Write the head of issuer i (body bytes of content) at *pp: up to its entries. */
static void
issuer_write_head(const struct export_builder *b, int i, size_t body,
    unsigned char **pp)
{
	ES_ISSUER *is = sk_ES_ISSUER_value(b->ex->issuers, i);

	*pp += der_hdr(*pp, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, body);
	i2d_X509(is->ca, pp);
	i2d_ASN1_GENERALIZEDTIME(is->this_update, pp);
	i2d_ASN1_GENERALIZEDTIME(is->next_update, pp);
	*pp += der_hdr(*pp, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED,
	    b->ent[i].len);
}

/* Write the CRLs of issuer i (after its entries) at *pp. */
static void
issuer_write_tail(const struct export_builder *b, int i, unsigned char **pp)
{
	ES_ISSUER *is = sk_ES_ISSUER_value(b->ex->issuers, i);
	size_t crls = 0;
	int j;

	for (j = 0; j < sk_ES_NAMEDCRL_num(is->crls); j++) {
		crls += (size_t)i2d_ES_NAMEDCRL(sk_ES_NAMEDCRL_value(is->crls,
		    j), NULL);
	}
	*pp += der_hdr(*pp, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, crls);
	for (j = 0; j < sk_ES_NAMEDCRL_num(is->crls); j++) {
		i2d_ES_NAMEDCRL(sk_ES_NAMEDCRL_value(is->crls, j), pp);
	}
}

/* Room content_encode() leaves before and after the content for the CMS. */
#define CMS_ROOM_BEFORE	1024
#define CMS_ROOM_AFTER	8192

/*
 * Make d's buffer hold its entries in serial order after room bytes:
 * if they are out of order or there is less room, into a new buffer
 * (the one copy), else as they are.
 */
static void
dbuf_rebase(struct dbuf *d, size_t room)
{
	struct dbuf nd;
	unsigned char *p;

	if (d->order == NULL && d->room >= room) {
		return;
	}
	memset(&nd, 0, sizeof(nd));
	nd.room = room;
	dbuf_grow(&nd, room + d->len + CMS_ROOM_AFTER);
	p = nd.p + room;
	entries_write(d, &p);
	OPENSSL_free(d->p);
	free(d->order);
	d->order = NULL;
	d->p = nd.p;
	d->cap = nd.cap;
	d->room = room;
}

/*
 * The lengths of the content's top SEQUENCE (*top), its issuers (*iss),
 * each issuer's body (body[]) and CA and times (pre[]), the version,
 * produced and sequence (*hdrs) and the audit head's [0] (*ah, its
 * inner SEQUENCE *a; 0 if none),
 * the entries put in order.  1/0 (logged).
 */
static int
content_len(struct export_builder *b, int n, size_t *body, size_t *pre,
    size_t *iss, size_t *top, size_t *hdrs, size_t *ah, size_t *a)
{
	int i, h[3], al = 0;

	*iss = 0;
	*ah = 0;
	for (i = 0; i < n; i++) {
		if (!issuer_len(b, i, &body[i], &pre[i])) {
			return 0;
		}
		*iss += der_hdr_len(body[i]) + body[i];
	}
	h[0] = i2d_ASN1_INTEGER(b->ex->version, NULL);
	h[1] = i2d_ASN1_GENERALIZEDTIME(b->ex->produced, NULL);
	h[2] = i2d_ASN1_INTEGER(b->ex->sequence, NULL);
	if (b->ex->audit_head != NULL &&
	    (al = i2d_ES_AUDITHEAD(b->ex->audit_head, NULL)) <= 0) {
		h[0] = 0;
	}
	if (h[0] <= 0 || h[1] <= 0 || h[2] <= 0) {
		log_ssl("export: cannot encode content");
		return 0;
	}
	*a = al > 0 ? (size_t)al : 0;
	if (*a > 0) {
		*ah = der_hdr_len(*a) + *a;
	}
	*hdrs = (size_t)h[0] + (size_t)h[1] + (size_t)h[2];
	*top = *hdrs + der_hdr_len(*iss) + *iss + *ah;
	return 1;
}

/*
 * The ES_EXPORT DER of b, byte for byte what i2d_ES_EXPORT gives for
 * the same content, written around the first issuer's entries where
 * they lie (the builder's buffer becomes the export's, so it is signed
 * once): the content is at *out + *off, *out_len bytes, with at least
 * CMS_ROOM_BEFORE bytes before it and CMS_ROOM_AFTER after it in *out
 * (OPENSSL_malloc'd, *cap bytes) for cms_splice_inplace().  1/0
 * (logged).
 */
static int
content_encode(struct export_builder *b, unsigned char **out,
    size_t *out_len, size_t *cap, size_t *off)
{
	size_t body[EXPORT_MAX_ISSUERS_ENC], pre[EXPORT_MAX_ISSUERS_ENC];
	size_t iss, top, hdrs, ah, a, head, tail;
	struct dbuf *d0 = &b->ent[0];
	unsigned char *p, *start;
	int n = sk_ES_ISSUER_num(b->ex->issuers), i;

	if (n < 1 || n > EXPORT_MAX_ISSUERS_ENC || (size_t)n != b->nent) {
		log_warnx("export: ES-OCSPD-02: 1..%d issuers",
		    EXPORT_MAX_ISSUERS_ENC);
		return 0;
	}
	if (b->consumed) {
		log_warnx("export: this builder was signed already");
		return 0;
	}
	if (!content_len(b, n, body, pre, &iss, &top, &hdrs, &ah, &a)) {
		return 0;
	}
	*out_len = der_hdr_len(top) + top;
	/* The content before the first issuer's entries, and after them. */
	head = der_hdr_len(top) + hdrs + der_hdr_len(iss) +
	    der_hdr_len(body[0]) + pre[0] + der_hdr_len(d0->len);
	tail = *out_len - head - d0->len;
	dbuf_rebase(d0, head + CMS_ROOM_BEFORE);
	dbuf_grow(d0, d0->room + d0->len + tail + CMS_ROOM_AFTER);
	p = start = d0->p + d0->room - head;
	p += der_hdr(p, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, top);
	i2d_ASN1_INTEGER(b->ex->version, &p);
	i2d_ASN1_GENERALIZEDTIME(b->ex->produced, &p);
	i2d_ASN1_INTEGER(b->ex->sequence, &p);
	p += der_hdr(p, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, iss);
	issuer_write_head(b, 0, body[0], &p);
	if (p != d0->p + d0->room) {
		fatalx("export: content head length mismatch");
	}
	p += d0->len;
	issuer_write_tail(b, 0, &p);
	for (i = 1; i < n; i++) {
		issuer_write_head(b, i, body[i], &p);
		entries_write(&b->ent[i], &p);
		issuer_write_tail(b, i, &p);
	}
	if (a > 0) {
		p += der_hdr(p, 0xa0, a);
		i2d_ES_AUDITHEAD(b->ex->audit_head, &p);
	}
	if ((size_t)(p - start) != *out_len) {
		fatalx("export: content length mismatch");
	}
	*out = d0->p;
	*cap = d0->cap;
	*off = (size_t)(start - d0->p);
	/* The entries are in the export now. */
	d0->p = NULL;
	d0->cap = d0->room = d0->len = 0;
	b->consumed = 1;
	return 1;
}

int
export_builder_sign_at(struct export_builder *b,
    const struct export_signer *signers, size_t nsigners,
    OSSL_LIB_CTX *libctx, const char *propq, unsigned char **buf,
    size_t *off, size_t *len)
{
	unsigned char *det = NULL;
	size_t clen, cap, coff, det_len = 0;
	int ret;

	*buf = NULL;
	*off = *len = 0;
	if (sk_ES_ISSUER_num(b->ex->issuers) < 1) {
		log_warnx("export: ES-OCSPD-02: no issuer");
		return 0;
	}
	if (!content_encode(b, buf, &clen, &cap, &coff)) {
		return 0;
	}
	/* The content is written once, signed there, and wrapped in place. */
	ret = cms_sign_detached(*buf + coff, clen, EXPORT_OID, signers,
	    nsigners, libctx, propq, &det, &det_len) &&
	    cms_splice_inplace(det, det_len, buf, cap, coff, clen, off, len);
	OPENSSL_free(det);
	if (!ret) {
		OPENSSL_free(*buf);
		*buf = NULL;
	}
	return ret;
}

int
export_builder_sign_multi(struct export_builder *b,
    const struct export_signer *signers, size_t nsigners,
    OSSL_LIB_CTX *libctx, const char *propq, unsigned char **out,
    size_t *out_len)
{
	size_t off;

	if (!export_builder_sign_at(b, signers, nsigners, libctx, propq, out,
	    &off, out_len)) {
		return 0;
	}
	memmove(*out, *out + off, *out_len);
	return 1;
}

int
export_builder_sign(struct export_builder *b, X509 *signer, EVP_PKEY *key,
    enum sig_alg alg, OSSL_LIB_CTX *libctx, const char *propq,
    unsigned char **out, size_t *out_len)
{
	struct export_signer sg;

	sg.cert = signer;
	sg.key = key;
	sg.alg = alg;
	return export_builder_sign_multi(b, &sg, 1, libctx, propq, out,
	    out_len);
}
