/*
 * A crash at an exact point, for tests: preloaded (LD_PRELOAD) into a
 * program, it wraps rename(2) and open(2) and kills the process with
 * SIGKILL, before the call happens, at the ESEAL_KILLAT_COUNT-th
 * (default 1st) rename whose new name ends with $ESEAL_KILLAT_RENAME, or
 * open of a path ending with $ESEAL_KILLAT_OPEN.  eseal writes every
 * output file as a temporary file renamed into place after the store
 * commit, so "kill before the rename of DIR/SERIAL.pem" is the crash
 * between the commit and the file that tests/ca-faults.test and
 * tests/kill9.test need, on any version of the code, without a hook in
 * the programs.  Without the variables it only passes calls through.
 */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rename(const char *from, const char *to);
int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);

static unsigned long seen;

/* 1 if s ends with suffix. */
static int
ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return lx <= ls && strcmp(s + ls - lx, suffix) == 0;
}

/* Kill the process if path is the COUNT-th to end with $var. */
static void
maybe_kill(const char *var, const char *path)
{
	const char *suffix, *count;
	unsigned long want = 1;

	suffix = getenv(var);
	if (suffix != NULL && *suffix != '\0' && path != NULL &&
	    ends_with(path, suffix)) {
		if ((count = getenv("ESEAL_KILLAT_COUNT")) != NULL) {
			want = strtoul(count, NULL, 10);
		}
		if (++seen >= want) {
			kill(getpid(), SIGKILL);
		}
	}
}

int
rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);

	if (real == NULL &&
	    (real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT,
	    "rename")) == NULL) {
		abort();
	}
	maybe_kill("ESEAL_KILLAT_RENAME", to);
	return real(from, to);
}

/* open(2) and open64(2): the mode is passed on when there is one. */
static int
open_common(const char *name, const char *path, int flags, va_list ap)
{
	int (*real)(const char *, int, ...);
	mode_t mode = 0;

	if ((real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT,
	    name)) == NULL) {
		abort();
	}
	if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
		mode = (mode_t)va_arg(ap, int);
	}
	maybe_kill("ESEAL_KILLAT_OPEN", path);
	return real(path, flags, mode);
}

int
open(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = open_common("open", path, flags, ap);
	va_end(ap);
	return fd;
}

int
open64(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = open_common("open64", path, flags, ap);
	va_end(ap);
	return fd;
}
