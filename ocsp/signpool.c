/*
 * Batched signing over the eseal-ocsp-signer processes, and their
 * supervision (see signpool.h).  A job lives on the stack of the thread
 * that waits for it (or on the heap for signpool_submit); the queue is a
 * singly linked FIFO under one mutex.  A dispatcher's signer process
 * (fd, pid) is only touched by that dispatcher, except that the pid is
 * published under the lock for signpool_kill().
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "signpool.h"

/* How often an idle dispatcher looks whether its signer still lives. */
#define IDLE_CHECK_MS	200
/* Signers a batch may lose before it fails. */
#define MAX_TRIES	2

struct job {
	const unsigned char	*tbs;
	size_t			 tbs_len;
	unsigned char		*sig;
	size_t			 sig_len;
	int			 ok;
	int			 tries;		/* signers lost with it */
	struct timespec		 queued_at;	/* CLOCK_MONOTONIC, first queued */
	sem_t			 done;		/* waiting jobs */
	signpool_done_fn	 cb;		/* asynchronous jobs (heap) */
	void			*cb_arg;
	struct job		*next;
};

struct dispatcher {
	struct signpool	*pool;
	pthread_t	 thread;
	int		 index;
	int		 started;
	int		 fd;		/* -1 while no signer */
	time_t		 rcvtimeo;	/* SO_RCVTIMEO set on fd, 0: none yet */
	pid_t		 pid;		/* under pool lock; 0 once reaped */
	int		 up;		/* atomic: a signer serves */
	unsigned int	 backoff_ms;
	time_t		 up_since;	/* CLOCK_MONOTONIC seconds */
};

struct signpool {
	pthread_mutex_t		 lock;
	pthread_cond_t		 work;
	pthread_cond_t		 stop_cv;	/* stopping or norestart */
	struct job		*head, **tail;
	int			 queued;	/* jobs on the queue */
	int			 busy;		/* dispatchers in a round trip */
	int			 alive;		/* dispatchers still serving */
	int			 timeout;	/* seconds, base per message */
	unsigned long long	 batches;	/* atomic */
	unsigned long long	 restarts;	/* atomic */
	int			 stopping;
	int			 norestart;	/* signpool_kill() */
	int			 spawn_failed;	/* last start attempt failed */
	signpool_spawn_fn	 spawn;
	signpool_end_fn		 end;
	void			*spawn_arg;
	int			 n;
	struct dispatcher	 d[SIGNPOOL_MAX];
};

