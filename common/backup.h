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
};

/* Write a backup of db to path (mode 0600), passphrase from pass_source. 1/0. */
int backup_write(struct db *db, const char *path, const char *pass_source,
    struct backup_info *info);
/* Decrypt and check a backup (tag, SQLite integrity) without restoring. 1/0. */
int backup_verify(const char *path, const char *pass_source,
    struct backup_info *info);
/*
 * Restore a verified backup to db_path.  If db_path exists, the restored
 * store keeps the existing one's high-water marks: CRL numbers never go
 * back (crl_floor), serials it knew are never reused (serials_burned)
 * and the status export sequence continues above its own.  The marks
 * and the audit entry are written into the decrypted copy, which then
 * replaces the store in one rename: killed at any point, the store is
 * the old one or the whole restored one.  The old file is kept as
 * db_path.pre-restore (one left by an interrupted restore, being the
 * store itself, is removed).  Refuses a backup that fails verification.
 * 1/0.
 */
int backup_restore(const char *path, const char *pass_source,
    const char *db_path);

#endif
