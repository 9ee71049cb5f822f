/*
 * The daemon's side of the eseal-ocsp-signer processes: one queue of
 * ResponseData to sign, shared by every HTTP thread, and one dispatcher
 * thread per signer process that takes what is queued (up to a batch),
 * sends it in one SIGNOP_SIGNV message and hands each signature back to
 * the thread that waits for it.  While no signer is busy, work starts
 * at once; while one is, the work queued waits for it (it takes it as
 * its next batch when it finishes) until SIGNPOOL_SPREAD jobs are
 * queued or the oldest has waited SIGNPOOL_SPREAD_MS (a busy signer may
 * hang), then an idle signer takes them: under light load batches
 * grow rather than every signer waking for one request each (each
 * batch costs both sides a wake-up), and under heavy load every signer
 * works.
 *
 * Each dispatcher also supervises its signer process: one that dies
 * (its socket closes), or does not answer within the timeout, is ended
 * (signpool_end_fn: killed and reaped by whoever is its parent) and
 * started again after a backoff (SIGNPOOL_BACKOFF_MIN ms doubling up to
 * SIGNPOOL_BACKOFF_MAX ms, back to the minimum once a signer has served
 * SIGNPOOL_HEALTHY seconds).  The batch it held goes back to the head of
 * the queue once (a batch that loses two signers fails), and queued work
 * waits for another signer or the restart.  Work fails at once only
 * while no signer is up and the last attempt to start one failed.
 */
#ifndef ESEAL_OCSP_SIGNPOOL_H
#define ESEAL_OCSP_SIGNPOOL_H

#include <sys/types.h>

#include <stddef.h>

#define SIGNPOOL_MAX	16	/* signer processes */
#define SIGNPOOL_BATCH	32	/* ResponseData per message */
#define SIGNPOOL_SPREAD	32	/* queued jobs that start a second signer */
#define SIGNPOOL_SPREAD_MS 5	/* or ms the oldest has waited */
#define SIGNPOOL_BACKOFF_MIN	100	/* ms before the first restart */
#define SIGNPOOL_BACKOFF_MAX	5000	/* ms, the cap of the doubling */
#define SIGNPOOL_HEALTHY	30	/* s of service that reset the backoff */

struct signpool;

/*
 * Start signer process number index: on success *fd is connected to a
 * signer that said HELLO (the pool owns it from then on) and *pid is
 * its process id (eseal-ocspd: a child of the spawner, spawner.h).  Called from the thread of
 * signpool_new() at start and from dispatcher threads on restarts.
 * 1/0 (logged; nothing is left running on failure).
 */
typedef int (*signpool_spawn_fn)(void *arg, int index, int *fd, pid_t *pid);
/*
 * End signer process pid (SIGKILL) and have it reaped.  Called from
 * dispatcher threads and signpool_kill(); arg is the one of spawn.
 */
typedef void (*signpool_end_fn)(void *arg, pid_t pid);

/*
 * Start n signers with spawn (arg passed along) and one dispatcher for
 * each.  A signer that has not answered a message within timeout
 * seconds (plus one second per ResponseData in it) is given up, killed
 * and restarted like one that died.  NULL on failure (logged; the
 * signers started are stopped).
 */
struct signpool *signpool_new(int n, int timeout, signpool_spawn_fn spawn,
    signpool_end_fn end, void *arg);
/*
 * responder_sign_fn over the pool (arg is the pool): queue tbs and wait
 * for its signature; *sig is malloc'd.  0 when the signer refused, or
 * when no signer can be had (logged by the dispatcher that lost it).
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
 * 0 when no signer can be had or tbs is too large (cb is not called
 * then).
 */
int signpool_submit(struct signpool *p, const unsigned char *tbs,
    size_t tbs_len, signpool_done_fn cb, void *arg);
/* Messages sent to the signers so far (each carries one batch). */
unsigned long long signpool_batches(const struct signpool *p);
/* Signer processes started again after a loss, so far. */
unsigned long long signpool_restarts(const struct signpool *p);
/* 1 while every signer process is up and answers. */
int signpool_alive(const struct signpool *p);
/*
 * Shutdown with signers that hang: end every signer (SIGKILL) and
 * start none again, so that the work waiting for them fails.
 */
void signpool_kill(struct signpool *p);
/*
 * Stop the dispatchers once the queue is empty (callers of
 * signpool_sign must have returned), then the signers: each is asked to
 * stop and its socket closed (their parent reaps them, and kills one
 * that has not exited within 5 s).  Frees the pool.  Accepts NULL.
 */
void signpool_free(struct signpool *p);

#endif
