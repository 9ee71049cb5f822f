/*
 * The compliance report as one self-contained HTML page: inline CSS
 * (screen and print), inline SVG charts (CMVP status of the HSMs at month
 * ends around the as-of date, certificates by algorithm, by profile and by
 * expiry month), no script, no external resource.  Every string taken
 * from the report (that is, from the store) goes through esc().
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "i18n.h"
#include "report.h"

struct column {
	const char	*key;
	const char	*title;
};

static const char *const status_names[] = { N_("Active"), N_("Historical"),
    N_("Revoked"), N_("Unknown"), N_("Unmapped") };
static const char *const status_colours[] = { "#2f855a", "#c05621",
    "#c53030", "#4a5568", "#a0aec0" };

static void
esc(FILE *fp, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\'':
			fputs("&#39;", fp);
			break;
		default:
			fputc(*s, fp);
		}
	}
}

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static json_int_t
num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void
value(FILE *fp, json_t *v)
{
	json_t *e;
	size_t i;

	if (json_is_string(v)) {
		esc(fp, json_string_value(v));
	} else if (json_is_integer(v)) {
		fprintf(fp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_boolean(v)) {
		fputs(json_is_true(v) ? _("yes") : _("no"), fp);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			fputs(i > 0 ? ", " : "", fp);
			value(fp, e);
		}
	}
}

/* The CSS class of a status badge: only known names become classes. */
static int
status_index(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (strcmp(s, status_names[i]) == 0) {
			return (int)i;
		}
	}
	return 3;
}

/*
 * A CMVP status in the report's language, with the English term beside a
 * translation ("履歴扱い (Historical)"): the CMVP's own words stay findable.
 */
static void
status_text(FILE *fp, const char *status)
{
	const char *t = *status != '\0' ? _(status) : "?";

	esc(fp, t);
	if (*status != '\0' && strcmp(t, status) != 0) {
		fputs(" (", fp);
		esc(fp, status);
		fputs(")", fp);
	}
}

static void
badge(FILE *fp, const char *status, const char *since)
{
	fprintf(fp, "<span class=\"st s%d\">", status_index(status));
	status_text(fp, status);
	fputs("</span>", fp);
	if (since != NULL && *since != '\0') {
		fprintf(fp, " %s ", _("since"));
		esc(fp, since);
	}
}

/*
 * A value the report's JSON keeps in English (a certificate or CRL state,
 * the audit result), in the reader's language; any other value as it is.
 */
static const char *
word(const char *v)
{
	static const char *const known[] = { N_("good"), N_("revoked"),
	    N_("expired"), N_("issued_after_as_of"), N_("fresh"), N_("stale"),
	    N_("no CRL signed"), N_("intact"), N_("TAMPERED"),
	    N_("the CA certificates given (independent check)"),
	    N_("store copies: not an independent check") };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(v, known[i]) == 0) {
			return _(known[i]);
		}
	}
	return v;
}

/* A table of the objects of arr, the given columns; empty: a note. */
static void
table(FILE *fp, json_t *arr, const struct column *cols, const char *empty)
{
	json_t *row;
	size_t i, c;

	if (json_array_size(arr) == 0) {
		fprintf(fp, "<p class=\"none\">%s</p>\n", empty);
		return;
	}
	fputs("<table><thead><tr>", fp);
	for (c = 0; cols[c].key != NULL; c++) {
		fprintf(fp, "<th>%s</th>", _(cols[c].title));
	}
	fputs("</tr></thead><tbody>\n", fp);
	json_array_foreach(arr, i, row) {
		fputs("<tr>", fp);
		for (c = 0; cols[c].key != NULL; c++) {
			fputs("<td>", fp);
			if (strcmp(cols[c].key, "effective_status") == 0 ||
			    strcmp(cols[c].key, "hsm_status") == 0) {
				badge(fp, str(row, cols[c].key), NULL);
			} else if (strcmp(cols[c].key, "state") == 0) {
				esc(fp, word(str(row, cols[c].key)));
			} else {
				value(fp, json_object_get(row, cols[c].key));
			}
			fputs("</td>", fp);
		}
		fputs("</tr>\n", fp);
	}
	fputs("</tbody></table>\n", fp);
}

/* Two-column table: label, value of a key of o. */
static void
kv(FILE *fp, const char *label, json_t *o, const char *key)
{
	fprintf(fp, "<tr><th>%s</th><td>", label);
	value(fp, json_object_get(o, key));
	fputs("</td></tr>\n", fp);
}

static void
svg_open(FILE *fp, const char *cls, int w, int h, const char *title)
{
	fprintf(fp, "<figure><svg class=\"%s\" xmlns=\"http://www.w3.org/2000/"
	    "svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	    "role=\"img\" aria-label=\"", cls, w, h, w, h);
	esc(fp, title);
	fputs("\"><title>", fp);
	esc(fp, title);
	fputs("</title>\n", fp);
}

