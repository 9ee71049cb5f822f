/*
 * The signed status export: how the offline CA hands certificate status
 * and CRLs to the OCSP responder.  An export is a DER CMS SignedData,
 * signed by the issuing CA, whose eContent (type EXPORT_OID) is
 *
 *   StatusExport ::= SEQUENCE {
 *       version      INTEGER { v1(1), v2(2) },
 *       produced     GeneralizedTime,
 *       sequence     INTEGER (0..MAX),   -- strictly increasing per CA
 *       issuers      SEQUENCE SIZE (1..MAX) OF IssuerStatus,
 *       auditHead    [0] EXPLICIT AuditHead OPTIONAL }  -- v2: present,
 *                                                     -- v1: absent
 *   AuditHead ::= SEQUENCE {          -- the CA's audit chain when made
 *       sequence     INTEGER (0..MAX),   -- last entry's number
 *       hash         OCTET STRING (SIZE (32)) }  -- its SHA-256 chain hash
 *   IssuerStatus ::= SEQUENCE {
 *       caCert       Certificate,
 *       thisUpdate   GeneralizedTime,
 *       nextUpdate   GeneralizedTime,
 *       entries      SEQUENCE OF StatusEntry,   -- every issued serial
 *       crls         SEQUENCE OF NamedCRL }
 *   StatusEntry ::= SEQUENCE {
 *       serial         INTEGER,
 *       status         ENUMERATED { good(0), revoked(1) },
 *       revocationTime [0] EXPLICIT GeneralizedTime OPTIONAL,
 *       reason         [1] EXPLICIT CRLReason OPTIONAL,
 *       invalidityDate [2] EXPLICIT GeneralizedTime OPTIONAL }
 *   NamedCRL ::= SEQUENCE { name UTF8String, crl CertificateList }
 *
 * A serial absent from "entries" was never issued by that CA.  The
 * audit head, inside the signed content, makes every export a witness of
 * the CA's audit chain ("eseal-ca audit verify --witness"); the responder
 * ignores it and loads v1 exports (made before it existed) as before.  The
 * encoder builds the structure in memory and signs it with a key the
 * caller supplies (a token key from hsm/ in eseal-ca, a file key in the
 * tests); the decoder (export_read.c) verifies the signature against
 * configured CA certificates only and indexes the entries where they lie
 * in the export's DER, sorted by serial.
 */
#ifndef ESEAL_OCSP_EXPORT_H
#define ESEAL_OCSP_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sigalg.h"

/* eContentType of a status export (a UUID OID, X.667). */
#define EXPORT_OID	"2.25.82003999313049452734575459974961341246"
#define EXPORT_VERSION	1
/* The version of an export that carries its audit head. */
#define EXPORT_VERSION_AUDIT	2
/* RFC 5280 4.1.2.2: at most 20 octets. */
#define EXPORT_SERIAL_MAX 20
/* Largest export file the loader reads. */
#define EXPORT_FILE_MAX	((size_t)1 << 30)

enum export_status {
	EXPORT_GOOD = 0,
	EXPORT_REVOKED = 1
};

/* One issued certificate.  reason is a CRLReason (0..10) or -1. */
struct export_entry {
	time_t		revocation_time;	/* 0 unless revoked */
	time_t		invalidity_date;	/* 0 if absent */
	unsigned char	serial[EXPORT_SERIAL_MAX];	/* magnitude, big-endian */
	uint8_t		serial_len;
	uint8_t		status;			/* enum export_status */
	int8_t		reason;
};

struct export_crl {
	char		*name;		/* [A-Za-z0-9._-], served as NAME.crl */
	unsigned char	*der;
	size_t		 der_len;
	time_t		 this_update;
	time_t		 next_update;	/* 0 if the CRL has none */
};

/*
 * An issuer section.  Its entries stay DER in the export (ent..ent_end,
 * the SEQUENCE OF's contents); off[i] is the offset from ent of the i-th
 * entry in serial order.  Read them with export_entry_get() and
 * export_issuer_find().
 */
