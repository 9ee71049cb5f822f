/*
 * Connections of eseal-ocspd (see listen.h).  libmicrohttpd's own limits
 * do not do what a public responder needs: at MHD_OPTION_CONNECTION_LIMIT
 * it stops accepting, so further clients wait unanswered in the listen
 * queue, and its connection timeout is an idle timeout that a client
 * sending one header line every few seconds never reaches.  Here every
 * connection is recorded (NOTIFY_CONNECTION) with its client address and
 * the start of its current request; the accept policy callback closes at
 * once what is over max-connections or over the per-client limit, and a
 * deadline thread shuts down the socket of any request not complete
 * within request-timeout, which libmicrohttpd then closes.  The record
 * list is under one mutex; the socket is shut down under it, and
 * libmicrohttpd reports CLOSED (which removes the record) before it
 * closes the descriptor, so a descriptor is never shut down after reuse.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "sandbox.h"

#define NBUCKET		1024
#define SWEEP_MS	250
#define BACKLOG		1024

enum cstate {
	C_RECEIVING,	/* the deadline runs */
	C_ANSWERING,	/* the request is complete */
	C_CLOSING	/* refused or past its deadline: shut down */
};

/* Connections from one IPv4 address or one IPv6 /64. */
struct client {
	unsigned char	 key[16];
	int		 n;
	struct client	*next;
};

struct conn {
	struct conn	*prev, *next;
	struct client	*client;
	int		 fd;
	enum cstate	 state;
	struct timespec	 start;
};

static struct listen_opts opts;
static MHD_AccessHandlerCallback real_handler;
static MHD_RequestCompletedCallback real_done;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns;		/* under lock */
static struct client *buckets[NBUCKET];	/* under lock */
static int live;			/* under lock */
static int sweeping;			/* atomic: deadline thread runs */
static pthread_t sweeper;
static int have_sweeper;

/* Counters (atomics). */
static uint64_t m_refused_max, m_refused_client, m_closed_deadline;

static void
inc(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/*
 * The client key of addr: an IPv4 address (also when IPv4-mapped) in
 * the ::ffff:0:0/96 form, or the /64 of an IPv6 address, since one host
 * commonly holds a whole /64.  0 for another family.
 */
static int
client_key(const struct sockaddr *sa, unsigned char key[16])
{
	const struct sockaddr_in6 *s6;

	memset(key, 0, 16);
	if (sa == NULL) {
		return 0;
	}
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, 4);
		return 1;
	}
	if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(key, &s6->sin6_addr, 16);
		} else {
			memcpy(key, &s6->sin6_addr, 8);
		}
		return 1;
	}
	return 0;
}

static unsigned int
bucket_of(const unsigned char key[16])
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 16; i++) {
		h = (h ^ key[i]) * 16777619u;
	}
	return h % NBUCKET;
}

/* The client entry for key; created when make is set.  Under lock. */
static struct client *
client_find(const unsigned char key[16], int make)
{
	struct client **pp, *cl;

	pp = &buckets[bucket_of(key)];
	for (cl = *pp; cl != NULL; cl = cl->next) {
		if (memcmp(cl->key, key, 16) == 0) {
			return cl;
		}
	}
	if (!make) {
		return NULL;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		fatalx("out of memory");
	}
	memcpy(cl->key, key, 16);
	cl->next = *pp;
	*pp = cl;
	return cl;
}

/* Drop one connection of cl, freeing the entry at zero.  Under lock. */
static void
client_put(struct client *cl)
{
	struct client **pp;

	if (cl == NULL || --cl->n > 0) {
		return;
	}
	for (pp = &buckets[bucket_of(cl->key)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			free(cl);
			return;
		}
	}
}

/*
 * Which limit a new connection from key would exceed: 0 none, 1
 * max-connections, 2 max-per-client.  Under lock.
 */
static int
over_limit(const unsigned char key[16], int have_key)
{
	struct client *cl;

	if (live >= opts.max_connections) {
		return 1;
	}
	if (have_key && (cl = client_find(key, 0)) != NULL &&
	    cl->n >= opts.max_per_client) {
		return 2;
	}
	return 0;
}

static void
count_refusal(int why)
{
	inc(why == 1 ? &m_refused_max : &m_refused_client);
}

/*
 * MHD_OPTION_ACCEPT_POLICY_CALLBACK: refuse (libmicrohttpd then closes
 * the socket at once) a connection over either limit.  Worker threads
 * accept concurrently, so NOTIFY_CONNECTION checks again.
 */
