/*
 * The seccomp-bpf sandbox (see sandbox.h), built with libseccomp.  Each
 * role's filter allows the system calls that role was seen to make over
 * the whole OCSP test suite and kills the process on any other, so a
 * parser bug cannot be turned into execve(), fork() or a new network
 * connection, and the signer can only answer on its socket.  Opening a
 * file fails (EACCES) rather than kills, since glibc itself tries now
 * and then (the PKCS#11 signer may open files).  Memory is never made
 * executable (mmap/mprotect with PROT_EXEC are refused), threads may be
 * created but not processes (clone needs CLONE_THREAD; clone3, whose
 * flags a filter cannot see, fails with ENOSYS so that glibc falls back
 * to clone).
 *
 * Sanitizer builds (ASan/UBSan, TSan) get a relaxed filter: the calls
 * their runtimes make are added (see sanitizer_calls[]), fork included.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/seccomp.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#endif

#define N(a)	(sizeof(a) / sizeof((a)[0]))

/* Every role: memory, time, locks, its sockets, logging, exit. */
static const int base_calls[] = {
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(write), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(lseek), SCMP_SYS(fcntl),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(getrandom),
	SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg), SCMP_SYS(connect),	/* syslog reconnects */
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(restart_syscall),
};

/* The responder's HTTP threads: accept, epoll, its own threads. */
static const int responder_calls[] = {
	SCMP_SYS(accept4), SCMP_SYS(accept), SCMP_SYS(shutdown),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(eventfd2), SCMP_SYS(poll),
	SCMP_SYS(ppoll), SCMP_SYS(pipe2),
};

/*
 * The rest of eseal-ocspd (main thread, signer dispatchers, pre-signing
 * threads): reload the export and record it in the state directory,
 * wait for signals, receive signer sockets from the spawner (recvmsg)
 * and reap the spawner at exit.  No fork, no execve: the spawner starts
 * the signers.
 */
static const int main_calls[] = {
	SCMP_SYS(openat), SCMP_SYS(rename), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(unlink), SCMP_SYS(unlinkat),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(fchmod),
	SCMP_SYS(ftruncate), SCMP_SYS(statx), SCMP_SYS(getdents64),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(wait4), SCMP_SYS(prlimit64),
	SCMP_SYS(pread64),
};

/*
 * A PKCS#11 module (SoftHSM2) reads its token directory and locks its
 * object files while it signs.  Paths cannot be checked by seccomp: the
 * token module keeps the right to open files, never to write outside
 * them or to run anything.
 */
static const int token_calls[] = {
	SCMP_SYS(openat), SCMP_SYS(flock), SCMP_SYS(getdents64),
	SCMP_SYS(pread64), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(statfs), SCMP_SYS(fstatfs), SCMP_SYS(access),
	SCMP_SYS(faccessat), SCMP_SYS(readlink), SCMP_SYS(getcwd),
};

#ifdef SANITIZED
/*
 * ASan/UBSan and TSan runtimes: reports (symbolizing reads /proc and
 * the binaries), shadow memory, and LeakSanitizer at exit, which clones
 * a tracer task that ptraces the threads: in a sanitizer build any
 * clone is allowed (the filter is relaxed: fork is no longer refused).
 * execve stays refused: a report is then printed unsymbolized (the
 * symbolizer cannot be started), with module and offset for each frame.
 */
static const int sanitizer_calls[] = {
	SCMP_SYS(openat), SCMP_SYS(readlink), SCMP_SYS(getdents64),
	SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigaction), SCMP_SYS(prctl),
	SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(sched_getparam),
	SCMP_SYS(sched_getscheduler), SCMP_SYS(getppid), SCMP_SYS(uname),
	SCMP_SYS(personality), SCMP_SYS(pipe2), SCMP_SYS(wait4),
	SCMP_SYS(ptrace), SCMP_SYS(msync), SCMP_SYS(mincore),
	SCMP_SYS(clone), SCMP_SYS(process_vm_readv), SCMP_SYS(dup),
	SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(ioctl), SCMP_SYS(kill),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(sched_setaffinity),
	SCMP_SYS(statx), SCMP_SYS(readlinkat), SCMP_SYS(open),
	SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(access), SCMP_SYS(getdents),
};
#endif

