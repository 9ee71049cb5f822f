/*
 * E-seal profiles: loading the JSON profile files (doc/profiles.md) and
 * the subject rules of EN 319 412-1/-3 that can be checked on a CSR
 * before anything is approved or signed.  The full certificate is linted
 * again before issuance (policy/lint.h); these checks only let a bad
 * request be refused at once, with every failed rule named.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/objects.h>

#include "log.h"
#include "ca.h"
#include "profile.h"
#include "util.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/eseal"
#endif

const char *
profile_dir(const char *dir)
{
	const char *env;

	if (dir != NULL) {
		return dir;
	}
	if ((env = getenv("ESEAL_PROFILES")) != NULL && *env != '\0') {
		return env;
	}
	return PKGDATADIR;
}

int
ku_setting_from_name(const char *s, enum ku_setting *out)
{
	if (strcmp(s, "A") == 0) {
		*out = KU_A;
	} else if (strcmp(s, "B") == 0) {
		*out = KU_B;
	} else {
		return 0;
	}
	return 1;
}

const char *
ku_setting_name(enum ku_setting k)
{
	return k == KU_B ? "B" : "A";
}

void
profile_free(struct profile *p)
{
	size_t i;

	if (p == NULL) {
		return;
	}
	free(p->name);
	free(p->path);
	free(p->description);
	free(p->lint_profile);
	for (i = 0; i < p->npolicies; i++) {
		free(p->policies[i]);
	}
	for (i = 0; i < p->npds; i++) {
		free(p->pds[i].url);
		free(p->pds[i].language);
	}
	for (i = 0; i < p->ncc; i++) {
		free(p->cc_legislation[i]);
	}
	free(p);
}



/* Optional boolean; 1/0 (logged). */
static int
get_bool(json_t *obj, const char *key, int *out, const char *file)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		return 1;
	}
	if (!json_is_boolean(v)) {
		log_warnx("%s: \"%s\" must be true or false", file, key);
		return 0;
	}
	*out = json_is_true(v);
	return 1;
}

static int
oid_valid(const char *s)
{
	ASN1_OBJECT *o;

	if ((o = OBJ_txt2obj(s, 1)) == NULL) {
		return 0;
	}
	ASN1_OBJECT_free(o);
	return 1;
}

static int
parse_qc(struct profile *p, json_t *qc, const char *file)
{
	static const char *const keys[] = { "compliance", "type", "sscd",
	    "pds", "cc-legislation", "retention-years", "semantics-id", NULL };
	json_t *v, *e;
	size_t i;

	if (!json_known_keys(qc, keys, "qc-statements", file) ||
	    !get_bool(qc, "compliance", &p->qc_compliance, file) ||
	    !get_bool(qc, "sscd", &p->qc_sscd, file)) {
		return 0;
	}
	if ((v = json_object_get(qc, "semantics-id")) != NULL) {
		/* EN 319 412-1 5.1.4: the legal person semantics. */
		if (!json_is_string(v) ||
		    strcmp(json_string_value(v), "legal") != 0) {
			log_warnx("%s: qc-statements: \"semantics-id\" must be "
			    "\"legal\"", file);
			return 0;
		}
		p->qc_semantics_legal = 1;
	}
	if ((v = json_object_get(qc, "type")) != NULL) {
		if (!json_is_string(v) ||
		    strcmp(json_string_value(v), "eseal") != 0) {
			log_warnx("%s: qc-statements: \"type\" must be \"eseal\"",
			    file);
			return 0;
		}
		p->qc_type_eseal = 1;
	}
	if ((v = json_object_get(qc, "pds")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) == 0 ||
		    json_array_size(v) > PROFILE_MAX_PDS) {
			log_warnx("%s: qc-statements: \"pds\" must be a list of "
			    "1..%d {\"url\", \"language\"} objects", file,
			    PROFILE_MAX_PDS);
			return 0;
		}
		json_array_foreach(v, i, e) {
			static const char *const pk[] = { "url", "language",
			    NULL };
			json_t *u, *l;
			const char *us, *ls;

			if (!json_known_keys(e, pk, "qc-statements: pds", file)) {
				return 0;
			}
			u = json_object_get(e, "url");
			l = json_object_get(e, "language");
			if (!json_is_string(u) || !json_is_string(l)) {
				log_warnx("%s: qc-statements: pds: \"url\" and "
				    "\"language\" are required strings", file);
				return 0;
			}
			us = json_string_value(u);
			ls = json_string_value(l);
			if (strncmp(us, "https://", 8) != 0 || strlen(us) < 9) {
				log_warnx("%s: ES-QC-04: PDS URL \"%s\" must be "
				    "https://", file, us);
				return 0;
			}
			if (strlen(ls) != 2 || !islower((unsigned char)ls[0]) ||
			    !islower((unsigned char)ls[1])) {
				log_warnx("%s: ES-QC-04: PDS language \"%s\" must "
				    "be an ISO 639-1 code (two lower-case letters)",
				    file, ls);
				return 0;
			}
			p->pds[p->npds].url = xstrdup(us);
			p->pds[p->npds].language = xstrdup(ls);
			p->npds++;
		}
	}
	if ((v = json_object_get(qc, "cc-legislation")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) == 0 ||
		    json_array_size(v) > PROFILE_MAX_CC) {
			log_warnx("%s: qc-statements: \"cc-legislation\" must be "
			    "a list of 1..%d country codes", file, PROFILE_MAX_CC);
			return 0;
		}
		json_array_foreach(v, i, e) {
			if (!json_is_string(e) ||
			    !iso3166_valid(json_string_value(e))) {
				log_warnx("%s: qc-statements: cc-legislation: not "
				    "an ISO 3166-1 alpha-2 code", file);
				return 0;
			}
			p->cc_legislation[p->ncc++] =
			    xstrdup(json_string_value(e));
		}
	}
	if ((v = json_object_get(qc, "retention-years")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 100) {
			log_warnx("%s: qc-statements: \"retention-years\" must be "
			    "1..100", file);
			return 0;
		}
		p->retention_years = (int)json_integer_value(v);
	}
	return 1;
}

