/*
 * eseal-ocspd: an RFC 6960 / RFC 5019 OCSP responder that also serves
 * the CRLs carried by the signed status export.  This process parses
 * HTTP and DER (untrusted input) and never holds a key: signatures come
 * from eseal-ocsp-signer processes over socketpairs.  The current
 * responder state is a reference-counted pointer swapped atomically on
 * reload (SIGHUP or a changed export file), so requests in flight finish
 * on the state they started with.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
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

#ifndef SBINDIR
#define SBINDIR "/usr/sbin"
#endif
#define MAX_CA		8
#define MAX_SIGNERS	SIGNPOOL_MAX
/* Pre-signing threads: enough to fill a signer batch now and then. */
#define PRESIGNERS	8
#define NBUCKETS	12

struct config {
	char	*listen;
	int	 port;
	char	*port_file;
	char	*export_path;
	char	*ca_certs[MAX_CA];
	int	 nca;
	char	*signer_cert, *signer_key, *signer_pass, *signer_alg;
	char	*signer_program;
	int	 signers;
	int	 signer_timeout;
	int	 max_body;
	int	 max_connections;
	int	 max_per_client;	/* 0: max-connections / 4, in 4..64 */
	int	 request_timeout;	/* 0: the idle timeout */
	int	 sandbox;
	int	 threads;
	int	 max_age;
	int	 timeout;
	int	 reload_interval;
	int	 presign;
	char	*user;
	char	*state_dir;
	int	 syslog;
	struct responder_opts ro;
};

struct signer_proc {
	int		 fd;
	pid_t		 pid;
};

static struct config cfg;
static struct responder_signer rsigner;
static struct signpool *pool;
static X509 *trust[MAX_CA];

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rstate *cur_state;
static int stopping;	/* atomic: set once by the main thread */

