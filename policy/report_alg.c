/*
 * The algorithm horizon of "eseal-policy report": dated algorithm policies
 * (ETSI TS 119 312, the CRYPTREC list; one JSON file each, with its
 * source and a clause per entry, doc/report.md) give every key type and
 * size and every hash an end date or none.  The report shows per
 * certificate the earliest end date of its key and signature hash, and
 * which CA keys and valid certificates leave the policies before they
 * expire.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "report_int.h"

#define MAX_POLICY_FILES	16

/* Upper case without '-' or '_': "SHA3-256" and "sha3_256" compare equal. */
static void
norm(const char *s, char *out, size_t outsz)
{
	size_t n = 0;

	for (; *s != '\0' && n + 1 < outsz; s++) {
		if (*s != '-' && *s != '_') {
			out[n++] = (char)toupper((unsigned char)*s);
		}
	}
	out[n] = '\0';
}

/* Check one policy file's document; 1/0 (logged "file: problem"). */
static int
policy_valid(json_t *p, const char *path)
{
	json_t *e;
	size_t i;

	if (!json_is_string(json_object_get(p, "policy")) ||
	    !json_is_string(json_object_get(p, "source")) ||
	    !json_is_array(json_object_get(p, "entries"))) {
		log_warnx("%s: an algorithm policy needs \"policy\", \"source\" "
		    "and \"entries\"", path);
		return 0;
	}
	json_array_foreach(json_object_get(p, "entries"), i, e) {
		const char *end = json_string_value(json_object_get(e, "end"));

		if ((json_object_get(e, "key") == NULL) ==
		    (json_object_get(e, "hash") == NULL) ||
		    !json_is_string(json_object_get(e, "clause")) ||
		    (json_object_get(e, "end") != NULL && (end == NULL ||
		    strlen(end) != 10))) {
			log_warnx("%s: entry %zu: one of \"key\" or \"hash\", a "
			    "\"clause\", and \"end\" YYYY-MM-DD or none", path,
			    i + 1);
			return 0;
		}
	}
	return 1;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *
report_alg_policies(const char *dir)
{
	json_t *arr = json_array(), *p;
	json_error_t jerr;
	struct dirent *de;
	char *names[MAX_POLICY_FILES], path[4096];
	size_t n = 0, i, len;
	DIR *d;
	int ok = 1;

	if ((d = opendir(dir)) == NULL) {
		return arr;	/* none installed: the section says so */
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
		p = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
		if (p == NULL) {
			log_warnx("%s: line %d: %s", path, jerr.line, jerr.text);
			ok = 0;
		} else if (!policy_valid(p, path)) {
			ok = 0;
		} else {
			json_object_set_new(p, "file", json_string(names[i]));
			json_array_append(arr, p);
		}
		json_decref(p);
		free(names[i]);
	}
	if (!ok) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* Does entry e cover the key kind of bits, or the hash? */
static int
entry_matches(json_t *e, const char *kind, int bits, const char *hash)
{
	char a[32], b[32];
	json_t *mn = json_object_get(e, "min_bits");
	json_t *mx = json_object_get(e, "max_bits");

	if (json_object_get(e, "key") != NULL) {
		norm(rep_jstr(e, "key"), a, sizeof(a));
		norm(kind, b, sizeof(b));
		return strcmp(a, b) == 0 &&
		    (mn == NULL || bits >= json_integer_value(mn)) &&
		    (mx == NULL || bits <= json_integer_value(mx));
	}
	norm(rep_jstr(e, "hash"), a, sizeof(a));
	norm(hash, b, sizeof(b));
	return *b != '\0' && strcmp(a, b) == 0;
}

/*
 * The end date under policy p of a key (kind, bits) signing with hash:
 * the earlier of the two entries' ends ("" for none), into out; the
 * clauses into clause.  0 when p lists neither the key nor the hash.
 */
static int
policy_end(json_t *p, const char *kind, int bits, const char *hash,
    char *out, char *clause, size_t clausesz)
{
	json_t *e;
	const char *end;
	size_t i;
	int found = 0;

	*out = '\0';
	*clause = '\0';
	json_array_foreach(json_object_get(p, "entries"), i, e) {
		if (!entry_matches(e, kind, bits, hash)) {
			continue;
		}
		found = 1;
		end = rep_jstr(e, "end");
		if (*end != '\0' && (*out == '\0' || strcmp(end, out) < 0)) {
			snprintf(out, 11, "%s", end);
		}
		snprintf(clause + strlen(clause), clausesz - strlen(clause),
		    "%s%s", *clause != '\0' ? "; " : "", rep_jstr(e, "clause"));
	}
	return found;
}

/*
 * Per policy, the end date of (kind, bits, hash) into o: "algorithm_policies"
 * (policy, end, clause) and "algorithm_policy_end" (the earliest, with the
 * policy's name, or "" when no policy sets one).
 */
static void
alg_ends(json_t *pols, const char *kind, int bits, const char *hash,
    json_t *o)
{
	json_t *arr = json_array(), *p;
	char end[11], best[11] = "", clause[1024], text[128];
	const char *bestpol = "";
	size_t i;

	json_array_foreach(pols, i, p) {
		if (!policy_end(p, kind, bits, hash, end, clause,
		    sizeof(clause))) {
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s}",
			    "policy", rep_jstr(p, "policy"), "end", "",
			    "clause", "not listed"));
			continue;
		}
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "policy",
		    rep_jstr(p, "policy"), "end", end, "clause", clause));
		if (*end != '\0' && (*best == '\0' || strcmp(end, best) < 0)) {
			snprintf(best, sizeof(best), "%s", end);
			bestpol = rep_jstr(p, "policy");
		}
	}
	snprintf(text, sizeof(text), "%s%s%s%s", best, *best != '\0' ? " (" :
	    "", bestpol, *best != '\0' ? ")" : "");
	json_object_set_new(o, "algorithm_policy_end", json_string(text));
	json_object_set_new(o, "algorithm_policies", arr);
}

