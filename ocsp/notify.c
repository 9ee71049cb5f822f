/*
 * sd_notify(3) for eseal-ocspd, by hand (see notify.h): the datagram
 * protocol is a few lines, and a libsystemd dependency would put
 * systemd's library (and its own dependencies) into the process that
 * parses the network's input.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static struct sockaddr_un addr;
static socklen_t addr_len;	/* 0: no service manager to tell */

int
notify_init(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	size_t n;
	int ret = 1;

	addr_len = 0;
	if (e == NULL || *e == '\0') {
		return 1;
	}
	n = strlen(e);
	if ((e[0] != '/' && e[0] != '@') || n >= sizeof(addr.sun_path) ||
	    (e[0] == '@' && n < 2)) {
		log_warnx("NOTIFY_SOCKET: want an absolute path or @name "
		    "shorter than %zu bytes", sizeof(addr.sun_path));
		ret = 0;
	} else {
		memset(&addr, 0, sizeof(addr));
		addr.sun_family = AF_UNIX;
		memcpy(addr.sun_path, e, n);
		if (e[0] == '@') {
			addr.sun_path[0] = '\0';	/* abstract */
			addr_len = (socklen_t)(offsetof(struct sockaddr_un,
			    sun_path) + n);
		} else {
			addr_len = (socklen_t)sizeof(addr);
		}
	}
	unsetenv("NOTIFY_SOCKET");
	return ret;
}

int
notify_send(const char *state)
{
	char buf[256];
	struct timespec ts;
	int s, len, ret = 0;

	if (addr_len == 0) {
		return 1;
	}
	if (strcmp(state, "RELOADING=1") == 0) {
		/* systemd 253: Type=notify-reload wants the time with it. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		len = snprintf(buf, sizeof(buf), "%s\nMONOTONIC_USEC=%llu",
		    state, (unsigned long long)ts.tv_sec * 1000000ULL +
		    (unsigned long long)ts.tv_nsec / 1000);
	} else {
		len = snprintf(buf, sizeof(buf), "%s", state);
	}
	if (len < 0 || (size_t)len >= sizeof(buf)) {
		log_warnx("NOTIFY_SOCKET: message too long");
		return 0;
	}
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("NOTIFY_SOCKET: socket");
		return 0;
	}
	if (sendto(s, buf, (size_t)len, MSG_NOSIGNAL,
	    (const struct sockaddr *)&addr, addr_len) != (ssize_t)len) {
		log_warn("NOTIFY_SOCKET: %s", state);
	} else {
		ret = 1;
	}
	close(s);
	return ret;
}