static int
allow_list(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0)) !=
		    0) {
			log_warnx("seccomp: cannot allow system call %d: %s",
			    calls[i], strerror(-r));
			return 0;
		}
	}
	return 1;
}

/* The rules with argument checks, shared by every role. */
static int
allow_checked(scmp_filter_ctx ctx, enum sandbox_role role)
{
	int r = 0;

	/* No executable memory. */
	r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* Local sockets only (syslog). */
	r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/* abort() signals its own process only. */
	r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/*
	 * Opening a file fails with EACCES instead of killing: glibc opens
	 * files on its own now and then (malloc reads
	 * /proc/sys/vm/overcommit_memory the first time it shrinks a
	 * thread's heap, and does without when it cannot).
	 */
#ifndef SANITIZED	/* there, sanitizer_calls[] allows them */
	if (role == SANDBOX_LOGWRITER) {
		/*
		 * The access log writer reopens its file (rotation): with
		 * exactly the flags of ocsp/accesslog.c, nothing else.
		 */
		r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
		    SCMP_A2(SCMP_CMP_EQ, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC));
		r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(openat), 1, SCMP_A2(SCMP_CMP_NE, O_WRONLY |
		    O_APPEND | O_CREAT | O_CLOEXEC));
		r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(open), 0);
	} else if (role != SANDBOX_SIGNER_TOKEN &&
	    role != SANDBOX_RESPONDER_MAIN) {
		r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(openat), 0);
		r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(open), 0);
	}
#endif
	if (role == SANDBOX_RESPONDER || role == SANDBOX_RESPONDER_MAIN) {
		/* Threads (libmicrohttpd's workers), never processes. */
		r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
		r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
		    SCMP_SYS(clone3), 0);
		r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	}
	if (role == SANDBOX_RESPONDER_MAIN) {
		/*
		 * The HTTP threads narrow their filter further: they may set
		 * no_new_privs and add a filter, which only takes rights away.
		 */
		r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    SCMP_A0(SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS));
		r |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 1,
		    SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER));
	}
	if (r != 0) {
		log_warnx("seccomp: cannot add the argument rules");
		return 0;
	}
	return 1;
}

int
sandbox_apply(enum sandbox_role role)
{
	scmp_filter_ctx ctx = NULL;
	int r, ret = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("prctl(PR_SET_NO_NEW_PRIVS)");
		return 0;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		log_warnx("seccomp: cannot create a filter");
		return 0;
	}
	if (!allow_list(ctx, base_calls, N(base_calls)) ||
	    !allow_checked(ctx, role)) {
		goto out;
	}
	if ((role == SANDBOX_RESPONDER || role == SANDBOX_RESPONDER_MAIN) &&
	    !allow_list(ctx, responder_calls, N(responder_calls))) {
		goto out;
	}
	if (role == SANDBOX_RESPONDER_MAIN &&
	    (!allow_list(ctx, main_calls, N(main_calls)) ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0)) {
		log_warnx("seccomp: cannot synchronise the threads' filters");
		goto out;
	}
	if (role == SANDBOX_SIGNER_TOKEN &&
	    !allow_list(ctx, token_calls, N(token_calls))) {
		goto out;
	}
#ifdef SANITIZED
	if (!allow_list(ctx, sanitizer_calls, N(sanitizer_calls))) {
		goto out;
	}
#endif
	if ((r = seccomp_load(ctx)) != 0) {
		log_warnx("seccomp: cannot load the filter: %s", strerror(-r));
		goto out;
	}
	log_debug("seccomp filter installed (%s)", role == SANDBOX_RESPONDER ?
	    "responder" : role == SANDBOX_RESPONDER_MAIN ? "every responder "
	    "thread" : role == SANDBOX_SIGNER ? "signer" :
	    role == SANDBOX_LOGWRITER ? "access log writer" : "token signer");
	ret = 1;
 out:
	seccomp_release(ctx);
	return ret;
}

const char *
sandbox_kind(void)
{
#ifdef SANITIZED
	return "seccomp-relaxed";
#else
	return "seccomp";
#endif
}