/* DIR/NAME.json, malloc'd, if name is a profile name; NULL (logged). */
static char *
profile_path(const char *dir, const char *name)
{
	const char *s;
	char *path = NULL;

	for (s = name; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_') {
			break;
		}
	}
	if (*name == '\0' || *s != '\0' || strlen(name) > 64) {
		log_warnx("profile \"%s\": ES-PROF-01: not a profile name "
		    "(letters, digits, '-', '_')", name);
		return NULL;
	}
	if (asprintf(&path, "%s/%s.json", profile_dir(dir), name) == -1) {
		fatalx("out of memory");
	}
	return path;
}

const struct profile *
profile_load_cached(struct profile_cache *c, const char *dir,
    const char *name)
{
	unsigned char *buf = NULL;
	char *path, sha[65];
	size_t len;

	if ((path = profile_path(dir, name)) == NULL) {
		return NULL;
	}
	if (c->p != NULL && c->buf != NULL && strcmp(c->path, path) == 0 &&
	    file_read(path, 1 << 16, &buf, &len) && len == c->len &&
	    memcmp(buf, c->buf, len) == 0) {
		free(buf);
		free(path);
		return c->p;
	}
	free(buf);
	buf = NULL;
	profile_cache_clear(c);
	if ((c->p = profile_load(dir, name)) == NULL) {
		free(path);
		return NULL;
	}
	c->path = path;
	/* Kept only if these bytes are the ones profile_load() parsed. */
	if (file_read(path, 1 << 16, &buf, &len)) {
		sha256_hex(buf, len, sha);
		if (strcmp(sha, c->p->sha256) == 0) {
			c->buf = buf;
			c->len = len;
			buf = NULL;
		}
	}
	free(buf);
	return c->p;
}