/* Horizontal bars of an object of counts. */
static void
hbars(FILE *fp, const char *title, json_t *counts)
{
	const char *k;
	json_t *v;
	json_int_t max = 1;
	int i = 0, w, y;

	if (json_object_size(counts) == 0) {
		fputs("<p class=\"none\">", fp);
		fprintf(fp, _("%s: none."), title);
		fputs("</p>\n", fp);
		return;
	}
	json_object_foreach(counts, k, v) {
		if (json_integer_value(v) > max) {
			max = json_integer_value(v);
		}
	}
	svg_open(fp, "chart hbars", 700, 34 + 26 * (int)json_object_size(counts),
	    title);
	fputs("<text x=\"0\" y=\"16\" class=\"t\">", fp);
	esc(fp, title);
	fputs("</text>\n", fp);
	json_object_foreach(counts, k, v) {
		w = (int)(400 * json_integer_value(v) / max);
		y = 28 + 26 * i++;
		fprintf(fp, "<text x=\"0\" y=\"%d\">", y + 14);
		esc(fp, word(k));
		fprintf(fp, "</text><rect class=\"bar\" x=\"230\" y=\"%d\" "
		    "width=\"%d\" height=\"18\"><title>", y, w > 1 ? w : 1);
		esc(fp, word(k));
		fprintf(fp, ": %" JSON_INTEGER_FORMAT "</title></rect>"
		    "<text x=\"%d\" y=\"%d\">%" JSON_INTEGER_FORMAT "</text>\n",
		    json_integer_value(v), 236 + (w > 1 ? w : 1), y + 14,
		    json_integer_value(v));
	}
	fputs("</svg></figure>\n", fp);
}

/* Vertical bars of an object of counts (keys in order, e.g. months). */
static void
vbars(FILE *fp, const char *title, json_t *counts)
{
	const char *k;
	json_t *v;
	json_int_t max = 1;
	int n = (int)json_object_size(counts), i = 0, bw, x, h, w;

	if (n == 0) {
		fprintf(fp, "<p class=\"none\">%s: none.</p>\n", title);
		return;
	}
	json_object_foreach(counts, k, v) {
		if (json_integer_value(v) > max) {
			max = json_integer_value(v);
		}
	}
	bw = n > 40 ? 16 : 28;
	w = 60 + n * (bw + 6);
	svg_open(fp, "chart vbars", w > 300 ? w : 300, 250, title);
	fputs("<text x=\"0\" y=\"16\" class=\"t\">", fp);
	esc(fp, title);
	fprintf(fp, "</text>\n<line class=\"axis\" x1=\"40\" y1=\"190\" "
	    "x2=\"%d\" y2=\"190\"/><text x=\"0\" y=\"44\">%" JSON_INTEGER_FORMAT
	    "</text><text x=\"0\" y=\"190\">0</text>\n", w - 10, max);
	json_object_foreach(counts, k, v) {
		h = (int)(150 * json_integer_value(v) / max);
		x = 50 + i++ * (bw + 6);
		fprintf(fp, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" "
		    "height=\"%d\"><title>", x, 190 - (h > 1 ? h : 1), bw,
		    h > 1 ? h : 1);
		esc(fp, k);
		fprintf(fp, ": %" JSON_INTEGER_FORMAT "</title></rect>"
		    "<text x=\"%d\" y=\"%d\" class=\"n\">%" JSON_INTEGER_FORMAT
		    "</text>", json_integer_value(v), x + bw / 2,
		    186 - (h > 1 ? h : 1), json_integer_value(v));
		fprintf(fp, "<text class=\"lbl\" transform=\"translate(%d,198) "
		    "rotate(60)\">", x + bw / 2 - 4);
		esc(fp, k);
		fputs("</text>\n", fp);
	}
	fputs("</svg></figure>\n", fp);
}

