/*
 * The algorithm policy (eseal-rules.md section 3, doc/algorithm-policy.md):
 * which public keys may be certified for which use (RSA modulus floors,
 * some with an end date, the RSA exponent, named EC curves only) and which
 * signature AlgorithmIdentifiers are allowed, compared as exact DER.  The
 * documented default is built in; a JSON file may replace it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "algdated.h"
#include "i18n.h"
#include "lint.h"
#include "log.h"
#include "util.h"

#define SRC_KEY		"TS 119 312 / eseal-rules §3.3"
#define SRC_RSA_E	"TS 119 312 6.2.2.1 / eseal-rules §3.3"
#define SRC_SIG		"TS 119 312 / eseal-rules §3.3"
#define SRC_SIG_FIT	"RFC 5758 3.2 / eseal-rules §3.3"
#define SRC_SIG_USE	"TS 119 312 / eseal-rules §3.2-3.3"

enum { KT_RSA = 1 << 0, KT_EC = 1 << 1, KT_ED25519 = 1 << 2,
    KT_ED448 = 1 << 3 };

#define USE_ALL	((1u << KEY_USE_CA) | (1u << KEY_USE_SUBJECT) | \
    (1u << KEY_USE_OCSP))

struct rsa_rule {
	int		bits;		/* minimum modulus size */
	unsigned	uses;		/* bit (1 << enum key_use) */
	time_t		not_after;	/* last allowed notAfter; 0: none */
	char		until[11];	/* the same as YYYY-MM-DD */
};

#define MAX_RSA_RULES	8
#define MAX_CURVES	8

struct alg_policy {
	unsigned	key_types;		/* KT_* */
	struct rsa_rule	rsa[MAX_RSA_RULES];
	size_t		nrsa;
	unsigned long	rsa_exponent;		/* required value; 0: any */
	int		curves[MAX_CURVES];	/* allowed curve NIDs */
	size_t		ncurves;
	unsigned	sigalgs;		/* bit per sigalg_defs name */
	json_t		*dated;			/* dated policies (algdated.h); NULL: none */
};

/*
 * Known signature AlgorithmIdentifiers, exact DER (pkilint
 * AllowedSignatureAlgorithmValidator).  Rows with the same name share a
 * policy bit (PSS with hash parameters NULL or absent).
 */
struct sigalg_def {
	const char		*name;
	int			 bit;
	const char		*der;
	size_t			 len;
	unsigned		 key;		/* KT_* of the signer */
	int			 curve_bits;	/* ECDSA: curve that fits */
};

#define D(s)	s, sizeof(s) - 1
#define PSS(h, sl) \
	"\x30\x41\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a\x30\x34\xa0\x0f" \
	"\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02" h "\x05\x00\xa1\x1c" \
	"\x30\x1a\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x08\x30\x0d\x06\x09" \
	"\x60\x86\x48\x01\x65\x03\x04\x02" h "\x05\x00\xa2\x03\x02\x01" sl
#define PSS_NOPARAM(h, sl) \
	"\x30\x3d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a\x30\x30\xa0\x0d" \
	"\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02" h "\xa1\x1a\x30\x18" \
	"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x08\x30\x0b\x06\x09\x60\x86" \
	"\x48\x01\x65\x03\x04\x02" h "\xa2\x03\x02\x01" sl

