/*
 * Dropping root (see priv.h).  Both daemons used to carry their own copy
 * of this sequence; a single one is checked once: the supplementary
 * groups, the group and the user are all replaced, and a setuid(0)
 * afterwards must fail.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/types.h>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

/* Set no_new_privs (Linux 3.5+). 1/0 (logged). */
static int
no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("prctl(PR_SET_NO_NEW_PRIVS)");
		return 0;
	}
	return 1;
}

int
priv_drop(const char *user, int quiet)
{
	struct passwd *pw;

	if (user == NULL || geteuid() != 0) {
		if (user != NULL && !quiet) {
			log_info("not root: user \"%s\" ignored", user);
		}
		return no_new_privs();
	}
	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("%s: no such user", user);
		return 0;
	}
	if (pw->pw_uid == 0) {
		log_warnx("%s: user has uid 0: refusing to run as root", user);
		return 0;
	}
	if (setgroups(1, &pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		log_warn("cannot drop privileges to %s", user);
		return 0;
	}
	if (setuid(0) != -1 || geteuid() != pw->pw_uid ||
	    getegid() != pw->pw_gid) {
		log_warnx("%s: privileges were not dropped", user);
		return 0;
	}
	return no_new_privs();
}
