/*
 * "eseal-ca policy show|set": the instance's policy-gate settings, each
 * change under the quorum and in the audit chain.  Settings:
 *   allow-historical-signing DATE|none  keep signing with CA keys whose
 *       HSM turned CMVP Historical, until DATE (the operator's explicit,
 *       audited choice; default: refuse);
 *   min-cmvp-level N                    the lowest FIPS 140 overall level
 *       accepted for new CA keys (default 3);
 *   algorithm-policy FILE|default       the algorithm policy (JSON,
 *       doc/algorithm-policy.md), kept in the store so that it is audited
 *       and backed up with the CA;
 *   dated-algorithm-policy FILE...|none the dated algorithm policies
 *       (policy/algorithm-policies/: CRYPTREC, ETSI TS 119 312) that new
 *       keys must stay in until the certificate's notAfter (ES-ALG-KEY-06),
 *       kept in the store the same way.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "args.h"
#include "audit.h"
#include "algdated.h"
#include "lint.h"
#include "ca.h"
#include "log.h"
#include "operators.h"
#include "util.h"

#define MAX_OFFICERS 16

static void
usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca policy show [--json]\n"
	    "       eseal-ca policy set allow-historical-signing DATE|none --officer NAME=SRC... [--pin SRC]\n"
	    "       eseal-ca policy set min-cmvp-level N --officer NAME=SRC... [--pin SRC]\n"
	    "       eseal-ca policy set algorithm-policy FILE|default --officer NAME=SRC... [--pin SRC]\n"
	    "       eseal-ca policy set dated-algorithm-policy FILE...|none --officer NAME=SRC... [--pin SRC]\n"
	    "  allow-historical-signing lets CA keys on an HSM whose CMVP status turned\n"
	    "  Historical keep signing until DATE (default: refused, ES-HSM-02).\n"
	    "  min-cmvp-level is the lowest FIPS 140 level for new CA keys (default 3).\n"
	    "  algorithm-policy replaces the documented default algorithm policy.\n"
	    "  dated-algorithm-policy: new keys must not leave these dated policies\n"
	    "  before the certificate's notAfter (ES-ALG-KEY-06).\n"));
}

/*
 * "policy show": the settings, as text or (g.json) one JSON object.
 * EXIT_OK.
 */
static int
policy_show(struct db *db)
{
	char *allow, *lvl, *stored, *dated, policy_sha[65] = "";
	char names[160] = "none";
	json_t *arr, *p;
	size_t i;

	allow = db_meta_get(db, "allow_historical_signing_until");
	lvl = db_meta_get(db, "min_cmvp_level");
	stored = db_meta_get(db, "algorithm_policy");
	dated = db_meta_get(db, "dated_algorithm_policies");
	if (stored != NULL && *stored != '\0') {
		sha256_hex(stored, strlen(stored), policy_sha);
	}
	if (dated != NULL && *dated != '\0' &&
	    (arr = json_loads(dated, 0, NULL)) != NULL) {
		*names = '\0';
		json_array_foreach(arr, i, p) {
			snprintf(names + strlen(names), sizeof(names) -
			    strlen(names), "%s%s", i > 0 ? ", " : "",
			    json_string_value(json_object_get(p, "policy")));
		}
		json_decref(arr);
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:i,s:s,s:s}",
		    "allow_historical_signing_until",
		    allow != NULL && *allow ? allow : "none",
		    "min_cmvp_level", lvl != NULL ? atoi(lvl) : 3,
		    "algorithm_policy", policy_sha[0] ? policy_sha :
		    "default", "dated_algorithm_policy", names));
	} else {
		printf("allow-historical-signing  %s\nmin-cmvp-level            "
		    "%d\n", allow != NULL && *allow ? allow : "none "
		    "(signing with keys on Historical HSMs is refused)",
		    lvl != NULL ? atoi(lvl) : 3);
		printf("algorithm-policy          %s\n", policy_sha[0] ?
		    policy_sha : "default (doc/algorithm-policy.md)");
		printf("dated-algorithm-policy    %s\n", names);
	}
	free(allow);
	free(lvl);
	free(stored);
	free(dated);
	return EXIT_OK;
}

/*
 * The value of "dated-algorithm-policy FILE...|none": *text (the JSON
 * array of the checked documents; NULL for none), its SHA-256 in sha and
 * the policies' names in names.  1/0 (logged, "FILE: problem").
 */
