/*
 * Key ceremonies.  One reviewed JSON ceremony file names every input
 * (nothing implicit, unknown keys refused): the CA, its token, key and
 * signature algorithms, the certificate contents, and for an issuing CA
 * its parent (or an external root, for which a CSR is emitted).  With a
 * quorum of officers present the ceremony generates the key on the
 * token, builds the certificate, signs a throw-away copy with an
 * ephemeral key and lints it, and only then signs the real certificate on
 * the token.  Each step goes into a transcript whose hash is in the
 * audit chain; the CA row, the ceremony and its audit entries commit in
 * one transaction.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <uuid/uuid.h>

#include "i18n.h"
#include "args.h"
#include "audit.h"
#include "ca.h"
#include "cacert.h"
#include "gate.h"
#include "lint.h"
#include "log.h"
#include "operators.h"
#include "util.h"

#define MAX_OFFICERS 16
#define MAX_POLICIES 16

struct ceremony {
	json_t		*root;
	const char	*file;
	char		 file_sha256[65];
	int		 issuing;
	const char	*ca;
	const char	*module, *token_label, *token_serial, *pin;
	enum key_alg	 kalg;
	const char	*key_label;
	enum sig_alg	 salg;
	json_t		*subject;
	time_t		 nb, na;
	int		 path_len;
	const char	*output;
	const char	*transcript;
	const char	*parent, *parent_pin;
	const char	*csr_output;
	const char	*crldp, *ca_issuers, *ocsp;
	char		*policies[MAX_POLICIES];
	size_t		 npolicies;
	json_t		*settings;
	const char	*officers[MAX_OFFICERS];
	size_t		 nofficers;
	int		 arl;		/* "ceremony": "arl" (a root's ARL) */
	char		 next_days[24];
	int		 pem;
};

struct transcript {
	char	*buf;
	size_t	 len;
	int	 quiet;
};

static void
tx_step(struct transcript *tx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tx_step(struct transcript *tx, const char *fmt, ...)
{
	char line[1024], ts[32];
	va_list ap;
	size_t n;

	time_fmt(now_utc(), ts, sizeof(ts));
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(ts) + strlen(line) + 3;
	if ((tx->buf = realloc(tx->buf, tx->len + n + 1)) == NULL) {
		fatalx("out of memory");
	}
	snprintf(tx->buf + tx->len, n + 1, "%s  %s\n", ts, line);
	tx->len += strlen(tx->buf + tx->len);
	if (!tx->quiet) {
		printf("%s  %s\n", ts, line);
		fflush(stdout);
	}
}


static const char *
get_str(json_t *obj, const char *key, int required, const char *where,
    const char *file)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		if (required) {
			log_warnx("%s: %s: \"%s\" is required", file, where, key);
		}
		return NULL;
	}
	if (!json_is_string(v) || json_string_length(v) == 0) {
		log_warnx("%s: %s: \"%s\" must be a non-empty string", file,
		    where, key);
		return NULL;
	}
	return json_string_value(v);
}

static void
ceremony_free(struct ceremony *c)
{
	json_decref(c->root);
}

/*
 * The "officers" list of the file, if any: without it any officers of
 * the quorum may run the ceremony; with it only those named, so an empty
 * list (which would let anyone) is refused, as are empty and repeated
 * names.  1/0 (logged).
 */
static int
parse_officers(struct ceremony *c)
{
	json_t *v;
	const char *name;
	size_t i, j;

	if ((v = json_object_get(c->root, "officers")) == NULL) {
		return 1;
	}
	if (!json_is_array(v) || json_array_size(v) > MAX_OFFICERS) {
		log_warnx("%s: \"officers\" must be an array of names", c->file);
		return 0;
	}
	if (json_array_size(v) == 0) {
		log_warnx("%s: ES-CER-01: \"officers\" is empty: name the "
		    "officers who may run the ceremony, or leave the key out",
		    c->file);
		return 0;
	}
	for (i = 0; i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i))) {
			log_warnx("%s: \"officers\" must be names", c->file);
			return 0;
		}
		name = json_string_value(json_array_get(v, i));
		if (*name == '\0') {
			log_warnx("%s: ES-CER-01: \"officers\": an empty name",
			    c->file);
			return 0;
		}
		for (j = 0; j < c->nofficers; j++) {
			if (strcmp(c->officers[j], name) == 0) {
				log_warnx("%s: ES-CER-01: officer %s is named "
				    "twice", c->file, name);
				return 0;
			}
		}
		c->officers[c->nofficers++] = name;
	}
	return 1;
}

/*
 * A new CA's name: 1 to 63 characters of a-z, 0-9 and "-", not starting
 * with "-".  It names files (NAME.crl), objects in the audit chain
 * ("ca:NAME") and comma-separated lists (export-status --ca), so nothing
 * else is allowed.  1/0 (logged).
 */
static int
ca_name_valid(const char *name, const char *file)
{
	size_t i, n = strlen(name);

	for (i = 0; i < n; i++) {
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '-')) {
			break;
		}
	}
	if (n == 0 || n > 63 || i < n || name[0] == '-') {
		log_warnx("%s: ES-NAME-01: CA name \"%s\" must be 1 to 63 "
		    "characters of a-z, 0-9 and -, not starting with -", file,
		    name);
		return 0;
	}
	return 1;
}

/*
 * The rest of an "arl" ceremony file: a root CA signs its authority
 * revocation list (the issuing CAs it revoked) under the quorum.  The
 * key is the CA's own (the store knows its token); "token" gives the
 * PIN source and may name the token (label or serial) to be checked.
 * 1/0 (logged).
 */
