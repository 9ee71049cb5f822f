/*
 * Diagnostics for every eseal program.  A problem is logged once, where it
 * is found, as "what: rule: problem"; callers only clean up and return.
 * log_ssl() appends the drained OpenSSL error queue to the same line.
 */
#ifndef ESEAL_LOG_H
#define ESEAL_LOG_H

#include <stdarg.h>

/* Set the program name printed before each line (default "eseal"). */
void log_init(const char *progname);
/* Route log lines to syslog instead of stderr (daemons). */
void log_use_syslog(int on);
/* Verbosity: 0 quiet (errors only), 1 normal, 2 debug. */
void log_set_verbose(int level);
int log_get_verbose(void);
/*
 * Translate the format of each line through the "eseal" catalogue before
 * formatting (on: a person reads stderr; off: machines read it, the
 * default).  Never applies to syslog or debug lines.
 */
void log_set_translate(int on);
int log_get_translate(void);

void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like log_warnx, followed by ": " and the OpenSSL error queue, which is cleared. */
void log_ssl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Out of memory and other impossible states end the program (exit 70). */
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/*
 * Print a program's usage text and exit with status: to stdout when it
 * was asked for (status 0: -h, --help), to stderr after a wrong command
 * line.
 */
void usage_exit(int status, const char *text) __attribute__((noreturn));

#endif
