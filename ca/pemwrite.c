/*
 * The PEM files of "eseal-ca issue" in a thread of their own: each
 * committed batch's certificates are written through temporary files
 * renamed into place and made durable with one syncfs(2) of the output's
 * file system, while the main thread builds the next batch.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "log.h"
#include "pemwrite.h"
#include "util.h"

#define PEM_MAX	128

struct pem_writer {
	const char	*out_dir, *out_dir_abs;
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 job;		/* a hand-off is being written */
	int		 quit;
	X509		*certs[PEM_MAX];
	char		 serials[PEM_MAX][33];
	int		 written[PEM_MAX];
	int		 durable;	/* the syncfs after the writes worked */
	size_t		 n;		/* handed off, not yet collected */
};

/*
 * Write cert as PEM to path through a temporary file renamed into place,
 * without fsync (the writer makes a whole batch durable with one
 * syncfs(2)).  1/0 (logged).
 */
static int
pem_write_nosync(X509 *cert, const char *path)
{
	char *tmp = NULL;
	FILE *fp = NULL;
	int fd, ret = 0;

	if ((fd = tmp_create(path, 0644, &tmp)) == -1) {
		goto out;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		log_warn("%s", tmp);
		close(fd);
		goto out;
	}
	if (!PEM_write_X509(fp, cert)) {
		log_ssl("%s: cannot write the certificate", tmp);
		goto out;
	}
	if (fclose(fp) == EOF) {
		fp = NULL;
		log_warn("%s: write", tmp);
		goto out;
	}
	fp = NULL;
	if (rename(tmp, path) == -1) {
		log_warn("%s: rename", path);
		goto out;
	}
	ret = 1;
out:
	if (fp != NULL) {
		fclose(fp);
	}
	tmp_discard(tmp, !ret);
	return ret;
}

/* Write and sync the hand-off in w (the thread's part). */
static void
write_all(struct pem_writer *w)
{
	char *path = NULL;
	size_t i, nwritten = 0;
	int dfd;

	w->durable = 0;
	for (i = 0; i < w->n; i++) {
		free(path);
		if (asprintf(&path, "%s/%s.pem", w->out_dir, w->serials[i]) ==
		    -1) {
			fatalx("out of memory");
		}
		if ((w->written[i] = pem_write_nosync(w->certs[i], path))) {
			nwritten++;
		}
	}
	free(path);
	if (nwritten == 0) {
		return;
	}
	if ((dfd = open(w->out_dir_abs, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || syncfs(dfd) == -1) {
		log_warn("issue: %s: syncfs (the certificates stay pending)",
		    w->out_dir);
	} else {
		w->durable = 1;
	}
	if (dfd != -1) {
		close(dfd);
	}
}

static void *
writer_thread(void *arg)
{
	struct pem_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->job && !w->quit) {
			pthread_cond_wait(&w->cv, &w->mu);
		}
		if (!w->job) {
			break;
		}
		pthread_mutex_unlock(&w->mu);
		write_all(w);
		pthread_mutex_lock(&w->mu);
		w->job = 0;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct pem_writer *
pem_writer_new(const char *out_dir, const char *out_dir_abs)
{
	struct pem_writer *w;
	int rc;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		fatalx("out of memory");
	}
	w->out_dir = out_dir;
	w->out_dir_abs = out_dir_abs;
	if ((rc = pthread_mutex_init(&w->mu, NULL)) != 0 ||
	    (rc = pthread_cond_init(&w->cv, NULL)) != 0 ||
	    (rc = pthread_create(&w->th, NULL, writer_thread, w)) != 0) {
		fatalx("PEM writer thread: %s", strerror(rc));
	}
	return w;
}

void
pem_writer_start(struct pem_writer *w, X509 **certs, char (*serials)[33],
    size_t n)
{
	size_t i;

	if (w->n != 0 || n > PEM_MAX) {
		fatalx("pem_writer_start: %zu certificates, %zu outstanding",
		    n, w->n);
	}
	for (i = 0; i < n; i++) {
		w->certs[i] = certs[i];
		memcpy(w->serials[i], serials[i], sizeof(w->serials[i]));
		w->written[i] = 0;
	}
	w->n = n;
	pthread_mutex_lock(&w->mu);
	w->job = n > 0;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int
pem_writer_collect(struct pem_writer *w, int (*forget)(void *, const char *),
    void *arg)
{
	size_t i;
	int ok = 1;

	pthread_mutex_lock(&w->mu);
	while (w->job) {
		pthread_cond_wait(&w->cv, &w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->n; i++) {
		if (ok && forget != NULL && w->durable && w->written[i] &&
		    !forget(arg, w->serials[i])) {
			ok = 0;
		}
		X509_free(w->certs[i]);
		w->certs[i] = NULL;
	}
	w->n = 0;
	return ok;
}

void
pem_writer_free(struct pem_writer *w)
{
	if (w == NULL) {
		return;
	}
	(void)pem_writer_collect(w, NULL, NULL);
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
