/*
 * The responder's state directory (see statedir.h): the per-CA highest
 * export sequence in a small text file, and a copy of the last export
 * served.  Used from the daemon's main thread only.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "log.h"
#include "statedir.h"
#include "util.h"

#define STATE_FILE	"state"
#define COPY_FILE	"export.der"
#define STATE_MAX_CA	256
#define STATE_FILE_MAX	(64 * 1024)

struct seen {
	unsigned char	id[32];		/* SHA-256 of the CA certificate */
	int64_t		seq;
};

struct statedir {
	char		*state_path, *copy_path;
	struct seen	*ca;
	size_t		 nca;
};

int
statedir_prepare(const char *dir, const char *user, int create)
{
	struct stat sb;
	struct passwd *pw;
	uid_t owner = geteuid();

	if (user != NULL && owner == 0 && (pw = getpwnam(user)) != NULL) {
		owner = pw->pw_uid;
	}

	if (stat(dir, &sb) == -1) {
		if (errno != ENOENT) {
			log_warn("state-dir: ES-OCSPD-11: %s", dir);
			return 0;
		}
		if (!create) {
			return 1;
		}
		if (mkdir(dir, 0700) == -1) {
			log_warn("state-dir: ES-OCSPD-11: cannot create %s", dir);
			return 0;
		}
		if (geteuid() == 0 && owner != 0 && chown(dir, owner, (gid_t)-1) == -1) {
			log_warn("state-dir: ES-OCSPD-11: %s: chown", dir);
			return 0;
		}
		log_info("state-dir: created %s", dir);
		return 1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		log_warnx("state-dir: ES-OCSPD-11: %s: not a directory", dir);
		return 0;
	}
	if (sb.st_uid != owner && sb.st_uid == 0 && geteuid() == 0 && create) {
		if (chown(dir, owner, (gid_t)-1) == -1) {
			log_warn("state-dir: ES-OCSPD-11: %s: chown", dir);
			return 0;
		}
		log_info("state-dir: %s given to uid %ld", dir, (long)owner);
		sb.st_uid = owner;
	}
	if (sb.st_uid != owner) {
		log_warnx("state-dir: ES-OCSPD-11: %s: owned by uid %ld, not by "
		    "the service user (uid %ld)", dir, (long)sb.st_uid,
		    (long)owner);
		return 0;
	}
	if ((sb.st_mode & 077) != 0) {
		log_warnx("state-dir: ES-OCSPD-11: %s: group or world "
		    "accessible (mode %04o); want 0700", dir,
		    (unsigned int)(sb.st_mode & 07777));
		return 0;
	}
	return 1;
}

/* Parse one "ca HEX SEQ" line into s. 1/0. */
static int
parse_line(struct statedir *s, char *line)
{
	char hex[65];
	unsigned char *id;
	size_t idlen;
	long long seq;
	int used = 0;

	if (sscanf(line, "ca %64s %lld%n", hex, &seq, &used) != 2 ||
	    line[used] != '\0' || seq < 0 || s->nca == STATE_MAX_CA) {
		return 0;
	}
	if ((id = hex_decode(hex, &idlen)) == NULL || idlen != 32) {
		free(id);
		return 0;
	}
	memcpy(s->ca[s->nca].id, id, 32);
	s->ca[s->nca].seq = (int64_t)seq;
	s->nca++;
	free(id);
	return 1;
}

struct statedir *
statedir_open(const char *dir)
{
	struct statedir *s;
	unsigned char *buf = NULL;
	char *line, *next;
	size_t len;
	int n = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->ca = calloc(STATE_MAX_CA, sizeof(*s->ca))) == NULL ||
	    asprintf(&s->state_path, "%s/%s", dir, STATE_FILE) == -1 ||
	    asprintf(&s->copy_path, "%s/%s", dir, COPY_FILE) == -1) {
		fatalx("out of memory");
	}
	if (access(s->state_path, F_OK) == -1 && errno == ENOENT) {
		return s;
	}
	if (!file_read(s->state_path, STATE_FILE_MAX, &buf, &len)) {
		goto fail;
	}
	if ((buf = realloc(buf, len + 1)) == NULL) {
		fatalx("out of memory");
	}
	buf[len] = '\0';
	if (strlen((char *)buf) != len) {
		log_warnx("%s: ES-OCSPD-11: NUL byte", s->state_path);
		goto fail;
	}
	for (line = (char *)buf; line != NULL && *line != '\0'; line = next) {
		n++;
		if ((next = strchr(line, '\n')) != NULL) {
			*next++ = '\0';
		}
		if (*line == '#' || *line == '\0') {
			continue;
		}
		if (!parse_line(s, line)) {
			log_warnx("%s: ES-OCSPD-11: line %d: malformed (want "
			    "\"ca SHA256-HEX SEQUENCE\")", s->state_path, n);
			goto fail;
		}
	}
	free(buf);
	return s;
 fail:
	free(buf);
	statedir_free(s);
	return NULL;
}

void
statedir_free(struct statedir *s)
{
	if (s == NULL) {
		return;
	}
	free(s->state_path);
	free(s->copy_path);
	free(s->ca);
	free(s);
}

