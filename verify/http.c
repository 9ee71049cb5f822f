/*
 * The HTTP client of eseal-verify (libcurl): http and https URLs only
 * (redirects too), a bounded time for the whole transfer, a cap on the
 * body (a longer answer is cut off and refused, whatever its
 * Content-Length says), and the Content-Type and Cache-Control max-age
 * of the answer kept for the caller.  Failures come back as one line for
 * the report, never logged here: a relying party falls back to the next
 * source.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "log.h"
#include "verify.h"

struct sink {
	struct http_resp	*r;
	size_t			 cap;
	size_t			 max;
	int			 too_big;
};

int
http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void
http_global_cleanup(void)
{
	curl_global_cleanup();
}

void
http_resp_free(struct http_resp *r)
{
	if (r == NULL) {
		return;
	}
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* libcurl write callback: append, refuse past the cap. */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink	*s = arg;
	size_t		 len = size * n, ncap;
	unsigned char	*nb;

	if (len > s->max - s->r->len) {
		s->too_big = 1;
		return 0;
	}
	if (s->r->len + len > s->cap) {
		ncap = s->cap == 0 ? 16384 : s->cap;
		while (ncap < s->r->len + len) {
			ncap *= 2;
		}
		if (ncap > s->max) {
			ncap = s->max;
		}
		if ((nb = realloc(s->r->body, ncap)) == NULL) {
			fatalx("http: out of memory");
		}
		s->r->body = nb;
		s->cap = ncap;
	}
	memcpy(s->r->body + s->r->len, p, len);
	s->r->len += len;
	return len;
}

/* libcurl header callback: Cache-Control max-age (RFC 5019 6.2). */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_resp	*r = arg;
	size_t			 len = size * n;
	char			 line[512], *m;

	if (len >= sizeof(line)) {
		return len;
	}
	memcpy(line, p, len);
	line[len] = '\0';
	if (strncasecmp(line, "HTTP/", 5) == 0) {
		r->max_age = -1;	/* a new answer (after a redirect) */
	}
	if (strncasecmp(line, "Cache-Control:", 14) != 0) {
		return len;
	}
	for (m = line; *m != '\0'; m++) {
		*m = (char)tolower((unsigned char)*m);
	}
	if ((m = strstr(line, "max-age=")) != NULL) {
		r->max_age = strtol(m + 8, NULL, 10);
		if (r->max_age < 0) {
			r->max_age = -1;
		}
	}
	if (strstr(line, "no-store") != NULL ||
	    strstr(line, "no-cache") != NULL) {
		r->max_age = 0;
	}
	return len;
}

static int
url_allowed(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 ||
	    strncasecmp(url, "https://", 8) == 0;
}

int
http_fetch(const struct http_opts *o, const char *url,
    const char *post_type, const unsigned char *post, size_t postlen,
    struct http_resp *out, char *err, size_t errsz)
{
	CURL			*c = NULL;
	struct curl_slist	*hdr = NULL;
	struct sink		 s;
	char			 ebuf[CURL_ERROR_SIZE], hbuf[160];
	char			*ct = NULL;
	CURLcode		 cc;
	int			 ok = 0;

	memset(out, 0, sizeof(*out));
	out->max_age = -1;
	memset(&s, 0, sizeof(s));
	s.r = out;
	s.max = o->max_body;
	ebuf[0] = '\0';
	if (!url_allowed(url)) {
		snprintf(err, errsz, "%s: only http and https URLs are "
		    "fetched", url);
		return 0;
	}
	if ((c = curl_easy_init()) == NULL) {
		fatalx("http: out of memory");
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->timeout);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)o->max_body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "eseal-verify/" PACKAGE_VERSION);
	if (post != NULL) {
		snprintf(hbuf, sizeof(hbuf), "Content-Type: %s", post_type);
		hdr = curl_slist_append(hdr, hbuf);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)postlen);
	}
	cc = curl_easy_perform(c);
	if (s.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(err, errsz, "%s: answer larger than %zu bytes "
		    "refused", url, o->max_body);
		goto out;
	}
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, errsz, "%s: no complete answer within %ld s",
		    url, o->timeout);
		goto out;
	}
	if (cc != CURLE_OK) {
		snprintf(err, errsz, "%s: %s", url,
		    ebuf[0] != '\0' ? ebuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->code);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
	    ct != NULL) {
		snprintf(out->ctype, sizeof(out->ctype), "%s", ct);
	}
	if (out->code < 200 || out->code > 299) {
		snprintf(err, errsz, "%s: HTTP status %ld", url, out->code);
		goto out;
	}
	ok = 1;
 out:
	if (!ok) {
		free(out->body);
		out->body = NULL;
		out->len = 0;
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return ok;
}
