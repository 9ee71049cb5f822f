/*
 * The responder's state directory (state-dir): what eseal-ocspd keeps
 * across restarts so that it never goes back in time.  DIR/state holds
 * the highest export sequence served for each CA (named by the SHA-256
 * of its certificate), DIR/export.der a verbatim copy of the last export
 * served.  Both are written atomically (temporary file, fsync, rename,
 * fsync of the directory), the copy first.  An export older than what
 * was served is refused (ES-OCSPD-09); removing DIR/state is the
 * operator's deliberate way back (eseal-ocspd(8)).  The directory must
 * be private to the service user (ES-OCSPD-11).
 */
#ifndef ESEAL_OCSP_STATEDIR_H
#define ESEAL_OCSP_STATEDIR_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "export.h"

#define STATEDIR_DEFAULT	"/var/lib/eseal-ocspd"

struct statedir;

/*
 * Check dir: a directory owned by the service user (user when running
 * as root and user is not NULL, else the effective user) with no group
 * or other access (ES-OCSPD-11).  When it is absent and create is set
 * it is made 0700 (and given to the service user); when create is set
 * and running as root, a directory owned by root is given to the
 * service user (as systemd's StateDirectory= makes it).  Absent and
 * create not set is fine.  1/0 (logged).
 */
int statedir_prepare(const char *dir, const char *user, int create);
/*
 * Read dir's state file (absent: nothing served yet).  NULL when it is
 * unreadable or malformed (logged).
 */
struct statedir *statedir_open(const char *dir);
void statedir_free(struct statedir *s);
/*
 * 1 unless an issuer section of e is for a CA that was served a higher
 * sequence before (ES-OCSPD-09, logged with what naming the input).
 */
int statedir_allows(const struct statedir *s, const struct export *e,
    const char *what);
/*
 * e is about to be served: raise the sequences of its CAs (the state
 * file, synced).  1/0 (logged).
 */
int statedir_record(struct statedir *s, const struct export *e);
/*
 * Keep e's DER (e->der) as the copy, unless the copy already is that
 * export.  Called once e is served (a 134 MB copy at ten million
 * certificates is not worth a late start): after a crash in between,
 * the copy can be older than the state file, and is then refused
 * (statedir_allows).  1/0 (logged).
 */
int statedir_keep_copy(struct statedir *s, const struct export *e);
/*
 * The copy of the last export served, verified against trust (as
 * export_decode) and current at now (statedir_export_current).  NULL
 * when there is none, it does not verify or it has expired (logged).
 */
struct export *statedir_copy(const struct statedir *s, X509 *const *trust,
    size_t ntrust, time_t now);
/* The path of the copy (for messages). */
const char *statedir_copy_path(const struct statedir *s);
/*
 * 1 if every issuer section of e has a nextUpdate after now; else log
 * "what: ES-OCSPD-10: ..." naming the first one that has passed and
 * return 0.
 */
int statedir_export_current(const struct export *e, time_t now,
    const char *what);

#endif
