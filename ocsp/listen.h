/*
 * The listening socket and the connection limits of eseal-ocspd: the
 * socket is bound before privileges are dropped and handed to
 * libmicrohttpd afterwards (MHD_OPTION_LISTEN_SOCKET), so that nothing
 * is accepted as root; every connection is counted so that connections
 * over max-connections or over the per-client limit are closed at once
 * and a request that is not complete within its deadline is closed
 * however slowly it trickles.
 */
#ifndef ESEAL_LISTEN_H
#define ESEAL_LISTEN_H

#include <stdio.h>

#include <microhttpd.h>

struct listen_opts {
	int	max_connections;	/* whole daemon */
	int	max_per_client;		/* one IPv4 address or IPv6 /64 */
	int	request_timeout;	/* seconds, start to complete request */
	int	idle_timeout;		/* seconds, MHD_OPTION_CONNECTION_TIMEOUT */
	int	threads;
	int	sandbox;		/* install the responder filter */
};

/*
 * listen_bind: a listening TCP socket on the numeric address host, port
 * (0: any free port), non-blocking and close-on-exec.  Returns the
 * descriptor and sets *bound to the port actually bound, or -1 (logged).
 */
int listen_bind(const char *host, int port, unsigned int *bound);

/*
 * listen_start: start libmicrohttpd on fd (which it then owns) with the
 * access handler h and the completion callback done wrapped by the
 * connection accounting.  The daemon's threads are created from a
 * thread that installs the responder sandbox first when o->sandbox is
 * set, so every thread that reads from the network runs under it; the
 * calling thread does not.  Returns the daemon or NULL (logged).
 */
struct MHD_Daemon *listen_start(int fd, const struct listen_opts *o,
    MHD_AccessHandlerCallback h, MHD_RequestCompletedCallback done);

/* listen_stop: stop the deadline thread and the daemon (NULL: nothing). */
void listen_stop(struct MHD_Daemon *d);

/* listen_metrics: the connection gauges and counters, Prometheus text. */
void listen_metrics(FILE *f);

#endif
