/*
 * Batched signing over the eseal-ocsp-signer processes (see signpool.h).
 * A job lives on the stack of the thread that waits for it; the queue
 * is a singly linked FIFO under one mutex.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "log.h"
#include "signpool.h"

struct job {
	const unsigned char	*tbs;
	size_t			 tbs_len;
	unsigned char		*sig;
	size_t			 sig_len;
	int			 ok;
	sem_t			 done;		/* waiting jobs */
	signpool_done_fn	 cb;		/* asynchronous jobs (heap) */
	void			*cb_arg;
	struct job		*next;
};

struct dispatcher {
	struct signpool	*pool;
	pthread_t	 thread;
	int		 fd;
	int		 index;
	int		 dead;		/* atomic */
	int		 started;
};

struct signpool {
	pthread_mutex_t		 lock;
	pthread_cond_t		 work;
	struct job		*head, **tail;
	int			 alive;		/* dispatchers still serving */
	int			 timeout;	/* seconds, base per message */
	unsigned long long	 batches;	/* atomic */
	int			 stopping;
	int			 n;
	struct dispatcher	 d[SIGNPOOL_MAX];
};

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
	last->next = NULL;
	return first;
}

/*
 * One round trip for the batch: send the ResponseData, spread the
 * signatures.  0 when the signer is gone or spoke out of turn (the
 * jobs are then failed).
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
	if (setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		log_warn("signer %d: SO_RCVTIMEO", d->index);
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

static void *
dispatch(void *arg)
{
	struct dispatcher *d = arg;
	struct signpool *p = d->pool;
	struct job *batch, *orphans = NULL;
	size_t bytes;
	int count, up = 1;

	while (up) {
		pthread_mutex_lock(&p->lock);
		while (p->head == NULL && !p->stopping) {
			pthread_cond_wait(&p->work, &p->lock);
		}
		batch = take(p, &bytes, &count);
		pthread_mutex_unlock(&p->lock);
		if (batch == NULL) {
			break;		/* stopping, queue empty */
		}
		up = round_trip(d, batch, bytes, count);
		finish(batch);
	}
	pthread_mutex_lock(&p->lock);
	if (!up) {
		__atomic_store_n(&d->dead, 1, __ATOMIC_RELAXED);
	}
	if (--p->alive == 0) {
		/* The last one out fails whatever is still queued. */
		orphans = p->head;
		p->head = NULL;
		p->tail = &p->head;
	}
	pthread_mutex_unlock(&p->lock);
	finish(orphans);
	return NULL;
}

struct signpool *
signpool_new(const int *fds, int n, int timeout)
{
	struct signpool *p;
	int i;

	if (n < 1 || n > SIGNPOOL_MAX) {
		log_warnx("signpool: %d signers (1..%d)", n, SIGNPOOL_MAX);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		fatalx("out of memory");
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	p->tail = &p->head;
	p->n = n;
	p->timeout = timeout;
	for (i = 0; i < n; i++) {
		p->d[i].pool = p;
		p->d[i].fd = fds[i];
		p->d[i].index = i;
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

/* Queue j unless no signer is left. 1/0. */
static int
enqueue(struct signpool *p, struct job *j)
{
	pthread_mutex_lock(&p->lock);
	if (p->alive == 0 || p->stopping) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	*p->tail = j;
	p->tail = &j->next;
	pthread_cond_signal(&p->work);
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

int
signpool_alive(const struct signpool *p)
{
	int i;

	for (i = 0; i < p->n; i++) {
		if (__atomic_load_n(&p->d[i].dead, __ATOMIC_RELAXED)) {
			return 0;
		}
	}
	return 1;
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
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->n; i++) {
		if (p->d[i].started) {
			pthread_join(p->d[i].thread, NULL);
		}
	}
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
