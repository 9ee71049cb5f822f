/*
 * Unit tests of the CMVP registry: cmvp_effective (sunset, FIPS 140-2 end,
 * Revoked, Unknown) and cmvp_token_mapping (exact identity, most specific
 * wins) on a scratch store.  "test-cmvp init DB test|production" creates a
 * store with that instance mode for the shell tests.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/cmvp.h"
#include "db.h"
#include "log.h"
#include "tap.h"
#include "util.h"

static int
init_store(const char *path, const char *mode)
{
	struct db *db;
	int ok;

	if (strcmp(mode, "test") != 0 && strcmp(mode, "production") != 0) {
		fprintf(stderr, "usage: test-cmvp init DB test|production\n");
		return 2;
	}
	if ((db = db_open(path, DB_OPEN_CREATE, 0)) == NULL) {
		return 3;
	}
	ok = db_meta_set(db, "instance_mode", mode);
	db_close(db);
	return ok ? 0 : 3;
}

static time_t
day(const char *s)
{
	time_t t = 0;

	if (!time_parse(s, &t, "test")) {
		abort();
	}
	return t;
}

static void
is_status(struct db *db, const char *cert, const char *date,
    enum cmvp_status want, const char *since)
{
	struct cmvp_effective e;
	int r = cmvp_effective(db, cert, day(date), &e);

	ok(r == 1 && e.status == want && strcmp(e.since, since) == 0,
	    "%s as of %s: %s since \"%s\" (got %s since \"%s\": %s)", cert,
	    date, cmvp_status_name(want), since, cmvp_status_name(e.status),
	    e.since, e.reason);
}

static void
is_map(struct db *db, const char *m, const char *model, const char *serial,
    const char *fw, int want_rc, const char *want)
{
	char out[32];
	int rc = cmvp_token_mapping(db, m, model, serial, fw, out, sizeof(out));

	ok(rc == want_rc && strcmp(out, want) == 0,
	    "map %s/%s/%s/%s -> %d \"%s\" (got %d \"%s\")", m, model,
	    serial ? serial : "NULL", fw ? fw : "NULL", want_rc, want, rc, out);
}

int
main(int argc, char **argv)
{
	struct db *db;
	struct cmvp_record r;
	char path[] = "/tmp/test-cmvp.XXXXXX", file[64];
	int fd;

	log_init("test-cmvp");
	if (argc == 4 && strcmp(argv[1], "init") == 0) {
		return init_store(argv[2], argv[3]);
	}
	if ((fd = mkstemp(path)) == -1) {
		return 3;
	}
	close(fd);
	unlink(path);
	snprintf(file, sizeof(file), "%s", path);
	if ((db = db_open(file, DB_OPEN_CREATE, 0)) == NULL) {
		return 3;
	}
	ok(db_exec(db,
	    "INSERT INTO cmvp_snapshots (id, snapshot_date, source, file_sha256,"
	    " imported, records) VALUES (1, '2026-03-29', 't', '', 'now', 5);"
	    "INSERT INTO cmvp_modules (cert_number, vendor, module_name,"
	    " standard, status, overall_level, sunset_date, validation_dates,"
	    " snapshot_id) VALUES"
	    " ('4962', 'Thales', 'Luna G7', 'FIPS 140-3', 'Active', 3,"
	    "  '2027-02-06', '2025-02-07', 1),"
	    " ('4335', 'Entrust', 'nShield', 'FIPS 140-2', 'Active', 3,"
	    "  '2026-09-21', '2022-10-16;2024-06-18', 1),"
	    " ('3916', 'Yubico, Inc.', 'YubiHSM 2', 'FIPS 140-2', 'Active', 3,"
	    "  '2026-05-02', '2021-05-03', 1),"
	    " ('5000', 'X', 'no sunset', 'FIPS 140-2', 'Active', 2, '', '', 1),"
	    " ('1381', 'Accellion', 'SFT', 'FIPS 140-2', 'Revoked', 1, '', '', 1),"
	    " ('3205', 'Thales', 'Luna K7', '', 'Historical', NULL, '', '', 1);"
	    "INSERT INTO cmvp_history (cert_number, field, old_value, new_value,"
	    " changed, snapshot_id) VALUES ('1381', 'status', 'Active',"
	    " 'Revoked', '2026-03-29', 1);"), "fixture");

	ok(cmvp_lookup(db, "4962", &r) == 1 && strcmp(r.vendor, "Thales") == 0 &&
	    r.overall_level == 3 && strcmp(r.snapshot_date, "2026-03-29") == 0,
	    "lookup 4962");
	ok(cmvp_lookup(db, "9999", &r) == 0, "lookup of an unknown number");

	is_status(db, "4962", "2026-11-22", CMVP_ACTIVE, "2025-02-07");
	is_status(db, "4962", "2027-02-06", CMVP_ACTIVE, "2025-02-07");
	is_status(db, "4962", "2027-02-07", CMVP_HISTORICAL, "2027-02-07");
	is_status(db, "4962", "2027-03-01", CMVP_HISTORICAL, "2027-02-07");
	is_status(db, "4335", "2026-09-21", CMVP_ACTIVE, "2022-10-16");
	is_status(db, "4335", "2026-09-22", CMVP_HISTORICAL, "2026-09-22");
	is_status(db, "4335", "2026-11-22", CMVP_HISTORICAL, "2026-09-22");
	is_status(db, "3916", "2026-05-03", CMVP_HISTORICAL, "2026-05-03");
	is_status(db, "3916", "2026-11-22", CMVP_HISTORICAL, "2026-05-03");
	is_status(db, "5000", "2026-09-21", CMVP_ACTIVE, "");
	is_status(db, "5000", "2026-09-22", CMVP_HISTORICAL, "2026-09-22");
	is_status(db, "1381", "2010-01-01", CMVP_REVOKED, "2026-03-29");
	is_status(db, "3205", "2026-01-01", CMVP_HISTORICAL, "");
	is_status(db, "9999", "2026-01-01", CMVP_UNKNOWN, "");

	ok(db_exec(db,
	    "INSERT INTO hsm_map (manufacturer, model, serial, firmware,"
	    " cert_number, mapped_by, mapped) VALUES"
	    " ('Yubico (www.yubico.com)', 'YubiHSM', '*', '*', '3916', 'a', 'n'),"
	    " ('Yubico (www.yubico.com)', 'YubiHSM', '*', '2.4', '4000', 'a', 'n'),"
	    " ('Yubico (www.yubico.com)', 'YubiHSM', '00012345', '*', '4001',"
	    "  'a', 'n'),"
	    " ('Yubico (www.yubico.com)', 'YubiHSM', '00012345', '2.4', '4002',"
	    "  'a', 'n');"), "mapping fixture");
	is_map(db, "Yubico (www.yubico.com)", "YubiHSM", "00012345", "2.4", 1,
	    "4002");
	is_map(db, "Yubico (www.yubico.com)", "YubiHSM", "00012345", "2.3", 1,
	    "4001");
	is_map(db, "Yubico (www.yubico.com)", "YubiHSM", "00099999", "2.4", 1,
	    "4000");
	is_map(db, "Yubico (www.yubico.com)", "YubiHSM", "00099999", "2.3", 1,
	    "3916");
	is_map(db, "Yubico (www.yubico.com)", "YubiHSM", NULL, NULL, 1, "3916");
	is_map(db, "Yubico, Inc.", "YubiHSM", "00012345", "2.4", 0, "");
	is_map(db, "Yubico (www.yubico.com) ", "YubiHSM", NULL, NULL, 0, "");
	is_map(db, "yubico (www.yubico.com)", "YubiHSM", NULL, NULL, 0, "");
	is_map(db, "Yubico (www.yubico.com)", "YubiHSM 2", NULL, NULL, 0, "");
	is_map(db, "Yubico (www.yubico.com)", "*", NULL, NULL, 0, "");

	ok(strcmp(cmvp_status_name(CMVP_REVOKED), "Revoked") == 0 &&
	    strcmp(cmvp_status_name(CMVP_UNKNOWN), "Unknown") == 0,
	    "status names");
	db_close(db);
	unlink(file);
	snprintf(file, sizeof(file), "%s-wal", path);
	unlink(file);
	snprintf(file, sizeof(file), "%s-shm", path);
	unlink(file);
	return tap_done();
}