static int
is_stopping(void)
{
	return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

/* Metrics (updated with atomics). */
static uint64_t m_ocsp[7];		/* by OCSPResponseStatus */
#define NHTTP	7
static uint64_t m_http[NHTTP];	/* 200 304 404 405 413 414 415 */
static const int http_codes[NHTTP] = { 200, 304, 404, 405, 413, 414, 415 };
static uint64_t m_other_http;
static uint64_t m_lat[NBUCKETS + 1];
static uint64_t m_lat_sum_us, m_lat_count;
static uint64_t m_reload_ok, m_reload_refused, m_reload_failed;
static const double lat_bounds[NBUCKETS] = { 0.0001, 0.00025, 0.0005,
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1 };

static void
inc(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* A counter's value for /metrics. */
static unsigned long long
ld(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Take a reference on the current state. */
static struct rstate *
state_get(void)
{
	struct rstate *st;

	pthread_mutex_lock(&state_lock);
	st = rstate_ref(cur_state);
	pthread_mutex_unlock(&state_lock);
	return st;
}

static void
state_swap(struct rstate *st)
{
	struct rstate *old;

	pthread_mutex_lock(&state_lock);
	old = cur_state;
	cur_state = st;
	pthread_mutex_unlock(&state_lock);
	rstate_unref(old);
}

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

/* Read the key = value configuration file. 1/0 (logged). */
static int
config_read(const char *fn)
{
	FILE *f;
	char buf[1024], *k, *v, *e;
	int line = 0, ret = 0, r;

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
		if (strcmp(k, "listen") == 0) {
			set_str(&cfg.listen, v);
		} else if (strcmp(k, "port") == 0) {
			if (!parse_int(v, 0, 65535, &cfg.port, fn, line, k)) {
				goto out;
			}
		} else if (strcmp(k, "port-file") == 0) {
			set_str(&cfg.port_file, v);
		} else if (strcmp(k, "export") == 0) {
			set_str(&cfg.export_path, v);
		} else if (strcmp(k, "ca-cert") == 0) {
			if (cfg.nca == MAX_CA) {
				log_warnx("%s:%d: at most %d ca-cert", fn, line,
				    MAX_CA);
				goto out;
			}
			set_str(&cfg.ca_certs[cfg.nca++], v);
		} else if (strcmp(k, "signer-cert") == 0) {
			set_str(&cfg.signer_cert, v);
		} else if (strcmp(k, "signer-key") == 0) {
			set_str(&cfg.signer_key, v);
		} else if (strcmp(k, "signer-key-pass") == 0) {
			set_str(&cfg.signer_pass, v);
		} else if (strcmp(k, "signer-alg") == 0) {
			set_str(&cfg.signer_alg, v);
		} else if (strcmp(k, "signer-program") == 0) {
			set_str(&cfg.signer_program, v);
		} else if (strcmp(k, "signers") == 0) {
			if (!parse_int(v, 1, MAX_SIGNERS, &cfg.signers, fn,
			    line, k)) {
				goto out;
			}
		} else if (strcmp(k, "max-body") == 0) {
			if (!parse_int(v, 256, 1024 * 1024, &cfg.max_body, fn,
			    line, k)) {
				goto out;
			}
		} else if (strcmp(k, "signer-timeout") == 0) {
			if (!parse_int(v, 1, 3600, &cfg.signer_timeout, fn,
			    line, k)) {
				goto out;
			}
		} else if (strcmp(k, "threads") == 0) {
			if (!parse_int(v, 1, 256, &cfg.threads, fn, line, k)) {
				goto out;
			}
		} else if (strcmp(k, "max-age") == 0) {
			if (!parse_int(v, 0, 7 * 86400, &cfg.max_age, fn, line,
			    k)) {
				goto out;
			}
		} else if (strcmp(k, "response-validity") == 0) {
			if (!parse_int(v, 60, 7 * 86400, &cfg.ro.validity, fn,
			    line, k)) {
				goto out;
			}
		} else if (strcmp(k, "max-connections") == 0) {
			if (!parse_int(v, 1, 1000000, &cfg.max_connections, fn,
			    line, k)) {
				goto out;
			}
		} else if (strcmp(k, "max-per-client") == 0) {
			if (!parse_int(v, 1, 1000000, &cfg.max_per_client, fn,
			    line, k)) {
				goto out;
			}
		} else if (strcmp(k, "request-timeout") == 0) {
			if (!parse_int(v, 1, 600, &cfg.request_timeout, fn,
			    line, k)) {
				goto out;
			}
		} else if (strcmp(k, "sandbox") == 0) {
			if (!parse_bool(v, &cfg.sandbox, fn, line, k)) {
				goto out;
			}
		} else if (strcmp(k, "timeout") == 0) {
			if (!parse_int(v, 1, 600, &cfg.timeout, fn, line, k)) {
				goto out;
			}
		} else if (strcmp(k, "reload-interval") == 0) {
			if (!parse_int(v, 0, 86400, &cfg.reload_interval, fn,
			    line, k)) {
				goto out;
			}
		} else if (strcmp(k, "presign") == 0) {
			if (!parse_bool(v, &cfg.presign, fn, line, k)) {
				goto out;
			}
		} else if (strcmp(k, "unknown-serial") == 0) {
			if (strcmp(v, "unknown") == 0) {
				cfg.ro.unknown = UNKNOWN_AS_UNKNOWN;
			} else if (strcmp(v, "revoked") == 0) {
				cfg.ro.unknown = UNKNOWN_AS_REVOKED;
			} else {
				log_warnx("%s:%d: unknown-serial: want unknown "
				    "or revoked", fn, line);
				goto out;
			}
		} else if (strcmp(k, "archive-cutoff") == 0) {
			if (!parse_int(v, 0, 36500, &cfg.ro.archive_cutoff_days,
			    fn, line, k)) {
				goto out;
			}
		} else if (strcmp(k, "extended-revoke") == 0) {
			if (!parse_bool(v, &cfg.ro.extended_revoke, fn, line,
			    k)) {
				goto out;
			}
		} else if ((r = cache_config_key(k, v, &cfg.ro, fn, line)) >=
		    0) {
			if (r == 0) {
				goto out;
			}
		} else if (strcmp(k, "user") == 0) {
			set_str(&cfg.user, v);
		} else if (strcmp(k, "state-dir") == 0) {
			set_str(&cfg.state_dir, v);
		} else if (strcmp(k, "log") == 0) {
			if (strcmp(v, "syslog") == 0) {
				cfg.syslog = 1;
			} else if (strcmp(v, "stderr") == 0) {
				cfg.syslog = 0;
			} else {
				log_warnx("%s:%d: log: want stderr or syslog",
				    fn, line);
				goto out;
			}
		} else {
			log_warnx("%s:%d: unknown key \"%s\"", fn, line, k);
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

/* --- signer processes --------------------------------------------- */

/* fork+exec a signer; its HELLO (signer-timeout) sets/matches rsigner. 1/0 */
static int
signer_start(struct signer_proc *sp, int first)
{
	const char *prog = cfg.signer_program != NULL ? cfg.signer_program :
	    SBINDIR "/eseal-ocsp-signer";
	const char *argv[16];
	int sv[2], n = 0, ret = 0;
	enum signop type;
	unsigned char *msg = NULL;
	const unsigned char *p;
	size_t len;
	uint32_t clen;
	X509 *cert;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("socketpair");
		return 0;
	}
	argv[n++] = prog;
	argv[n++] = "-f";
	argv[n++] = "3";
	argv[n++] = "-c";
	argv[n++] = cfg.signer_cert;
	argv[n++] = "-k";
	argv[n++] = cfg.signer_key;
	if (cfg.signer_pass != NULL) {
		argv[n++] = "-p";
		argv[n++] = cfg.signer_pass;
	}
	if (cfg.signer_alg != NULL) {
		argv[n++] = "-a";
		argv[n++] = cfg.signer_alg;
	}
	if (cfg.user != NULL) {
		argv[n++] = "-u";
		argv[n++] = cfg.user;
	}
	if (!cfg.sandbox) {
		argv[n++] = "-S";
	}
	if (cfg.syslog) {
		argv[n++] = "-s";
	}
	argv[n] = NULL;
	switch ((sp->pid = fork())) {
	case -1:
		log_warn("fork");
		close(sv[0]);
		close(sv[1]);
		return 0;
	case 0:
		/* Possibly forked from a dispatcher thread: async-signal-safe. */
		if (dup2(sv[1], 3) == -1) {
			_exit(127);
		}
		execv(prog, (char *const *)argv);
		if (write(2, "eseal-ocspd: cannot exec the signer program\n",
		    44) == -1) {
			_exit(127);
		}
		_exit(127);
	default:
		break;
	}
	close(sv[1]);
	sp->fd = sv[0];
	(void)setsockopt(sp->fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){
	    cfg.signer_timeout, 0 }, sizeof(struct timeval));
	if (!ipc_recv(sp->fd, &type, &msg, &len, IPC_MAX) ||
	    type != SIGNOP_HELLO || len < 4) {
		log_warnx("%s: signer did not start", prog);
		goto out;
	}
	clen = ipc_get32(msg);
	if (clen > len - 4 || clen == len - 4) {
		log_warnx("%s: bad hello", prog);
		goto out;
	}
	if (!first) {
		/* Another or a restarted signer: the same certificate. */
		if (clen != rsigner.cert_der_len || memcmp(msg + 4,
		    rsigner.cert_der, clen) != 0 || len - 4 - clen !=
		    rsigner.algid_len || memcmp(msg + 4 + clen, rsigner.algid,
		    rsigner.algid_len) != 0) {
			log_warnx("%s: ES-OCSPD-06: the signer process announced "
			    "another certificate or algorithm than the first",
			    prog);
			goto out;
		}
	} else {
		p = msg + 4;
		if ((cert = d2i_X509(NULL, &p, (long)clen)) == NULL ||
		    p != msg + 4 + clen) {
			X509_free(cert);
			log_ssl("%s: bad certificate in hello", prog);
			goto out;
		}
		rsigner.cert = cert;
		rsigner.algid_len = len - 4 - clen;
		if ((rsigner.algid = malloc(rsigner.algid_len)) == NULL) {
			fatalx("out of memory");
		}
		memcpy(rsigner.algid, msg + 4 + clen, rsigner.algid_len);
		if (!responder_signer_prepare(&rsigner)) {
			goto out;
		}
	}
	ret = 1;
 out:
	free(msg);
	if (!ret) {
		close(sp->fd);
		sp->fd = -1;
		(void)kill(sp->pid, SIGKILL);
		while (waitpid(sp->pid, NULL, 0) == -1 && errno == EINTR) {
			;
		}
	}
	return ret;
}

/*
 * signpool_spawn_fn: start one signer; the first one ever started
 * announces the certificate and algorithm (rsigner), later ones (more
 * signers, restarts) must announce the same.
 */
static int
spawn_signer(void *arg, int index, int *fd, pid_t *pid)
{
	struct signer_proc sp;

	if (!signer_start(&sp, rsigner.cert == NULL)) {
		return 0;
	}
	*fd = sp.fd;
	*pid = sp.pid;
	return 1;
}

/*
 * Room for max-connections descriptors: raise the soft RLIMIT_NOFILE up
 * to the hard one; when even that is short, lower max-connections
 * (logged) rather than fail accepts at random later.
 */
static void
fd_budget(void)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)cfg.max_connections + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		return;
	}
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ?
		    want : rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want) {
		int n = rl.rlim_cur > 256 + 16 ? (int)(rl.rlim_cur - 256) : 16;

		log_warnx("max-connections %d lowered to %d: the open-file "
		    "limit is %llu", cfg.max_connections, n,
		    (unsigned long long)rl.rlim_cur);
		cfg.max_connections = n;
	}
}

