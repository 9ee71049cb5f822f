/*
 * "eseal-ca crl": sign a CA's full CRL, delta CRL or one partition's CRL
 * (an issuing CA), or its ARL (a root: the issuing CAs it revoked), on
 * the CA's token.  The CRL number is allocated from the store (above
 * every published number and the restore floor) and consumed only when
 * the CRL exists: the CRL is streamed into the encoder's spill in the
 * store's crls directory (the store's rows stepped by a thread), a
 * thread writes the output's temporary file while the crls row and
 * audit entry are inserted, the transaction commits once that file is
 * durable, and only then the file is renamed into place.  See
 * doc/crl.md.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <uuid/uuid.h>

#include "args.h"
#include "audit.h"
#include "ca.h"
#include "crlsel.h"
#include "crlstore.h"
#include "gate.h"
#include "i18n.h"
#include "lint.h"
#include "log.h"
#include "operators.h"
#include "secret.h"
#include "util.h"

struct crlrun {
	const char	*ca;
	const char	*pin;
	const char	*out;
	int		 pem, delta, partition;	/* partition 0: none */
	const char	*next_days, *next_date, *number, *op_spec;
	int64_t		 ca_id;
	char		*kind;			/* root / issuing */
	struct crl_cfg	 cfg;
	char		*idp, *freshest;
	char		 out_buf[512];
	char		 base_this[32];
	int64_t		 base_number;
	uint64_t	 last;			/* highest number used or floor */
	uint64_t	 num;
	time_t		 this_update, next_update;
	char		*actor;
	char		*officers[16];		/* the root's ARL: a ceremony */
	size_t		 nofficers;
	const struct arl_ceremony *file;	/* ARL from a ceremony file */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca crl --ca NAME --pin SRC [--out FILE] [--pem] [--delta]\n"
	    "           [--partition N] [--next-update DAYS | --next-update-date DATE]\n"
	    "           [--number N] [--operator NAME=SRC] [--json]\n"
	    "  Signs CA NAME's CRL on its token: an issuing CA's full CRL (or, with\n"
	    "  --delta, a delta CRL against its last full CRL; with --partition N,\n"
	    "  partition N's CRL), or a root CA's ARL of the issuing CAs it revoked.\n"
	    "  The CRL number is the next unused one (--number may only go up).\n"
	    "  A root's ARL is signed in a ceremony: --officer NAME=SRC for each\n"
	    "  officer of the quorum; the transcript is stored with the ceremonies.\n"
	    "  Output: --out FILE, default NAME[-pN][-delta].crl, DER or --pem.\n"));
}

/* "arl", "delta" or "full". */
static const char *
crl_kind(const struct crlrun *r)
{
	return strcmp(r->kind, "root") == 0 ? "arl" : r->delta ? "delta" :
	    "full";
}

/* The CRL encoder's signer: the CA key, and whether the token failed. */
struct crl_signer {
	struct ca_key	*ck;
	int		 token_failed;
};

/*
 * Sign the CRL's digest on the token.  A failure is the token's (logged
 * by the HSM layer): it is remembered, so that the run ends with the
 * token error's exit status rather than a refusal's.
 */
static int
token_sign(void *arg, enum sig_alg alg, const unsigned char *md, size_t mdlen,
    unsigned char **sig, size_t *siglen)
{
	struct crl_signer *cs = arg;

	if (!hsm_sign_digest(cs->ck->key, alg, md, mdlen, sig, siglen)) {
		cs->token_failed = 1;
		return 0;
	}
	return 1;
}

/*
 * Authenticate the operator who runs the command ("NAME=SRC"), refusing
 * an auditor (ES-QUORUM-03).  1/0 (logged).
 */
static int
auth_operator(struct db *db, const char *spec, char **name)
{
	int64_t id;

	return auth_spec(db, spec, "sign CRLs", name, &id);
}

/* The CA row's kind and id; refuses unknown and pending CAs.  exit code. */
static int
load_ca(struct db *db, struct crlrun *r)
{
	sqlite3_stmt *st;
	int ret = EXIT_REFUSED;

	if ((st = db_prepare(db, "SELECT id, kind, cert_der IS NOT NULL FROM cas"
	    " WHERE name = ?")) == NULL) {
		return EXIT_ERROR;
	}
	sqlite3_bind_text(st, 1, r->ca, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW) {
		log_warnx("crl: no such CA \"%s\" in %s", r->ca, db_path(db));
		goto out;
	}
	if (!sqlite3_column_int(st, 2)) {
		log_warnx("crl %s: the CA has no certificate yet (pending)",
		    r->ca);
		goto out;
	}
	r->ca_id = sqlite3_column_int64(st, 0);
	if ((r->kind = strdup((const char *)sqlite3_column_text(st, 1))) ==
	    NULL) {
		fatalx("out of memory");
	}
	ret = EXIT_OK;
out:
	sqlite3_finalize(st);
	return ret;
}