static const struct sigalg_def sigalg_defs[] = {
	{ "sha256WithRSAEncryption", 0,
	    D("\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b\x05\x00"),
	    KT_RSA, 0 },
	{ "sha384WithRSAEncryption", 1,
	    D("\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c\x05\x00"),
	    KT_RSA, 0 },
	{ "sha512WithRSAEncryption", 2,
	    D("\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d\x05\x00"),
	    KT_RSA, 0 },
	{ "rsassa-pss-sha256", 3, D(PSS("\x01", "\x20")), KT_RSA, 0 },
	{ "rsassa-pss-sha256", 3, D(PSS_NOPARAM("\x01", "\x20")), KT_RSA, 0 },
	{ "rsassa-pss-sha384", 4, D(PSS("\x02", "\x30")), KT_RSA, 0 },
	{ "rsassa-pss-sha384", 4, D(PSS_NOPARAM("\x02", "\x30")), KT_RSA, 0 },
	{ "rsassa-pss-sha512", 5, D(PSS("\x03", "\x40")), KT_RSA, 0 },
	{ "rsassa-pss-sha512", 5, D(PSS_NOPARAM("\x03", "\x40")), KT_RSA, 0 },
	{ "ecdsa-with-SHA256", 6,
	    D("\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02"), KT_EC, 256 },
	{ "ecdsa-with-SHA384", 7,
	    D("\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03"), KT_EC, 384 },
	{ "ecdsa-with-SHA512", 8,
	    D("\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x04"), KT_EC, 521 },
	{ "ed25519", 9, D("\x30\x05\x06\x03\x2b\x65\x70"), KT_ED25519, 0 },
	{ "ed448", 10, D("\x30\x05\x06\x03\x2b\x65\x71"), KT_ED448, 0 },
};
#define NSIGALGS	(sizeof(sigalg_defs) / sizeof(sigalg_defs[0]))

static const struct {
	const char	*name;
	unsigned	 bit;
} key_type_names[] = {
	{ "rsa", KT_RSA }, { "ec", KT_EC }, { "ed25519", KT_ED25519 },
	{ "ed448", KT_ED448 },
};

/* 2030-12-31T23:59:59Z: end of RSA-2048 for subject and OCSP keys. */
#define RSA2048_END	((time_t)1924991999)

static struct alg_policy default_policy = {
	.key_types = KT_RSA | KT_EC,
	.rsa = {
		{ 3072, USE_ALL, 0, "" },
		{ 2048, (1u << KEY_USE_SUBJECT) | (1u << KEY_USE_OCSP),
		    RSA2048_END, "2030-12-31" },
	},
	.nrsa = 2,
	.rsa_exponent = 65537,
	.curves = { NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1 },
	.ncurves = 3,
	.sigalgs = 0x1ff,	/* all but ed25519, ed448 */
};

struct alg_policy *
alg_policy_default(void)
{
	return &default_policy;
}

void
alg_policy_free(struct alg_policy *ap)
{
	if (ap != NULL && ap != &default_policy) {
		json_decref(ap->dated);
		free(ap);
	}
}

/* Curve NID from "P-256", "prime256v1", "secp384r1"...; NID_undef if unknown. */
static int
curve_nid(const char *name)
{
	int	nid;

	if ((nid = EC_curve_nist2nid(name)) != NID_undef) {
		return nid;
	}
	return OBJ_sn2nid(name);
}

static int
load_rsa(struct alg_policy *ap, json_t *arr, const char *path)
{
	json_t		*r, *uses, *u;
	const char	*until = NULL, *key;
	size_t		 i, j;
	int		 bits;

	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > MAX_RSA_RULES) {
		log_warnx("%s: rsa_min: expected an array of 1..%d rules",
		    path, MAX_RSA_RULES);
		return 0;
	}
	json_array_foreach(arr, i, r) {
		json_object_foreach(r, key, u) {
			if (strcmp(key, "bits") != 0 &&
			    strcmp(key, "uses") != 0 &&
			    strcmp(key, "not_after") != 0) {
				log_warnx("%s: rsa_min[%zu]: unknown key \"%s\"",
				    path, i, key);
				return 0;
			}
		}
		uses = NULL;
		until = NULL;
		if (json_unpack(r, "{s:i, s?o, s?s}", "bits", &bits,
		    "uses", &uses, "not_after", &until) != 0 ||
		    bits < 1024 || bits > 16384) {
			log_warnx("%s: rsa_min[%zu]: needs \"bits\" "
			    "(1024..16384)", path, i);
			return 0;
		}
		ap->rsa[i].bits = bits;
		ap->rsa[i].uses = uses == NULL ? USE_ALL : 0;
		if (uses != NULL) {
			if (!json_is_array(uses)) {
				log_warnx("%s: rsa_min[%zu]: uses: not an array",
				    path, i);
				return 0;
			}
			json_array_foreach(uses, j, u) {
				if (!json_is_string(u)) {
					log_warnx("%s: rsa_min[%zu]: uses: "
					    "not a string", path, i);
					return 0;
				}
				if (strcmp(json_string_value(u), "ca") == 0) {
					ap->rsa[i].uses |= 1u << KEY_USE_CA;
				} else if (strcmp(json_string_value(u),
				    "subject") == 0) {
					ap->rsa[i].uses |= 1u << KEY_USE_SUBJECT;
				} else if (strcmp(json_string_value(u),
				    "ocsp") == 0) {
					ap->rsa[i].uses |= 1u << KEY_USE_OCSP;
				} else {
					log_warnx("%s: rsa_min[%zu]: unknown "
					    "use \"%s\"", path, i,
					    json_string_value(u));
					return 0;
				}
			}
		}
		if (until != NULL) {
			if (strlen(until) != 10 ||
			    !time_parse(until, &ap->rsa[i].not_after, path)) {
				log_warnx("%s: rsa_min[%zu]: not_after: "
				    "expected YYYY-MM-DD", path, i);
				return 0;
			}
			ap->rsa[i].not_after += 86399;
			snprintf(ap->rsa[i].until, sizeof(ap->rsa[i].until),
			    "%s", until);
		}
	}
	ap->nrsa = json_array_size(arr);
	return 1;
}