static int
arl_parse(struct ceremony *c)
{
	static const char *const top[] = { "ceremony", "ca", "officers", "token",
	    "next-update-days", "output", "format", "transcript", "comment",
	    NULL };
	static const char *const tokk[] = { "module", "label", "serial", "pin",
	    NULL };
	const char *file = c->file, *s;
	json_t *t, *v;

	c->arl = 1;
	if (!json_known_keys(c->root, top, "ceremony", file) ||
	    (c->ca = get_str(c->root, "ca", 1, "ceremony", file)) == NULL ||
	    !parse_officers(c)) {
		return 0;
	}
	t = json_object_get(c->root, "token");
	if (t == NULL || !json_known_keys(t, tokk, "token", file) ||
	    (c->pin = get_str(t, "pin", 1, "token", file)) == NULL) {
		if (t == NULL) {
			log_warnx("%s: \"token\" is required", file);
		}
		return 0;
	}
	c->module = get_str(t, "module", 0, "token", file);
	c->token_label = get_str(t, "label", 0, "token", file);
	c->token_serial = get_str(t, "serial", 0, "token", file);
	if (c->token_label != NULL && c->token_serial != NULL) {
		log_warnx("%s: token: name the token by \"label\" or by "
		    "\"serial\", not both", file);
		return 0;
	}
	if ((v = json_object_get(c->root, "next-update-days")) == NULL ||
	    !json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 3660) {
		log_warnx("%s: \"next-update-days\" is required: days from "
		    "thisUpdate to nextUpdate (1..3660)", file);
		return 0;
	}
	snprintf(c->next_days, sizeof(c->next_days), "%lld",
	    (long long)json_integer_value(v));
	if ((c->output = get_str(c->root, "output", 1, "ceremony", file)) ==
	    NULL) {
		return 0;
	}
	if ((v = json_object_get(c->root, "format")) != NULL) {
		if ((s = get_str(c->root, "format", 0, "ceremony", file)) ==
		    NULL || (strcmp(s, "pem") != 0 && strcmp(s, "der") != 0)) {
			log_warnx("%s: \"format\" must be \"der\" or \"pem\"",
			    file);
			return 0;
		}
		c->pem = strcmp(s, "pem") == 0;
	}
	c->transcript = get_str(c->root, "transcript", 0, "ceremony", file);
	return 1;
}

