/*
 * The signer spawner (see spawner.h): the process side (spawner_main and
 * its helpers, run in the forked child) and the responder side (one
 * request at a time under a mutex).  Requests and answers are fixed-size
 * records of this one binary on a SOCK_SEQPACKET socketpair, so that a
 * record is never split or merged; the signer's descriptor travels as
 * SCM_RIGHTS with the answer to a start.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "spawner.h"

/* Signers alive at once (the pool has at most 16, plus restarts). */
#define SPAWNER_CHILDREN	64

enum spawner_op {
	SPAWN_START = 1,
	SPAWN_KILL = 2
};

struct spawn_req {
	int	op;		/* enum spawner_op */
	pid_t	pid;		/* SPAWN_KILL */
};

struct spawn_ans {
	int	ok;
	pid_t	pid;		/* SPAWN_START */
};

struct spawner {
	pthread_mutex_t	 lock;
	int		 fd;
	pid_t		 pid;
	int		 gone;	/* under lock */
};

/* --- the spawner process ------------------------------------------ */

static pid_t kids[SPAWNER_CHILDREN];

static void
kid_forget(pid_t pid, int st)
{
	int i;

	for (i = 0; i < SPAWNER_CHILDREN; i++) {
		if (kids[i] == pid) {
			kids[i] = 0;
		}
	}
	if (WIFSIGNALED(st)) {
		log_info("signer pid %ld: reaped (signal %d)", (long)pid,
		    WTERMSIG(st));
	} else {
		log_info("signer pid %ld: reaped (exit %d)", (long)pid,
		    WEXITSTATUS(st));
	}
}

/* Reap every signer that has exited. */
static void
reap(void)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		kid_forget(pid, st);
	}
}

/* Send ans, with fd as SCM_RIGHTS unless it is -1.  1/0. */
static int
answer(int sock, const struct spawn_ans *ans, int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { (void *)ans, sizeof(*ans) };
	struct msghdr mh;
	struct cmsghdr *c;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(*ans);
}

/* fork+exec one signer on a new socketpair and answer sock. 1/0. */
static int
start_one(int sock, char *const argv[])
{
	struct spawn_ans ans = { 0, 0 };
	int sv[2], i, ret;
	pid_t pid;

	for (i = 0; i < SPAWNER_CHILDREN && kids[i] != 0; i++) {
		;
	}
	if (i == SPAWNER_CHILDREN) {
		log_warnx("signer spawner: %d signers alive, no more",
		    SPAWNER_CHILDREN);
		return answer(sock, &ans, -1);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("signer spawner: socketpair");
		return answer(sock, &ans, -1);
	}
	if ((pid = fork()) == -1) {
		log_warn("signer spawner: fork");
		close(sv[0]);
		close(sv[1]);
		return answer(sock, &ans, -1);
	}
	if (pid == 0) {
		if (sv[1] == 3) {
			(void)fcntl(3, F_SETFD, 0);
		} else if (dup2(sv[1], 3) == -1) {
			_exit(127);
		}
		execv(argv[0], argv);
		log_warn("%s: cannot exec the signer program", argv[0]);
		_exit(127);
	}
	kids[i] = pid;
	close(sv[1]);
	ans.ok = 1;
	ans.pid = pid;
	ret = answer(sock, &ans, sv[0]);
	close(sv[0]);
	return ret;
}

/* Kill and reap pid if it is one of ours and still unreaped. 1/0. */
static int
kill_one(int sock, pid_t pid)
{
	struct spawn_ans ans = { 1, 0 };
	int i, st = 0;

	for (i = 0; i < SPAWNER_CHILDREN; i++) {
		if (pid > 0 && kids[i] == pid) {
			(void)kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR) {
				;
			}
			kid_forget(pid, st);
			break;
		}
	}
	return answer(sock, &ans, -1);
}

/* The responder is gone: let the signers stop (5 s), kill the rest. */
static void
end_all(void)
{
	int i, left, tries;

	for (tries = 0; tries < 500; tries++) {
		reap();
		for (i = 0, left = 0; i < SPAWNER_CHILDREN; i++) {
			left += kids[i] != 0;
		}
		if (left == 0) {
			return;
		}
		usleep(10000);
	}
	for (i = 0; i < SPAWNER_CHILDREN; i++) {
		if (kids[i] != 0) {
			log_warnx("signer pid %ld does not stop: killed",
			    (long)kids[i]);
			(void)kill(kids[i], SIGKILL);
		}
	}
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
		;
	}
}

