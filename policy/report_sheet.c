/*
 * The compliance report as sheets people open in a spreadsheet: one table
 * per sheet (certificates, hsms, ca-keys, refusals, audit; doc/report.md
 * lists the columns), taken from the report document.  Written as CSV
 * (RFC 4180, UTF-8, CRLF, an optional byte order mark) or, when built with
 * libxlsxwriter, as one XLSX workbook with a worksheet per sheet.  Cells
 * are always written as text or numbers, never as formulas.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#ifdef HAVE_XLSXWRITER
#include <xlsxwriter.h>
#endif

#include "i18n.h"
#include "log.h"
#include "report.h"

struct sheet_col {
	const char	*key;
	const char	*title;
};

static const struct sheet_col cert_cols[] = {
	{ "serial", N_("Serial") }, { "subject", N_("Subject") },
	{ "organization_identifier", N_("organizationIdentifier") },
	{ "profile", N_("Profile") }, { "ca", N_("CA") },
	{ "not_before", N_("Not before") }, { "not_after", N_("Not after") },
	{ "status", N_("Status") }, { "revocation_reason", N_("Revocation reason") },
	{ "key_algorithm", N_("Key algorithm") }, { "key_size", N_("Key size") },
	{ "signature_algorithm", N_("Signature algorithm") },
	{ "ca_hsm", N_("CA HSM (CMVP)") }, { "ca_hsm_module", N_("CA HSM module") },
	{ "ca_hsm_status", N_("CA HSM CMVP status") },
	{ "subject_hsm", N_("Subject HSM (CMVP)") },
	{ "subject_hsm_evidence", N_("Subject HSM evidence") },
	{ "subject_hsm_module", N_("Subject HSM module") },
	{ "subject_hsm_status", N_("Subject HSM CMVP status") },
	{ "algorithm_policy_end", N_("Algorithm policy end") },
	{ "at_risk", N_("At risk") }, { "at_risk_why", N_("Why") }, { NULL, NULL }
};
static const struct sheet_col hsm_cols[] = {
	{ "label", N_("Label") }, { "manufacturer", N_("Manufacturer") },
	{ "model", N_("Model") }, { "serial", N_("Serial") },
	{ "firmware", N_("Firmware") }, { "hardware", N_("Hardware") },
	{ "library", N_("Library") }, { "cmvp_cert", N_("CMVP certificate") },
	{ "mapping_source", N_("Mapping source") }, { "vendor", N_("Vendor") },
	{ "module_name", N_("Module") }, { "standard", N_("Standard") },
	{ "level", N_("Level") }, { "effective_status", N_("CMVP status") },
	{ "since", N_("Since") }, { "sunset", N_("Sunset") },
	{ "ml_dsa_ready", N_("ML-DSA ready") }, { "ca_keys", N_("CA keys") },
	{ "warnings", N_("Warnings") }, { NULL, NULL }
};
static const struct sheet_col key_cols[] = {
	{ "name", N_("CA") }, { "kind", N_("Kind") }, { "status", N_("Status") },
	{ "subject", N_("Subject") }, { "not_before", N_("Not before") },
	{ "not_after", N_("Not after") }, { "key_alg", N_("Key algorithm") },
	{ "key_size", N_("Key size") }, { "sig_alg", N_("Signature algorithm") },
	{ "token_label", N_("Token") }, { "token_manufacturer", N_("Manufacturer") },
	{ "token_model", N_("Model") }, { "token_serial", N_("Token serial") },
	{ "provenance_ok", N_("Provenance (ES-KEY-01)") },
	{ "cmvp_cert_at_generation", N_("CMVP at generation") },
	{ "cmvp_status_at_generation", N_("CMVP status at generation") },
	{ "cmvp_cert", N_("CMVP certificate") },
	{ "effective_status", N_("CMVP status") }, { "since", N_("Since") },
	{ "key_destroyed_at", N_("Key destroyed") }, { NULL, NULL }
};
static const struct sheet_col refusal_cols[] = {
	{ "source", N_("Source") }, { "time", N_("Time") }, { "id", N_("Request or entry") },
	{ "ca", N_("CA or object") }, { "what", N_("Profile or action") },
	{ "who", N_("Submitter or operators") }, { "rules", N_("Rules") },
	{ "text", N_("Refusal") }, { NULL, NULL }
};
static const struct sheet_col audit_cols[] = {
	{ "seq", N_("Entry") }, { "time", N_("Time") }, { "operators", N_("Operators") },
	{ "action", N_("Action") }, { "object", N_("Object") },
	{ "result", N_("Result") }, { "detail", N_("Detail") }, { "hash", N_("Hash") },
	{ NULL, NULL }
};

static const struct sheet {
	const char		*name;
	const struct sheet_col	*cols;
} sheets[] = {
	{ "certificates", cert_cols }, { "hsms", hsm_cols },
	{ "ca-keys", key_cols }, { "refusals", refusal_cols },
	{ "audit", audit_cols }
};

int
report_sheet_known(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sheets) / sizeof(sheets[0]); i++) {
		if (strcmp(sheets[i].name, name) == 0) {
			return 1;
		}
	}
	return 0;
}

/* The refused requests and the refusals in the audit chain, one shape. */
static json_t *
refusal_rows(json_t *rep)
{
	json_t *rf = json_object_get(rep, "refusals"), *arr = json_array();
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(rf, "requests"), i, e) {
		json_array_append_new(arr, json_pack("{s:s,s:O,s:O,s:O,s:O,s:O,"
		    "s:O,s:O}", "source", "request", "time",
		    json_object_get(e, "time"), "id", json_object_get(e,
		    "request"), "ca", json_object_get(e, "ca"), "what",
		    json_object_get(e, "profile"), "who", json_object_get(e,
		    "submitter"), "rules", json_object_get(e, "rules"), "text",
		    json_object_get(e, "refusal")));
	}
	json_array_foreach(json_object_get(rf, "audit"), i, e) {
		json_array_append_new(arr, json_pack("{s:s,s:O,s:O,s:O,s:O,s:O,"
		    "s:O,s:O}", "source", "audit", "time",
		    json_object_get(e, "time"), "id", json_object_get(e, "seq"),
		    "ca", json_object_get(e, "object"), "what",
		    json_object_get(e, "action"), "who", json_object_get(e,
		    "operators"), "rules", json_object_get(e, "rules"), "text",
		    json_object_get(e, "detail")));
	}
	return arr;
}