static time_t
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* t plus ms milliseconds. */
static struct timespec
ts_add_ms(struct timespec t, unsigned int ms)
{
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* The CLOCK_MONOTONIC time ms milliseconds from now. */
static struct timespec
deadline_ms(unsigned int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_add_ms(ts, ms);
}

/* Hand the outcome of every job of the list back to its waiter. */
static void
finish(struct job *j)
{
	struct job *next;

	for (; j != NULL; j = next) {
		next = j->next;
		if (j->cb != NULL) {
			j->cb(j->cb_arg, j->ok, j->sig, j->sig_len);
			free(j);
		} else {
			sem_post(&j->done);
		}
	}
}

/* Number of dispatchers whose signer is up (called locked). */
static int
signers_up(const struct signpool *p)
{
	int i, n = 0;

	for (i = 0; i < p->n; i++) {
		n += __atomic_load_n(&p->d[i].up, __ATOMIC_RELAXED) != 0;
	}
	return n;
}

/* Empty the queue (called locked); the caller fails what it returns. */
static struct job *
take_all(struct signpool *p)
{
	struct job *j = p->head;

	p->head = NULL;
	p->tail = &p->head;
	p->queued = 0;
	return j;
}

/*
 * Take up to a batch from the queue (called locked): at most
 * SIGNPOOL_BATCH jobs whose framed sizes fit in one message.
 */
static struct job *
take(struct signpool *p, size_t *bytes, int *count)
{
	struct job *first = p->head, *j = p->head, *last = NULL;

	*bytes = 0;
	*count = 0;
	while (j != NULL && *count < SIGNPOOL_BATCH &&
	    *bytes + 4 + j->tbs_len <= IPC_MAX) {
		*bytes += 4 + j->tbs_len;
		(*count)++;
		last = j;
		j = j->next;
	}
	if (last == NULL) {
		return NULL;
	}
	p->head = j;
	if (j == NULL) {
		p->tail = &p->head;
	}
	p->queued -= *count;
	last->next = NULL;
	return first;
}

/*
 * One round trip for the batch: send the ResponseData, spread the
 * signatures.  0 when the signer is gone, hangs or spoke out of turn
 * (the jobs are then reset for another try).
 */
static int
round_trip(struct dispatcher *d, struct job *batch, size_t bytes, int count)
{
	struct timeval tv;
	unsigned char *buf, *msg = NULL;
	const unsigned char *q, *end;
	enum signop type;
	struct job *j;
	size_t off = 0, len;
	uint32_t l;
	int ret = 0;

	if ((buf = malloc(bytes)) == NULL) {
		fatalx("out of memory");
	}
	for (j = batch; j != NULL; j = j->next) {
		ipc_put32(buf + off, (uint32_t)j->tbs_len);
		memcpy(buf + off + 4, j->tbs, j->tbs_len);
		off += 4 + j->tbs_len;
	}
	__atomic_add_fetch(&d->pool->batches, 1, __ATOMIC_RELAXED);
	tv.tv_sec = d->pool->timeout + count;
	tv.tv_usec = 0;
	/* A syscall only when the batch size changed the timeout. */
	if (tv.tv_sec != d->rcvtimeo) {
		if (setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
		    sizeof(tv)) == -1) {
			log_warn("signer %d: SO_RCVTIMEO", d->index);
			d->rcvtimeo = 0;
		} else {
			d->rcvtimeo = tv.tv_sec;
		}
	}
	errno = 0;
	if (!ipc_send(d->fd, SIGNOP_SIGNV, buf, bytes) ||
	    !ipc_recv(d->fd, &type, &msg, &len, IPC_MAX)) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			log_warnx("signer %d: no answer within %ld s: given up",
			    d->index, (long)tv.tv_sec);
		} else {
			log_warnx("signer %d: gone", d->index);
		}
		goto out;
	}
	if (type == SIGNOP_ERROR) {
		log_warnx("signer %d: refused a batch", d->index);
		ret = 1;
		goto out;
	}
	if (type != SIGNOP_SIGV) {
		log_warnx("signer %d: unexpected message %d", d->index,
		    (int)type);
		goto out;
	}
	q = msg;
	end = msg + len;
	for (j = batch; j != NULL; j = j->next) {
		if (end - q < 4 || (size_t)(end - q - 4) < (l = ipc_get32(q))) {
			log_warnx("signer %d: short batch answer", d->index);
			goto out;
		}
		q += 4;
		if (l > 0) {
			if ((j->sig = malloc(l)) == NULL) {
				fatalx("out of memory");
			}
			memcpy(j->sig, q, l);
			j->sig_len = l;
			j->ok = 1;
		}
		q += l;
	}
	if (q != end) {
		log_warnx("signer %d: long batch answer", d->index);
		goto out;
	}
	ret = 1;
 out:
	if (!ret) {
		for (j = batch; j != NULL; j = j->next) {
			free(j->sig);
			j->sig = NULL;
			j->ok = 0;
		}
	}
	free(buf);
	free(msg);
	return ret;
}

/*
 * The signer of d is lost (dead, hung or confused): kill and reap it.
 * The jobs of batch that may be tried again go back to the head of the
 * queue, the others fail.
 */
