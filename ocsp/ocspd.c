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
#include <getopt.h>
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
#include "export.h"
#include "notify.h"
#include "ipc.h"
#include "listen.h"
#include "log.h"
#include "priv.h"
#include "responder.h"
#include "secret.h"
#include "sandbox.h"
#include "signpool.h"
#include "spawner.h"
#include "statedir.h"
#include "util.h"
#include "ocspd_int.h"

/* Pre-signing threads: enough to fill a signer batch now and then. */
#define PRESIGNERS	8

X509 *trust[MAX_CA];

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rstate *cur_state;
int stopping;	/* atomic: set once by the main thread */

/* 1 once the responder is shutting down. */
int
is_stopping(void)
{
	return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

uint64_t m_reload_ok, m_reload_refused, m_reload_failed;

/* Take a reference on the current state. */
struct rstate *
state_get(void)
{
	struct rstate *st;

	pthread_mutex_lock(&state_lock);
	st = rstate_ref(cur_state);
	pthread_mutex_unlock(&state_lock);
	return st;
}

/* Serve st (reference taken over); the old state is unreferenced. */
void
state_swap(struct rstate *st)
{
	struct rstate *old;

	pthread_mutex_lock(&state_lock);
	old = cur_state;
	cur_state = st;
	pthread_mutex_unlock(&state_lock);
	rstate_unref(old);
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

/* --- export loading ----------------------------------------------- */

static struct timespec export_mtime;
static off_t export_size;

/* The state directory (rollback protection); only -n leaves it unwritten. */
static struct statedir *sdir;
static int sdir_write = 1;

/* 1 while the served export is not yet kept as the state-dir copy. */
static int copy_pending;

/* Record e in the state directory and serve it.  Takes e. 1/0. */
static int
install(struct export *e)
{
	struct rstate *st;

	if (sdir_write && !statedir_record(sdir, e)) {
		log_warnx("state-dir: export sequence %lld served but not "
		    "recorded", (long long)e->sequence);
	}
	copy_pending = sdir_write;
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
	int64_t oldseq;
	int ret = 0;

	if (stat(cfg.export_path, &sb) == 0) {
		export_mtime = sb.st_mtim;
		export_size = sb.st_size;
	}
	if ((e = export_load(cfg.export_path, trust, (size_t)cfg.nca)) ==
	    NULL) {
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
	ret = install(e);
 out:
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

	if (!statedir_prepare(cfg.state_dir, cfg.user, sdir_write) ||
	    (sdir = statedir_open(cfg.state_dir)) == NULL) {
		return 0;
	}
	if (reload(1)) {
		return 1;
	}
	if ((e = statedir_copy(sdir, trust, (size_t)cfg.nca, now_utc())) ==
	    NULL || !statedir_allows(sdir, e, statedir_copy_path(sdir))) {
		export_free(e);
		log_warnx("%s: no valid export to serve (nor a current copy "
		    "in %s): not starting", cfg.export_path, cfg.state_dir);
		return 0;
	}
	log_warnx("%s: serving the copy of export sequence %lld from %s",
	    cfg.export_path, (long long)e->sequence, statedir_copy_path(sdir));
	return install(e);
}

/*
 * Keep the served export as the state directory's copy, once it is
 * served (serve() calls it, not install(): at ten million certificates
 * writing the copy took as long as the rest of the start-up).
 */
static void
keep_copy(void)
{
	struct rstate *st;

	if (!copy_pending) {
		return;
	}
	copy_pending = 0;
	st = state_get();
	if (!statedir_keep_copy(sdir, rstate_export(st))) {
		log_warnx("state-dir: export sequence %lld served but no copy "
		    "kept", (long long)rstate_export(st)->sequence);
	}
	rstate_unref(st);
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

/*
 * The main thread while serving: wait for the signals in set (blocked),
 * reload on SIGHUP or a changed export file, return on SIGTERM/SIGINT.
 */
static void
serve(const sigset_t *set)
{
	siginfo_t si;
	struct timespec ts = { 1, 0 };
	time_t last_check = 0;
	int sig;

	while (!is_stopping()) {
		keep_copy();
		sig = sigtimedwait(set, &si, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("signal %d: shutting down", sig);
			notify_send("STOPPING=1");	/* service manager */
			break;
		}
		if (sig == SIGUSR1) {	/* access log */
			accesslog_reopen();
			continue;
		}
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading %s", cfg.export_path);
			notify_send("RELOADING=1");	/* service manager */
			reload(0);
			notify_send("READY=1");	/* service manager */
			last_check = time(NULL);
			continue;
		}
		(void)spawner_gone(spawner);	/* logs ES-OCSPD-12 once */
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
}

/* The usage, every option (usage_exit() prints it). */
static const char usage_text[] =
    "usage: eseal-ocspd [-dn] -f CONFIG\n"
    "       eseal-ocspd -h | --help\n"
    "  -d         log debugging messages\n"
    "  -f CONFIG  the configuration file\n"
    "  -n         check the configuration, state directory, export and"
    " signer, then exit\n"
    "  -h, --help print this help and exit\n";

/*
 * Read the command line: the configuration file into *conf, -n into
 * *check_only.  A wrong command line, -h or --help ends the program
 * through usage_exit().
 */
static void
parse_options(int argc, char **argv, const char **conf, int *check_only)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	*conf = NULL;
	*check_only = 0;
	while ((ch = getopt_long(argc, argv, "df:hn", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage_exit(0, usage_text);
		case 'd':
			log_set_verbose(2);
			break;
		case 'f':
			*conf = optarg;
			break;
		case 'n':
			*check_only = 1;
			break;
		default:
			usage_exit(2, usage_text);
		}
	}
	if (*conf == NULL || optind != argc) {
		usage_exit(2, usage_text);
	}
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d = NULL;
	struct listen_opts lo;
	unsigned int bound = 0;
	pthread_t presigner[PRESIGNERS];
	sigset_t set;
	const char *conf;
	char portbuf[16];
	int check_only, rc = 1, i, have_presigner = 0, lfd;

	log_init(argv[0]);
	parse_options(argc, argv, &conf, &check_only);
	if (!config_read(conf)) {
		return 1;
	}
	if (cfg.syslog) {
		log_use_syslog(1);
	}
	(void)notify_init();	/* service manager */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * An access log over RLIMIT_FSIZE: EFBIG (lines dropped), not a
	 * kill.  Set here: the whole-responder filter allows no sigaction.
	 */
	signal(SIGXFSZ, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);	/* access log */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sdir_write = !check_only;
	/* The spawner is forked first, while this is the only thread. */
	if (!signers_prepare() || !load_trust() || !load_initial()) {
		goto out;
	}
	if ((pool = signpool_new(cfg.signers, cfg.signer_timeout,
	    spawn_signer, end_signer, NULL)) == NULL) {
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
	if (!accesslog_prepare(cfg.user) ||	/* access log */
	    !priv_drop(cfg.user, 0)) {
		close(lfd);
		goto out;
	}
	/*
	 * Every thread (the pool's dispatchers already run) under the
	 * filter without fork or execve; the HTTP threads add theirs.
	 */
	if (cfg.sandbox && !sandbox_apply(SANDBOX_RESPONDER_MAIN)) {
		close(lfd);
		goto out;
	}
	conn_opts(&lo, conf);
	if (!accesslog_start(cfg.sandbox)) {	/* access log */
		close(lfd);
		goto out;
	}
	if ((d = listen_start(lfd, &lo, http_handler, http_completed)) == NULL) {
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
	notify_send("READY=1");	/* service manager */
	serve(&set);
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
	accesslog_stop();	/* access log */
	signpool_free(pool);
	pool = NULL;
	spawner_free(spawner);
	spawner = NULL;
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
