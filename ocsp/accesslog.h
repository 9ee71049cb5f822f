/*
 * The access log of eseal-ocspd: one line per request (JSON lines or the
 * Common Log Format) to a file, stderr or syslog.  Answering threads
 * never wait for it: they fill a slot of a bounded ring buffer that one
 * writer thread drains; when the ring is full (a full disk, a stuck
 * syslog, a pipe nobody reads) lines are dropped and counted.  The
 * writer thread runs under its own seccomp filter (SANDBOX_LOGWRITER)
 * and reopens the file when asked (SIGUSR1, log rotation).
 */
#ifndef ESEAL_ACCESSLOG_H
#define ESEAL_ACCESSLOG_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <microhttpd.h>

#include "responder.h"

#define ALOG_PATH_MAX	192	/* bytes of a GET path kept */

/* What one request remembers for its log line (part of struct req). */
struct alog_req {
	struct timespec	 start;		/* CLOCK_MONOTONIC */
	struct rblob	*blob;		/* the OCSP answer (reference) */
	size_t		 bytes;		/* response body bytes */
	size_t		 path_len;	/* whole length; path holds a prefix */
	unsigned char	 method;	/* enum in accesslog.c */
	unsigned char	 version;	/* 0 HTTP/1.0, 1 HTTP/1.1 */
	unsigned char	 is_signed;	/* 1 signed for this request */
	unsigned char	 active;	/* begun while the log was on */
	char		 path[ALOG_PATH_MAX];
};

enum alog_conf {
	ALOG_CONF_NOT_MINE,	/* not an access-log key */
	ALOG_CONF_BAD,		/* mine, bad value (logged) */
	ALOG_CONF_OK
};

/*
 * accesslog_config: take the configuration key = val if it is one of
 * access-log, access-log-format, access-log-buffer, trusted-proxies
 * (fn:line for errors).
 */
enum alog_conf accesslog_config(const char *key, const char *val,
    const char *fn, int line);

/*
 * accesslog_prepare: as root, before privileges are dropped: open (or
 * create) the log file and give it to user, so that the service user
 * can write it in a directory it cannot write.  1/0 (logged).
 */
int accesslog_prepare(const char *user);

/*
 * accesslog_start: open the log (as the calling, unprivileged, user)
 * and start the writer thread, which installs its sandbox first when
 * sandbox is set.  Nothing to do for "none".  The caller ignores
 * SIGXFSZ (a full file then drops lines).  1/0 (logged).
 */
int accesslog_start(int sandbox);

/* accesslog_stop: write what is queued, stop the writer, close. */
void accesslog_stop(void);

/* accesslog_reopen: ask the writer to reopen the file (signal-safe). */
void accesslog_reopen(void);

/*
 * accesslog_begin: start the record of a request (at its first handler
 * call) and make it the calling thread's current one.
 * accesslog_enter: make ar the calling thread's current record again
 * (later handler calls of the same request).
 */
void accesslog_begin(struct alog_req *ar, const char *method,
    const char *url, const char *version);
void accesslog_enter(struct alog_req *ar);

/* accesslog_bytes: the current record's response has len body bytes. */
void accesslog_bytes(size_t len);

/*
 * accesslog_blob: the OCSP answer b (a reference is taken) of ar,
 * signed for this request (is_signed) or not.
 */
void accesslog_blob(struct alog_req *ar, struct rblob *b, int is_signed);

/*
 * accesslog_end: queue the line of the finished request ar (body: the
 * POST body, NULL for other methods); releases what ar holds.
 */
void accesslog_end(struct alog_req *ar, struct MHD_Connection *c,
    const unsigned char *body, size_t body_len);

/* accesslog_metrics: lines written and dropped, Prometheus text. */
void accesslog_metrics(FILE *f);

#endif
