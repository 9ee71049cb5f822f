/*
 * The configuration of eseal-ocspd: a key = value file read once at
 * start-up into cfg (ocspd_int.h), with the defaults set here.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "accesslog.h"
#include "cachecfg.h"
#include "export.h"
#include "ipc.h"
#include "listen.h"
#include "log.h"
#include "priv.h"
#include "responder.h"
#include "secret.h"
#include "signpool.h"
#include "statedir.h"
#include "util.h"
#include "ocspd_int.h"

struct config cfg;

/* --- configuration ------------------------------------------------ */

static int
parse_int(const char *v, int lo, int hi, int *out, const char *fn, int line,
    const char *key)
{
	char *end;
	long n;

	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
		log_warnx("%s:%d: %s: want a number in %d..%d", fn, line, key,
		    lo, hi);
		return 0;
	}
	*out = (int)n;
	return 1;
}

static int
parse_bool(const char *v, int *out, const char *fn, int line, const char *key)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0) {
		*out = 1;
	} else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0) {
		*out = 0;
	} else {
		log_warnx("%s:%d: %s: want yes or no", fn, line, key);
		return 0;
	}
	return 1;
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	if ((*dst = strdup(v)) == NULL) {
		fatalx("out of memory");
	}
}

/* Values of one key: how to parse it and where it goes. */
enum ckind { C_STR, C_INT, C_BOOL, C_CA, C_UNKNOWN, C_LOG };

struct ckey {
	const char	*name;
	enum ckind	 kind;
	int		 lo, hi;	/* C_INT */
	size_t		 off;		/* into struct config */
};

#define OFF(f)	offsetof(struct config, f)
static const struct ckey ckeys[] = {
	{ "listen", C_STR, 0, 0, OFF(listen) },
	{ "port", C_INT, 0, 65535, OFF(port) },
	{ "port-file", C_STR, 0, 0, OFF(port_file) },
	{ "export", C_STR, 0, 0, OFF(export_path) },
	{ "ca-cert", C_CA, 0, 0, 0 },
	{ "signer-cert", C_STR, 0, 0, OFF(signer_cert) },
	{ "signer-key", C_STR, 0, 0, OFF(signer_key) },
	{ "signer-key-pass", C_STR, 0, 0, OFF(signer_pass) },
	{ "signer-alg", C_STR, 0, 0, OFF(signer_alg) },
	{ "algorithm-policy", C_STR, 0, 0, OFF(algorithm_policy) },
	{ "signer-program", C_STR, 0, 0, OFF(signer_program) },
	{ "signers", C_INT, 1, MAX_SIGNERS, OFF(signers) },
	{ "max-body", C_INT, 256, 1024 * 1024, OFF(max_body) },
	{ "signer-timeout", C_INT, 1, 3600, OFF(signer_timeout) },
	{ "threads", C_INT, 1, 256, OFF(threads) },
	{ "max-age", C_INT, 0, 7 * 86400, OFF(max_age) },
	{ "response-validity", C_INT, 60, 7 * 86400, OFF(ro.validity) },
	{ "max-connections", C_INT, 1, 1000000, OFF(max_connections) },
	{ "max-per-client", C_INT, 1, 1000000, OFF(max_per_client) },
	{ "request-timeout", C_INT, 1, 600, OFF(request_timeout) },
	{ "sandbox", C_BOOL, 0, 0, OFF(sandbox) },
	{ "timeout", C_INT, 1, 600, OFF(timeout) },
	{ "reload-interval", C_INT, 0, 86400, OFF(reload_interval) },
	{ "presign", C_BOOL, 0, 0, OFF(presign) },
	{ "unknown-serial", C_UNKNOWN, 0, 0, 0 },
	{ "archive-cutoff", C_INT, 0, 36500, OFF(ro.archive_cutoff_days) },
	{ "extended-revoke", C_BOOL, 0, 0, OFF(ro.extended_revoke) },
	{ "user", C_STR, 0, 0, OFF(user) },
	{ "state-dir", C_STR, 0, 0, OFF(state_dir) },
	{ "log", C_LOG, 0, 0, 0 },
};
#undef OFF