/* Parse and check the whole ceremony file before anything happens. 1/0. */
static int
ceremony_parse(const char *file, struct ceremony *c)
{
	static const char *const top[] = { "ceremony", "ca", "officers", "token",
	    "key", "signature", "certificate", "parent", "external", "settings",
	    "transcript", "comment", NULL };
	static const char *const tokk[] = { "module", "label", "serial", "pin",
	    NULL };
	static const char *const keyk[] = { "algorithm", "label", NULL };
	static const char *const certk[] = { "subject", "not-before",
	    "not-after", "path-length", "crl-distribution-point", "ca-issuers",
	    "ocsp", "policies", "output", NULL };
	static const char *const parentk[] = { "ca", "pin", NULL };
	static const char *const extk[] = { "csr-output", NULL };
	unsigned char *buf = NULL;
	json_error_t jerr;
	json_t *t, *k, *ce, *p, *v;
	const char *s;
	size_t len, i;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	c->file = file;
	c->path_len = -1;
	if (!file_read(file, 1 << 20, &buf, &len)) {
		return 0;
	}
	sha256_hex(buf, len, c->file_sha256);
	if ((c->root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		log_warnx("%s:%d: %s", file, jerr.line, jerr.text);
		goto out;
	}
	if ((s = get_str(c->root, "ceremony", 1, "ceremony", file)) == NULL) {
		goto out;
	}
	if (strcmp(s, "arl") == 0) {
		ret = arl_parse(c);
		goto out;
	}
	if (!json_known_keys(c->root, top, "ceremony", file)) {
		goto out;
	}
	if (strcmp(s, "root") == 0) {
		c->issuing = 0;
	} else if (strcmp(s, "issuing") == 0) {
		c->issuing = 1;
	} else {
		log_warnx("%s: \"ceremony\" must be \"root\", \"issuing\" or "
		    "\"arl\"", file);
		goto out;
	}
	if ((c->ca = get_str(c->root, "ca", 1, "ceremony", file)) == NULL ||
	    !ca_name_valid(c->ca, file)) {
		goto out;
	}
	if (!parse_officers(c)) {
		goto out;
	}
	t = json_object_get(c->root, "token");
	if (t == NULL || !json_known_keys(t, tokk, "token", file) ||
	    (c->module = get_str(t, "module", 1, "token", file)) == NULL ||
	    (c->pin = get_str(t, "pin", 1, "token", file)) == NULL) {
		if (t == NULL) {
			log_warnx("%s: \"token\" is required", file);
		}
		goto out;
	}
	/* The token by label or by serial number: exactly one of them. */
	c->token_label = get_str(t, "label", 0, "token", file);
	c->token_serial = get_str(t, "serial", 0, "token", file);
	if ((c->token_label == NULL) == (c->token_serial == NULL)) {
		log_warnx("%s: token: name the token by \"label\" or by "
		    "\"serial\" (exactly one)", file);
		goto out;
	}
	k = json_object_get(c->root, "key");
	if (k == NULL || !json_known_keys(k, keyk, "key", file) ||
	    (s = get_str(k, "algorithm", 1, "key", file)) == NULL ||
	    !key_alg_from_name(s, &c->kalg, file) ||
	    (c->key_label = get_str(k, "label", 1, "key", file)) == NULL) {
		if (k == NULL) {
			log_warnx("%s: \"key\" is required", file);
		}
		goto out;
	}
	if ((s = get_str(c->root, "signature", 1, "ceremony", file)) == NULL ||
	    !sig_alg_from_name(s, &c->salg, file)) {
		goto out;
	}
	if (!sig_alg_fits_key(c->salg, c->kalg)) {
		log_warnx("%s: ES-ALG-SIG-02: signature %s does not fit key %s",
		    file, sig_alg_name(c->salg), key_alg_name(c->kalg));
		goto out;
	}
	ce = json_object_get(c->root, "certificate");
	if (ce == NULL || !json_known_keys(ce, certk, "certificate", file)) {
		if (ce == NULL) {
			log_warnx("%s: \"certificate\" is required", file);
		}
		goto out;
	}
	if ((c->subject = json_object_get(ce, "subject")) == NULL) {
		log_warnx("%s: certificate: \"subject\" is required", file);
		goto out;
	}
	if ((s = get_str(ce, "not-before", 1, "certificate", file)) == NULL ||
	    !time_parse(s, &c->nb, file) ||
	    (s = get_str(ce, "not-after", 1, "certificate", file)) == NULL ||
	    !time_parse(s, &c->na, file)) {
		goto out;
	}
	if (c->na <= c->nb) {
		log_warnx("%s: ES-VAL-02: not-after is not after not-before", file);
		goto out;
	}
	if ((v = json_object_get(ce, "path-length")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 8) {
			log_warnx("%s: certificate: \"path-length\" must be 0..8",
			    file);
			goto out;
		}
		c->path_len = (int)json_integer_value(v);
	}
	c->crldp = get_str(ce, "crl-distribution-point", 0, "certificate", file);
	c->ca_issuers = get_str(ce, "ca-issuers", 0, "certificate", file);
	c->ocsp = get_str(ce, "ocsp", 0, "certificate", file);
	if ((v = json_object_get(ce, "policies")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) > MAX_POLICIES) {
			log_warnx("%s: certificate: \"policies\" must be an array "
			    "of OIDs", file);
			goto out;
		}
		for (i = 0; i < json_array_size(v); i++) {
			json_t *o = json_array_get(v, i);
			ASN1_OBJECT *obj;

			if (!json_is_string(o) || (obj = OBJ_txt2obj(
			    json_string_value(o), 1)) == NULL) {
				log_warnx("%s: certificate: bad policy OID", file);
				goto out;
			}
			ASN1_OBJECT_free(obj);
			c->policies[c->npolicies++] = (char *)json_string_value(o);
		}
	}
	c->output = get_str(ce, "output", 0, "certificate", file);
	c->transcript = get_str(c->root, "transcript", 0, "ceremony", file);
	c->settings = json_object_get(c->root, "settings");
	if (c->settings != NULL && !json_is_object(c->settings)) {
		log_warnx("%s: \"settings\" must be an object", file);
		goto out;
	}
	p = json_object_get(c->root, "parent");
	v = json_object_get(c->root, "external");
	if (!c->issuing) {
		if (p != NULL || v != NULL || c->crldp != NULL ||
		    c->ca_issuers != NULL || c->npolicies > 0) {
			log_warnx("%s: a root ceremony takes no parent, external, "
			    "crl-distribution-point, ca-issuers or policies", file);
			goto out;
		}
		if (c->output == NULL) {
			log_warnx("%s: certificate: \"output\" is required", file);
			goto out;
		}
	} else if ((p == NULL) == (v == NULL)) {
		log_warnx("%s: an issuing ceremony names either \"parent\" or "
		    "\"external\" (a CSR for an external root)", file);
		goto out;
	} else if (p != NULL) {
		if (!json_known_keys(p, parentk, "parent", file) ||
		    (c->parent = get_str(p, "ca", 1, "parent", file)) == NULL ||
		    (c->parent_pin = get_str(p, "pin", 1, "parent", file)) ==
		    NULL) {
			goto out;
		}
		if (c->output == NULL) {
			log_warnx("%s: certificate: \"output\" is required", file);
			goto out;
		}
	} else {
		if (!json_known_keys(v, extk, "external", file) ||
		    (c->csr_output = get_str(v, "csr-output", 1, "external",
		    file)) == NULL) {
			goto out;
		}
	}
	ret = 1;
out:
	free(buf);
	return ret;
}

