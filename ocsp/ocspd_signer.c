/*
 * The signer processes of eseal-ocspd: have the spawner (spawner.h)
 * start eseal-ocsp-signer and check its HELLO (the first one sets
 * rsigner, later ones must announce the same certificate and
 * algorithm).  The pool (signpool.c) calls spawn_signer() to start and
 * restart them and end_signer() to end a lost one.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "export.h"
#include "ipc.h"
#include "listen.h"
#include "log.h"
#include "priv.h"
#include "responder.h"
#include "secret.h"
#include "signpool.h"
#include "spawner.h"
#include "statedir.h"
#include "util.h"
#include "ocspd_int.h"

#ifndef SBINDIR
#define SBINDIR "/usr/sbin"
#endif

struct signer_proc {
	int		 fd;
	pid_t		 pid;
};

struct responder_signer rsigner;
struct signpool *pool;
struct spawner *spawner;

/* --- signer processes --------------------------------------------- */

/* The signer's command line, built once before the spawner is forked. */
static const char *sargv[20];

/*
 * Build the signer's command line from cfg and fork the spawner (before
 * any thread and before the privilege drop: signers started later still
 * read their key with the start-up privileges).  1/0 (logged).
 */
int
signers_prepare(void)
{
	int n = 0;

	sargv[n++] = cfg.signer_program != NULL ? cfg.signer_program :
	    SBINDIR "/eseal-ocsp-signer";
	sargv[n++] = "-f";
	sargv[n++] = "3";
	sargv[n++] = "-c";
	sargv[n++] = cfg.signer_cert;
	sargv[n++] = "-k";
	sargv[n++] = cfg.signer_key;
	if (cfg.signer_pass != NULL) {
		sargv[n++] = "-p";
		sargv[n++] = cfg.signer_pass;
	}
	if (cfg.signer_alg != NULL) {
		sargv[n++] = "-a";
		sargv[n++] = cfg.signer_alg;
	}
	if (cfg.algorithm_policy != NULL) {
		sargv[n++] = "-P";
		sargv[n++] = cfg.algorithm_policy;
	}
	if (cfg.user != NULL) {
		sargv[n++] = "-u";
		sargv[n++] = cfg.user;
	}
	if (!cfg.sandbox) {
		sargv[n++] = "-S";
	}
	if (cfg.syslog) {
		sargv[n++] = "-s";
	}
	sargv[n] = NULL;
	return (spawner = spawner_start((char *const *)sargv)) != NULL;
}

/*
 * Have the spawner start a signer; its HELLO (within signer-timeout)
 * sets rsigner (first) or must match it.  1/0 (logged; a signer that
 * failed is ended by the spawner).
 */
static int
signer_start(struct signer_proc *sp, int first)
{
	const char *prog = sargv[0];
	int ret = 0;
	enum signop type;
	unsigned char *msg = NULL;
	const unsigned char *p;
	size_t len;
	uint32_t clen;
	X509 *cert;

	if (!spawner_spawn(spawner, &sp->fd, &sp->pid)) {
		return 0;
	}
	(void)setsockopt(sp->fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){
	    cfg.signer_timeout, 0 }, sizeof(struct timeval));
	if (!ipc_recv(sp->fd, &type, &msg, &len, IPC_MAX) ||
	    type != SIGNOP_HELLO || len < 4) {
		log_warnx("%s: signer did not start", prog);
		goto out;
	}
	clen = ipc_get32(msg);
	if (clen > len - 4 || clen == len - 4) {
		log_warnx("%s: bad hello", prog);
		goto out;
	}
	if (!first) {
		/* Another or a restarted signer: the same certificate. */
		if (clen != rsigner.cert_der_len || memcmp(msg + 4,
		    rsigner.cert_der, clen) != 0 || len - 4 - clen !=
		    rsigner.algid_len || memcmp(msg + 4 + clen, rsigner.algid,
		    rsigner.algid_len) != 0) {
			log_warnx("%s: ES-OCSPD-06: the signer process announced "
			    "another certificate or algorithm than the first",
			    prog);
			goto out;
		}
	} else {
		p = msg + 4;
		if ((cert = d2i_X509(NULL, &p, (long)clen)) == NULL ||
		    p != msg + 4 + clen) {
			X509_free(cert);
			log_ssl("%s: bad certificate in hello", prog);
			goto out;
		}
		rsigner.cert = cert;
		rsigner.algid_len = len - 4 - clen;
		if ((rsigner.algid = malloc(rsigner.algid_len)) == NULL) {
			fatalx("out of memory");
		}
		memcpy(rsigner.algid, msg + 4 + clen, rsigner.algid_len);
		if (!responder_signer_prepare(&rsigner)) {
			goto out;
		}
	}
	ret = 1;
 out:
	free(msg);
	if (!ret) {
		close(sp->fd);
		sp->fd = -1;
		spawner_kill(spawner, sp->pid);
	}
	return ret;
}

/*
 * signpool_spawn_fn: start one signer; the first one ever started
 * announces the certificate and algorithm (rsigner), later ones (more
 * signers, restarts) must announce the same.
 */
int
spawn_signer(void *arg, int index, int *fd, pid_t *pid)
{
	struct signer_proc sp;

	if (!signer_start(&sp, rsigner.cert == NULL)) {
		return 0;
	}
	*fd = sp.fd;
	*pid = sp.pid;
	return 1;
}

/* signpool_end_fn: the spawner kills and reaps signer pid. */
void
end_signer(void *arg, pid_t pid)
{
	spawner_kill(spawner, pid);
}

/* 1 if the pool has a signer process up. */
int
signers_alive(void)
{
	return pool != NULL && signpool_alive(pool);
}
