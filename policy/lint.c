/*
 * Lint findings: a growable list of rule results (ID, source clause,
 * PASS/FAIL/N/A/WARN and a detail), printed as text lines or as one JSON
 * object per certificate, and logged as refusals.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lint.h"
#include "i18n.h"
#include "log.h"

static const char *const result_names[] = {
	[RULE_PASS] = "PASS",
	[RULE_FAIL] = "FAIL",
	[RULE_NA] = "N/A",
	[RULE_WARN] = "WARN"
};

static const char *const result_json[] = {
	[RULE_PASS] = "pass",
	[RULE_FAIL] = "fail",
	[RULE_NA] = "n/a",
	[RULE_WARN] = "warn"
};

void
findings_init(struct findings *f)
{
	memset(f, 0, sizeof(*f));
}

void
findings_free(struct findings *f)
{
	if (f == NULL) {
		return;
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

void
findings_add(struct findings *f, const char *id, const char *source,
    enum rule_result r, const char *fmt, ...)
{
	struct finding	*fd;
	va_list		 ap;
	size_t		 ncap;

	if (f->n == f->cap) {
		ncap = f->cap == 0 ? 32 : f->cap * 2;
		fd = reallocarray(f->v, ncap, sizeof(*fd));
		if (fd == NULL) {
			fatalx("findings_add: out of memory");
		}
		f->v = fd;
		f->cap = ncap;
	}
	fd = &f->v[f->n++];
	memset(fd, 0, sizeof(*fd));
	snprintf(fd->id, sizeof(fd->id), "%s", id);
	snprintf(fd->source, sizeof(fd->source), "%s", source);
	fd->result = r;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(fd->detail, sizeof(fd->detail), fmt, ap);
		va_end(ap);
		/* The terminal may read it in Japanese (i18n_reason). */
		va_start(ap, fmt);
		i18n_vnote(fd->detail, fmt, ap);
		va_end(ap);
	}
	if (r == RULE_FAIL) {
		f->fails++;
	} else if (r == RULE_WARN) {
		f->warns++;
	}
}

static void
print_text(FILE *fp, const struct findings *f, const char *what)
{
	const struct finding	*fd;
	size_t			 i, npass = 0, nna = 0;

	for (i = 0; i < f->n; i++) {
		fd = &f->v[i];
		if (fd->result == RULE_PASS) {
			npass++;
		} else if (fd->result == RULE_NA) {
			nna++;
		}
		fprintf(fp, "%s: %s %s [%s]%s%s\n", what,
		    result_names[fd->result], fd->id, fd->source,
		    fd->detail[0] != '\0' ? " " : "", i18n_reason(fd->detail));
	}
	fprintf(fp, _("%s: %s: %zu pass, %d fail, %d warn, %zu n/a\n"), what,
	    f->fails > 0 ? "FAIL" : "PASS", npass, f->fails, f->warns, nna);
}

static void
print_json(FILE *fp, const struct findings *f, const char *what)
{
	const struct finding	*fd;
	json_t			*root = NULL, *arr;
	char			*s = NULL;
	size_t			 i;

	if ((root = json_object()) == NULL ||
	    (arr = json_array()) == NULL) {
		fatalx("findings_print: out of memory");
	}
	json_object_set_new(root, "file", json_string(what));
	json_object_set_new(root, "result",
	    json_string(f->fails > 0 ? "fail" : "pass"));
	json_object_set_new(root, "fails", json_integer(f->fails));
	json_object_set_new(root, "warns", json_integer(f->warns));
	json_object_set_new(root, "findings", arr);
	for (i = 0; i < f->n; i++) {
		fd = &f->v[i];
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}",
		    "id", fd->id, "source", fd->source,
		    "result", result_json[fd->result], "detail", fd->detail));
	}
	if ((s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		fatalx("findings_print: out of memory");
	}
	fprintf(fp, "%s\n", s);
	free(s);
	json_decref(root);
}

void
findings_print(FILE *fp, const struct findings *f, const char *what,
    int json)
{
	if (json) {
		print_json(fp, f, what);
	} else {
		print_text(fp, f, what);
	}
}

void
findings_log_fails(const struct findings *f, const char *what)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		if (f->v[i].result == RULE_FAIL) {
			log_warnx("%s: %s: %s", what, f->v[i].id,
			    i18n_reason(f->v[i].detail));
		}
	}
}
