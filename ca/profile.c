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

#define SRC_LEG		"EN 319 412-3"
#define SRC_ORGID	"EN 319 412-1 5.1.4"

/* ISO 3166-1 alpha-2, assigned codes, concatenated and sorted. */
static const char iso3166[] =
	"ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBS"
	"BTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEE"
	"EGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHM"
	"HNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLC"
	"LILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNA"
	"NCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURW"
	"SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTO"
	"TRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

static int
country_valid(const char *cc)
{
	size_t i;

	if (strlen(cc) != 2) {
		return 0;
	}
	for (i = 0; i + 1 < sizeof(iso3166) - 1; i += 2) {
		if (iso3166[i] == cc[0] && iso3166[i + 1] == cc[1]) {
			return 1;
		}
	}
	return 0;
}

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
			    !country_valid(json_string_value(e))) {
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
	const char *s;
	size_t len, i;

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
	dir = profile_dir(dir);
	if (asprintf(&path, "%s/%s.json", dir, name) == -1) {
		fatalx("out of memory");
	}
	if (!file_read(path, 1 << 16, &buf, &len)) {
		log_warnx("profile \"%s\": ES-PROF-01: no such profile in %s "
		    "(see --profiles, $ESEAL_PROFILES)", name, dir);
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

int
ntrjp_valid(const char *s)
{
	const char *num;
	int n, sum = 0;

	if (strncmp(s, "NTRJP-", 6) != 0) {
		return 0;
	}
	num = s + 6;
	if (strlen(num) != 13 || strspn(num, "0123456789") != 13) {
		return 0;
	}
	/* 法人番号: check = 9 - (sum P_n * Q_n mod 9), n from the right. */
	for (n = 1; n <= 12; n++) {
		sum += (num[13 - n] - '0') * ((n % 2) ? 1 : 2);
	}
	return num[0] - '0' == 9 - sum % 9;
}

/* The UTF-8 value of the first attribute nid in name, or 0 if absent. */
static int
attr_utf8(const X509_NAME *name, int nid, char *out, size_t outsz)
{
	unsigned char *u = NULL;
	int i, len;

	out[0] = '\0';
	if ((i = X509_NAME_get_index_by_NID(name, nid, -1)) < 0) {
		return 0;
	}
	len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(name, i)));
	if (len < 0) {
		return 0;
	}
	snprintf(out, outsz, "%.*s", len, u);
	OPENSSL_free(u);
	return 1;
}

