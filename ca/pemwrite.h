/*
 * The PEM files of "eseal-ca issue", written in a thread of their own: a
 * committed batch's certificates are handed over and written as
 * DIR/SERIAL.pem (each through a temporary file renamed into place), then
 * made durable with one syncfs(2), while the main thread builds the next
 * batch; collecting the hand-off tells which files are durable, so that
 * their pending notes are forgotten only then.
 */
#ifndef ESEAL_PEMWRITE_H
#define ESEAL_PEMWRITE_H

#include <stddef.h>

#include <openssl/x509.h>

struct pem_writer;

/* A writer for the directory out_dir (out_dir_abs: its absolute path). */
struct pem_writer *pem_writer_new(const char *out_dir, const char *out_dir_abs);

/*
 * Hand certs[0..n) (owned by the writer from here on) to be written as
 * OUT_DIR/serials[i].pem and made durable.  The hand-off before must have
 * been collected (pem_writer_collect).
 */
void pem_writer_start(struct pem_writer *w, X509 **certs,
    char (*serials)[33], size_t n);

/*
 * Wait for the hand-off in progress, if any, and call forget(arg, serial)
 * for each file written and made durable (forget NULL: none), then free
 * its certificates.  1 if every forget() returned 1 (or none was due).
 */
int pem_writer_collect(struct pem_writer *w,
    int (*forget)(void *, const char *), void *arg);

/* Collect without forgetting, stop the thread, free w; NULL accepted. */
void pem_writer_free(struct pem_writer *w);

#endif