/* Stacked bars: the tokens' effective CMVP status at each month end. */
static void
timeline_chart(FILE *fp, json_t *tl, const char *as_of)
{
	json_t *months = json_object_get(tl, "months"), *m;
	json_int_t max = 1, tot, c;
	size_t i, s, n = json_array_size(months);
	const int x0 = 40, y0 = 30, ph = 180, bw = 14, step = 17;
	int y, h;

	json_array_foreach(months, i, m) {
		tot = 0;
		for (s = 0; s < 5; s++) {
			tot += num(m, status_names[s]);
		}
		if (tot > max) {
			max = tot;
		}
	}
	svg_open(fp, "chart timeline", x0 + (int)n * step + 60, 300,
	    _("Effective CMVP status of the HSMs at each month end"));
	fprintf(fp, "<text x=\"0\" y=\"16\" class=\"t\">%s</text>\n"
	    "<line class=\"axis\" "
	    "x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><text x=\"0\" y=\"%d\">%"
	    JSON_INTEGER_FORMAT "</text><text x=\"0\" y=\"%d\">0</text>\n",
	    _("Tokens by effective CMVP status at each month end"), x0,
	    y0 + ph, x0 + (int)n * step, y0 + ph, y0 + 10, max, y0 + ph);
	json_array_foreach(months, i, m) {
		int x = x0 + 2 + (int)i * step;

		y = y0 + ph;
		for (s = 0; s < 5; s++) {
			if ((c = num(m, status_names[s])) == 0) {
				continue;
			}
			h = (int)(ph * c / max);
			y -= h;
			fprintf(fp, "<rect class=\"seg\" x=\"%d\" y=\"%d\" "
			    "width=\"%d\" height=\"%d\" fill=\"%s\"><title>",
			    x, y, bw, h, status_colours[s]);
			esc(fp, str(m, "month_end"));
			fprintf(fp, ": %" JSON_INTEGER_FORMAT " ", c);
			status_text(fp, status_names[s]);
			fputs("</title></rect>\n", fp);
		}
		if (strncmp(str(m, "month_end"), as_of, 7) == 0) {
			fprintf(fp, "<line class=\"now\" x1=\"%d\" y1=\"%d\" "
			    "x2=\"%d\" y2=\"%d\"/><text x=\"%d\" y=\"%d\" "
			    "class=\"n\">%s</text>\n", x + bw / 2, y0 - 4,
			    x + bw / 2, y0 + ph, x + bw / 2, y0 - 8,
			    _("as of"));
		}
		if (i % 6 == 0) {
			fprintf(fp, "<text class=\"lbl\" x=\"%d\" y=\"%d\">",
			    x - 6, y0 + ph + 16);
			esc(fp, str(m, "month_end"));
			fputs("</text>\n", fp);
		}
	}
	for (s = 0; s < 5; s++) {
		fprintf(fp, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" "
		    "fill=\"%s\"/><text x=\"%d\" y=\"%d\">",
		    x0 + (int)s * 120, y0 + ph + 46, status_colours[s],
		    x0 + (int)s * 120 + 16, y0 + ph + 57);
		status_text(fp, status_names[s]);
		fputs("</text>\n", fp);
	}
	fputs("</svg></figure>\n", fp);
}

/* The document head; lang is the report's language ("en", "ja"). */
static void
page_head(FILE *fp, const char *lang)
{
	fprintf(fp, "<!DOCTYPE html>\n<html lang=\"%s\">",
	    strcmp(lang, "ja") == 0 ? "ja" : "en");
	fputs("<head><meta charset=\"utf-8\">"
	    "\n<meta name=\"viewport\" content=\"width=device-width\">\n"
	    "<title>", fp);
	esc(fp, _("eseal compliance report"));
	fputs("</title>\n<style>\n"
	    "body{font-family:\"DejaVu Sans\",Arial,Helvetica,sans-serif;"
	    "margin:2em auto;padding:0 1em;color:#1a202c;max-width:78em;"
	    "line-height:1.4}\n"
	    "h1{font-size:1.7em;margin-bottom:.2em}"
	    "h2{font-size:1.3em;border-bottom:2px solid #2b6cb0;margin-top:1.8em;"
	    "padding-bottom:.1em}h3{font-size:1.05em;margin-top:1.2em}\n"
	    "table{border-collapse:collapse;font-size:.82em;margin:.4em 0 1em}\n"
	    "th,td{border:1px solid #cbd5e0;padding:.25em .45em;text-align:left;"
	    "vertical-align:top;overflow-wrap:break-word}\n"
	    "thead th{background:#edf2f7}tbody tr:nth-child(even){"
	    "background:#f7fafc}\n"
	    "table.kv th{background:#edf2f7;width:16em;font-weight:600}\n"
	    ".card{border:1px solid #a0aec0;border-radius:4px;padding:.3em .8em;"
	    "margin:.8em 0;break-inside:avoid}\n.card h3{margin:.3em 0}\n"
	    ".st{display:inline-block;padding:0 .45em;border-radius:3px;"
	    "color:#fff;font-weight:600}\n"
	    ".s0{background:#2f855a}.s1{background:#c05621}.s2{background:#c53030}"
	    ".s3{background:#4a5568}.s4{background:#a0aec0;color:#1a202c}\n"
	    ".warn{color:#9b2c2c;font-weight:600}.ok{color:#276749}"
	    ".none{color:#4a5568;font-style:italic}\n"
	    ".mech{font-size:.78em;color:#4a5568}\n"
	    "nav ol{columns:3;font-size:.9em}nav a{color:#2b6cb0}\n"
	    "figure{margin:.6em 0}svg.chart{max-width:100%;height:auto;"
	    "font-size:12px}\n"
	    "svg .bar{fill:#2b6cb0}svg .t{font-weight:bold;font-size:13px}"
	    "svg .n{font-size:11px;text-anchor:middle}svg .lbl{font-size:10px}\n"
	    "svg .axis{stroke:#4a5568}svg .now{stroke:#1a202c;"
	    "stroke-dasharray:3 2}\n"
	    ".figures{display:flex;flex-wrap:wrap;gap:1em}\n"
	    "footer{margin-top:2em;font-size:.8em;color:#4a5568}\n"
	    "@media print{body{margin:0;max-width:none;font-size:10pt}"
	    "nav{display:none}h2{break-after:avoid}"
	    "table,figure,.card{break-inside:avoid}"
	    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
	    "@page{size:A4 landscape;margin:12mm}}\n"
	    "</style></head><body>\n", fp);
}

