/*
 * The NIST CMVP registry in the store: import of CMVP snapshots (the JSON
 * layout of NIST-CMVP-API modules.json / historical-modules.json, and our
 * own CSV layout, doc/cmvp-csv.md), per-certificate history of status
 * changes, the effective status of a certificate as of a date, and the
 * binding of a PKCS#11 token identity to a certificate number.
 */
#ifndef ESEAL_CMVP_H
#define ESEAL_CMVP_H

#include <time.h>

#include "db.h"

enum cmvp_status {
	CMVP_UNKNOWN = 0,	/* no record for the number */
	CMVP_ACTIVE,
	CMVP_HISTORICAL,
	CMVP_REVOKED
};

const char *cmvp_status_name(enum cmvp_status s);	/* "Active"... */

struct cmvp_record {
	char	cert_number[16];
	char	vendor[128];
	char	module_name[256];
	char	standard[16];		/* "FIPS 140-2" / "FIPS 140-3" */
	char	status[16];		/* as the snapshot says */
	int	overall_level;		/* 0 if unknown */
	char	module_type[32];
	char	embodiment[48];
	char	sunset_date[11];	/* YYYY-MM-DD or "" */
	char	snapshot_date[11];
	int	local;			/* a locally declared record (test instances only) */
};

struct cmvp_effective {
	enum cmvp_status status;
	char	since[11];		/* date the effective status began, or "" */
	char	reason[160];		/* e.g. "FIPS 140-2 sunset 2026-09-21 (ES-HSM-03)" */
};

/* Look up a record; 1 if found, 0 if not (not logged), -1 on DB error. */
int cmvp_lookup(struct db *db, const char *cert_number, struct cmvp_record *out);
/*
 * Effective status as of date t: Revoked stays Revoked; past its sunset
 * (or any FIPS 140-2 record after 2026-09-21) it is Historical; unknown
 * numbers are Unknown.  1 on success, 0 on DB error.
 */
int cmvp_effective(struct db *db, const char *cert_number, time_t as_of,
    struct cmvp_effective *out);
/*
 * The CMVP certificate number mapped to a token identity (exact match on
 * manufacturer and model; serial and firmware match exactly or "*").
 * Copies it to out (size outsz); 1 found, 0 not mapped, -1 DB error.
 */
int cmvp_token_mapping(struct db *db, const char *manufacturer,
    const char *model, const char *serial, const char *firmware, char *out,
    size_t outsz);

/* eseal-policy subcommands: "cmvp ..." and "hsm ...". Return exit codes. */
int cmd_cmvp(int argc, char **argv);
int cmd_hsm(int argc, char **argv);

#endif
