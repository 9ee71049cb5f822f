/*
 * Streaming generation of X.509 v2 CRLs (RFC 5280 section 5) for the
 * offline CA: full (complete/base) CRLs, delta CRLs and partitioned CRLs,
 * at millions of revocations, in memory that does not grow with the
 * number of entries.
 *
 * The revoked certificates come from an iterator (the CA walks its SQLite
 * rows in serial order) and are DER-encoded by hand straight into the
 * output; only the small fixed parts (AlgorithmIdentifier, issuer Name,
 * CRL extensions) are built with OpenSSL objects and i2d.
 *
 * Why three passes over a rewindable iterator, and no temporary file:
 * DER puts every length before its content, and the outer CertificateList
 * length includes the signature, whose size is known only after signing
 * (a DER ECDSA-Sig-Value varies by a few bytes).  So:
 *   1. measure: iterate, check order and content, add up entry lengths;
 *   2. hash: iterate, feed the exact TBSCertList bytes to the digest,
 *      then call the signing callback ONCE on the digest (a token signs
 *      a precomputed digest: hsm_sign_digest) and check the signature
 *      against the issuer certificate's public key;
 *   3. write: iterate, write CertificateList (DER or PEM) to a temporary
 *      file beside the output, hashing the TBSCertList again; the file is
 *      fsync'ed and renamed over the output only if that digest equals the
 *      signed one.
 * With a spill directory (crl_params.spill_dir) pass 1 also keeps the
 * encoded entries in an unlinked file there, and passes 2 and 3 read
 * them back instead of iterating again: the iterator is walked once (the
 * CA's store is scanned once), for the size of the list in the page
 * cache.  The check of pass 3 (the digest, or in place a Poly1305 tag
 * under a random one-time key) then guards the spill's read-back.
 * Nothing is created before the signature exists, a failure at any point
 * leaves the old output untouched, the signature provably covers exactly
 * the bytes written, PEM is a plain streaming base64 of the DER, and no
 * seek is needed.  Re-encoding is cheap (bytes of hand DER per entry);
 * the price is iterating three times, so the iterator must return the
 * same sequence after each rewind (the CA runs all passes inside one
 * read transaction); a difference is detected and refused (ES-CRL-04).
 *
 * Errors are logged once, here, as "OUTPUT: ES-CRL-NN: problem":
 *   ES-CRL-02 nextUpdate not after thisUpdate;
 *   ES-CRL-03 cRLNumber not above the last published one (or, for a
 *             delta, not above its base CRL number);
 *   ES-CRL-04 entries not in strictly increasing serial order, duplicate
 *             serial, or the iterator changed between passes;
 *   ES-CRL-05 a bad entry or parameter (serial not a positive INTEGER of
 *             at most 20 octets, unknown reason, removeFromCRL outside a
 *             delta CRL, time out of range, issuer without SKI or with a
 *             keyUsage lacking cRLSign, algorithm not fitting the key);
 *   ES-CRL-06 the signing callback failed or its signature does not
 *             verify with the issuer certificate's key.
 */
#ifndef ESEAL_CRL_H
#define ESEAL_CRL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sigalg.h"

/*
 * Revocation reasons are OpenSSL's CRL_REASON_* values (<openssl/x509v3.h>,
 * RFC 5280 5.3.1 CRLReason): CRL_REASON_UNSPECIFIED (0, never encoded:
 * the reasonCode is omitted) .. CRL_REASON_AA_COMPROMISE (10); 7 is not
 * used and CRL_REASON_REMOVE_FROM_CRL (8) belongs in delta CRLs only.
 */
#define CRL_SERIAL_MAX	20	/* RFC 5280 4.1.2.2: at most 20 octets */

/*
 * One revoked certificate, filled in by the iterator.  serial holds the
 * big-endian magnitude of a positive serial number (leading zero bytes
 * are allowed and ignored; the DER INTEGER content must fit 20 octets).
 * invalidity is 0 when there is no invalidityDate.
 */
