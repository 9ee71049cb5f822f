/*
 * Restoring a backup never lets anything go back.  Before a decrypted
 * backup replaces the store, everything the backup lacks is carried into
 * it: from the store being replaced (CAs and their status, requests,
 * certificates, revocations, CRLs, burned serials, the export sequence)
 * and from witnesses the caller decoded (revocations, serials, CRL numbers
 * and export sequences seen in published status exports and CRLs).  Each
 * revocation applied again is audited with its original reason and time.
 */
#ifndef ESEAL_RESTORE_H
#define ESEAL_RESTORE_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "db.h"

/* One certificate status seen in a witness. */
struct restore_status {
	char	*ca;		/* CA name in the store */
	char	*serial;	/* lower-case hex, no leading zeros */
	int	 revoked;
	time_t	 time;		/* revocation time (revoked only) */
	int	 reason;	/* CRLReason, 0 if absent */
	time_t	 invalidity;	/* 0 if absent */
	char	*source;	/* the witness file */
};

struct restore_number {
	char	*ca;		/* NULL for export sequences */
	int64_t	 number;
	char	*source;
};

/* What the witnesses showed. */
struct restore_seen {
	struct restore_status	*st;
	size_t			 nst;
	struct restore_number	*crl;		/* CRL numbers per CA */
	size_t			 ncrl;
	struct restore_number	*seq;		/* export sequences */
	size_t			 nseq;
};

void restore_seen_add_status(struct restore_seen *s, const char *ca,
    const char *serial, int revoked, time_t time, int reason,
    time_t invalidity, const char *source);
void restore_seen_add_number(struct restore_seen *s, int crl, const char *ca,
    int64_t number, const char *source);
void restore_seen_free(struct restore_seen *s);

/* What the backup lacked (counts of items printed). */
struct restore_summary {
	int	store_newer;	/* the replaced store had something the backup lacks */
	int	cas, certificates, revocations, crl_numbers, sequences;
	int	serials_reserved;
	int64_t	old_head_seq;	/* the replaced store's audit head (0: none) */
	char	old_head_hash[65];
};

/*
 * In db (the decrypted backup, not yet installed), attach the store at
 * old_path (NULL: there is none), open a transaction and carry over
 * everything the backup lacks from it and from seen.  Each item is
 * printed to out as one line ("  revocation of 3c (CA issuing,
 * keyCompromise, 2026-...): from the replaced store: applied again").
 * Revocations applied again are audited under who.  The transaction is
 * left open: the caller commits (after its own audit entry) or rolls
 * back.  1/0 (logged).
 */
int restore_merge(struct db *db, const char *old_path,
    const struct restore_seen *seen, const char *who, FILE *out,
    struct restore_summary *sum);

/*
 * Append the "restore" audit entry (under who, naming the backup file,
 * its SHA-256 and creation time, what was carried over, the replaced
 * store's audit head and note if not NULL) and commit the transaction
 * restore_merge() opened.  1/0 (logged; rolled back).
 */
struct backup_info;
int restore_commit(struct db *db, const char *who, const char *backup_file,
    const struct backup_info *info, const struct restore_summary *sum,
    const char *note);

/* Lower-case hex without leading zeros of a big-endian magnitude (malloc'd). */
char *restore_serial_hex(const unsigned char *mag, size_t len);

#endif
