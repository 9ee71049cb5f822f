/*
 * Signing threads for "eseal-ca issue" (see signpool.h): one thread per
 * token session, each fed one certificate at a time through its slot
 * under the pool's mutex.  Each slot has its own condition variable:
 * only the slot's thread and the main thread ever wait on it, so a hand-
 * over wakes one thread, not every thread of the pool.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "log.h"
#include "signpool.h"
#include "util.h"

struct sign_slot {
	struct sign_pool	*sp;
	pthread_t		 th;
	pthread_cond_t		 cv;		/* job changed: this slot only */
	struct hsm_key		*key;		/* the pool's key or a session */
	int			 own_key;	/* key is freed with the pool */
	int			 job;		/* cert is being signed */
	X509			*cert;
	char			 object[64];
	const char		*why;		/* set by the thread on failure */
	unsigned char		*der;		/* the signed certificate */
	int			 derlen;
	char			 sha[65];	/* SHA-256 of der, hex */
};

struct sign_pool {
	pthread_mutex_t		 mu;
	int			 quit;
	enum sig_alg		 alg;
	X509			*issuer;
	struct sign_slot	 s[SIGN_POOL_MAX];
	size_t			 n;
};

/*
 * A slot's thread: each certificate handed to it is signed on the slot's
 * session, its signature checked with the issuer's key, and encoded and
 * hashed for the record; slot->why says what failed.  Returns when the pool's quit is set.
 */
static void *
sign_slot_run(void *arg)
{
	struct sign_slot *sl = arg;
	struct sign_pool *sp = sl->sp;

	pthread_mutex_lock(&sp->mu);
	for (;;) {
		while (!sl->job && !sp->quit) {
			pthread_cond_wait(&sl->cv, &sp->mu);
		}
		if (!sl->job) {
			break;
		}
		pthread_mutex_unlock(&sp->mu);
		if (!x509_sign_with(sl->cert, NULL, sl->key, sp->alg,
		    sl->object)) {
			sl->why = "token signing failed";
		} else if (X509_verify(sl->cert,
		    X509_get0_pubkey(sp->issuer)) != 1) {
			log_ssl("%s: the token's signature does not verify",
			    sl->object);
			sl->why = "token signature did not verify";
		} else if ((sl->derlen = i2d_X509(sl->cert, &sl->der)) <= 0) {
			log_ssl("%s: cannot encode certificate", sl->object);
			sl->why = "cannot encode the certificate";
		} else {
			sha256_hex(sl->der, (size_t)sl->derlen, sl->sha);
		}
		pthread_mutex_lock(&sp->mu);
		sl->job = 0;
		pthread_cond_signal(&sl->cv);	/* the main thread, if waiting */
	}
	pthread_mutex_unlock(&sp->mu);
	return NULL;
}

struct sign_pool *
sign_pool_new(struct hsm_key *key, enum sig_alg alg, X509 *issuer,
    size_t want)
{
	struct sign_pool *sp;
	struct sign_slot *sl;
	int rc;

	if ((sp = calloc(1, sizeof(*sp))) == NULL) {
		fatalx("out of memory");
	}
	if ((rc = pthread_mutex_init(&sp->mu, NULL)) != 0) {
		fatalx("signing threads: %s", strerror(rc));
	}
	sp->alg = alg;
	sp->issuer = issuer;
	if (want < 1) {
		want = 1;
	}
	while (sp->n < want && sp->n < SIGN_POOL_MAX) {
		sl = &sp->s[sp->n];
		sl->sp = sp;
		if (sp->n == 0) {
			sl->key = key;
		} else if ((sl->key = hsm_key_session(key)) == NULL) {
			break;		/* no more sessions: do with fewer */
		} else {
			sl->own_key = 1;
		}
		if ((rc = pthread_cond_init(&sl->cv, NULL)) != 0 ||
		    (rc = pthread_create(&sl->th, NULL, sign_slot_run,
		    sl)) != 0) {
			fatalx("signing thread: %s", strerror(rc));
		}
		sp->n++;
	}
	return sp;
}

size_t
sign_pool_size(const struct sign_pool *sp)
{
	return sp->n;
}

void
sign_pool_start(struct sign_pool *sp, size_t i, X509 *cert,
    const char *object)
{
	struct sign_slot *sl = &sp->s[i];

	pthread_mutex_lock(&sp->mu);
	sl->cert = cert;
	snprintf(sl->object, sizeof(sl->object), "%s", object);
	sl->why = NULL;
	sl->der = NULL;
	sl->job = 1;
	pthread_cond_signal(&sl->cv);	/* its thread, waiting for a job */
	pthread_mutex_unlock(&sp->mu);
}

const char *
sign_pool_wait(struct sign_pool *sp, size_t i, unsigned char **der,
    int *derlen, char sha[65])
{
	struct sign_slot *sl = &sp->s[i];
	const char *why;

	pthread_mutex_lock(&sp->mu);
	while (sl->job) {
		pthread_cond_wait(&sl->cv, &sp->mu);
	}
	why = sl->why;
	*der = NULL;
	*derlen = 0;
	sha[0] = '\0';
	if (why == NULL && sl->der != NULL) {
		*der = sl->der;
		*derlen = sl->derlen;
		memcpy(sha, sl->sha, 65);
	} else {
		OPENSSL_free(sl->der);
	}
	sl->der = NULL;
	sl->derlen = 0;
	sl->why = NULL;
	sl->cert = NULL;
	pthread_mutex_unlock(&sp->mu);
	return why;
}

void
sign_pool_free(struct sign_pool *sp)
{
	size_t i;

	if (sp == NULL) {
		return;
	}
	pthread_mutex_lock(&sp->mu);
	sp->quit = 1;
	for (i = 0; i < sp->n; i++) {
		pthread_cond_signal(&sp->s[i].cv);
	}
	pthread_mutex_unlock(&sp->mu);
	for (i = 0; i < sp->n; i++) {
		pthread_join(sp->s[i].th, NULL);
		if (sp->s[i].own_key) {
			hsm_key_free(sp->s[i].key);
		}
		pthread_cond_destroy(&sp->s[i].cv);
	}
	pthread_mutex_destroy(&sp->mu);
	free(sp);
}