/* The rows of a sheet: a new reference to an array of objects. */
static json_t *
sheet_rows(json_t *rep, const char *name)
{
	if (strcmp(name, "certificates") == 0) {
		return json_incref(json_object_get(json_object_get(rep,
		    "certificates"), "list"));
	}
	if (strcmp(name, "hsms") == 0) {
		return json_incref(json_object_get(json_object_get(rep,
		    "hsm_inventory"), "tokens"));
	}
	if (strcmp(name, "ca-keys") == 0) {
		return json_incref(json_object_get(rep, "ca_keys"));
	}
	if (strcmp(name, "refusals") == 0) {
		return refusal_rows(rep);
	}
	return json_incref(json_object_get(json_object_get(rep, "audit"),
	    "entries_list"));
}

static const struct sheet *
sheet_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sheets) / sizeof(sheets[0]); i++) {
		if (strcmp(sheets[i].name, name) == 0) {
			return &sheets[i];
		}
	}
	return NULL;
}

/* A cell as text: numbers in decimal, yes/no, lists joined by "; ". */
static void
cell_text(json_t *v, char **out, size_t *outlen)
{
	FILE *mem;
	json_t *e;
	size_t i;

	if ((mem = open_memstream(out, outlen)) == NULL) {
		fatalx("out of memory");
	}
	if (json_is_string(v)) {
		fputs(json_string_value(v), mem);
	} else if (json_is_integer(v)) {
		fprintf(mem, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_boolean(v)) {
		fputs(json_is_true(v) ? "yes" : "no", mem);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			char *s = NULL;
			size_t n = 0;

			cell_text(e, &s, &n);
			fprintf(mem, "%s%s", i > 0 ? "; " : "", s);
			free(s);
		}
	}
	fclose(mem);
}