static void
lose(struct dispatcher *d, struct job *batch)
{
	struct signpool *p = d->pool;
	struct job *j, *next, *again = NULL, **tailp = &again, *failed = NULL;
	pid_t pid;

	__atomic_store_n(&d->up, 0, __ATOMIC_RELAXED);
	pthread_mutex_lock(&p->lock);
	pid = d->pid;
	d->pid = 0;
	pthread_mutex_unlock(&p->lock);
	if (pid > 0) {
		p->end(p->spawn_arg, pid);
	}
	if (d->fd != -1) {
		close(d->fd);
		d->fd = -1;
	}
	if (mono_now() - d->up_since >= SIGNPOOL_HEALTHY) {
		d->backoff_ms = 0;
	}
	pthread_mutex_lock(&p->lock);
	if (batch != NULL) {
		p->busy--;
	}
	for (j = batch; j != NULL; j = next) {
		next = j->next;
		if (++j->tries < MAX_TRIES && !p->stopping && !p->norestart) {
			*tailp = j;
			tailp = &j->next;
			p->queued++;
		} else {
			j->next = failed;
			failed = j;
		}
	}
	if (again != NULL) {
		*tailp = p->head;
		if (p->head == NULL) {
			p->tail = tailp;
		}
		p->head = again;
	}
	if (p->head != NULL) {
		pthread_cond_broadcast(&p->work);
	}
	pthread_mutex_unlock(&p->lock);
	finish(failed);
}

/*
 * Start d's signer again after the backoff.  0 when the pool stops (or
 * restarts are off) first.  While no signer is up and an attempt fails,
 * the queued work fails rather than wait.
 */
static int
respawn(struct dispatcher *d)
{
	struct signpool *p = d->pool;
	struct timespec until;
	struct job *orphans;
	pid_t pid;
	int fd;

	for (;;) {
		d->backoff_ms = d->backoff_ms == 0 ? SIGNPOOL_BACKOFF_MIN :
		    d->backoff_ms;
		until = deadline_ms(d->backoff_ms);
		pthread_mutex_lock(&p->lock);
		while (!p->stopping && !p->norestart &&
		    pthread_cond_timedwait(&p->stop_cv, &p->lock, &until) !=
		    ETIMEDOUT) {
			;
		}
		if (p->stopping || p->norestart) {
			pthread_mutex_unlock(&p->lock);
			return 0;
		}
		pthread_mutex_unlock(&p->lock);
		if (d->backoff_ms < SIGNPOOL_BACKOFF_MAX) {
			d->backoff_ms *= 2;
			if (d->backoff_ms > SIGNPOOL_BACKOFF_MAX) {
				d->backoff_ms = SIGNPOOL_BACKOFF_MAX;
			}
		}
		if (p->spawn(p->spawn_arg, d->index, &fd, &pid)) {
			break;
		}
		pthread_mutex_lock(&p->lock);
		p->spawn_failed = 1;
		orphans = signers_up(p) == 0 ? take_all(p) : NULL;
		pthread_mutex_unlock(&p->lock);
		log_warnx("signer %d: cannot be restarted; next try in %u ms",
		    d->index, d->backoff_ms);
		finish(orphans);
	}
	d->fd = fd;
	d->rcvtimeo = 0;
	d->up_since = mono_now();
	pthread_mutex_lock(&p->lock);
	d->pid = pid;
	p->spawn_failed = 0;
	__atomic_store_n(&d->up, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	__atomic_add_fetch(&p->restarts, 1, __ATOMIC_RELAXED);
	log_warnx("signer %d: restarted (pid %ld)", d->index, (long)pid);
	return 1;
}

/*
 * 1 while d's signer process lives.  Its parent (the spawner) reaps it;
 * here a death shows as its socket closing: a signer never speaks
 * unasked, so a readable or hung-up socket between batches means lost.
 */
static int
child_lives(struct dispatcher *d)
{
	struct pollfd pfd;

	if (d->fd == -1) {
		return 0;
	}
	pfd.fd = d->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) != 1 || pfd.revents == 0) {
		return 1;
	}
	log_warnx("signer %d: gone (its socket closed)", d->index);
	return 0;
}

enum wake {
	WAKE_WORK,	/* a batch was taken */
	WAKE_IDLE,	/* nothing to do for a while */
	WAKE_STOP	/* stopping and the queue is empty */
};

/* 1 if a is before b. */
static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec &&
	    a->tv_nsec < b->tv_nsec);
}

/*
 * 1 when an idle dispatcher takes what is queued (called locked): any
 * work while no signer is busy; while one is, SIGNPOOL_SPREAD jobs or a
 * job queued SIGNPOOL_SPREAD_MS ago (a busy signer that hangs holds the
 * queue no longer).  Under that, the work waits for the busy signer,
 * which takes it as one batch when it is done: batches grow, and every
 * batch costs each side one wake-up whatever its size.  Otherwise
 * *ready_at is when the head of the queue will be ready.
 */