static int
signers_alive(void)
{
	return pool != NULL && signpool_alive(pool);
}

/* --- export loading ----------------------------------------------- */

static struct timespec export_mtime;
static off_t export_size;

/* The state directory (rollback protection); only -n leaves it unwritten. */
static struct statedir *sdir;
static int sdir_write = 1;

/* Record e (DER der) in the state directory and serve it.  Takes e. 1/0. */
static int
install(struct export *e, const unsigned char *der, size_t len)
{
	struct rstate *st;

	if (sdir_write && !statedir_record(sdir, e, der, len)) {
		log_warnx("state-dir: export sequence %lld served but not "
		    "recorded", (long long)e->sequence);
	}
	if ((st = rstate_new(e, &cfg.ro)) == NULL) {
		inc(&m_reload_failed);
		return 0;
	}
	state_swap(st);
	inc(&m_reload_ok);
	return 1;
}

/*
 * Load the export file; refuse one whose nextUpdate has passed
 * (ES-OCSPD-10), one older than what the state directory says was
 * served (ES-OCSPD-09) and one older than the current state
 * (ES-OCSPD-04).  Returns 1 if a new state was installed.
 */
static int
reload(int initial)
{
	struct export *e;
	struct rstate *old;
	struct stat sb;
	unsigned char *der = NULL;
	size_t len;
	int64_t oldseq;
	int ret = 0;

	if (stat(cfg.export_path, &sb) == 0) {
		export_mtime = sb.st_mtim;
		export_size = sb.st_size;
	}
	if (!file_read(cfg.export_path, EXPORT_FILE_MAX, &der, &len) ||
	    (e = export_decode(der, len, trust, (size_t)cfg.nca,
	    cfg.export_path)) == NULL) {
		inc(&m_reload_failed);
		goto out;
	}
	if (!statedir_export_current(e, now_utc(), cfg.export_path)) {
		export_free(e);
		inc(&m_reload_refused);
		goto out;
	}
	if (!initial) {
		old = state_get();
		oldseq = rstate_export(old)->sequence;
		rstate_unref(old);
		if (e->sequence < oldseq) {
			log_warnx("%s: ES-OCSPD-04: export sequence %lld is "
			    "older than the loaded %lld; refused",
			    cfg.export_path, (long long)e->sequence,
			    (long long)oldseq);
			export_free(e);
			inc(&m_reload_refused);
			goto out;
		}
		if (e->sequence == oldseq) {
			log_info("%s: export sequence %lld unchanged",
			    cfg.export_path, (long long)e->sequence);
			export_free(e);
			goto out;
		}
	}
	if (!statedir_allows(sdir, e, cfg.export_path)) {
		export_free(e);
		inc(&m_reload_refused);
		goto out;
	}
	log_info("%s: loaded export sequence %lld (%zu issuer(s))",
	    cfg.export_path, (long long)e->sequence, e->nissuers);
	ret = install(e, der, len);
 out:
	free(der);
	return ret;
}

