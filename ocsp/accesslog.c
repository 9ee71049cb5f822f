/*
 * The access log of eseal-ocspd (see accesslog.h).  An answering thread
 * reserves a slot of the ring (a compare-and-swap), fills it (times,
 * client address, trusted X-Forwarded-For, the GET path or the POST
 * body, a reference on the OCSP answer) and marks it ready.
 * The writer thread takes ready slots in order, formats them (walking
 * the DER of our own answers for each CertID and its certStatus, hashing
 * POST bodies) into one buffer and writes it with one write(2), or one
 * syslog(3) call per line.  A full ring drops the line and counts it; so
 * does a failed write.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "accesslog.h"
#include "log.h"
#include "sandbox.h"

#define RING_DEFAULT	4096	/* slots */
#define BODY_MAX	512	/* POST bodies up to this are hashed later */
#define XFF_MAX		96
#define MAX_PROXIES	32
#define MAX_CERTS	32	/* CertIDs logged per request */
#define OBUF_SIZE	(256 * 1024)
#define LINE_MAX_LEN	(24 * 1024)	/* bound of one formatted line */
#define HEX_MAX		64	/* bytes of a hash or serial logged */

enum alog_mode { AL_STDERR = 0, AL_FILE, AL_SYSLOG, AL_NONE };
enum alog_method { M_OTHER = 0, M_GET, M_HEAD, M_POST };

struct proxy {
	int		family;
	unsigned char	addr[16];
	int		bits;
};

struct slot {
	int		 ready;		/* atomic: filled by its producer */
	struct timespec	 wall;
	uint32_t	 dur_us;
	unsigned int	 http;
	unsigned char	 method, version, is_signed, body_hashed;
	socklen_t	 salen;
	struct sockaddr_in6 sa;		/* or a sockaddr_in */
	char		 xff[XFF_MAX];
	size_t		 path_len, path_kept;
	char		 path[ALOG_PATH_MAX];
	size_t		 body_len;
	unsigned char	 body[BODY_MAX];	/* or its SHA-256 */
	struct rblob	*blob;
	size_t		 bytes;
};

static struct {
	enum alog_mode	 mode;
	int		 clf;
	char		*path;
	struct proxy	 proxies[MAX_PROXIES];
	int		 nproxies;
	size_t		 ring;		/* slots */
} conf = { .ring = RING_DEFAULT };

static struct slot *ring;
static uint64_t head, tail;		/* atomic; tail moved by the writer */
static int on;				/* atomic: producers queue lines */
static int reopen_asked, stop_asked;	/* atomic */
static int fd = -1;			/* the writer's */
static pthread_t writer;
static int writer_running;
static uint64_t m_lines, m_dropped;	/* atomic */
static __thread struct alog_req *cur;

/* --- configuration ------------------------------------------------ */

/* One "ADDRESS[/BITS]" of trusted-proxies into p.  1/0. */
static int
proxy_parse(const char *s, size_t n, struct proxy *p)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long bits;

	if (n == 0 || n >= sizeof(buf)) {
		return 0;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
	}
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = AF_INET;
		p->bits = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = AF_INET6;
		p->bits = 128;
	} else {
		return 0;
	}
	if (slash != NULL) {
		bits = strtol(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || bits < 0 ||
		    bits > p->bits) {
			return 0;
		}
		p->bits = (int)bits;
	}
	return 1;
}

static enum alog_conf
proxies_parse(const char *v, const char *fn, int line)
{
	const char *s = v, *e;

	conf.nproxies = 0;
	while (*s != '\0') {
		while (*s == ' ' || *s == ',') {
			s++;
		}
		if (*s == '\0') {
			break;
		}
		for (e = s; *e != '\0' && *e != ',' && *e != ' '; e++) {
			;
		}
		if (conf.nproxies == MAX_PROXIES ||
		    !proxy_parse(s, (size_t)(e - s),
		    &conf.proxies[conf.nproxies])) {
			log_warnx("%s:%d: trusted-proxies: want at most %d "
			    "ADDRESS[/BITS] separated by commas", fn, line,
			    MAX_PROXIES);
			return ALOG_CONF_BAD;
		}
		conf.nproxies++;
		s = e;
	}
	return ALOG_CONF_OK;
}

