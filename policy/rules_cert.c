/*
 * Certificate lint: the rules shared by every kind of certificate, the CA
 * rules (root and issuing CA) and the delegated OCSP signer rules, each a
 * table row {id, source, kinds, handler}; lint_run.c runs the rows for a
 * kind.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lint.h"
#include "lint_int.h"
#include "util.h"

/* Shared rules. */

static enum rule_result
r_version(struct lint_ctx *c, char *d, size_t dsz)
{
	long	v = X509_get_version(c->cert);

	if (v != X509_VERSION_3) {
		lint_detail(d, dsz, "version is v%ld, not v3", v + 1);
		return RULE_FAIL;
	}
	return RULE_PASS;
}

static enum rule_result
r_serial(struct lint_ctx *c, char *d, size_t dsz)
{
	const ASN1_INTEGER	*s = X509_get0_serialNumber(c->cert);
	const unsigned char	*p;
	int			 len, der;

	if (ASN1_STRING_type(s) == V_ASN1_NEG_INTEGER) {
		lint_detail(d, dsz, "serial number is negative");
		return RULE_FAIL;
	}
	len = ASN1_STRING_length(s);
	p = ASN1_STRING_get0_data(s);
	while (len > 0 && p[0] == 0) {
		p++;
		len--;
	}
	if (len == 0) {
		lint_detail(d, dsz, "serial number is zero");
		return RULE_FAIL;
	}
	der = len + ((p[0] & 0x80) ? 1 : 0);
	if (der > 20) {
		lint_detail(d, dsz, "serial number is %d octets, more than 20",
		    der);
		return RULE_FAIL;
	}
	if (len < 16) {
		lint_detail(d, dsz, "serial number is %d octets: at least 16 "
		    "random octets are required", len);
		return RULE_FAIL;
	}
	lint_detail(d, dsz, "%d octets", der);
	return RULE_PASS;
}

/*
 * r_issuer_dn's detail for problem p (0 attr missing, 1 attr more than
 * once, 2 bad countryName, 3 organizationIdentifier more than once, 4
 * organizationIdentifier equals organizationName) in the subject (subj)
 * or the issuer name: whole formats, so that the translation has no
 * English word in it.
 */
static void
dn_detail(char *d, size_t dsz, int subj, int p, const char *attr)
{
	switch (p * 2 + (subj != 0)) {
	case 0:
		lint_detail(d, dsz, "issuer %s missing", attr);
		break;
	case 1:
		lint_detail(d, dsz, "subject %s missing", attr);
		break;
	case 2:
		lint_detail(d, dsz, "issuer %s appears more than once", attr);
		break;
	case 3:
		lint_detail(d, dsz, "subject %s appears more than once", attr);
		break;
	case 4:
		lint_detail(d, dsz, "issuer countryName is not an ISO 3166-1 "
		    "alpha-2 code");
		break;
	case 5:
		lint_detail(d, dsz, "subject countryName is not an ISO 3166-1 "
		    "alpha-2 code");
		break;
	case 6:
		lint_detail(d, dsz, "issuer organizationIdentifier appears "
		    "more than once");
		break;
	case 7:
		lint_detail(d, dsz, "subject organizationIdentifier appears "
		    "more than once");
		break;
	case 8:
		lint_detail(d, dsz, "issuer organizationIdentifier equals "
		    "organizationName");
		break;
	default:
		lint_detail(d, dsz, "subject organizationIdentifier equals "
		    "organizationName");
		break;
	}
}

/* C, O, CN exactly once, C known, orgId != O: the (issuing) CA's name. */
static enum rule_result
r_issuer_dn(struct lint_ctx *c, char *d, size_t dsz)
{
	const X509_NAME	*n;
	int		 subj;
	char		 cc[8], o[256], oi[256];
	static const struct {
		int		 nid;
		const char	*name;
	} need[] = {
		{ NID_countryName, "countryName" },
		{ NID_organizationName, "organizationName" },
		{ NID_commonName, "commonName" },
	};
	size_t		 i;
	int		 k;

	if (c->o->kind == LINT_ROOT_CA || c->o->kind == LINT_ISSUING_CA) {
		n = X509_get_subject_name(c->cert);
		subj = 1;
	} else {
		n = X509_get_issuer_name(c->cert);
		subj = 0;
	}
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if ((k = name_count(n, need[i].nid)) != 1) {
			dn_detail(d, dsz, subj, k == 0 ? 0 : 1, need[i].name);
			return RULE_FAIL;
		}
	}
	if (!name_utf8(n, NID_countryName, cc, sizeof(cc)) ||
	    !iso3166_valid(cc)) {
		dn_detail(d, dsz, subj, 2, NULL);
		return RULE_FAIL;
	}
	if (name_count(n, NID_organizationIdentifier) > 1) {
		dn_detail(d, dsz, subj, 3, NULL);
		return RULE_FAIL;
	}
	if (name_utf8(n, NID_organizationIdentifier, oi, sizeof(oi)) &&
	    name_utf8(n, NID_organizationName, o, sizeof(o)) &&
	    strcasecmp(oi, o) == 0) {
		dn_detail(d, dsz, subj, 4, NULL);
		return RULE_FAIL;
	}
	return RULE_PASS;
}

