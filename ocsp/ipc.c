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

int
ipc_send(int fd, enum signop type, const void *buf, size_t len)
{
	unsigned char hdr[8];

	if (len > IPC_MAX) {
		log_warnx("ipc: message of %zu bytes over the cap", len);
		return 0;
	}
	ipc_put32(hdr, (uint32_t)type);
	ipc_put32(hdr + 4, (uint32_t)len);
	if (!write_all(fd, hdr, sizeof(hdr)) ||
	    (len > 0 && !write_all(fd, buf, len))) {
		log_warn("ipc: write");
		return 0;
	}
	return 1;
}

int
ipc_recv(int fd, enum signop *type, unsigned char **buf, size_t *len,
    size_t max)
{
	unsigned char hdr[8];
	uint32_t t, l;

	*buf = NULL;
	*len = 0;
	if (!read_all(fd, hdr, sizeof(hdr))) {
		return 0;
	}
	t = ipc_get32(hdr);
	l = ipc_get32(hdr + 4);
	if (t >= SIGNOP__MAX || l > max || l > IPC_MAX) {
		log_warnx("ipc: bad message (type %u, %u bytes)", t, l);
		return 0;
	}
	if (l > 0) {
		if ((*buf = malloc(l)) == NULL) {
			fatalx("out of memory");
		}
		if (!read_all(fd, *buf, l)) {
			free(*buf);
			*buf = NULL;
			return 0;
		}
	}
	*type = (enum signop)t;
	*len = l;
	return 1;
}