static enum MHD_Result
accept_policy(void *cls, const struct sockaddr *sa, socklen_t salen)
{
	unsigned char key[16];
	int have_key, why;

	have_key = client_key(sa, key);
	pthread_mutex_lock(&lock);
	why = over_limit(key, have_key);
	pthread_mutex_unlock(&lock);
	if (why != 0) {
		count_refusal(why);
		log_debug("connection refused: %s", why == 1 ?
		    "max-connections" : "max-per-client");
		return MHD_NO;
	}
	return MHD_YES;
}

/* Record a new connection; shut it down when over a limit after all. */
static void
conn_started(struct MHD_Connection *c, void **ctx)
{
	const union MHD_ConnectionInfo *fi, *ai;
	unsigned char key[16];
	struct conn *cn;
	int have_key, why;

	if ((cn = calloc(1, sizeof(*cn))) == NULL) {
		fatalx("out of memory");
	}
	fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	ai = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	cn->fd = fi != NULL ? fi->connect_fd : -1;
	have_key = client_key(ai != NULL ? ai->client_addr : NULL, key);
	clock_gettime(CLOCK_MONOTONIC, &cn->start);
	pthread_mutex_lock(&lock);
	why = over_limit(key, have_key);
	if (have_key) {
		cn->client = client_find(key, 1);
		cn->client->n++;
	}
	live++;
	cn->next = conns;
	if (conns != NULL) {
		conns->prev = cn;
	}
	conns = cn;
	if (why != 0) {
		cn->state = C_CLOSING;
		if (cn->fd != -1) {
			shutdown(cn->fd, SHUT_RDWR);
		}
	}
	pthread_mutex_unlock(&lock);
	if (why != 0) {
		count_refusal(why);
	}
	*ctx = cn;
}

/* Forget a connection libmicrohttpd is about to close. */
static void
conn_closed(void **ctx)
{
	struct conn *cn = *ctx;

	if (cn == NULL) {
		return;
	}
	pthread_mutex_lock(&lock);
	if (cn->prev != NULL) {
		cn->prev->next = cn->next;
	} else {
		conns = cn->next;
	}
	if (cn->next != NULL) {
		cn->next->prev = cn->prev;
	}
	client_put(cn->client);
	live--;
	pthread_mutex_unlock(&lock);
	free(cn);
	*ctx = NULL;
}

static void
notify_connection(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		conn_started(c, ctx);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		conn_closed(ctx);
	}
}

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* Whether the request of cn, started at cn->start, is past now. */
static int
past_deadline(const struct conn *cn, const struct timespec *now)
{
	long long ms;

	ms = (long long)(now->tv_sec - cn->start.tv_sec) * 1000 +
	    (now->tv_nsec - cn->start.tv_nsec) / 1000000;
	return ms >= (long long)opts.request_timeout * 1000;
}

/*
 * The access handler around the responder's: a request past its
 * deadline is closed (MHD_NO) even when its last piece just arrived;
 * once the request is complete (a later call with nothing left to
 * upload) the deadline stops.
 */
static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct conn *cn = conn_of(c);
	struct timespec now;
	int late = 0;

	if (cn != NULL) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		pthread_mutex_lock(&lock);
		if (cn->state == C_RECEIVING && past_deadline(cn, &now)) {
			cn->state = C_CLOSING;
			late = 1;
		} else if (cn->state == C_RECEIVING && *con_cls != NULL &&
		    *upload_size == 0) {
			cn->state = C_ANSWERING;
		}
		pthread_mutex_unlock(&lock);
	}
	if (late) {
		inc(&m_closed_deadline);
		return MHD_NO;
	}
	return real_handler(cls, c, url, method, version, upload,
	    upload_size, con_cls);
}

/* After an answer, the next request on the connection has its deadline. */
static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = conn_of(c);

	real_done(cls, c, con_cls, toe);
	if (cn == NULL) {
		return;
	}
	pthread_mutex_lock(&lock);
	if (cn->state != C_CLOSING) {
		cn->state = C_RECEIVING;
		clock_gettime(CLOCK_MONOTONIC, &cn->start);
	}
	pthread_mutex_unlock(&lock);
}

