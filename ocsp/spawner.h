/*
 * The signer spawner of eseal-ocspd: a small process forked at start-up,
 * before any thread and before the privilege drop, that alone starts
 * eseal-ocsp-signer processes (fork+exec) and reaps them, so that the
 * responder itself runs every thread under a seccomp filter without
 * fork or execve.  The responder asks over a SOCK_SEQPACKET socketpair;
 * the spawner answers a start with the new signer's pid and passes the
 * responder's end of the signer's socketpair (SCM_RIGHTS).  It keeps its
 * privileges (a signer started later must still read its key) and
 * nothing else: every other descriptor is closed, it reads no file and
 * parses nothing but fixed-size requests.  When the responder closes its
 * end (exit or crash) the spawner lets its signers stop (5 s, then
 * SIGKILL), reaps them and exits.
 */
#ifndef ESEAL_OCSP_SPAWNER_H
#define ESEAL_OCSP_SPAWNER_H

#include <sys/types.h>

struct spawner;

/*
 * Fork the spawner; each signer it starts is argv[0] run with argv,
 * with its socket as descriptor 3.  Call while the process has a single
 * thread.  NULL on failure (logged).
 */
struct spawner *spawner_start(char *const argv[]);
/*
 * Start one signer: *fd is this process's end of its socketpair (owned
 * by the caller), *pid its process id (a child of the spawner).  Any
 * thread may call.  1/0 (logged once when the spawner is gone,
 * ES-OCSPD-12).
 */
int spawner_spawn(struct spawner *s, int *fd, pid_t *pid);
/* Have the spawner kill signer pid (SIGKILL) and reap it.  Any thread. */
void spawner_kill(struct spawner *s, pid_t pid);
/* 1 once the spawner is known to be gone. */
int spawner_gone(struct spawner *s);
/* The spawner's process id (tests, logs). */
pid_t spawner_pid(const struct spawner *s);
/*
 * Close the socket, so that the spawner ends its signers and exits, and
 * reap it.  Accepts NULL.
 */
void spawner_free(struct spawner *s);

#endif
