/*
 * Large CRLs as content-addressed files beside the store (see
 * common/crlstore.c): <store dir>/crls/<sha256>.der, the crls row keeping
 * an empty der and the sha256.
 */
#ifndef ESEAL_CRLSTORE_H
#define ESEAL_CRLSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* CRLs of this many DER bytes or more are kept as files. */
#define CRL_FILE_MIN	(1024 * 1024)

/*
 * The size from which a CRL is kept as a file: CRL_FILE_MIN, or for
 * tests $ESEAL_CRL_FILE_MIN (bytes).
 */
uint64_t crl_file_min(void);

/*
 * "<dir of db_path>/crls", created if missing (mode 0755), malloc'd;
 * NULL (logged).
 */
char *crl_files_dir(const char *db_path);

/* "<dir of db_path>/crls/<sha>.der", malloc'd. */
char *crl_file_path(const char *db_path, const char *sha);

/*
 * Write len bytes at off in fd (copied in the kernel) to the file of sha
 * beside the store at db_path, through a temporary file that is fsync'ed
 * and renamed, then fsync the crls directory.  When fd is an unnamed
 * O_TMPFILE in that directory holding exactly those bytes (off 0), it
 * is fsync'ed and linked there instead of copied.  Call before the crls
 * row commits.  1/0 (logged).
 */
int crl_file_store(const char *db_path, int fd, uint64_t off, uint64_t len,
    const char *sha);

/*
 * Read the file of sha beside the store at db_path into *der (malloc'd,
 * *len bytes), checked against sha (ES-CRL-10).  1/0 (logged).
 */
int crl_der_load(const char *db_path, const char *sha, unsigned char **der,
    size_t *len);

/*
 * In the store h (a copy, e.g. a backup's), put the DER of every CRL
 * kept as a file beside the store at db_path back into its row.  1/0
 * (logged).
 */
int crl_files_inline(sqlite3 *h, const char *db_path);

#endif