enum alog_conf
accesslog_config(const char *key, const char *val, const char *fn, int line)
{
	char *end;
	long n;

	if (strcmp(key, "access-log") == 0) {
		free(conf.path);
		conf.path = NULL;
		if (strcmp(val, "stderr") == 0) {
			conf.mode = AL_STDERR;
		} else if (strcmp(val, "syslog") == 0) {
			conf.mode = AL_SYSLOG;
		} else if (strcmp(val, "none") == 0) {
			conf.mode = AL_NONE;
		} else if (val[0] == '/') {
			conf.mode = AL_FILE;
			if ((conf.path = strdup(val)) == NULL) {
				fatalx("out of memory");
			}
		} else {
			log_warnx("%s:%d: access-log: want an absolute file "
			    "name, stderr, syslog or none", fn, line);
			return ALOG_CONF_BAD;
		}
		return ALOG_CONF_OK;
	}
	if (strcmp(key, "access-log-format") == 0) {
		if (strcmp(val, "json") == 0) {
			conf.clf = 0;
		} else if (strcmp(val, "clf") == 0) {
			conf.clf = 1;
		} else {
			log_warnx("%s:%d: access-log-format: want json or clf",
			    fn, line);
			return ALOG_CONF_BAD;
		}
		return ALOG_CONF_OK;
	}
	if (strcmp(key, "access-log-buffer") == 0) {
		n = strtol(val, &end, 10);
		if (*val == '\0' || *end != '\0' || n < 16 || n > 1048576) {
			log_warnx("%s:%d: access-log-buffer: want a number of "
			    "lines in 16..1048576", fn, line);
			return ALOG_CONF_BAD;
		}
		conf.ring = (size_t)n;
		return ALOG_CONF_OK;
	}
	if (strcmp(key, "trusted-proxies") == 0) {
		return proxies_parse(val, fn, line);
	}
	return ALOG_CONF_NOT_MINE;
}

/* 1 if the peer sa is one of the trusted proxies. */
static int
proxy_trusted(const struct sockaddr *sa)
{
	const unsigned char *a;
	unsigned char v4[4];
	int i, family, bits, full;

	if (sa == NULL) {
		return 0;
	}
	if (sa->sa_family == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		a = (const unsigned char *)&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
		family = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)
		    (const void *)a)) {
			memcpy(v4, a + 12, 4);
			a = v4;
			family = AF_INET;
		}
	} else {
		return 0;
	}
	for (i = 0; i < conf.nproxies; i++) {
		if (conf.proxies[i].family != family) {
			continue;
		}
		bits = conf.proxies[i].bits;
		full = bits / 8;
		if (memcmp(a, conf.proxies[i].addr, (size_t)full) != 0) {
			continue;
		}
		if (bits % 8 == 0 || ((a[full] ^ conf.proxies[i].addr[full]) &
		    (0xff00 >> (bits % 8))) == 0) {
			return 1;
		}
	}
	return 0;
}

/* --- the answering threads' side ----------------------------------- */

void
accesslog_begin(struct alog_req *ar, const char *method, const char *url,
    const char *version)
{
	size_t n;

	cur = ar;
	if (!__atomic_load_n(&on, __ATOMIC_RELAXED)) {
		return;
	}
	ar->active = 1;
	clock_gettime(CLOCK_MONOTONIC, &ar->start);
	ar->method = strcmp(method, "GET") == 0 ? M_GET :
	    strcmp(method, "POST") == 0 ? M_POST :
	    strcmp(method, "HEAD") == 0 ? M_HEAD : M_OTHER;
	ar->version = version != NULL && strcmp(version, "HTTP/1.0") == 0 ?
	    0 : 1;
	n = strlen(url);
	ar->path_len = n;
	if (n > sizeof(ar->path)) {
		n = sizeof(ar->path);
	}
	memcpy(ar->path, url, n);
}

void
accesslog_enter(struct alog_req *ar)
{
	cur = ar;
}

