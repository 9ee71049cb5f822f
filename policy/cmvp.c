/*
 * The CMVP registry as stored (tables cmvp_modules, cmvp_history, hsm_map):
 * record lookup, the effective status of a certificate as of a date (the
 * snapshot status corrected by the sunset date and the FIPS 140-2 end of
 * 2026-09-21, ES-HSM-03) and the exact lookup of a token identity in the
 * operator's mapping table.  Import and the commands are in cmvp_cmd.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmvp.h"
#include "i18n.h"
#include "log.h"

/* CMVP accepts FIPS 140-2 modules through this date (eseal-rules.md 4.1). */
#define FIPS140_2_LAST_DAY	"2026-09-21"
#define FIPS140_2_HISTORICAL	"2026-09-22"

const char *
cmvp_status_name(enum cmvp_status s)
{
	switch (s) {
	case CMVP_ACTIVE:
		return "Active";
	case CMVP_HISTORICAL:
		return "Historical";
	case CMVP_REVOKED:
		return "Revoked";
	case CMVP_UNKNOWN:
		break;
	}
	return "Unknown";
}

static void
copy_col(char *dst, size_t dstsz, sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, dstsz, "%s", s != NULL ? (const char *)s : "");
}

int
cmvp_lookup(struct db *db, const char *cert_number, struct cmvp_record *out)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	memset(out, 0, sizeof(*out));
	st = db_cached(db,
	    "SELECT m.cert_number, m.vendor, m.module_name, m.standard,"
	    " m.status, m.overall_level, m.module_type, m.embodiment,"
	    " m.sunset_date, s.snapshot_date, m.local"
	    " FROM cmvp_modules m JOIN cmvp_snapshots s ON s.id = m.snapshot_id"
	    " WHERE m.cert_number = ?");
	if (st == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, cert_number, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		db_log_error(db, "cmvp lookup");
		goto out;
	}
	copy_col(out->cert_number, sizeof(out->cert_number), st, 0);
	copy_col(out->vendor, sizeof(out->vendor), st, 1);
	copy_col(out->module_name, sizeof(out->module_name), st, 2);
	copy_col(out->standard, sizeof(out->standard), st, 3);
	copy_col(out->status, sizeof(out->status), st, 4);
	out->overall_level = sqlite3_column_int(st, 5);
	copy_col(out->module_type, sizeof(out->module_type), st, 6);
	copy_col(out->embodiment, sizeof(out->embodiment), st, 7);
	copy_col(out->sunset_date, sizeof(out->sunset_date), st, 8);
	copy_col(out->snapshot_date, sizeof(out->snapshot_date), st, 9);
	out->local = sqlite3_column_int(st, 10);
	ret = 1;
 out:
	db_release(st);
	return ret;
}

/* The day after iso (YYYY-MM-DD) into out; "" if iso is not a date. */
static void
next_day(const char *iso, char out[11])
{
	struct tm tm;
	time_t t;
	const char *end;

	out[0] = '\0';
	memset(&tm, 0, sizeof(tm));
	end = strptime(iso, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0') {
		return;
	}
	t = timegm(&tm) + 86400;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/*
 * The snapshot date on which the stored status last became status (from
 * cmvp_history), or "" when no change was recorded.  1/0 (DB error).
 */
static int
status_change_date(struct db *db, const char *cert_number, const char *status,
    char out[11])
{
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	out[0] = '\0';
	st = db_prepare(db,
	    "SELECT changed FROM cmvp_history WHERE cert_number = ?"
	    " AND field = 'status' AND new_value = ?"
	    " ORDER BY changed DESC, id DESC LIMIT 1");
	if (st == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, cert_number, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(out, 11, st, 0);
	} else if (rc != SQLITE_DONE) {
		db_log_error(db, "cmvp history");
		goto out;
	}
	ret = 1;
 out:
	sqlite3_finalize(st);
	return ret;
}

/* The first validation date stored for the record, or "". 1/0. */
static int
first_validation(struct db *db, const char *cert_number, char out[11])
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v;
	int rc, ret = 0;

	out[0] = '\0';
	st = db_prepare(db,
	    "SELECT validation_dates FROM cmvp_modules WHERE cert_number = ?");
	if (st == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, cert_number, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		/* Stored as "YYYY-MM-DD;YYYY-MM-DD...", oldest first. */
		v = sqlite3_column_text(st, 0);
		if (v != NULL && strlen((const char *)v) >= 10) {
			memcpy(out, v, 10);
			out[10] = '\0';
		}
	} else if (rc != SQLITE_DONE) {
		db_log_error(db, "cmvp lookup");
		goto out;
	}
	ret = 1;
 out:
	sqlite3_finalize(st);
	return ret;
}

int
cmvp_effective(struct db *db, const char *cert_number, time_t as_of,
    struct cmvp_effective *out)
{
	struct cmvp_record r;
	struct tm tm;
	char day[11], after_sunset[11], changed[11];
	int found;