static void
ceremony_print(const struct ceremony *c)
{
	char nb[32], na[32];
	char *dump;
	size_t i;

	if (c->arl) {
		printf("ceremony file   %s (sha256 %s)\n", c->file,
		    c->file_sha256);
		printf("kind            ARL of root CA \"%s\" (the issuing CAs "
		    "it revoked)\n", c->ca);
		printf("token           %s%s%s, PIN from %s\n",
		    c->token_label != NULL || c->token_serial != NULL ?
		    "token \"" : "the CA's token", c->token_label != NULL ?
		    c->token_label : c->token_serial != NULL ? c->token_serial :
		    "", c->token_label != NULL || c->token_serial != NULL ?
		    "\"" : "", c->pin);
		printf("next update     %s days after thisUpdate\n", c->next_days);
		for (i = 0; i < c->nofficers; i++) {
			printf("officer         %s\n", c->officers[i]);
		}
		printf("output          %s (%s)\n", c->output, c->pem ? "PEM" :
		    "DER");
		if (c->transcript != NULL) {
			printf("transcript      %s\n", c->transcript);
		}
		return;
	}
	time_fmt(c->nb, nb, sizeof(nb));
	time_fmt(c->na, na, sizeof(na));
	dump = json_dumps(c->subject, JSON_PRESERVE_ORDER | JSON_COMPACT);
	printf("ceremony file   %s (sha256 %s)\n", c->file, c->file_sha256);
	printf("kind            %s CA \"%s\"\n", c->issuing ? "issuing" : "root",
	    c->ca);
	printf("token           module %s, token \"%s\", PIN from %s\n",
	    c->module, c->token_label != NULL ? c->token_label : c->token_serial,
	    c->pin);
	printf("key             %s, label \"%s\", generated on the token, "
	    "never extractable\n", key_alg_name(c->kalg), c->key_label);
	printf("signature       %s\n", sig_alg_name(c->salg));
	printf("subject         %s\n", dump != NULL ? dump : "?");
	printf("validity        %s .. %s\n", nb, na);
	if (c->path_len >= 0) {
		printf("path length     %d\n", c->path_len);
	}
	if (c->parent != NULL) {
		printf("signed by       CA \"%s\" (PIN from %s)\n", c->parent,
		    c->parent_pin);
	}
	if (c->csr_output != NULL) {
		printf("external root   CSR written to %s\n", c->csr_output);
	}
	if (c->crldp != NULL) {
		printf("CRL DP          %s\n", c->crldp);
	}
	if (c->ca_issuers != NULL) {
		printf("caIssuers       %s\n", c->ca_issuers);
	}
	if (c->ocsp != NULL) {
		printf("OCSP            %s\n", c->ocsp);
	}
	for (i = 0; i < c->npolicies; i++) {
		printf("policy          %s\n", c->policies[i]);
	}
	for (i = 0; i < c->nofficers; i++) {
		printf("officer         %s\n", c->officers[i]);
	}
	if (c->output != NULL) {
		printf("output          %s\n", c->output);
	}
	free(dump);
}

static char *
spki_sha256(EVP_PKEY *pub)
{
	unsigned char *der = NULL;
	char hex[65], *s;
	int len;

	if ((len = i2d_PUBKEY(pub, &der)) <= 0) {
		fatalx("cannot encode public key");
	}
	sha256_hex(der, (size_t)len, hex);
	OPENSSL_free(der);
	if ((s = strdup(hex)) == NULL) {
		fatalx("out of memory");
	}
	return s;
}


static int
cn_has_test(X509_NAME *name)
{
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	ASN1_STRING *s;

	if (i < 0) {
		return 0;
	}
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	return memmem(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
	    "TEST", 4) != NULL;
}

static int
officer_listed(const struct ceremony *c, const char *name)
{
	size_t i;

	if (c->nofficers == 0) {
		return 1;
	}
	for (i = 0; i < c->nofficers; i++) {
		if (strcmp(c->officers[i], name) == 0) {
			return 1;
		}
	}
	return 0;
}

/* The token's mechanism names as a JSON array (malloc'd), NULL (logged). */
static char *
token_mechanisms_json(struct hsm_module *mod, const struct hsm_token_info *ti)
{
	struct hsm_mech *m = NULL;
	json_t *arr;
	size_t n = 0, i;
	char *s;

	if (!hsm_module_mechanisms(mod, ti->slot_id, &m, &n)) {
		return NULL;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(arr, json_string(m[i].name));
	}
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	free(m);
	if (s == NULL) {
		fatalx("out of memory");
	}
	return s;
}

/*
 * Record the token in the HSM inventory (in the caller's transaction):
 * identity as reported over PKCS#11, library, mechanisms, first and last
 * seen.  1/0 (logged).
 */
static int
record_token(struct db *db, const struct hsm_token_info *ti, const char *hw,
    const char *fw, const char *module, const char *mechs, const char *now)
{
	sqlite3_stmt *st;
	int ok;

	st = db_prepare(db, "INSERT INTO tokens (manufacturer, model, serial,"
	    " label, hw, fw, library, module_path, mechanisms, first_seen,"
	    " last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
	    " ON CONFLICT (manufacturer, model, serial) DO UPDATE SET"
	    " label = excluded.label, hw = excluded.hw, fw = excluded.fw,"
	    " library = excluded.library, module_path = excluded.module_path,"
	    " mechanisms = excluded.mechanisms, last_seen = excluded.last_seen");
	if (st == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, ti->manufacturer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ti->model, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, ti->serial, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, ti->label, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, hw, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, fw, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, ti->lib_description, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, module, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, mechs, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 11, now, -1, SQLITE_TRANSIENT);
	ok = sqlite3_step(st) == SQLITE_DONE;
	if (!ok) {
		db_log_error(db, "record token");
	}
	sqlite3_finalize(st);
	return ok;
}

