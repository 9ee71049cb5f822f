/*
 * Dropping root, shared by eseal-ocspd and eseal-ocsp-signer: one copy of
 * the setgroups/setgid/setuid sequence, checked, followed by
 * PR_SET_NO_NEW_PRIVS so that nothing this process executes can gain
 * privileges again (and so that a seccomp filter can be installed).
 */
#ifndef ESEAL_PRIV_H
#define ESEAL_PRIV_H

/*
 * priv_drop: when running as root and user is not NULL, become user
 * (its primary group only) and check that root cannot be regained; a
 * non-root process ignores user (logged at info level when quiet is 0).
 * In every case set no_new_privs.  1 on success, 0 on failure (logged).
 */
int priv_drop(const char *user, int quiet);

#endif
