/*
 * A crash at an exact point, for tests: preloaded (LD_PRELOAD) into a
 * program, it wraps rename(2) and kills the process with SIGKILL, before
 * the rename happens, at the ESEAL_KILLAT_COUNT-th (default 1st) rename
 * whose new name ends with $ESEAL_KILLAT_RENAME.  eseal writes every
 * output file as a temporary file renamed into place after the store
 * commit, so "kill before the rename of DIR/SERIAL.pem" is the crash
 * between the commit and the file that tests/ca-faults.test and
 * tests/kill9.test need, on any version of the code, without a hook in
 * the programs.  Without the variable it only passes calls through.
 */
#include "config.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rename(const char *from, const char *to);

static unsigned long seen;

/* 1 if s ends with suffix. */
static int
ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return lx <= ls && strcmp(s + ls - lx, suffix) == 0;
}

int
rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	const char *suffix, *count;
	unsigned long want = 1;

	if (real == NULL &&
	    (real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT,
	    "rename")) == NULL) {
		abort();
	}
	suffix = getenv("ESEAL_KILLAT_RENAME");
	if (suffix != NULL && *suffix != '\0' && to != NULL &&
	    ends_with(to, suffix)) {
		if ((count = getenv("ESEAL_KILLAT_COUNT")) != NULL) {
			want = strtoul(count, NULL, 10);
		}
		if (++seen >= want) {
			kill(getpid(), SIGKILL);
		}
	}
	return real(from, to);
}