/* The highest CRL number of the CA: published or the restore floor. */
static int
last_number(struct db *db, int64_t ca_id, uint64_t *last)
{
	sqlite3_stmt *st;
	int64_t v;

	if ((st = db_prepare(db, "SELECT max(coalesce((SELECT max(number) FROM"
	    " crls WHERE ca_id = ?1), 0), coalesce((SELECT floor FROM crl_floor"
	    " WHERE ca_id = ?1), 0))")) == NULL) {
		return 0;
	}
	sqlite3_bind_int64(st, 1, ca_id);
	if (!db_query_int64(db, st, "CRL numbers", &v)) {
		return 0;
	}
	*last = (uint64_t)v;
	return 1;
}

/* The delta's base: the last full CRL of the same partition.  exit code. */
static int
find_base(struct db *db, struct crlrun *r)
{
	sqlite3_stmt *st;
	int ret = EXIT_REFUSED;

	if ((st = db_prepare(db, "SELECT number, this_update FROM crls WHERE"
	    " ca_id = ? AND kind = 'full' AND partition IS ? ORDER BY number"
	    " DESC LIMIT 1")) == NULL) {
		return EXIT_ERROR;
	}
	sqlite3_bind_int64(st, 1, r->ca_id);
	if (r->partition > 0) {
		sqlite3_bind_int(st, 2, r->partition);
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		log_warnx("crl %s: ES-CRL-07: no full CRL%s to be the base of a "
		    "delta CRL (sign a full CRL first)", r->ca,
		    r->partition > 0 ? " of this partition" : "");
		goto out;
	}
	r->base_number = sqlite3_column_int64(st, 0);
	snprintf(r->base_this, sizeof(r->base_this), "%s",
	    (const char *)sqlite3_column_text(st, 1));
	ret = EXIT_OK;
out:
	sqlite3_finalize(st);
	return ret;
}

/*
 * Everything that needs neither the token nor the revocations: kind,
 * URLs, partition, base, number, times.  exit code (refusals logged).
 */