static int
ceremony_run(struct ceremony *c, char **specs, size_t nspecs, int quiet)
{
	struct transcript tx = { NULL, 0, quiet };
	struct quorum q = { 0 };
	struct findings f;
	struct db *db = NULL;
	struct hsm_module *mod = NULL;
	struct hsm_token *tok = NULL;
	struct hsm_key *key = NULL;
	struct hsm_provenance prov;
	const struct hsm_token_info *ti;
	struct ca_key *parent = NULL, newca;
	struct lint_opts lo;
	X509_NAME *subject = NULL;
	X509 *cert = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *tk = NULL, *tsign = NULL;
	struct alg_policy *ap = NULL;
	BIO *bio = NULL;
	sqlite3_stmt *st = NULL;
	struct cacert_spec spec;
	char *who = NULL, *mode = NULL, *fp = NULL, *settings = NULL;
	char object[160], ceremony_id[37], hw[16], fw[16], tx_sha[65];
	char cmvp_cert[32] = "", cmvp_status[32] = "", cert_sha[65] = "";
	char sunset_warn[256] = "", *mechs = NULL;
	char nb[32], na[32], now[32], started[32];
	unsigned char *der = NULL;
	const char *kind_name = c->issuing ? "issuing" : "root";
	enum sig_alg cert_alg;
	enum hsm_login_result lr;
	uuid_t uu;
	size_t i;
	int ret = EXIT_ERROR, derlen = 0, committed = 0;

	findings_init(&f);
	memset(&newca, 0, sizeof(newca));
	snprintf(object, sizeof(object), "ca:%s", c->ca);
	uuid_generate_random(uu);
	uuid_unparse_lower(uu, ceremony_id);
	time_fmt(now_utc(), started, sizeof(started));
	if ((subject = name_from_json(c->subject, c->file)) == NULL) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if ((db = ca_open_db()) == NULL) {
		goto out;
	}
	mode = db_meta_get(db, "instance_mode");
	/* The CA name must be new. */
	if ((st = db_prepare(db, "SELECT 1 FROM cas WHERE name = ?")) == NULL) {
		goto out;
	}
	sqlite3_bind_text(st, 1, c->ca, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		log_warnx("%s: CA \"%s\" already exists in %s", c->file, c->ca,
		    db_path(db));
		ret = EXIT_REFUSED;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (mode != NULL && strcmp(mode, "test") == 0 && !cn_has_test(subject)) {
		log_warnx("%s: ES-ENV-01: a test instance's CA names carry a "
		    "visible test marker: put \"TEST\" in the subject CN", c->file);
		ret = EXIT_REFUSED;
		goto out;
	}

	/* Dual control: M distinct officers, from the file's list if given. */
	if (!quorum_gather(db, specs, nspecs, quorum_size(db), ROLE_OFFICER,
	    "ceremony", &q)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	for (i = 0; i < q.n; i++) {
		if (!officer_listed(c, q.names[i])) {
			log_warnx("%s: ES-QUORUM-04: officer %s is not named in the "
			    "ceremony file", c->file, q.names[i]);
			audit_append(db, q.names[i], "ceremony", object,
			    c->file_sha256, "refused: officer not named", NULL);
			ret = EXIT_REFUSED;
			goto out;
		}
	}
	who = quorum_names(&q);
	tx_step(&tx, "ceremony %s: %s CA \"%s\" from %s (sha256 %s)",
	    ceremony_id, kind_name, c->ca, c->file, c->file_sha256);
	tx_step(&tx, "officers present and authenticated: %s", who);
	audit_append(db, who, "ceremony-start", object, c->file_sha256, "ok",
	    ceremony_id);

	/* The token, its identity and the policy gate. */
	if ((mod = hsm_module_load(c->module)) == NULL ||
	    (tok = hsm_token_open(mod, c->token_label, c->token_label != NULL ?
	    NULL : c->token_serial)) == NULL) {
		audit_append(db, who, "ceremony", object, c->file_sha256,
		    "refused: token missing", c->token_label != NULL ?
		    c->token_label : c->token_serial);
		goto out;
	}
	ti = hsm_token_get_info(tok);
	snprintf(hw, sizeof(hw), "%u.%u", ti->hw_major, ti->hw_minor);
	snprintf(fw, sizeof(fw), "%u.%u", ti->fw_major, ti->fw_minor);
	tx_step(&tx, "token: label \"%s\" manufacturer \"%s\" model \"%s\" "
	    "serial \"%s\" hw %s fw %s library \"%s\"", ti->label,
	    ti->manufacturer, ti->model, ti->serial, hw, fw,
	    ti->lib_description);
	if (!gate_check(db, ti, c->issuing ? GATE_KEYGEN_ISSUING :
	    GATE_KEYGEN_ROOT, who, object, cmvp_cert, sizeof(cmvp_cert),
	    cmvp_status, sizeof(cmvp_status))) {
		ret = EXIT_REFUSED;
		goto out;
	}
	tx_step(&tx, "policy gate: CMVP certificate %s, effective status %s",
	    cmvp_cert, cmvp_status);
	gate_sunset_warn(db, cmvp_cert, c->na, who, object, sunset_warn,
	    sizeof(sunset_warn));
	if (sunset_warn[0] != '\0') {
		tx_step(&tx, "%s", sunset_warn);
	}
	if ((mechs = token_mechanisms_json(mod, ti)) == NULL) {
		goto out;
	}
	lr = hsm_token_login(tok, c->pin);
	if (lr != HSM_LOGIN_OK) {
		audit_append(db, who, "token-login", object, NULL,
		    lr == HSM_LOGIN_BAD_PIN ? "refused: wrong PIN" :
		    "refused: login failed", ti->serial);
		ret = lr == HSM_LOGIN_ERROR ? EXIT_ERROR : EXIT_REFUSED;
		goto out;
	}
	audit_append(db, who, "token-login", object, NULL, "ok", ti->serial);
	if (!hsm_token_can_generate(tok, c->kalg) ||
	    !hsm_token_can_sign(tok, c->salg)) {
		log_warnx("%s: ES-HSM-MECH-01: token %s does not support %s "
		    "with %s", c->file, ti->serial, key_alg_name(c->kalg),
		    sig_alg_name(c->salg));
		audit_append(db, who, "ceremony", object, c->file_sha256,
		    "refused: mechanism not supported", key_alg_name(c->kalg));
		ret = EXIT_REFUSED;
		goto out;
	}

	/* An issuing CA's parent key must be usable before a key is made. */
	if (c->parent != NULL) {
		int why;

		if ((parent = ca_key_open_signing(db, c->parent,
		    c->parent_pin, who, object, NULL, &why)) == NULL) {
			ret = why;
			goto out;
		}
		if (parent->cert == NULL) {
			log_warnx("%s: parent CA %s has no certificate yet",
			    c->file, c->parent);
			ret = EXIT_REFUSED;
			goto out;
		}
		time_t now_t = now_utc();

		if (X509_cmp_time(X509_get0_notAfter(parent->cert), &now_t) <= 0 ||
		    X509_cmp_time(X509_get0_notBefore(parent->cert), &now_t) > 0) {
			log_warnx("%s: ES-CA-05: parent CA %s is not valid now",
			    c->file, c->parent);
			ret = EXIT_REFUSED;
			goto out;
		}
		if (ASN1_TIME_cmp_time_t(X509_get0_notAfter(parent->cert),
		    c->na) < 0) {
			log_warnx("%s: ES-VAL-02: not-after is beyond the parent "
			    "CA's notAfter", c->file);
			ret = EXIT_REFUSED;
			goto out;
		}
		tx_step(&tx, "parent CA \"%s\" key opened on token %s", c->parent,
		    hsm_token_get_info(parent->tok)->serial);
	}

	/* Algorithm policy on a throw-away key of the same type, before keygen. */
	if ((tk = throwaway_key(c->kalg)) == NULL) {
		log_ssl("%s: cannot make a throw-away %s key", c->file,
		    key_alg_name(c->kalg));
		goto out;
	}
	if ((ap = ca_alg_policy(db)) == NULL) {
		goto out;
	}
	if (!alg_policy_check_key(ap, tk, KEY_USE_CA, c->na, &f)) {
		findings_log_fails(&f, c->file);
		audit_append(db, who, "ceremony", object, c->file_sha256,
		    "refused: algorithm policy", key_alg_name(c->kalg));
		ret = EXIT_REFUSED;
		goto out;
	}

	/* Generate the key on the token and check its provenance. */
	if ((key = hsm_key_generate(tok, c->kalg, c->key_label)) == NULL) {
		audit_append(db, who, "key-generate", object, NULL, "failed",
		    key_alg_name(c->kalg));
		goto out;
	}
	if ((fp = spki_sha256(hsm_key_public(key))) == NULL) {
		goto out;
	}
	if (!hsm_key_provenance(key, &prov)) {
		goto destroy;
	}
	tx_step(&tx, "key generated on token %s: %s id %s label \"%s\" SPKI "
	    "sha256 %s", ti->serial, key_alg_name(c->kalg), hsm_key_id(key),
	    c->key_label, fp);
	tx_step(&tx, "key provenance: LOCAL=%d ALWAYS_SENSITIVE=%d "
	    "NEVER_EXTRACTABLE=%d EXTRACTABLE=%d SENSITIVE=%d", prov.local,
	    prov.always_sensitive, prov.never_extractable, prov.extractable,
	    prov.sensitive);
	if (!prov.local || !prov.always_sensitive || !prov.never_extractable ||
	    prov.extractable) {
		log_warnx("%s: ES-KEY-01: key provenance not proven (LOCAL, "
		    "ALWAYS_SENSITIVE, NEVER_EXTRACTABLE must be true, "
		    "EXTRACTABLE false)", c->file);
		audit_append(db, who, "key-generate", object, fp,
		    "refused: provenance", NULL);
		ret = EXIT_REFUSED;
		goto destroy;
	}

	if (c->csr_output != NULL) {
		/* External root: a CSR signed on the token. */
		EVP_MD_CTX *mctx = EVP_MD_CTX_new();

		if ((req = csr_build(subject, hsm_key_public(key), c->file)) ==
		    NULL) {
			EVP_MD_CTX_free(mctx);
			goto destroy;
		}
		if (mctx == NULL || !hsm_sign_init(mctx, key, c->salg) ||
		    X509_REQ_sign_ctx(req, mctx) <= 0 ||
		    X509_REQ_verify(req, hsm_key_public(key)) != 1) {
			log_ssl("%s: cannot sign the CSR on the token", c->file);
			EVP_MD_CTX_free(mctx);
			goto destroy;
		}
		EVP_MD_CTX_free(mctx);
		tx_step(&tx, "CSR signed on the token with %s",
		    sig_alg_name(c->salg));
	} else {
		memset(&spec, 0, sizeof(spec));
		spec.subject = subject;
		spec.not_before = c->nb;
		spec.not_after = c->na;
		spec.path_len = c->path_len;
		spec.subject_pub = hsm_key_public(key);
		spec.issuer = parent != NULL ? parent->cert : NULL;
		spec.crldp_url = c->crldp;
		spec.ca_issuers_url = c->ca_issuers;
		spec.ocsp_url = c->ocsp;
		spec.policies = c->policies;
		spec.npolicies = c->npolicies;
		if ((cert = cacert_build(&spec, c->file)) == NULL) {
			goto destroy;
		}
		cert_alg = parent != NULL ? parent->alg : c->salg;

		/* Throw-away copy: same contents, ephemeral signer, linted. */
		memset(&lo, 0, sizeof(lo));
		lo.kind = c->issuing ? LINT_ISSUING_CA : LINT_ROOT_CA;
		lo.ap = ap;
		lo.issuer = parent != NULL ? parent->cert : NULL;
		lo.throwaway = 1;
		/* The throw-away signer has the real signer's key type. */
		if (parent != NULL && (tsign = throwaway_key(key_alg_of_pkey(
		    X509_get0_pubkey(parent->cert)))) == NULL) {
			log_ssl("%s: cannot make a throw-away signer key",
			    c->file);
			goto destroy;
		}
		if (!x509_sign_with(cert, tsign != NULL ? tsign : tk, NULL, cert_alg,
		    c->file)) {
			goto destroy;
		}
		findings_free(&f);
		findings_init(&f);
		if (!lint_certificate(cert, &lo, &f)) {
			findings_log_fails(&f, c->file);
			tx_step(&tx, "lint of the throw-away certificate: %d "
			    "FAIL; nothing signed", f.fails);
			audit_append(db, who, "lint", object, c->file_sha256,
			    "refused", "throw-away certificate failed lint");
			ret = EXIT_REFUSED;
			goto destroy;
		}
		tx_step(&tx, "lint of the throw-away certificate: %zu rules, 0 "
		    "FAIL, %d WARN", f.n, f.warns);

		/* The real signature, on the token. */
		if (!x509_sign_with(cert, NULL, parent != NULL ? parent->key : key,
		    cert_alg, c->file)) {
			goto destroy;
		}
		if (X509_verify(cert, parent != NULL ?
		    X509_get0_pubkey(parent->cert) : hsm_key_public(key)) != 1) {
			log_ssl("%s: the token's signature does not verify",
			    c->file);
			goto destroy;
		}
		lo.throwaway = 0;
		findings_free(&f);
		findings_init(&f);
		if (!lint_certificate(cert, &lo, &f)) {
			findings_log_fails(&f, c->file);
			goto destroy;
		}
		x509_sha256_hex(cert, cert_sha);
		tx_step(&tx, "certificate signed on token %s with %s: sha256 %s",
		    parent != NULL ? hsm_token_get_info(parent->tok)->serial :
		    ti->serial, sig_alg_name(cert_alg), cert_sha);
		if ((derlen = i2d_X509(cert, &der)) <= 0) {
			log_ssl("%s: cannot encode certificate", c->file);
			goto destroy;
		}
	}

	/* Commit: CA row, ceremony with transcript, audit entries. */
	tx_step(&tx, "ceremony complete");
	sha256_hex(tx.buf, tx.len, tx_sha);
	time_fmt(now_utc(), now, sizeof(now));
	time_fmt(c->nb, nb, sizeof(nb));
	time_fmt(c->na, na, sizeof(na));
	if (c->settings != NULL) {
		settings = json_dumps(c->settings, JSON_COMPACT | JSON_SORT_KEYS);
	} else if ((settings = strdup("{}")) == NULL) {
		fatalx("out of memory");
	}
	if (!db_begin(db)) {
		goto destroy;
	}
	st = db_prepare(db, "INSERT INTO cas (name, kind, parent_id, status,"
	    " cert_der, cert_sha256, subject, not_before, not_after, key_alg,"
	    " sig_alg, module_path, token_label, token_serial,"
	    " token_manufacturer, token_model, token_hw, token_fw, key_id,"
	    " key_label, prov_local, prov_always_sensitive,"
	    " prov_never_extractable, prov_extractable, cmvp_cert,"
	    " cmvp_status_at_gen, ceremony_id, settings, created) VALUES"
	    " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (st == NULL) {
		goto rollback;
	}
	{
		char *subj = x509_name_str(subject);

		sqlite3_bind_text(st, 1, c->ca, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, kind_name, -1, SQLITE_STATIC);
		if (parent != NULL) {
			sqlite3_bind_int64(st, 3, parent->id);
		}
		sqlite3_bind_text(st, 4, cert != NULL ? "active" : "pending", -1,
		    SQLITE_STATIC);
		if (der != NULL) {
			sqlite3_bind_blob(st, 5, der, derlen, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 6, cert_sha, -1, SQLITE_TRANSIENT);
		}
		sqlite3_bind_text(st, 7, subj, -1, SQLITE_TRANSIENT);
		free(subj);
	}
	sqlite3_bind_text(st, 8, nb, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, na, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, key_alg_name(c->kalg), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, sig_alg_name(c->salg), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, c->module, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 13, ti->label, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 14, ti->serial, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 15, ti->manufacturer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 16, ti->model, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 17, hw, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 18, fw, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 19, hsm_key_id(key), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 20, c->key_label, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 21, prov.local);
	sqlite3_bind_int(st, 22, prov.always_sensitive);
	sqlite3_bind_int(st, 23, prov.never_extractable);
	sqlite3_bind_int(st, 24, prov.extractable);
	sqlite3_bind_text(st, 25, cmvp_cert, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 26, cmvp_status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 27, ceremony_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 28, settings, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 29, now, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, "insert CA");
		goto rollback;
	}
	newca.id = sqlite3_last_insert_rowid(db_handle(db));
	sqlite3_finalize(st);
	st = db_prepare(db, "INSERT INTO ceremonies (id, kind, file_sha256,"
	    " officers, started, finished, result, transcript,"
	    " transcript_sha256) VALUES (?,?,?,?,?,?,'ok',?,?)");
	if (st == NULL) {
		goto rollback;
	}
	sqlite3_bind_text(st, 1, ceremony_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, kind_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->file_sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, who, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, started, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, tx.buf, (int)tx.len, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, tx_sha, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, "insert ceremony");
		goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!audit_append(db, who, "key-generate", object, fp, "ok",
	    hsm_key_id(key)) ||
	    (cert != NULL && !audit_append(db, who, "certificate-sign", object,
	    c->file_sha256, "ok", cert_sha)) ||
	    (req != NULL && !audit_append(db, who, "csr-sign", object,
	    c->file_sha256, "ok", fp)) ||
	    !audit_append(db, who, "ceremony-end", object, tx_sha, "ok",
	    ceremony_id)) {
		goto rollback;
	}
	if (!record_token(db, ti, hw, fw, c->module, mechs, now)) {
		goto rollback;
	}
	if (!c->issuing) {
		char *cur = db_meta_get(db, "audit_ca");

		if (cur == NULL && !db_meta_set(db, "audit_ca", c->ca)) {
			free(cur);
			goto rollback;
		}
		free(cur);
	}
	if (!db_commit(db)) {
		goto rollback;
	}
	committed = 1;

	/* Outputs after the commit: the store is the record. */
	if (cert != NULL && !x509_write_pem(cert, c->output)) {
		goto out;
	}
	if (req != NULL) {
		char *data;
		long len;

		if ((bio = BIO_new(BIO_s_mem())) == NULL ||
		    !PEM_write_bio_X509_REQ(bio, req)) {
			log_ssl("%s: cannot encode CSR", c->csr_output);
			goto out;
		}
		len = BIO_get_mem_data(bio, &data);
		if (!file_write_atomic(c->csr_output, data, (size_t)len, 0644)) {
			goto out;
		}
	}
	if (c->transcript != NULL &&
	    !file_write_atomic(c->transcript, tx.buf, tx.len, 0644)) {
		goto out;
	}
	/* Sign the audit head: with the root's key, or the parent's. */
	if (parent != NULL) {
		ret = ca_audit_sign(db, parent, NULL) ? EXIT_OK : EXIT_ERROR;
	} else if (cert != NULL) {
		newca.name = (char *)c->ca;
		newca.key = key;
		newca.cert = cert;
		newca.alg = c->salg;
		x509_sha256_hex(cert, newca.cert_sha256);
		ret = ca_audit_sign(db, &newca, NULL) ? EXIT_OK : EXIT_ERROR;
		newca.name = NULL;
		newca.key = NULL;
		newca.cert = NULL;
	} else {
		ret = EXIT_OK;
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
		    "ceremony", ceremony_id, "ca", c->ca, "kind", kind_name,
		    "key_id", hsm_key_id(key), "spki_sha256", fp,
		    "certificate_sha256", cert_sha, "transcript_sha256", tx_sha,
		    "officers", who));
	}
	goto out;