/*
 * The issuer certificate given in the options, into *iss: RULE_PASS if
 * the certificate's issuer name is its subject, RULE_NA if none was given,
 * RULE_FAIL if the names do not chain (d says which).
 */
static enum rule_result
issuer_given(struct lint_ctx *c, char *d, size_t dsz, X509 **iss)
{
	if ((*iss = c->o->issuer) == NULL) {
		lint_detail(d, dsz, "no issuer certificate given");
		return RULE_NA;
	}
	if (X509_NAME_cmp(X509_get_issuer_name(c->cert),
	    X509_get_subject_name(*iss)) != 0) {
		lint_detail(d, dsz, "issuer name differs from the issuer "
		    "certificate's subject");
		return RULE_FAIL;
	}
	return RULE_PASS;
}

/*
 * The certificate's signature verifies with the key of iss (the
 * certificate itself for a root): RULE_PASS, else RULE_FAIL (d set).
 */
static enum rule_result
sig_verifies(struct lint_ctx *c, X509 *iss, char *d, size_t dsz)
{
	if (X509_get0_pubkey(iss) == NULL ||
	    X509_verify(c->cert, X509_get0_pubkey(iss)) != 1) {
		ERR_clear_error();
		/* Two whole sentences, each translated as one. */
		if (iss == c->cert) {
			lint_detail(d, dsz, "signature does not verify with the "
			    "certificate's own key");
		} else {
			lint_detail(d, dsz, "signature does not verify with the "
			    "issuer key");
		}
		return RULE_FAIL;
	}
	return RULE_PASS;
}

/* The key identifier in AKI equals the issuer's SKI. */
static int
aki_matches(X509 *cert, X509 *issuer)
{
	const ASN1_OCTET_STRING	*aki, *ski;

	aki = X509_get0_authority_key_id(cert);
	ski = X509_get0_subject_key_id(issuer);
	if (aki == NULL || ski == NULL) {
		return 1;	/* presence is another rule's business */
	}
	return ASN1_OCTET_STRING_cmp(aki, ski) == 0;
}

/* Signed by the given issuer: names chain, AKI = issuer SKI, signature. */
static enum rule_result
r_chain(struct lint_ctx *c, char *d, size_t dsz)
{
	X509			*iss;
	enum rule_result	 res;

	if ((res = issuer_given(c, d, dsz, &iss)) != RULE_PASS) {
		return res;
	}
	if (!aki_matches(c->cert, iss)) {
		lint_detail(d, dsz, "authorityKeyIdentifier differs from the "
		    "issuer's subjectKeyIdentifier");
		return RULE_FAIL;
	}
	if (c->o->throwaway) {
		/* Signed by an ephemeral key: checked again after the token signs. */
		return RULE_PASS;
	}
	return sig_verifies(c, iss, d, dsz);
}

/* CA rules. */

/*
 * Read the certificate's basicConstraints: *st is ext_state()'s answer
 * (-1 absent, else 1 critical or 0), *ca its cA (0 when absent).
 * RULE_FAIL (d says why) if it appears twice or does not decode, else
 * RULE_PASS.
 */
static enum rule_result
bc_read(struct lint_ctx *c, char *d, size_t dsz, int *st, int *ca)
{
	BASIC_CONSTRAINTS	*bc;

	*ca = 0;
	if ((*st = ext_state(c->cert, NID_basic_constraints)) == -1) {
		return RULE_PASS;
	}
	if (*st == 2) {
		lint_detail(d, dsz, "basicConstraints appears more than once");
		return RULE_FAIL;
	}
	if ((bc = X509_get_ext_d2i(c->cert, NID_basic_constraints, NULL,
	    NULL)) == NULL) {
		ERR_clear_error();
		lint_detail(d, dsz, "basicConstraints undecodable");
		return RULE_FAIL;
	}
	*ca = bc->ca;
	BASIC_CONSTRAINTS_free(bc);
	return RULE_PASS;
}

