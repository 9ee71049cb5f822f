/*
 * The HTTP side of eseal-ocspd: the MHD handler answering OCSP requests
 * (GET and POST, RFC 6960 A.1 and RFC 5019), the CRLs under /crl/,
 * /healthz and /metrics, with the counters /metrics reports.
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

#include "accesslog.h"
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

#define NBUCKETS	12

/* Metrics (updated with atomics). */
static uint64_t m_ocsp[7];		/* by OCSPResponseStatus */
#define NHTTP	9	/* 500 and 503 for the alert on 5xx (doc/prometheus) */
static uint64_t m_http[NHTTP];	/* 200 304 404 405 413 414 415 500 503 */
static const int http_codes[NHTTP] = { 200, 304, 404, 405, 413, 414, 415,
    500, 503 };
static uint64_t m_other_http;
static uint64_t m_lat[NBUCKETS + 1];
static uint64_t m_lat_sum_us, m_lat_count;
static const double lat_bounds[NBUCKETS] = { 0.0001, 0.00025, 0.0005,
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1 };

/* --- HTTP --------------------------------------------------------- */

struct req {
	struct alog_req	 al;		/* access log */
	struct timespec	 start;
	/* An answer waiting for its signature (connection suspended): */
	struct MHD_Connection *conn;
	struct rpending	*pend;
	struct rblob	*result;	/* set by the dispatcher, then resumed */
	time_t		 now;
	int		 is_get;
	unsigned char	*body;		/* POST only, grown up to max-body */
	size_t		 len, cap;
	int		 too_big;
	int		 is_post;
};

static void
http_date(time_t t, char *buf, size_t sz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sz, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void
count_http(int code)
{
	int i;

	for (i = 0; i < NHTTP; i++) {
		if (http_codes[i] == code) {
			inc(&m_http[i]);
			return;
		}
	}
	inc(&m_other_http);
}

static enum MHD_Result
send_buf(struct MHD_Connection *c, int code, const char *ctype,
    const void *buf, size_t len, int copy, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)buf, copy ?
	    MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		return MHD_NO;
	}
	if (ctype != NULL) {
		MHD_add_response_header(r, "Content-Type", ctype);
	}
	if (allow != NULL) {
		MHD_add_response_header(r, "Allow", allow);
	}
	count_http(code);
	accesslog_bytes(len);	/* access log */
	ret = MHD_queue_response(c, (unsigned int)code, r);
	MHD_destroy_response(r);
	return ret;
}

/* RFC 5019 6.2 caching headers. */
static void
cache_headers(struct MHD_Response *r, time_t produced, time_t next_update,
    const char *etag, time_t now)
{
	char buf[128];
	long age;

	age = (long)(next_update - now);
	if (age > cfg.max_age) {
		age = cfg.max_age;
	}
	if (age < 0) {
		age = 0;
	}
	snprintf(buf, sizeof(buf),
	    "max-age=%ld,public,no-transform,must-revalidate", age);
	MHD_add_response_header(r, "Cache-Control", buf);
	http_date(produced, buf, sizeof(buf));
	MHD_add_response_header(r, "Last-Modified", buf);
	http_date(next_update, buf, sizeof(buf));
	MHD_add_response_header(r, "Expires", buf);
	if (etag != NULL && *etag != '\0') {
		MHD_add_response_header(r, "ETag", etag);
	}
}

static int
etag_matches(struct MHD_Connection *c, const char *etag)
{
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "If-None-Match");

	return inm != NULL && *etag != '\0' &&
	    (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0);
}

static void
rblob_release(void *cls)
{
	rblob_unref(cls);
}

static void
state_release(void *cls)
{
	rstate_unref(cls);
}

static void
record_latency(struct req *rq)
{
	struct timespec now;
	double s;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	s = (double)(now.tv_sec - rq->start.tv_sec) +
	    (double)(now.tv_nsec - rq->start.tv_nsec) / 1e9;
	for (i = 0; i < NBUCKETS && s > lat_bounds[i]; i++) {
		;
	}
	inc(&m_lat[i]);
	__atomic_add_fetch(&m_lat_sum_us, (uint64_t)(s * 1e6),
	    __ATOMIC_RELAXED);
	inc(&m_lat_count);
}