/* The deadline thread: shut down every request past request-timeout. */
static void *
sweep(void *arg)
{
	struct timespec now, pause = { 0, SWEEP_MS * 1000000L };
	struct conn *cn;
	int n;

	pthread_setname_np(pthread_self(), "ocspd-deadline");
	while (__atomic_load_n(&sweeping, __ATOMIC_ACQUIRE)) {
		nanosleep(&pause, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		n = 0;
		pthread_mutex_lock(&lock);
		for (cn = conns; cn != NULL; cn = cn->next) {
			if (cn->state == C_RECEIVING &&
			    past_deadline(cn, &now)) {
				cn->state = C_CLOSING;
				if (cn->fd != -1) {
					shutdown(cn->fd, SHUT_RDWR);
				}
				n++;
			}
		}
		pthread_mutex_unlock(&lock);
		if (n > 0) {
			__atomic_add_fetch(&m_closed_deadline, (uint64_t)n,
			    __ATOMIC_RELAXED);
			log_debug("request-timeout: %d connections closed", n);
		}
	}
	return NULL;
}

int
listen_bind(const char *host, int port, unsigned int *bound)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char portbuf[16];
	int fd = -1, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	if (getaddrinfo(host, portbuf, &hints, &ai) != 0) {
		log_warnx("listen: bad address \"%s\"", host);
		return -1;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, BACKLOG) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		log_warn("cannot listen on %s port %d", host, port);
		if (fd != -1) {
			close(fd);
		}
		fd = -1;
	} else if (ss.ss_family == AF_INET6) {
		*bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		*bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	freeaddrinfo(ai);
	return fd;
}

struct start_arg {
	int			 fd;
	struct MHD_Daemon	*d;
};

/*
 * The thread that creates libmicrohttpd's threads and the deadline
 * thread: it installs the responder sandbox first, and threads inherit
 * the filter of the thread that creates them.
 */
static void *
start_thread(void *arg)
{
	struct start_arg *sa = arg;
	unsigned int limit;

	if (opts.sandbox && !sandbox_apply(SANDBOX_RESPONDER)) {
		close(sa->fd);
		return NULL;
	}
	/*
	 * libmicrohttpd's own limit is shared out among its worker threads
	 * and makes a full worker stop accepting: keep it out of reach, so
	 * that the accept policy closes what is over max-connections.
	 */
	limit = (unsigned int)(opts.max_connections + 64) *
	    (unsigned int)opts.threads;
	sa->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0,
	    accept_policy, NULL, handler, NULL,
	    MHD_OPTION_LISTEN_SOCKET, sa->fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)opts.threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)opts.idle_timeout,
	    MHD_OPTION_CONNECTION_LIMIT, limit,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_connection, NULL,
	    MHD_OPTION_END);
	if (sa->d == NULL) {
		log_warnx("cannot start the HTTP server");
		close(sa->fd);
		return NULL;
	}
	__atomic_store_n(&sweeping, 1, __ATOMIC_RELEASE);
	if (pthread_create(&sweeper, NULL, sweep, NULL) != 0) {
		log_warnx("cannot start the request deadline thread");
		__atomic_store_n(&sweeping, 0, __ATOMIC_RELEASE);
		MHD_stop_daemon(sa->d);
		sa->d = NULL;
		return NULL;
	}
	have_sweeper = 1;
	return NULL;
}

struct MHD_Daemon *
listen_start(int fd, const struct listen_opts *o,
    MHD_AccessHandlerCallback h, MHD_RequestCompletedCallback done)
{
	struct start_arg sa = { fd, NULL };
	pthread_t t;

	opts = *o;
	if (opts.max_per_client < 1) {
		opts.max_per_client = 1;
	}
	real_handler = h;
	real_done = done;
	if (pthread_create(&t, NULL, start_thread, &sa) != 0) {
		log_warnx("cannot start the HTTP server thread");
		close(fd);
		return NULL;
	}
	pthread_join(t, NULL);
	return sa.d;
}

void
listen_stop(struct MHD_Daemon *d)
{
	if (have_sweeper) {
		__atomic_store_n(&sweeping, 0, __ATOMIC_RELEASE);
		pthread_join(sweeper, NULL);
		have_sweeper = 0;
	}
	if (d != NULL) {
		MHD_stop_daemon(d);
	}
}

void
listen_metrics(FILE *f)
{
	int n;

	pthread_mutex_lock(&lock);
	n = live;
	pthread_mutex_unlock(&lock);
	fprintf(f, "# TYPE eseal_ocsp_connections gauge\n"
	    "eseal_ocsp_connections %d\n"
	    "# TYPE eseal_ocsp_connections_refused_total counter\n"
	    "eseal_ocsp_connections_refused_total{reason=\"max-connections\"} "
	    "%llu\n"
	    "eseal_ocsp_connections_refused_total{reason=\"max-per-client\"} "
	    "%llu\n"
	    "# TYPE eseal_ocsp_connections_closed_total counter\n"
	    "eseal_ocsp_connections_closed_total{reason=\"request-timeout\"} "
	    "%llu\n", n,
	    (unsigned long long)__atomic_load_n(&m_refused_max,
	    __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&m_refused_client,
	    __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&m_closed_deadline,
	    __ATOMIC_RELAXED));
}
