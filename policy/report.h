/*
 * The compliance report ("eseal-policy report") inside policy/: report.c
 * builds the report of a store as one JSON document (the sections listed
 * in doc/report.md) and writes it as JSON or CSV; report_html.c writes the
 * same document as one self-contained HTML page with inline SVG charts.
 */
#ifndef ESEAL_REPORT_H
#define ESEAL_REPORT_H

#include <stdio.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "db.h"

/* What a report covers besides the store. */
struct report_opts {
	time_t	as_of;		/* the report date */
	int	horizon_days;	/* forward view of the at-risk section */
	int	audit_entries;	/* list the audit chain's entries too */
	const char *alg_policies_dir;	/* the dated algorithm policies */
	const char *lang;		/* "en" or "ja": report_lang() */
};

/*
 * Build the report of the store db as of the date opts->as_of.  The audit chain
 * is verified against the ncerts certificates certs if ncerts > 0 (an
 * independent check), else against the CA certificates in the store (and
 * the report says so).  Returns a new JSON object, or NULL after a store
 * error was logged.
 */
json_t *report_build(struct db *db, const struct report_opts *opts,
    X509 *const *certs, size_t ncerts);

/*
 * The report's language: lang ("ja" or "en") if not NULL, else "ja" when
 * the locale (LC_ALL, LC_MESSAGES, LANG) is Japanese, else "en".  Makes
 * gettext translate into it (LANGUAGE, and a UTF-8 locale when the
 * process has none).  Returns "ja" or "en".
 */
const char *report_lang(const char *lang);

/* Write rep as indented JSON, keys in report order. */
void report_write_json(json_t *rep, FILE *fp);

/*
 * Write rep as one CSV table "section,item,field,value" (doc/report.md):
 * RFC 4180 quoting, and text that a spreadsheet would run as a formula
 * (starting with = + - @ TAB CR) prefixed with a single quote.
 */
void report_write_csv(json_t *rep, FILE *fp);

/*
 * Write s as one CSV field (RFC 4180 quoting); if text, a leading
 * = + - @ TAB or CR is prefixed with a single quote (no formula).
 */
void report_csv_field(FILE *fp, const char *s, int text);

/* 1 if name is a sheet: certificates, hsms, ca-keys, refusals, audit. */
int report_sheet_known(const char *name);

/*
 * Write the sheet name of rep as one CSV table (a header row of column
 * titles, CRLF, RFC 4180), after a UTF-8 byte order mark if bom.
 */
void report_write_sheet_csv(json_t *rep, const char *name, int bom,
    FILE *fp);

/*
 * Every sheet of rep as one XLSX workbook, into a new buffer *out of
 * *outlen bytes.  1, or 0 (logged) when it cannot be made or when built
 * without libxlsxwriter.
 */
int report_write_xlsx(json_t *rep, char **out, size_t *outlen);

/*
 * Write rep as one self-contained HTML page (no external resource, no
 * script), print styles, inline SVG charts; every string is escaped.
 */
void report_write_html(json_t *rep, FILE *fp);

#endif