static int
work_ready(const struct signpool *p, struct timespec *ready_at)
{
	struct timespec now;

	if (p->head == NULL) {
		return 0;
	}
	if (p->busy == 0 || p->queued >= SIGNPOOL_SPREAD || p->stopping) {
		return 1;
	}
	*ready_at = ts_add_ms(p->head->queued_at, SIGNPOOL_SPREAD_MS);
	clock_gettime(CLOCK_MONOTONIC, &now);
	return !ts_before(&now, ready_at);
}

/* Wait for work (called locked); a batch taken counts as busy. */
static enum wake
wait_work(struct signpool *p, struct job **batch, size_t *bytes, int *count)
{
	struct timespec until = deadline_ms(IDLE_CHECK_MS), ready_at, w;

	for (;;) {
		ready_at = until;
		if (p->stopping || work_ready(p, &ready_at)) {
			break;
		}
		w = ts_before(&ready_at, &until) ? ready_at : until;
		if (pthread_cond_timedwait(&p->work, &p->lock, &w) ==
		    ETIMEDOUT && !ts_before(&w, &until)) {
			return WAKE_IDLE;
		}
	}
	if ((*batch = take(p, bytes, count)) == NULL) {
		return WAKE_STOP;
	}
	p->busy++;
	return WAKE_WORK;
}

static void *
dispatch(void *arg)
{
	struct dispatcher *d = arg;
	struct signpool *p = d->pool;
	struct job *batch = NULL, *orphans = NULL;
	size_t bytes;
	int count;
	enum wake w;

	for (;;) {
		if (d->fd == -1 && !respawn(d)) {
			break;
		}
		pthread_mutex_lock(&p->lock);
		w = wait_work(p, &batch, &bytes, &count);
		pthread_mutex_unlock(&p->lock);
		if (w == WAKE_STOP) {
			break;
		}
		if (w == WAKE_IDLE) {
			if (!child_lives(d)) {
				lose(d, NULL);
			}
			continue;
		}
		if (round_trip(d, batch, bytes, count)) {
			pthread_mutex_lock(&p->lock);
			p->busy--;
			pthread_mutex_unlock(&p->lock);
			finish(batch);
		} else {
			lose(d, batch);
		}
	}
	pthread_mutex_lock(&p->lock);
	if (--p->alive == 0) {
		/* The last one out fails whatever is still queued. */
		orphans = take_all(p);
	}
	pthread_mutex_unlock(&p->lock);
	finish(orphans);
	return NULL;
}

/*
 * Ask every signer still there to stop and close its socket; its parent
 * (the spawner) reaps it, and kills one that has not exited within 5 s.
 */
static void
stop_signers(struct signpool *p)
{
	int i;

	for (i = 0; i < p->n; i++) {
		if (p->d[i].fd != -1) {
			ipc_send(p->d[i].fd, SIGNOP_STOP, NULL, 0);
			close(p->d[i].fd);
			p->d[i].fd = -1;
		}
		p->d[i].pid = 0;
	}
}

struct signpool *
signpool_new(int n, int timeout, signpool_spawn_fn spawn,
    signpool_end_fn end, void *arg)
{
	struct signpool *p;
	pthread_condattr_t ca;
	int i;

	if (n < 1 || n > SIGNPOOL_MAX) {
		log_warnx("signpool: %d signers (1..%d)", n, SIGNPOOL_MAX);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		fatalx("out of memory");
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->work, &ca);
	pthread_cond_init(&p->stop_cv, &ca);
	pthread_condattr_destroy(&ca);
	p->tail = &p->head;
	p->n = n;
	p->timeout = timeout;
	p->spawn = spawn;
	p->end = end;
	p->spawn_arg = arg;
	for (i = 0; i < n; i++) {
		p->d[i].pool = p;
		p->d[i].index = i;
		p->d[i].fd = -1;
	}
	for (i = 0; i < n; i++) {
		if (!spawn(arg, i, &p->d[i].fd, &p->d[i].pid)) {
			p->d[i].fd = -1;
			p->d[i].pid = 0;
			signpool_free(p);
			return NULL;
		}
		p->d[i].up = 1;
		p->d[i].up_since = mono_now();
	}
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&p->lock);
		p->alive++;
		pthread_mutex_unlock(&p->lock);
		if (pthread_create(&p->d[i].thread, NULL, dispatch,
		    &p->d[i]) != 0) {
			log_warnx("signpool: cannot start a dispatcher");
			pthread_mutex_lock(&p->lock);
			p->alive--;
			pthread_mutex_unlock(&p->lock);
			signpool_free(p);
			return NULL;
		}
		p->d[i].started = 1;
	}
	return p;
}