static int
load_names(json_t *arr, const char *path, const char *field,
    int (*one)(struct alg_policy *, const char *), struct alg_policy *ap)
{
	json_t	*v;
	size_t	 i;

	if (!json_is_array(arr)) {
		log_warnx("%s: %s: not an array", path, field);
		return 0;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			log_warnx("%s: %s[%zu]: not a string", path, field, i);
			return 0;
		}
		if (!one(ap, json_string_value(v))) {
			log_warnx("%s: %s: unknown or too many: \"%s\"", path,
			    field, json_string_value(v));
			return 0;
		}
	}
	return 1;
}

static int
add_key_type(struct alg_policy *ap, const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(key_type_names) / sizeof(key_type_names[0]);
	    i++) {
		if (strcmp(key_type_names[i].name, name) == 0) {
			ap->key_types |= key_type_names[i].bit;
			return 1;
		}
	}
	return 0;
}

static int
add_curve(struct alg_policy *ap, const char *name)
{
	int	nid;

	if ((nid = curve_nid(name)) == NID_undef ||
	    ap->ncurves == MAX_CURVES) {
		return 0;
	}
	ap->curves[ap->ncurves++] = nid;
	return 1;
}

static int
add_sigalg(struct alg_policy *ap, const char *name)
{
	size_t	i;

	for (i = 0; i < NSIGALGS; i++) {
		if (strcmp(sigalg_defs[i].name, name) == 0) {
			ap->sigalgs |= 1u << sigalg_defs[i].bit;
			return 1;
		}
	}
	return 0;
}

/* Build a policy from a parsed JSON document; path names it in messages. */
static struct alg_policy *
policy_from_json(json_t *root, const char *path)
{
	struct alg_policy	*ap = NULL, *ret = NULL;
	json_t			*v;
	const char		*key;
	json_int_t		 e;

	if (!json_is_object(root)) {
		log_warnx("%s: not a JSON object", path);
		goto out;
	}
	if ((ap = calloc(1, sizeof(*ap))) == NULL) {
		fatalx("alg_policy_load: out of memory");
	}
	*ap = default_policy;
	json_object_foreach(root, key, v) {
		if (strcmp(key, "version") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) != 1) {
				log_warnx("%s: unsupported version", path);
				goto out;
			}
		} else if (strcmp(key, "key_types") == 0) {
			ap->key_types = 0;
			if (!load_names(v, path, key, add_key_type, ap)) {
				goto out;
			}
		} else if (strcmp(key, "rsa_min") == 0) {
			memset(ap->rsa, 0, sizeof(ap->rsa));
			if (!load_rsa(ap, v, path)) {
				goto out;
			}
		} else if (strcmp(key, "rsa_exponent") == 0) {
			e = json_is_integer(v) ? json_integer_value(v) : -1;
			if (e != 0 && (e < 65537 || e % 2 == 0)) {
				log_warnx("%s: rsa_exponent: expected 0 or an "
				    "odd integer > 65536", path);
				goto out;
			}
			ap->rsa_exponent = (unsigned long)e;
		} else if (strcmp(key, "ec_curves") == 0) {
			ap->ncurves = 0;
			if (!load_names(v, path, key, add_curve, ap)) {
				goto out;
			}
		} else if (strcmp(key, "signature_algorithms") == 0) {
			ap->sigalgs = 0;
			if (!load_names(v, path, key, add_sigalg, ap)) {
				goto out;
			}
		} else if (strcmp(key, "comment") != 0) {
			log_warnx("%s: unknown key \"%s\"", path, key);
			goto out;
		}
	}
	ret = ap;
	ap = NULL;
 out:
	alg_policy_free(ap);
	return ret;
}

