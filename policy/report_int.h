/*
 * What the parts of "eseal-policy report" share inside policy/: the build
 * state (store, as-of date, failure flag) and the small accessors of
 * report.c, used by report_risk.c (the per-certificate list, the
 * certificates at risk now and within the horizon) and report_sheet.c
 * (one table per sheet, as CSV or XLSX).
 */
#ifndef ESEAL_REPORT_INT_H
#define ESEAL_REPORT_INT_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "db.h"

struct rep {
	struct db	*db;
	time_t		 as_of;
	char		 as_of_str[32];	/* YYYY-MM-DDTHH:MM:SSZ */
	int		 horizon_days;	/* forward view of the at-risk section */
	int		 audit_entries;	/* add the audit chain's entries */
	json_t		*alg_policies;	/* report_alg_policies() */
	const char	*lang;		/* "en" or "ja" */
	int		 failed;	/* a store error was logged */
};

/* report.c */
const char *rep_col(sqlite3_stmt *st, int i);	/* "" for NULL */
sqlite3_stmt *rep_prep(struct rep *r, const char *sql);
int rep_row(struct rep *r, sqlite3_stmt *st);
const char *rep_jstr(json_t *o, const char *key);	/* "" if absent */
/* Lower-case hex serial of a certificate DER into out ("" if unreadable). */
void report_cert_serial(const unsigned char *der, int len, char *out,
    size_t outsz);

/* report_risk.c */
/*
 * One object per issued certificate (the certificates sheet, doc/report.md)
 * with the CMVP status as of r->as_of of the HSM of its CA key (from keys,
 * the ca_keys section) and of its subject key (the request's
 * --subject-hsm, or the CMVP number an attestation proved).
 */
json_t *report_cert_list(struct rep *r, json_t *keys);
/*
 * The at-risk section: every valid certificate of list whose CA key or
 * subject key is on a Historical or Revoked HSM as of r->as_of, and every
 * valid subordinate CA certificate signed by a key of keys on one.
 */
json_t *report_at_risk(struct rep *r, json_t *keys, json_t *list);
/*
 * The forward view: valid certificates of list not at risk now whose CA
 * or subject HSM leaves Active within r->horizon_days while they are still
 * valid, with the date, and their count per month of the window.
 */
json_t *report_at_risk_ahead(struct rep *r, json_t *list);

/* report_alg.c */
/*
 * The dated algorithm policies (*.json) of dir, by file name, as an array;
 * empty when dir does not exist; NULL (logged) when a file is malformed.
 */
json_t *report_alg_policies(const char *dir);
/* Set "algorithm_policy_end" and "algorithm_policies" of a certificate row. */
void report_alg_cert(json_t *pols, json_t *row);
/*
 * The algorithm horizon section: the policies, every CA key's end date,
 * the valid certificates of list that leave the policies before notAfter.
 */
json_t *report_alg_horizon(json_t *pols, json_t *keys, json_t *list);

#endif
