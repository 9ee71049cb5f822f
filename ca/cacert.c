/*
 * CA certificate and CSR construction for the key ceremony.  Extensions
 * are made with OpenSSL's X509V3 configuration functions so that OpenSSL
 * does all the ASN.1; the signature is added later (throw-away key for
 * the lint copy, then the token).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cacert.h"
#include "log.h"

static const struct {
	const char	*key;
	int		 nid;
} name_keys[] = {
	{ "C", NID_countryName },
	{ "ST", NID_stateOrProvinceName },
	{ "L", NID_localityName },
	{ "O", NID_organizationName },
	{ "OU", NID_organizationalUnitName },
	{ "CN", NID_commonName },
	{ "organizationIdentifier", NID_organizationIdentifier },
	{ "serialNumber", NID_serialNumber },
};

X509_NAME *
name_from_json(json_t *obj, const char *what)
{
	X509_NAME *name;

	if ((name = X509_NAME_new()) == NULL) {
		fatalx("out of memory");
	}
	if (!name_fill_json(name, obj, what)) {
		X509_NAME_free(name);
		return NULL;
	}
	return name;
}

int
name_fill_json(X509_NAME *name, json_t *obj, const char *what)
{
	const char *key;
	json_t *val;
	size_t i;

	if (!json_is_object(obj) || json_object_size(obj) == 0) {
		log_warnx("%s: subject must be a non-empty object", what);
		return 0;
	}
	json_object_foreach(obj, key, val) {
		for (i = 0; i < sizeof(name_keys) / sizeof(name_keys[0]); i++) {
			if (strcmp(name_keys[i].key, key) == 0) {
				break;
			}
		}
		if (i == sizeof(name_keys) / sizeof(name_keys[0])) {
			log_warnx("%s: subject: unknown attribute \"%s\" (known: C, "
			    "ST, L, O, OU, CN, organizationIdentifier, "
			    "serialNumber)", what, key);
			return 0;
		}
		if (!json_is_string(val) || json_string_length(val) == 0) {
			log_warnx("%s: subject: %s must be a non-empty string",
			    what, key);
			return 0;
		}
		if (!X509_NAME_add_entry_by_NID(name, name_keys[i].nid,
		    MBSTRING_UTF8, (const unsigned char *)json_string_value(val),
		    -1, -1, 0)) {
			log_ssl("%s: subject: bad %s", what, key);
			return 0;
		}
	}
	return 1;
}

int
cacert_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value,
    const char *what)
{
	X509_EXTENSION *ext;

	ERR_clear_error();
	if ((ext = X509V3_EXT_nconf_nid(ctx->db, ctx, nid, value)) == NULL) {
		log_ssl("%s: cannot build extension %s = %s", what,
		    OBJ_nid2sn(nid), value);
		return 0;
	}
	if (!X509_add_ext(x, ext, -1)) {
		X509_EXTENSION_free(ext);
		log_ssl("%s: cannot add extension %s", what, OBJ_nid2sn(nid));
		return 0;
	}
	X509_EXTENSION_free(ext);
	return 1;
}

static int
random_serial(X509 *x)
{
	unsigned char buf[16];
	BIGNUM *bn = NULL;
	int ret = 0;

	/* 16 bytes from the CSPRNG, top bit clear so it stays positive and 16 bytes long. */
	if (RAND_bytes(buf, sizeof(buf)) != 1) {
		log_ssl("cannot get random serial");
		return 0;
	}
	buf[0] &= 0x7f;
	buf[0] |= 0x40;
	if ((bn = BN_bin2bn(buf, sizeof(buf), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL) {
		log_ssl("cannot set serial");
		goto out;
	}
	ret = 1;
out:
	BN_free(bn);
	return ret;
}

X509 *
cacert_build(const struct cacert_spec *spec, const char *what)
{
	X509 *x = NULL, *ret = NULL;
	CONF *conf = NULL;
	X509V3_CTX ctx;
	char buf[1024];
	size_t i;

	if ((x = X509_new()) == NULL) {
		fatalx("out of memory");
	}
	if (!X509_set_version(x, X509_VERSION_3) || !random_serial(x) ||
	    !X509_set_subject_name(x, spec->subject) ||
	    !X509_set_issuer_name(x, spec->issuer != NULL ?
	    X509_get_subject_name(spec->issuer) : spec->subject) ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0,
	    (time_t *)&spec->not_before) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, 0,
	    (time_t *)&spec->not_after) == NULL ||
	    !X509_set_pubkey(x, spec->subject_pub)) {
		log_ssl("%s: cannot build certificate", what);
		goto out;
	}
	X509V3_set_ctx(&ctx, spec->issuer != NULL ? spec->issuer : x, x, NULL,
	    NULL, 0);
	/* Some extensions (certificatePolicies) need a config database, even an empty one. */
	if ((conf = NCONF_new_ex(NULL, NULL)) == NULL) {
		fatalx("out of memory");
	}
	X509V3_set_nconf(&ctx, conf);
	if (spec->path_len >= 0) {
		snprintf(buf, sizeof(buf), "critical,CA:TRUE,pathlen:%d",
		    spec->path_len);
	} else {
		snprintf(buf, sizeof(buf), "critical,CA:TRUE");
	}
	if (!cacert_add_ext(x, &ctx, NID_basic_constraints, buf, what) ||
	    !cacert_add_ext(x, &ctx, NID_key_usage,
	    "critical,keyCertSign,cRLSign,digitalSignature", what) ||
	    !cacert_add_ext(x, &ctx, NID_subject_key_identifier, "hash",
	    what)) {
		goto out;
	}
	if (spec->issuer != NULL) {
		if (!cacert_add_ext(x, &ctx, NID_authority_key_identifier,
		    "keyid:always", what)) {
			goto out;
		}
		if (spec->crldp_url != NULL) {
			snprintf(buf, sizeof(buf), "URI:%s", spec->crldp_url);
			if (!cacert_add_ext(x, &ctx,
			    NID_crl_distribution_points, buf, what)) {
				goto out;
			}
		}
		if (spec->ca_issuers_url != NULL || spec->ocsp_url != NULL) {
			buf[0] = '\0';
			if (spec->ca_issuers_url != NULL) {
				snprintf(buf, sizeof(buf), "caIssuers;URI:%s",
				    spec->ca_issuers_url);
			}
			if (spec->ocsp_url != NULL) {
				size_t l = strlen(buf);

				snprintf(buf + l, sizeof(buf) - l, "%sOCSP;URI:%s",
				    l > 0 ? "," : "", spec->ocsp_url);
			}
			if (!cacert_add_ext(x, &ctx, NID_info_access, buf,
			    what)) {
				goto out;
			}
		}
		if (spec->npolicies > 0) {
			buf[0] = '\0';
			for (i = 0; i < spec->npolicies; i++) {
				size_t l = strlen(buf);

				snprintf(buf + l, sizeof(buf) - l, "%s%s",
				    i > 0 ? "," : "", spec->policies[i]);
			}
			if (!cacert_add_ext(x, &ctx,
			    NID_certificate_policies, buf, what)) {
				goto out;
			}
		}
	}
	ret = x;
	x = NULL;
out:
	NCONF_free(conf);
	X509_free(x);
	return ret;
}

X509_REQ *
csr_build(X509_NAME *subject, EVP_PKEY *pub, const char *what)
{
	X509_REQ *req;

	if ((req = X509_REQ_new()) == NULL) {
		fatalx("out of memory");
	}
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, subject) ||
	    !X509_REQ_set_pubkey(req, pub)) {
		log_ssl("%s: cannot build CSR", what);
		X509_REQ_free(req);
		return NULL;
	}
	return req;
}

EVP_PKEY *
throwaway_key(enum key_alg k)
{
	switch (k) {
	case KEY_RSA_2048:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	case KEY_RSA_3072:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	case KEY_RSA_4096:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	case KEY_EC_P256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case KEY_EC_P384:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	case KEY_ED25519:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	default:
		return NULL;
	}
}
