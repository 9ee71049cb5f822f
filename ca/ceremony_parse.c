/*
 * Key ceremony files.  One reviewed JSON ceremony file names every input
 * (nothing implicit, unknown keys refused): the CA, its token, key and
 * signature algorithms, the certificate contents, and for an issuing CA
 * its parent (or an external root, for which a CSR is emitted); or, for
 * an "arl" ceremony, the root whose authority revocation list is signed.
 * This file parses and checks such a file before anything happens, and
 * prints it for review; ceremony_run.c performs it (ca/fuzz_ceremony.c
 * is the parser's fuzz target).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include "ca.h"
#include "ceremony.h"
#include "log.h"
#include "util.h"

/*
 * String key of obj: NULL (logged) if absent and required, if not a
 * non-empty string or if it holds a control character (ES-CER-02);
 * NULL (not logged) if absent and optional.
 */
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
	if (str_has_control(json_string_value(v))) {
		log_warnx("%s: ES-CER-02: %s: \"%s\": a control character "
		    "(it would reach the review print)", file, where, key);
		return NULL;
	}
	return json_string_value(v);
}

void
ceremony_free(struct ceremony *c)
{
	if (c == NULL) {
		return;
	}
	json_decref(c->root);
	c->root = NULL;
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
		if (str_has_control(name)) {
			log_warnx("%s: ES-CER-02: \"officers\": a control "
			    "character in a name", c->file);
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

/*
 * The token of a root or issuing ceremony (module, PIN, and exactly one
 * of label and serial), its key and the signature algorithm, which must
 * fit the key.  1/0 (logged).
 */
static int
parse_token_key(struct ceremony *c)
{
	static const char *const tokk[] = { "module", "label", "serial", "pin",
	    NULL };
	static const char *const keyk[] = { "algorithm", "label", NULL };
	const char *file = c->file, *s;
	json_t *t, *k;

	t = json_object_get(c->root, "token");
	if (t == NULL || !json_known_keys(t, tokk, "token", file) ||
	    (c->module = get_str(t, "module", 1, "token", file)) == NULL ||
	    (c->pin = get_str(t, "pin", 1, "token", file)) == NULL) {
		if (t == NULL) {
			log_warnx("%s: \"token\" is required", file);
		}
		return 0;
	}
	/* The token by label or by serial number: exactly one of them. */
	c->token_label = get_str(t, "label", 0, "token", file);
	c->token_serial = get_str(t, "serial", 0, "token", file);
	if ((c->token_label == NULL) == (c->token_serial == NULL)) {
		log_warnx("%s: token: name the token by \"label\" or by "
		    "\"serial\" (exactly one)", file);
		return 0;
	}
	k = json_object_get(c->root, "key");
	if (k == NULL || !json_known_keys(k, keyk, "key", file) ||
	    (s = get_str(k, "algorithm", 1, "key", file)) == NULL ||
	    !key_alg_from_name(s, &c->kalg, file) ||
	    (c->key_label = get_str(k, "label", 1, "key", file)) == NULL) {
		if (k == NULL) {
			log_warnx("%s: \"key\" is required", file);
		}
		return 0;
	}
	if ((s = get_str(c->root, "signature", 1, "ceremony", file)) == NULL ||
	    !sig_alg_from_name(s, &c->salg, file)) {
		return 0;
	}
	if (!sig_alg_fits_key(c->salg, c->kalg)) {
		log_warnx("%s: ES-ALG-SIG-02: signature %s does not fit key %s",
		    file, sig_alg_name(c->salg), key_alg_name(c->kalg));
		return 0;
	}
	return 1;
}

/*
 * The certificate's "policies": at most MAX_POLICIES OIDs (dotted or
 * names OpenSSL knows), kept as the file's strings.  1/0 (logged).
 */
static int
parse_policies(struct ceremony *c, json_t *v)
{
	ASN1_OBJECT *obj;
	json_t *o;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > MAX_POLICIES) {
		log_warnx("%s: certificate: \"policies\" must be an array "
		    "of OIDs", c->file);
		return 0;
	}
	for (i = 0; i < json_array_size(v); i++) {
		o = json_array_get(v, i);
		if (!json_is_string(o) || (obj = OBJ_txt2obj(
		    json_string_value(o), 1)) == NULL) {
			log_warnx("%s: certificate: bad policy OID", c->file);
			return 0;
		}
		ASN1_OBJECT_free(obj);
		c->policies[c->npolicies++] = (char *)json_string_value(o);
	}
	return 1;
}

/*
 * The "certificate" object: subject, validity (not-after after
 * not-before), path length, URLs, policies and output.  1/0 (logged).
 */
static int
parse_certificate(struct ceremony *c)
{
	static const char *const certk[] = { "subject", "not-before",
	    "not-after", "path-length", "crl-distribution-point", "ca-issuers",
	    "ocsp", "policies", "output", NULL };
	const char *file = c->file, *s;
	json_t *ce, *v;

	ce = json_object_get(c->root, "certificate");
	if (ce == NULL || !json_known_keys(ce, certk, "certificate", file)) {
		if (ce == NULL) {
			log_warnx("%s: \"certificate\" is required", file);
		}
		return 0;
	}
	if ((c->subject = json_object_get(ce, "subject")) == NULL) {
		log_warnx("%s: certificate: \"subject\" is required", file);
		return 0;
	}
	if ((s = get_str(ce, "not-before", 1, "certificate", file)) == NULL ||
	    !time_parse(s, &c->nb, file) ||
	    (s = get_str(ce, "not-after", 1, "certificate", file)) == NULL ||
	    !time_parse(s, &c->na, file)) {
		return 0;
	}
	if (c->na <= c->nb) {
		log_warnx("%s: ES-VAL-02: not-after is not after not-before", file);
		return 0;
	}
	if ((v = json_object_get(ce, "path-length")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 8) {
			log_warnx("%s: certificate: \"path-length\" must be 0..8",
			    file);
			return 0;
		}
		c->path_len = (int)json_integer_value(v);
	}
	c->crldp = get_str(ce, "crl-distribution-point", 0, "certificate", file);
	c->ca_issuers = get_str(ce, "ca-issuers", 0, "certificate", file);
	c->ocsp = get_str(ce, "ocsp", 0, "certificate", file);
	if ((v = json_object_get(ce, "policies")) != NULL &&
	    !parse_policies(c, v)) {
		return 0;
	}
	c->output = get_str(ce, "output", 0, "certificate", file);
	return 1;
}

/*
 * Who signs the certificate: a root signs itself (no parent, external,
 * CRL DP, caIssuers or policies); an issuing CA names either a "parent"
 * in the store or an "external" root (a CSR is written instead of a
 * certificate).  1/0 (logged).
 */
static int
parse_signer(struct ceremony *c)
{
	static const char *const parentk[] = { "ca", "pin", NULL };
	static const char *const extk[] = { "csr-output", NULL };
	const char *file = c->file;
	json_t *p, *v;

	p = json_object_get(c->root, "parent");
	v = json_object_get(c->root, "external");
	if (!c->issuing) {
		if (p != NULL || v != NULL || c->crldp != NULL ||
		    c->ca_issuers != NULL || c->npolicies > 0) {
			log_warnx("%s: a root ceremony takes no parent, external, "
			    "crl-distribution-point, ca-issuers or policies", file);
			return 0;
		}
	} else if ((p == NULL) == (v == NULL)) {
		log_warnx("%s: an issuing ceremony names either \"parent\" or "
		    "\"external\" (a CSR for an external root)", file);
		return 0;
	} else if (p != NULL) {
		if (!json_known_keys(p, parentk, "parent", file) ||
		    (c->parent = get_str(p, "ca", 1, "parent", file)) == NULL ||
		    (c->parent_pin = get_str(p, "pin", 1, "parent", file)) ==
		    NULL) {
			return 0;
		}
	} else {
		return json_known_keys(v, extk, "external", file) &&
		    (c->csr_output = get_str(v, "csr-output", 1, "external",
		    file)) != NULL;
	}
	if (c->output == NULL) {
		log_warnx("%s: certificate: \"output\" is required", file);
		return 0;
	}
	return 1;
}

/*
 * Parse and check the whole ceremony file before anything happens: c
 * points into c->root afterwards (release with ceremony_free(), also
 * after a failure).  1/0 (logged).
 */
int
ceremony_parse(const char *file, struct ceremony *c)
{
	unsigned char *buf = NULL;
	size_t len;
	int ret;

	memset(c, 0, sizeof(*c));
	c->file = file;
	if (!file_read(file, 1 << 20, &buf, &len)) {
		return 0;
	}
	ret = ceremony_parse_buf(buf, len, file, c);
	free(buf);
	return ret;
}

int
ceremony_parse_buf(const unsigned char *buf, size_t len, const char *file,
    struct ceremony *c)
{
	static const char *const top[] = { "ceremony", "ca", "officers", "token",
	    "key", "signature", "certificate", "parent", "external", "settings",
	    "transcript", "comment", NULL };
	json_error_t jerr;
	const char *s;

	memset(c, 0, sizeof(*c));
	c->file = file;
	c->path_len = -1;
	sha256_hex(buf, len, c->file_sha256);
	if ((c->root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		log_warnx("%s:%d: %s", file, jerr.line, jerr.text);
		return 0;
	}
	if ((s = get_str(c->root, "ceremony", 1, "ceremony", file)) == NULL) {
		return 0;
	}
	if (strcmp(s, "arl") == 0) {
		return arl_parse(c);
	}
	if (!json_known_keys(c->root, top, "ceremony", file)) {
		return 0;
	}
	if (strcmp(s, "root") == 0) {
		c->issuing = 0;
	} else if (strcmp(s, "issuing") == 0) {
		c->issuing = 1;
	} else {
		log_warnx("%s: \"ceremony\" must be \"root\", \"issuing\" or "
		    "\"arl\"", file);
		return 0;
	}
	if ((c->ca = get_str(c->root, "ca", 1, "ceremony", file)) == NULL ||
	    !ca_name_valid(c->ca, file) || !parse_officers(c) ||
	    !parse_token_key(c) || !parse_certificate(c)) {
		return 0;
	}
	c->transcript = get_str(c->root, "transcript", 0, "ceremony", file);
	c->settings = json_object_get(c->root, "settings");
	if (c->settings != NULL && !json_is_object(c->settings)) {
		log_warnx("%s: \"settings\" must be an object", file);
		return 0;
	}
	return parse_signer(c);
}

void
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