/*
 * Start-up: load the export, or else the state directory's copy if it
 * is still current.  1/0 (logged: no start without valid data).
 */
static int
load_initial(void)
{
	struct export *e;
	unsigned char *der = NULL;
	size_t len = 0;
	int ret;

	if (!statedir_prepare(cfg.state_dir, cfg.user, sdir_write) ||
	    (sdir = statedir_open(cfg.state_dir)) == NULL) {
		return 0;
	}
	if (reload(1)) {
		return 1;
	}
	if ((e = statedir_copy(sdir, trust, (size_t)cfg.nca, now_utc(), &der,
	    &len)) == NULL) {
		log_warnx("%s: no valid export to serve (nor a current copy "
		    "in %s): not starting", cfg.export_path, cfg.state_dir);
		return 0;
	}
	log_warnx("%s: serving the copy of export sequence %lld from %s",
	    cfg.export_path, (long long)e->sequence, statedir_copy_path(sdir));
	ret = install(e, der, len);
	free(der);
	return ret;
}

static int
export_changed(void)
{
	struct stat sb;

	if (stat(cfg.export_path, &sb) == -1) {
		return 0;
	}
	return sb.st_mtim.tv_sec != export_mtime.tv_sec ||
	    sb.st_mtim.tv_nsec != export_mtime.tv_nsec ||
	    sb.st_size != export_size;
}

/* --- HTTP --------------------------------------------------------- */

struct req {
	struct timespec	 start;
	/* An answer waiting for its signature (connection suspended): */
	struct MHD_Connection *conn;
	struct rpending	*pend;
	struct rblob	*result;	/* set by the dispatcher, then resumed */
	time_t		 now;
	int		 is_get;
	unsigned char	*body;		/* POST only, grown up to max-body */
	size_t		 len, cap;
	int		 too_big;
	int		 is_post;
};

static void
http_date(time_t t, char *buf, size_t sz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sz, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void
count_http(int code)
{
	int i;

	for (i = 0; i < NHTTP; i++) {
		if (http_codes[i] == code) {
			inc(&m_http[i]);
			return;
		}
	}
	inc(&m_other_http);
}

static enum MHD_Result
send_buf(struct MHD_Connection *c, int code, const char *ctype,
    const void *buf, size_t len, int copy, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)buf, copy ?
	    MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		return MHD_NO;
	}
	if (ctype != NULL) {
		MHD_add_response_header(r, "Content-Type", ctype);
	}
	if (allow != NULL) {
		MHD_add_response_header(r, "Allow", allow);
	}
	count_http(code);
	ret = MHD_queue_response(c, (unsigned int)code, r);
	MHD_destroy_response(r);
	return ret;
}

/* RFC 5019 6.2 caching headers. */
static void
cache_headers(struct MHD_Response *r, time_t produced, time_t next_update,
    const char *etag, time_t now)
{
	char buf[128];
	long age;

	age = (long)(next_update - now);
	if (age > cfg.max_age) {
		age = cfg.max_age;
	}
	if (age < 0) {
		age = 0;
	}
	snprintf(buf, sizeof(buf),
	    "max-age=%ld,public,no-transform,must-revalidate", age);
	MHD_add_response_header(r, "Cache-Control", buf);
	http_date(produced, buf, sizeof(buf));
	MHD_add_response_header(r, "Last-Modified", buf);
	http_date(next_update, buf, sizeof(buf));
	MHD_add_response_header(r, "Expires", buf);
	if (etag != NULL && *etag != '\0') {
		MHD_add_response_header(r, "ETag", etag);
	}
}

static int
etag_matches(struct MHD_Connection *c, const char *etag)
{
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "If-None-Match");

	return inm != NULL && *etag != '\0' &&
	    (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0);
}

static void
rblob_release(void *cls)
{
	rblob_unref(cls);
}

static void
state_release(void *cls)
{
	rstate_unref(cls);
}

static void
record_latency(struct req *rq)
{
	struct timespec now;
	double s;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	s = (double)(now.tv_sec - rq->start.tv_sec) +
	    (double)(now.tv_nsec - rq->start.tv_nsec) / 1e9;
	for (i = 0; i < NBUCKETS && s > lat_bounds[i]; i++) {
		;
	}
	inc(&m_lat[i]);
	__atomic_add_fetch(&m_lat_sum_us, (uint64_t)(s * 1e6),
	    __ATOMIC_RELAXED);
	inc(&m_lat_count);
}

/* Queue the OCSP answer b (reference taken) with its HTTP headers. */
static enum MHD_Result
send_blob(struct MHD_Connection *c, struct req *rq, struct rblob *b,
    int is_get, time_t now)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	int code = 200;

	if (b->ocsp_status >= 0 && b->ocsp_status < 7) {
		inc(&m_ocsp[b->ocsp_status]);
	}
	if (is_get && b->ocsp_status == 0 && etag_matches(c, b->etag)) {
		code = 304;
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer_with_free_callback_cls(
		    b->len, b->der, rblob_release, rblob_ref(b));
	}
	if (r == NULL) {
		rblob_unref(b);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type",
	    "application/ocsp-response");
	if (is_get && b->ocsp_status == 0) {
		cache_headers(r, b->produced, b->next_update, b->etag, now);
	} else if (b->ocsp_status != 0) {
		MHD_add_response_header(r, "Cache-Control", "no-store");
	}
	count_http(code);
	record_latency(rq);
	ret = MHD_queue_response(c, (unsigned int)code, r);
	MHD_destroy_response(r);
	rblob_unref(b);
	return ret;
}

