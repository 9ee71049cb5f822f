/*
 * Witnesses of a restore (status exports, CRLs), verified against the CA
 * certificates of the backup and of the store being replaced.
 */
#ifndef ESEAL_RESTORE_WITNESS_H
#define ESEAL_RESTORE_WITNESS_H

#include <stddef.h>

#include "db.h"
#include "restore.h"

/*
 * Verify and read each of files[] (a status export, or a CRL in DER or
 * PEM) against the CA certificates in backup and store (NULL if there
 * is none) and add what it shows to seen.  A file that is neither, or
 * does not verify, is refused: "FILE: ES-RESTORE-02: ..." (or the export
 * decoder's ES-OCSPD-01..03).  1/0.
 */
int restore_witness_load(char *const *files, size_t nfiles, struct db *backup,
    struct db *store, struct restore_seen *seen);

#endif