static void
header_section(FILE *fp, json_t *h, json_t *sum)
{
	static const struct column nav[] = {
		{ "summary", N_("Summary") },
		{ "hsm", N_("HSM inventory") },
		{ "timeline", N_("CMVP status over time") },
		{ "keys", N_("CA keys") },
		{ "certs", N_("Issued certificates") },
		{ "risk", N_("Certificates at risk") },
		{ "refusals", N_("Refusals") },
		{ "approvals", N_("Approvals") },
		{ "audit", N_("Audit chain") },
		{ "freshness", N_("CRL and OCSP freshness") },
		{ NULL, NULL }
	};
	size_t n;

	json_t *snap;
	size_t i;

	fprintf(fp, "<header><h1>%s</h1>\n<table class=\"kv\">",
	    _("eseal compliance report"));
	kv(fp, _("Instance"), h, "instance_id");
	kv(fp, _("Mode"), h, "mode");
	kv(fp, _("As of"), h, "as_of");
	kv(fp, _("Generated"), h, "generated");
	fprintf(fp, "<tr><th>%s</th><td>", _("CMVP data snapshots"));
	if (json_array_size(json_object_get(h, "cmvp_snapshots")) == 0) {
		fputs("<span class=\"warn\">no CMVP snapshot imported</span>", fp);
	}
	json_array_foreach(json_object_get(h, "cmvp_snapshots"), i, snap) {
		fputs(i > 0 ? "<br>" : "", fp);
		esc(fp, str(snap, "snapshot_date"));
		fputs(" (", fp);
		esc(fp, str(snap, "source"));
		fprintf(fp, ", %" JSON_INTEGER_FORMAT " records%s)",
		    num(snap, "records"), json_is_true(json_object_get(snap,
		    "local")) ? ", local declaration" : "");
	}
	fputs("</td></tr></table></header>\n", fp);
	fputs("<nav><ol>", fp);
	for (n = 0; nav[n].key != NULL; n++) {
		fprintf(fp, "<li><a href=\"#%s\">%s</a></li>", nav[n].key,
		    _(nav[n].title));
	}
	fputs("</ol></nav>\n", fp);

	fprintf(fp, "<h2 id=\"summary\">%s</h2>\n<table class=\"kv\">",
	    _("Summary"));
	kv(fp, _("HSM tokens"), sum, "tokens");
	fprintf(fp, "<tr><th>%s</th>", _("Tokens not Active"));
	fprintf(fp, "<td%s>%" JSON_INTEGER_FORMAT
	    "</td></tr>\n", num(sum, "tokens_not_active") ? " class=\"warn\"" :
	    "", num(sum, "tokens_not_active"));
	kv(fp, _("Tokens ready for ML-DSA"), sum, "tokens_ml_dsa_ready");
	fprintf(fp, "<tr><th>%s</th>", _("HSM warnings"));
	fprintf(fp, "<td%s>%" JSON_INTEGER_FORMAT
	    "</td></tr>\n", num(sum, "hsm_warnings") ? " class=\"warn\"" : "",
	    num(sum, "hsm_warnings"));
	kv(fp, _("CA keys"), sum, "ca_keys");
	fprintf(fp, "<tr><th>%s</th>", _("Issued certificates"));
	fprintf(fp, "<td>%s: %"
	    JSON_INTEGER_FORMAT "</td></tr>\n", _("Total"), num(sum, "certificates"));
	fprintf(fp, "<tr><th>%s</th>", _("Certificates at risk"));
	fprintf(fp, "<td%s>%"
	    JSON_INTEGER_FORMAT "</td></tr>\n", num(sum,
	    "certificates_at_risk") ? " class=\"warn\"" : "", num(sum,
	    "certificates_at_risk"));
	kv(fp, _("Refused requests"), sum, "refused_requests");
	kv(fp, _("Refusals in the audit chain"), sum, "refusals_in_audit");
	fprintf(fp, "<tr><th>%s</th>", _("Stale CRLs"));
	fprintf(fp, "<td%s>%" JSON_INTEGER_FORMAT
	    "</td></tr>\n", num(sum, "stale_crls") ? " class=\"warn\"" : "",
	    num(sum, "stale_crls"));
	fprintf(fp, "<tr><th>%s</th>", _("Audit chain"));
	fprintf(fp, "<td class=\"%s\">",
	    strcmp(str(sum, "audit_chain"), "intact") == 0 ? "ok" : "warn");
	esc(fp, str(sum, "audit_chain"));
	fputs("</td></tr></table>\n", fp);
}

/* One row: per post-quantum family, offered or not, and how far. */
static void
pqc_row(FILE *fp, json_t *pqc)
{
	const char *k;
	json_t *f;
	int first = 1;

	fprintf(fp, "<tr><th>%s</th><td>", _("Post-quantum mechanisms"));
	json_object_foreach(json_object_get(pqc, "families"), k, f) {
		fputs(first ? "" : "<br>", fp);
		first = 0;
		esc(fp, k);
		fprintf(fp, ": %s", json_is_true(json_object_get(f, "ready")) ?
		    _("offered") : json_is_true(json_object_get(f,
		    "key_pair_gen")) || json_is_true(json_object_get(f,
		    "operation")) ? _("partly (key generation or operation "
		    "missing)") : _("not offered"));
		fputs(" <span class=\"mech\">(", fp);
		esc(fp, str(f, "parameter_sets"));
		fputs(")</span>", fp);
	}
	fputs("</td></tr>\n", fp);
}