/* Queue the OCSP answer b (reference taken) with its HTTP headers. */
static enum MHD_Result
send_blob(struct MHD_Connection *c, struct req *rq, struct rblob *b,
    int is_get, time_t now)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	int code = 200;

	if (b->ocsp_status >= 0 && b->ocsp_status < 7) {
		inc(&m_ocsp[b->ocsp_status]);
	}
	accesslog_blob(&rq->al, b, rq->conn != NULL);	/* access log */
	if (is_get && b->ocsp_status == 0 && etag_matches(c, b->etag)) {
		code = 304;
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer_with_free_callback_cls(
		    b->len, b->der, rblob_release, rblob_ref(b));
	}
	if (r == NULL) {
		rblob_unref(b);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type",
	    "application/ocsp-response");
	if (is_get && b->ocsp_status == 0) {
		cache_headers(r, b->produced, b->next_update, b->etag, now);
	} else if (b->ocsp_status != 0) {
		MHD_add_response_header(r, "Cache-Control", "no-store");
	}
	count_http(code);
	record_latency(rq);
	ret = MHD_queue_response(c, (unsigned int)code, r);
	MHD_destroy_response(r);
	rblob_unref(b);
	return ret;
}

/* Answers suspended for a signature; shutdown waits for none to be left. */
int inflight;

/* signpool_done_fn: finish the answer and resume its connection. */
static void
on_signed(void *arg, int ok, unsigned char *sig, size_t sig_len)
{
	struct req *rq = arg;
	struct MHD_Connection *c = rq->conn;

	rq->result = rpending_finish(rq->pend, ok, sig, sig_len);
	rq->pend = NULL;
	free(sig);
	MHD_resume_connection(c);
	__atomic_sub_fetch(&inflight, 1, __ATOMIC_RELEASE);
}

/*
 * Answer one DER OCSPRequest.  An answer that needs a signature suspends
 * the connection and leaves the signing to the pool, so that this
 * thread goes on with other connections; on_signed() resumes it and the
 * handler then sends rq->result.  While stopping, answers wait here.
 */
static enum MHD_Result
answer_ocsp(struct MHD_Connection *c, struct req *rq, const unsigned char *der,
    size_t len, int is_get)
{
	struct rstate *st = state_get();
	struct rpending *pend = NULL;
	struct rblob *b = NULL;
	const unsigned char *tbs;
	size_t tbs_len;
	time_t now = now_utc();

	if (is_stopping()) {
		responder_answer(st, &rsigner, der, len, now, &b);
	} else {
		responder_answer_async(st, &rsigner, der, len, now, &b, &pend);
	}
	rstate_unref(st);
	if (pend == NULL) {
		return send_blob(c, rq, b, is_get, now);
	}
	rq->conn = c;
	rq->pend = pend;
	rq->now = now;
	rq->is_get = is_get;
	__atomic_add_fetch(&inflight, 1, __ATOMIC_ACQUIRE);
	MHD_suspend_connection(c);
	rpending_tbs(pend, &tbs, &tbs_len);
	if (!signpool_submit(pool, tbs, tbs_len, on_signed, rq)) {
		on_signed(rq, 0, NULL, 0);
	}
	return MHD_YES;
}

