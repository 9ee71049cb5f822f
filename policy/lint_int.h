/*
 * Internal to the lint rule tables (rules_cert.c, rules_eseal.c) and
 * their runner (lint_run.c): the per-certificate context handed to every
 * rule, the rule row and the tables.  The X.509 helpers are x509util.h.
 */
#ifndef ESEAL_LINT_INT_H
#define ESEAL_LINT_INT_H

#include <stddef.h>

#include "i18n.h"
#include "lint.h"
#include "x509util.h"

#define K_ROOT		(1u << LINT_ROOT_CA)
#define K_ISSUING	(1u << LINT_ISSUING_CA)
#define K_ESEAL		(1u << LINT_ESEAL)
#define K_OCSP		(1u << LINT_OCSP_SIGNER)
#define K_CA		(K_ROOT | K_ISSUING)
#define K_ALL		(K_CA | K_ESEAL | K_OCSP)

/* Parsed qcStatements (EN 319 412-5), filled by qc_parse(). */
struct qc_info {
	int	present;	/* the extension is there */
	int	critical;
	int	malformed;	/* could not be decoded: detail says why */
	char	detail[160];
	int	compliance;	/* QcCompliance 0.4.0.1862.1.1 */
	int	sscd;		/* QcSSCD .1.4 */
	int	pds;		/* QcPDS .1.5 present */
	char	pds_bad[160];	/* first problem in QcPDS, or "" */
	int	type;		/* QcType .1.6 present */
	int	ntypes;		/* OIDs in QcType */
	int	type_eseal;	/* of which id-etsi-qct-eseal */
	int	ccleg;		/* QcCClegislation .1.7 present */
	char	ccleg_bad[96];	/* first problem in QcCClegislation, or "" */
	int	semantics;	/* pkixQCSyntax-v2 present */
	char	semantics_id[80];	/* its semanticsIdentifier, or "" */
	char	semantics_bad[96];	/* undecodable, or "" */
};

/* An e-seal profile (rules_eseal.c). */
struct eseal_profile {
	const char	*name;
	int		 qc_eu;		/* EU-qualified: QcCompliance, QcType, QcPDS */
	int		 sscd;		/* QcSSCD required (1) or forbidden (0) */
	const char	*policy;	/* expected qualified policy OID or NULL */
	int		 jp;		/* organizationIdentifier NTRJP- required */
	int		 max_days;	/* validity cap */
};

struct lint_ctx {
	X509				*cert;		/* NULL: a subject alone */
	const X509_NAME			*subject;	/* cert's or the CSR's */
	const struct lint_opts		*o;
	const struct alg_policy		*ap;
	time_t				 now;
	EVP_PKEY			*pub;		/* cert's key, not owned */
	const struct eseal_profile	*profile;	/* NULL: none */
	struct qc_info			 qc;
};

/* A rule returns its result and writes a detail (may be empty). */
typedef enum rule_result (*rule_fn)(struct lint_ctx *c, char *detail,
    size_t detailsz);

struct lint_rule {
	const char	*id;
	const char	*source;
	unsigned	 kinds;		/* K_* mask */
	rule_fn		 fn;
};

/* rules_eseal.c */
/* The subject DN rules (they read c->subject and c->profile only). */
extern const struct lint_rule subject_rules[];
extern const size_t subject_nrules;
/* The other e-seal rules (they read c->cert). */
extern const struct lint_rule eseal_rules[];
extern const size_t eseal_nrules;
/* The profile called name, or NULL if unknown. */
const struct eseal_profile *eseal_profile_find(const char *name);
/* Decode the qcStatements of c->cert into c->qc. */
void qc_parse(struct lint_ctx *c);

/* rules_cert.c: the rows shared by every kind, the CA and OCSP rows. */
extern const struct lint_rule cert_rules[];
extern const size_t cert_nrules;

/*
 * A rule's detail: fmt formatted into d (as snprintf, English, for JSON
 * and the audit chain), its translation remembered for the terminal
 * (shown by i18n_reason): what i18n_reasonf() does for a refusal.
 */
#define lint_detail(d, dsz, ...)	i18n_reasonf((d), (dsz), __VA_ARGS__)

#endif