static void
token_card(FILE *fp, json_t *t)
{
	json_t *w;
	size_t i;

	fprintf(fp, "<section class=\"card\"><h3>%s ", _("Token"));
	esc(fp, str(t, "label"));
	fprintf(fp, " &mdash; %s ", _("serial"));
	esc(fp, str(t, "serial"));
	fputs("</h3>\n<table class=\"kv\">", fp);
	fprintf(fp, "<tr><th>%s</th><td>", _("Identity"));
	esc(fp, str(t, "manufacturer"));
	fputs(" / ", fp);
	esc(fp, str(t, "model"));
	fprintf(fp, ", %s ", _("firmware"));
	esc(fp, str(t, "firmware"));
	fprintf(fp, ", %s ", _("hardware"));
	esc(fp, str(t, "hardware"));
	fputs("</td></tr>\n", fp);
	kv(fp, _("Library"), t, "library");
	fprintf(fp, "<tr><th>%s</th><td>", _("CMVP certificate"));
	esc(fp, *str(t, "cmvp_cert") != '\0' ? str(t, "cmvp_cert") :
	    _("none (unmapped)"));
	fputs(" <span class=\"mech\">(", fp);
	esc(fp, str(t, "mapping_source"));
	fputs(")</span>", fp);
	if (*str(t, "module_name") != '\0') {
		fputs("<br>", fp);
		esc(fp, str(t, "vendor"));
		fputs(": ", fp);
		esc(fp, str(t, "module_name"));
	}
	fprintf(fp, "</td></tr>\n<tr><th>%s</th><td>", _("Standard, level"));
	esc(fp, str(t, "standard"));
	if (num(t, "level") > 0) {
		fprintf(fp, ", %s %" JSON_INTEGER_FORMAT, _("level"),
		    num(t, "level"));
	}
	fprintf(fp, "</td></tr>\n<tr><th>%s</th><td>", _("Effective status"));
	badge(fp, str(t, "effective_status"), str(t, "since"));
	if (*str(t, "reason") != '\0') {
		fputs(" <span class=\"mech\">(", fp);
		esc(fp, str(t, "reason"));
		fputs(")</span>", fp);
	}
	fputs("</td></tr>\n", fp);
	kv(fp, _("Sunset date"), t, "sunset");
	fprintf(fp, "<tr><th>%s</th>", _("ML-DSA ready"));
	fprintf(fp, "<td>%s (CKM_ML_DSA_KEY_PAIR_GEN "
	    "%s, CKM_ML_DSA %s)</td></tr>\n",
	    json_is_true(json_object_get(t, "ml_dsa_ready")) ? "yes" : "no",
	    json_is_true(json_object_get(t, "ml_dsa_key_pair_gen")) ? "present" :
	    "absent", json_is_true(json_object_get(t, "ml_dsa_sign")) ?
	    "present" : "absent");
	pqc_row(fp, json_object_get(t, "pqc"));
	fprintf(fp, "<tr><th>%s</th>", _("Mechanisms"));
	fprintf(fp, "<td>%" JSON_INTEGER_FORMAT
	    "<br><span class=\"mech\">", num(t, "mechanism_count"));
	value(fp, json_object_get(t, "mechanisms"));
	fputs("</span></td></tr>\n", fp);
	kv(fp, _("CA keys held"), t, "ca_keys");
	fprintf(fp, "<tr><th>%s</th><td>", _("Seen"));
	esc(fp, str(t, "first_seen"));
	fputs(" &ndash; ", fp);
	esc(fp, str(t, "last_seen"));
	fprintf(fp, "</td></tr>\n<tr><th>%s</th><td>", _("Warnings"));
	if (json_array_size(json_object_get(t, "warnings")) == 0) {
		fputs(_("none"), fp);
	}
	json_array_foreach(json_object_get(t, "warnings"), i, w) {
		fputs(i > 0 ? "<br>" : "", fp);
		fputs("<span class=\"warn\">WARNING</span> ", fp);
		esc(fp, json_string_value(w));
	}
	fputs("</td></tr></table></section>\n", fp);
}

