/*
 * The system call sandbox of eseal-ocspd and eseal-ocsp-signer, one
 * interface with one implementation per kind chosen by configure:
 * sandbox-seccomp.c (Linux seccomp-bpf through libseccomp) or
 * sandbox-null.c (--without-seccomp: logs that the sandbox is off).
 * A filter is an allow-list; any other system call kills the process.
 */
#ifndef ESEAL_SANDBOX_H
#define ESEAL_SANDBOX_H

enum sandbox_role {
	SANDBOX_RESPONDER,	/* eseal-ocspd threads that read the network */
	SANDBOX_RESPONDER_MAIN,	/* every eseal-ocspd thread: no fork, no exec */
	SANDBOX_SIGNER,		/* eseal-ocsp-signer, key from a PEM file */
	SANDBOX_SIGNER_TOKEN,	/* eseal-ocsp-signer, key on a PKCS#11 token */
	SANDBOX_LOGWRITER	/* eseal-ocspd's access log writer thread */
};

/*
 * sandbox_apply: install the filter of role on the calling thread and
 * the threads it creates afterwards (no_new_privs is set first); the
 * filter of SANDBOX_RESPONDER_MAIN goes on every thread of the process
 * at once (TSYNC), and the HTTP threads add SANDBOX_RESPONDER to it.  1 on
 * success, and in a build without a sandbox (logged once); 0 (logged).
 */
int sandbox_apply(enum sandbox_role role);

/* sandbox_kind: "seccomp" or "none", for logs and tests. */
const char *sandbox_kind(void);

#endif
