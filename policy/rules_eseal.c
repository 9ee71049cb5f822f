/*
 * E-seal end-entity rules (EN 319 412-1/-2/-3/-5, EN 319 411-2 and the
 * toolkit's own issuance rules, eseal-rules.md section 1), one table row
 * per rule, and the e-seal profiles (eseal-qualified, eseal, eseal-jp)
 * that decide which QC statements and policy OIDs are expected.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lint.h"
#include "lint_int.h"
#include "qcoids.h"

#define ESEAL_MAX_DAYS		1096	/* three years */

static const struct eseal_profile profiles[] = {
	{ "eseal-qualified", 1, 1, OID_QCP_L_QSCD, 0, ESEAL_MAX_DAYS },
	{ "eseal", 1, 0, OID_QCP_L, 0, ESEAL_MAX_DAYS },
	{ "eseal-jp", 0, -1, NULL, 1, ESEAL_MAX_DAYS },
};

const struct eseal_profile *
eseal_profile_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		if (strcmp(profiles[i].name, name) == 0) {
			return &profiles[i];
		}
	}
	return NULL;
}

int
lint_profile_known(const char *name)
{
	return eseal_profile_find(name) != NULL;
}

const char *
lint_profile_policy(const char *name)
{
	const struct eseal_profile	*p;

	return (p = eseal_profile_find(name)) != NULL ? p->policy : NULL;
}

/* Decode a DER SEQUENCE held in t (type SEQUENCE); NULL if not one. */
static STACK_OF(ASN1_TYPE) *
seq_of(const ASN1_TYPE *t)
{
	STACK_OF(ASN1_TYPE)	*sk;
	const unsigned char	*p, *end;

	if (t == NULL || t->type != V_ASN1_SEQUENCE) {
		return NULL;
	}
	p = t->value.sequence->data;
	end = p + t->value.sequence->length;
	if ((sk = d2i_ASN1_SEQUENCE_ANY(NULL, &p,
	    t->value.sequence->length)) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	if (p != end) {
		sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
		return NULL;
	}
	return sk;
}

static int
oid_is(const ASN1_TYPE *t, const char *oid)
{
	char	buf[80];

	if (t == NULL || t->type != V_ASN1_OBJECT ||
	    OBJ_obj2txt(buf, sizeof(buf), t->value.object, 1) <= 0) {
		return 0;
	}
	return strcmp(buf, oid) == 0;
}

static void
qc_type(struct qc_info *q, const ASN1_TYPE *info)
{
	STACK_OF(ASN1_TYPE)	*sk;
	int			 i;

	q->type = 1;
	if ((sk = seq_of(info)) == NULL) {
		q->ntypes = -1;
		return;
	}
	for (i = 0; i < sk_ASN1_TYPE_num(sk); i++) {
		q->ntypes++;
		if (oid_is(sk_ASN1_TYPE_value(sk, i), OID_QCT_ESEAL)) {
			q->type_eseal++;
		}
	}
	sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
}

static void
qc_pds(struct qc_info *q, const ASN1_TYPE *info)
{
	STACK_OF(ASN1_TYPE)	*sk = NULL, *loc = NULL;
	const ASN1_TYPE		*url, *lang;
	const unsigned char	*l;
	int			 i;

	q->pds = 1;
	if ((sk = seq_of(info)) == NULL || sk_ASN1_TYPE_num(sk) == 0) {
		lint_detail(q->pds_bad, sizeof(q->pds_bad),
		    "QcPDS is not a non-empty SEQUENCE OF PdsLocation");
		goto out;
	}
	for (i = 0; i < sk_ASN1_TYPE_num(sk); i++) {
		sk_ASN1_TYPE_pop_free(loc, ASN1_TYPE_free);
		if ((loc = seq_of(sk_ASN1_TYPE_value(sk, i))) == NULL ||
		    sk_ASN1_TYPE_num(loc) != 2) {
			lint_detail(q->pds_bad, sizeof(q->pds_bad),
			    "QcPDS location %d is not {url, language}", i);
			goto out;
		}
		url = sk_ASN1_TYPE_value(loc, 0);
		lang = sk_ASN1_TYPE_value(loc, 1);
		if (url->type != V_ASN1_IA5STRING ||
		    url->value.ia5string->length < 9 ||
		    strncasecmp((const char *)url->value.ia5string->data,
		    "https://", 8) != 0) {
			lint_detail(q->pds_bad, sizeof(q->pds_bad),
			    "QcPDS location %d: URL is not an https IA5String",
			    i);
			goto out;
		}
		l = lang->type == V_ASN1_PRINTABLESTRING ?
		    lang->value.printablestring->data : NULL;
		if (l == NULL || lang->value.printablestring->length != 2 ||
		    !islower(l[0]) || !islower(l[1])) {
			lint_detail(q->pds_bad, sizeof(q->pds_bad),
			    "QcPDS location %d: language is not a 2-letter "
			    "lower-case ISO 639-1 PrintableString", i);
			goto out;
		}
	}
 out:
	sk_ASN1_TYPE_pop_free(loc, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
}

static void
qc_ccleg(struct qc_info *q, const ASN1_TYPE *info)
{
	STACK_OF(ASN1_TYPE)	*sk;
	const ASN1_TYPE		*t;
	char			 cc[3];
	int			 i;

	q->ccleg = 1;
	if ((sk = seq_of(info)) == NULL || sk_ASN1_TYPE_num(sk) == 0) {
		lint_detail(q->ccleg_bad, sizeof(q->ccleg_bad),
		    "QcCClegislation is not a non-empty list of countries");
		sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
		return;
	}
	for (i = 0; i < sk_ASN1_TYPE_num(sk); i++) {
		t = sk_ASN1_TYPE_value(sk, i);
		if (t->type != V_ASN1_PRINTABLESTRING ||
		    t->value.printablestring->length != 2) {
			lint_detail(q->ccleg_bad, sizeof(q->ccleg_bad),
			    "QcCClegislation entry %d is not a country code",
			    i);
			break;
		}
		memcpy(cc, t->value.printablestring->data, 2);
		cc[2] = '\0';
		if (!iso3166_valid(cc)) {
			lint_detail(q->ccleg_bad, sizeof(q->ccleg_bad),
			    "QcCClegislation: %s is not an ISO 3166 code", cc);
			break;
		}
	}
	sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
}

/* pkixQCSyntax-v2: SemanticsInformation (RFC 3739 3.2.6.1). */
static void
qc_semantics(struct qc_info *q, const ASN1_TYPE *info)
{
	STACK_OF(ASN1_TYPE)	*sk;
	const ASN1_TYPE		*t;

	q->semantics = 1;
	if ((sk = seq_of(info)) == NULL || sk_ASN1_TYPE_num(sk) == 0 ||
	    sk_ASN1_TYPE_num(sk) > 2) {
		lint_detail(q->semantics_bad, sizeof(q->semantics_bad),
		    "pkixQCSyntax-v2 statementInfo is not a "
		    "SemanticsInformation");
		sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
		return;
	}
	t = sk_ASN1_TYPE_value(sk, 0);
	if (t->type == V_ASN1_OBJECT) {
		OBJ_obj2txt(q->semantics_id, sizeof(q->semantics_id),
		    t->value.object, 1);
	}
	sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
}

void
qc_parse(struct lint_ctx *c)
{
	struct qc_info		*q = &c->qc;
	X509_EXTENSION		*ext;
	const ASN1_OCTET_STRING	*data;
	STACK_OF(ASN1_TYPE)	*sk = NULL, *st = NULL;
	const ASN1_TYPE		*id, *info;
	const unsigned char	*p, *end;
	int			 i, state;

	memset(q, 0, sizeof(*q));
	if ((state = ext_state(c->cert, NID_qcStatements)) == -1) {
		return;
	}
	q->present = 1;
	if (state == 2) {
		q->malformed = 1;
		lint_detail(q->detail, sizeof(q->detail),
		    "qcStatements appears more than once");
		return;
	}
	q->critical = state == 1;
	ext = X509_get_ext(c->cert,
	    X509_get_ext_by_NID(c->cert, NID_qcStatements, -1));
	data = X509_EXTENSION_get_data(ext);
	p = ASN1_STRING_get0_data(data);
	end = p + ASN1_STRING_length(data);
	if ((sk = d2i_ASN1_SEQUENCE_ANY(NULL, &p,
	    ASN1_STRING_length(data))) == NULL || p != end) {
		ERR_clear_error();
		q->malformed = 1;
		if (sk != NULL) {
			lint_detail(q->detail, sizeof(q->detail), "qcStatements "
			    "is not a DER SEQUENCE OF QCStatement (trailing "
			    "bytes)");
		} else {
			lint_detail(q->detail, sizeof(q->detail), "qcStatements "
			    "is not a DER SEQUENCE OF QCStatement");
		}
		goto out;
	}
	for (i = 0; i < sk_ASN1_TYPE_num(sk); i++) {
		sk_ASN1_TYPE_pop_free(st, ASN1_TYPE_free);
		if ((st = seq_of(sk_ASN1_TYPE_value(sk, i))) == NULL ||
		    sk_ASN1_TYPE_num(st) < 1 || sk_ASN1_TYPE_num(st) > 2 ||
		    sk_ASN1_TYPE_value(st, 0)->type != V_ASN1_OBJECT) {
			q->malformed = 1;
			lint_detail(q->detail, sizeof(q->detail),
			    "QCStatement %d is not {statementId, "
			    "statementInfo}", i);
			goto out;
		}
		id = sk_ASN1_TYPE_value(st, 0);
		info = sk_ASN1_TYPE_num(st) == 2 ?
		    sk_ASN1_TYPE_value(st, 1) : NULL;
		if (oid_is(id, OID_QC_COMPLIANCE)) {
			q->compliance = 1;
		} else if (oid_is(id, OID_QC_SSCD)) {
			q->sscd = 1;
		} else if (oid_is(id, OID_QC_TYPE)) {
			qc_type(q, info);
		} else if (oid_is(id, OID_QC_PDS)) {
			qc_pds(q, info);
		} else if (oid_is(id, OID_QC_CCLEG)) {
			qc_ccleg(q, info);
		} else if (oid_is(id, OID_QCS_SYNTAX_V2)) {
			qc_semantics(q, info);
		}
	}
 out:
	sk_ASN1_TYPE_pop_free(st, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
}

void
lint_qc_claims(X509 *cert, struct qc_claims *out)
{
	struct lint_ctx	c;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.cert = cert;
	qc_parse(&c);
	if (!c.qc.present || c.qc.malformed) {
		return;
	}
	out->present = 1;
	out->compliance = c.qc.compliance;
	out->sscd = c.qc.sscd;
	out->type_eseal = c.qc.type_eseal > 0;
	out->pds = c.qc.pds;
}

/* Subject DN (EN 319 412-3 4.2.1). */

static const struct {
	int		 nid;
	const char	*name;
} subj_attrs[] = {
	{ NID_countryName, "countryName" },
	{ NID_organizationName, "organizationName" },
	{ NID_organizationIdentifier, "organizationIdentifier" },
	{ NID_commonName, "commonName" },
};
#define NSUBJ	(sizeof(subj_attrs) / sizeof(subj_attrs[0]))

static enum rule_result
r_subj_present(struct lint_ctx *c, char *d, size_t dsz)
{
	const X509_NAME	*n = c->subject;
	char		 lacks[200];
	size_t		 i, len = 0;

	for (i = 0; i < NSUBJ; i++) {
		if (name_count(n, subj_attrs[i].nid) == 0 &&
		    len < sizeof(lacks)) {
			len += snprintf(lacks + len, sizeof(lacks) - len, "%s%s",
			    len == 0 ? "" : ", ", subj_attrs[i].name);
		}
	}
	if (len == 0) {
		return RULE_PASS;
	}
	lint_detail(d, dsz, "subject lacks %s", lacks);
	return RULE_FAIL;
}

static enum rule_result
r_subj_once(struct lint_ctx *c, char *d, size_t dsz)
{
	const X509_NAME	*n = c->subject;
	size_t		 i;

	for (i = 0; i < NSUBJ; i++) {
		if (name_count(n, subj_attrs[i].nid) > 1) {
			lint_detail(d, dsz, "subject %s appears more than once",
			    subj_attrs[i].name);
			return RULE_FAIL;
		}
	}
	return RULE_PASS;
}

static enum rule_result
r_subj_country(struct lint_ctx *c, char *d, size_t dsz)
{
	char	cc[16];

	if (name_count(c->subject, NID_countryName) ==
	    0) {
		lint_detail(d, dsz, "no countryName");
		return RULE_NA;
	}
	if (!name_utf8(c->subject, NID_countryName, cc,
	    sizeof(cc)) || !iso3166_valid(cc)) {
		lint_detail(d, dsz, "countryName is not an ISO 3166-1 alpha-2 "
		    "code");
		return RULE_FAIL;
	}
	lint_detail(d, dsz, "%s", cc);
	return RULE_PASS;
}

static enum rule_result
r_subj_orgid_ne_o(struct lint_ctx *c, char *d, size_t dsz)
{
	const X509_NAME	*n = c->subject;
	char		 o[512], oi[512];

	if (!name_utf8(n, NID_organizationIdentifier, oi, sizeof(oi)) ||
	    !name_utf8(n, NID_organizationName, o, sizeof(o))) {
		lint_detail(d, dsz, "organizationName or organizationIdentifier "
		    "missing");
		return RULE_NA;
	}
	if (strcasecmp(o, oi) == 0) {
		lint_detail(d, dsz, "organizationIdentifier equals "
		    "organizationName (\"%.64s\")", o);
		return RULE_FAIL;
	}
	return RULE_PASS;
}

/* LEI (ISO 17442): 18 alphanumerics + 2 check digits, mod 97 == 1. */
static int
lei_valid(const char *lei)
{
	unsigned	rem = 0;
	size_t		i;
	int		v;

	if (strlen(lei) != 20) {
		return 0;
	}
	for (i = 0; i < 20; i++) {
		if (isdigit((unsigned char)lei[i])) {
			rem = (rem * 10 + (lei[i] - '0')) % 97;
		} else if (i < 18 && isupper((unsigned char)lei[i])) {
			v = lei[i] - 'A' + 10;
			rem = (rem * 100 + v) % 97;
		} else {
			return 0;
		}
	}
	return rem == 1;
}

static enum rule_result
r_orgid_syntax(struct lint_ctx *c, char *d, size_t dsz)
{
	static const char *const vat_extra[] = { "EU", "EZ", "SU", "UN",
	    "EL", "XI" };
	char	 oi[512], scheme[4], cc[3];
	size_t	 i;
	int	 ok;

	if (!name_utf8(c->subject,
	    NID_organizationIdentifier, oi, sizeof(oi))) {
		lint_detail(d, dsz, "no organizationIdentifier");
		return RULE_NA;
	}
	if (strlen(oi) < 7 || !isupper((unsigned char)oi[0]) ||
	    !isupper((unsigned char)oi[1]) ||
	    !(isupper((unsigned char)oi[2]) || oi[2] == ':') ||
	    !isalpha((unsigned char)oi[3]) || !isalpha((unsigned char)oi[4])) {
		lint_detail(d, dsz, "\"%.64s\" does not match "
		    "[A-Z]{2}[A-Z:][A-Za-z]{2}-reference", oi);
		return RULE_FAIL;
	}
	if (oi[5] == '+') {
		lint_detail(d, dsz, "\"%.64s\": the +SP part is not allowed",
		    oi);
		return RULE_FAIL;
	}
	if (oi[5] != '-') {
		lint_detail(d, dsz, "\"%.64s\": '-' and a reference must follow "
		    "the country code", oi);
		return RULE_FAIL;
	}
	memcpy(scheme, oi, 3);
	scheme[3] = '\0';
	cc[0] = toupper((unsigned char)oi[3]);
	cc[1] = toupper((unsigned char)oi[4]);
	cc[2] = '\0';
	if (strcmp(scheme, "VAT") != 0 && strcmp(scheme, "NTR") != 0 &&
	    strcmp(scheme, "PSD") != 0 && strcmp(scheme, "LEI") != 0 &&
	    scheme[2] != ':') {
		lint_detail(d, dsz, "\"%.64s\": unknown scheme %s (VAT, NTR, "
		    "PSD, LEI or XX:)", oi, scheme);
		return RULE_FAIL;
	}
	ok = iso3166_valid(cc);
	if (strcmp(scheme, "VAT") == 0) {
		for (i = 0; i < sizeof(vat_extra) / sizeof(vat_extra[0]); i++) {
			if (strcmp(cc, vat_extra[i]) == 0) {
				ok = 1;
			}
		}
	}
	if (strcmp(scheme, "LEI") == 0) {
		ok = strcmp(cc, "XG") == 0;
	}
	if (!ok) {
		lint_detail(d, dsz, "\"%.64s\": %s is not a valid country for "
		    "scheme %s", oi, cc, scheme);
		return RULE_FAIL;
	}
	if (strcmp(scheme, "LEI") == 0 && !lei_valid(oi + 6)) {
		lint_detail(d, dsz, "\"%.64s\": not a valid LEI (20 characters, "
		    "mod 97 check)", oi);
		return RULE_FAIL;
	}
	return RULE_PASS;
}

/*
 * Japanese corporate number (法人番号): 13 digits, the first a check digit
 * = 9 - (sum P_n * Q_n mod 9), P_n the n-th digit from the right of the
 * other 12, Q_n 1 for odd n and 2 for even n.
 */
static enum rule_result
r_jp_id(struct lint_ctx *c, char *d, size_t dsz)
{
	char		 oi[512];
	const char	*num;
	int		 n, sum = 0, check;

	if (!name_utf8(c->subject,
	    NID_organizationIdentifier, oi, sizeof(oi))) {
		if (c->profile != NULL && c->profile->jp) {
			lint_detail(d, dsz, "profile %s needs organizationIdentifier "
			    "NTRJP-<法人番号>", c->profile->name);
			return RULE_FAIL;
		}
		return RULE_NA;
	}
	if (strncmp(oi, "NTRJP-", 6) != 0) {
		if (c->profile != NULL && c->profile->jp) {
			lint_detail(d, dsz, "profile %s needs organizationIdentifier "
			    "NTRJP-<13 digits>, not \"%.64s\"",
			    c->profile->name, oi);
			return RULE_FAIL;
		}
		return RULE_NA;
	}
	num = oi + 6;
	if (strlen(num) != 13 || strspn(num, "0123456789") != 13) {
		lint_detail(d, dsz, "\"%.64s\": the corporate number must be 13 "
		    "digits", oi);
		return RULE_FAIL;
	}
	for (n = 1; n <= 12; n++) {
		sum += (num[13 - n] - '0') * ((n % 2) ? 1 : 2);
	}
	check = 9 - sum % 9;
	if (num[0] - '0' != check) {
		lint_detail(d, dsz, "\"%.64s\": check digit %c, expected %d", oi,
		    num[0], check);
		return RULE_FAIL;
	}
	return RULE_PASS;
}

/* keyUsage (EN 319 412-2 4.3.2, EN 319 412-3 4.3.1). */

static enum rule_result
r_ku_present(struct lint_ctx *c, char *d, size_t dsz)
{
	int	st = ext_state(c->cert, NID_key_usage);

	if (st == -1) {
		lint_detail(d, dsz, "keyUsage missing");
		return RULE_FAIL;
	}
	if (st == 2) {
		lint_detail(d, dsz, "keyUsage appears more than once");
		return RULE_FAIL;
	}
	if (st == 0) {
		lint_detail(d, dsz, "keyUsage is not critical");
		return RULE_FAIL;
	}
	return RULE_PASS;
}

#define KU_ALL	(KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION | \
    KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT | KU_KEY_AGREEMENT | \
    KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_ENCIPHER_ONLY | KU_DECIPHER_ONLY)

static enum rule_result
r_ku_setting(struct lint_ctx *c, char *d, size_t dsz)
{
	uint32_t	ku;

	if (ext_state(c->cert, NID_key_usage) == -1) {
		return RULE_NA;
	}
	ku = X509_get_key_usage(c->cert) & KU_ALL;
	if (ku == KU_NON_REPUDIATION) {
		lint_detail(d, dsz, "setting A (nonRepudiation)");
		return RULE_PASS;
	}
	if (ku == (KU_NON_REPUDIATION | KU_DIGITAL_SIGNATURE)) {
		lint_detail(d, dsz, "setting B: setting A (nonRepudiation only) "
		    "should be used");
		return RULE_WARN;
	}
	if (ku == (KU_NON_REPUDIATION | KU_DIGITAL_SIGNATURE |
	    KU_KEY_ENCIPHERMENT) || ku == (KU_NON_REPUDIATION |
	    KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT)) {
		lint_detail(d, dsz, "setting F: setting A (nonRepudiation only) "
		    "should be used");
		return RULE_WARN;
	}
	lint_detail(d, dsz, "keyUsage is not a content-commitment setting "
	    "(A, B or F)");
	return RULE_FAIL;
}

static enum rule_result
r_ku_toolkit(struct lint_ctx *c, char *d, size_t dsz)
{
	static const struct {
		uint32_t	 bit;
		const char	*name;
	} bad[] = {
		{ KU_KEY_CERT_SIGN, "keyCertSign" },
		{ KU_CRL_SIGN, "cRLSign" },
		{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ KU_KEY_AGREEMENT, "keyAgreement" },
		{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ KU_ENCIPHER_ONLY, "encipherOnly" },
		{ KU_DECIPHER_ONLY, "decipherOnly" },
	};
	uint32_t	ku;
	size_t		i;

	if (ext_state(c->cert, NID_key_usage) == -1) {
		return RULE_NA;
	}
	ku = X509_get_key_usage(c->cert);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ku & bad[i].bit) {
			lint_detail(d, dsz, "keyUsage of an e-seal must not "
			    "contain %s", bad[i].name);
			return RULE_FAIL;
		}
	}
	if ((ku & KU_NON_REPUDIATION) == 0) {
		lint_detail(d, dsz, "keyUsage lacks nonRepudiation (setting A "
		    "or B)");
		return RULE_FAIL;
	}
	return RULE_PASS;
}

/* Extensions (EN 319 412-2 4.3). */

static enum rule_result
r_ext_presence(struct lint_ctx *c, char *d, size_t dsz)
{
	static const struct {
		int		 nid;
		const char	*name;
	} forbidden[] = {
		{ NID_policy_mappings, "policyMappings" },
		{ NID_name_constraints, "nameConstraints" },
		{ NID_policy_constraints, "policyConstraints" },
		{ NID_inhibit_any_policy, "inhibitAnyPolicy" },
	};
	size_t	i;

	if (ext_state(c->cert, NID_authority_key_identifier) == -1 ||
	    X509_get0_authority_key_id(c->cert) == NULL) {
		lint_detail(d, dsz, "authorityKeyIdentifier (keyIdentifier) "
		    "missing");
		return RULE_FAIL;
	}
	if (X509_get0_subject_key_id(c->cert) == NULL) {
		lint_detail(d, dsz, "subjectKeyIdentifier missing");
		return RULE_FAIL;
	}
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		if (ext_state(c->cert, forbidden[i].nid) != -1) {
			lint_detail(d, dsz, "%s must not appear in an end-entity "
			    "certificate", forbidden[i].name);
			return RULE_FAIL;
		}
	}
	return RULE_PASS;
}

static enum rule_result
r_ext_noncrit(struct lint_ctx *c, char *d, size_t dsz)
{
	static const struct {
		int		 nid;
		const char	*name;
	} exts[] = {
		{ NID_subject_alt_name, "subjectAltName" },
		{ NID_issuer_alt_name, "issuerAltName" },
		{ NID_ext_key_usage, "extendedKeyUsage" },
		{ NID_crl_distribution_points, "cRLDistributionPoints" },
	};
	size_t	i;
	int	st;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		if ((st = ext_state(c->cert, exts[i].nid)) == 1) {
			lint_detail(d, dsz, "%s must not be critical",
			    exts[i].name);
			return RULE_FAIL;
		}
		if (st == 2) {
			lint_detail(d, dsz, "%s appears more than once",
			    exts[i].name);
			return RULE_FAIL;
		}
	}
	return RULE_PASS;
}

/* Certificate policies (EN 319 411-2, EN 319 412-5 5.2). */

/*
 * The qualified policy OID of the certificate into qcp ("" if none);
 * returns the number of qualified policy OIDs, -1 if certificatePolicies
 * is absent, -2 if undecodable.
 */
static int
qualified_policy(X509 *cert, char *qcp, size_t qcpsz)
{
	CERTIFICATEPOLICIES	*cp;
	POLICYINFO		*pi;
	char			 buf[80];
	int			 i, n = 0;

	qcp[0] = '\0';
	if (ext_state(cert, NID_certificate_policies) == -1) {
		return -1;
	}
	if ((cp = X509_get_ext_d2i(cert, NID_certificate_policies, NULL,
	    NULL)) == NULL) {
		ERR_clear_error();
		return -2;
	}
	for (i = 0; i < sk_POLICYINFO_num(cp); i++) {
		pi = sk_POLICYINFO_value(cp, i);
		if (OBJ_obj2txt(buf, sizeof(buf), pi->policyid, 1) <= 0) {
			continue;
		}
		if (strncmp(buf, OID_QCP_PREFIX, strlen(OID_QCP_PREFIX)) == 0 &&
		    strlen(buf) == strlen(OID_QCP_PREFIX) + 1 &&
		    buf[strlen(buf) - 1] >= '0' && buf[strlen(buf) - 1] <= '6') {
			if (n++ == 0) {
				snprintf(qcp, qcpsz, "%s", buf);
			}
		}
	}
	CERTIFICATEPOLICIES_free(cp);
	return n;
}

static enum rule_result
r_cp_present(struct lint_ctx *c, char *d, size_t dsz)
{
	char	qcp[80];
	int	n;

	n = qualified_policy(c->cert, qcp, sizeof(qcp));
	if (n == -1) {
		lint_detail(d, dsz, "certificatePolicies missing");
		return RULE_FAIL;
	}
	if (n == -2) {
		lint_detail(d, dsz, "certificatePolicies undecodable");
		return RULE_FAIL;
	}
	if (n > 1) {
		lint_detail(d, dsz, "%d qualified policy OIDs (at most one)", n);
		return RULE_FAIL;
	}
	return RULE_PASS;
}

static enum rule_result
r_cp_consistent(struct lint_ctx *c, char *d, size_t dsz)
{
	const struct qc_info	*q = &c->qc;
	char			 qcp[80];

	if (qualified_policy(c->cert, qcp, sizeof(qcp)) < 0) {
		lint_detail(d, dsz, "no certificatePolicies");
		return RULE_NA;
	}
	if (c->profile != NULL && c->profile->policy != NULL &&
	    strcmp(qcp, c->profile->policy) != 0) {
		lint_detail(d, dsz, "profile %s requires policy %s, found %s",
		    c->profile->name, c->profile->policy,
		    qcp[0] != '\0' ? qcp : "no qualified policy");
		return RULE_FAIL;
	}
	if (q->sscd && strcmp(qcp, OID_QCP_L_QSCD) != 0) {
		lint_detail(d, dsz, "QcSSCD requires QCP-l-qscd %s, found %s",
		    OID_QCP_L_QSCD, qcp[0] != '\0' ? qcp : "none");
		return RULE_FAIL;
	}
	if (!q->sscd && strcmp(qcp, OID_QCP_L_QSCD) == 0) {
		lint_detail(d, dsz, "QCP-l-qscd %s without QcSSCD",
		    OID_QCP_L_QSCD);
		return RULE_FAIL;
	}
	if (q->compliance && q->type_eseal && !q->sscd &&
	    strcmp(qcp, OID_QCP_L) != 0) {
		lint_detail(d, dsz, "a qualified e-seal without QcSSCD requires "
		    "QCP-l %s, found %s", OID_QCP_L,
		    qcp[0] != '\0' ? qcp : "none");
		return RULE_FAIL;
	}
	if (!q->compliance && qcp[0] != '\0') {
		lint_detail(d, dsz, "qualified policy %s without QcCompliance",
		    qcp);
		return RULE_FAIL;
	}
	if (qcp[0] == '\0') {
		lint_detail(d, dsz, "no qualified policy");
		return RULE_NA;
	}
	lint_detail(d, dsz, "%s", qcp);
	return RULE_PASS;
}

static enum rule_result
r_cp_noncrit(struct lint_ctx *c, char *d, size_t dsz)
{
	int	st = ext_state(c->cert, NID_certificate_policies);

	if (st == -1) {
		return RULE_NA;
	}
	if (st == 1) {
		lint_detail(d, dsz, "certificatePolicies should not be critical");
		return RULE_WARN;
	}
	return RULE_PASS;
}

/* AIA and CRL DP (EN 319 412-2 4.3.11, 4.4.1). */

static int
uri_has_prefix(const GENERAL_NAME *gn, const char *p1, const char *p2)
{
	const char	*s;
	int		 len;

	if (gn == NULL || gn->type != GEN_URI) {
		return 0;
	}
	s = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
	len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
	if ((size_t)len > strlen(p1) &&
	    strncasecmp(s, p1, strlen(p1)) == 0) {
		return 1;
	}
	return (size_t)len > strlen(p2) && strncasecmp(s, p2, strlen(p2)) == 0;
}

/* 1 if AIA has an access method nid at an http(s) URI; -1 if no AIA. */
static int
aia_has(X509 *cert, int nid)
{
	AUTHORITY_INFO_ACCESS	*aia;
	ACCESS_DESCRIPTION	*ad;
	int			 i, found = 0;

	if ((aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL)) ==
	    NULL) {
		ERR_clear_error();
		return -1;
	}
	for (i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		if (OBJ_obj2nid(ad->method) == nid &&
		    uri_has_prefix(ad->location, "http://", "https://")) {
			found = 1;
		}
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	return found;
}

static enum rule_result
r_aia_ca(struct lint_ctx *c, char *d, size_t dsz)
{
	int	r = aia_has(c->cert, NID_ad_ca_issuers);

	if (r == -1) {
		lint_detail(d, dsz, "authorityInfoAccess missing");
		return RULE_FAIL;
	}
	if (r == 0) {
		lint_detail(d, dsz, "no caIssuers with an http(s) URI");
		return RULE_FAIL;
	}
	return RULE_PASS;
}

static enum rule_result
r_aia_ocsp(struct lint_ctx *c, char *d, size_t dsz)
{
	if (aia_has(c->cert, NID_ad_OCSP) != 1) {
		lint_detail(d, dsz, "no OCSP access location with an http(s) "
		    "URI");
		return RULE_FAIL;
	}
	return RULE_PASS;
}

static enum rule_result
r_crldp(struct lint_ctx *c, char *d, size_t dsz)
{
	CRL_DIST_POINTS	*dps;
	DIST_POINT	*dp;
	GENERAL_NAMES	*gns;
	int		 i, j, found = 0;

	if (ext_state(c->cert, NID_crl_distribution_points) == -1) {
		lint_detail(d, dsz, "cRLDistributionPoints missing");
		return RULE_FAIL;
	}
	if ((dps = X509_get_ext_d2i(c->cert, NID_crl_distribution_points,
	    NULL, NULL)) == NULL) {
		ERR_clear_error();
		lint_detail(d, dsz, "cRLDistributionPoints undecodable");
		return RULE_FAIL;
	}
	for (i = 0; i < sk_DIST_POINT_num(dps); i++) {
		dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint == NULL || dp->distpoint->type != 0) {
			continue;
		}
		gns = dp->distpoint->name.fullname;
		for (j = 0; j < sk_GENERAL_NAME_num(gns); j++) {
			if (uri_has_prefix(sk_GENERAL_NAME_value(gns, j),
			    "http://", "ldap://")) {
				found = 1;
			}
		}
	}
	CRL_DIST_POINTS_free(dps);
	if (!found) {
		lint_detail(d, dsz, "no fullName URI with http:// or ldap://");
		return RULE_FAIL;
	}
	return RULE_PASS;
}

/* QC statements (EN 319 412-5). */

static int
qc_eu(const struct lint_ctx *c)
{
	return c->profile != NULL && c->profile->qc_eu;
}

/* Common prologue: N/A or FAIL when there is nothing to look at. */
static int
qc_usable(const struct lint_ctx *c, enum rule_result *r, char *d,
    size_t dsz)
{
	if (!c->qc.present || c->qc.malformed) {
		if (qc_eu(c)) {
			if (c->qc.present) {
				lint_detail(d, dsz, "qcStatements undecodable "
				    "(profile %s)", c->profile->name);
			} else {
				lint_detail(d, dsz, "qcStatements missing "
				    "(profile %s)", c->profile->name);
			}
			*r = RULE_FAIL;
		} else {
			lint_detail(d, dsz, "no qcStatements");
			*r = RULE_NA;
		}
		return 0;
	}
	return 1;
}

static enum rule_result
r_qc_ext(struct lint_ctx *c, char *d, size_t dsz)
{
	if (!c->qc.present) {
		if (qc_eu(c)) {
			lint_detail(d, dsz, "qcStatements missing (profile %s)",
			    c->profile->name);
			return RULE_FAIL;
		}
		lint_detail(d, dsz, "no qcStatements");
		return RULE_NA;
	}
	if (c->qc.malformed) {
		lint_detail(d, dsz, "%s", c->qc.detail);
		return RULE_FAIL;
	}
	if (c->qc.critical) {
		lint_detail(d, dsz, "qcStatements must not be critical");
		return RULE_FAIL;
	}
	return RULE_PASS;
}

static enum rule_result
r_qc_compliance(struct lint_ctx *c, char *d, size_t dsz)
{
	enum rule_result	r;

	if (!qc_usable(c, &r, d, dsz)) {
		return r;
	}
	if (c->qc.compliance) {
		return RULE_PASS;
	}
	if (qc_eu(c)) {
		lint_detail(d, dsz, "QcCompliance missing (profile %s)",
		    c->profile->name);
		return RULE_FAIL;
	}
	lint_detail(d, dsz, "not claimed qualified");
	return RULE_NA;
}

static enum rule_result
r_qc_sscd(struct lint_ctx *c, char *d, size_t dsz)
{
	enum rule_result	r;

	if (c->profile != NULL && c->profile->sscd == 1 && !c->qc.sscd) {
		lint_detail(d, dsz, "QcSSCD missing (profile %s: key in a QSCD)",
		    c->profile->name);
		return RULE_FAIL;
	}
	if (c->profile != NULL && c->profile->sscd == 0 && c->qc.sscd) {
		lint_detail(d, dsz, "QcSSCD present but profile %s has no QSCD",
		    c->profile->name);
		return RULE_FAIL;
	}
	if (!qc_usable(c, &r, d, dsz)) {
		return r == RULE_FAIL ? RULE_FAIL : RULE_NA;
	}
	if (c->qc.sscd) {
		lint_detail(d, dsz, "QcSSCD present");
	} else {
		lint_detail(d, dsz, "QcSSCD absent");
	}
	return RULE_PASS;
}

static enum rule_result
r_qc_type(struct lint_ctx *c, char *d, size_t dsz)
{
	enum rule_result	r;

	if (!qc_usable(c, &r, d, dsz)) {
		return r;
	}
	if (!c->qc.type) {
		if (qc_eu(c)) {
			lint_detail(d, dsz, "QcType missing (profile %s)",
			    c->profile->name);
			return RULE_FAIL;
		}
		return RULE_NA;
	}
	if (c->qc.ntypes != 1 || c->qc.type_eseal != 1) {
		lint_detail(d, dsz, "QcType must hold exactly id-etsi-qct-eseal "
		    "%s (%d type(s), %d eseal)", OID_QCT_ESEAL, c->qc.ntypes,
		    c->qc.type_eseal);
		return RULE_FAIL;
	}
	return RULE_PASS;
}

static enum rule_result
r_qc_pds(struct lint_ctx *c, char *d, size_t dsz)
{
	enum rule_result	r;

	if (!qc_usable(c, &r, d, dsz)) {
		return r;
	}
	if (!c->qc.pds) {
		if (qc_eu(c)) {
			lint_detail(d, dsz, "QcPDS missing (profile %s)",
			    c->profile->name);
			return RULE_FAIL;
		}
		return RULE_NA;
	}
	if (c->qc.pds_bad[0] != '\0') {
		lint_detail(d, dsz, "%s", c->qc.pds_bad);
		return RULE_FAIL;
	}
	return RULE_PASS;
}

static enum rule_result
r_qc_ccleg(struct lint_ctx *c, char *d, size_t dsz)
{
	enum rule_result	r;

	if (!qc_usable(c, &r, d, dsz)) {
		return r == RULE_FAIL ? RULE_NA : r;
	}
	if (qc_eu(c) && c->qc.ccleg) {
		lint_detail(d, dsz, "QcCClegislation must be absent in an "
		    "EU-qualified certificate (profile %s)", c->profile->name);
		return RULE_FAIL;
	}
	if (!c->qc.ccleg) {
		return qc_eu(c) || c->qc.compliance ? RULE_PASS : RULE_NA;
	}
	if (c->qc.ccleg_bad[0] != '\0') {
		lint_detail(d, dsz, "%s", c->qc.ccleg_bad);
		return RULE_FAIL;
	}
	return RULE_PASS;
}

/*
 * EN 319 412-1 5.1.4: the legal person semantics identifier in a
 * pkixQCSyntax-v2 statement; the toolkit's EU-qualified profiles carry it.
 */
static enum rule_result
r_qc_semantics(struct lint_ctx *c, char *d, size_t dsz)
{
	enum rule_result	r;

	if (!qc_usable(c, &r, d, dsz)) {
		return r;
	}
	if (!c->qc.semantics) {
		if (qc_eu(c)) {
			lint_detail(d, dsz, "no pkixQCSyntax-v2 statement with "
			    "id-etsi-qcs-semanticsId-Legal (profile %s)",
			    c->profile->name);
			return RULE_FAIL;
		}
		return RULE_NA;
	}
	if (c->qc.semantics_bad[0] != '\0') {
		lint_detail(d, dsz, "%s", c->qc.semantics_bad);
		return RULE_FAIL;
	}
	if (strcmp(c->qc.semantics_id, OID_SEMANTICS_LEGAL) != 0) {
		lint_detail(d, dsz, "semanticsIdentifier %s is not "
		    "id-etsi-qcs-semanticsId-Legal (%s) for a legal person",
		    c->qc.semantics_id[0] != '\0' ? c->qc.semantics_id :
		    "absent", OID_SEMANTICS_LEGAL);
		return RULE_FAIL;
	}
	return RULE_PASS;
}

/* Validity (TS 119 312, eseal-rules 1.7). */

static enum rule_result
r_validity(struct lint_ctx *c, char *d, size_t dsz)
{
	const ASN1_TIME	*nb, *na;
	int		 days, secs, max;

	nb = X509_get0_notBefore(c->cert);
	na = X509_get0_notAfter(c->cert);
	max = c->profile != NULL ? c->profile->max_days : ESEAL_MAX_DAYS;
	if (!ASN1_TIME_diff(&days, &secs, nb, na)) {
		ERR_clear_error();
		lint_detail(d, dsz, "validity unreadable");
		return RULE_FAIL;
	}
	if (days < 0 || secs < 0 || (days == 0 && secs == 0)) {
		lint_detail(d, dsz, "notBefore is not before notAfter");
		return RULE_FAIL;
	}
	if (days > max || (days == max && secs > 0)) {
		lint_detail(d, dsz, "validity %d days exceeds the maximum of %d "
		    "days", days, max);
		return RULE_FAIL;
	}
	if (c->o->issuer != NULL &&
	    ASN1_TIME_compare(na, X509_get0_notAfter(c->o->issuer)) > 0) {
		lint_detail(d, dsz, "notAfter is later than the issuer's "
		    "notAfter");
		return RULE_FAIL;
	}
	lint_detail(d, dsz, "%d days", days);
	return RULE_PASS;
}

const struct lint_rule subject_rules[] = {
	{ "ES-SUBJ-01", "EN 319 412-3 LEG-4.2.1-2", K_ESEAL, r_subj_present },
	{ "ES-SUBJ-02", "EN 319 412-3 LEG-4.2.1-3", K_ESEAL, r_subj_once },
	{ "ES-SUBJ-03", "EN 319 412-3 LEG-4.2.1-4", K_ESEAL, r_subj_country },
	{ "ES-SUBJ-04", "EN 319 412-3 LEG-4.2.1-6", K_ESEAL,
	    r_subj_orgid_ne_o },
	{ "ES-ORGID-01", "EN 319 412-1 5.1.4", K_ESEAL, r_orgid_syntax },
	{ "ES-JP-ID-01", "法人番号の指定等に関する省令 2; eseal-rules 1.2",
	    K_ESEAL, r_jp_id },
};
const size_t subject_nrules = sizeof(subject_rules) /
    sizeof(subject_rules[0]);

const struct lint_rule eseal_rules[] = {
	{ "ES-KU-01", "EN 319 412-2 4.3.2; RFC 5280 4.2.1.3", K_ESEAL,
	    r_ku_present },
	{ "ES-KU-02", "EN 319 412-3 LEG-4.3.1-3/-4", K_ESEAL, r_ku_setting },
	{ "ES-KU-03", "eseal-rules 1.3 (toolkit: setting A or B)", K_ESEAL,
	    r_ku_toolkit },
	{ "ES-EXT-01", "EN 319 412-2 GEN-4.3.1-1/4.3.4-1/4.3.8-1/4.3.9-1/"
	    "4.3.12-1", K_ESEAL, r_ext_presence },
	{ "ES-EXT-02", "EN 319 412-2 GEN-4.3.5-1/4.3.6-1/4.3.10-1/4.3.11-5",
	    K_ESEAL, r_ext_noncrit },
	{ "ES-CP-01", "EN 319 412-2 4.3.3; EN 319 412-5 QCS-5.2-1", K_ESEAL,
	    r_cp_present },
	{ "ES-CP-02", "EN 319 412-5 QCS-5.2-2; EN 319 411-2", K_ESEAL,
	    r_cp_consistent },
	{ "ES-CP-03", "EN 319 412-2 GEN-4.3.3-1", K_ESEAL, r_cp_noncrit },
	{ "ES-AIA-01", "EN 319 412-2 GEN-4.4.1-2/-3/-4", K_ESEAL, r_aia_ca },
	{ "ES-AIA-02", "EN 319 412-2 GEN-4.4.1-6/-8", K_ESEAL, r_aia_ocsp },
	{ "ES-CRL-01", "EN 319 412-2 GEN-4.3.11-2/-4", K_ESEAL, r_crldp },
	{ "ES-QC-00", "EN 319 412-5 QCS-4.1-02", K_ESEAL, r_qc_ext },
	{ "ES-QC-01", "EN 319 412-5 4.2.1, QCS-5-01", K_ESEAL,
	    r_qc_compliance },
	{ "ES-QC-02", "EN 319 412-5 4.2.2; EN 319 411-2", K_ESEAL, r_qc_sscd },
	{ "ES-QC-03", "EN 319 412-5 4.2.3", K_ESEAL, r_qc_type },
	{ "ES-QC-04", "EN 319 412-5 4.3.4", K_ESEAL, r_qc_pds },
	{ "ES-QC-05", "EN 319 412-5 4.2.4", K_ESEAL, r_qc_ccleg },
	{ "ES-QC-06", "EN 319 412-1 5.1.4; RFC 3739 3.2.6.1", K_ESEAL,
	    r_qc_semantics },
	{ "ES-VAL-01", "TS 119 312; eseal-rules 1.7", K_ESEAL, r_validity },
};
const size_t eseal_nrules = sizeof(eseal_rules) / sizeof(eseal_rules[0]);