static void
ca_key_rows(FILE *fp, json_t *keys)
{
	json_t *k;
	size_t i;

	if (json_array_size(keys) == 0) {
		fputs("<p class=\"none\">No CA key.</p>\n", fp);
		return;
	}
	static const char *const heads[] = { N_("CA"), N_("Kind, status"),
	    N_("Token"), N_("Key, signature"), N_("notAfter"),
	    N_("Provenance (ES-KEY-01)"), N_("CMVP at generation"),
	    N_("CMVP as of the date"), N_("Key destroyed") };
	size_t h;

	fputs("<table><thead><tr>", fp);
	for (h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		fprintf(fp, "<th>%s</th>", _(heads[h]));
	}
	fputs("</tr></thead><tbody>\n", fp);
	json_array_foreach(keys, i, k) {
		fputs("<tr><td><b>", fp);
		esc(fp, str(k, "name"));
		fputs("</b><br>", fp);
		esc(fp, str(k, "subject"));
		fputs("</td><td>", fp);
		esc(fp, str(k, "kind"));
		fputs(", ", fp);
		esc(fp, str(k, "status"));
		fputs("</td><td>", fp);
		esc(fp, str(k, "token_label"));
		fputs("<br>", fp);
		esc(fp, str(k, "token_serial"));
		fprintf(fp, "<br>%s ", _("key id"));
		esc(fp, str(k, "key_id"));
		fputs("</td><td>", fp);
		esc(fp, str(k, "key_alg"));
		fprintf(fp, " (%" JSON_INTEGER_FORMAT " %s)<br>",
		    num(k, "key_size"), _("bits"));
		esc(fp, str(k, "sig_alg"));
		fputs("</td><td>", fp);
		esc(fp, str(k, "not_after"));
		fprintf(fp, "</td><td class=\"%s\">LOCAL %s<br>ALWAYS_SENSITIVE "
		    "%s<br>NEVER_EXTRACTABLE %s<br>EXTRACTABLE %s</td><td>",
		    json_is_true(json_object_get(k, "provenance_ok")) ? "ok" :
		    "warn",
		    json_is_true(json_object_get(k, "prov_local")) ? "yes" : "no",
		    json_is_true(json_object_get(k, "prov_always_sensitive")) ?
		    "yes" : "no",
		    json_is_true(json_object_get(k, "prov_never_extractable")) ?
		    "yes" : "no",
		    json_is_true(json_object_get(k, "prov_extractable")) ?
		    "yes" : "no");
		esc(fp, str(k, "cmvp_cert_at_generation"));
		fputs(" ", fp);
		badge(fp, str(k, "cmvp_status_at_generation"), NULL);
		fputs("</td><td>", fp);
		esc(fp, str(k, "cmvp_cert"));
		fputs(" ", fp);
		badge(fp, str(k, "effective_status"), str(k, "since"));
		fputs("</td><td>", fp);
		if (json_is_true(json_object_get(k, "key_destroyed"))) {
			fprintf(fp, "%s, ", _("yes"));
			esc(fp, str(k, "key_destroyed_at"));
		} else {
			fputs(_("no"), fp);
		}
		fputs("</td></tr>\n", fp);
	}
	fputs("</tbody></table>\n", fp);
}

/* The algorithm horizon: policies, CA keys, certificates that leave. */
static void
alg_part(FILE *fp, json_t *ah)
{
	static const struct column pol_cols[] = {
		{ "policy", N_("Policy") }, { "edition", N_("Edition") },
		{ "source", N_("Source") }, { "file", N_("File") }, { NULL, NULL }
	};
	static const struct column key_cols[] = {
		{ "name", N_("CA") }, { "key_alg", N_("Key") }, { "key_size", N_("Bits") },
		{ "sig_alg", N_("Signature") }, { "not_after", N_("notAfter") },
		{ "algorithm_policy_end", N_("Policy end") },
		{ "leaves_before_not_after", N_("Leaves before notAfter") },
		{ NULL, NULL }
	};
	static const struct column cert_cols[] = {
		{ "serial", N_("Serial") }, { "subject", N_("Subject") },
		{ "algorithm", N_("Key") }, { "not_after", N_("notAfter") },
		{ "algorithm_policy_end", N_("Policy end") }, { NULL, NULL }
	};

	fprintf(fp, "<h2 id=\"algorithms\">%s</h2>\n<p>%s</p>\n",
	    _("Algorithm horizon"), _("The end date of each key and signature "
	    "hash under the dated algorithm policies below (the earliest one "
	    "counts)."));
	table(fp, json_object_get(ah, "policies"), pol_cols,
	    _("No dated algorithm policy installed."));
	fprintf(fp, "<h3>%s</h3>\n", _("CA keys"));
	table(fp, json_object_get(ah, "ca_keys"), key_cols, _("No CA key."));
	fprintf(fp, "<h3>%s</h3>\n", _("Valid certificates that leave the "
	    "policies before they expire"));
	table(fp, json_object_get(ah, "certificates_leaving"), cert_cols,
	    _("None."));
}