static enum MHD_Result
answer_crl(struct MHD_Connection *c, const char *name)
{
	struct rstate *st = state_get();
	const struct export_crl *crl;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char etag[40], *hex;
	unsigned char md[32];
	time_t now = now_utc(), nu;
	size_t n = strlen(name);
	char base[80];

	if (n < 5 || n - 4 >= sizeof(base) ||
	    strcmp(name + n - 4, ".crl") != 0) {
		rstate_unref(st);
		return send_buf(c, 404, "text/plain", "not found\n", 10, 0,
		    NULL);
	}
	memcpy(base, name, n - 4);
	base[n - 4] = '\0';
	if ((crl = rstate_crl(st, base)) == NULL) {
		rstate_unref(st);
		return send_buf(c, 404, "text/plain", "not found\n", 10, 0,
		    NULL);
	}
	sha256(crl->der, crl->der_len, md);
	hex = hex_encode(md, 16);
	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	free(hex);
	nu = crl->next_update != 0 ? crl->next_update : now + cfg.max_age;
	if (etag_matches(c, etag)) {
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
		count_http(304);
		cache_headers(r, crl->this_update, nu, etag, now);
		ret = MHD_queue_response(c, 304, r);
		MHD_destroy_response(r);
		rstate_unref(st);
		return ret;
	}
	/* The state (and so the CRL bytes) lives until MHD is done. */
	r = MHD_create_response_from_buffer_with_free_callback_cls(
	    crl->der_len, crl->der, state_release, st);
	if (r == NULL) {
		rstate_unref(st);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/pkix-crl");
	accesslog_bytes(crl->der_len);	/* access log */
	cache_headers(r, crl->this_update, nu, etag, now);
	count_http(200);
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
answer_health(struct MHD_Connection *c)
{
	struct rstate *st = state_get();
	int fresh = rstate_fresh(st, now_utc()) && signers_alive() &&
	    !spawner_gone(spawner);

	rstate_unref(st);
	if (fresh) {
		return send_buf(c, 200, "text/plain", "ok\n", 3, 0, NULL);
	}
	return send_buf(c, 503, "text/plain", "stale\n", 6, 0, NULL);
}

static enum MHD_Result
answer_metrics(struct MHD_Connection *c)
{
	static const char *const ocsp_names[7] = { "successful",
	    "malformedRequest", "internalError", "tryLater", "4",
	    "sigRequired", "unauthorized" };
	struct rstate *st = state_get();
	const struct export *e = rstate_export(st);
	char *buf = NULL;
	size_t sz = 0;
	FILE *f;
	time_t now = now_utc(), nu = 0;
	uint64_t cum = 0;
	size_t i;
	enum MHD_Result ret;

	if ((f = open_memstream(&buf, &sz)) == NULL) {
		fatalx("out of memory");
	}
	fprintf(f, "# TYPE eseal_ocsp_responses_total counter\n");
	for (i = 0; i < 7; i++) {
		if (i == 4) {
			continue;
		}
		fprintf(f, "eseal_ocsp_responses_total{status=\"%s\"} %llu\n",
		    ocsp_names[i], ld(&m_ocsp[i]));
	}
	fprintf(f, "# TYPE eseal_ocsp_http_responses_total counter\n");
	for (i = 0; i < NHTTP; i++) {
		fprintf(f, "eseal_ocsp_http_responses_total{code=\"%d\"} "
		    "%llu\n", http_codes[i], ld(&m_http[i]));
	}
	fprintf(f, "eseal_ocsp_http_responses_total{code=\"other\"} %llu\n",
	    ld(&m_other_http));
	fprintf(f, "# TYPE eseal_ocsp_cert_status_total counter\n"
	    "eseal_ocsp_cert_status_total{status=\"good\"} %llu\n"
	    "eseal_ocsp_cert_status_total{status=\"revoked\"} %llu\n"
	    "eseal_ocsp_cert_status_total{status=\"unknown\"} %llu\n",
	    ld(&responder_stats.good),
	    ld(&responder_stats.revoked),
	    ld(&responder_stats.unknown));
	fprintf(f, "# TYPE eseal_ocsp_presigned_hits_total counter\n"
	    "eseal_ocsp_presigned_hits_total %llu\n"
	    "# TYPE eseal_ocsp_signatures_total counter\n"
	    "eseal_ocsp_signatures_total %llu\n"
	    "# TYPE eseal_ocsp_sign_failures_total counter\n"
	    "eseal_ocsp_sign_failures_total %llu\n"
	    "# TYPE eseal_ocsp_signer_batches_total counter\n"
	    "eseal_ocsp_signer_batches_total %llu\n"
	    "# TYPE eseal_ocsp_signer_restarts_total counter\n"
	    "eseal_ocsp_signer_restarts_total %llu\n",
	    ld(&responder_stats.presigned_hits),
	    ld(&responder_stats.signatures),
	    ld(&responder_stats.sign_failures),
	    pool != NULL ? signpool_batches(pool) : 0ULL,
	    pool != NULL ? signpool_restarts(pool) : 0ULL);
	fprintf(f, "# TYPE eseal_ocsp_cache_bytes gauge\n"
	    "eseal_ocsp_cache_bytes %llu\n"
	    "# TYPE eseal_ocsp_cache_entries gauge\n"
	    "eseal_ocsp_cache_entries %llu\n"
	    "# TYPE eseal_ocsp_cache_max_bytes gauge\n"
	    "eseal_ocsp_cache_max_bytes %llu\n"
	    "# TYPE eseal_ocsp_cache_evictions_total counter\n"
	    "eseal_ocsp_cache_evictions_total %llu\n",
	    ld(&responder_stats.cache_bytes),
	    ld(&responder_stats.cache_entries),
	    (unsigned long long)cfg.ro.cache_max,
	    ld(&responder_stats.evictions));
	fprintf(f, "# TYPE eseal_ocsp_request_duration_seconds histogram\n");
	for (i = 0; i < NBUCKETS; i++) {
		cum += ld(&m_lat[i]);
		fprintf(f, "eseal_ocsp_request_duration_seconds_bucket"
		    "{le=\"%g\"} %llu\n", lat_bounds[i],
		    (unsigned long long)cum);
	}
	cum += ld(&m_lat[NBUCKETS]);
	fprintf(f, "eseal_ocsp_request_duration_seconds_bucket{le=\"+Inf\"} "
	    "%llu\neseal_ocsp_request_duration_seconds_sum %.6f\n"
	    "eseal_ocsp_request_duration_seconds_count %llu\n",
	    (unsigned long long)cum, (double)ld(&m_lat_sum_us) / 1e6,
	    ld(&m_lat_count));
	for (i = 0; i < e->nissuers; i++) {
		if (nu == 0 || e->issuers[i].next_update < nu) {
			nu = e->issuers[i].next_update;
		}
	}
	fprintf(f, "# TYPE eseal_ocsp_export_age_seconds gauge\n"
	    "eseal_ocsp_export_age_seconds %lld\n"
	    "# TYPE eseal_ocsp_export_sequence gauge\n"
	    "eseal_ocsp_export_sequence %lld\n"
	    "# TYPE eseal_ocsp_export_next_update_seconds gauge\n"
	    "eseal_ocsp_export_next_update_seconds %lld\n"
	    "# TYPE eseal_ocsp_reloads_total counter\n"
	    "eseal_ocsp_reloads_total{result=\"ok\"} %llu\n"
	    "eseal_ocsp_reloads_total{result=\"refused\"} %llu\n"
	    "eseal_ocsp_reloads_total{result=\"failed\"} %llu\n",
	    (long long)(now - e->produced), (long long)e->sequence,
	    (long long)(nu - now), ld(&m_reload_ok),
	    ld(&m_reload_refused),
	    ld(&m_reload_failed));
	listen_metrics(f);
	accesslog_metrics(f);	/* access log */
	fclose(f);
	rstate_unref(st);
	ret = send_buf(c, 200, "text/plain; version=0.0.4", buf, sz, 1, NULL);
	free(buf);
	return ret;
}

/* MHD_AccessHandlerCallback of the responder. */
enum MHD_Result
http_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct req *rq = *con_cls;
	const char *ct, *cl;
	unsigned char *der = NULL;
	size_t n, dlen;
	enum MHD_Result ret;
	int is_post = strcmp(method, "POST") == 0;

	if (rq != NULL) {
		accesslog_enter(&rq->al);	/* access log */
	}
	if (rq != NULL && rq->result != NULL) {
		/* Resumed: the signature came back. */
		struct rblob *b = rq->result;

		rq->result = NULL;
		return send_blob(c, rq, b, rq->is_get, rq->now);
	}
	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL) {
			return MHD_NO;
		}
		clock_gettime(CLOCK_MONOTONIC, &rq->start);
		rq->is_post = is_post;
		*con_cls = rq;
		accesslog_begin(&rq->al, method, url, version);	/* access log */
		if (!is_post && strcmp(method, "GET") != 0 &&
		    strcmp(method, "HEAD") != 0) {
			return send_buf(c, 405, "text/plain",
			    "method not allowed\n", 19, 0, "GET, HEAD, POST");
		}
		if (is_post) {
			ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			    "Content-Type");
			if (ct == NULL || strncasecmp(ct,
			    "application/ocsp-request", 24) != 0 ||
			    (ct[24] != '\0' && ct[24] != ';')) {
				return send_buf(c, 415, "text/plain",
				    "unsupported media type\n", 23, 0, NULL);
			}
			cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			    "Content-Length");
			if (cl != NULL && strtoull(cl, NULL, 10) >
			    (unsigned long long)cfg.max_body) {
				return send_buf(c, 413, "text/plain",
				    "request too large\n", 18, 0, NULL);
			}
		}
		return MHD_YES;
	}
	if (rq->is_post && *upload_size > 0) {
		n = *upload_size;
		if (rq->len + n > (size_t)cfg.max_body) {
			rq->too_big = 1;
		} else {
			if (rq->len + n > rq->cap) {
				rq->cap = rq->len + n < 2048 ? 2048 :
				    (size_t)cfg.max_body;
				if ((rq->body = realloc(rq->body, rq->cap)) ==
				    NULL) {
					fatalx("out of memory");
				}
			}
			memcpy(rq->body + rq->len, upload, n);
			rq->len += n;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->is_post) {
		if (rq->too_big) {
			return send_buf(c, 413, "text/plain",
			    "request too large\n", 18, 0, NULL);
		}
		if (strcmp(url, "/") != 0 && url[0] != '/') {
			return send_buf(c, 404, "text/plain", "not found\n",
			    10, 0, NULL);
		}
		return answer_ocsp(c, rq, rq->body != NULL ? rq->body :
		    (const unsigned char *)"", rq->len, 0);
	}
	if (strcmp(url, "/healthz") == 0) {
		return answer_health(c);
	}
	if (strcmp(url, "/metrics") == 0) {
		return answer_metrics(c);
	}
	if (strncmp(url, "/crl/", 5) == 0) {
		return answer_crl(c, url + 5);
	}
	/*
	 * RFC 6960 A.1: GET {url}/{url-encoding of base-64 DER}.  The path
	 * (already URL-decoded) may hold the base64 of max-body bytes.
	 */
	n = strlen(url + 1);
	if (n == 0) {
		return send_buf(c, 404, "text/plain", "not found\n", 10, 0,
		    NULL);
	}
	if (n > ((size_t)cfg.max_body + 2) / 3 * 4) {
		return send_buf(c, 414, "text/plain", "URI too long\n", 13, 0,
		    NULL);
	}
	if ((der = malloc(n)) == NULL) {
		return MHD_NO;
	}
	{
		int d = EVP_DecodeBlock(der, (const unsigned char *)url + 1,
		    (int)n);

		if (d < 0 || n % 4 != 0) {
			dlen = 0;	/* malformed: answer malformedRequest */
		} else {
			dlen = (size_t)d;
			if (n >= 1 && url[n] == '=') {
				dlen--;
			}
			if (n >= 2 && url[n - 1] == '=') {
				dlen--;
			}
		}
	}
	ret = answer_ocsp(c, rq, der, dlen, 1);
	free(der);
	return ret;
}

/* MHD_RequestCompletedCallback: free the request state. */
void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	if (rq != NULL) {
		accesslog_end(&rq->al, c, rq->body, rq->len);	/* access log */
		rblob_unref(rq->result);
		rpending_free(rq->pend);
		free(rq->body);
		free(rq);
	}
	*con_cls = NULL;
}
