/*
 * The OCSP core of eseal-ocspd, free of HTTP and of keys: a responder
 * state built from one verified export (lookup tables keyed by issuer
 * name/key hash and serial, the pre-signed response cache), request
 * parsing (RFC 6960, RFC 5019, RFC 8954 nonces) and the building of
 * ResponseData, which a caller-supplied function signs.
 */
#ifndef ESEAL_OCSP_RESPONDER_H
#define ESEAL_OCSP_RESPONDER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "export.h"

enum unknown_policy {
	UNKNOWN_AS_UNKNOWN = 0,	/* certStatus unknown */
	UNKNOWN_AS_REVOKED	/* revoked, certificateHold, 1970 (RFC 6960 2.2) */
};

struct responder_opts {
	enum unknown_policy	unknown;
	int			extended_revoke;	/* announce RFC 6960 4.4.8 */
	int			archive_cutoff_days;	/* 0: no archiveCutoff */
	int			validity;	/* seconds a response is valid */
	/*
	 * The certificate that signs the responses (not owned).  RFC 6960
	 * 4.2.2.2: it answers for the CA that issued it (or for itself if
	 * it is that CA); CertIDs of other sections get unauthorized
	 * (ES-OCSPD-08).  Must be set before rstate_new().
	 */
	X509			*signer;
	/*
	 * Bytes the cache of responses may hold (0: no bound).  Pre-signing
	 * fills it to 80 %; an answer signed on demand that takes it over
	 * the bound evicts, least recently used first (CLOCK), to 90 %.
	 */
	size_t			cache_max;
	/*
	 * shard K of N (1 <= K <= N; N 0 or 1: every certificate): only
	 * certificates whose serial hashes to shard K are pre-signed; the
	 * others are signed on demand and cached (responder_shard_of()).
	 */
	unsigned int		shard_k, shard_n;
};

/*
 * Signs tbs (the DER of a ResponseData) with the delegated OCSP key;
 * *sig is malloc'd.  1/0.
 */
typedef int (*responder_sign_fn)(void *arg, const unsigned char *tbs,
    size_t tbs_len, unsigned char **sig, size_t *sig_len);

struct responder_signer {
	responder_sign_fn	 sign;
	void			*arg;
	X509			*cert;		/* included in every response */
	unsigned char		*algid;		/* DER AlgorithmIdentifier */
	size_t			 algid_len;
	/* Set by responder_signer_prepare(): */
	unsigned char		*cert_der;
	size_t			 cert_der_len;
	unsigned char		 key_hash[20];	/* SHA-1 of the key (byKey) */
};

/*
 * Cache what every response repeats (the certificate's DER, the
 * responderID key hash) in sg; sg->cert must be set.  Call once before
 * answering.  1/0 (logged).
 */
int responder_signer_prepare(struct responder_signer *sg);
/* Free what responder_signer_prepare() cached (sg may be unprepared). */
void responder_signer_clear(struct responder_signer *sg);

/* A finished OCSPResponse, shared by reference count. */
struct rblob {
	int		refs;		/* atomic */
	int		ocsp_status;	/* OCSPResponseStatus */
	time_t		produced;
	time_t		this_update;
	time_t		next_update;	/* 0 for error responses */
	char		etag[36];	/* quoted, "" for error responses */
	size_t		len;
	unsigned char	der[];
};

struct rblob *rblob_ref(struct rblob *b);
void rblob_unref(struct rblob *b);
/* A constant error response (malformedRequest ...). Never NULL. */
struct rblob *rblob_error(int ocsp_status);

struct rstate;

/* Counters the caller exposes as metrics (atomics). */
struct responder_stats {
	uint64_t	good, revoked, unknown;
	uint64_t	presigned_hits, signatures, sign_failures;
	uint64_t	cache_bytes, cache_entries, evictions;
};
extern struct responder_stats responder_stats;

/*
 * Build a state from e (ownership taken, freed with the state).  Each
 * section is marked as answered or not by o->signer (logged once per
 * section not answered).  Refuses (NULL, logged) when out of memory
 * only; e is freed then too.
 */
struct rstate *rstate_new(struct export *e, const struct responder_opts *o);
struct rstate *rstate_ref(struct rstate *st);
void rstate_unref(struct rstate *st);
const struct export *rstate_export(const struct rstate *st);
/* 1 if every issuer's nextUpdate is after now. */
int rstate_fresh(const struct rstate *st, time_t now);
/* The CRL called name in any issuer section, or NULL. */
const struct export_crl *rstate_crl(const struct rstate *st, const char *name);

/*
 * Answer one DER OCSPRequest.  Malformed input gives malformedRequest,
 * an issuer not served (no section, or a section whose CA did not issue
 * the signer certificate) unauthorized, stale data tryLater, a failed
 * signature internalError; *out is always set (caller unrefs).
 * A request without nonce for a single issued certificate is served from
 * (and stored in) the pre-signed cache.
 */
void responder_answer(struct rstate *st, const struct responder_signer *sg,
    const unsigned char *req, size_t req_len, time_t now,
    struct rblob **out);

/*
 * The same without waiting for a signature: returns 0 with *out set when
 * the answer is ready (as responder_answer), or 1 with *pend set when a
 * ResponseData (rpending_tbs) must be signed first; the caller then
 * passes the signature to rpending_finish().  A pending answer holds a
 * reference on st.
 */
struct rpending;
int responder_answer_async(struct rstate *st,
    const struct responder_signer *sg, const unsigned char *req,
    size_t req_len, time_t now, struct rblob **out, struct rpending **pend);
void rpending_tbs(const struct rpending *p, const unsigned char **tbs,
    size_t *len);
/*
 * The finished response (internalError when ok is 0), stored in the
 * pre-signed cache when it is one; frees p.  Never NULL.
 */
struct rblob *rpending_finish(struct rpending *p, int ok,
    const unsigned char *sig, size_t sig_len);
/* Drop a pending answer unsigned.  Accepts NULL. */
void rpending_free(struct rpending *p);

/*
 * Pre-sign (or refresh) SHA-1 CertID responses of every issued
 * certificate of an answered section whose cached response is missing
 * or past half its validity; only entries whose index is part modulo
 * nparts, so that nparts threads share the work, and of the configured
 * shard only; stops when the cache reaches 80 % of its bound.  Stops
 * early when *stop becomes non-zero.  Returns the number signed.
 */
/* The 1-based shard (of n) a certificate serial belongs to; 1 if n < 2. */
unsigned int responder_shard_of(const unsigned char *serial, size_t len,
    unsigned int n);

size_t responder_presign(struct rstate *st, const struct responder_signer *sg,
    time_t now, int *stop, unsigned int part, unsigned int nparts);

#endif