static int
load_dated(char **files, size_t n, char **text, char sha[65], char *names,
    size_t namesz)
{
	json_t *arr, *p;
	size_t i;

	*text = NULL;
	if (n == 1 && strcmp(files[0], "none") == 0) {
		snprintf(names, namesz, "none");
		return 1;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		if ((p = alg_dated_load_file(files[i])) == NULL) {
			json_decref(arr);
			return 0;
		}
		snprintf(names + strlen(names), namesz - strlen(names), "%s%s",
		    i > 0 ? ", " : "", json_string_value(json_object_get(p,
		    "policy")));
		json_array_append_new(arr, p);
	}
	if ((*text = json_dumps(arr, JSON_COMPACT)) == NULL) {
		fatalx("load_dated: out of memory");
	}
	json_decref(arr);
	sha256_hex(*text, strlen(*text), sha);
	return 1;
}

int
cmd_policy(int argc, char **argv)
{
	static const char *const valued[] = { "officer", "pin", NULL };
	struct args a;
	struct db *db = NULL;
	struct quorum q = { 0 };
	char *specs[MAX_OFFICERS], *who = NULL;
	char *policy_text = NULL, policy_sha[65] = "", names[160] = "";
	const char *key = NULL, *value;
	char detail[256];
	time_t t;
	int ret = EXIT_ERROR;

	if (!args_start(argc, argv, valued, NULL, &a, usage, &ret)) {
		return ret;
	}
	if (a.npos < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((db = ca_open_db()) == NULL) {
		return EXIT_ERROR;
	}
	if (strcmp(a.pos[0], "show") == 0 && a.npos == 1) {
		ret = policy_show(db);
		goto out;
	}
	if (strcmp(a.pos[0], "set") != 0 || a.npos < 3 || (a.npos > 3 &&
	    strcmp(a.pos[1], "dated-algorithm-policy") != 0)) {
		usage(stderr);
		ret = EXIT_USAGE;
		goto out;
	}
	value = a.pos[2];
	if (strcmp(a.pos[1], "allow-historical-signing") == 0) {
		key = "allow_historical_signing_until";
		if (strcmp(value, "none") == 0) {
			value = "";
		} else if (!time_parse(value, &t, "allow-historical-signing")) {
			ret = EXIT_USAGE;
			goto out;
		}
	} else if (strcmp(a.pos[1], "min-cmvp-level") == 0) {
		key = "min_cmvp_level";
		if (strlen(value) != 1 || value[0] < '1' || value[0] > '4') {
			log_warnx("policy: min-cmvp-level must be 1..4");
			ret = EXIT_USAGE;
			goto out;
		}
	} else if (strcmp(a.pos[1], "algorithm-policy") == 0) {
		key = "algorithm_policy";
		if (strcmp(value, "default") == 0) {
			value = "";
		} else {
			struct alg_policy *ap;
			unsigned char *buf;
			size_t len;

			if (!file_read(value, 1 << 20, &buf, &len)) {
				ret = EXIT_ERROR;
				goto out;
			}
			if ((ap = alg_policy_parse((char *)buf, value)) == NULL) {
				free(buf);
				ret = EXIT_REFUSED;
				goto out;
			}
			alg_policy_free(ap);
			sha256_hex(buf, len, policy_sha);
			policy_text = (char *)buf;
			value = policy_text;
		}
	} else if (strcmp(a.pos[1], "dated-algorithm-policy") == 0) {
		key = "dated_algorithm_policies";
		if (!load_dated(a.pos + 2, a.npos - 2, &policy_text, policy_sha,
		    names, sizeof(names))) {
			ret = EXIT_REFUSED;
			goto out;
		}
		value = policy_text != NULL ? policy_text : "";
	} else {
		log_warnx("policy: unknown setting \"%s\"", a.pos[1]);
		ret = EXIT_USAGE;
		goto out;
	}
	if (!quorum_gather(db, specs, args_all(&a, "officer", specs,
	    MAX_OFFICERS), quorum_size(db), ROLE_OFFICER, "policy-set", &q)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	who = quorum_names(&q);
	if (policy_text != NULL) {
		snprintf(detail, sizeof(detail), "%s = %s (sha256 %s)", a.pos[1],
		    *names != '\0' ? names : a.pos[2], policy_sha);
	} else {
		snprintf(detail, sizeof(detail), "%s = %s", a.pos[1],
		    *value ? value : "none");
	}
	if (!db_begin(db)) {
		goto out;
	}
	if (!db_meta_set(db, key, value) ||
	    !audit_append(db, who, "policy-set", a.pos[1], NULL, "ok", detail) ||
	    !db_commit(db)) {
		db_rollback(db);
		goto out;
	}
	printf(_("policy %s (approved by %s)\n"), detail, who);
	ret = ca_audit_sign(db, NULL, args_get(&a, "pin")) ? EXIT_OK :
	    EXIT_ERROR;
out:
	quorum_free(&q);
	free(who);
	free(policy_text);
	db_close(db);
	return ret;
}
