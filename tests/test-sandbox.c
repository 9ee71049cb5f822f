/*
 * Test driver for ocsp/sandbox.h: installs the filter of a role with the
 * daemons' own code, then makes one system call, so that
 * tests/ocsp-conn.test can check what is allowed and that a forbidden
 * call kills the process with SIGSYS.
 *
 *   test-sandbox kind                       prints "seccomp" or "none"
 *   test-sandbox ROLE ACTION                ROLE: responder signer token
 *                                           main (every thread, TSYNC),
 *                                           logwriter
 *     allowed   memory, a thread (responder, main), random bytes, write:
 *               exit 0; main: also a thread that already ran gets the
 *               filter and adds the responder filter on top
 *     execve    execve("/bin/true")         fork     fork()
 *     open      open("/etc/hostname"): prints "opened" or "EACCES"
 *     append    open("/dev/null") as the access log writer does (O_WRONLY
 *               O_APPEND O_CREAT O_CLOEXEC): prints "opened" or "EACCES"
 *     inet      socket(AF_INET)
 *     exec-mem  mmap(PROT_EXEC)
 * A call that the filter lets through exits 0 after it ran (or 3 when
 * it failed); a killed process shows signal 31 (SIGSYS).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

static void *
thread_main(void *arg)
{
	return arg;
}

/* The Seccomp: line of /proc/thread-self/status (its mode), or -1. */
static int
seccomp_mode(void)
{
	char line[128];
	FILE *f;
	int mode = -1;

	if ((f = fopen("/proc/thread-self/status", "r")) == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Seccomp:", 8) == 0) {
			mode = atoi(line + 8);
		}
	}
	fclose(f);
	return mode;
}

/*
 * A thread started before the main filter: it waits until the filter is
 * in, then reports its mode (TSYNC gave it the filter: 2) and adds the
 * responder filter as the HTTP threads do.
 */
static int go;
static int early_mode = -1, early_added;

static void *
early_thread(void *arg)
{
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE)) {
		usleep(1000);
	}
	early_mode = seccomp_mode();
	early_added = sandbox_apply(SANDBOX_RESPONDER);
	return arg;
}

static int
allowed(enum sandbox_role role)
{
	unsigned char buf[32];
	char *p;
	pthread_t t;

	if ((p = malloc(1 << 20)) == NULL) {
		return 3;
	}
	memset(p, 1, 1 << 20);
	free(p);
	if (getrandom(buf, sizeof(buf), 0) != (ssize_t)sizeof(buf)) {
		return 3;
	}
	if (role == SANDBOX_RESPONDER || role == SANDBOX_RESPONDER_MAIN) {
		if (pthread_create(&t, NULL, thread_main, NULL) != 0 ||
		    pthread_join(t, NULL) != 0) {
			return 3;
		}
	}
	return write(1, "ok\n", 3) == 3 ? 0 : 3;
}

int
main(int argc, char **argv)
{
	enum sandbox_role role;
	char *const args[] = { "/bin/true", NULL };
	pthread_t t, early;
	pid_t pid;
	void *m;
	int fd;

	log_init("test-sandbox");
	if (argc == 2 && strcmp(argv[1], "kind") == 0) {
		printf("%s\n", sandbox_kind());
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: test-sandbox kind | ROLE ACTION\n");
		return 2;
	}
	if (strcmp(argv[1], "responder") == 0) {
		role = SANDBOX_RESPONDER;
	} else if (strcmp(argv[1], "signer") == 0) {
		role = SANDBOX_SIGNER;
	} else if (strcmp(argv[1], "token") == 0) {
		role = SANDBOX_SIGNER_TOKEN;
	} else if (strcmp(argv[1], "main") == 0) {
		role = SANDBOX_RESPONDER_MAIN;
	} else if (strcmp(argv[1], "logwriter") == 0) {
		role = SANDBOX_LOGWRITER;
	} else {
		return 2;
	}
	/*
	 * As in eseal-ocspd, threads already ran before the filter (glibc
	 * sets its thread signal handlers up with the first one).
	 */
	if (pthread_create(&t, NULL, thread_main, NULL) != 0 ||
	    pthread_join(t, NULL) != 0) {
		return 1;
	}
	if (role == SANDBOX_RESPONDER_MAIN && (seccomp_mode() != 0 ||
	    pthread_create(&early, NULL, early_thread, NULL) != 0)) {
		return 1;
	}
	if (!sandbox_apply(role)) {
		return 1;
	}
	if (role == SANDBOX_RESPONDER_MAIN) {
		__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
		if (pthread_join(early, NULL) != 0 || early_mode != 2 ||
		    !early_added) {
			fprintf(stderr, "thread started before: mode %d, "
			    "responder filter %s\n", early_mode, early_added ?
			    "added" : "refused");
			return 4;
		}
	}
	if (strcmp(argv[2], "allowed") == 0) {
		return allowed(role);
	} else if (strcmp(argv[2], "execve") == 0) {
		execve(args[0], args, NULL);
	} else if (strcmp(argv[2], "fork") == 0) {
		if ((pid = fork()) == 0) {
			_exit(0);
		}
		if (pid != -1) {
			waitpid(pid, NULL, 0);
			return 0;
		}
	} else if (strcmp(argv[2], "open") == 0) {
		if ((fd = open("/etc/hostname", O_RDONLY)) != -1) {
			close(fd);
			printf("opened\n");
			return 0;
		}
		printf("%s\n", errno == EACCES ? "EACCES" : "other error");
		return 0;
	} else if (strcmp(argv[2], "append") == 0) {
		if ((fd = open("/dev/null", O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0640)) != -1) {
			close(fd);
			printf("opened\n");
			return 0;
		}
		printf("%s\n", errno == EACCES ? "EACCES" : "other error");
		return 0;
	} else if (strcmp(argv[2], "inet") == 0) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1) {
			close(fd);
			return 0;
		}
	} else if (strcmp(argv[2], "exec-mem") == 0) {
		m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		if (m != MAP_FAILED) {
			return 0;
		}
	} else {
		return 2;
	}
	return 3;
}