struct crl_entry {
	unsigned char	 serial[CRL_SERIAL_MAX + 1];
	size_t		 serial_len;
	time_t		 revoked;	/* revocationDate */
	int		 reason;	/* CRL_REASON_* */
	time_t		 invalidity;	/* invalidityDate, or 0 */
};

/*
 * The revocation list.  next() fills *e and returns 1, returns 0 at the
 * end, -1 on error (it logs its own error).  rewind() restarts the
 * sequence from the first entry: 1/0 (logged).  The sequence must be in
 * strictly increasing serial order and identical after every rewind.
 * The encoder calls rewind() before each of its three passes.
 */
struct crl_iter {
	int	(*next)(void *arg, struct crl_entry *e);
	int	(*rewind)(void *arg);
	void	 *arg;
};

/*
 * Sign the digest md (mdlen bytes, of alg's hash) under alg: PKCS#1 v1.5
 * DigestInfo, PSS (MGF1 same hash, salt = hash length) or DER ECDSA.
 * *sig is malloc'd (the encoder free()s it).  1/0; logs its own error.
 * The CA passes a wrapper around hsm_sign_digest().
 */
typedef int (*crl_sign_fn)(void *arg, enum sig_alg alg,
    const unsigned char *md, size_t mdlen, unsigned char **sig,
    size_t *siglen);

/* Scope flags of the issuingDistributionPoint. */
enum crl_scope {
	CRL_SCOPE_ALL = 0,	/* no only* flag */
	CRL_SCOPE_USER,		/* onlyContainsUserCerts: end-entity CRL */
	CRL_SCOPE_CA		/* onlyContainsCACerts: ARL of a root */
};

struct crl_params {
	X509		*issuer;	/* get0: the issuing CA certificate */
	enum sig_alg	 alg;
	crl_sign_fn	 sign;
	void		*sign_arg;
	time_t		 this_update;
	time_t		 next_update;	/* must be after this_update */
	uint64_t	 number;	/* cRLNumber of this CRL */
	int		 have_last;	/* last_number is meaningful */
	uint64_t	 last_number;	/* highest cRLNumber already published */
	int		 delta;		/* 1: delta CRL (deltaCRLIndicator) */
	uint64_t	 base_number;	/* delta: cRLNumber of the base CRL */
	/*
	 * issuingDistributionPoint fullName URI: exactly the URI the CA
	 * puts into the CRLDP of the certificates this CRL (or partition)
	 * covers.  A delta CRL carries its base CRL's IDP (RFC 5280
	 * 5.2.4; OpenSSL requires the two to be identical).  With NULL and
	 * scope CRL_SCOPE_ALL there is no IDP at all.
	 */
	const char	*idp_uri;
	/*
	 * CRL_SCOPE_USER for end-entity CRLs (with idp_uri = the URL in the
	 * EE certificates' CRLDP), CRL_SCOPE_CA for a root's ARL.  As
	 * observed with OpenSSL 3.0 "verify -crl_check_all" (tests/crl.test):
	 * a CRL with onlyContainsUserCerts is "different CRL scope" for any
	 * CA certificate (step-ca #2250), and -crl_check_all checks the
	 * self-signed root too, which has no CRLDP, so a CRL whose IDP
	 * names a URL never covers it.  Hence the ARL is CRL_SCOPE_CA with
	 * idp_uri NULL: it then covers the root and every sub-CA.
	 */
	enum crl_scope	 scope;
	/* Base CRLs only: freshestCRL URI where the deltas are published. */
	const char	*freshest_uri;
	/*
	 * ExpiredCertsOnCRL (X.509 2.5.29.60, GeneralizedTime, non-critical):
	 * revoked certificates that expired on or after this time are kept
	 * on the CRL.  0: no such extension.
	 */
	time_t		 expired_certs_on_crl;
	int		 pem;		/* 1: PEM "X509 CRL", 0: DER */
	/*
	 * A directory for an unlinked scratch file, or NULL.  With one,
	 * pass 1 keeps the encoded entries there (the size of the list,
	 * in the page cache, not in the process) and passes 2 and 3 read
	 * them back: the iterator is walked once.  Without, it is walked
	 * three times.
	 */
	const char	*spill_dir;
	/* crl_write_spilled(): called once the CRL is in place, or NULL. */
	void		(*placed)(void *arg, int fd, uint64_t off, uint64_t len);
	void		*placed_arg;
};

