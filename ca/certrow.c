/*
 * The certificates table's owner for the commands: recording a
 * certificate, finding one with its revocation state, walking the
 * status of all a CA issued.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "certrow.h"
#include "log.h"

int
certrow_insert(struct db *db, const struct certrow_new *row)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "INSERT INTO certificates (ca_id, serial,"
	    " request_id, subject, profile, not_before, not_after, der, sha256,"
	    " issued, partition) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
	if (st == NULL) {
		return 0;
	}
	sqlite3_bind_int64(st, 1, row->ca_id);
	sqlite3_bind_text(st, 2, row->serial, -1, SQLITE_TRANSIENT);
	if (row->request_id != NULL) {
		sqlite3_bind_text(st, 3, row->request_id, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_text(st, 4, row->subject, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, row->profile, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, row->not_before, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, row->not_after, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 8, row->der, row->der_len, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, row->sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, row->issued, -1, SQLITE_TRANSIENT);
	if (row->partition >= 0) {
		sqlite3_bind_int(st, 11, row->partition);
	}
	return db_step_done(db, st, NULL);
}

int
certrow_revocation_state(struct db *db, int64_t ca_id, const char *serial,
    int64_t *cert_id, char *since, size_t sincesz)
{
	sqlite3_stmt *st;
	int state = 0;

	st = db_prepare(db, "SELECT c.id, r.time FROM certificates c LEFT JOIN"
	    " revocations r ON r.cert_id = c.id WHERE c.serial = ? AND"
	    " c.ca_id = ?");
	if (st == NULL) {
		return -1;
	}
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, ca_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*cert_id = sqlite3_column_int64(st, 0);
		state = 1;
		if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			snprintf(since, sincesz, "%s",
			    (const char *)sqlite3_column_text(st, 1));
			state = 2;
		}
	}
	sqlite3_finalize(st);
	return state;
}

/* Step the revocations scan rv: *rid is the next cert_id, or INT64_MAX. */
static int
revocation_next(struct db *db, sqlite3_stmt *rv, int64_t *rid)
{
	int rc = sqlite3_step(rv);

	if (rc == SQLITE_ROW) {
		*rid = sqlite3_column_int64(rv, 0);
		return 1;
	}
	*rid = INT64_MAX;
	if (rc != SQLITE_DONE) {
		db_log_error(db, "export: reading revocations");
		return 0;
	}
	return 1;
}

int
certrow_each_status(struct db *db, int64_t ca_id,
    int (*fn)(void *, const struct certrow_status *), void *arg)
{
	struct certrow_status cs;
	sqlite3_stmt *st = NULL, *rv = NULL;
	int64_t id, rid;
	int rc, ok = 0;

	/*
	 * Two ordered scans merged on the certificate's id: the CA's
	 * certificates in id order from the covering index
	 * certificates_export (schema 6), and every revocation in cert_id
	 * (rowid) order.  The same rows as "certificates c LEFT JOIN
	 * revocations r ON r.cert_id = c.id ... ORDER BY c.id", without a
	 * B-tree search of revocations for each certificate (ten million of
	 * them for a CA that size).
	 */
	st = db_prepare(db, "SELECT id, serial FROM certificates INDEXED BY"
	    " certificates_export WHERE ca_id = ? ORDER BY id");
	rv = db_prepare(db, "SELECT cert_id, time, reason, invalidity_date"
	    " FROM revocations NOT INDEXED ORDER BY cert_id");
	if (st == NULL || rv == NULL) {
		goto out;
	}
	sqlite3_bind_int64(st, 1, ca_id);
	if (!revocation_next(db, rv, &rid)) {
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		while (rid < id) {
			if (!revocation_next(db, rv, &rid)) {
				goto out;
			}
		}
		memset(&cs, 0, sizeof(cs));
		cs.serial = (const char *)sqlite3_column_text(st, 1);
		cs.reason = -1;
		if (rid == id) {
			cs.revoked = 1;
			cs.time = (const char *)sqlite3_column_text(rv, 1);
			cs.reason = sqlite3_column_int(rv, 2);
			cs.invalidity_date = (const char *)
			    sqlite3_column_text(rv, 3);
		}
		if (!fn(arg, &cs)) {
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "export: reading certificates");
		goto out;
	}
	ok = 1;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(rv);
	return ok;
}
