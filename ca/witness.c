/*
 * Witnesses of the audit chain (see witness.h): the reader that verifies
 * a status export or an audit anchor against given CA certificates and
 * takes the audit head it names, and "eseal-ca audit anchor", which
 * writes an anchor signed on the token.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "args.h"
#include "ca.h"
#include "export.h"
#include "i18n.h"
#include "log.h"
#include "util.h"
#include "witness.h"

#define ANCHOR_FMT ANCHOR_MAGIC "\ninstance: %s\nca: %s\nsequence: %lld\n" \
	"hash: %s\ntime: %s\n"
/* Largest anchor statement accepted (the fields are short). */
#define ANCHOR_MAX 1024

/* The anchor statement (malloc'd) and its length in *len. */
static char *
anchor_statement(const char *instance, const char *ca, int64_t seq,
    const char *hash, const char *when, size_t *len)
{
	char *s;
	int n;

	if ((n = asprintf(&s, ANCHOR_FMT, instance, ca, (long long)seq, hash,
	    when)) == -1) {
		fatalx("out of memory");
	}
	*len = (size_t)n;
	return s;
}

/* Copy the value of line "key: value" into out (size outlen).  1/0. */
static int
anchor_field(char *line, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);

	if (line == NULL || strncmp(line, key, kl) != 0 ||
	    strncmp(line + kl, ": ", 2) != 0 ||
	    strlen(line + kl + 2) == 0 || strlen(line + kl + 2) >= outlen) {
		return 0;
	}
	memcpy(out, line + kl + 2, strlen(line + kl + 2) + 1);
	return 1;
}

/*
 * Parse an anchor statement into w: exactly the form anchor_statement()
 * writes (rebuilt and compared byte for byte).  1/0 (logged).
 */
static int
anchor_parse(const unsigned char *buf, size_t len, struct audit_witness *w,
    const char *path)
{
	char *text = NULL, *line[7], *p, *again = NULL, *end;
	char inst[128], ca[128], seq[32], hash[65], when[32];
	size_t n = 0, alen;
	long long v = -1;
	time_t t;
	int ret = 0;

	if (len == 0 || len > ANCHOR_MAX || memchr(buf, '\0', len) != NULL) {
		goto bad;
	}
	if ((text = strndup((const char *)buf, len)) == NULL) {
		fatalx("out of memory");
	}
	for (p = text; n < 7 && (line[n] = strsep(&p, "\n")) != NULL; n++)
		;
	if (n != 7 || strcmp(line[0], ANCHOR_MAGIC) != 0 ||
	    !anchor_field(line[1], "instance", inst, sizeof(inst)) ||
	    !anchor_field(line[2], "ca", ca, sizeof(ca)) ||
	    !anchor_field(line[3], "sequence", seq, sizeof(seq)) ||
	    !anchor_field(line[4], "hash", hash, sizeof(hash)) ||
	    !anchor_field(line[5], "time", when, sizeof(when)) ||
	    strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64 ||
	    !time_parse(when, &t, path)) {
		goto bad;
	}
	v = strtoll(seq, &end, 10);
	if (*end != '\0' || v < 0) {
		goto bad;
	}
	again = anchor_statement(inst, ca, v, hash, when, &alen);
	if (alen != len || memcmp(again, buf, len) != 0) {
		goto bad;
	}
	w->seq = v;
	memcpy(w->hash, hash, 65);
	snprintf(w->what, sizeof(w->what), "%s: anchor of %s by CA %s", path,
	    when, ca);
	ret = 1;
	goto out;
bad:
	log_warnx("%s: ES-AUDIT-05: malformed audit anchor statement", path);
out:
	free(again);
	free(text);
	return ret;
}

/* Verify every SignerInfo of cms against certs[].  1/0 (logged). */
static int
cms_verify_certs(CMS_ContentInfo *cms, X509 *const *certs, size_t ncerts,
    const char *path)
{
	X509_STORE *store = NULL;
	size_t i;
	int ok = 0;

	if ((store = X509_STORE_new()) == NULL) {
		fatalx("out of memory");
	}
	for (i = 0; i < ncerts; i++) {
		if (!X509_STORE_add_cert(store, certs[i])) {
			log_ssl("%s: cannot use the CA certificates", path);
			goto out;
		}
	}
	/* A CA certificate has no S/MIME purpose: "signed by this CA". */
	X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (CMS_verify(cms, NULL, store, NULL, NULL, CMS_BINARY) != 1) {
		ERR_clear_error();
		log_warnx("%s: ES-AUDIT-04: signature does not verify against "
		    "the given CA certificates (forged, altered or made by "
		    "another CA)", path);
		goto out;
	}
	ok = 1;
out:
	X509_STORE_free(store);
	return ok;
}

/* The audit head of a verified export's content into w.  1/0 (logged). */
static int
export_witness(const unsigned char *c, size_t len, struct audit_witness *w,
    const char *path)
{
	int64_t eseq;
	int has;

	if (!export_content_audit_head(c, len, path, &eseq, &has, &w->seq,
	    w->hash)) {
		return 0;
	}
	if (!has) {
		log_warnx("%s: ES-AUDIT-05: status export seq %lld carries no "
		    "audit head (made before exports did)", path,
		    (long long)eseq);
		return 0;
	}
	snprintf(w->what, sizeof(w->what), "%s: status export seq %lld", path,
	    (long long)eseq);
	return 1;
}

enum witness_read_result
witness_read(const char *path, X509 *const *certs, size_t ncerts,
    struct audit_witness *w)
{
	CMS_ContentInfo *cms = NULL;
	ASN1_OCTET_STRING **pos;
	unsigned char *buf = NULL;
	const unsigned char *p;
	char oid[128];
	size_t len;
	int kind = 0;
	enum witness_read_result ret = WITNESS_BAD;

