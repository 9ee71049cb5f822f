/*
 * Small helpers shared by every program: hex, whole-file I/O with
 * atomic replacement, UTC time formatting and parsing, SHA-256.
 */
#ifndef ESEAL_UTIL_H
#define ESEAL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/types.h>

/* Lower-case hex of len bytes; returns a malloc'd string (never NULL). */
char *hex_encode(const unsigned char *buf, size_t len);
/* Decode hex (even length, either case) into a malloc'd buffer; NULL on bad input. */
unsigned char *hex_decode(const char *hex, size_t *out_len);

/*
 * Read a whole file (at most max bytes) into a malloc'd buffer.  Returns
 * 1 on success and 0 after logging "path: problem".
 */
int file_read(const char *path, size_t max, unsigned char **out, size_t *out_len);
/*
 * Open path for reading: a regular file of at most max bytes.  The
 * descriptor (the caller closes it), *size set; -1 after logging "path:
 * problem".
 */
int file_open_max(const char *path, size_t max, size_t *size);
/*
 * Read len bytes of fd into buf, or fewer at its end (*got says how
 * many), retrying after EINTR.  1, or 0 after logging "path: error".
 */
int fd_read_full(int fd, void *buf, size_t len, size_t *got,
    const char *path);
/*
 * Write len bytes to path atomically: a temporary file in the same
 * directory is written, fsync'ed and renamed over path, so a reader sees
 * the old file or the whole new one, never a half-written one.
 * mode is the permission of the new file.  Returns 1/0 (logged).
 */
int file_write_atomic(const char *path, const void *buf, size_t len, int mode);
/*
 * file_write_atomic() in two steps, for a writer with something to
 * decide between them: the temporary file beside path written and
 * fsync'ed (*tmp, malloc'd; removed on failure), then renamed over path
 * with its directory fsync'ed (tmp freed; removed on failure).  1/0
 * (logged).
 */
int file_write_tmp(const char *path, const void *buf, size_t len, int mode,
    char **tmp);
int file_commit_tmp(char *tmp, const char *path);
/*
 * Whether files can be created in directory dir: a temporary file is
 * made there and removed at once (a real test, also for root and on
 * read-only mounts, where access(2) says yes).  Commands call it for
 * their outputs before they touch the token or the store.  Returns 1, or
 * 0 after logging "what: ES-OUT-01: cannot write in DIR: reason".
 */
int dir_writable(const char *dir, const char *what);
/*
 * dir_writable() for the directory path would be written into by
 * file_write_atomic(); path itself must not be a directory.  1/0
 * (logged as above).
 */
int out_path_writable(const char *path, const char *what);

/* Format t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void time_fmt(time_t t, char *buf, size_t bufsz);
/*
 * Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or "now" as UTC.  Returns 1/0;
 * on failure logs "what: ...".
 */
int time_parse(const char *s, time_t *out, const char *what);
/* The current time, or ESEAL_NOW (same syntax as time_parse) when set: tests use it. */
time_t now_utc(void);

/* SHA-256 of buf into out (32 bytes). */
void sha256(const void *buf, size_t len, unsigned char out[32]);
/* SHA-256 hex (65 bytes with NUL) of buf. */
void sha256_hex(const void *buf, size_t len, char out[65]);
/*
 * SHA-256 hex (65 bytes with NUL) of the file at path, read in blocks (no
 * size limit: executables and PKCS#11 modules).  1/0 (logged).
 */
int sha256_file_hex(const char *path, char out[65]);

/*
 * The offset of the first byte of s (len bytes) that does not start a
 * well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or len if all of s is valid UTF-8.
 */
size_t utf8_invalid_at(const unsigned char *s, size_t len);

/* Strip trailing blanks from a blank-padded fixed field into a C string. */
void fixed_to_str(char *dst, size_t dstsz, const unsigned char *src, size_t srclen);

/* strdup that ends the program when memory runs out; NULL gives NULL. */
char *xstrdup(const char *s);
/*
 * End a temporary file's name: if remove is set and tmp is not NULL, the
 * file is unlinked (errors ignored); tmp is freed.  NULL accepted.
 */
void tmp_discard(char *tmp, int remove);
/*
 * Create path's temporary file beside it, "PATH.tmpPID.XXXXXX" (the PID
 * tells a sweep whether its writer still runs), with the given mode.
 * The descriptor, *tmp its name (malloc'd); -1 and *tmp NULL on failure
 * (logged).
 */
int tmp_create(const char *path, int mode, char **tmp);
/* The same, but NULL gives "" (never NULL). */
char *xstrdup_or_empty(const char *s);
/*
 * Room for element n of array v (*cap elements of size bytes): v, or v
 * grown (first elements, then doubled) when n is *cap.  Running out of
 * memory ends the program.
 */
void *array_grow(void *v, size_t *cap, size_t n, size_t size, size_t first);
/*
 * Read one certificate (at most 1 MiB) from path: PEM (one CERTIFICATE
 * block, nothing but blanks around it) or DER (no trailing bytes).  NULL
 * (logged) on error.
 */
X509 *x509_read_file(const char *path);

#endif