void
profile_cache_clear(struct profile_cache *c)
{
	profile_free(c->p);
	free(c->path);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

struct profile *
profile_load(const char *dir, const char *name)
{
	static const char *const keys[] = { "profile", "description",
	    "lint-profile", "policies", "qc-statements", "max-validity-days",
	    "key-usage", "key-usage-b-allowed", "require-subject-hsm",
	    "organization-identifier", NULL };
	struct profile *p = NULL, *ret = NULL;
	unsigned char *buf = NULL;
	json_t *root = NULL, *v, *e;
	json_error_t jerr;
	char *path = NULL;
	size_t len, i;

	if ((path = profile_path(dir, name)) == NULL) {
		return NULL;
	}
	if (!file_read(path, 1 << 16, &buf, &len)) {
		log_warnx("profile \"%s\": ES-PROF-01: no such profile in %s "
		    "(see --profiles, $ESEAL_PROFILES)", name, profile_dir(dir));
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		fatalx("out of memory");
	}
	p->path = path;
	path = NULL;
	sha256_hex(buf, len, p->sha256);
	p->max_days = 1095;
	if ((root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		log_warnx("%s:%d: %s", p->path, jerr.line, jerr.text);
		goto out;
	}
	if (!json_known_keys(root, keys, "profile", p->path)) {
		goto out;
	}
	v = json_object_get(root, "profile");
	if (!json_is_string(v) || strcmp(json_string_value(v), name) != 0) {
		log_warnx("%s: \"profile\" must be \"%s\" (the file's name)",
		    p->path, name);
		goto out;
	}
	p->name = xstrdup(name);
	v = json_object_get(root, "description");
	p->description = xstrdup(json_is_string(v) ? json_string_value(v) : "");
	v = json_object_get(root, "lint-profile");
	if (v != NULL && !json_is_string(v)) {
		log_warnx("%s: \"lint-profile\" must be a string", p->path);
		goto out;
	}
	p->lint_profile = xstrdup(v != NULL ? json_string_value(v) : name);
	v = json_object_get(root, "policies");
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > PROFILE_MAX_POLICIES) {
		log_warnx("%s: \"policies\" must be a list of 1..%d policy OIDs",
		    p->path, PROFILE_MAX_POLICIES);
		goto out;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || !oid_valid(json_string_value(e))) {
			log_warnx("%s: policies: entry %zu is not an OID", p->path,
			    i + 1);
			goto out;
		}
		p->policies[p->npolicies++] = xstrdup(json_string_value(e));
	}
	if ((v = json_object_get(root, "qc-statements")) != NULL &&
	    !parse_qc(p, v, p->path)) {
		goto out;
	}
	if ((v = json_object_get(root, "max-validity-days")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 1095) {
			log_warnx("%s: \"max-validity-days\" must be 1..1095",
			    p->path);
			goto out;
		}
		p->max_days = (int)json_integer_value(v);
	}
	p->ku_default = KU_A;
	p->ku_allow_b = 1;
	if ((v = json_object_get(root, "key-usage")) != NULL &&
	    (!json_is_string(v) ||
	    !ku_setting_from_name(json_string_value(v), &p->ku_default))) {
		log_warnx("%s: \"key-usage\" must be \"A\" (nonRepudiation) or "
		    "\"B\" (nonRepudiation, digitalSignature)", p->path);
		goto out;
	}
	if (!get_bool(root, "key-usage-b-allowed", &p->ku_allow_b, p->path) ||
	    !get_bool(root, "require-subject-hsm", &p->require_subject_hsm,
	    p->path)) {
		goto out;
	}
	if ((v = json_object_get(root, "organization-identifier")) != NULL) {
		if (!json_is_string(v) ||
		    (strcmp(json_string_value(v), "NTRJP") != 0 &&
		    strcmp(json_string_value(v), "any") != 0)) {
			log_warnx("%s: \"organization-identifier\" must be "
			    "\"any\" or \"NTRJP\"", p->path);
			goto out;
		}
		p->orgid_ntrjp = strcmp(json_string_value(v), "NTRJP") == 0;
	}
	if (p->ku_default == KU_B && !p->ku_allow_b) {
		log_warnx("%s: \"key-usage\" B but \"key-usage-b-allowed\" is "
		    "false", p->path);
		goto out;
	}
	ret = p;
	p = NULL;
out:
	json_decref(root);
	profile_free(p);
	free(path);
	free(buf);
	return ret;
}

/*
 * The subject rules live in policy/ (lint_subject()), the same rows the
 * issuance lint runs, so a CSR is refused at submission for what issuance
 * would refuse.
 */
int
profile_check_subject(const struct profile *p, const X509_NAME *subject,
    struct findings *f)
{
	return lint_subject(subject, p->name, p->orgid_ntrjp, f);
}
