/*
 * Reading PINs and passphrases from a no-echo prompt, a file, a file
 * descriptor or the environment.  Every buffer that held a secret is
 * wiped with OPENSSL_cleanse before it is released.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "secret.h"

#define SECRET_MAX 1024

void
secret_free(char *secret)
{
	if (secret == NULL) {
		return;
	}
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
}

/* Read one line (at most SECRET_MAX-1 bytes) from fd into buf. */
static int
read_line_fd(int fd, char *buf, size_t bufsz, const char *what)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR) {
			continue;
		}
		if (r == -1) {
			log_warn("%s: cannot read secret", what);
			return 0;
		}
		if (r == 0 || c == '\n') {
			break;
		}
		if (n + 1 >= bufsz) {
			log_warnx("%s: secret longer than %zu bytes", what,
			    bufsz - 1);
			return 0;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	return 1;
}

static int
read_prompt(char *buf, size_t bufsz, const char *what)
{
	struct termios old, noecho;
	int fd, ok = 0, restored = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
		log_warnx("%s: no terminal to prompt on: name a secret source "
		    "(file:PATH, fd:N or env:VAR)", what);
		return 0;
	}
	if (tcgetattr(fd, &old) == -1) {
		log_warn("%s: tcgetattr", what);
		goto out;
	}
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	dprintf(fd, "%s: ", what);
	if (tcsetattr(fd, TCSAFLUSH, &noecho) == -1) {
		log_warn("%s: tcsetattr", what);
		goto out;
	}
	ok = read_line_fd(fd, buf, bufsz, what);
	restored = tcsetattr(fd, TCSAFLUSH, &old) == 0;
	dprintf(fd, "\n");
	if (!restored) {
		log_warn("%s: cannot restore terminal", what);
		ok = 0;
	}
out:
	close(fd);
	return ok;
}

int
secret_source_valid(const char *source, const char *what)
{
	if (source == NULL || strcmp(source, "prompt") == 0 ||
	    strncmp(source, "file:", 5) == 0 || strncmp(source, "fd:", 3) == 0 ||
	    strncmp(source, "env:", 4) == 0) {
		return 1;
	}
	log_warnx("%s: secret source must be prompt, file:PATH, fd:N or "
	    "env:VAR (a secret is never taken from the command line)", what);
	return 0;
}

char *
secret_read(const char *source, const char *what)
{
	char buf[SECRET_MAX];
	char *ret = NULL;
	size_t len;
	int ok = 0;

	buf[0] = '\0';
	if (!secret_source_valid(source, what)) {
		return NULL;
	}
	if (source == NULL || strcmp(source, "prompt") == 0) {
		ok = read_prompt(buf, sizeof(buf), what);
	} else if (strncmp(source, "file:", 5) == 0) {
		int fd = open(source + 5, O_RDONLY | O_CLOEXEC);

		if (fd == -1) {
			log_warn("%s: %s", what, source + 5);
			goto out;
		}
		ok = read_line_fd(fd, buf, sizeof(buf), what);
		close(fd);
	} else if (strncmp(source, "fd:", 3) == 0) {
		char *end;
		long fd;

		errno = 0;
		fd = strtol(source + 3, &end, 10);
		if (errno != 0 || *end != '\0' || fd < 0 || fd > INT_MAX) {
			log_warnx("%s: bad file descriptor in %s", what, source);
			goto out;
		}
		ok = read_line_fd((int)fd, buf, sizeof(buf), what);
	} else {
		const char *v = getenv(source + 4);

		if (v == NULL) {
			log_warnx("%s: environment variable %s is not set",
			    what, source + 4);
			goto out;
		}
		if (strlen(v) >= sizeof(buf)) {
			log_warnx("%s: secret too long", what);
			goto out;
		}
		strcpy(buf, v);
		ok = 1;
	}
	if (!ok) {
		goto out;
	}
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n')) {
		buf[--len] = '\0';
	}
	if (len == 0) {
		log_warnx("%s: empty secret refused", what);
		goto out;
	}
	if ((ret = strdup(buf)) == NULL) {
		fatalx("out of memory");
	}
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}