/* Queue j unless no signer can be had. 1/0. */
static int
enqueue(struct signpool *p, struct job *j)
{
	pthread_mutex_lock(&p->lock);
	if (p->alive == 0 || p->stopping ||
	    (p->spawn_failed && signers_up(p) == 0)) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	*p->tail = j;
	p->tail = &j->next;
	p->queued++;
	/* Wake a dispatcher only when the work became ready for one. */
	if ((p->busy == 0 && p->queued == 1) ||
	    p->queued == SIGNPOOL_SPREAD) {
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->lock);
	return 1;
}

int
signpool_submit(struct signpool *p, const unsigned char *tbs,
    size_t tbs_len, signpool_done_fn cb, void *arg)
{
	struct job *j;

	if (tbs_len + 4 > IPC_MAX) {
		log_warnx("signpool: ResponseData of %zu bytes over the cap",
		    tbs_len);
		return 0;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		fatalx("out of memory");
	}
	j->tbs = tbs;
	j->tbs_len = tbs_len;
	clock_gettime(CLOCK_MONOTONIC, &j->queued_at);
	j->cb = cb;
	j->cb_arg = arg;
	if (!enqueue(p, j)) {
		free(j);
		return 0;
	}
	return 1;
}

int
signpool_sign(void *arg, const unsigned char *tbs, size_t tbs_len,
    unsigned char **sig, size_t *sig_len)
{
	struct signpool *p = arg;
	struct job j;

	*sig = NULL;
	*sig_len = 0;
	if (tbs_len + 4 > IPC_MAX) {
		log_warnx("signpool: ResponseData of %zu bytes over the cap",
		    tbs_len);
		return 0;
	}
	memset(&j, 0, sizeof(j));
	j.tbs = tbs;
	j.tbs_len = tbs_len;
	clock_gettime(CLOCK_MONOTONIC, &j.queued_at);
	sem_init(&j.done, 0, 0);
	if (!enqueue(p, &j)) {
		sem_destroy(&j.done);
		return 0;
	}
	while (sem_wait(&j.done) != 0) {
		;	/* EINTR */
	}
	sem_destroy(&j.done);
	*sig = j.sig;
	*sig_len = j.sig_len;
	return j.ok;
}

unsigned long long
signpool_batches(const struct signpool *p)
{
	return __atomic_load_n(&p->batches, __ATOMIC_RELAXED);
}

unsigned long long
signpool_restarts(const struct signpool *p)
{
	return __atomic_load_n(&p->restarts, __ATOMIC_RELAXED);
}

int
signpool_alive(const struct signpool *p)
{
	int i;

	for (i = 0; i < p->n; i++) {
		if (!__atomic_load_n(&p->d[i].up, __ATOMIC_RELAXED)) {
			return 0;
		}
	}
	return 1;
}

void
signpool_kill(struct signpool *p)
{
	pid_t pids[SIGNPOOL_MAX];
	int i;

	pthread_mutex_lock(&p->lock);
	p->norestart = 1;
	pthread_cond_broadcast(&p->stop_cv);
	for (i = 0; i < p->n; i++) {
		pids[i] = p->d[i].pid;
	}
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->n; i++) {
		if (pids[i] > 0) {
			p->end(p->spawn_arg, pids[i]);
		}
	}
}

void
signpool_free(struct signpool *p)
{
	int i;

	if (p == NULL) {
		return;
	}
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->stop_cv);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->n; i++) {
		if (p->d[i].started) {
			pthread_join(p->d[i].thread, NULL);
		}
	}
	stop_signers(p);
	pthread_cond_destroy(&p->stop_cv);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