static void
audit_part(FILE *fp, json_t *au)
{
	json_t *f;
	size_t i;
	char note[256];

	fprintf(fp, "<h2 id=\"audit\">%s</h2>\n<table class=\"kv\">",
	    _("Audit chain"));
	fprintf(fp, "<tr><th>%s</th>", _("Result"));
	fprintf(fp, "<td class=\"%s\">",
	    strcmp(str(au, "result"), "intact") == 0 ? "ok" : "warn");
	esc(fp, word(str(au, "result")));
	fprintf(fp, "</td></tr>\n<tr><th>%s</th><td>", _("Checked with"));
	esc(fp, word(str(au, "checked_with")));
	fputs("</td></tr>\n", fp);
	fprintf(fp, "<tr><th>%s</th><td>", _("Certificates"));
	json_array_foreach(json_object_get(au, "certificates"), i, f) {
		fputs(i > 0 ? "<br>" : "", fp);
		esc(fp, json_string_value(f));
	}
	fputs("</td></tr>\n", fp);
	kv(fp, _("Entries"), au, "entries");
	kv(fp, _("Signed heads verified"), au, "signed_heads");
	kv(fp, _("Last signed entry"), au, "last_signed_seq");
	kv(fp, _("Entries after the last signed head"), au, "unsigned_tail");
	kv(fp, _("Problems"), au, "problems");
	fputs("</table>\n", fp);
	if (json_array_size(json_object_get(au, "findings")) > 0) {
		fputs("<ul>", fp);
		json_array_foreach(json_object_get(au, "findings"), i, f) {
			fputs("<li class=\"warn\">", fp);
			if (strncmp(json_string_value(f), "note: ", 6) == 0 &&
			    json_integer_value(json_object_get(au,
			    "unsigned_tail")) > 0) {
				/* The verifier's note, from its numbers. */
				snprintf(note, sizeof(note), _("note: %d audit "
				    "entries after the last signed head (at "
				    "%lld) are not signed yet"),
				    (int)json_integer_value(json_object_get(au,
				    "unsigned_tail")), (long long)
				    json_integer_value(json_object_get(au,
				    "last_signed_seq")));
				esc(fp, note);
			} else {
				esc(fp, json_string_value(f));
			}
			fputs("</li>", fp);
		}
		fputs("</ul>\n", fp);
	}
}