/* Answers suspended for a signature; shutdown waits for none to be left. */
static int inflight;

/* signpool_done_fn: finish the answer and resume its connection. */
static void
on_signed(void *arg, int ok, unsigned char *sig, size_t sig_len)
{
	struct req *rq = arg;
	struct MHD_Connection *c = rq->conn;

	rq->result = rpending_finish(rq->pend, ok, sig, sig_len);
	rq->pend = NULL;
	free(sig);
	MHD_resume_connection(c);
	__atomic_sub_fetch(&inflight, 1, __ATOMIC_RELEASE);
}

/*
 * Answer one DER OCSPRequest.  An answer that needs a signature suspends
 * the connection and leaves the signing to the pool, so that this
 * thread goes on with other connections; on_signed() resumes it and the
 * handler then sends rq->result.  While stopping, answers wait here.
 */
static enum MHD_Result
answer_ocsp(struct MHD_Connection *c, struct req *rq, const unsigned char *der,
    size_t len, int is_get)
{
	struct rstate *st = state_get();
	struct rpending *pend = NULL;
	struct rblob *b = NULL;
	const unsigned char *tbs;
	size_t tbs_len;
	time_t now = now_utc();

	if (is_stopping()) {
		responder_answer(st, &rsigner, der, len, now, &b);
	} else {
		responder_answer_async(st, &rsigner, der, len, now, &b, &pend);
	}
	rstate_unref(st);
	if (pend == NULL) {
		return send_blob(c, rq, b, is_get, now);
	}
	rq->conn = c;
	rq->pend = pend;
	rq->now = now;
	rq->is_get = is_get;
	__atomic_add_fetch(&inflight, 1, __ATOMIC_ACQUIRE);
	MHD_suspend_connection(c);
	rpending_tbs(pend, &tbs, &tbs_len);
	if (!signpool_submit(pool, tbs, tbs_len, on_signed, rq)) {
		on_signed(rq, 0, NULL, 0);
	}
	return MHD_YES;
}

