/*
 * E-seal certificate profiles: JSON files operators can read
 * (doc/profiles.md), found by name in one directory: --profiles DIR, else
 * $ESEAL_PROFILES, else PKGDATADIR.  A profile says which QC statements,
 * which policy OID, which key-usage settings and which validity cap an
 * e-seal certificate gets, and which subject rules a CSR must meet.  The
 * subject rules that can be checked on a CSR are checked here.
 */
#ifndef ESEAL_PROFILE_H
#define ESEAL_PROFILE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "lint.h"

#define PROFILE_MAX_PDS		4
#define PROFILE_MAX_CC		8
#define PROFILE_MAX_POLICIES	4

/* Key-usage settings of EN 319 412-2 allowed for e-seals. */
enum ku_setting {
	KU_A = 0,	/* nonRepudiation */
	KU_B		/* nonRepudiation + digitalSignature */
};

struct profile_pds {
	char	*url;
	char	*language;
};

struct profile {
	char		*name;
	char		*path;		/* the file it was read from */
	char		 sha256[65];	/* of the file's bytes */
	char		*description;
	char		*lint_profile;	/* rule set of eseal-policy lint */
	char		*policies[PROFILE_MAX_POLICIES];
	size_t		 npolicies;
	int		 qc_compliance;
	int		 qc_type_eseal;
	int		 qc_sscd;
	int		 qc_semantics_legal;	/* pkixQCSyntax-v2 semanticsId-Legal */
	struct profile_pds pds[PROFILE_MAX_PDS];
	size_t		 npds;
	char		*cc_legislation[PROFILE_MAX_CC];
	size_t		 ncc;
	int		 retention_years;	/* QcRetentionPeriod, 0: none */
	int		 max_days;
	enum ku_setting	 ku_default;
	int		 ku_allow_b;
	int		 require_subject_hsm;
	int		 orgid_ntrjp;	/* organizationIdentifier NTRJP-<法人番号> */
};

/*
 * The profile directory: dir if not NULL, else $ESEAL_PROFILES, else
 * PKGDATADIR.  Never NULL.
 */
const char *profile_dir(const char *dir);

/*
 * Load profile name (letters, digits, '-', '_') from DIR/NAME.json; unknown
 * keys and bad values are refused.  NULL (logged as "FILE: problem").
 */
struct profile *profile_load(const char *dir, const char *name);
void profile_free(struct profile *p);

/* The last profile profile_load_cached() read, with the file's bytes. */
struct profile_cache {
	char		*path;
	unsigned char	*buf;		/* NULL: not to be reused */
	size_t		 len;
	struct profile	*p;
};

/*
 * profile_load(), for a run that loads the same profile for each of many
 * requests: the file is read every time and compared with the bytes of
 * the last one c holds; only a different name or different bytes are
 * parsed again.  The profile belongs to c, valid until the next call with
 * c or profile_cache_clear().  NULL (logged) as profile_load().
 */
const struct profile *profile_load_cached(struct profile_cache *c,
    const char *dir, const char *name);
/* Free what c holds (c itself is the caller's); c is empty after. */
void profile_cache_clear(struct profile_cache *c);

/* "A"/"B" <-> enum; from_name returns 1/0 (not logged). */
int ku_setting_from_name(const char *s, enum ku_setting *out);
const char *ku_setting_name(enum ku_setting k);

/*
 * Check the subject rules that a CSR can be checked for (ES-SUBJ-01..04,
 * ES-ORGID-01, ES-JP-ID-01 for the profile; policy/lint.h lint_subject())
 * and add a finding per rule.
 * Returns 1 if no FAIL was added.
 */
int profile_check_subject(const struct profile *p, const X509_NAME *subject,
    struct findings *f);

#endif