/* What a run produced. */
struct crl_stats {
	uint64_t	 entries;
	uint64_t	 bytes;		/* DER length of the CertificateList */
	unsigned char	 sha256[32];	/* SHA-256 of that DER (also with pem) */
};

/*
 * Generate the CRL described by p from it and write it to path
 * atomically (temporary file in the same directory, fsync, rename;
 * mode 0644).  On failure nothing is left behind and path is unchanged.
 * st may be NULL.  Returns 1/0 (logged as "path: ES-CRL-NN: ...").
 */
int crl_write(const char *path, const struct crl_params *p,
    const struct crl_iter *it, struct crl_stats *st);

/*
 * The same, written to an open stream (e.g. stdout) after the signature
 * is made; what names it in messages.  The stream is flushed, not
 * closed; on a failure in pass 3 a partial CRL may have been written.
 */
int crl_write_fp(FILE *fp, const char *what, const struct crl_params *p,
    const struct crl_iter *it, struct crl_stats *st);

/*
 * The same, left in place in the spill file (p->spill_dir required, DER):
 * pass 3 writes only the headers in front of the spilled list and the
 * parts after it, then reads the whole CertificateList back (its
 * TBSCertList must give the Poly1305 tag, under a random key of this
 * run, that pass 2 took beside the signed digest; st->sha256 is taken
 * from it).  The CRL is st->bytes bytes at *off in the unlinked file *fd
 * (nothing follows the CRL in it).  *fd is the caller's to close, also
 * after a failure if it is not -1: once the CRL is in place and before
 * it is read back, p->placed (if set) is called with *fd, the offset and
 * the length, so that the caller can start reading it (a failure after
 * that call means those bytes must be discarded).  The spill is an
 * O_TMPFILE where the file system has them, so with *off 0 (a list of
 * 16 MiB or more) it can be linked into a directory as the CRL's file.
 */
int crl_write_spilled(const char *what, const struct crl_params *p,
    const struct crl_iter *it, struct crl_stats *st, int *fd, uint64_t *off);

/*
 * Set e's serial from hex (either case, odd length allowed, no "0x").
 * 1/0; on 0 logs "what: ES-CRL-05: ...".
 */
int crl_entry_set_serial_hex(struct crl_entry *e, const char *hex,
    const char *what);

/*
 * Reason by RFC 5280 / openssl-ca name ("keyCompromise", "CACompromise",
 * "cACompromise", ... case-insensitive) and back.  from_name returns 1/0
 * (logged with what); name returns "unknown" for a bad value.
 */
int crl_reason_from_name(const char *name, int *out,
    const char *what);
const char *crl_reason_name(int r);

/*
 * A text file of revocations as a crl_iter, one entry per line:
 *     SERIALHEX REVOKED [REASON [INVALIDITY]]
 * with times as YYYYMMDDHHMMSSZ or YYYY-MM-DDTHH:MM:SSZ and REASON a
 * name or "-"; blank lines and lines starting with '#' are skipped.  Read
 * with a fixed buffer (constant memory); used by the tests and the
 * benchmark, and usable for imports.
 */
struct crl_file;
struct crl_file *crl_file_open(const char *path);
void crl_file_free(struct crl_file *f);
/* Fill it with f's next/rewind. */
void crl_file_iter(struct crl_file *f, struct crl_iter *it);

#endif