struct alg_policy *
alg_policy_load(const char *path)
{
	struct alg_policy	*ap = NULL;
	json_t			*root;
	json_error_t		 jerr;

	if ((root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		log_warnx("%s: line %d: %s", path, jerr.line, jerr.text);
		return NULL;
	}
	ap = policy_from_json(root, path);
	json_decref(root);
	return ap;
}

struct alg_policy *
alg_policy_parse(const char *text, const char *what)
{
	struct alg_policy	*ap = NULL;
	json_t			*root;
	json_error_t		 jerr;

	if ((root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		log_warnx("%s: line %d: %s", what, jerr.line, jerr.text);
		return NULL;
	}
	ap = policy_from_json(root, what);
	json_decref(root);
	return ap;
}

/*
 * Of three whole sentences, the one for a key of this use.  Each stays a
 * literal, so that its format is checked and it is translated as one
 * sentence (the use reads in Japanese too).
 */
#define PER_USE(use, ca, subject, ocsp)					\
	((use) == KEY_USE_CA ? (ca) : (use) == KEY_USE_SUBJECT ? (subject) : \
	(ocsp))

static int
check_rsa(const struct alg_policy *ap, const EVP_PKEY *pub,
    enum key_use use, time_t not_after, struct findings *out)
{
	const struct rsa_rule	*r, *dated = NULL, *expired = NULL;
	BIGNUM			*e = NULL;
	char			*dec = NULL, date[32];
	size_t			 i;
	int			 bits, ok = 1, min = 0, undated = 0;

	bits = EVP_PKEY_get_bits(pub);
	for (i = 0; i < ap->nrsa; i++) {
		r = &ap->rsa[i];
		if ((r->uses & (1u << use)) == 0) {
			continue;
		}
		if (min == 0 || r->bits < min) {
			min = r->bits;
		}
		if (bits < r->bits) {
			continue;
		}
		if (r->not_after == 0) {
			undated = 1;
			break;
		}
		if (not_after == 0 || not_after <= r->not_after) {
			dated = r;
		} else {
			expired = r;
		}
	}
	/* One text per use, so that the use reads in Japanese too. */
	if (undated) {
		findings_add(out, "ES-ALG-KEY-02", SRC_KEY, RULE_PASS,
		    PER_USE(use, N_("RSA-%d for ca keys"),
		    N_("RSA-%d for subject keys"), N_("RSA-%d for ocsp keys")),
		    bits);
	} else if (dated != NULL) {
		findings_add(out, "ES-ALG-KEY-02", SRC_KEY, RULE_PASS,
		    PER_USE(use,
		    N_("RSA-%d for ca keys allowed only with notAfter <= %s"),
		    N_("RSA-%d for subject keys allowed only with notAfter <= %s"),
		    N_("RSA-%d for ocsp keys allowed only with notAfter <= %s")),
		    bits, dated->until);
	} else if (expired != NULL) {
		ok = 0;
		time_fmt(not_after, date, sizeof(date));
		findings_add(out, "ES-ALG-KEY-02", SRC_KEY, RULE_FAIL,
		    PER_USE(use, N_("RSA-%d for ca keys only with notAfter <= "
		    "%s, notAfter is %s"), N_("RSA-%d for subject keys only "
		    "with notAfter <= %s, notAfter is %s"), N_("RSA-%d for "
		    "ocsp keys only with notAfter <= %s, notAfter is %s")),
		    bits, expired->until, date);
	} else {
		ok = 0;
		findings_add(out, "ES-ALG-KEY-02", SRC_KEY, RULE_FAIL,
		    PER_USE(use, N_("RSA modulus %d bits is below the minimum "
		    "of %d for ca keys"), N_("RSA modulus %d bits is below the "
		    "minimum of %d for subject keys"), N_("RSA modulus %d bits "
		    "is below the minimum of %d for ocsp keys")), bits, min);
	}

	if (!EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e)) {
		findings_add(out, "ES-ALG-KEY-03", SRC_RSA_E, RULE_FAIL,
		    "RSA public exponent unreadable");
		ERR_clear_error();
		ok = 0;
		goto out;
	}
	if ((dec = BN_bn2dec(e)) == NULL) {
		fatalx("check_rsa: out of memory");
	}
	if (!BN_is_odd(e) || BN_num_bits(e) <= 16 || BN_num_bits(e) > 256) {
		findings_add(out, "ES-ALG-KEY-03", SRC_RSA_E, RULE_FAIL,
		    "RSA public exponent %s: must be odd and 2^16 < e < 2^256",
		    dec);
		ok = 0;
	} else if (ap->rsa_exponent != 0 &&
	    !BN_is_word(e, ap->rsa_exponent)) {
		/* New keys are ours (CA): hard; subject keys: advice. */
		findings_add(out, "ES-ALG-KEY-03", SRC_RSA_E,
		    use == KEY_USE_CA ? RULE_FAIL : RULE_WARN,
		    "RSA public exponent %s: new keys use %lu", dec,
		    ap->rsa_exponent);
		if (use == KEY_USE_CA) {
			ok = 0;
		}
	} else {
		findings_add(out, "ES-ALG-KEY-03", SRC_RSA_E, RULE_PASS,
		    "e = %s", dec);
	}
 out:
	OPENSSL_free(dec);
	BN_free(e);
	return ok;
}

/*
 * 1 if the key was encoded with explicit curve parameters.  OpenSSL
 * matches explicit parameters to a named curve when it can, so the group
 * name alone does not tell; the SPKI re-encoding and the decoder flag do.
 */
static int
ec_explicit(const EVP_PKEY *pub)
{
	X509_PUBKEY		*xpk = NULL;
	const X509_ALGOR	*alg;
	const unsigned char	*p;
	unsigned char		*der = NULL;
	char			 enc[32] = "", name[64];
	int			 len, ptype, v = 0, ret = 0;
	const void		*pval;

	if (EVP_PKEY_get_int_param(pub,
	    OSSL_PKEY_PARAM_EC_DECODED_FROM_EXPLICIT_PARAMS, &v) && v != 0) {
		ret = 1;
		goto out;
	}
	if (EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_EC_ENCODING,
	    enc, sizeof(enc), NULL) && strcmp(enc, "explicit") == 0) {
		ret = 1;
		goto out;
	}
	/*
	 * Named-curve encoding of a group with a name: the encoder writes
	 * the curve's OID (or fails if it has none), which is what the round
	 * trip below would find, without an encoder and a decoder per key.
	 */
	if (strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) == 0 &&
	    EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME,
	    name, sizeof(name), NULL) && name[0] != '\0') {
		goto out;
	}
	if ((len = i2d_PUBKEY(pub, &der)) <= 0) {
		goto out;
	}
	p = der;
	if ((xpk = d2i_X509_PUBKEY(NULL, &p, len)) == NULL ||
	    !X509_PUBKEY_get0_param(NULL, NULL, NULL, (X509_ALGOR **)&alg,
	    xpk)) {
		goto out;
	}
	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	ret = ptype != V_ASN1_OBJECT;
 out:
	ERR_clear_error();
	X509_PUBKEY_free(xpk);
	OPENSSL_free(der);
	return ret;
}