rollback:
	db_rollback(db);
destroy:
	/* Nothing was committed: the new key must not survive on the token. */
	if (key != NULL && !committed) {
		if (hsm_key_destroy(key)) {
			key = NULL;
			tx_step(&tx, "ceremony aborted: the new key was destroyed");
		}
	}
out:
	sqlite3_finalize(st);
	findings_free(&f);
	ca_key_free(parent);
	hsm_key_free(key);
	hsm_token_close(tok);
	hsm_module_free(mod);
	X509_NAME_free(subject);
	X509_free(cert);
	X509_REQ_free(req);
	EVP_PKEY_free(tk);
	EVP_PKEY_free(tsign);
	alg_policy_free(ap);
	BIO_free(bio);
	OPENSSL_free(der);
	quorum_free(&q);
	db_close(db);
	free(tx.buf);
	free(who);
	free(mode);
	free(fp);
	free(settings);
	free(mechs);
	return ret;
}

/* An "arl" ceremony: signed by cmd_crl.c's code path.  exit code. */
static int
arl_run(const struct ceremony *c, char **specs, size_t nspecs)
{
	struct arl_ceremony ac;

	memset(&ac, 0, sizeof(ac));
	ac.file = c->file;
	ac.file_sha256 = c->file_sha256;
	ac.ca = c->ca;
	ac.pin = c->pin;
	ac.module = c->module;
	ac.token_label = c->token_label;
	ac.token_serial = c->token_serial;
	ac.next_days = c->next_days;
	ac.output = c->output;
	ac.pem = c->pem;
	ac.transcript = c->transcript;
	ac.listed = c->officers;
	ac.nlisted = c->nofficers;
	ac.specs = specs;
	ac.nspecs = nspecs;
	return crl_arl_ceremony(&ac);
}