static enum MHD_Result
answer_crl(struct MHD_Connection *c, const char *name)
{
	struct rstate *st = state_get();
	const struct export_crl *crl;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char etag[40], *hex;
	unsigned char md[32];
	time_t now = now_utc(), nu;
	size_t n = strlen(name);
	char base[80];

	if (n < 5 || n - 4 >= sizeof(base) ||
	    strcmp(name + n - 4, ".crl") != 0) {
		rstate_unref(st);
		return send_buf(c, 404, "text/plain", "not found\n", 10, 0,
		    NULL);
	}
	memcpy(base, name, n - 4);
	base[n - 4] = '\0';
	if ((crl = rstate_crl(st, base)) == NULL) {
		rstate_unref(st);
		return send_buf(c, 404, "text/plain", "not found\n", 10, 0,
		    NULL);
	}
	sha256(crl->der, crl->der_len, md);
	hex = hex_encode(md, 16);
	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	free(hex);
	nu = crl->next_update != 0 ? crl->next_update : now + cfg.max_age;
	if (etag_matches(c, etag)) {
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
		count_http(304);
		cache_headers(r, crl->this_update, nu, etag, now);
		ret = MHD_queue_response(c, 304, r);
		MHD_destroy_response(r);
		rstate_unref(st);
		return ret;
	}
	/* The state (and so the CRL bytes) lives until MHD is done. */
	r = MHD_create_response_from_buffer_with_free_callback_cls(
	    crl->der_len, crl->der, state_release, st);
	if (r == NULL) {
		rstate_unref(st);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/pkix-crl");
	cache_headers(r, crl->this_update, nu, etag, now);
	count_http(200);
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
answer_health(struct MHD_Connection *c)
{
	struct rstate *st = state_get();
	int fresh = rstate_fresh(st, now_utc()) && signers_alive();

	rstate_unref(st);
	if (fresh) {
		return send_buf(c, 200, "text/plain", "ok\n", 3, 0, NULL);
	}
	return send_buf(c, 503, "text/plain", "stale\n", 6, 0, NULL);
}

static enum MHD_Result
answer_metrics(struct MHD_Connection *c)
{
	static const char *const ocsp_names[7] = { "successful",
	    "malformedRequest", "internalError", "tryLater", "4",
	    "sigRequired", "unauthorized" };
	struct rstate *st = state_get();
	const struct export *e = rstate_export(st);
	char *buf = NULL;
	size_t sz = 0;
	FILE *f;
	time_t now = now_utc(), nu = 0;
	uint64_t cum = 0;
	size_t i;
	enum MHD_Result ret;

	if ((f = open_memstream(&buf, &sz)) == NULL) {
		fatalx("out of memory");
	}
	fprintf(f, "# TYPE eseal_ocsp_responses_total counter\n");
	for (i = 0; i < 7; i++) {
		if (i == 4) {
			continue;
		}
		fprintf(f, "eseal_ocsp_responses_total{status=\"%s\"} %llu\n",
		    ocsp_names[i], ld(&m_ocsp[i]));
	}
	fprintf(f, "# TYPE eseal_ocsp_http_responses_total counter\n");
	for (i = 0; i < NHTTP; i++) {
		fprintf(f, "eseal_ocsp_http_responses_total{code=\"%d\"} "
		    "%llu\n", http_codes[i], ld(&m_http[i]));
	}
	fprintf(f, "eseal_ocsp_http_responses_total{code=\"other\"} %llu\n",
	    ld(&m_other_http));
	fprintf(f, "# TYPE eseal_ocsp_cert_status_total counter\n"
	    "eseal_ocsp_cert_status_total{status=\"good\"} %llu\n"
	    "eseal_ocsp_cert_status_total{status=\"revoked\"} %llu\n"
	    "eseal_ocsp_cert_status_total{status=\"unknown\"} %llu\n",
	    ld(&responder_stats.good),
	    ld(&responder_stats.revoked),
	    ld(&responder_stats.unknown));
	fprintf(f, "# TYPE eseal_ocsp_presigned_hits_total counter\n"
	    "eseal_ocsp_presigned_hits_total %llu\n"
	    "# TYPE eseal_ocsp_signatures_total counter\n"
	    "eseal_ocsp_signatures_total %llu\n"
	    "# TYPE eseal_ocsp_sign_failures_total counter\n"
	    "eseal_ocsp_sign_failures_total %llu\n"
	    "# TYPE eseal_ocsp_signer_batches_total counter\n"
	    "eseal_ocsp_signer_batches_total %llu\n"
	    "# TYPE eseal_ocsp_signer_restarts_total counter\n"
	    "eseal_ocsp_signer_restarts_total %llu\n",
	    ld(&responder_stats.presigned_hits),
	    ld(&responder_stats.signatures),
	    ld(&responder_stats.sign_failures),
	    pool != NULL ? signpool_batches(pool) : 0ULL,
	    pool != NULL ? signpool_restarts(pool) : 0ULL);
	fprintf(f, "# TYPE eseal_ocsp_cache_bytes gauge\n"
	    "eseal_ocsp_cache_bytes %llu\n"
	    "# TYPE eseal_ocsp_cache_entries gauge\n"
	    "eseal_ocsp_cache_entries %llu\n"
	    "# TYPE eseal_ocsp_cache_max_bytes gauge\n"
	    "eseal_ocsp_cache_max_bytes %llu\n"
	    "# TYPE eseal_ocsp_cache_evictions_total counter\n"
	    "eseal_ocsp_cache_evictions_total %llu\n",
	    ld(&responder_stats.cache_bytes),
	    ld(&responder_stats.cache_entries),
	    (unsigned long long)cfg.ro.cache_max,
	    ld(&responder_stats.evictions));
	fprintf(f, "# TYPE eseal_ocsp_request_duration_seconds histogram\n");
	for (i = 0; i < NBUCKETS; i++) {
		cum += ld(&m_lat[i]);
		fprintf(f, "eseal_ocsp_request_duration_seconds_bucket"
		    "{le=\"%g\"} %llu\n", lat_bounds[i],
		    (unsigned long long)cum);
	}
	cum += ld(&m_lat[NBUCKETS]);
	fprintf(f, "eseal_ocsp_request_duration_seconds_bucket{le=\"+Inf\"} "
	    "%llu\neseal_ocsp_request_duration_seconds_sum %.6f\n"
	    "eseal_ocsp_request_duration_seconds_count %llu\n",
	    (unsigned long long)cum, (double)ld(&m_lat_sum_us) / 1e6,
	    ld(&m_lat_count));
	for (i = 0; i < e->nissuers; i++) {
		if (nu == 0 || e->issuers[i].next_update < nu) {
			nu = e->issuers[i].next_update;
		}
	}
	fprintf(f, "# TYPE eseal_ocsp_export_age_seconds gauge\n"
	    "eseal_ocsp_export_age_seconds %lld\n"
	    "# TYPE eseal_ocsp_export_sequence gauge\n"
	    "eseal_ocsp_export_sequence %lld\n"
	    "# TYPE eseal_ocsp_export_next_update_seconds gauge\n"
	    "eseal_ocsp_export_next_update_seconds %lld\n"
	    "# TYPE eseal_ocsp_reloads_total counter\n"
	    "eseal_ocsp_reloads_total{result=\"ok\"} %llu\n"
	    "eseal_ocsp_reloads_total{result=\"refused\"} %llu\n"
	    "eseal_ocsp_reloads_total{result=\"failed\"} %llu\n",
	    (long long)(now - e->produced), (long long)e->sequence,
	    (long long)(nu - now), ld(&m_reload_ok),
	    ld(&m_reload_refused),
	    ld(&m_reload_failed));
	listen_metrics(f);
	fclose(f);
	rstate_unref(st);
	ret = send_buf(c, 200, "text/plain; version=0.0.4", buf, sz, 1, NULL);
	free(buf);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct req *rq = *con_cls;
	const char *ct, *cl;
	unsigned char *der = NULL;
	size_t n, dlen;
	enum MHD_Result ret;
	int is_post = strcmp(method, "POST") == 0;

	if (rq != NULL && rq->result != NULL) {
		/* Resumed: the signature came back. */
		struct rblob *b = rq->result;

		rq->result = NULL;
		return send_blob(c, rq, b, rq->is_get, rq->now);
	}
	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL) {
			return MHD_NO;
		}
		clock_gettime(CLOCK_MONOTONIC, &rq->start);
		rq->is_post = is_post;
		*con_cls = rq;
		if (!is_post && strcmp(method, "GET") != 0 &&
		    strcmp(method, "HEAD") != 0) {
			return send_buf(c, 405, "text/plain",
			    "method not allowed\n", 19, 0, "GET, HEAD, POST");
		}
		if (is_post) {
			ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			    "Content-Type");
			if (ct == NULL || strncasecmp(ct,
			    "application/ocsp-request", 24) != 0 ||
			    (ct[24] != '\0' && ct[24] != ';')) {
				return send_buf(c, 415, "text/plain",
				    "unsupported media type\n", 23, 0, NULL);
			}
			cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			    "Content-Length");
			if (cl != NULL && strtoull(cl, NULL, 10) >
			    (unsigned long long)cfg.max_body) {
				return send_buf(c, 413, "text/plain",
				    "request too large\n", 18, 0, NULL);
			}
		}
		return MHD_YES;
	}
	if (rq->is_post && *upload_size > 0) {
		n = *upload_size;
		if (rq->len + n > (size_t)cfg.max_body) {
			rq->too_big = 1;
		} else {
			if (rq->len + n > rq->cap) {
				rq->cap = rq->len + n < 2048 ? 2048 :
				    (size_t)cfg.max_body;
				if ((rq->body = realloc(rq->body, rq->cap)) ==
				    NULL) {
					fatalx("out of memory");
				}
			}
			memcpy(rq->body + rq->len, upload, n);
			rq->len += n;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->is_post) {
		if (rq->too_big) {
			return send_buf(c, 413, "text/plain",
			    "request too large\n", 18, 0, NULL);
		}
		if (strcmp(url, "/") != 0 && url[0] != '/') {
			return send_buf(c, 404, "text/plain", "not found\n",
			    10, 0, NULL);
		}
		return answer_ocsp(c, rq, rq->body != NULL ? rq->body :
		    (const unsigned char *)"", rq->len, 0);
	}
	if (strcmp(url, "/healthz") == 0) {
		return answer_health(c);
	}
	if (strcmp(url, "/metrics") == 0) {
		return answer_metrics(c);
	}
	if (strncmp(url, "/crl/", 5) == 0) {
		return answer_crl(c, url + 5);
	}
	/*
	 * RFC 6960 A.1: GET {url}/{url-encoding of base-64 DER}.  The path
	 * (already URL-decoded) may hold the base64 of max-body bytes.
	 */
	n = strlen(url + 1);
	if (n == 0) {
		return send_buf(c, 404, "text/plain", "not found\n", 10, 0,
		    NULL);
	}
	if (n > ((size_t)cfg.max_body + 2) / 3 * 4) {
		return send_buf(c, 414, "text/plain", "URI too long\n", 13, 0,
		    NULL);
	}
	if ((der = malloc(n)) == NULL) {
		return MHD_NO;
	}
	{
		int d = EVP_DecodeBlock(der, (const unsigned char *)url + 1,
		    (int)n);

		if (d < 0 || n % 4 != 0) {
			dlen = 0;	/* malformed: answer malformedRequest */
		} else {
			dlen = (size_t)d;
			if (n >= 1 && url[n] == '=') {
				dlen--;
			}
			if (n >= 2 && url[n - 1] == '=') {
				dlen--;
			}
		}
	}
	ret = answer_ocsp(c, rq, der, dlen, 1);
	free(der);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	if (rq != NULL) {
		rblob_unref(rq->result);
		rpending_free(rq->pend);
		free(rq->body);
		free(rq);
	}
	*con_cls = NULL;
}