void
accesslog_bytes(size_t len)
{
	if (cur != NULL) {
		cur->bytes = len;
	}
}

void
accesslog_blob(struct alog_req *ar, struct rblob *b, int is_signed)
{
	if (!ar->active || ar->blob != NULL) {
		return;
	}
	ar->blob = rblob_ref(b);
	ar->is_signed = (unsigned char)is_signed;
	ar->bytes = b->len;
}

/*
 * Reserve a slot without a lock; NULL (counted) when the ring is full.
 * The writer empties a slot (ready 0) before it moves tail past it.
 */
static struct slot *
slot_reserve(void)
{
	uint64_t h = __atomic_load_n(&head, __ATOMIC_RELAXED);

	do {
		if (h - __atomic_load_n(&tail, __ATOMIC_ACQUIRE) >= conf.ring) {
			__atomic_add_fetch(&m_dropped, 1, __ATOMIC_RELAXED);
			return NULL;
		}
	} while (!__atomic_compare_exchange_n(&head, &h, h + 1, 1,
	    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	return &ring[h % conf.ring];
}

/* The peer address and, from a trusted proxy, X-Forwarded-For into s. */
static void
slot_client(struct slot *s, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa = NULL;
	const char *xff;
	size_t n;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	s->salen = 0;
	s->xff[0] = '\0';
	if (ci != NULL && (sa = ci->client_addr) != NULL) {
		s->salen = sa->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		memcpy(&s->sa, sa, s->salen);
	}
	if (conf.nproxies > 0 && proxy_trusted(sa) &&
	    (xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "X-Forwarded-For")) != NULL) {
		n = strlen(xff);
		if (n >= sizeof(s->xff)) {
			/* Keep the end: the address the proxy appended. */
			xff += n - (sizeof(s->xff) - 1);
			n = sizeof(s->xff) - 1;
		}
		memcpy(s->xff, xff, n + 1);
	}
}

void
accesslog_end(struct alog_req *ar, struct MHD_Connection *c,
    const unsigned char *body, size_t body_len)
{
	const union MHD_ConnectionInfo *ci;
	struct timespec now;
	struct slot *s;
	int64_t us;

	if (cur == ar) {
		cur = NULL;
	}
	if (!ar->active) {
		rblob_unref(ar->blob);
		ar->blob = NULL;
		return;
	}
	ar->active = 0;
	if ((s = slot_reserve()) == NULL) {
		rblob_unref(ar->blob);
		ar->blob = NULL;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	clock_gettime(CLOCK_REALTIME, &s->wall);
	us = (int64_t)(now.tv_sec - ar->start.tv_sec) * 1000000 +
	    (now.tv_nsec - ar->start.tv_nsec) / 1000;
	s->dur_us = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
	s->http = ci != NULL ? ci->http_status : 0;
	s->method = ar->method;
	s->version = ar->version;
	s->is_signed = ar->is_signed;
	s->bytes = s->http == 304 || s->http == 0 || ar->method == M_HEAD ?
	    0 : ar->bytes;
	s->path_len = ar->path_len;
	s->path_kept = ar->path_len < sizeof(ar->path) ? ar->path_len :
	    sizeof(ar->path);
	memcpy(s->path, ar->path, s->path_kept);
	s->body_hashed = 0;
	s->body_len = 0;
	if (ar->method == M_POST && body != NULL) {
		if (body_len <= sizeof(s->body)) {
			memcpy(s->body, body, body_len);
			s->body_len = body_len;
		} else {
			/* Too long to copy: hashed here, rare. */
			EVP_Digest(body, body_len, s->body, NULL, EVP_sha256(),
			    NULL);
			s->body_len = 32;
			s->body_hashed = 1;
		}
	}
	slot_client(s, c);
	s->blob = ar->blob;	/* the reference moves to the slot */
	ar->blob = NULL;
	__atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
}

void
accesslog_reopen(void)
{
	__atomic_store_n(&reopen_asked, 1, __ATOMIC_RELAXED);
}

void
accesslog_metrics(FILE *f)
{
	fprintf(f, "# TYPE eseal_ocsp_access_log_lines_total counter\n"
	    "eseal_ocsp_access_log_lines_total %llu\n"
	    "# TYPE eseal_ocsp_access_log_dropped_total counter\n"
	    "eseal_ocsp_access_log_dropped_total %llu\n",
	    (unsigned long long)__atomic_load_n(&m_lines, __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&m_dropped,
	    __ATOMIC_RELAXED));
}

/* --- formatting (the writer thread) ------------------------------- */

struct obuf {
	char	*b;
	size_t	 len;
	size_t	 lines;
};

static void
put(struct obuf *o, const char *s, size_t n)
{
	memcpy(o->b + o->len, s, n);
	o->len += n;
}

static void
puts_(struct obuf *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_u64(struct obuf *o, uint64_t v)
{
	char buf[24];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(o, buf + i, sizeof(buf) - i);
}

static void
put_hex(struct obuf *o, const unsigned char *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		o->b[o->len++] = hx[p[i] >> 4];
		o->b[o->len++] = hx[p[i] & 15];
	}
}

/* Bytes written as they are in a JSON string or a CLF field. */
static unsigned char plain[256];

static void
plain_init(void)
{
	int c;

	for (c = 0x20; c < 0x7f; c++) {
		plain[c] = c != '"' && c != '\\';
	}
}

/* s[0..n) as the inside of a JSON string (clf: printable, \xNN else). */
static void
put_esc(struct obuf *o, const char *s, size_t n, int clf)
{
	static const char hx[] = "0123456789abcdef";
	unsigned char ch;
	size_t i, run;

	for (i = 0; i < n; i++) {
		for (run = i; run < n && plain[(unsigned char)s[run]]; run++) {
			;
		}
		put(o, s + i, run - i);		/* the plain run at once */
		if ((i = run) == n) {
			break;
		}
		ch = (unsigned char)s[i];
		put(o, clf ? "\\x" : "\\u00", clf ? 2 : 4);
		o->b[o->len++] = hx[ch >> 4];
		o->b[o->len++] = hx[ch & 15];
	}
}

/* The RFC 3339 UTC time with milliseconds (json) or the CLF date. */
static void
put_time(struct obuf *o, const struct timespec *ts, int clf)
{
	static time_t last = -1;
	static char pre[2][40];
	static size_t prelen[2];
	char ms[5];
	struct tm tm;
	int n;

	if (ts->tv_sec != last) {
		gmtime_r(&ts->tv_sec, &tm);
		prelen[0] = strftime(pre[0], sizeof(pre[0]),
		    "%Y-%m-%dT%H:%M:%S", &tm);
		prelen[1] = strftime(pre[1], sizeof(pre[1]),
		    "%d/%b/%Y:%H:%M:%S +0000", &tm);
		last = ts->tv_sec;
	}
	put(o, pre[clf], prelen[clf]);
	if (!clf) {
		n = (int)(ts->tv_nsec / 1000000);
		ms[0] = '.';
		ms[1] = (char)('0' + n / 100);
		ms[2] = (char)('0' + n / 10 % 10);
		ms[3] = (char)('0' + n % 10);
		ms[4] = 'Z';
		put(o, ms, 5);
	}
}

struct der {
	const unsigned char *p, *end;
};

/*
 * The next TLV of d (one-byte tags, definite lengths): its tag in *tag
 * and its contents in *in; d moves past it.  1/0.
 */
static int
der_next(struct der *d, unsigned char *tag, struct der *in)
{
	const unsigned char *p = d->p;
	size_t len, n;

	if (d->end - p < 2 || (p[0] & 0x1f) == 0x1f) {
		return 0;
	}
	*tag = *p++;
	len = *p++;
	if (len & 0x80) {
		n = len & 0x7f;
		if (n == 0 || n > 4 || (size_t)(d->end - p) < n) {
			return 0;
		}
		for (len = 0; n > 0; n--) {
			len = len << 8 | *p++;
		}
	}
	if ((size_t)(d->end - p) < len) {
		return 0;
	}
	in->p = p;
	in->end = p + len;
	d->p = p + len;
	return 1;
}

/* The next TLV of d must have tag want. */
static int
der_want(struct der *d, unsigned char want, struct der *in)
{
	unsigned char tag;

	return der_next(d, &tag, in) && tag == want;
}

/*
 * The SingleResponses of the successful OCSPResponse der[0..len), in
 * *out (RFC 6960 4.2.1: responseBytes, BasicOCSPResponse, ResponseData).
 * This is our own answer, not outside input.  1/0.
 */
static int
resp_singles(const unsigned char *der, size_t len, struct der *out)
{
	struct der d = { der, der + len }, r, x, rb0, rb, oct, basic, tbs;
	unsigned char tag;

	if (!der_want(&d, 0x30, &r) || !der_want(&r, 0x0a, &x) ||
	    !der_want(&r, 0xa0, &rb0) || !der_want(&rb0, 0x30, &rb) ||
	    !der_want(&rb, 0x06, &x) || !der_want(&rb, 0x04, &oct) ||
	    !der_want(&oct, 0x30, &basic) || !der_want(&basic, 0x30, &tbs)) {
		return 0;
	}
	do {	/* [0] version, responderID, producedAt, then responses */
		if (!der_next(&tbs, &tag, out)) {
			return 0;
		}
	} while (tag != 0x30);
	return 1;
}

/* One SingleResponse as a JSON object or in CLF, not at all: skipped. */
static void
put_single(struct obuf *o, struct der *single, int first)
{
	struct der id, x, nh, sn;
	unsigned char tag;
	const char *st;

	if (!der_want(single, 0x30, &id) || !der_want(&id, 0x30, &x) ||
	    !der_want(&id, 0x04, &nh) || !der_want(&id, 0x04, &x) ||
	    !der_want(&id, 0x02, &sn) || !der_next(single, &tag, &x)) {
		return;
	}
	st = tag == 0x80 ? "good" : tag == 0xa1 ? "revoked" :
	    tag == 0x82 ? "unknown" : "?";
	if (sn.end - sn.p > 1 && sn.p[0] == 0) {
		sn.p++;		/* the sign octet */
	}
	puts_(o, first ? "{\"issuer\":\"" : ",{\"issuer\":\"");
	put_hex(o, nh.p, nh.end - nh.p > HEX_MAX ? HEX_MAX :
	    (size_t)(nh.end - nh.p));
	puts_(o, "\",\"serial\":\"");
	put_hex(o, sn.p, sn.end - sn.p > HEX_MAX ? HEX_MAX :
	    (size_t)(sn.end - sn.p));
	puts_(o, "\",\"status\":\"");
	puts_(o, st);
	puts_(o, "\"}");
}

static const char *const ocsp_names[7] = { "successful", "malformedRequest",
    "internalError", "tryLater", "4", "sigRequired", "unauthorized" };

/* "certs":[...],"ocsp_status":..,"source":.. of the JSON line of s. */
static void
put_ocsp(struct obuf *o, const struct slot *s)
{
	struct der singles, one;
	unsigned char tag;
	int n = 0, more = 0;

	puts_(o, ",\"certs\":[");
	if (s->blob != NULL && s->blob->ocsp_status == 0 &&
	    resp_singles(s->blob->der, s->blob->len, &singles)) {
		while (der_next(&singles, &tag, &one)) {
			if (n == MAX_CERTS) {
				more++;
				continue;
			}
			put_single(o, &one, n++ == 0);
		}
	}
	puts_(o, "]");
	if (more > 0) {
		puts_(o, ",\"certs_more\":");
		put_u64(o, (uint64_t)more);
	}
	puts_(o, ",\"ocsp_status\":");
	if (s->blob == NULL) {
		puts_(o, "null,\"source\":\"none\"");
	} else {
		puts_(o, "\"");
		puts_(o, s->blob->ocsp_status >= 0 && s->blob->ocsp_status < 7 ?
		    ocsp_names[s->blob->ocsp_status] : "?");
		puts_(o, s->blob->ocsp_status != 0 ? "\",\"source\":\"error\"" :
		    s->is_signed ? "\",\"source\":\"signed\"" :
		    "\",\"source\":\"presigned\"");
	}
}

static const char *const methods[4] = { "OTHER", "GET", "HEAD", "POST" };

/*
 * The client address of s (or "-").  Consecutive lines mostly come from
 * the same address (a client's keep-alive connection, a proxy): the
 * last one formatted is kept.
 */
static void
put_client(struct obuf *o, const struct slot *s)
{
	static unsigned char last[16];
	static int last_family;
	static char buf[INET6_ADDRSTRLEN] = "-";
	const unsigned char *a;
	size_t n;

	if (s->salen == 0) {
		puts_(o, "-");
		return;
	}
	if (s->sa.sin6_family == AF_INET6) {
		a = (const unsigned char *)&s->sa.sin6_addr;
		n = 16;
	} else {
		a = (const unsigned char *)&((const struct sockaddr_in *)
		    (const void *)&s->sa)->sin_addr;
		n = 4;
	}
	if (last_family != s->sa.sin6_family || memcmp(last, a, n) != 0) {
		if (inet_ntop(s->sa.sin6_family, a, buf, sizeof(buf)) ==
		    NULL) {
			puts_(o, "-");
			last_family = 0;
			return;
		}
		memcpy(last, a, n);
		last_family = s->sa.sin6_family;
	}
	puts_(o, buf);
}

/*
 * The client a trusted proxy forwarded for: the last address of its
 * X-Forwarded-For that is not itself a trusted proxy, in buf; NULL
 * when there is none that parses as an address.
 */
static const char *
xff_client(const struct slot *s, char *buf, size_t sz)
{
	const char *e = s->xff + strlen(s->xff), *b;
	struct sockaddr_in6 sa6;
	struct sockaddr_in sa4;
	size_t n;

	while (e > s->xff) {
		for (b = e; b > s->xff && b[-1] != ','; b--) {
			;
		}
		n = (size_t)(e - b);
		while (n > 0 && *b == ' ') {
			b++;
			n--;
		}
		while (n > 0 && b[n - 1] == ' ') {
			n--;
		}
		e = b > s->xff ? b - 1 : s->xff;
		if (n == 0 || n >= sz) {
			continue;
		}
		memcpy(buf, b, n);
		buf[n] = '\0';
		memset(&sa6, 0, sizeof(sa6));
		memset(&sa4, 0, sizeof(sa4));
		if (inet_pton(AF_INET, buf, &sa4.sin_addr) == 1) {
			sa4.sin_family = AF_INET;
			if (!proxy_trusted((struct sockaddr *)&sa4)) {
				return buf;
			}
		} else if (inet_pton(AF_INET6, buf, &sa6.sin6_addr) == 1) {
			sa6.sin6_family = AF_INET6;
			if (!proxy_trusted((struct sockaddr *)&sa6)) {
				return buf;
			}
		} else {
			return NULL;	/* garbage: trust nothing left of it */
		}
	}
	return NULL;
}

/* The JSON line of s. */
static void
put_json(struct obuf *o, const struct slot *s, const char *xff)
{
	unsigned char md[32];

	puts_(o, "{\"time\":\"");
	put_time(o, &s->wall, 0);
	puts_(o, "\",\"client\":\"");
	put_client(o, s);
	puts_(o, "\"");
	if (xff != NULL) {
		puts_(o, ",\"forwarded_for\":\"");
		puts_(o, xff);
		puts_(o, "\"");
	}
	puts_(o, ",\"method\":\"");
	puts_(o, methods[s->method]);
	puts_(o, "\"");
	if (s->method == M_POST) {
		puts_(o, ",\"body_sha256\":\"");
		if (!s->body_hashed) {
			EVP_Digest(s->body, s->body_len, md, NULL,
			    EVP_sha256(), NULL);
			put_hex(o, md, 32);
		} else {
			put_hex(o, s->body, 32);
		}
		puts_(o, "\"");
	} else {
		puts_(o, ",\"path\":\"");
		put_esc(o, s->path, s->path_kept, 0);
		puts_(o, "\"");
		if (s->path_kept < s->path_len) {
			puts_(o, ",\"path_length\":");
			put_u64(o, s->path_len);
		}
	}
	put_ocsp(o, s);
	puts_(o, ",\"bytes\":");
	put_u64(o, s->bytes);
	puts_(o, ",\"http_status\":");
	put_u64(o, s->http);
	puts_(o, ",\"duration_us\":");
	put_u64(o, s->dur_us);
	puts_(o, "}\n");
}

/* The Common Log Format line of s (the forwarded client as host). */
static void
put_clf(struct obuf *o, const struct slot *s, const char *xff)
{
	if (xff != NULL) {
		puts_(o, xff);
	} else {
		put_client(o, s);
	}
	puts_(o, " - - [");
	put_time(o, &s->wall, 1);
	puts_(o, "] \"");
	puts_(o, methods[s->method]);
	puts_(o, " ");
	put_esc(o, s->path, s->path_kept, 1);
	if (s->path_kept < s->path_len) {
		puts_(o, "...");
	}
	puts_(o, s->version == 0 ? " HTTP/1.0\" " : " HTTP/1.1\" ");
	put_u64(o, s->http);
	puts_(o, " ");
	if (s->bytes == 0) {
		puts_(o, "-");
	} else {
		put_u64(o, s->bytes);
	}
	puts_(o, "\n");
}

/* --- the writer thread -------------------------------------------- */

static int
log_open(void)
{
	int nfd;

	if (conf.mode == AL_STDERR) {
		return 2;
	}
	/* The flags sandbox-seccomp.c allows the writer, exactly. */
	if ((nfd = open(conf.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) == -1) {
		log_warn("access-log: %s", conf.path);
	}
	return nfd;
}

/* Write o out (one write or one syslog call per line); count; empty o. */
static void
flush(struct obuf *o)
{
	static int failing;
	const char *p = o->b, *nl;
	size_t left = o->len, chunk;
	ssize_t w;

	if (conf.mode == AL_SYSLOG) {
		while (left > 0 && (nl = memchr(p, '\n', left)) != NULL) {
			syslog(LOG_INFO, "%.*s", (int)(nl - p), p);
			left -= (size_t)(nl + 1 - p);
			p = nl + 1;
		}
		left = 0;
	}
	while (left > 0) {
		chunk = left;
		if (conf.mode == AL_STDERR && chunk > PIPE_BUF &&
		    (nl = memrchr(p, '\n', PIPE_BUF)) != NULL) {
			/*
			 * stderr is shared with the daemon's own log and is
			 * often a pipe: whole lines of at most PIPE_BUF bytes
			 * are written atomically, never cut by another line.
			 */
			chunk = (size_t)(nl + 1 - p);
		}
		if ((w = write(fd, p, chunk)) == -1) {
			if (errno == EINTR) {
				continue;
			}
			if (!failing) {
				log_warn("access-log: %s: lines dropped",
				    conf.mode == AL_FILE ? conf.path : "stderr");
			}
			failing = 1;
			break;
		}
		p += w;
		left -= (size_t)w;
	}
	if (left == 0) {
		failing = 0;
		__atomic_add_fetch(&m_lines, o->lines, __ATOMIC_RELAXED);
	} else {
		__atomic_add_fetch(&m_dropped, o->lines, __ATOMIC_RELAXED);
	}
	o->len = 0;
	o->lines = 0;
}

static void
reopen(void)
{
	int nfd;

	if (conf.mode != AL_FILE) {
		return;
	}
	if ((nfd = log_open()) != -1) {
		close(fd);
		fd = nfd;
		log_info("access-log: %s reopened", conf.path);
	}
}

/* Format the ready slots into o, writing it out when full; how many. */
static size_t
drain(struct obuf *o)
{
	char xbuf[XFF_MAX];
	const char *xff;
	struct slot *s;
	uint64_t t;
	size_t n = 0;

	t = __atomic_load_n(&tail, __ATOMIC_RELAXED);
	for (;;) {
		s = &ring[t % conf.ring];
		if (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE)) {
			break;
		}
		if (OBUF_SIZE - o->len < LINE_MAX_LEN) {
			flush(o);
		}
		xff = s->xff[0] != '\0' ? xff_client(s, xbuf, sizeof(xbuf)) :
		    NULL;
		if (conf.clf) {
			put_clf(o, s, xff);
		} else {
			put_json(o, s, xff);
		}
		o->lines++;
		rblob_unref(s->blob);
		s->blob = NULL;
		__atomic_store_n(&s->ready, 0, __ATOMIC_RELAXED);
		t++;
		if (++n % 256 == 0) {
			__atomic_store_n(&tail, t, __ATOMIC_RELEASE);
		}
	}
	__atomic_store_n(&tail, t, __ATOMIC_RELEASE);
	if (o->len > 0) {
		flush(o);
	}
	return n;
}

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cond = PTHREAD_COND_INITIALIZER;
static int start_result;	/* 0 waiting, 1 running, -1 failed */

static void
started(int result)
{
	pthread_mutex_lock(&start_lock);
	start_result = result;
	pthread_cond_signal(&start_cond);
	pthread_mutex_unlock(&start_lock);
}

static void *
writer_main(void *arg)
{
	struct obuf o = { NULL, 0, 0 };
	struct timespec nap = { 0, 10 * 1000 * 1000 };

	if ((o.b = malloc(OBUF_SIZE)) == NULL) {
		fatalx("out of memory");
	}
	plain_init();
	if (*(int *)arg && !sandbox_apply(SANDBOX_LOGWRITER)) {
		free(o.b);
		started(-1);
		return NULL;
	}
	started(1);
	for (;;) {
		if (__atomic_exchange_n(&reopen_asked, 0, __ATOMIC_RELAXED)) {
			reopen();
		}
		if (drain(&o) == 0) {
			if (__atomic_load_n(&stop_asked, __ATOMIC_ACQUIRE)) {
				break;
			}
			nanosleep(&nap, NULL);
		}
	}
	free(o.b);
	return NULL;
}

int
accesslog_prepare(const char *user)
{
	struct passwd *pw;

	if (conf.mode != AL_FILE || geteuid() != 0 || user == NULL) {
		return 1;
	}
	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("access-log: no user \"%s\"", user);
		return 0;
	}
	if ((fd = log_open()) == -1) {
		return 0;
	}
	if (fchown(fd, pw->pw_uid, pw->pw_gid) == -1) {
		log_warn("access-log: %s: chown", conf.path);
		return 0;
	}
	return 1;
}

int
accesslog_start(int sandbox)
{
	static int sb;

	if (conf.mode == AL_NONE) {
		return 1;
	}
	if ((ring = calloc(conf.ring, sizeof(*ring))) == NULL) {
		fatalx("out of memory");
	}
	if (fd == -1 && (fd = log_open()) == -1) {
		return 0;
	}
	/* SIGXFSZ is ignored by main(): over RLIMIT_FSIZE, lines dropped. */
	sb = sandbox;
	if (pthread_create(&writer, NULL, writer_main, &sb) != 0) {
		log_warnx("access-log: cannot start the writer thread");
		return 0;
	}
	pthread_mutex_lock(&start_lock);
	while (start_result == 0) {
		pthread_cond_wait(&start_cond, &start_lock);
	}
	pthread_mutex_unlock(&start_lock);
	if (start_result != 1) {
		pthread_join(writer, NULL);
		return 0;
	}
	writer_running = 1;
	__atomic_store_n(&on, 1, __ATOMIC_RELEASE);
	return 1;
}

void
accesslog_stop(void)
{
	struct timespec until;

	__atomic_store_n(&on, 0, __ATOMIC_RELEASE);
	if (writer_running) {
		__atomic_store_n(&stop_asked, 1, __ATOMIC_RELEASE);
		/* A writer stuck on a pipe nobody reads is left behind. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 5;
		if (pthread_timedjoin_np(writer, NULL, &until) != 0) {
			log_warnx("access-log: the writer is stuck; lines "
			    "queued are lost");
			return;
		}
		writer_running = 0;
	}
	if (fd > 2) {
		close(fd);
	}
	fd = -1;
	free(ring);
	ring = NULL;
	free(conf.path);
	conf.path = NULL;
}