/*
 * Every file the ceremony will write (certificate or ARL, CSR,
 * transcript) can be created: checked before the store or a token is
 * touched, so that nothing is signed or committed whose output is then
 * lost.  1/0 (logged, ES-OUT-01).
 */
static int
outputs_writable(const struct ceremony *c)
{
	return (c->output == NULL || out_path_writable(c->output, c->file)) &&
	    (c->csr_output == NULL || out_path_writable(c->csr_output,
	    c->file)) && (c->transcript == NULL ||
	    out_path_writable(c->transcript, c->file));
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca ceremony show FILE\n"
	    "       eseal-ca ceremony run FILE --officer NAME=SRC... [--quiet]\n"
	    "  show prints every input of a ceremony file for review; run performs\n"
	    "  it with a quorum of officers (SRC: prompt, file:PATH, fd:N, env:VAR).\n"
	    "  See eseal-ca(8) and doc/ceremony.md for the file format.\n"));
}

int
cmd_ceremony(int argc, char **argv)
{
	static const char *const valued[] = { "officer", NULL };
	static const char *const flags[] = { "quiet", NULL };
	struct ceremony c;
	struct args a;
	char *specs[MAX_OFFICERS];
	size_t n;
	int ret;

	if (!args_parse(argc, argv, valued, flags, &a)) {
		return EXIT_USAGE;
	}
	if (a.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (a.npos != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!ceremony_parse(a.pos[1], &c)) {
		ceremony_free(&c);
		return EXIT_REFUSED;
	}
	if (strcmp(a.pos[0], "show") == 0) {
		ceremony_print(&c);
		ret = EXIT_OK;
	} else if (strcmp(a.pos[0], "run") == 0 && !outputs_writable(&c)) {
		ret = EXIT_USAGE;
	} else if (strcmp(a.pos[0], "run") == 0) {
		n = args_all(&a, "officer", specs, MAX_OFFICERS);
		ret = c.arl ? arl_run(&c, specs, n) : ceremony_run(&c, specs, n,
		    args_flag(&a, "quiet") || g.json);
	} else {
		usage(stderr);
		ret = EXIT_USAGE;
	}
	ceremony_free(&c);
	return ret;
}
