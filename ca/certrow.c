/*
 * The certificates table's owner for the commands: recording a
 * certificate, finding one with its revocation state, walking the
 * status of all a CA issued.
 */
#include "config.h"

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

int
certrow_each_status(struct db *db, int64_t ca_id,
    int (*fn)(void *, const struct certrow_status *), void *arg)
{
	struct certrow_status cs;
	sqlite3_stmt *st;
	int rc, ok = 0;

	st = db_prepare(db, "SELECT c.serial, r.time, r.reason,"
	    " r.invalidity_date FROM certificates c LEFT JOIN revocations r"
	    " ON r.cert_id = c.id WHERE c.ca_id = ? ORDER BY c.id");
	if (st == NULL) {
		return 0;
	}
	sqlite3_bind_int64(st, 1, ca_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&cs, 0, sizeof(cs));
		cs.serial = (const char *)sqlite3_column_text(st, 0);
		cs.revoked = sqlite3_column_type(st, 1) != SQLITE_NULL;
		cs.time = (const char *)sqlite3_column_text(st, 1);
		cs.reason = cs.revoked ? sqlite3_column_int(st, 2) : -1;
		cs.invalidity_date = (const char *)sqlite3_column_text(st, 3);
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
	return ok;
}