	memset(w, 0, sizeof(*w));
	if (!file_read(path, EXPORT_FILE_MAX, &buf, &len)) {
		goto out;
	}
	p = buf;
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL ||
	    p != buf + len ||
	    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
	    CMS_get0_eContentType(cms) == NULL ||
	    OBJ_obj2txt(oid, sizeof(oid), CMS_get0_eContentType(cms), 1) <= 0) {
		ERR_clear_error();
		log_warnx("%s: ES-AUDIT-05: not a status export or an audit "
		    "anchor (DER CMS SignedData)", path);
		goto out;
	}
	kind = strcmp(oid, EXPORT_OID) == 0 ? 1 :
	    strcmp(oid, ANCHOR_OID) == 0 ? 2 : 0;
	if (kind == 0) {
		log_warnx("%s: ES-AUDIT-05: signed data of type %s is not a "
		    "status export or an audit anchor", path, oid);
		goto out;
	}
	if (!cms_verify_certs(cms, certs, ncerts, path)) {
		ret = WITNESS_FORGED;
		goto out;
	}
	pos = CMS_get0_content(cms);
	if (pos == NULL || *pos == NULL) {
		log_warnx("%s: ES-AUDIT-05: detached or empty content", path);
		goto out;
	}
	if (kind == 1 ? export_witness(ASN1_STRING_get0_data(*pos),
	    (size_t)ASN1_STRING_length(*pos), w, path) :
	    anchor_parse(ASN1_STRING_get0_data(*pos),
	    (size_t)ASN1_STRING_length(*pos), w, path)) {
		ret = WITNESS_OK;
	}
out:
	CMS_ContentInfo_free(cms);
	free(buf);
	return ret;
}

/*
 * Sign the statement of the current head with ck and write it to path.
 * Fills seq, hash, when and the file's SHA-256.  1/0 (logged).
 */
static int
anchor_write(struct db *db, struct ca_key *ck, const char *path,
    int64_t *seq, char hash[65], char when[32], char sha[65])
{
	struct export_signer sg;
	unsigned char *der = NULL;
	char *inst = NULL, *stmt = NULL;
	size_t len, derlen = 0;
	int ret = 0;

	if (!audit_head(db, seq, hash)) {
		return 0;
	}
	if ((inst = db_meta_get(db, "instance_id")) == NULL &&
	    (inst = strdup("unknown")) == NULL) {
		fatalx("out of memory");
	}
	time_fmt(now_utc(), when, 32);
	stmt = anchor_statement(inst, ck->name, *seq, hash, when, &len);
	sg.cert = ck->cert;
	sg.key = hsm_key_private(ck->key);
	sg.alg = ck->alg;
	if (!export_cms_sign((const unsigned char *)stmt, len, ANCHOR_OID,
	    &sg, 1, hsm_libctx(), hsm_propq(), &der, &derlen) ||
	    !file_write_atomic(path, der, derlen, 0644)) {
		goto out;
	}
	sha256_hex(der, derlen, sha);
	ret = 1;
out:
	OPENSSL_free(der);
	free(stmt);
	free(inst);
	return ret;
}

int
audit_anchor_cmd(const struct args *a)
{
	struct db *db = NULL;
	struct ca_key *ck = NULL;
	char *name = NULL, hash[65], when[32], sha[65], obj[160];
	char detail[1024];
	int64_t seq;
	int why, ret = EXIT_ERROR;

	if (!args_need(a, "pin", "audit anchor") ||
	    !args_need(a, "out", "audit anchor")) {
		return EXIT_USAGE;
	}
	if ((db = ca_open_db()) == NULL) {
		return EXIT_ERROR;
	}
	if (args_get(a, "ca") != NULL) {
		if ((name = strdup(args_get(a, "ca"))) == NULL) {
			fatalx("out of memory");
		}
	} else if ((name = db_meta_get(db, "audit_ca")) == NULL) {
		log_warnx("audit anchor: no CA yet (the first ceremony makes "
		    "the audit CA); give --ca");
		ret = EXIT_REFUSED;
		goto out;
	}
	snprintf(obj, sizeof(obj), "ca:%s", name);
	if ((ck = ca_key_open_signing(db, name, args_get(a, "pin"), "system",
	    obj, NULL, &why)) == NULL) {
		ret = why;
		goto out;
	}
	if (ck->cert == NULL) {
		log_warnx("ca %s: audit anchor: the CA has no certificate yet",
		    name);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (!anchor_write(db, ck, args_get(a, "out"), &seq, hash, when, sha)) {
		audit_append(db, "system", "audit-anchor", obj, NULL, "failed",
		    NULL);
		goto out;
	}
	snprintf(detail, sizeof(detail), "head %lld hash %s, time %s, file "
	    "%s, sha256 %s", (long long)seq, hash, when, args_get(a, "out"),
	    sha);
	if (!audit_append(db, "system", "audit-anchor", obj, sha, "ok",
	    detail)) {
		goto out;
	}
	if (g.json) {
		json_print(json_pack("{s:s,s:s,s:I,s:s,s:s,s:s}", "file",
		    args_get(a, "out"), "ca", name, "seq", (json_int_t)seq,
		    "hash", hash, "time", when, "sha256", sha));
	} else {
		printf(_("%s: audit anchor of head %lld (hash %s) signed by CA "
		    "%s at %s\n"), args_get(a, "out"), (long long)seq, hash,
		    name, when);
	}
	ret = ca_audit_sign(db, ck, NULL) ? EXIT_OK : EXIT_ERROR;
out:
	ca_key_free(ck);
	free(name);
	db_close(db);
	return ret;
}