static int
attr_count(const X509_NAME *name, int nid)
{
	int i = -1, n = 0;

	while ((i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0) {
		n++;
	}
	return n;
}

static void
check_orgid(const struct profile *p, const char *oi, struct findings *f)
{
	static const char *const vat_extra[] = { "EU", "EZ", "SU", "UN", "EL",
	    "XI" };
	char scheme[4], cc[3];
	size_t i;
	int ok;

	if (strlen(oi) < 7 || !isupper((unsigned char)oi[0]) ||
	    !isupper((unsigned char)oi[1]) ||
	    !(isupper((unsigned char)oi[2]) || oi[2] == ':') ||
	    !isalpha((unsigned char)oi[3]) || !isalpha((unsigned char)oi[4])) {
		findings_add(f, "ES-ORGID-01", SRC_ORGID, RULE_FAIL,
		    "organizationIdentifier \"%.64s\" does not match "
		    "[A-Z]{2}[A-Z:][A-Za-z]{2}-reference", oi);
		return;
	}
	if (oi[5] != '-') {
		findings_add(f, "ES-ORGID-01", SRC_ORGID, RULE_FAIL,
		    "organizationIdentifier \"%.64s\": '-' and a reference must "
		    "follow the country code (no +SP part)", oi);
		return;
	}
	memcpy(scheme, oi, 3);
	scheme[3] = '\0';
	cc[0] = toupper((unsigned char)oi[3]);
	cc[1] = toupper((unsigned char)oi[4]);
	cc[2] = '\0';
	if (strcmp(scheme, "VAT") != 0 && strcmp(scheme, "NTR") != 0 &&
	    strcmp(scheme, "PSD") != 0 && strcmp(scheme, "LEI") != 0 &&
	    scheme[2] != ':') {
		findings_add(f, "ES-ORGID-01", SRC_ORGID, RULE_FAIL,
		    "organizationIdentifier \"%.64s\": unknown scheme %s (VAT, "
		    "NTR, PSD, LEI or XX:)", oi, scheme);
		return;
	}
	ok = country_valid(cc);
	for (i = 0; strcmp(scheme, "VAT") == 0 &&
	    i < sizeof(vat_extra) / sizeof(vat_extra[0]); i++) {
		if (strcmp(cc, vat_extra[i]) == 0) {
			ok = 1;
		}
	}
	if (strcmp(scheme, "LEI") == 0) {
		ok = strcmp(cc, "XG") == 0;
	}
	if (!ok) {
		findings_add(f, "ES-ORGID-01", SRC_ORGID, RULE_FAIL,
		    "organizationIdentifier \"%.64s\": %s is not a valid country "
		    "for scheme %s", oi, cc, scheme);
		return;
	}
	findings_add(f, "ES-ORGID-01", SRC_ORGID, RULE_PASS, "%s", "");
	if (strncmp(oi, "NTRJP-", 6) == 0 || p->orgid_ntrjp) {
		if (strncmp(oi, "NTRJP-", 6) != 0) {
			findings_add(f, "ES-JP-ID-01", "法人番号の指定等に関する省令 2",
			    RULE_FAIL, "profile %s needs organizationIdentifier "
			    "NTRJP-<13-digit 法人番号>, not \"%.64s\"", p->name, oi);
		} else if (!ntrjp_valid(oi)) {
			findings_add(f, "ES-JP-ID-01", "法人番号の指定等に関する省令 2",
			    RULE_FAIL, "organizationIdentifier \"%.64s\": not 13 "
			    "digits with a valid check digit (法人番号)", oi);
		} else {
			findings_add(f, "ES-JP-ID-01", "法人番号の指定等に関する省令 2",
			    RULE_PASS, "%s", "");
		}
	}
}

int
profile_check_subject(const struct profile *p, const X509_NAME *subject,
    struct findings *f)
{
	static const struct {
		int		 nid;
		const char	*name;
	} attrs[] = {
		{ NID_countryName, "countryName" },
		{ NID_organizationName, "organizationName" },
		{ NID_organizationIdentifier, "organizationIdentifier" },
		{ NID_commonName, "commonName" },
	};
	char missing[160] = "", cc[16], o[512], oi[512];
	int fails = f->fails;
	size_t i;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if (attr_count(subject, attrs[i].nid) == 0) {
			snprintf(missing + strlen(missing), sizeof(missing) -
			    strlen(missing), "%s%s", missing[0] ? ", " : "",
			    attrs[i].name);
		}
	}
	if (missing[0] != '\0') {
		findings_add(f, "ES-SUBJ-01", SRC_LEG " LEG-4.2.1-2", RULE_FAIL,
		    "subject lacks %s", missing);
	} else {
		findings_add(f, "ES-SUBJ-01", SRC_LEG " LEG-4.2.1-2", RULE_PASS,
		    "%s", "");
	}
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if (attr_count(subject, attrs[i].nid) > 1) {
			findings_add(f, "ES-SUBJ-02", SRC_LEG " LEG-4.2.1-3",
			    RULE_FAIL, "subject %s appears more than once",
			    attrs[i].name);
		}
	}
	if (attr_utf8(subject, NID_countryName, cc, sizeof(cc)) &&
	    !country_valid(cc)) {
		findings_add(f, "ES-SUBJ-03", SRC_LEG " LEG-4.2.1-4", RULE_FAIL,
		    "countryName \"%s\" is not an ISO 3166-1 alpha-2 code", cc);
	}
	if (attr_utf8(subject, NID_organizationName, o, sizeof(o)) &&
	    attr_utf8(subject, NID_organizationIdentifier, oi, sizeof(oi)) &&
	    strcasecmp(o, oi) == 0) {
		findings_add(f, "ES-SUBJ-04", SRC_LEG " LEG-4.2.1-6", RULE_FAIL,
		    "organizationIdentifier equals organizationName \"%.64s\"",
		    o);
	}
	if (attr_utf8(subject, NID_organizationIdentifier, oi, sizeof(oi))) {
		check_orgid(p, oi, f);
	} else if (p->orgid_ntrjp) {
		findings_add(f, "ES-JP-ID-01", "法人番号の指定等に関する省令 2",
		    RULE_FAIL, "profile %s needs organizationIdentifier "
		    "NTRJP-<13-digit 法人番号>", p->name);
	}
	return f->fails == fails;
}