void
report_write_html(json_t *rep, FILE *fp)
{
	static const struct column map_cols[] = {
		{ "manufacturer", N_("Manufacturer") }, { "model", N_("Model") },
		{ "serial", N_("Serial") }, { "firmware", N_("Firmware") },
		{ "cmvp_cert", N_("CMVP certificate") },
		{ "module_name", N_("Module") }, { "standard", N_("Standard") },
		{ "level", N_("Level") }, { "effective_status", N_("Status") },
		{ "since", N_("Since") }, { "sunset", N_("Sunset") },
		{ "matching_tokens", N_("Tokens") }, { "mapped_by", N_("Mapped by") },
		{ "mapped", N_("Mapped") }, { NULL, NULL }
	};
	static const struct column risk_cols[] = {
		{ "serial", N_("Serial") }, { "subject", N_("Subject") },
		{ "profile", N_("Profile") }, { "not_after", N_("notAfter") },
		{ "ca", N_("CA") }, { "key", N_("Key") }, { "evidence", N_("Subject HSM") },
		{ "hsm_cmvp_cert", N_("HSM CMVP certificate") },
		{ "hsm_module", N_("Module") }, { "hsm_status", N_("HSM status") },
		{ "hsm_status_since", N_("Since") }, { "why", N_("Why (rule)") },
		{ NULL, NULL }
	};
	static const struct column ahead_cols[] = {
		{ "date", N_("Date") }, { "serial", N_("Serial") },
		{ "subject", N_("Subject") }, { "not_after", N_("notAfter") },
		{ "ca", N_("CA") }, { "key", N_("Key") }, { "evidence", N_("Subject HSM") },
		{ "cmvp_cert", N_("HSM CMVP certificate") }, { "module", N_("Module") },
		{ "status", N_("Status then") }, { "rule", N_("Rule") }, { NULL, NULL }
	};
	static const struct column req_cols[] = {
		{ "time", N_("Time") }, { "request", N_("Request") }, { "ca", N_("CA") },
		{ "profile", N_("Profile") }, { "submitter", N_("Submitter") },
		{ "rules", N_("Rules") }, { "refusal", N_("Refusal") }, { NULL, NULL }
	};
	static const struct column aud_cols[] = {
		{ "seq", N_("Entry") }, { "time", N_("Time") },
		{ "operators", N_("Operators") }, { "action", N_("Action") },
		{ "object", N_("Object") }, { "rules", N_("Rules") },
		{ "result", N_("Result") }, { "detail", N_("Detail") }, { NULL, NULL }
	};
	static const struct column appr_cols[] = {
		{ "time", N_("Time") }, { "kind", N_("Kind") }, { "object", N_("Object") },
		{ "operator", N_("Operator") }, { "decision", N_("Decision") },
		{ NULL, NULL }
	};
	static const struct column crl_cols[] = {
		{ "ca", N_("CA") }, { "kind", N_("Kind") }, { "partition", N_("Partition") },
		{ "number", N_("Number") }, { "this_update", N_("thisUpdate") },
		{ "next_update", N_("nextUpdate") }, { "state", N_("State") },
		{ NULL, NULL }
	};
	json_t *h = json_object_get(rep, "header");
	json_t *inv = json_object_get(rep, "hsm_inventory");
	json_t *certs = json_object_get(rep, "certificates");
	json_t *rf = json_object_get(rep, "refusals");
	json_t *fr = json_object_get(rep, "freshness"), *t, *ahead;
	size_t i;

	page_head(fp, str(h, "language"));
	header_section(fp, h, json_object_get(rep, "summary"));

	fprintf(fp, "<h2 id=\"hsm\">%s</h2>\n<p>%s ", _("HSM inventory"),
	    _("Every token a CA key was generated on, as it identified itself "
	    "over PKCS#11, with its CMVP certificate (ES-HSM-ID-01) and the "
	    "effective status as of"));
	esc(fp, str(h, "as_of"));
	fputs(".</p>\n", fp);
	if (json_array_size(json_object_get(inv, "tokens")) == 0) {
		fprintf(fp, "<p class=\"none\">%s</p>\n",
		    _("No token recorded."));
	}
	json_array_foreach(json_object_get(inv, "tokens"), i, t) {
		token_card(fp, t);
	}
	fprintf(fp, "<h3>%s</h3>\n", _("Mappings (eseal-policy hsm map)"));
	table(fp, json_object_get(inv, "mappings"), map_cols, _("No mapping."));

	fprintf(fp, "<h2 id=\"timeline\">%s</h2>\n<p>%s</p>\n",
	    _("CMVP status over time"), _("The effective status of each "
	    "token's CMVP certificate at the end of each month, 24 months "
	    "either side of the as-of date (from the CMVP data imported: later "
	    "changes are not foreseen)."));
	if (json_array_size(json_object_get(inv, "tokens")) == 0) {
		fprintf(fp, "<p class=\"none\">%s</p>\n",
		    _("No token recorded."));
	} else {
		timeline_chart(fp, json_object_get(rep, "cmvp_timeline"),
		    str(h, "as_of"));
	}

	fprintf(fp, "<h2 id=\"keys\">%s</h2>\n", _("CA keys"));
	ca_key_rows(fp, json_object_get(rep, "ca_keys"));

	fprintf(fp, "<h2 id=\"certs\">%s</h2>\n<p>%s: %" JSON_INTEGER_FORMAT
	    "</p>\n<div class=\"figures\">\n", _("Issued certificates"),
	    _("Total"), num(certs, "total"));
	hbars(fp, _("By status as of the date"), json_object_get(certs,
	    "by_status"));
	hbars(fp, _("By subject key algorithm"), json_object_get(certs,
	    "by_algorithm"));
	hbars(fp, _("By profile"), json_object_get(certs, "by_profile"));
	hbars(fp, _("By CA"), json_object_get(certs, "by_ca"));
	fputs("</div>\n", fp);
	vbars(fp, _("Expiries by month"), json_object_get(certs,
	    "by_expiry_month"));

	fprintf(fp, "<h2 id=\"risk\">%s</h2>\n<p>%s</p>\n",
	    _("Certificates under keys whose HSM is now Historical or Revoked"),
	    _("Valid certificates whose CA key or subject key is held by an "
	    "HSM whose CMVP certificate is Historical, Revoked or past its "
	    "sunset as of the report date. A subject HSM is attested (proved "
	    "by a key attestation chain) or declared (named by the "
	    "submitter)."));
	table(fp, json_object_get(rep, "at_risk"), risk_cols, _("None."));
	ahead = json_object_get(rep, "at_risk_ahead");
	fputs("<h3 id=\"ahead\">", fp);
	fprintf(fp, _("At risk within %lld days (until %.10s)"),
	    (long long)num(ahead, "horizon_days"), str(ahead, "until"));
	fputs("</h3>\n", fp);
	vbars(fp, _("Certificates becoming at risk, by month"),
	    json_object_get(ahead, "by_month"));
	table(fp, json_object_get(ahead, "certificates"), ahead_cols, _("None."));

	alg_part(fp, json_object_get(rep, "algorithm_horizon"));

	fprintf(fp, "<h2 id=\"refusals\">%s</h2>\n<h3>%s</h3>\n",
	    _("Refusals"), _("Refused requests"));
	table(fp, json_object_get(rf, "requests"), req_cols, _("None."));
	fprintf(fp, "<h3>%s</h3>\n", _("Refusals in the audit chain"));
	table(fp, json_object_get(rf, "audit"), aud_cols, _("None."));

	fprintf(fp, "<h2 id=\"approvals\">%s</h2>\n", _("Approvals"));
	table(fp, json_object_get(rep, "approvals"), appr_cols, _("None."));

	audit_part(fp, json_object_get(rep, "audit"));

	fprintf(fp, "<h2 id=\"freshness\">%s</h2>\n",
	    _("CRL and OCSP freshness"));
	table(fp, json_object_get(fr, "crls"), crl_cols, _("No CA."));
	fprintf(fp, "<p>%s: ", _("OCSP status export"));
	esc(fp, json_is_true(json_object_get(fr,
	    "ocsp_status_export_recorded")) ? str(fr, "ocsp_status_export") :
	    _("no status export recorded"));
	fputs("</p>\n<footer>", fp);
	fprintf(fp, _("eseal-policy report, generated %s from the store; see "
	    "doc/report.md for the meaning of each section."),
	    str(h, "generated"));
	fputs("</footer>\n</body></html>\n", fp);
}