struct export_issuer {
	X509			*ca;
	time_t			 this_update;
	time_t			 next_update;
	const unsigned char	*ent;
	const unsigned char	*ent_end;
	uint32_t		*off;
	size_t			 nentries;
	int			 resorted;	/* written out of serial order */
	struct export_crl	*crls;
	size_t			 ncrls;
};

struct export {
	int			 version;
	time_t			 produced;
	int64_t			 sequence;
	int			 has_audit_head;	/* version 2 */
	int64_t			 audit_seq;
	char			 audit_hash[65];	/* lower-case hex */
	struct export_issuer	*issuers;
	size_t			 nissuers;
	unsigned char		*der;	/* the export's DER (owned) */
	size_t			 der_len;
	size_t			 der_map;	/* its mapping's size, or 0 */
	int			 der_view;	/* der is the caller's */
	unsigned char		*copy;	/* the content, if not in der */
};

struct export_builder;

/*
 * Start an export with the given sequence number (>= 0, larger than any
 * export this CA produced before) and production time.  NULL only when
 * out of memory (logged).
 */
struct export_builder *export_builder_new(int64_t sequence, time_t produced);
void export_builder_free(struct export_builder *b);
/*
 * For tests of the responder only: write each issuer's entries in the
 * order they were added (duplicates too).  By default the export lists
 * them in ascending serial order (the responder's order, so that its
 * start-up finds them sorted), whatever order they were added in, and
 * signing refuses a duplicate serial (ES-OCSPD-02).
 */
void export_builder_keep_order(struct export_builder *b);
/*
 * Record the audit head (last entry's sequence number, its hash as 64
 * hex digits) the export is made at; the export becomes version 2.
 * 1/0 (logged).
 */
int export_builder_set_audit_head(struct export_builder *b, int64_t seq,
    const char *hash_hex);

/*
 * Open a new issuer section; later entries and CRLs go to it.  ca is
 * copied (up-ref).  this_update < next_update.  1/0 (logged).
 */
int export_builder_add_issuer(struct export_builder *b, X509 *ca,
    time_t this_update, time_t next_update);
/*
 * Add one issued certificate to the current issuer (in any order: see
 * export_builder_keep_order()).  serial is the
 * magnitude (big-endian, 1..20 octets, a positive INTEGER).  For
 * EXPORT_GOOD, revocation_time must be 0 and reason -1.  For
 * EXPORT_REVOKED, revocation_time is required and reason is -1 or a
 * CRLReason other than 7.  invalidity_date 0 means absent.  1/0 (logged).
 */
int export_builder_add_entry(struct export_builder *b,
    const unsigned char *serial, size_t serial_len, enum export_status status,
    time_t revocation_time, int reason, time_t invalidity_date);
/* Same, taking the serial as an ASN1_INTEGER (must be positive). */
int export_builder_add_entry_int(struct export_builder *b,
    const ASN1_INTEGER *serial, enum export_status status,
    time_t revocation_time, int reason, time_t invalidity_date);
/*
 * Attach a CRL (DER, copied) to the current issuer under name; the CRL
 * must parse and be issued by the current issuer's CA.  1/0 (logged).
 */
int export_builder_add_crl(struct export_builder *b, const char *name,
    const unsigned char *der, size_t der_len);

/* One signer of an export: a CA certificate, its key and algorithm. */
struct export_signer {
	X509		*cert;
	EVP_PKEY	*key;
	enum sig_alg	 alg;	/* SIG_NONE: the key type's default */
};

/*
 * Encode the content and wrap it in a CMS SignedData with one SignerInfo
 * per entry of signers[] (nsigners >= 1; each certificate is included).
 * Keys may be token keys: libctx/propq are those of their provider (NULL
 * for file keys).  *out is OPENSSL_malloc'd DER, freed with
 * OPENSSL_free.  The builder's entries go into the export: it is signed
 * once.  1/0 (logged).
 */
int export_builder_sign_multi(struct export_builder *b,
    const struct export_signer *signers, size_t nsigners,
    OSSL_LIB_CTX *libctx, const char *propq, unsigned char **out,
    size_t *out_len);
