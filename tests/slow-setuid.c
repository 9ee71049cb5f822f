/*
 * Test shim (LD_PRELOAD) for tests/ocsp-conn.test: in eseal-ocspd only,
 * the first setuid() waits ESEAL_TEST_SLOW_SETUID seconds before it runs, so that
 * the test can see whether connections are accepted before the
 * privileges are dropped.  Not part of any installed program.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

extern char *program_invocation_short_name;

int	setuid(uid_t);

int
setuid(uid_t uid)
{
	int (*real)(uid_t);
	static int done;
	const char *d = getenv("ESEAL_TEST_SLOW_SETUID");

	if (!done++ && d != NULL && strcmp(program_invocation_short_name,
	    "eseal-ocspd") == 0) {
		sleep((unsigned int)atoi(d));
	}
	if ((real = (int (*)(uid_t))dlsym(RTLD_NEXT, "setuid")) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(uid);
}