static enum rule_result
r_ca_bc(struct lint_ctx *c, char *d, size_t dsz)
{
	enum rule_result	 res;
	int			 st, ca;

	if ((res = bc_read(c, d, dsz, &st, &ca)) != RULE_PASS) {
		return res;
	}
	if (st == -1) {
		lint_detail(d, dsz, "basicConstraints missing");
		return RULE_FAIL;
	}
	if (!ca) {
		lint_detail(d, dsz, "basicConstraints cA is FALSE");
		return RULE_FAIL;
	}
	if (st != 1) {
		lint_detail(d, dsz, "basicConstraints is not critical");
		return RULE_FAIL;
	}
	return RULE_PASS;
}

static enum rule_result
r_ca_ku(struct lint_ctx *c, char *d, size_t dsz)
{
	uint32_t	ku, bad;
	char		buf[160];
	int		st;

	if ((st = ext_state(c->cert, NID_key_usage)) == -1) {
		lint_detail(d, dsz, "keyUsage missing");
		return RULE_FAIL;
	}
	if (st != 1) {
		if (st == 2) {
			lint_detail(d, dsz, "keyUsage appears more than once");
		} else {
			lint_detail(d, dsz, "keyUsage is not critical");
		}
		return RULE_FAIL;
	}
	ku = X509_get_key_usage(c->cert);
	ku_str(ku, buf, sizeof(buf));
	if ((ku & KU_KEY_CERT_SIGN) == 0 || (ku & KU_CRL_SIGN) == 0) {
		lint_detail(d, dsz, "keyUsage %s lacks %s", buf,
		    (ku & KU_KEY_CERT_SIGN) == 0 ? "keyCertSign" : "cRLSign");
		return RULE_FAIL;
	}
	bad = ku & ~(uint32_t)(KU_KEY_CERT_SIGN | KU_CRL_SIGN |
	    KU_DIGITAL_SIGNATURE);
	if (bad != 0) {
		ku_str(bad, buf, sizeof(buf));
		lint_detail(d, dsz, "keyUsage of a CA must not contain %s", buf);
		return RULE_FAIL;
	}
	lint_detail(d, dsz, "%s", buf);
	return RULE_PASS;
}

static enum rule_result
r_ca_kid(struct lint_ctx *c, char *d, size_t dsz)
{
	const ASN1_OCTET_STRING	*aki, *ski;

	ski = X509_get0_subject_key_id(c->cert);
	aki = X509_get0_authority_key_id(c->cert);
	if (ski == NULL) {
		lint_detail(d, dsz, "subjectKeyIdentifier missing");
		return RULE_FAIL;
	}
	if (c->o->kind == LINT_ROOT_CA) {
		if (aki != NULL && ASN1_OCTET_STRING_cmp(aki, ski) != 0) {
			lint_detail(d, dsz, "root authorityKeyIdentifier differs "
			    "from its subjectKeyIdentifier");
			return RULE_FAIL;
		}
		return RULE_PASS;
	}
	if (aki == NULL) {
		lint_detail(d, dsz, "authorityKeyIdentifier keyIdentifier "
		    "missing");
		return RULE_FAIL;
	}
	if (c->o->issuer != NULL && !aki_matches(c->cert, c->o->issuer)) {
		lint_detail(d, dsz, "authorityKeyIdentifier differs from the "
		    "issuer's subjectKeyIdentifier");
		return RULE_FAIL;
	}
	return RULE_PASS;
}

static enum rule_result
r_ca_sig(struct lint_ctx *c, char *d, size_t dsz)
{
	X509			*iss;
	enum rule_result	 res;

	if (c->o->kind == LINT_ROOT_CA) {
		iss = c->cert;
		if (X509_NAME_cmp(X509_get_issuer_name(c->cert),
		    X509_get_subject_name(c->cert)) != 0) {
			lint_detail(d, dsz, "root is not self-issued (issuer "
			    "differs from subject)");
			return RULE_FAIL;
		}
	} else if ((res = issuer_given(c, d, dsz, &iss)) != RULE_PASS) {
		return res;
	}
	if (c->o->throwaway) {
		/* Signed by an ephemeral key: checked again after the token signs. */
		lint_detail(d, dsz, "throw-away certificate: the signature is "
		    "checked on the real certificate");
		return RULE_NA;
	}
	return sig_verifies(c, iss, d, dsz);
}

static enum rule_result
r_ca_validity(struct lint_ctx *c, char *d, size_t dsz)
{
	const ASN1_TIME	*nb, *na;

	nb = X509_get0_notBefore(c->cert);
	na = X509_get0_notAfter(c->cert);
	if (ASN1_TIME_compare(nb, na) >= 0) {
		lint_detail(d, dsz, "notBefore is not before notAfter");
		return RULE_FAIL;
	}
	if (c->o->kind == LINT_ISSUING_CA && c->o->issuer != NULL &&
	    ASN1_TIME_compare(na, X509_get0_notAfter(c->o->issuer)) > 0) {
		lint_detail(d, dsz, "notAfter is later than the issuer's "
		    "notAfter");
		return RULE_FAIL;
	}
	return RULE_PASS;
}

