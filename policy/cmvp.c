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

/* Fill r from the row of st (the columns of cmvp_lookup()'s query). */
static void
record_from_row(sqlite3_stmt *st, struct cmvp_record *r)
{
	copy_col(r->cert_number, sizeof(r->cert_number), st, 0);
	copy_col(r->vendor, sizeof(r->vendor), st, 1);
	copy_col(r->module_name, sizeof(r->module_name), st, 2);
	copy_col(r->standard, sizeof(r->standard), st, 3);
	copy_col(r->status, sizeof(r->status), st, 4);
	r->overall_level = sqlite3_column_int(st, 5);
	copy_col(r->module_type, sizeof(r->module_type), st, 6);
	copy_col(r->embodiment, sizeof(r->embodiment), st, 7);
	copy_col(r->sunset_date, sizeof(r->sunset_date), st, 8);
	copy_col(r->snapshot_date, sizeof(r->snapshot_date), st, 9);
	r->local = sqlite3_column_int(st, 10);
}

int
cmvp_lookup(struct db *db, const char *cert_number, struct cmvp_record *out)
{
	sqlite3_stmt *st;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((st = db_cached(db, "SELECT m.cert_number, m.vendor,"
	    " m.module_name, m.standard, m.status, m.overall_level,"
	    " m.module_type, m.embodiment, m.sunset_date, s.snapshot_date,"
	    " m.local FROM cmvp_modules m JOIN cmvp_snapshots s"
	    " ON s.id = m.snapshot_id WHERE m.cert_number = ?")) == NULL) {
		return -1;
	}
	sqlite3_bind_text(st, 1, cert_number, -1, SQLITE_STATIC);
	if ((ret = db_step_row(db, st, "cmvp lookup")) == 1) {
		record_from_row(st, out);
	}
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
 * Column 0 of the row of sql (at most one; its parameters the n texts of
 * args, NULL binding SQL NULL) into out (outsz bytes), or "" without a
 * row.  1 row found, 0 none, -1 on error (logged with what).
 */
static int
query_text(struct db *db, const char *sql, const char *const *args, int n,
    const char *what, char *out, size_t outsz)
{
	sqlite3_stmt *st;
	int i, rc;

	if (outsz > 0) {
		out[0] = '\0';
	}
	if ((st = db_prepare(db, sql)) == NULL) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
	}
	if ((rc = db_step_row(db, st, what)) == 1) {
		copy_col(out, outsz, st, 0);
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * The snapshot date on which the stored status last became status (from
 * cmvp_history), or "" when no change was recorded.  1/0 (DB error).
 */
static int
status_change_date(struct db *db, const char *cert_number, const char *status,
    char out[11])
{
	const char *args[2];

	args[0] = cert_number;
	args[1] = status;
	return query_text(db, "SELECT changed FROM cmvp_history WHERE"
	    " cert_number = ? AND field = 'status' AND new_value = ?"
	    " ORDER BY changed DESC, id DESC LIMIT 1", args, 2, "cmvp history",
	    out, 11) >= 0;
}

/* The first validation date stored for the record, or "". 1/0. */
static int
first_validation(struct db *db, const char *cert_number, char out[11])
{
	/* Stored as "YYYY-MM-DD;YYYY-MM-DD...", oldest first. */
	if (query_text(db, "SELECT validation_dates FROM cmvp_modules WHERE"
	    " cert_number = ?", &cert_number, 1, "cmvp lookup", out, 11) < 0) {
		return 0;
	}
	if (strlen(out) < 10) {
		out[0] = '\0';
	}
	return 1;
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
	const char *args[4];

	/* A NULL serial or firmware matches only the wildcard rows. */
	args[0] = manufacturer;
	args[1] = model;
	args[2] = serial;
	args[3] = firmware;
	/* Most specific first: serial+firmware, serial, firmware, wildcard. */
	return query_text(db, "SELECT cert_number FROM hsm_map"
	    " WHERE manufacturer = ?1 AND model = ?2"
	    " AND (serial = '*' OR serial = ?3)"
	    " AND (firmware = '*' OR firmware = ?4)"
	    " ORDER BY (serial <> '*') * 2 + (firmware <> '*') DESC LIMIT 1",
	    args, 4, "hsm mapping lookup", out, outsz);
}
