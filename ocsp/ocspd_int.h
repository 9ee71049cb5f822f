/*
 * What the parts of eseal-ocspd share: the configuration (ocspd_conf.c),
 * the signer processes (ocspd_signer.c), the HTTP answers (ocspd_http.c)
 * and the start-up, reload and signal handling (ocspd.c).  The globals
 * below are set up by the main thread before any other thread starts;
 * afterwards the state is reached through state_get() and the counters
 * through atomics.
 */
#ifndef ESEAL_OCSPD_INT_H
#define ESEAL_OCSPD_INT_H

#include <stdint.h>
#include <sys/types.h>

#include <microhttpd.h>
#include <openssl/x509.h>

#include "responder.h"
#include "signpool.h"

#define MAX_CA		8
#define MAX_SIGNERS	SIGNPOOL_MAX

struct config {
	char	*listen;
	int	 port;
	char	*port_file;
	char	*export_path;
	char	*ca_certs[MAX_CA];
	int	 nca;
	char	*signer_cert, *signer_key, *signer_pass, *signer_alg;
	char	*algorithm_policy;	/* the signer checks signer-alg */
	char	*signer_program;
	int	 signers;
	int	 signer_timeout;
	int	 max_body;
	int	 max_connections;
	int	 max_per_client;	/* 0: max-connections / 4, in 4..64 */
	int	 request_timeout;	/* 0: the idle timeout */
	int	 sandbox;
	int	 threads;
	int	 max_age;
	int	 timeout;
	int	 reload_interval;
	int	 presign;
	char	*user;
	char	*state_dir;
	int	 syslog;
	struct responder_opts ro;
};

/* ocspd_conf.c */
extern struct config cfg;
/* Read the key = value configuration file into cfg. 1/0 (logged). */
int	config_read(const char *);

/* ocspd_signer.c */
extern struct responder_signer rsigner;
extern struct signpool *pool;
extern struct spawner *spawner;
/* Build the signer command line and fork the spawner. 1/0 (logged). */
int	signers_prepare(void);
/* signpool_end_fn over the spawner. */
void	end_signer(void *, pid_t);
/* signpool_spawn_fn: start one signer process (see ocspd_signer.c). */
int	spawn_signer(void *, int, int *, pid_t *);
/* 1 if the pool has a signer process up. */
int	signers_alive(void);

/* ocspd_http.c */
/* Answers suspended for a signature; shutdown waits for none to be left. */
extern int inflight;
/* The MHD access handler and completion callback of the responder. */
enum MHD_Result http_handler(void *, struct MHD_Connection *, const char *,
	    const char *, const char *, const char *, size_t *, void **);
void	http_completed(void *, struct MHD_Connection *, void **,
	    enum MHD_RequestTerminationCode);

/* ocspd.c */
extern X509 *trust[MAX_CA];
extern int stopping;	/* atomic: set once by the main thread */
extern uint64_t m_reload_ok, m_reload_refused, m_reload_failed;
/* 1 once the responder is shutting down. */
int	is_stopping(void);
/* A reference on the current state (rstate_unref it). */
struct rstate *state_get(void);
/* Serve st (reference taken over); the old state is unreferenced. */
void	state_swap(struct rstate *);

/* Count one event on a /metrics counter. */
static inline void
inc(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* A counter's value for /metrics. */
static inline unsigned long long
ld(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif
