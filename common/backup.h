/*
 * Encrypted, integrity-protected backups of the store.  A backup is a
 * consistent copy (SQLite online backup API) encrypted with AES-256-GCM
 * under a key derived from a passphrase with scrypt; the header (magic,
 * version, KDF parameters, salt, nonce, creation time, the highest CRL
 * number and the serial count) is authenticated as GCM additional data.
 */
#ifndef ESEAL_BACKUP_H
#define ESEAL_BACKUP_H

#include <stdint.h>
#include <time.h>

#include "db.h"

struct backup_info {
	time_t	created;
	int64_t	max_crl_number;		/* highest CRL number of any CA */
	int64_t	certificates;		/* issued certificates */
	int64_t	audit_entries;
	char	instance_id[40];
	char	sha256[65];		/* of the whole backup file (not in the header) */
};

/* Write a backup of db to path (mode 0600), passphrase from pass_source. 1/0. */
int backup_write(struct db *db, const char *path, const char *pass_source,
    struct backup_info *info);
/* Decrypt and check a backup (tag, SQLite integrity) without restoring. 1/0. */
int backup_verify(const char *path, const char *pass_source,
    struct backup_info *info);
/*
 * Decrypt and check a backup into a new private file (mode 0600) in the
 * directory of db_path, so that it can be renamed over it; *tmp_path is
 * malloc'd (free it with backup_discard() unless installed).  1/0 (logged).
 */
int backup_decrypt_near(const char *path, const char *pass_source,
    const char *db_path, char **tmp_path, struct backup_info *info);
/* Remove a decrypted copy (and its -wal, -shm) and free the name.  NULL is fine. */
void backup_discard(char *tmp_path);
/*
 * 1 if there is no db_path.pre-restore from an earlier restore (one left
 * by an interrupted restore, the same file as the store, is removed).
 * 0 (logged).
 */
int backup_install_check(const char *db_path);
/*
 * Replace db_path with the closed store at tmp_path in one rename; the
 * old store (if any) stays as db_path.pre-restore.  The caller has
 * closed db_path: a -wal file left means another process uses it
 * (refused).  A crash at any point
 * leaves the old store or the complete new one.  On failure tmp_path is
 * left for the caller to discard.  1/0 (logged).
 */
int backup_install(const char *tmp_path, const char *db_path);

#endif