static int
check_ec(const struct alg_policy *ap, const EVP_PKEY *pub,
    struct findings *out)
{
	char	 group[64];
	size_t	 i;
	int	 nid, ok = 1;

	nid = NID_undef;
	if (EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL)) {
		nid = curve_nid(group);
	} else {
		ERR_clear_error();
		snprintf(group, sizeof(group), "(unnamed)");
	}
	for (i = 0; i < ap->ncurves; i++) {
		if (ap->curves[i] == nid) {
			break;
		}
	}
	if (nid == NID_undef || i == ap->ncurves) {
		findings_add(out, "ES-ALG-KEY-04", SRC_KEY, RULE_FAIL,
		    "EC curve %s (%d bits) is not allowed", group,
		    EVP_PKEY_get_bits(pub));
		ok = 0;
	} else {
		findings_add(out, "ES-ALG-KEY-04", SRC_KEY, RULE_PASS,
		    "curve %s", group);
	}
	if (ec_explicit(pub)) {
		findings_add(out, "ES-ALG-KEY-05", SRC_KEY, RULE_FAIL,
		    "explicit EC parameters are forbidden (named curves only)");
		ok = 0;
	} else {
		findings_add(out, "ES-ALG-KEY-05", SRC_KEY, RULE_PASS,
		    "named curve");
	}
	return ok;
}

