/*
 * Dated algorithm policies: reading and checking the JSON documents in
 * policy/algorithm-policies/ (or a store's copy of them), and the one
 * implementation of rule ES-ALG-KEY-06 (a key must not leave the policy
 * before the certificate's notAfter) that the policy gate of eseal-ca and
 * the algorithm horizon of the compliance report share.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algdated.h"
#include "log.h"

#define MAX_POLICY_FILES	16

/* Upper case without '-' or '_': "SHA3-256" and "sha3_256" compare equal. */
static void
norm(const char *s, char *out, size_t outsz)
{
	size_t n = 0;

	for (; s != NULL && *s != '\0' && n + 1 < outsz; s++) {
		if (*s != '-' && *s != '_') {
			out[n++] = (char)toupper((unsigned char)*s);
		}
	}
	out[n] = '\0';
}

/* The string member k of o, or "" (never NULL). */
static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

int
alg_dated_valid(json_t *p, const char *what)
{
	json_t *e, *sc;
	size_t i;

	if (!json_is_object(p) ||
	    !json_is_string(json_object_get(p, "policy")) ||
	    !json_is_string(json_object_get(p, "source")) ||
	    !json_is_array(json_object_get(p, "entries"))) {
		log_warnx("%s: an algorithm policy needs \"policy\", \"source\" "
		    "and \"entries\"", what);
		return 0;
	}
	json_array_foreach(json_object_get(p, "entries"), i, e) {
		const char *end = json_string_value(json_object_get(e, "end"));

		sc = json_object_get(e, "scheme");
		if ((json_object_get(e, "key") == NULL) ==
		    (json_object_get(e, "hash") == NULL) ||
		    !json_is_string(json_object_get(e, "clause")) ||
		    (json_object_get(e, "end") != NULL && (end == NULL ||
		    strlen(end) != 10)) ||
		    (sc != NULL && (!json_is_string(sc) ||
		    (strcmp(json_string_value(sc), "pkcs1") != 0 &&
		    strcmp(json_string_value(sc), "pss") != 0)))) {
			log_warnx("%s: entry %zu: one of \"key\" or \"hash\", a "
			    "\"clause\", \"end\" YYYY-MM-DD or none, \"scheme\" "
			    "pkcs1, pss or none", what, i + 1);
			return 0;
		}
	}
	return 1;
}

json_t *
alg_dated_load_file(const char *path)
{
	json_t *p;
	json_error_t jerr;
	const char *base;

	if ((p = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		log_warnx("%s: line %d: %s", path, jerr.line, jerr.text);
		return NULL;
	}
	if (!alg_dated_valid(p, path)) {
		json_decref(p);
		return NULL;
	}
	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	json_object_set_new(p, "file", json_string(base));
	return p;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *
alg_dated_load_dir(const char *dir)
{
	json_t *arr = json_array(), *p;
	struct dirent *de;
	char *names[MAX_POLICY_FILES], path[4096];
	size_t n = 0, i, len;
	DIR *d;
	int ok = 1;

	if ((d = opendir(dir)) == NULL) {
		return arr;	/* none installed: the report says so */
	}
	while ((de = readdir(d)) != NULL && n < MAX_POLICY_FILES) {
		len = strlen(de->d_name);
		if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0 &&
		    (names[n] = strdup(de->d_name)) != NULL) {
			n++;
		}
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((p = alg_dated_load_file(path)) == NULL) {
			ok = 0;
		} else {
			json_array_append_new(arr, p);
		}
		free(names[i]);
	}
	if (!ok) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* Does entry e cover the key (kind, bits, scheme), or the hash? */
static int
entry_matches(json_t *e, const char *kind, int bits, const char *hash,
    const char *scheme)
{
	char a[32], b[32];
	json_t *mn = json_object_get(e, "min_bits");
	json_t *mx = json_object_get(e, "max_bits");
	const char *sc = json_string_value(json_object_get(e, "scheme"));

	if (json_object_get(e, "key") != NULL) {
		norm(str(e, "key"), a, sizeof(a));
		norm(kind, b, sizeof(b));
		return strcmp(a, b) == 0 &&
		    (mn == NULL || bits >= json_integer_value(mn)) &&
		    (mx == NULL || bits <= json_integer_value(mx)) &&
		    (sc == NULL || scheme == NULL || strcmp(sc, scheme) == 0);
	}
	norm(str(e, "hash"), a, sizeof(a));
	norm(hash, b, sizeof(b));
	return *b != '\0' && strcmp(a, b) == 0;
}

const char *
alg_dated_scheme(const char *sig_alg)
{
	if (sig_alg != NULL && strncmp(sig_alg, "rsa-pss-", 8) == 0) {
		return "pss";
	}
	if (sig_alg != NULL && strncmp(sig_alg, "rsa-pkcs1-", 10) == 0) {
		return "pkcs1";
	}
	return NULL;
}

void
alg_dated_eval(json_t *p, const char *kind, int bits, const char *hash,
    const char *scheme, const char *not_after, struct alg_dated_result *r)
{
	json_t *e;
	const char *end;
	size_t i, len;

	memset(r, 0, sizeof(*r));
	json_array_foreach(json_object_get(p, "entries"), i, e) {
		if (!entry_matches(e, kind, bits, hash, scheme)) {
			continue;
		}
		r->listed = 1;
		end = str(e, "end");
		if (*end != '\0' && (*r->end == '\0' || strcmp(end, r->end) < 0)) {
			snprintf(r->end, sizeof(r->end), "%s", end);
		}
		len = strlen(r->clause);
		snprintf(r->clause + len, sizeof(r->clause) - len, "%s%s",
		    len > 0 ? "; " : "", str(e, "clause"));
	}
	/* The end is the last day allowed: notAfter on that day still fits. */
	r->leaves = *r->end != '\0' && not_after != NULL &&
	    strncmp(r->end, not_after, 10) < 0;
}
