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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "algdated.h"
#include "log.h"
#include "report_int.h"

json_t *
report_alg_policies(const char *dir)
{
	return alg_dated_load_dir(dir);
}

/*
 * Per policy, the end date of (kind, bits, hash, scheme) into o:
 * "algorithm_policies" (policy, end, clause) and "algorithm_policy_end"
 * (the earliest, with the policy's name, or "" when no policy sets one).
 * 1 if a policy ends before not_after (ES-ALG-KEY-06, alg_dated_eval()).
 */
static int
alg_ends(json_t *pols, const char *kind, int bits, const char *hash,
    const char *scheme, const char *not_after, json_t *o)
{
	json_t *arr = json_array(), *p;
	struct alg_dated_result res;
	char best[11] = "", text[128];
	const char *bestpol = "";
	size_t i;
	int leaves = 0;

	json_array_foreach(pols, i, p) {
		alg_dated_eval(p, kind, bits, hash, scheme, not_after, &res);
		if (!res.listed) {
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s}",
			    "policy", rep_jstr(p, "policy"), "end", "",
			    "clause", "not listed"));
			continue;
		}
		leaves |= res.leaves;
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "policy",
		    rep_jstr(p, "policy"), "end", res.end, "clause",
		    res.clause));
		if (*res.end != '\0' && (*best == '\0' ||
		    strcmp(res.end, best) < 0)) {
			snprintf(best, sizeof(best), "%s", res.end);
			bestpol = rep_jstr(p, "policy");
		}
	}
	snprintf(text, sizeof(text), "%s%s%s%s", best, *best != '\0' ? " (" :
	    "", bestpol, *best != '\0' ? ")" : "");
	json_object_set_new(o, "algorithm_policy_end", json_string(text));
	json_object_set_new(o, "algorithm_policies", arr);
	return leaves;
}

void
report_alg_cert(json_t *pols, json_t *row)
{
	const char *alg = rep_jstr(row, "key_algorithm");
	char kind[32];

	snprintf(kind, sizeof(kind), "%s", alg);
	kind[strcspn(kind, "-")] = '\0';	/* "EC-prime256v1" -> "EC" */
	json_object_set_new(row, "leaves_before_not_after", json_boolean(
	    alg_ends(pols, kind, (int)json_integer_value(json_object_get(row,
	    "key_size")), rep_jstr(row, "signature_hash"), NULL,
	    rep_jstr(row, "not_after"), row)));
}

/*
 * "sha384" in "ecdsa-sha384" (a toolkit name, lower case) -> "SHA384"; ""
 * if no SHA-2 hash is named.
 */
static void
hash_of(const char *sig_alg, char *out, size_t outsz)
{
	static const char *const h[][2] = { { "sha224", "SHA224" },
	    { "sha256", "SHA256" }, { "sha384", "SHA384" },
	    { "sha512", "SHA512" } };
	size_t i;

	*out = '\0';
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		if (strstr(sig_alg, h[i][0]) != NULL) {
			snprintf(out, outsz, "%s", h[i][1]);
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
		json_object_set_new(o, "leaves_before_not_after", json_boolean(
		    alg_ends(pols, kind, (int)json_integer_value(
		    json_object_get(k, "key_size")), hash, alg_dated_scheme(rep_jstr(k,
		    "sig_alg")), rep_jstr(k, "not_after"), o)));
		json_array_append_new(ks, o);
	}
	json_array_foreach(list, i, c) {
		end = rep_jstr(c, "algorithm_policy_end");
		if (strcmp(rep_jstr(c, "status"), "good") != 0 ||
		    !json_is_true(json_object_get(c,
		    "leaves_before_not_after"))) {
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