void
report_write_sheet_csv(json_t *rep, const char *name, int bom, FILE *fp)
{
	const struct sheet *sh = sheet_find(name);
	json_t *rows, *row;
	char *s;
	size_t i, c, n;

	if (sh == NULL) {
		return;
	}
	if (bom) {
		fputs("\xef\xbb\xbf", fp);
	}
	for (c = 0; sh->cols[c].key != NULL; c++) {
		fputs(c > 0 ? "," : "", fp);
		report_csv_field(fp, _(sh->cols[c].title), 0);
	}
	fputs("\r\n", fp);
	rows = sheet_rows(rep, name);
	json_array_foreach(rows, i, row) {
		for (c = 0; sh->cols[c].key != NULL; c++) {
			s = NULL;
			cell_text(json_object_get(row, sh->cols[c].key), &s, &n);
			fputs(c > 0 ? "," : "", fp);
			report_csv_field(fp, s, 1);
			free(s);
		}
		fputs("\r\n", fp);
	}
	json_decref(rows);
}

#ifdef HAVE_XLSXWRITER
/* One worksheet: a bold header row, then a row per object. */
static int
xlsx_sheet(lxw_workbook *wb, lxw_format *bold, json_t *rep,
    const struct sheet *sh)
{
	lxw_worksheet *ws;
	json_t *rows, *row, *v;
	char *s;
	size_t i, c, n;
	int ok = 1;

	if ((ws = workbook_add_worksheet(wb, sh->name)) == NULL) {
		return 0;
	}
	for (c = 0; sh->cols[c].key != NULL; c++) {
		ok &= worksheet_write_string(ws, 0, (lxw_col_t)c,
		    _(sh->cols[c].title), bold) == LXW_NO_ERROR;
	}
	worksheet_freeze_panes(ws, 1, 0);
	rows = sheet_rows(rep, sh->name);
	json_array_foreach(rows, i, row) {
		for (c = 0; sh->cols[c].key != NULL; c++) {
			v = json_object_get(row, sh->cols[c].key);
			if (json_is_integer(v)) {
				ok &= worksheet_write_number(ws,
				    (lxw_row_t)(i + 1), (lxw_col_t)c,
				    (double)json_integer_value(v), NULL) ==
				    LXW_NO_ERROR;
				continue;
			}
			s = NULL;
			cell_text(v, &s, &n);
			if (*s != '\0') {
				ok &= worksheet_write_string(ws,
				    (lxw_row_t)(i + 1), (lxw_col_t)c, s,
				    NULL) == LXW_NO_ERROR;
			}
			free(s);
		}
	}
	json_decref(rows);
	return ok;
}

int
report_write_xlsx(json_t *rep, char **out, size_t *outlen)
{
	lxw_workbook *wb = NULL;
	lxw_format *bold;
	const char *tmpdir = getenv("TMPDIR");
	char path[4096];
	FILE *fp = NULL;
	size_t i;
	int fd, ret = 0, ok = 1;
	long len;

	*out = NULL;
	*outlen = 0;
	snprintf(path, sizeof(path), "%s/eseal-report.XXXXXX.xlsx",
	    tmpdir != NULL && *tmpdir != '\0' ? tmpdir : "/tmp");
	if ((fd = mkstemps(path, 5)) == -1) {
		log_warn("report: %s", path);
		return 0;
	}
	close(fd);
	if ((wb = workbook_new(path)) == NULL) {
		log_warnx("report: %s: cannot create the workbook", path);
		goto out;
	}
	bold = workbook_add_format(wb);
	format_set_bold(bold);
	for (i = 0; i < sizeof(sheets) / sizeof(sheets[0]); i++) {
		ok &= xlsx_sheet(wb, bold, rep, &sheets[i]);
	}
	if (workbook_close(wb) != LXW_NO_ERROR || !ok) {
		log_warnx("report: %s: cannot write the workbook", path);
		goto out;
	}
	if ((fp = fopen(path, "rb")) == NULL || fseek(fp, 0, SEEK_END) != 0 ||
	    (len = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
		log_warn("report: %s", path);
		goto out;
	}
	if ((*out = malloc((size_t)len + 1)) == NULL) {
		fatalx("out of memory");
	}
	if (fread(*out, 1, (size_t)len, fp) != (size_t)len) {
		log_warn("report: %s", path);
		free(*out);
		*out = NULL;
		goto out;
	}
	*outlen = (size_t)len;
	ret = 1;
out:
	if (fp != NULL) {
		fclose(fp);
	}
	unlink(path);
	return ret;
}
#else
int
report_write_xlsx(json_t *rep, char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	log_warnx("report: --format xlsx: built without libxlsxwriter "
	    "(configure --with-xlsxwriter; Debian package libxlsxwriter-dev)");
	return 0;
}
#endif