/* --- main --------------------------------------------------------- */

static void *
presign_thread(void *arg)
{
	unsigned int part = (unsigned int)(uintptr_t)arg;
	struct rstate *st;
	size_t n;
	int i;

	while (!is_stopping()) {
		st = state_get();
		n = responder_presign(st, &rsigner, now_utc(), &stopping, part,
		    PRESIGNERS);
		rstate_unref(st);
		if (n > 0) {
			log_debug("pre-signed %zu responses", n);
		}
		for (i = 0; i < 10 && !is_stopping(); i++) {
			usleep(100000);
		}
	}
	return NULL;
}

/*
 * Read the configured CA certificates into trust[] and the signer
 * certificate into cfg.ro.signer (which sections it may answer for,
 * RFC 6960 4.2.2.2, is decided when an export is loaded).  1/0.
 */
static int
load_trust(void)
{
	FILE *f;
	int i;

	if ((f = fopen(cfg.signer_cert, "r")) == NULL) {
		log_warn("%s", cfg.signer_cert);
		return 0;
	}
	cfg.ro.signer = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (cfg.ro.signer == NULL) {
		log_ssl("%s: not a PEM certificate", cfg.signer_cert);
		return 0;
	}
	for (i = 0; i < cfg.nca; i++) {
		if ((f = fopen(cfg.ca_certs[i], "r")) == NULL) {
			log_warn("%s", cfg.ca_certs[i]);
			return 0;
		}
		trust[i] = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
		if (trust[i] == NULL) {
			log_ssl("%s: not a PEM certificate", cfg.ca_certs[i]);
			return 0;
		}
	}
	return 1;
}

/*
 * The signer certificate must be the one read at start (the signer
 * process reads the file itself) and be issued by a CA whose export we
 * serve.  1/0 (logged).
 */
static int
check_signer_issuer(void)
{
	int i;

	if (X509_cmp(rsigner.cert, cfg.ro.signer) != 0) {
		log_warnx("%s: ES-OCSPD-06: the signer process announced "
		    "another certificate than the file holds", cfg.signer_cert);
		return 0;
	}
	for (i = 0; i < cfg.nca; i++) {
		if (X509_check_issued(trust[i], rsigner.cert) == X509_V_OK) {
			return 1;
		}
	}
	log_warnx("%s: ES-OCSPD-08: signer certificate not issued by a "
	    "configured CA (RFC 6960 4.2.2.2)", cfg.signer_cert);
	return 0;
}

