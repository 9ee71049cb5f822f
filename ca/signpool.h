/*
 * The token signing certificates of "eseal-ca issue" in threads of their
 * own, each on a session of its own (hsm_key_session), so that several
 * signatures run at once while the main thread prepares the next
 * certificates.  Each signature is checked with the issuer's key before
 * the certificate is handed back.  The caller decides the order: it
 * hands certificates to free slots and waits for each slot.
 */
#ifndef ESEAL_SIGNPOOL_H
#define ESEAL_SIGNPOOL_H

#include <stddef.h>

#include <openssl/x509.h>

#include "hsm.h"
#include "sigalg.h"

/* At most this many signing threads (and token sessions). */
#define SIGN_POOL_MAX	4

struct sign_pool;

/*
 * A pool of up to want (1..SIGN_POOL_MAX) signing threads for key under
 * alg, their signatures checked with issuer's public key: the first
 * signs on key's own session, the others on sessions of their own, as
 * many as the token opens.  key and issuer must outlive the pool.
 */
struct sign_pool *sign_pool_new(struct hsm_key *key, enum sig_alg alg,
    X509 *issuer, size_t want);

/* The number of slots (threads): 1 or more. */
size_t sign_pool_size(const struct sign_pool *sp);

/*
 * Hand cert to slot i (which must be idle) to be signed; cert stays the
 * caller's and must not be touched until sign_pool_wait(sp, i).  object
 * names it in the log.
 */
void sign_pool_start(struct sign_pool *sp, size_t i, X509 *cert,
    const char *object);

/*
 * Wait for slot i's certificate: NULL if it was signed and the signature
 * verifies, else what failed (logged).  An idle slot returns NULL.  On
 * success *der (OPENSSL_free) and *derlen get the signed certificate's
 * DER and sha its SHA-256 in hex, made in the slot's thread.
 */
const char *sign_pool_wait(struct sign_pool *sp, size_t i,
    unsigned char **der, int *derlen, char sha[65]);

/* Stop the threads once their certificates are signed; NULL accepted. */
void sign_pool_free(struct sign_pool *sp);

#endif
