/*
 * Framing of the daemon <-> signer messages (see ipc.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR) {
				continue;
			}
			return 0;
		}
		p += w;
		len -= (size_t)w;
	}
	return 1;
}

/* 1 full read, 0 EOF or error. */
static int
read_all(int fd, unsigned char *p, size_t len)
{
	ssize_t r;

	while (len > 0) {
		if ((r = read(fd, p, len)) == -1) {
			if (errno == EINTR) {
				continue;
			}
			return 0;
		}
		if (r == 0) {
			return 0;
		}
		p += r;
		len -= (size_t)r;
	}
	return 1;
}

/*
 * One write(2) for the header and the payload (the header alone when
 * empty): a batch costs the peer one wake-up and each side one syscall.
 */
int
ipc_send(int fd, enum signop type, const void *buf, size_t len)
{
	unsigned char *msg;
	int ret;

	if (len > IPC_MAX) {
		log_warnx("ipc: message of %zu bytes over the cap", len);
		return 0;
	}
	if ((msg = malloc(8 + len)) == NULL) {
		fatalx("out of memory");
	}
	ipc_put32(msg, (uint32_t)type);
	ipc_put32(msg + 4, (uint32_t)len);
	if (len > 0) {
		memcpy(msg + 8, buf, len);
	}
	if (!(ret = write_all(fd, msg, 8 + len))) {
		log_warn("ipc: write");
	}
	free(msg);
	return ret;
}

/*
 * The header and the start of the payload come in one read(2) (the
 * peer sent them in one write); the rest, if any, is read after.  The
 * protocol is strictly one request, one answer: bytes beyond the
 * message are a peer speaking out of turn.
 */
int
ipc_recv(int fd, enum signop *type, unsigned char **buf, size_t *len,
    size_t max)
{
	unsigned char first[IPC_FIRST];
	uint32_t t, l;
	ssize_t r;
	size_t got = 0;

	*buf = NULL;
	*len = 0;
	while (got < 8) {
		if ((r = read(fd, first + got, sizeof(first) - got)) == -1) {
			if (errno == EINTR) {
				continue;
			}
			return 0;
		}
		if (r == 0) {
			return 0;
		}
		got += (size_t)r;
	}
	t = ipc_get32(first);
	l = ipc_get32(first + 4);
	if (t >= SIGNOP__MAX || l > max || l > IPC_MAX || got - 8 > l) {
		log_warnx("ipc: bad message (type %u, %u bytes)", t, l);
		return 0;
	}
	if (l > 0) {
		if ((*buf = malloc(l)) == NULL) {
			fatalx("out of memory");
		}
		memcpy(*buf, first + 8, got - 8);
		if (!read_all(fd, *buf + (got - 8), l - (got - 8))) {
			free(*buf);
			*buf = NULL;
			return 0;
		}
	}
	*type = (enum signop)t;
	*len = l;
	return 1;
}