	memset(out, 0, sizeof(*out));
	out->status = CMVP_UNKNOWN;
	gmtime_r(&as_of, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);

	if ((found = cmvp_lookup(db, cert_number, &r)) < 0) {
		return 0;
	}
	if (found == 0) {
		snprintf(out->reason, sizeof(out->reason),
		    "no CMVP record for certificate %s", cert_number);
		return 1;
	}

	if (strcmp(r.status, "Revoked") == 0) {
		if (!status_change_date(db, cert_number, "Revoked",
		    out->since)) {
			return 0;
		}
		out->status = CMVP_REVOKED;
		snprintf(out->reason, sizeof(out->reason),
		    "Revoked in the %s snapshot%s", r.snapshot_date,
		    r.local ? " (local declaration)" : "");
		return 1;
	}
	if (strcmp(r.status, "Historical") == 0) {
		if (!status_change_date(db, cert_number, "Historical",
		    out->since)) {
			return 0;
		}
		if (out->since[0] == '\0' && r.sunset_date[0] != '\0' &&
		    strcmp(r.sunset_date, r.snapshot_date) < 0) {
			next_day(r.sunset_date, out->since);
		}
		out->status = CMVP_HISTORICAL;
		snprintf(out->reason, sizeof(out->reason),
		    "Historical in the %s snapshot%s", r.snapshot_date,
		    r.local ? " (local declaration)" : "");
		return 1;
	}

	/*
	 * Active in the snapshot: Historical from the day after the sunset
	 * date, and every FIPS 140-2 record from 2026-09-22 (ES-HSM-03);
	 * the earlier of the two applies.
	 */
	after_sunset[0] = '\0';
	if (r.sunset_date[0] != '\0') {
		next_day(r.sunset_date, after_sunset);
	}
	if (strcmp(r.standard, "FIPS 140-2") == 0 &&
	    strcmp(day, FIPS140_2_HISTORICAL) >= 0 &&
	    (after_sunset[0] == '\0' ||
	    strcmp(FIPS140_2_HISTORICAL, after_sunset) <= 0)) {
		out->status = CMVP_HISTORICAL;
		snprintf(out->since, sizeof(out->since), "%s",
		    FIPS140_2_HISTORICAL);
		snprintf(out->reason, sizeof(out->reason),
		    "FIPS 140-2 sunset %s (ES-HSM-03)", FIPS140_2_LAST_DAY);
		return 1;
	}
	if (after_sunset[0] != '\0' && strcmp(day, after_sunset) >= 0) {
		out->status = CMVP_HISTORICAL;
		snprintf(out->since, sizeof(out->since), "%s", after_sunset);
		snprintf(out->reason, sizeof(out->reason),
		    "past its sunset date %s", r.sunset_date);
		return 1;
	}
	out->status = CMVP_ACTIVE;
	if (!status_change_date(db, cert_number, "Active", changed)) {
		return 0;
	}
	if (changed[0] != '\0') {
		snprintf(out->since, sizeof(out->since), "%s", changed);
	} else if (!first_validation(db, cert_number, out->since)) {
		return 0;
	}
	if (r.sunset_date[0] != '\0') {
		snprintf(out->reason, sizeof(out->reason),
		    "Active in the %s snapshot, sunset %s%s", r.snapshot_date,
		    r.sunset_date, r.local ? " (local declaration)" : "");
	} else {
		snprintf(out->reason, sizeof(out->reason),
		    "Active in the %s snapshot%s", r.snapshot_date,
		    r.local ? " (local declaration)" : "");
	}
	return 1;
}

int
cmvp_token_mapping(struct db *db, const char *manufacturer,
    const char *model, const char *serial, const char *firmware, char *out,
    size_t outsz)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	if (outsz > 0) {
		out[0] = '\0';
	}
	/* Most specific first: serial+firmware, serial, firmware, wildcard. */
	st = db_prepare(db,
	    "SELECT cert_number FROM hsm_map"
	    " WHERE manufacturer = ?1 AND model = ?2"
	    " AND (serial = '*' OR serial = ?3)"
	    " AND (firmware = '*' OR firmware = ?4)"
	    " ORDER BY (serial <> '*') * 2 + (firmware <> '*') DESC LIMIT 1");
	if (st == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, manufacturer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
	/* A NULL serial or firmware matches only the wildcard rows. */
	if (serial != NULL) {
		sqlite3_bind_text(st, 3, serial, -1, SQLITE_STATIC);
	}
	if (firmware != NULL) {
		sqlite3_bind_text(st, 4, firmware, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		db_log_error(db, "hsm mapping lookup");
		goto out;
	}
	copy_col(out, outsz, st, 0);
	ret = 1;
 out:
	sqlite3_finalize(st);
	return ret;
}