/* The spawner process: answer requests on sock until it is closed. */
static void __attribute__((noreturn))
spawner_main(int sock, char *const argv[])
{
	struct spawn_req rq;
	struct pollfd pfd;
	ssize_t n;
	int r;

	(void)prctl(PR_SET_NAME, "ocspd-spawner");
	/* Nothing but the request socket (and stdin, stdout, stderr). */
	if (sock > 3) {
		(void)close_range(3, (unsigned int)sock - 1, 0);
	}
	(void)close_range((unsigned int)sock + 1, ~0U, 0);
	for (;;) {
		reap();
		pfd.fd = sock;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, 200)) == 0 || (r == -1 &&
		    errno == EINTR)) {
			continue;
		}
		if (r == -1) {
			break;
		}
		if ((n = recv(sock, &rq, sizeof(rq), 0)) == -1 &&
		    errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		if (n != (ssize_t)sizeof(rq)) {
			break;
		}
		if (rq.op == SPAWN_START) {
			r = start_one(sock, argv);
		} else if (rq.op == SPAWN_KILL) {
			r = kill_one(sock, rq.pid);
		} else {
			r = 0;
		}
		if (!r) {
			break;
		}
	}
	close(sock);
	end_all();
	_exit(0);
}

/* --- the responder's side ----------------------------------------- */

struct spawner *
spawner_start(char *const argv[])
{
	struct spawner *s;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("signer spawner: socketpair");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		fatalx("out of memory");
	}
	switch ((s->pid = fork())) {
	case -1:
		log_warn("signer spawner: fork");
		close(sv[0]);
		close(sv[1]);
		free(s);
		return NULL;
	case 0:
		close(sv[0]);
		spawner_main(sv[1], argv);
	default:
		break;
	}
	close(sv[1]);
	s->fd = sv[0];
	pthread_mutex_init(&s->lock, NULL);
	log_debug("signer spawner started (pid %ld)", (long)s->pid);
	return s;
}

/* Called locked: note (once, logged) that the spawner is gone. */
static void
set_gone(struct spawner *s)
{
	if (!s->gone) {
		s->gone = 1;
		log_warnx("signer spawner (pid %ld): ES-OCSPD-12: gone; lost "
		    "signers can no longer be started again", (long)s->pid);
	}
}

/* Called locked: one request and its answer (*fd: the passed one). 1/0 */
static int
ask(struct spawner *s, const struct spawn_req *rq, struct spawn_ans *ans,
    int *fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { ans, sizeof(*ans) };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	if (s->gone) {
		return 0;
	}
	if (send(s->fd, rq, sizeof(*rq), MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(*rq)) {
		set_gone(s);
		return 0;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	while ((n = recvmsg(s->fd, &mh, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR) {
		;
	}
	for (c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c != NULL;
	    c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int))) {
			memcpy(fd, CMSG_DATA(c), sizeof(int));
		}
	}
	if (n != (ssize_t)sizeof(*ans)) {
		if (*fd != -1) {
			close(*fd);
			*fd = -1;
		}
		set_gone(s);
		return 0;
	}
	return 1;
}

int
spawner_spawn(struct spawner *s, int *fd, pid_t *pid)
{
	struct spawn_req rq = { SPAWN_START, 0 };
	struct spawn_ans ans;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	if (ask(s, &rq, &ans, fd) && ans.ok && *fd != -1) {
		*pid = ans.pid;
		ret = 1;
	} else if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void
spawner_kill(struct spawner *s, pid_t pid)
{
	struct spawn_req rq = { SPAWN_KILL, pid };
	struct spawn_ans ans;
	int fd;

	pthread_mutex_lock(&s->lock);
	if (ask(s, &rq, &ans, &fd) && fd != -1) {
		close(fd);
	}
	pthread_mutex_unlock(&s->lock);
}

int
spawner_gone(struct spawner *s)
{
	struct pollfd pfd;
	int gone;

	pthread_mutex_lock(&s->lock);
	if (!s->gone) {
		/* The spawner never speaks unasked: readable means closed. */
		pfd.fd = s->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) == 1 && pfd.revents != 0) {
			set_gone(s);
		}
	}
	gone = s->gone;
	pthread_mutex_unlock(&s->lock);
	return gone;
}

pid_t
spawner_pid(const struct spawner *s)
{
	return s->pid;
}

void
spawner_free(struct spawner *s)
{
	if (s == NULL) {
		return;
	}
	close(s->fd);
	while (waitpid(s->pid, NULL, 0) == -1 && errno == EINTR) {
		;
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}