/*
 * The same without moving the export to the start of its buffer (a
 * pass over hundreds of MiB for a large CA): the export is *buf + *off,
 * *len bytes; *buf is OPENSSL_malloc'd.  1/0 (logged).
 */
int export_builder_sign_at(struct export_builder *b,
    const struct export_signer *signers, size_t nsigners,
    OSSL_LIB_CTX *libctx, const char *propq, unsigned char **buf,
    size_t *off, size_t *len);
/*
 * Wrap content (len bytes, eContentType oid, dotted) in a DER CMS
 * SignedData with one SignerInfo per signer, as for an export (also
 * used for other small signed statements of the CA, e.g. audit
 * anchors).  *out is OPENSSL_malloc'd.  1/0 (logged).
 */
int export_cms_sign(const unsigned char *content, size_t len,
    const char *oid, const struct export_signer *signers, size_t nsigners,
    OSSL_LIB_CTX *libctx, const char *propq, unsigned char **out,
    size_t *out_len);
/*
 * From the eContent of an export whose signature the caller verified,
 * take the export sequence and, in a version 2 export, the audit head
 * (*has_head 0 for version 1).  Malformed content or versions are
 * refused (ES-OCSPD-02).  1/0 (logged with what).
 */
int export_content_audit_head(const unsigned char *content, size_t len,
    const char *what, int64_t *sequence, int *has_head, int64_t *audit_seq,
    char audit_hash[65]);
/* export_builder_sign_multi() with the one signer (signer, key, alg). */
int export_builder_sign(struct export_builder *b, X509 *signer, EVP_PKEY *key,
    enum sig_alg alg, OSSL_LIB_CTX *libctx, const char *propq,
    unsigned char **out, size_t *out_len);

/*
 * Verify and decode an export (a copy of der, len: the export keeps its
 * DER in e->der).  Every SignerInfo must verify and its
 * signer certificate must be one of trust[] or chain to one of them
 * (partial chains allowed: trust may hold an intermediate); ES-OCSPD-01.
 * Every issuer section's CA certificate must be one of trust[] and the
 * certificate of a SignerInfo (the CA vouches for its own section);
 * ES-OCSPD-03.  Trailing bytes, unknown versions, duplicate serials and
 * malformed entries are refused (ES-OCSPD-02).
 * what names the input in messages.  NULL on failure (logged).
 */
struct export *export_decode(const unsigned char *der, size_t len,
    X509 *const *trust, size_t ntrust, const char *what);
/*
 * Decode the StatusExport content alone, with no signature and no trust
 * decision: for the fuzz target and tests only.  NULL (logged).
 */
struct export *export_content_decode(const unsigned char *content,
    size_t len, const char *what);
/*
 * Validate the StatusEntry DER ent..ent+len (a SEQUENCE OF's contents),
 * as strictly as the template decoder, and index it into is (ent, off,
 * nentries): sorted by serial, duplicates refused (ES-OCSPD-02).  ent
 * must outlive is.  1/0 (logged).
 */
int export_issuer_index(struct export_issuer *is, const unsigned char *ent,
    size_t len, const char *what);
/* Decode entry i (0..nentries-1, serial order) of is into *out. */
void export_entry_get(const struct export_issuer *is, size_t i,
    struct export_entry *out);
/* The index of serial (magnitude, len octets) in is, or -1. */
long export_issuer_find(const struct export_issuer *is,
    const unsigned char *serial, size_t len);
/* 1 if name (len bytes) is a CRL name: [A-Za-z0-9._-], 1..64, no '.' first. */
int export_crl_name_ok(const char *name, size_t len);
/*
 * export_decode() without the copy: the export points into der, which
 * must outlive it (for a check of an export just made, freed at once).
 */
struct export *export_decode_view(const unsigned char *der, size_t len,
    X509 *const *trust, size_t ntrust, const char *what);
/* Read path (no copy) and export_decode() it. */
struct export *export_load(const char *path, X509 *const *trust,
    size_t ntrust);
void export_free(struct export *e);

/* Parse a CRLReason name ("keyCompromise"...) or number; -1 if unknown. */
int export_reason_from_name(const char *name);
const char *export_reason_name(int reason);

#endif