/* Set key k to value v (line of fn). 1/0 (logged). */
static int
config_set(const char *k, const char *v, const char *fn, int line)
{
	const struct ckey *ck = NULL;
	char *base = (char *)&cfg;
	enum alog_conf ac;
	size_t i;
	int r;

	if ((ac = accesslog_config(k, v, fn, line)) != ALOG_CONF_NOT_MINE) {
		return ac != ALOG_CONF_BAD;	/* access log */
	}
	if ((r = cache_config_key(k, v, &cfg.ro, fn, line)) >= 0) {
		return r;	/* response cache */
	}
	for (i = 0; i < sizeof(ckeys) / sizeof(ckeys[0]); i++) {
		if (strcmp(k, ckeys[i].name) == 0) {
			ck = &ckeys[i];
			break;
		}
	}
	if (ck == NULL) {
		log_warnx("%s:%d: unknown key \"%s\"", fn, line, k);
		return 0;
	}
	switch (ck->kind) {
	case C_STR:
		set_str((char **)(void *)(base + ck->off), v);
		return 1;
	case C_INT:
		return parse_int(v, ck->lo, ck->hi, (int *)(void *)(base +
		    ck->off), fn, line, k);
	case C_BOOL:
		return parse_bool(v, (int *)(void *)(base + ck->off), fn, line,
		    k);
	case C_CA:
		if (cfg.nca == MAX_CA) {
			log_warnx("%s:%d: at most %d ca-cert", fn, line,
			    MAX_CA);
			return 0;
		}
		set_str(&cfg.ca_certs[cfg.nca++], v);
		return 1;
	case C_UNKNOWN:
		if (strcmp(v, "unknown") == 0) {
			cfg.ro.unknown = UNKNOWN_AS_UNKNOWN;
		} else if (strcmp(v, "revoked") == 0) {
			cfg.ro.unknown = UNKNOWN_AS_REVOKED;
		} else {
			log_warnx("%s:%d: unknown-serial: want unknown "
			    "or revoked", fn, line);
			return 0;
		}
		return 1;
	case C_LOG:
		if (strcmp(v, "syslog") == 0) {
			cfg.syslog = 1;
		} else if (strcmp(v, "stderr") == 0) {
			cfg.syslog = 0;
		} else {
			log_warnx("%s:%d: log: want stderr or syslog",
			    fn, line);
			return 0;
		}
		return 1;
	}
	return 0;
}

/* The defaults of every key that has one. */
static void
config_defaults(void)
{
	cfg.listen = strdup("127.0.0.1");
	cfg.port = 8080;
	cfg.signers = 1;
	cfg.signer_timeout = 30;
	cfg.max_body = 16 * 1024;
	cfg.max_connections = 4096;
	cfg.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (cfg.threads < 1 || cfg.threads > 64) {
		cfg.threads = 2;
	}
	cfg.max_age = 3600;
	cfg.timeout = 10;
	cfg.reload_interval = 5;
	cfg.presign = 1;
	cfg.sandbox = 1;
	cfg.ro.validity = 86400;
	cfg.ro.cache_max = cache_default_max();
	cfg.state_dir = strdup(STATEDIR_DEFAULT);
}

/* Read the key = value configuration file. 1/0 (logged). */
int
config_read(const char *fn)
{
	FILE *f;
	char buf[1024], *k, *v, *e;
	int line = 0, ret = 0;

	config_defaults();
	if ((f = fopen(fn, "r")) == NULL) {
		log_warn("%s", fn);
		return 0;
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		line++;
		if ((e = strchr(buf, '#')) != NULL) {
			*e = '\0';
		}
		for (k = buf; *k == ' ' || *k == '\t'; k++) {
			;
		}
		for (e = k + strlen(k); e > k && (e[-1] == '\n' ||
		    e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'); e--) {
			;
		}
		*e = '\0';
		if (*k == '\0') {
			continue;
		}
		if ((v = strchr(k, '=')) == NULL) {
			log_warnx("%s:%d: want key = value", fn, line);
			goto out;
		}
		for (e = v; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--) {
			;
		}
		*e = '\0';
		for (v++; *v == ' ' || *v == '\t'; v++) {
			;
		}
		if (!config_set(k, v, fn, line)) {
			goto out;
		}
	}
	if (cfg.export_path == NULL || cfg.nca == 0 ||
	    cfg.signer_cert == NULL || cfg.signer_key == NULL) {
		log_warnx("%s: export, ca-cert, signer-cert and signer-key are "
		    "required", fn);
		goto out;
	}
	if (cfg.signer_pass != NULL &&
	    !secret_source_valid(cfg.signer_pass, "signer-key-pass")) {
		goto out;
	}
	ret = 1;
 out:
	fclose(f);
	return ret;
}
