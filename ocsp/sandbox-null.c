/*
 * The sandbox of a build without libseccomp (configure --without-seccomp):
 * nothing is filtered, and the daemon says so in its log.
 */
#include "config.h"

#include <sys/prctl.h>

#include "log.h"
#include "sandbox.h"

int
sandbox_apply(enum sandbox_role role)
{
	static int told;

	if (!__atomic_exchange_n(&told, 1, __ATOMIC_ACQ_REL)) {
		log_warnx("sandbox off: built without seccomp");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("prctl(PR_SET_NO_NEW_PRIVS)");
		return 0;
	}
	return 1;
}

const char *
sandbox_kind(void)
{
	return "none";
}