/* KT_* of a key; 0 if none we know. */
static unsigned
key_type(const EVP_PKEY *pub)
{
	if (EVP_PKEY_is_a(pub, "RSA")) {
		return KT_RSA;
	}
	if (EVP_PKEY_is_a(pub, "EC")) {
		return KT_EC;
	}
	if (EVP_PKEY_is_a(pub, "ED25519")) {
		return KT_ED25519;
	}
	if (EVP_PKEY_is_a(pub, "ED448")) {
		return KT_ED448;
	}
	return 0;
}

int
alg_policy_set_dated(struct alg_policy **ap, const char *text,
    const char *what)
{
	struct alg_policy *copy;
	json_t *arr, *p;
	json_error_t jerr;
	size_t i;

	if ((arr = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		log_warnx("%s: line %d: %s", what, jerr.line, jerr.text);
		return 0;
	}
	if (!json_is_array(arr)) {
		log_warnx("%s: expected an array of dated policies", what);
		json_decref(arr);
		return 0;
	}
	json_array_foreach(arr, i, p) {
		if (!alg_dated_valid(p, what)) {
			json_decref(arr);
			return 0;
		}
	}
	if (*ap == &default_policy) {
		if ((copy = calloc(1, sizeof(*copy))) == NULL) {
			fatalx("alg_policy_set_dated: out of memory");
		}
		*copy = default_policy;
		*ap = copy;
	}
	json_decref((*ap)->dated);
	(*ap)->dated = arr;
	return 1;
}

/*
 * ES-ALG-KEY-06: the key is listed by every dated policy of ap and none
 * ends before not_after (alg_dated_eval(), as the report's algorithm
 * horizon).  scheme: the RSA padding the key signs with; NULL when not
 * known (a subject key), so the earlier of the PKCS#1 v1.5 and PSS ends
 * counts.
 */
static void
check_dated(const struct alg_policy *ap, const EVP_PKEY *pub, unsigned kt,
    const char *scheme, time_t not_after, struct findings *out)
{
	struct alg_dated_result r;
	const char *kind = "", *name;
	char na[32], src[96];
	json_t *p;
	size_t i;
	int bits = EVP_PKEY_get_bits(pub);

	for (i = 0; i < sizeof(key_type_names) / sizeof(key_type_names[0]);
	    i++) {
		if (key_type_names[i].bit == kt) {
			kind = key_type_names[i].name;
		}
	}
	time_fmt(not_after, na, sizeof(na));
	json_array_foreach(ap->dated, i, p) {
		name = json_string_value(json_object_get(p, "policy"));
		snprintf(src, sizeof(src), "%s (dated algorithm policy)", name);
		alg_dated_eval(p, kind, bits, NULL, scheme, na, &r);
		if (!r.listed) {
			findings_add(out, "ES-ALG-KEY-06", src, RULE_FAIL,
			    "%s-%d keys are not listed by %s", kind, bits, name);
		} else if (r.leaves) {
			findings_add(out, "ES-ALG-KEY-06", src, RULE_FAIL,
			    "%s-%d leaves %s on %s, before notAfter %.10s (%s)",
			    kind, bits, name, r.end, na, r.clause);
		} else if (*r.end != '\0') {
			findings_add(out, "ES-ALG-KEY-06", src, RULE_PASS,
			    "%s-%d in %s until %s, notAfter %.10s", kind, bits,
			    name, r.end, na);
		} else {
			findings_add(out, "ES-ALG-KEY-06", src, RULE_PASS,
			    "%s-%d in %s with no end date, notAfter %.10s", kind,
			    bits, name, na);
		}
	}
}

int
alg_policy_check_key(const struct alg_policy *ap, const EVP_PKEY *pub,
    enum key_use use, time_t not_after, struct findings *out)
{
	return alg_policy_check_key_for(ap, pub, use, NULL, not_after, out);
}

int
alg_policy_check_key_for(const struct alg_policy *ap, const EVP_PKEY *pub,
    enum key_use use, const char *sig_alg, time_t not_after,
    struct findings *out)
{
	unsigned	kt;
	int		fails = out->fails;

	if (ap == NULL) {
		ap = &default_policy;
	}
	if (pub == NULL) {
		findings_add(out, "ES-ALG-KEY-01", SRC_KEY, RULE_FAIL,
		    "public key unreadable");
		return 0;
	}
	kt = key_type(pub);
	if (kt == 0 || (ap->key_types & kt) == 0) {
		findings_add(out, "ES-ALG-KEY-01", SRC_KEY, RULE_FAIL,
		    "public key type %s is not allowed",
		    EVP_PKEY_get0_type_name(pub) != NULL ?
		    EVP_PKEY_get0_type_name(pub) : "unknown");
		return 0;
	}
	findings_add(out, "ES-ALG-KEY-01", SRC_KEY, RULE_PASS, "%s key",
	    EVP_PKEY_get0_type_name(pub));
	if (kt == KT_RSA) {
		check_rsa(ap, pub, use, not_after, out);
	} else if (kt == KT_EC) {
		check_ec(ap, pub, out);
	}
	if (ap->dated != NULL && not_after != 0) {
		check_dated(ap, pub, kt, alg_dated_scheme(sig_alg), not_after,
		    out);
	}
	return out->fails == fails;
}

int
alg_policy_check_sigalg(const struct alg_policy *ap, const X509_ALGOR *alg,
    const EVP_PKEY *signer_pub, time_t not_after, struct findings *out)
{
	const struct sigalg_def	*d = NULL;
	const ASN1_OBJECT	*obj;
	unsigned char		*der = NULL;
	char			 name[80];
	size_t			 i;
	int			 len, ok = 0, bits;

	if (ap == NULL) {
		ap = &default_policy;
	}
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (OBJ_obj2txt(name, sizeof(name), obj, 0) <= 0) {
		snprintf(name, sizeof(name), "(unknown)");
	}
	if ((len = i2d_X509_ALGOR(alg, &der)) <= 0) {
		findings_add(out, "ES-ALG-SIG-01", SRC_SIG, RULE_FAIL,
		    "signature algorithm %s unencodable", name);
		ERR_clear_error();
		goto out;
	}
	for (i = 0; i < NSIGALGS; i++) {
		if ((size_t)len == sigalg_defs[i].len &&
		    memcmp(der, sigalg_defs[i].der, len) == 0) {
			d = &sigalg_defs[i];
			break;
		}
	}
	if (d == NULL) {
		findings_add(out, "ES-ALG-SIG-01", SRC_SIG, RULE_FAIL,
		    "signature algorithm %s%s is forbidden (TS 119 312 / "
		    "eseal-rules §3.3)", name,
		    OBJ_obj2nid(obj) == NID_rsassaPss ||
		    OBJ_obj2nid(obj) == NID_sha256WithRSAEncryption ||
		    OBJ_obj2nid(obj) == NID_ecdsa_with_SHA256 ?
		    " with these parameters" : "");
		goto out;
	}
	if ((ap->sigalgs & (1u << d->bit)) == 0) {
		findings_add(out, "ES-ALG-SIG-01", SRC_SIG, RULE_FAIL,
		    "signature algorithm %s is not allowed by the algorithm "
		    "policy", d->name);
		goto out;
	}
	findings_add(out, "ES-ALG-SIG-01", SRC_SIG, RULE_PASS, "%s", d->name);
	ok = 1;
	if (signer_pub == NULL) {
		findings_add(out, "ES-ALG-SIG-02", SRC_SIG_FIT, RULE_NA,
		    "signer key not known");
		goto out;
	}
	if (key_type(signer_pub) != d->key) {
		findings_add(out, "ES-ALG-SIG-02", SRC_SIG_FIT, RULE_FAIL,
		    "%s does not fit a %s signer key", d->name,
		    EVP_PKEY_get0_type_name(signer_pub));
		ok = 0;
		goto out;
	}
	bits = EVP_PKEY_get_bits(signer_pub);
	if (d->curve_bits != 0 && d->curve_bits != bits) {
		findings_add(out, "ES-ALG-SIG-02", SRC_SIG_FIT, RULE_FAIL,
		    "%s does not match the signer's %d-bit curve "
		    "(P-256/SHA-256, P-384/SHA-384, P-521/SHA-512)", d->name,
		    bits);
		ok = 0;
		goto out;
	}
	findings_add(out, "ES-ALG-SIG-02", SRC_SIG_FIT, RULE_PASS,
	    "%s with a %d-bit %s key", d->name, bits,
	    EVP_PKEY_get0_type_name(signer_pub));
 out:
	OPENSSL_free(der);
	return ok;
}

/* The toolkit's names (common/sigalg.c) of the sigalg_defs rows. */
static const struct {
	const char	*toolkit;
	const char	*policy;
} signing_names[] = {
	{ "rsa-pkcs1-sha256", "sha256WithRSAEncryption" },
	{ "rsa-pkcs1-sha384", "sha384WithRSAEncryption" },
	{ "rsa-pkcs1-sha512", "sha512WithRSAEncryption" },
	{ "rsa-pss-sha256", "rsassa-pss-sha256" },
	{ "rsa-pss-sha384", "rsassa-pss-sha384" },
	{ "rsa-pss-sha512", "rsassa-pss-sha512" },
	{ "ecdsa-sha256", "ecdsa-with-SHA256" },
	{ "ecdsa-sha384", "ecdsa-with-SHA384" },
	{ "ecdsa-sha512", "ecdsa-with-SHA512" },
	{ "ed25519", "ed25519" },
};

int
alg_policy_allows_signing(const struct alg_policy *ap, const char *alg_name,
    const char *what)
{
	const char *policy = NULL;
	size_t i;

	if (ap == NULL) {
		ap = &default_policy;
	}
	for (i = 0; i < sizeof(signing_names) / sizeof(signing_names[0]); i++) {
		if (strcmp(signing_names[i].toolkit, alg_name) == 0) {
			policy = signing_names[i].policy;
		}
	}
	for (i = 0; policy != NULL && i < NSIGALGS; i++) {
		if (strcmp(sigalg_defs[i].name, policy) == 0 &&
		    (ap->sigalgs & (1u << sigalg_defs[i].bit)) != 0) {
			return 1;
		}
	}
	log_warnx("%s: ES-ALG-SIG-03: signature algorithm %s%s%s%s is not "
	    "allowed by the algorithm policy (%s)", what, alg_name,
	    policy != NULL ? " (" : "", policy != NULL ? policy : "",
	    policy != NULL ? ")" : "", SRC_SIG_USE);
	return 0;
}
