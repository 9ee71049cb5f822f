/*
 * The daemon's side of the eseal-ocsp-signer processes: one queue of
 * ResponseData to sign, shared by every HTTP thread, and one dispatcher
 * thread per signer process that takes what is queued (up to a batch),
 * sends it in one SIGNOP_SIGNV message and hands each signature back to
 * the thread that waits for it.  Requests never wait for a signer that
 * is busy while another is idle, and a signer always finds the next
 * batch ready when it finishes one.
 */
#ifndef ESEAL_OCSP_SIGNPOOL_H
#define ESEAL_OCSP_SIGNPOOL_H

#include <stddef.h>

#define SIGNPOOL_MAX	16	/* signer processes */
#define SIGNPOOL_BATCH	32	/* ResponseData per message */

struct signpool;

/*
 * Start one dispatcher per fd (connected signers that said HELLO; the
 * fds stay the caller's).  A signer that has not answered a message
 * within timeout seconds (plus one second per ResponseData in it) is
 * given up like one that died.  NULL on failure (logged).
 */
struct signpool *signpool_new(const int *fds, int n, int timeout);
/*
 * responder_sign_fn over the pool (arg is the pool): queue tbs and wait
 * for its signature; *sig is malloc'd.  0 when the signer refused, or
 * when no signer is left (logged once by the dispatcher that lost it).
 */
int signpool_sign(void *arg, const unsigned char *tbs, size_t tbs_len,
    unsigned char **sig, size_t *sig_len);
/*
 * Called from a dispatcher thread with the outcome of a submitted job;
 * takes sig (malloc'd, NULL unless ok).  Must not block.
 */
typedef void (*signpool_done_fn)(void *arg, int ok, unsigned char *sig,
    size_t sig_len);
/*
 * Queue tbs (kept alive by the caller until cb runs) without waiting.
 * 0 when no signer is left or tbs is too large (cb is not called then).
 */
int signpool_submit(struct signpool *p, const unsigned char *tbs,
    size_t tbs_len, signpool_done_fn cb, void *arg);
/* Messages sent to the signers so far (each carries one batch). */
unsigned long long signpool_batches(const struct signpool *p);
/* 1 while every signer process answers. */
int signpool_alive(const struct signpool *p);
/*
 * Stop the dispatchers once the queue is empty (callers of
 * signpool_sign must have returned) and free the pool.  Accepts NULL.
 */
void signpool_free(struct signpool *p);

#endif