/* The entry of ca's certificate, or NULL. */
static struct seen *
find(const struct statedir *s, X509 *ca, unsigned char id[32])
{
	unsigned char *der = NULL;
	int len;
	size_t i;

	if ((len = i2d_X509(ca, &der)) <= 0) {
		fatalx("i2d_X509");
	}
	sha256(der, (size_t)len, id);
	OPENSSL_free(der);
	for (i = 0; i < s->nca; i++) {
		if (memcmp(s->ca[i].id, id, 32) == 0) {
			return &s->ca[i];
		}
	}
	return NULL;
}

int
statedir_allows(const struct statedir *s, const struct export *e,
    const char *what)
{
	unsigned char id[32];
	struct seen *sn;
	size_t i;

	for (i = 0; i < e->nissuers; i++) {
		if ((sn = find(s, e->issuers[i].ca, id)) != NULL &&
		    e->sequence < sn->seq) {
			log_warnx("%s: ES-OCSPD-09: export sequence %lld is "
			    "older than the %lld served before; refused", what,
			    (long long)e->sequence, (long long)sn->seq);
			return 0;
		}
	}
	return 1;
}

/*
 * 1 if path already holds exactly der (len bytes), as after a restart
 * on the same export: the copy need not be written and synced again
 * (134 MB at ten million certificates).  Read in chunks, not mapped: a
 * file truncated under a mapping would be a SIGBUS.
 */
static int
copy_is(const char *path, const unsigned char *der, size_t len)
{
	unsigned char buf[65536];
	struct stat st;
	size_t off = 0;
	ssize_t r;
	int fd, same = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		return 0;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size == len) {
		same = 1;
		while (same && off < len) {
			if ((r = read(fd, buf, sizeof(buf))) == -1 &&
			    errno == EINTR) {
				continue;
			}
			if (r <= 0 || (size_t)r > len - off ||
			    memcmp(buf, der + off, (size_t)r) != 0) {
				same = 0;
			} else {
				off += (size_t)r;
			}
		}
	}
	close(fd);
	return same;
}

int
statedir_keep_copy(struct statedir *s, const struct export *e)
{
	return copy_is(s->copy_path, e->der, e->der_len) ||
	    file_write_atomic(s->copy_path, e->der, e->der_len, 0600);
}

int
statedir_record(struct statedir *s, const struct export *e)
{
	unsigned char id[32];
	struct seen *sn;
	char *hex;
	FILE *f;
	char *buf = NULL;
	size_t i, sz = 0;
	int ret;

	for (i = 0; i < e->nissuers; i++) {
		if ((sn = find(s, e->issuers[i].ca, id)) == NULL) {
			if (s->nca == STATE_MAX_CA) {
				log_warnx("%s: more than %d CAs", s->state_path,
				    STATE_MAX_CA);
				return 0;
			}
			sn = &s->ca[s->nca++];
			memcpy(sn->id, id, 32);
			sn->seq = e->sequence;
		}
		if (e->sequence > sn->seq) {
			sn->seq = e->sequence;
		}
	}
	if ((f = open_memstream(&buf, &sz)) == NULL) {
		fatalx("out of memory");
	}
	fprintf(f, "# eseal-ocspd: the highest export sequence served per "
	    "CA (SHA-256 of its certificate).\n# Remove this file to let an "
	    "older export be loaded again: see eseal-ocspd(8).\n");
	for (i = 0; i < s->nca; i++) {
		hex = hex_encode(s->ca[i].id, 32);
		fprintf(f, "ca %s %lld\n", hex, (long long)s->ca[i].seq);
		free(hex);
	}
	fclose(f);
	ret = file_write_atomic(s->state_path, buf, sz, 0600);
	free(buf);
	return ret;
}

struct export *
statedir_copy(const struct statedir *s, X509 *const *trust, size_t ntrust,
    time_t now)
{
	struct export *e;

	if (access(s->copy_path, F_OK) == -1 && errno == ENOENT) {
		log_warnx("%s: no copy of an export served before",
		    s->copy_path);
		return NULL;
	}
	e = export_load(s->copy_path, trust, ntrust);
	if (e != NULL && !statedir_export_current(e, now, s->copy_path)) {
		export_free(e);
		e = NULL;
	}
	return e;
}

const char *
statedir_copy_path(const struct statedir *s)
{
	return s->copy_path;
}

int
statedir_export_current(const struct export *e, time_t now, const char *what)
{
	char name[256], t[32];
	size_t i;

	for (i = 0; i < e->nissuers; i++) {
		if (now < e->issuers[i].next_update) {
			continue;
		}
		X509_NAME_oneline(X509_get_subject_name(e->issuers[i].ca),
		    name, sizeof(name));
		time_fmt(e->issuers[i].next_update, t, sizeof(t));
		log_warnx("%s: ES-OCSPD-10: export sequence %lld: nextUpdate "
		    "%s of %s has passed; refused", what,
		    (long long)e->sequence, t, name[0] == '/' ? name + 1 :
		    name);
		return 0;
	}
	return 1;
}