static int
plan(struct db *db, struct crlrun *r)
{
	char what[160];
	long long v;
	char *end;
	int ret;

	snprintf(what, sizeof(what), "crl %s", r->ca);
	if ((ret = load_ca(db, r)) != EXIT_OK) {
		return ret;
	}
	if (!crl_cfg_load(db, r->ca_id, &r->cfg, what)) {
		return EXIT_REFUSED;
	}
	if (strcmp(r->kind, "root") == 0) {
		if (r->delta || r->partition != 0) {
			log_warnx("crl %s: a root CA signs only full ARLs (no "
			    "--delta, no --partition)", r->ca);
			return EXIT_REFUSED;
		}
	} else {
		if (r->cfg.crl_url == NULL) {
			log_warnx("crl %s: ES-CRL-05: the CA has no \"crl-url\" "
			    "setting (the URL in its certificates' CRLDP)",
			    r->ca);
			return EXIT_REFUSED;
		}
		if (r->partition != 0 && (r->cfg.partitions <= 1 ||
		    r->partition < 1 || r->partition > r->cfg.partitions)) {
			log_warnx("crl %s: ES-CRL-08: partition %d does not "
			    "exist (crl-partitions %d)", r->ca, r->partition,
			    r->cfg.partitions);
			return EXIT_REFUSED;
		}
		/* The complete CRL (and its deltas) per complete-crl-idp. */
		if (r->partition != 0 || r->cfg.complete_idp) {
			r->idp = crl_partition_url(r->cfg.crl_url,
			    r->partition);
		}
		if (r->cfg.delta_url != NULL && !r->delta) {
			r->freshest = crl_partition_url(r->cfg.delta_url,
			    r->partition);
		}
		if (r->delta && (ret = find_base(db, r)) != EXIT_OK) {
			return ret;
		}
	}
	if (!last_number(db, r->ca_id, &r->last)) {
		return EXIT_ERROR;
	}
	if (r->number != NULL) {
		errno = 0;
		v = strtoll(r->number, &end, 10);
		if (errno != 0 || *end != '\0' || end == r->number || v < 1) {
			log_warnx("crl %s: --number must be a positive integer",
			    r->ca);
			return EXIT_USAGE;
		}
		r->num = (uint64_t)v;
	} else {
		r->num = r->last + 1;
	}
	if (r->num <= r->last) {
		log_warnx("crl %s: ES-CRL-03: CRL number %llu would not increase "
		    "(last used %llu)", r->ca, (unsigned long long)r->num,
		    (unsigned long long)r->last);
		return EXIT_REFUSED;
	}
	r->this_update = now_utc();
	if (r->next_date != NULL) {
		if (!time_parse(r->next_date, &r->next_update,
		    "--next-update-date")) {
			return EXIT_USAGE;
		}
	} else if (r->next_days != NULL) {
		errno = 0;
		v = strtoll(r->next_days, &end, 10);
		if (errno != 0 || *end != '\0' || end == r->next_days ||
		    v < 0 || v > 3660) {
			log_warnx("crl %s: --next-update must be a number of "
			    "days (0..3660)", r->ca);
			return EXIT_USAGE;
		}
		r->next_update = r->this_update + (time_t)v * 86400;
	} else {
		r->next_update = r->this_update + (time_t)r->cfg.period_days *
		    86400;
	}
	if (r->next_update <= r->this_update) {
		char a[32], b[32];

		time_fmt(r->next_update, a, sizeof(a));
		time_fmt(r->this_update, b, sizeof(b));
		log_warnx("crl %s: ES-CRL-02: nextUpdate %s is not after "
		    "thisUpdate %s", r->ca, a, b);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/* A temporary file beside path: its name in *tmp (malloc'd). */
static FILE *
tmp_beside(const char *path, char **tmp)
{
	FILE *fp;
	int fd;

	if (asprintf(tmp, "%s.tmpXXXXXX", path) == -1) {
		fatalx("out of memory");
	}
	if ((fd = mkstemp(*tmp)) == -1) {
		log_warn("%s: cannot create a temporary file", path);
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	if (fchmod(fd, 0644) == -1 || (fp = fdopen(fd, "w+")) == NULL) {
		log_warn("%s", *tmp);
		close(fd);
		(void)unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	return fp;
}

/*
 * The output file is written and made durable in a thread, started by
 * the encoder as soon as the CRL is in place in its spill (while it is
 * read back and checked) and running beside the crls INSERT: the DER
 * (len bytes at off in fd, read with pread) as PEM or copied as DER to
 * out, then fsync'ed.  The transaction commits only after it succeeded.
 */
struct publish {
	int		 fd;		/* the spill holding the DER */
	uint64_t	 off, len;
	FILE		*out;
	int		 pem;
	const char	*what;
	int		 err;		/* errno of a failure, or 0 */
	const char	*step;		/* what failed */
	pthread_t	 th;
	int		 running;
};

/* write all of buf to fd.  1/0 (errno set). */
static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR) {
				continue;
			}
			return 0;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 1;
}

/* Chunk of the DER read at a time: whole 48-byte PEM lines. */
#define PUBLISH_CHUNK	(48 * 32768)

static void *
publish_run(void *arg)
{
	static const char begin[] = "-----BEGIN X509 CRL-----\n";
	static const char end[] = "-----END X509 CRL-----\n";
	struct publish *pb = arg;
	unsigned char *in, *out, *q;
	uint64_t done = 0, written = 0;
	size_t i, k, m;
	ssize_t n;
	int fd = fileno(pb->out);

	/*
	 * Straight to the descriptor (nothing is buffered in pb->out): the
	 * PEM's lines with EVP_EncodeBlock (the bytes EVP_EncodeUpdate
	 * gives), and the writeback of each chunk started at once, so that
	 * the fsync at the end has little left to wait for.
	 */
	if ((in = malloc(PUBLISH_CHUNK)) == NULL ||
	    (out = malloc(PUBLISH_CHUNK / 48 * 65)) == NULL) {
		fatalx("out of memory");
	}
	if (pb->pem && !write_all(fd, (const unsigned char *)begin,
	    sizeof(begin) - 1)) {
		goto werr;
	}
	while (done < pb->len) {
		n = pread(pb->fd, in, pb->len - done < PUBLISH_CHUNK ?
		    (size_t)(pb->len - done) : PUBLISH_CHUNK,
		    (off_t)(pb->off + done));
		if (n <= 0) {
			pb->err = n == 0 ? EIO : errno;
			pb->step = "reading the DER";
			goto out;
		}
		done += (uint64_t)n;
		if (!pb->pem) {
			q = in;
			m = (size_t)n;
		} else {
			for (i = 0, m = 0; i < (size_t)n; i += 48) {
				k = (size_t)n - i < 48 ? (size_t)n - i : 48;
				m += (size_t)EVP_EncodeBlock(out + m, in + i,
				    (int)k);
				out[m++] = '\n';
			}
			q = out;
		}
		if (!write_all(fd, q, m)) {
			goto werr;
		}
#ifdef SYNC_FILE_RANGE_WRITE
		(void)sync_file_range(fd, (off_t)written, (off_t)m,
		    SYNC_FILE_RANGE_WRITE);
#endif
		written += m;
	}
	if (pb->pem && !write_all(fd, (const unsigned char *)end,
	    sizeof(end) - 1)) {
		goto werr;
	}
	if (fsync(fd) == -1) {
		pb->err = errno;
		pb->step = "fsync";
	}
	goto out;
werr:
	pb->err = errno ? errno : EIO;
	pb->step = "write";
out:
	free(in);
	free(out);
	return NULL;
}

/*
 * crl_params.placed: the CRL is len bytes at off in fd; start pb's thread
 * (pb->running tells whether it runs; a failure is logged).
 */
static void
publish_placed(void *arg, int fd, uint64_t off, uint64_t len)
{
	struct publish *pb = arg;
	int rc;

	pb->fd = fd;
	pb->off = off;
	pb->len = len;
	if ((rc = pthread_create(&pb->th, NULL, publish_run, pb)) != 0) {
		errno = rc;
		log_warn("%s: thread", pb->what);
		return;
	}
	pb->running = 1;
}

/* Wait for pb's thread, if running.  1 if it succeeded, 0 (logged). */
static int
publish_wait(struct publish *pb, const char *what)
{
	if (!pb->running) {
		return 1;
	}
	pthread_join(pb->th, NULL);
	pb->running = 0;
	if (pb->err != 0) {
		errno = pb->err;
		log_warn("%s: %s", what, pb->step);
		return 0;
	}
	return 1;
}

/*
 * In the caller's write transaction: the crls row, with sha (the DER's
 * SHA-256 hex, from the encoder) and the DER, len bytes at off in the
 * encoder's spill fd.  A CRL of crl_file_min() bytes or more goes to its
 * content-addressed file beside the store (common/crlstore.c), copied in
 * the kernel and fsync'ed before the row, which keeps an empty der: the
 * store never holds it in memory or in the WAL.  A smaller one is bound
 * straight from a read-only mapping of the spill; SQLite builds the
 * record in one buffer (the DER once more in memory).  1/0 (logged).
 */
static int
store_crl(struct db *db, const struct crlrun *r, int fd, uint64_t off,
    uint64_t len, const char *sha)
{
	sqlite3_stmt *st = NULL;
	void *map = MAP_FAILED;
	char t1[32], t2[32];
	int ret = 0, as_file = len >= crl_file_min();

	if (len == 0 || len > INT_MAX) {
		log_warnx("%s: a CRL of %llu bytes does not fit a store blob",
		    r->out, (unsigned long long)len);
		return 0;
	}
	/* A large CRL: a file beside the store, durable before the row. */
	if (as_file && !crl_file_store(db_path(db), fd, off, len, sha)) {
		return 0;
	}
	if (!as_file && (map = mmap(NULL, (size_t)(off + len), PROT_READ,
	    MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		log_warn("%s: mapping the temporary CRL", r->out);
		return 0;
	}
	time_fmt(r->this_update, t1, sizeof(t1));
	time_fmt(r->next_update, t2, sizeof(t2));
	if ((st = db_prepare(db, "INSERT INTO crls (ca_id, number, kind,"
	    " base_number, partition, this_update, next_update, der, sha256)"
	    " VALUES (?,?,?,?,?,?,?,?,?)")) == NULL) {
		goto out;
	}
	sqlite3_bind_int64(st, 1, r->ca_id);
	sqlite3_bind_int64(st, 2, (int64_t)r->num);
	sqlite3_bind_text(st, 3, strcmp(r->kind, "root") == 0 ? "arl" :
	    r->delta ? "delta" : "full", -1, SQLITE_STATIC);
	if (r->delta) {
		sqlite3_bind_int64(st, 4, r->base_number);
	}
	if (r->partition > 0) {
		sqlite3_bind_int(st, 5, r->partition);
	}
	sqlite3_bind_text(st, 6, t1, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, t2, -1, SQLITE_TRANSIENT);
	if (as_file) {
		sqlite3_bind_zeroblob(st, 8, 0);
	} else {
		sqlite3_bind_blob64(st, 8, (unsigned char *)map + off, len,
		    SQLITE_STATIC);
	}
	sqlite3_bind_text(st, 9, sha, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, "recording the CRL");
		goto out;
	}
	ret = 1;
out:
	sqlite3_finalize(st);
	if (map != MAP_FAILED) {
		munmap(map, (size_t)(off + len));
	}
	return ret;
}

static void
sync_dir(const char *path)
{
	char *d;
	int fd;

	if ((d = strdup(path)) == NULL) {
		fatalx("out of memory");
	}
	if ((fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(d);
}

/* Every officer of the quorum named in the ceremony file's list.  1/0. */
static int
officers_listed(const struct arl_ceremony *ac, const struct quorum *q)
{
	size_t i, j;

	if (ac->nlisted == 0) {
		return 1;
	}
	for (i = 0; i < q->n; i++) {
		for (j = 0; j < ac->nlisted; j++) {
			if (strcmp(ac->listed[j], q->names[i]) == 0) {
				break;
			}
		}
		if (j == ac->nlisted) {
			log_warnx("%s: ES-QUORUM-04: officer %s is not named in "
			    "the ceremony file", ac->file, q->names[i]);
			return 0;
		}
	}
	return 1;
}

/*
 * ES-ALG-SIG-03: the CRL is signed with the CA key's signature algorithm;
 * the store's algorithm policy must allow it.  1/0 (logged).
 */
static int
crl_alg_allowed(struct db *db, const struct ca_key *ck, const char *object)
{
	struct alg_policy *ap;
	int ok;

	if ((ap = ca_alg_policy(db)) == NULL) {
		return 0;
	}
	ok = alg_policy_allows_signing(ap, sig_alg_name(ck->alg), object);
	alg_policy_free(ap);
	return ok;
}

/*
 * The CA's key is on the module and token the ceremony file names, if it
 * names them.  1/0 (logged).
 */
static int
token_named(struct db *db, int64_t ca_id, const struct arl_ceremony *ac,
    const struct hsm_token_info *ti)
{
	sqlite3_stmt *st;
	int ok;

	if (ac->module != NULL) {
		if ((st = db_prepare(db, "SELECT module_path FROM cas WHERE"
		    " id = ?")) == NULL) {
			return 0;
		}
		sqlite3_bind_int64(st, 1, ca_id);
		ok = sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL &&
		    strcmp((const char *)sqlite3_column_text(st, 0),
		    ac->module) == 0;
		sqlite3_finalize(st);
		if (!ok) {
			log_warnx("%s: the ceremony file names module %s, but "
			    "CA \"%s\"'s key was made with another one", ac->file,
			    ac->module, ac->ca);
			return 0;
		}
	}
	if ((ac->token_label != NULL && strcmp(ac->token_label,
	    ti->label) != 0) || (ac->token_serial != NULL &&
	    strcmp(ac->token_serial, ti->serial) != 0)) {
		log_warnx("%s: the ceremony file names token \"%s\", but CA "
		    "\"%s\"'s key is on token \"%s\" (serial %s)", ac->file,
		    ac->token_label != NULL ? ac->token_label :
		    ac->token_serial, ac->ca, ti->label, ti->serial);
		return 0;
	}
	return 1;
}

/*
 * The root's ARL ceremony record: officers, the ceremony file's hash (if
 * run from a file), the binaries' hashes (also audited), the ARL's hash, a short transcript (also written to
 * the file's "transcript" path, if any), and its hash in the audit
 * chain.  1/0 (logged).
 */
static int
record_arl_ceremony(struct db *db, const struct crlrun *r, const char *started,
    const char *sha, const char *detail)
{
	sqlite3_stmt *st;
	struct ca_binaries bins;
	char id[37], now[32], tsha[65], object[160], *tx = NULL, *from = NULL;
	char *module = NULL;
	uuid_t uu;
	int ok = 0;

	/* The binaries, as in a key ceremony: the module is the CA's. */
	if ((st = db_prepare(db, "SELECT module_path FROM cas WHERE name = ?"))
	    == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, r->ca, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		module = xstrdup_or_empty((const char *)sqlite3_column_text(st,
		    0));
	}
	sqlite3_finalize(st);
	if (module == NULL) {
		log_warnx("%s: CA not in the store", r->ca);
		goto out;
	}
	if (!ca_binaries_hash(module, &bins)) {
		goto out;
	}
	uuid_generate_random(uu);
	uuid_unparse_lower(uu, id);
	time_fmt(now_utc(), now, sizeof(now));
	snprintf(object, sizeof(object), "ca:%s", r->ca);
	if (r->file != NULL) {
		if (asprintf(&from, " from %s (sha256 %s)", r->file->file,
		    r->file->file_sha256) == -1) {
			fatalx("out of memory");
		}
	}
	if (asprintf(&tx, "%s  ARL ceremony %s for root CA \"%s\"%s\n"
	    "%s  officers present and authenticated: %s\n"
	    "%s  executable: %s sha256 %s\n%s  PKCS#11 module: %s sha256 %s\n"
	    "%s  %s\n%s  ARL signed on the token: sha256 %s\n",
	    started, id, r->ca, from != NULL ? from : "", started, r->actor,
	    started, bins.exe, bins.exe_sha256, started, bins.module,
	    bins.module_sha256, now, detail, now, sha) == -1) {
		fatalx("out of memory");
	}
	sha256_hex(tx, strlen(tx), tsha);
	if (!db_begin(db)) {
		goto out;
	}
	if ((st = db_prepare(db, "INSERT INTO ceremonies (id, kind,"
	    " file_sha256, officers, started, finished, result, transcript,"
	    " transcript_sha256) VALUES (?, 'arl', ?, ?, ?, ?, 'ok', ?, ?)")) ==
	    NULL) {
		db_rollback(db);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, r->file != NULL ? r->file->file_sha256 : "",
	    -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, r->actor, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, started, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, tx, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, tsha, -1, SQLITE_TRANSIENT);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	if (!ok || !ca_binaries_audit(db, r->actor, object, &bins) ||
	    !audit_append(db, r->actor, "ceremony-end", object, tsha, "ok", id) ||
	    !db_commit(db)) {
		db_log_error(db, "record the ARL ceremony");
		db_rollback(db);
		ok = 0;
		goto out;
	}
	if (r->file != NULL && r->file->transcript != NULL &&
	    !file_write_atomic(r->file->transcript, tx, strlen(tx), 0644)) {
		ok = 0;
	}
out:
	free(module);
	free(from);
	free(tx);
	return ok;
}

/*
 * Who signs: a root's ARL in a ceremony under the officer quorum (*q
 * gathered, *started set), an issuing CA's CRL by the --operator or
 * "system".  r->actor is set.  EXIT_OK, or the exit status (logged).
 */
static int
crl_actor(struct db *db, struct crlrun *r, struct quorum *q,
    char started[32], const char *object)
{
	if (strcmp(r->kind, "root") != 0) {
		if (r->op_spec != NULL) {
			return auth_operator(db, r->op_spec, &r->actor) ?
			    EXIT_OK : EXIT_REFUSED;
		}
		if ((r->actor = strdup("system")) == NULL) {
			fatalx("out of memory");
		}
		return EXIT_OK;
	}
	/* The root's ARL: a ceremony under the quorum of officers. */
	if (r->nofficers == 0) {
		log_warnx("crl %s: ES-CRL-09: a root's ARL is signed in a "
		    "ceremony: name the quorum of officers (--officer "
		    "NAME=SRC)", r->ca);
		return EXIT_REFUSED;
	}
	if (!quorum_gather(db, r->officers, r->nofficers, quorum_size(db),
	    ROLE_OFFICER, "arl-ceremony", q)) {
		return EXIT_REFUSED;
	}
	r->actor = quorum_names(q);
	if (r->file != NULL && !officers_listed(r->file, q)) {
		audit_append(db, r->actor, "ceremony", object,
		    r->file->file_sha256, "refused: officer not named", NULL);
		return EXIT_REFUSED;
	}
	time_fmt(now_utc(), started, 32);
	return EXIT_OK;
}

/*
 * The encoder's parameters *p (signed by signer's key) and the store
 * selection *sel of r.  1/0 (logged).
 */
static int
crl_setup(const struct crlrun *r, struct crl_signer *signer,
    struct crl_params *p, struct crl_sel *sel)
{
	struct ca_key *ck = signer->ck;
	struct tm tm;

	memset(p, 0, sizeof(*p));
	p->issuer = ck->cert;
	p->alg = ck->alg;
	p->sign = token_sign;
	p->sign_arg = signer;
	p->this_update = r->this_update;
	p->next_update = r->next_update;
	p->number = r->num;
	p->have_last = r->last > 0;
	p->last_number = r->last;
	p->delta = r->delta;
	p->base_number = (uint64_t)r->base_number;
	p->idp_uri = r->idp;
	if (strcmp(r->kind, "root") == 0) {
		p->scope = CRL_SCOPE_CA;
	} else {
		p->scope = r->idp != NULL ? CRL_SCOPE_USER : CRL_SCOPE_ALL;
	}
	p->freshest_uri = r->freshest;
	if (r->cfg.expired_on_crl) {
		/* Every certificate the CA issued stays after it expires. */
		if (!ASN1_TIME_to_tm(X509_get0_notBefore(ck->cert), &tm)) {
			log_ssl("crl %s: CA notBefore", r->ca);
			return 0;
		}
		p->expired_certs_on_crl = timegm(&tm);
	}
	memset(sel, 0, sizeof(*sel));
	sel->ca_id = r->ca_id;
	sel->arl = strcmp(r->kind, "root") == 0;
	sel->partition = r->partition > 0 ? r->partition :
	    r->cfg.partitions > 1 ? -1 : 0;
	sel->since = r->delta ? r->base_this : NULL;
	sel->keep_expired = r->cfg.expired_on_crl;
	sel->this_update = r->this_update;
	return 1;
}

/*
 * Consume the number: in one transaction, check it is still unused, the
 * crls row (or the CRL's file beside the store), the audit entry (text
 * in *detail), and commit once pb's output file is durable.  EXIT_OK, or
 * the exit status (logged).
 */
static int
crl_record(struct db *db, const struct crlrun *r, int crl_fd,
    uint64_t crl_off, const struct crl_stats *cs, const char *sha,
    struct publish *pb, const char *out_tmp, char **detail)
{
	char object[160], t1[32], t2[32];
	uint64_t again;

	snprintf(object, sizeof(object), "ca:%s", r->ca);
	if (!db_begin(db)) {
		return EXIT_ERROR;
	}
	if (!last_number(db, r->ca_id, &again)) {
		goto fail;
	}
	if (r->num <= again) {
		log_warnx("crl %s: ES-CRL-03: CRL number %llu was used meanwhile "
		    "(last used %llu); nothing published", r->ca,
		    (unsigned long long)r->num, (unsigned long long)again);
		db_rollback(db);
		return EXIT_REFUSED;
	}
	if (!store_crl(db, r, crl_fd, crl_off, cs->bytes, sha)) {
		goto fail;
	}
	time_fmt(r->this_update, t1, sizeof(t1));
	time_fmt(r->next_update, t2, sizeof(t2));
	if (asprintf(detail, "%s CRL number %llu (base %lld, partition %d);"
	    " %llu entries; thisUpdate %s nextUpdate %s; sha256 %s; %s",
	    crl_kind(r), (unsigned long long)r->num, (long long)r->base_number,
	    r->partition, (unsigned long long)cs->entries, t1, t2, sha,
	    r->out) == -1) {
		fatalx("out of memory");
	}
	if (!audit_append(db, r->actor, "crl-sign", object, sha, "ok",
	    *detail) || !publish_wait(pb, out_tmp) || !db_commit(db)) {
		goto fail;
	}
	return EXIT_OK;
fail:
	db_rollback(db);
	return EXIT_ERROR;
}

/* Print what was published (text or --json). */
static void
crl_print(const struct crlrun *r, const struct crl_stats *cs,
    const char *sha)
{
	char t1[32], t2[32];

	time_fmt(r->this_update, t1, sizeof(t1));
	time_fmt(r->next_update, t2, sizeof(t2));
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:s}",
		    "ca", r->ca, "kind", crl_kind(r), "number",
		    (json_int_t)r->num, "partition", (json_int_t)r->partition,
		    "entries", (json_int_t)cs->entries,
		    "bytes", (json_int_t)cs->bytes, "sha256", sha,
		    "this_update", t1, "next_update", t2, "file", r->out));
	} else {
		printf(_("%s: %s CRL number %llu of CA %s, %llu entries, next "
		    "update %s\n"), r->out, crl_kind(r), (unsigned long long)r->num,
		    r->ca, (unsigned long long)cs->entries, t2);
	}
}

/* The default output name: NAME[-pN][-delta].crl. */
static void
crl_default_out(struct crlrun *r)
{
	char part[16] = "";

	if (r->out != NULL) {
		return;
	}
	if (r->partition > 0) {
		snprintf(part, sizeof(part), "-p%d", r->partition);
	}
	snprintf(r->out_buf, sizeof(r->out_buf), "%s%s%s.crl", r->ca, part,
	    r->delta ? "-delta" : "");
	r->out = r->out_buf;
}

/*
 * Generate r's CRL into the encoder's spill beside the output, all
 * passes in one read transaction of the store; the publish thread pb
 * writes the output's temporary file (outfp) once the CRL is placed.
 * *crl_fd, *crl_off, *cs and sha are set.  EXIT_OK or the exit status.
 */
static int
crl_generate(struct db *db, const struct crlrun *r, struct crl_signer *signer,
    struct publish *pb, FILE *outfp, int *crl_fd, uint64_t *crl_off,
    struct crl_stats *cs, char sha[65])
{
	struct crl_rows *rows = NULL;
	struct crl_params p;
	struct crl_iter it;
	struct crl_sel sel;
	struct stat sb;
	char *out_dir = NULL, *hex;
	int ret = EXIT_ERROR;

	if (!crl_setup(r, signer, &p, &sel)) {
		return EXIT_ERROR;
	}
	/*
	 * One scan of the store: later passes re-read the encoder's spill,
	 * made in the store's crls directory, so that a large CRL's spill
	 * becomes its file there (crl_file_store links it, no copy).
	 */
	if ((out_dir = crl_files_dir(db_path(db))) == NULL) {
		return EXIT_ERROR;
	}
	p.spill_dir = out_dir;
	pb->out = outfp;
	pb->pem = r->pem;
	pb->what = r->out;
	p.placed = publish_placed;
	p.placed_arg = pb;
	if (!db_exec(db, "BEGIN")) {
		goto out;
	}
	if ((rows = crl_rows_open(db, &sel, r->out)) == NULL) {
		db_rollback(db);
		goto out;
	}
	crl_rows_iter(rows, &it);
	if (!crl_write_spilled(r->out, &p, &it, cs, crl_fd, crl_off)) {
		ret = signer->token_failed ? EXIT_ERROR : EXIT_REFUSED;
	}
	crl_rows_free(rows);
	db_rollback(db);		/* end of the read transaction */
	if (ret == EXIT_REFUSED || signer->token_failed || !pb->running) {
		goto out;		/* logged (publish_placed too) */
	}
	if (fstat(*crl_fd, &sb) == -1 ||
	    (uint64_t)sb.st_size != *crl_off + cs->bytes) {
		log_warnx("%s: the temporary CRL has the wrong size", r->out);
		goto out;
	}
	hex = hex_encode(cs->sha256, sizeof(cs->sha256));
	snprintf(sha, 65, "%s", hex);
	free(hex);
	ret = EXIT_OK;
out:
	free(out_dir);
	return ret;
}

static int
crl_run(struct crlrun *r)
{
	struct db *db = NULL;
	struct ca_key *ck = NULL;
	struct crl_signer signer;
	struct crl_stats cs;
	struct publish pb = { .fd = -1 };
	struct quorum q = { 0 };
	FILE *outfp = NULL;
	char *out_tmp = NULL, *detail = NULL;
	char object[160], sha[65] = "", started[32] = "";
	uint64_t crl_off = 0;
	int crl_fd = -1, ret = EXIT_ERROR, why;

	snprintf(object, sizeof(object), "ca:%s", r->ca);
	if ((db = ca_open_db()) == NULL) {
		goto out;
	}
	if ((ret = plan(db, r)) != EXIT_OK) {
		goto out;
	}
	if (r->file != NULL && strcmp(r->kind, "root") != 0) {
		log_warnx("%s: CA \"%s\" is not a root: an ARL ceremony signs "
		    "a root's ARL (an issuing CA's CRL needs no ceremony: "
		    "eseal-ca crl)", r->file->file, r->ca);
		ret = EXIT_REFUSED;
		goto out;
	}
	crl_default_out(r);
	if ((ret = crl_actor(db, r, &q, started, object)) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_ERROR;

	/* The key: token present, PIN, provenance, then the policy gate. */
	if ((ck = ca_key_open(db, r->ca, r->pin, r->actor, &why)) == NULL) {
		ret = why;
		goto out;
	}
	if (r->file != NULL && !token_named(db, r->ca_id, r->file,
	    hsm_token_get_info(ck->tok))) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if (!gate_check(db, hsm_token_get_info(ck->tok), GATE_SIGN, r->actor,
	    object, NULL, 0, NULL, 0) || !crl_alg_allowed(db, ck, object)) {
		ret = EXIT_REFUSED;
		goto out;
	}

	/* The output is written by the publish thread, started once placed. */
	if ((outfp = tmp_beside(r->out, &out_tmp)) == NULL) {
		goto out;
	}
	signer.ck = ck;
	signer.token_failed = 0;
	if ((ret = crl_generate(db, r, &signer, &pb, outfp, &crl_fd, &crl_off,
	    &cs, sha)) != EXIT_OK) {
		goto out;
	}

	/* The number is consumed here, with the CRL and its audit record. */
	if ((ret = crl_record(db, r, crl_fd, crl_off, &cs, sha, &pb, out_tmp,
	    &detail)) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_ERROR;

	/* Published: move the file into place. */
	if (rename(out_tmp, r->out) == -1) {
		log_warn("%s: rename (the CRL is recorded in the store as "
		    "number %llu)", r->out, (unsigned long long)r->num);
		goto out;
	}
	free(out_tmp);
	out_tmp = NULL;
	sync_dir(r->out);
	crl_print(r, &cs, sha);
	if (started[0] != '\0' && !record_arl_ceremony(db, r, started, sha,
	    detail)) {
		goto out;
	}
	ret = ca_audit_sign(db, ck, NULL) ? EXIT_OK : EXIT_ERROR;
out:
	(void)publish_wait(&pb, out_tmp);
	quorum_free(&q);
	if (crl_fd != -1) {
		close(crl_fd);
	}
	if (outfp != NULL) {
		fclose(outfp);
	}
	if (out_tmp != NULL) {
		(void)unlink(out_tmp);
	}
	free(out_tmp);
	free(detail);
	ca_key_free(ck);
	db_close(db);
	return ret;
}

/* crl_run(r), then free what r owns.  The exit code. */
static int
crl_run_clear(struct crlrun *r)
{
	int ret = crl_run(r);

	crl_cfg_clear(&r->cfg);
	free(r->idp);
	free(r->freshest);
	free(r->kind);
	free(r->actor);
	return ret;
}

int
crl_arl_ceremony(const struct arl_ceremony *ac)
{
	struct crlrun r;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.file = ac;
	r.ca = ac->ca;
	r.pin = ac->pin;
	r.out = ac->output;
	r.pem = ac->pem;
	r.next_days = ac->next_days;
	for (i = 0; i < ac->nspecs && i < 16; i++) {
		r.officers[r.nofficers++] = ac->specs[i];
	}
	if (!secret_source_valid(r.pin, ac->file)) {
		return EXIT_USAGE;
	}
	return crl_run_clear(&r);
}

int
cmd_crl(int argc, char **argv)
{
	static const char *const valued[] = { "ca", "pin", "out", "partition",
	    "next-update", "next-update-date", "number", "operator", "officer",
	    NULL };
	static const char *const flags[] = { "pem", "delta", NULL };
	struct crlrun r;
	struct args a;
	const char *s;
	char *end;
	long v;

	memset(&r, 0, sizeof(r));
	if (!args_parse(argc, argv, valued, flags, &a)) {
		return EXIT_USAGE;
	}
	if (a.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (a.npos != 0 || !args_need(&a, "ca", "crl") ||
	    !args_need(&a, "pin", "crl")) {
		usage(stderr);
		return EXIT_USAGE;
	}
	r.ca = args_get(&a, "ca");
	r.pin = args_get(&a, "pin");
	r.out = args_get(&a, "out");
	r.pem = args_flag(&a, "pem");
	r.delta = args_flag(&a, "delta");
	r.next_days = args_get(&a, "next-update");
	r.next_date = args_get(&a, "next-update-date");
	r.number = args_get(&a, "number");
	r.op_spec = args_get(&a, "operator");
	r.nofficers = args_all(&a, "officer", r.officers, 16);
	if (r.next_days != NULL && r.next_date != NULL) {
		log_warnx("crl: give --next-update or --next-update-date, not "
		    "both");
		return EXIT_USAGE;
	}
	if (!secret_source_valid(r.pin, "crl --pin")) {
		return EXIT_USAGE;
	}
	/* The output (default NAME...crl here) before the store or token. */
	if (r.out != NULL ? !out_path_writable(r.out, "crl --out") :
	    !dir_writable(".", "crl")) {
		return EXIT_USAGE;
	}
	if ((s = args_get(&a, "partition")) != NULL) {
		v = strtol(s, &end, 10);
		if (*end != '\0' || end == s || v < 1 || v > 100000) {
			log_warnx("crl: --partition must be a partition number "
			    "(1..N)");
			return EXIT_USAGE;
		}
		r.partition = (int)v;
	}
	return crl_run_clear(&r);
}
