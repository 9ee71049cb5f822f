/*
 * Logging: one line per problem on stderr (or syslog), prefixed with the
 * program name.  OpenSSL's error queue is drained into the same line.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/err.h>

#include "i18n.h"
#include "log.h"

static const char *prog = "eseal";
static int use_syslog;
static int verbose = 1;
static int translate;

void
log_init(const char *progname)
{
	const char *p;

	if (progname == NULL) {
		return;
	}
	p = strrchr(progname, '/');
	prog = p != NULL ? p + 1 : progname;
}

void
log_use_syslog(int on)
{
	use_syslog = on;
	if (on) {
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

void
log_set_verbose(int level)
{
	verbose = level;
}

int
log_get_verbose(void)
{
	return verbose;
}

void
log_set_translate(int on)
{
	translate = on;
}

int
log_get_translate(void)
{
	return translate && !use_syslog;
}

/*
 * The format as the reader of this line should see it: translated for a
 * person at a terminal (i18n_init chose Japanese), as written for syslog,
 * --json runs and debug lines.
 */
static const char *
tr(int pri, const char *fmt)
{
	if (!translate || use_syslog || pri == LOG_DEBUG) {
		return fmt;
	}
	return dgettext(ESEAL_TEXTDOMAIN, fmt);
}

static void
vlog(int pri, const char *suffix, const char *fmt, va_list ap)
{
	char buf[2048];

	/* msgfmt --check keeps the translation's conversions those of fmt. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vsnprintf(buf, sizeof(buf), tr(pri, fmt), ap);
#pragma GCC diagnostic pop
	if (use_syslog) {
		syslog(pri, "%s%s", buf, suffix != NULL ? suffix : "");
	} else {
		fprintf(stderr, "%s: %s%s\n", prog, buf,
		    suffix != NULL ? suffix : "");
		fflush(stderr);
	}
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	char suffix[256];
	va_list ap;
	int saved = errno;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(saved));
	va_start(ap, fmt);
	vlog(LOG_ERR, suffix, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 1) {
		return;
	}
	va_start(ap, fmt);
	vlog(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 2) {
		return;
	}
	va_start(ap, fmt);
	vlog(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
log_ssl(const char *fmt, ...)
{
	char suffix[1024], ebuf[256];
	size_t off;
	unsigned long e;
	va_list ap;

	suffix[0] = '\0';
	off = 0;
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
		if (off < sizeof(suffix) - 1) {
			int n = snprintf(suffix + off, sizeof(suffix) - off,
			    "%s%s", off == 0 ? " (SSL: " : "; ", ebuf);
			if (n > 0) {
				off += (size_t)n;
			}
		}
	}
	if (off > 0 && off < sizeof(suffix) - 2) {
		strcat(suffix, ")");
	}
	va_start(ap, fmt);
	vlog(LOG_ERR, suffix, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(70);
}

void
usage_exit(int status, const char *text)
{
	fputs(text, status == 0 ? stdout : stderr);
	exit(status);
}