/* OCSP signer rules (RFC 6960 4.2.2.2, 4.2.2.2.1). */

static enum rule_result
r_ocsp_eku(struct lint_ctx *c, char *d, size_t dsz)
{
	uint32_t	xku;

	if (ext_state(c->cert, NID_ext_key_usage) == -1) {
		lint_detail(d, dsz, "extendedKeyUsage missing");
		return RULE_FAIL;
	}
	xku = X509_get_extended_key_usage(c->cert);
	if ((xku & XKU_OCSP_SIGN) == 0) {
		lint_detail(d, dsz, "extendedKeyUsage lacks id-kp-OCSPSigning");
		return RULE_FAIL;
	}
	return RULE_PASS;
}

static enum rule_result
r_ocsp_nocheck(struct lint_ctx *c, char *d, size_t dsz)
{
	if (ext_state(c->cert, NID_id_pkix_OCSP_noCheck) == -1) {
		lint_detail(d, dsz, "id-pkix-ocsp-nocheck missing");
		return RULE_FAIL;
	}
	return RULE_PASS;
}

static enum rule_result
r_ocsp_ku(struct lint_ctx *c, char *d, size_t dsz)
{
	uint32_t	ku;
	char		buf[160];

	if (ext_state(c->cert, NID_key_usage) == -1) {
		lint_detail(d, dsz, "keyUsage missing: digitalSignature "
		    "expected");
		return RULE_WARN;
	}
	ku = X509_get_key_usage(c->cert);
	ku_str(ku, buf, sizeof(buf));
	if (ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) {
		lint_detail(d, dsz, "keyUsage %s: an OCSP signer must not have "
		    "keyCertSign or cRLSign", buf);
		return RULE_FAIL;
	}
	if ((ku & KU_DIGITAL_SIGNATURE) == 0) {
		lint_detail(d, dsz, "keyUsage %s lacks digitalSignature", buf);
		return RULE_WARN;
	}
	return RULE_PASS;
}

static enum rule_result
r_not_ca(struct lint_ctx *c, char *d, size_t dsz)
{
	enum rule_result	 res;
	int			 st, ca;

	/* An end-entity certificate may leave basicConstraints out. */
	if ((res = bc_read(c, d, dsz, &st, &ca)) != RULE_PASS || st == -1) {
		return res;
	}
	if (ca) {
		lint_detail(d, dsz, "basicConstraints cA is TRUE in an end-entity "
		    "certificate");
		return RULE_FAIL;
	}
	if (st != 1 && c->o->kind == LINT_ESEAL) {
		lint_detail(d, dsz, "basicConstraints should be critical");
		return RULE_WARN;
	}
	return RULE_PASS;
}

const struct lint_rule cert_rules[] = {
	{ "ES-VER-01", "RFC 5280 4.1.2.1", K_ALL, r_version },
	{ "ES-SER-01", "RFC 5280 4.1.2.2; eseal issuance rule", K_ALL,
	    r_serial },
	{ "ES-ISS-01", "EN 319 412-2 GEN-4.2.3.1-2/-3/-5/-6", K_ALL,
	    r_issuer_dn },
	{ "ES-CHAIN-01", "RFC 5280 6.1.3", K_ESEAL | K_OCSP, r_chain },
	{ "ES-CA-01", "RFC 5280 4.2.1.9; EN 319 411-1", K_CA, r_ca_bc },
	{ "ES-CA-02", "RFC 5280 4.2.1.3; EN 319 412-2 4.3.2", K_CA, r_ca_ku },
	{ "ES-CA-03", "RFC 5280 4.2.1.1/4.2.1.2", K_CA, r_ca_kid },
	{ "ES-CA-04", "RFC 5280 6.1.3", K_CA, r_ca_sig },
	{ "ES-VAL-02", "RFC 5280 4.1.2.5; EN 319 411-1", K_CA, r_ca_validity },
	{ "ES-OCSP-01", "RFC 6960 4.2.2.2", K_OCSP, r_ocsp_eku },
	{ "ES-OCSP-02", "RFC 6960 4.2.2.2.1", K_OCSP, r_ocsp_nocheck },
	{ "ES-OCSP-03", "RFC 6960 4.2.2.2; eseal-rules design", K_OCSP,
	    r_ocsp_ku },
	{ "ES-OCSP-04", "RFC 5280 4.2.1.9", K_OCSP, r_not_ca },
	{ "ES-BC-01", "RFC 5280 4.2.1.9; EN 319 412-2 4.3.1", K_ESEAL,
	    r_not_ca },
};
const size_t cert_nrules = sizeof(cert_rules) / sizeof(cert_rules[0]);