void
report_alg_cert(json_t *pols, json_t *row)
{
	const char *alg = rep_jstr(row, "key_algorithm");
	char kind[32];

	snprintf(kind, sizeof(kind), "%s", alg);
	kind[strcspn(kind, "-")] = '\0';	/* "EC-prime256v1" -> "EC" */
	alg_ends(pols, kind, (int)json_integer_value(json_object_get(row,
	    "key_size")), rep_jstr(row, "signature_hash"), row);
}

/* "sha384" in "ecdsa-sha384" -> "SHA384"; "" if no SHA-2 hash is named. */
static void
hash_of(const char *sig_alg, char *out, size_t outsz)
{
	static const char *const h[] = { "sha224", "sha256", "sha384",
	    "sha512" };
	char low[64];
	size_t i;

	norm(sig_alg, low, sizeof(low));
	*out = '\0';
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		char n[16];

		norm(h[i], n, sizeof(n));
		if (strstr(low, n) != NULL) {
			snprintf(out, outsz, "%s", n);
		}
	}
}

json_t *
report_alg_horizon(json_t *pols, json_t *keys, json_t *list)
{
	json_t *info = json_array(), *ks = json_array(), *leave = json_array();
	json_t *p, *k, *c, *o;
	char kind[32], hash[16];
	const char *end;
	size_t i;

	json_array_foreach(pols, i, p) {
		json_array_append_new(info, json_pack("{s:s,s:s,s:s,s:s}",
		    "policy", rep_jstr(p, "policy"), "edition",
		    rep_jstr(p, "edition"), "source", rep_jstr(p, "source"),
		    "file", rep_jstr(p, "file")));
	}
	json_array_foreach(keys, i, k) {
		snprintf(kind, sizeof(kind), "%s", rep_jstr(k, "key_alg"));
		kind[strcspn(kind, "-")] = '\0';	/* "ec-p384" -> "ec" */
		hash_of(rep_jstr(k, "sig_alg"), hash, sizeof(hash));
		o = json_pack("{s:s,s:s,s:I,s:s,s:s}", "name", rep_jstr(k,
		    "name"), "key_alg", rep_jstr(k, "key_alg"), "key_size",
		    json_integer_value(json_object_get(k, "key_size")),
		    "sig_alg", rep_jstr(k, "sig_alg"), "not_after",
		    rep_jstr(k, "not_after"));
		alg_ends(pols, kind, (int)json_integer_value(
		    json_object_get(k, "key_size")), hash, o);
		end = rep_jstr(o, "algorithm_policy_end");
		json_object_set_new(o, "leaves_before_not_after", json_boolean(
		    *end != '\0' && strncmp(end, rep_jstr(k, "not_after"),
		    10) < 0));
		json_array_append_new(ks, o);
	}
	json_array_foreach(list, i, c) {
		end = rep_jstr(c, "algorithm_policy_end");
		if (strcmp(rep_jstr(c, "status"), "good") != 0 ||
		    *end == '\0' || strncmp(end, rep_jstr(c, "not_after"),
		    10) >= 0) {
			continue;
		}
		json_array_append_new(leave, json_pack("{s:s,s:s,s:s,s:s,s:s}",
		    "serial", rep_jstr(c, "serial"), "subject", rep_jstr(c,
		    "subject"), "not_after", rep_jstr(c, "not_after"),
		    "algorithm", rep_jstr(c, "key_algorithm"),
		    "algorithm_policy_end", end));
	}
	return json_pack("{s:o,s:o,s:o}", "policies", info, "ca_keys", ks,
	    "certificates_leaving", leave);
}