/* The connection limits and the sandbox switch from the configuration. */
static void
conn_opts(struct listen_opts *lo, const char *conf)
{
	memset(lo, 0, sizeof(*lo));
	lo->max_connections = cfg.max_connections;
	lo->max_per_client = cfg.max_per_client;
	if (lo->max_per_client == 0) {
		/* A quarter of the places, at least 4, at most 64. */
		lo->max_per_client = cfg.max_connections / 4;
		lo->max_per_client = lo->max_per_client < 4 ? 4 :
		    lo->max_per_client > 64 ? 64 : lo->max_per_client;
	}
	lo->request_timeout = cfg.request_timeout != 0 ?
	    cfg.request_timeout : cfg.timeout;
	lo->idle_timeout = cfg.timeout;
	lo->threads = cfg.threads;
	lo->sandbox = cfg.sandbox;
	if (!cfg.sandbox) {
		log_warnx("sandbox off: \"sandbox = no\" in %s", conf);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: eseal-ocspd [-dn] -f CONFIG\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d = NULL;
	struct listen_opts lo;
	unsigned int bound = 0;
	pthread_t presigner[PRESIGNERS];
	sigset_t set;
	siginfo_t si;
	struct timespec ts = { 1, 0 };
	const char *conf = NULL;
	char portbuf[16];
	time_t last_check = 0;
	int ch, check_only = 0, rc = 1, i, have_presigner = 0, sig, lfd;

	log_init(argv[0]);
	while ((ch = getopt(argc, argv, "df:n")) != -1) {
		switch (ch) {
		case 'd':
			log_set_verbose(2);
			break;
		case 'f':
			conf = optarg;
			break;
		case 'n':
			check_only = 1;
			break;
		default:
			usage();
		}
	}
	if (conf == NULL || optind != argc) {
		usage();
	}
	if (!config_read(conf)) {
		return 1;
	}
	if (cfg.syslog) {
		log_use_syslog(1);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sdir_write = !check_only;
	if (!load_trust() || !load_initial()) {
		goto out;
	}
	if ((pool = signpool_new(cfg.signers, cfg.signer_timeout,
	    spawn_signer, NULL)) == NULL) {
		goto out;
	}
	rsigner.sign = signpool_sign;
	rsigner.arg = pool;
	if (!check_signer_issuer()) {
		goto out;
	}
	if (check_only) {
		log_info("%s: configuration OK", conf);
		rc = 0;
		goto out;
	}
	/*
	 * Bind as root, drop privileges, then start serving: nothing is
	 * accepted (let alone parsed) before the drop.
	 */
	fd_budget();
	if ((lfd = listen_bind(cfg.listen, cfg.port, &bound)) == -1) {
		goto out;
	}
	log_info("listening on %s port %u", cfg.listen, bound);
	log_info("response cache: presign-memory %zu MiB, shard %u/%u",
	    cfg.ro.cache_max >> 20, cfg.ro.shard_n > 1 ? cfg.ro.shard_k : 1,
	    cfg.ro.shard_n > 1 ? cfg.ro.shard_n : 1);
	if (cfg.port_file != NULL) {
		snprintf(portbuf, sizeof(portbuf), "%u\n", bound);
		if (!file_write_atomic(cfg.port_file, portbuf, strlen(portbuf),
		    0644)) {
			close(lfd);
			goto out;
		}
	}
	if (!priv_drop(cfg.user, 0)) {
		close(lfd);
		goto out;
	}
	conn_opts(&lo, conf);
	if ((d = listen_start(lfd, &lo, handler, completed)) == NULL) {
		goto out;
	}
	for (i = 0; cfg.presign && i < PRESIGNERS; i++) {
		if (pthread_create(&presigner[i], NULL, presign_thread,
		    (void *)(uintptr_t)i) != 0) {
			log_warnx("cannot start a pre-signing thread");
			goto out;
		}
		have_presigner = i + 1;
	}
	while (!is_stopping()) {
		sig = sigtimedwait(&set, &si, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("signal %d: shutting down", sig);
			break;
		}
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading %s", cfg.export_path);
			reload(0);
			last_check = time(NULL);
			continue;
		}
		if (cfg.reload_interval > 0 &&
		    time(NULL) - last_check >= cfg.reload_interval) {
			last_check = time(NULL);
			if (export_changed()) {
				log_info("%s changed: reloading",
				    cfg.export_path);
				reload(0);
			}
		}
	}
	rc = 0;
 out:
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	for (i = 0; i < have_presigner; i++) {
		pthread_join(presigner[i], NULL);
	}
	if (d != NULL) {
		/*
		 * MHD must not stop with suspended connections: let the
		 * signers finish (new answers no longer suspend), and end
		 * signers that hang so that their answers fail instead.
		 */
		for (i = 0; i < 1000 &&
		    __atomic_load_n(&inflight, __ATOMIC_ACQUIRE) > 0; i++) {
			if (i == 500) {
				log_warnx("signers hang at shutdown: ending them");
				signpool_kill(pool);
			}
			usleep(10000);
		}
	}
	listen_stop(d);
	signpool_free(pool);
	pool = NULL;
	state_swap(NULL);
	statedir_free(sdir);
	responder_signer_clear(&rsigner);
	X509_free(rsigner.cert);
	X509_free(cfg.ro.signer);
	free(rsigner.algid);
	for (i = 0; i < cfg.nca; i++) {
		X509_free(trust[i]);
	}
	return rc;
}
