/*
 * The PKCS#11 side of the HSM layer: load a module with dlopen, list its
 * tokens and mechanisms, open a session on one token, log in with a PIN
 * from a secret source, generate and find key pairs, read their
 * provenance attributes and sign digests on the token.  Every failure is
 * logged here as "token LABEL: problem" (or "MODULE: problem").
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <p11-kit/pkcs11.h>

#include "p11-int.h"
#include "i18n.h"
#include "log.h"
#include "secret.h"
#include "sigalg.h"
#include "util.h"

#ifndef CKF_ERROR_STATE
#define CKF_ERROR_STATE				0x01000000UL
#endif
/* PKCS#11 3.2 validation objects (absent from older headers). */
#ifndef CKO_VALIDATION
#define CKO_VALIDATION				0x0000000aUL
#endif
#ifndef CKA_VALIDATION_AUTHORITY_TYPE
#define CKA_VALIDATION_AUTHORITY_TYPE		0x00000624UL
#endif
#ifndef CKA_VALIDATION_CERTIFICATE_IDENTIFIER
#define CKA_VALIDATION_CERTIFICATE_IDENTIFIER	0x00000626UL
#endif
#ifndef CKV_AUTHORITY_TYPE_NIST_CMVP
#define CKV_AUTHORITY_TYPE_NIST_CMVP		0x00000001UL
#endif

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define KEY_ID_LEN 16

static const struct {
	CK_RV		 rv;
	const char	*name;
} rvs[] = {
	{ CKR_OK, "CKR_OK" },
	{ CKR_HOST_MEMORY, "CKR_HOST_MEMORY" },
	{ CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID" },
	{ CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR" },
	{ CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED" },
	{ CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD" },
	{ CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE" },
	{ CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID" },
	{ CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID" },
	{ CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE" },
	{ CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR" },
	{ CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED" },
	{ CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID" },
	{ CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE" },
	{ CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT" },
	{ CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED" },
	{ CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID" },
	{ CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID" },
	{ CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID" },
	{ CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE" },
	{ CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT" },
	{ CKR_PIN_INVALID, "CKR_PIN_INVALID" },
	{ CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE" },
	{ CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED" },
	{ CKR_PIN_LOCKED, "CKR_PIN_LOCKED" },
	{ CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID" },
	{ CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY" },
	{ CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE" },
	{ CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT" },
	{ CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT" },
	{ CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED" },
	{ CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED" },
	{ CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN" },
	{ CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN" },
	{ CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED" },
	{ CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID" },
	{ CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL" },
	{ CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED" },
	{ CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED" },
};


/* DER of the namedCurve OIDs (CKA_EC_PARAMS). */
static const unsigned char oid_p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};
static const unsigned char oid_p384[] = {
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22
};
static const unsigned char oid_ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
/* PrintableString "edwards25519", the PKCS#11 3.0 alternative. */
static const unsigned char str_ed25519[] = {
	0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'
};

/* DigestInfo prefixes (RFC 8017, section 9.2, note 1). */
static const unsigned char di_sha256[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
};
static const unsigned char di_sha384[] = {
	0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30
};
static const unsigned char di_sha512[] = {
	0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40
};

const char *
hsm_rv_name(unsigned long rv)
{
	static __thread char buf[32];	/* signing threads log too */
	size_t i;

	for (i = 0; i < NITEMS(rvs); i++) {
		if (rvs[i].rv == rv) {
			return rvs[i].name;
		}
	}
	snprintf(buf, sizeof(buf), "CKR 0x%lx", (unsigned long)rv);
	return buf;
}


static const char *
mech_name_any(CK_MECHANISM_TYPE type)
{
	static __thread char buf[32];	/* signing threads log too */
	const char *n;

	if ((n = hsm_mech_name(type)) != NULL) {
		return n;
	}
	snprintf(buf, sizeof(buf), "0x%lx%s", (unsigned long)type,
	    type >= CKM_VENDOR_DEFINED ? " (vendor-defined)" : "");
	return buf;
}

struct hsm_module *
hsm_module_load(const char *path)
{
	struct hsm_module *mod = NULL;
	CK_C_GetFunctionList getfl;
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	if ((mod = calloc(1, sizeof(*mod))) == NULL) {
		fatalx("out of memory");
	}
	mod->path = xstrdup(path);
	/*
	 * RTLD_NODELETE: some modules leave threads or atexit handlers
	 * behind, and leak reports need the module still mapped to name it.
	 */
	if ((mod->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)) ==
	    NULL) {
		log_warnx("%s: cannot load PKCS#11 module: %s", path, dlerror());
		goto fail;
	}
	*(void **)&getfl = dlsym(mod->dl, "C_GetFunctionList");
	if (getfl == NULL) {
		log_warnx("%s: not a PKCS#11 module (no C_GetFunctionList)",
		    path);
		goto fail;
	}
	if ((rv = getfl(&mod->f)) != CKR_OK || mod->f == NULL) {
		log_warnx("%s: C_GetFunctionList: %s", path, hsm_rv_name(rv));
		goto fail;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	/*
	 * A module on OpenSSL leaves errors on our queue (SoftHSM2: engines
	 * it failed to load): drop them, or the next log_ssl() prints them.
	 */
	ERR_set_mark();
	rv = mod->f->C_Initialize(&args);
	ERR_pop_to_mark();
	if (rv == CKR_OK) {
		mod->finalize = 1;
	} else if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		log_warnx("%s: C_Initialize: %s", path, hsm_rv_name(rv));
		goto fail;
	}
	return mod;
fail:
	hsm_module_free(mod);
	return NULL;
}

void
hsm_module_free(struct hsm_module *mod)
{
	if (mod == NULL) {
		return;
	}
	if (mod->finalize) {
		mod->f->C_Finalize(NULL);
	}
	if (mod->dl != NULL) {
		dlclose(mod->dl);
	}
	free(mod->path);
	free(mod);
}

/*
 * Look for a PKCS#11 3.2 validation object of authority NIST CMVP on sess
 * and copy its certificate identifier into out.  Tokens without such
 * objects (or with an older Cryptoki) leave out as "".  Never fails.
 */
static void
find_cmvp_cert(struct hsm_module *mod, CK_SESSION_HANDLE sess, char *out,
    size_t outsz)
{
	CK_OBJECT_CLASS cls = CKO_VALIDATION;
	CK_ULONG auth = CKV_AUTHORITY_TYPE_NIST_CMVP;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_VALIDATION_AUTHORITY_TYPE, &auth, sizeof(auth) },
	};
	unsigned char buf[64];
	CK_ATTRIBUTE a = { CKA_VALIDATION_CERTIFICATE_IDENTIFIER, buf,
	    sizeof(buf) };
	CK_OBJECT_HANDLE obj;
	CK_ULONG n = 0;

	out[0] = '\0';
	if (mod->f->C_FindObjectsInit(sess, tmpl, NITEMS(tmpl)) != CKR_OK) {
		return;
	}
	if (mod->f->C_FindObjects(sess, &obj, 1, &n) == CKR_OK && n == 1 &&
	    mod->f->C_GetAttributeValue(sess, obj, &a, 1) == CKR_OK &&
	    a.ulValueLen != (CK_ULONG)-1) {
		fixed_to_str(out, outsz, buf, a.ulValueLen);
	}
	mod->f->C_FindObjectsFinal(sess);
}

int
hsm_module_tokens(struct hsm_module *mod, struct hsm_token_info **out,
    size_t *n)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG nslots = 0, i;
	CK_INFO ci;
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE sess;
	struct hsm_token_info *infos = NULL, *t;
	CK_RV rv;
	int ret = 0;

	*out = NULL;
	*n = 0;
	if ((rv = mod->f->C_GetInfo(&ci)) != CKR_OK) {
		log_warnx("%s: C_GetInfo: %s", mod->path, hsm_rv_name(rv));
		goto out;
	}
	if ((rv = mod->f->C_GetSlotList(CK_TRUE, NULL, &nslots)) != CKR_OK) {
		log_warnx("%s: C_GetSlotList: %s", mod->path, hsm_rv_name(rv));
		goto out;
	}
	if ((slots = calloc(nslots + 1, sizeof(*slots))) == NULL ||
	    (infos = calloc(nslots + 1, sizeof(*infos))) == NULL) {
		fatalx("out of memory");
	}
	if ((rv = mod->f->C_GetSlotList(CK_TRUE, slots, &nslots)) != CKR_OK) {
		log_warnx("%s: C_GetSlotList: %s", mod->path, hsm_rv_name(rv));
		goto out;
	}
	for (i = 0; i < nslots; i++) {
		if ((rv = mod->f->C_GetTokenInfo(slots[i], &ti)) != CKR_OK) {
			log_warnx("%s: slot %lu: C_GetTokenInfo: %s", mod->path,
			    (unsigned long)slots[i], hsm_rv_name(rv));
			goto out;
		}
		t = &infos[*n];
		(*n)++;
		t->slot_id = slots[i];
		fixed_to_str(t->label, sizeof(t->label), ti.label,
		    sizeof(ti.label));
		fixed_to_str(t->manufacturer, sizeof(t->manufacturer),
		    ti.manufacturerID, sizeof(ti.manufacturerID));
		fixed_to_str(t->model, sizeof(t->model), ti.model,
		    sizeof(ti.model));
		fixed_to_str(t->serial, sizeof(t->serial), ti.serialNumber,
		    sizeof(ti.serialNumber));
		t->hw_major = ti.hardwareVersion.major;
		t->hw_minor = ti.hardwareVersion.minor;
		t->fw_major = ti.firmwareVersion.major;
		t->fw_minor = ti.firmwareVersion.minor;
		t->flags = ti.flags;
		t->error_state = (ti.flags & CKF_ERROR_STATE) != 0;
		fixed_to_str(t->lib_manufacturer, sizeof(t->lib_manufacturer),
		    ci.manufacturerID, sizeof(ci.manufacturerID));
		fixed_to_str(t->lib_description, sizeof(t->lib_description),
		    ci.libraryDescription, sizeof(ci.libraryDescription));
		t->lib_major = ci.libraryVersion.major;
		t->lib_minor = ci.libraryVersion.minor;
		t->cryptoki_major = ci.cryptokiVersion.major;
		t->cryptoki_minor = ci.cryptokiVersion.minor;
		t->cmvp_cert[0] = '\0';
		if ((ti.flags & CKF_TOKEN_INITIALIZED) &&
		    mod->f->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL,
		    NULL, &sess) == CKR_OK) {
			find_cmvp_cert(mod, sess, t->cmvp_cert,
			    sizeof(t->cmvp_cert));
			mod->f->C_CloseSession(sess);
		}
	}
	*out = infos;
	infos = NULL;
	ret = 1;
out:
	if (!ret) {
		*n = 0;
	}
	free(infos);
	free(slots);
	return ret;
}

int
hsm_module_mechanisms(struct hsm_module *mod, unsigned long slot,
    struct hsm_mech **out, size_t *n)
{
	CK_MECHANISM_TYPE *types = NULL;
	CK_MECHANISM_INFO mi;
	CK_ULONG nt = 0, i;
	struct hsm_mech *m = NULL;
	CK_RV rv;
	int ret = 0;

	*out = NULL;
	*n = 0;
	if ((rv = mod->f->C_GetMechanismList(slot, NULL, &nt)) != CKR_OK) {
		log_warnx("%s: slot %lu: C_GetMechanismList: %s", mod->path,
		    slot, hsm_rv_name(rv));
		goto out;
	}
	if ((types = calloc(nt + 1, sizeof(*types))) == NULL ||
	    (m = calloc(nt + 1, sizeof(*m))) == NULL) {
		fatalx("out of memory");
	}
	if ((rv = mod->f->C_GetMechanismList(slot, types, &nt)) != CKR_OK) {
		log_warnx("%s: slot %lu: C_GetMechanismList: %s", mod->path,
		    slot, hsm_rv_name(rv));
		goto out;
	}
	for (i = 0; i < nt; i++) {
		m[i].type = types[i];
		snprintf(m[i].name, sizeof(m[i].name), "%s",
		    mech_name_any(types[i]));
		if (mod->f->C_GetMechanismInfo(slot, types[i], &mi) == CKR_OK) {
			m[i].min_key = mi.ulMinKeySize;
			m[i].max_key = mi.ulMaxKeySize;
			m[i].flags = mi.flags;
		}
	}
	*out = m;
	*n = nt;
	m = NULL;
	ret = 1;
out:
	free(m);
	free(types);
	return ret;
}

struct hsm_token *
hsm_token_open(struct hsm_module *mod, const char *label, const char *serial)
{
	struct hsm_token_info *infos = NULL, *found = NULL;
	struct hsm_token *tok = NULL;
	const char *want = label != NULL ? label : serial;
	size_t n = 0, i, matches = 0;
	CK_RV rv;

	if (want == NULL) {
		log_warnx("%s: name a token by label or serial", mod->path);
		return NULL;
	}
	if (!hsm_module_tokens(mod, &infos, &n)) {
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(label != NULL ? infos[i].label : infos[i].serial,
		    want) == 0) {
			found = &infos[i];
			matches++;
		}
	}
	if (matches == 0) {
		log_warnx("no token %s %s in %s", label != NULL ? "labelled" :
		    "with serial", want, mod->path);
		goto out;
	}
	if (matches > 1) {
		log_warnx("%d tokens %s %s in %s: name it by serial",
		    (int)matches, label != NULL ? "labelled" : "with serial",
		    want, mod->path);
		goto out;
	}
	if (found->error_state) {
		log_warnx("token %s: ES-HSM-ID-01: token reports "
		    "CKF_ERROR_STATE (failed self-test); refusing to use it",
		    found->label);
		goto out;
	}
	if (!(found->flags & CKF_TOKEN_INITIALIZED)) {
		log_warnx("token %s: token is not initialised", found->label);
		goto out;
	}
	if ((tok = calloc(1, sizeof(*tok))) == NULL) {
		fatalx("out of memory");
	}
	tok->mod = mod;
	tok->info = *found;
	rv = mod->f->C_OpenSession(found->slot_id,
	    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &tok->sess);
	if (rv != CKR_OK) {
		log_warnx("token %s: C_OpenSession: %s", found->label,
		    hsm_rv_name(rv));
		free(tok);
		tok = NULL;
	}
out:
	free(infos);
	return tok;
}

void
hsm_token_close(struct hsm_token *tok)
{
	if (tok == NULL) {
		return;
	}
	if (tok->logged_in) {
		tok->mod->f->C_Logout(tok->sess);
	}
	tok->mod->f->C_CloseSession(tok->sess);
	free(tok);
}

const struct hsm_token_info *
hsm_token_get_info(const struct hsm_token *tok)
{
	return &tok->info;
}

enum hsm_login_result
hsm_token_login(struct hsm_token *tok, const char *pin_source)
{
	char what[64];
	char *pin;
	CK_RV rv;

	snprintf(what, sizeof(what), _("token %s: user PIN"), tok->info.label);
	if ((pin = secret_read(pin_source, what)) == NULL) {
		return HSM_LOGIN_NO_SECRET;
	}
	rv = tok->mod->f->C_Login(tok->sess, CKU_USER, (CK_UTF8CHAR *)pin,
	    strlen(pin));
	secret_free(pin);	/* wipes it; never cached */
	switch (rv) {
	case CKR_OK:
	case CKR_USER_ALREADY_LOGGED_IN:
		tok->logged_in = 1;
		if (tok->info.cmvp_cert[0] == '\0') {
			find_cmvp_cert(tok->mod, tok->sess, tok->info.cmvp_cert,
			    sizeof(tok->info.cmvp_cert));
		}
		return HSM_LOGIN_OK;
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		log_warnx("token %s: login refused: wrong PIN (%s)",
		    tok->info.label, hsm_rv_name(rv));
		return HSM_LOGIN_BAD_PIN;
	case CKR_PIN_LOCKED:
		log_warnx("token %s: login refused: PIN locked (%s)",
		    tok->info.label, hsm_rv_name(rv));
		return HSM_LOGIN_LOCKED;
	default:
		log_warnx("token %s: C_Login: %s", tok->info.label,
		    hsm_rv_name(rv));
		return HSM_LOGIN_ERROR;
	}
}

enum mech_result { MECH_NO, MECH_YES, MECH_ERROR };

/*
 * MECH_YES if the token lists mechanism type (C_GetMechanismList is what
 * a token offers; some answer C_GetMechanismInfo for mechanisms they
 * have turned off) with all of flags and bits in its key size range,
 * MECH_NO if not, MECH_ERROR if the token could not say (*rv is its
 * error: a token that has gone must not be said to lack a mechanism).
 * Not logged.
 */
static enum mech_result
tok_mech(struct hsm_token *tok, CK_MECHANISM_TYPE type, CK_FLAGS flags,
    unsigned long bits, CK_RV *rvp)
{
	CK_MECHANISM_TYPE *types = NULL;
	CK_MECHANISM_INFO mi;
	CK_ULONG n = 0, i;
	CK_RV rv;
	int listed = 0;

	if ((rv = tok->mod->f->C_GetMechanismList(tok->info.slot_id, NULL,
	    &n)) != CKR_OK) {
		goto error;
	}
	if ((types = calloc(n + 1, sizeof(*types))) == NULL) {
		fatalx("out of memory");
	}
	if ((rv = tok->mod->f->C_GetMechanismList(tok->info.slot_id, types,
	    &n)) != CKR_OK) {
		free(types);
		goto error;
	}
	for (i = 0; i < n; i++) {
		if (types[i] == type) {
			listed = 1;
		}
	}
	free(types);
	if (!listed) {
		return MECH_NO;
	}
	if (tok->mod->f->C_GetMechanismInfo(tok->info.slot_id, type, &mi) !=
	    CKR_OK) {
		return MECH_NO;
	}
	if ((mi.flags & flags) != flags) {
		return MECH_NO;
	}
	if (bits != 0 && mi.ulMaxKeySize != 0 &&
	    (bits < mi.ulMinKeySize || bits > mi.ulMaxKeySize)) {
		return MECH_NO;
	}
	return MECH_YES;
error:
	*rvp = rv;
	return MECH_ERROR;
}

static CK_MECHANISM_TYPE
keygen_mech(enum key_alg k, unsigned long *bits)
{
	*bits = 0;
	switch (k) {
	case KEY_RSA_2048:
		*bits = 2048;
		return CKM_RSA_PKCS_KEY_PAIR_GEN;
	case KEY_RSA_3072:
		*bits = 3072;
		return CKM_RSA_PKCS_KEY_PAIR_GEN;
	case KEY_RSA_4096:
		*bits = 4096;
		return CKM_RSA_PKCS_KEY_PAIR_GEN;
	case KEY_EC_P256:
		*bits = 256;
		return CKM_EC_KEY_PAIR_GEN;
	case KEY_EC_P384:
		*bits = 384;
		return CKM_EC_KEY_PAIR_GEN;
	case KEY_ED25519:
		return CKM_EC_EDWARDS_KEY_PAIR_GEN;
	default:
		return CKM_VENDOR_DEFINED;
	}
}

static CK_MECHANISM_TYPE
sign_mech(enum sig_alg alg)
{
	if (sig_alg_is_pss(alg)) {
		return CKM_RSA_PKCS_PSS;
	}
	if (sig_alg_is_rsa(alg)) {
		return CKM_RSA_PKCS;
	}
	if (sig_alg_is_ecdsa(alg)) {
		return CKM_ECDSA;
	}
	if (alg == SIG_ED25519) {
		return CKM_EDDSA;
	}
	return CKM_VENDOR_DEFINED;
}

int
hsm_token_can_generate(struct hsm_token *tok, enum key_alg k)
{
	CK_RV rv;
	CK_MECHANISM_TYPE m;
	unsigned long bits;

	if ((m = keygen_mech(k, &bits)) == CKM_VENDOR_DEFINED) {
		return 0;
	}
	return tok_mech(tok, m, CKF_GENERATE_KEY_PAIR, bits, &rv) == MECH_YES;
}

int
hsm_token_can_sign(struct hsm_token *tok, enum sig_alg alg)
{
	CK_RV rv;
	CK_MECHANISM_TYPE m;

	if ((m = sign_mech(alg)) == CKM_VENDOR_DEFINED) {
		return 0;
	}
	return tok_mech(tok, m, CKF_SIGN, 0, &rv) == MECH_YES;
}

/*
 * Read one attribute of obj into a malloc'd buffer.  Returns 1/0; 0 is
 * not logged (callers say what the missing attribute means).
 */
static int
get_attr(struct hsm_token *tok, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    unsigned char **out, size_t *outlen)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };

	*out = NULL;
	*outlen = 0;
	if (tok->mod->f->C_GetAttributeValue(tok->sess, obj, &a, 1) !=
	    CKR_OK || a.ulValueLen == (CK_ULONG)-1) {
		return 0;
	}
	if ((a.pValue = malloc(a.ulValueLen + 1)) == NULL) {
		fatalx("out of memory");
	}
	if (tok->mod->f->C_GetAttributeValue(tok->sess, obj, &a, 1) !=
	    CKR_OK) {
		free(a.pValue);
		return 0;
	}
	*out = a.pValue;
	*outlen = a.ulValueLen;
	return 1;
}

/* The curve of a DER CKA_EC_PARAMS, or KEY_NONE. */
static enum key_alg
curve_of_params(const unsigned char *p, size_t len)
{
	if (len == sizeof(oid_p256) && memcmp(p, oid_p256, len) == 0) {
		return KEY_EC_P256;
	}
	if (len == sizeof(oid_p384) && memcmp(p, oid_p384, len) == 0) {
		return KEY_EC_P384;
	}
	if ((len == sizeof(oid_ed25519) &&
	    memcmp(p, oid_ed25519, len) == 0) ||
	    (len == sizeof(str_ed25519) && memcmp(p, str_ed25519, len) == 0)) {
		return KEY_ED25519;
	}
	return KEY_NONE;
}

/*
 * The point inside CKA_EC_POINT: PKCS#11 says a DER OCTET STRING, some
 * modules return the bare point.  Sets *pt into buf (not copied).
 */
static int
unwrap_point(const unsigned char *buf, size_t len, size_t ptlen,
    const unsigned char **pt)
{
	size_t hdr;

	if (len >= 2 && buf[0] == 0x04 && buf[1] < 0x80) {
		hdr = 2;
	} else if (len >= 3 && buf[0] == 0x04 && buf[1] == 0x81) {
		hdr = 3;
	} else {
		hdr = 0;
	}
	if (hdr != 0 && len == hdr + ptlen &&
	    (hdr == 2 ? buf[1] : buf[2]) == ptlen) {
		*pt = buf + hdr;
		return 1;
	}
	if (len == ptlen) {
		*pt = buf;
		return 1;
	}
	return 0;
}

/* Build the plain public EVP_PKEY of key from the token's attributes. */
static int
load_public(struct hsm_key *key)
{
	struct hsm_token *tok = key->tok;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *op = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char *a = NULL, *b = NULL;
	const unsigned char *pt;
	size_t alen, blen, ptlen;
	int ret = 0;

	if (key->alg == KEY_RSA_2048 || key->alg == KEY_RSA_3072 ||
	    key->alg == KEY_RSA_4096) {
		CK_OBJECT_HANDLE o = key->pub != CK_INVALID_HANDLE ? key->pub :
		    key->priv;

		if (!get_attr(tok, o, CKA_MODULUS, &a, &alen) ||
		    !get_attr(tok, o, CKA_PUBLIC_EXPONENT, &b, &blen)) {
			log_warnx("token %s: key %s: cannot read the RSA "
			    "public key", tok->info.label, key->id_hex);
			goto out;
		}
		if ((n = BN_bin2bn(a, alen, NULL)) == NULL ||
		    (e = BN_bin2bn(b, blen, NULL)) == NULL ||
		    (bld = OSSL_PARAM_BLD_new()) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
			fatalx("out of memory");
		}
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else if (key->alg == KEY_ED25519) {
		if (key->pub == CK_INVALID_HANDLE ||
		    !get_attr(tok, key->pub, CKA_EC_POINT, &a, &alen) ||
		    !unwrap_point(a, alen, 32, &pt)) {
			log_warnx("token %s: key %s: cannot read the Ed25519 "
			    "public key", tok->info.label, key->id_hex);
			goto out;
		}
		key->pub_pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519",
		    NULL, pt, 32);
		if (key->pub_pkey == NULL) {
			log_ssl("token %s: key %s: bad Ed25519 public key",
			    tok->info.label, key->id_hex);
			goto out;
		}
		ret = 1;
		goto out;
	} else {
		const char *group = key->alg == KEY_EC_P256 ? "prime256v1" :
		    "secp384r1";

		ptlen = key->alg == KEY_EC_P256 ? 65 : 97;
		if (key->pub == CK_INVALID_HANDLE ||
		    !get_attr(tok, key->pub, CKA_EC_POINT, &a, &alen) ||
		    !unwrap_point(a, alen, ptlen, &pt)) {
			log_warnx("token %s: key %s: cannot read the EC "
			    "public point", tok->info.label, key->id_hex);
			goto out;
		}
		if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
		    !OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, ptlen)) {
			fatalx("out of memory");
		}
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	}
	if ((op = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		fatalx("out of memory");
	}
	if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &key->pub_pkey, EVP_PKEY_PUBLIC_KEY,
	    op) != 1) {
		log_ssl("token %s: key %s: bad public key", tok->info.label,
		    key->id_hex);
		goto out;
	}
	if (key_alg_of_pkey(key->pub_pkey) != key->alg) {
		log_warnx("token %s: key %s: public key is not %s",
		    tok->info.label, key->id_hex, key_alg_name(key->alg));
		goto out;
	}
	ret = 1;
out:
	OSSL_PARAM_free(op);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pctx);
	BN_free(n);
	BN_free(e);
	free(a);
	free(b);
	return ret;
}

struct hsm_key *
hsm_key_generate(struct hsm_token *tok, enum key_alg k, const char *label)
{
	struct hsm_key *key = NULL;
	CK_FUNCTION_LIST *f = tok->mod->f;
	CK_BBOOL t = CK_TRUE, fl = CK_FALSE;
	CK_ULONG modbits;
	unsigned char exp[] = { 0x01, 0x00, 0x01 };
	unsigned char id[KEY_ID_LEN];
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_ATTRIBUTE pub[8], priv[12];
	CK_ULONG npub = 0, npriv = 0;
	unsigned long bits;
	const unsigned char *ecparams = NULL;
	size_t ecparamslen = 0;
	enum mech_result mr;
	CK_RV rv;

	mech.mechanism = keygen_mech(k, &bits);
	if (mech.mechanism == CKM_VENDOR_DEFINED) {
		log_warnx("token %s: cannot generate key type %s",
		    tok->info.label, key_alg_name(k));
		return NULL;
	}
	if ((mr = tok_mech(tok, mech.mechanism, CKF_GENERATE_KEY_PAIR, bits,
	    &rv)) == MECH_ERROR) {
		log_warnx("token %s: C_GetMechanismList: %s", tok->info.label,
		    hsm_rv_name(rv));
		return NULL;
	}
	if (mr == MECH_NO) {
		log_warnx("token %s: ES-HSM-MECH-01: mechanism %s not "
		    "supported by the token (key type %s)", tok->info.label,
		    mech_name_any(mech.mechanism), key_alg_name(k));
		return NULL;
	}
	if (RAND_bytes(id, sizeof(id)) != 1) {
		log_ssl("token %s: RAND_bytes", tok->info.label);
		return NULL;
	}
	modbits = bits;
	if (k == KEY_EC_P256) {
		ecparams = oid_p256;
		ecparamslen = sizeof(oid_p256);
	} else if (k == KEY_EC_P384) {
		ecparams = oid_p384;
		ecparamslen = sizeof(oid_p384);
	} else if (k == KEY_ED25519) {
		ecparams = oid_ed25519;
		ecparamslen = sizeof(oid_ed25519);
	}

#define ADD(arr, n, typ, val, len) do {					\
	(arr)[(n)].type = (typ);					\
	(arr)[(n)].pValue = (void *)(val);				\
	(arr)[(n)].ulValueLen = (len);					\
	(n)++;								\
} while (0)
	ADD(pub, npub, CKA_TOKEN, &t, sizeof(t));
	ADD(pub, npub, CKA_PRIVATE, &fl, sizeof(fl));
	ADD(pub, npub, CKA_VERIFY, &t, sizeof(t));
	ADD(pub, npub, CKA_ID, id, sizeof(id));
	ADD(pub, npub, CKA_LABEL, label, strlen(label));
	if (ecparams != NULL) {
		ADD(pub, npub, CKA_EC_PARAMS, ecparams, ecparamslen);
	} else {
		ADD(pub, npub, CKA_MODULUS_BITS, &modbits, sizeof(modbits));
		ADD(pub, npub, CKA_PUBLIC_EXPONENT, exp, sizeof(exp));
	}
	ADD(priv, npriv, CKA_TOKEN, &t, sizeof(t));
	ADD(priv, npriv, CKA_PRIVATE, &t, sizeof(t));
	ADD(priv, npriv, CKA_SENSITIVE, &t, sizeof(t));
	ADD(priv, npriv, CKA_EXTRACTABLE, &fl, sizeof(fl));
	ADD(priv, npriv, CKA_SIGN, &t, sizeof(t));
	ADD(priv, npriv, CKA_DECRYPT, &fl, sizeof(fl));
	ADD(priv, npriv, CKA_UNWRAP, &fl, sizeof(fl));
	ADD(priv, npriv, CKA_DERIVE, &fl, sizeof(fl));
	ADD(priv, npriv, CKA_ID, id, sizeof(id));
	ADD(priv, npriv, CKA_LABEL, label, strlen(label));
#undef ADD

	if ((key = calloc(1, sizeof(*key))) == NULL) {
		fatalx("out of memory");
	}
	key->label = xstrdup(label);
	key->tok = tok;
	key->alg = k;
	key->id_hex = hex_encode(id, sizeof(id));
	key->pub = key->priv = CK_INVALID_HANDLE;
	rv = f->C_GenerateKeyPair(tok->sess, &mech, pub, npub, priv, npriv,
	    &key->pub, &key->priv);
	if (rv != CKR_OK) {
		log_warnx("token %s: C_GenerateKeyPair (%s, %s): %s",
		    tok->info.label, key_alg_name(k),
		    mech_name_any(mech.mechanism), hsm_rv_name(rv));
		hsm_key_free(key);
		return NULL;
	}
	if (!load_public(key)) {
		hsm_key_destroy(key);
		return NULL;
	}
	return key;
}

enum find_result { FIND_NONE, FIND_ONE, FIND_SEVERAL, FIND_ERROR };

/*
 * Find the one object of class cls with CKA_ID id into *obj.  A token
 * error is logged here (naming the call and its CKR_), so that a failing
 * token is never reported as a missing key; the other results are not.
 */
static enum find_result
find_obj(struct hsm_token *tok, CK_OBJECT_CLASS cls, const unsigned char *id,
    size_t idlen, CK_OBJECT_HANDLE *obj)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, idlen },
	};
	CK_OBJECT_HANDLE objs[2];
	CK_ULONG n = 0;
	CK_FUNCTION_LIST *f = tok->mod->f;
	CK_RV rv;

	*obj = CK_INVALID_HANDLE;
	if ((rv = f->C_FindObjectsInit(tok->sess, tmpl, NITEMS(tmpl))) !=
	    CKR_OK) {
		log_warnx("token %s: C_FindObjectsInit: %s", tok->info.label,
		    hsm_rv_name(rv));
		return FIND_ERROR;
	}
	rv = f->C_FindObjects(tok->sess, objs, 2, &n);
	f->C_FindObjectsFinal(tok->sess);
	if (rv != CKR_OK) {
		log_warnx("token %s: C_FindObjects: %s", tok->info.label,
		    hsm_rv_name(rv));
		return FIND_ERROR;
	}
	if (n > 1) {
		return FIND_SEVERAL;
	}
	if (n == 1) {
		*obj = objs[0];
		return FIND_ONE;
	}
	return FIND_NONE;
}

struct hsm_key *
hsm_key_find(struct hsm_token *tok, const char *id_hex)
{
	struct hsm_key *key = NULL;
	unsigned char *id = NULL, *v = NULL;
	size_t idlen = 0, vlen;
	CK_KEY_TYPE kt;
	enum find_result fpriv, fpub;

	if ((id = hex_decode(id_hex, &idlen)) == NULL || idlen == 0) {
		log_warnx("token %s: bad key id \"%s\" (hex expected)",
		    tok->info.label, id_hex);
		goto fail;
	}
	if ((key = calloc(1, sizeof(*key))) == NULL) {
		fatalx("out of memory");
	}
	key->tok = tok;
	key->id_hex = hex_encode(id, idlen);
	if ((fpriv = find_obj(tok, CKO_PRIVATE_KEY, id, idlen,
	    &key->priv)) == FIND_ERROR ||
	    (fpub = find_obj(tok, CKO_PUBLIC_KEY, id, idlen, &key->pub)) ==
	    FIND_ERROR) {
		goto fail;	/* logged: a token error, not a missing key */
	}
	if (fpriv == FIND_SEVERAL || fpub == FIND_SEVERAL) {
		log_warnx("token %s: several keys with id %s",
		    tok->info.label, key->id_hex);
		goto fail;
	}
	if (key->priv == CK_INVALID_HANDLE) {
		log_warnx("token %s: no private key with id %s%s",
		    tok->info.label, key->id_hex, tok->logged_in ? "" :
		    " (not logged in)");
		goto fail;
	}
	if (!get_attr(tok, key->priv, CKA_KEY_TYPE, &v, &vlen) ||
	    vlen != sizeof(kt)) {
		log_warnx("token %s: key %s: no CKA_KEY_TYPE", tok->info.label,
		    key->id_hex);
		goto fail;
	}
	memcpy(&kt, v, sizeof(kt));
	free(v);
	v = NULL;
	if (kt == CKK_RSA) {
		if (!get_attr(tok, key->priv, CKA_MODULUS, &v, &vlen)) {
			log_warnx("token %s: key %s: no CKA_MODULUS",
			    tok->info.label, key->id_hex);
			goto fail;
		}
		key->alg = vlen == 256 ? KEY_RSA_2048 : vlen == 384 ?
		    KEY_RSA_3072 : vlen == 512 ? KEY_RSA_4096 : KEY_NONE;
	} else if (kt == CKK_EC || kt == CKK_EC_EDWARDS) {
		CK_OBJECT_HANDLE o = key->pub != CK_INVALID_HANDLE ? key->pub :
		    key->priv;

		if (get_attr(tok, o, CKA_EC_PARAMS, &v, &vlen)) {
			key->alg = curve_of_params(v, vlen);
		}
		if (kt == CKK_EC && key->alg == KEY_ED25519) {
			key->alg = KEY_NONE;
		}
	}
	if (key->alg == KEY_NONE) {
		log_warnx("token %s: key %s: unsupported key type or size",
		    tok->info.label, key->id_hex);
		goto fail;
	}
	free(v);
	v = NULL;
	if (!get_attr(tok, key->priv, CKA_LABEL, &v, &vlen)) {
		vlen = 0;
	}
	if ((key->label = calloc(1, vlen + 1)) == NULL) {
		fatalx("out of memory");
	}
	if (v != NULL) {
		memcpy(key->label, v, vlen);
	}
	if (!load_public(key)) {
		goto fail;
	}
	free(v);
	free(id);
	return key;
fail:
	free(v);
	free(id);
	hsm_key_free(key);
	return NULL;
}

void
hsm_key_free(struct hsm_key *key)
{
	if (key == NULL) {
		return;
	}
	EVP_PKEY_free(key->priv_pkey);
	EVP_PKEY_free(key->pub_pkey);
	if (key->own_tok) {
		hsm_token_close(key->tok);
	}
	free(key->id_hex);
	free(key->label);
	free(key);
}

const char *
hsm_key_id(const struct hsm_key *key)
{
	return key->id_hex;
}

const char *
hsm_key_label(const struct hsm_key *key)
{
	return key->label;
}

enum key_alg
hsm_key_alg(const struct hsm_key *key)
{
	return key->alg;
}

int
hsm_key_provenance(struct hsm_key *key, struct hsm_provenance *out)
{
	CK_BBOOL b[7];
	CK_MECHANISM_TYPE mech = ~0UL;
	CK_ATTRIBUTE a[] = {
		{ CKA_TOKEN, &b[0], sizeof(b[0]) },
		{ CKA_PRIVATE, &b[1], sizeof(b[1]) },
		{ CKA_SENSITIVE, &b[2], sizeof(b[2]) },
		{ CKA_LOCAL, &b[3], sizeof(b[3]) },
		{ CKA_ALWAYS_SENSITIVE, &b[4], sizeof(b[4]) },
		{ CKA_NEVER_EXTRACTABLE, &b[5], sizeof(b[5]) },
		{ CKA_EXTRACTABLE, &b[6], sizeof(b[6]) },
		{ CKA_KEY_GEN_MECHANISM, &mech, sizeof(mech) },
	};
	size_t i;
	CK_RV rv;

	memset(b, 0, sizeof(b));
	rv = key->tok->mod->f->C_GetAttributeValue(key->tok->sess, key->priv,
	    a, NITEMS(a));
	/* The boolean attributes are mandatory; the mechanism may be absent. */
	for (i = 0; i < 7; i++) {
		if (a[i].ulValueLen != sizeof(CK_BBOOL)) {
			log_warnx("token %s: key %s: cannot read provenance "
			    "attributes: %s", key->tok->info.label,
			    key->id_hex, hsm_rv_name(rv));
			return 0;
		}
	}
	if (a[7].ulValueLen != sizeof(mech)) {
		mech = ~0UL;
	}
	out->token = b[0] == CK_TRUE;
	out->private_ = b[1] == CK_TRUE;
	out->sensitive = b[2] == CK_TRUE;
	out->local = b[3] == CK_TRUE;
	out->always_sensitive = b[4] == CK_TRUE;
	out->never_extractable = b[5] == CK_TRUE;
	out->extractable = b[6] == CK_TRUE;
	out->keygen_mech = mech;
	return 1;
}

int
hsm_key_secret_readable(struct hsm_key *key, char *why, size_t whysz)
{
	static const struct {
		CK_ATTRIBUTE_TYPE	 type;
		const char		*name;
	} secrets[] = {
		{ CKA_VALUE, "CKA_VALUE" },
		{ CKA_PRIVATE_EXPONENT, "CKA_PRIVATE_EXPONENT" },
		{ CKA_PRIME_1, "CKA_PRIME_1" },
		{ CKA_PRIME_2, "CKA_PRIME_2" },
	};
	CK_ATTRIBUTE a;
	size_t i, len;
	CK_RV rv;
	int readable = 0;

	why[0] = '\0';
	for (i = 0; i < NITEMS(secrets); i++) {
		a.type = secrets[i].type;
		a.pValue = NULL;
		a.ulValueLen = 0;
		rv = key->tok->mod->f->C_GetAttributeValue(key->tok->sess,
		    key->priv, &a, 1);
		if (rv == CKR_OK && a.ulValueLen != (CK_ULONG)-1 &&
		    a.ulValueLen > 0) {
			readable = 1;
		}
		len = strlen(why);
		snprintf(why + len, whysz - len, "%s%s: %s", i > 0 ? ", " : "",
		    secrets[i].name, rv == CKR_OK && a.ulValueLen ==
		    (CK_ULONG)-1 ? "unavailable" : hsm_rv_name(rv));
	}
	return readable;
}

EVP_PKEY *
hsm_key_public(struct hsm_key *key)
{
	return key->pub_pkey;
}

EVP_PKEY *
hsm_key_private(struct hsm_key *key)
{
	if (key->priv_pkey == NULL) {
		key->priv_pkey = hsm_provider_pkey_new(key);
	}
	return key->priv_pkey;
}

int
hsm_key_destroy(struct hsm_key *key)
{
	CK_FUNCTION_LIST *f;
	CK_RV rv = CKR_OK;
	int ret = 1;

	if (key == NULL) {
		return 0;
	}
	f = key->tok->mod->f;
	if (key->priv != CK_INVALID_HANDLE &&
	    (rv = f->C_DestroyObject(key->tok->sess, key->priv)) != CKR_OK) {
		log_warnx("token %s: key %s: cannot destroy the private key: "
		    "%s", key->tok->info.label, key->id_hex, hsm_rv_name(rv));
		ret = 0;
	}
	if (key->pub != CK_INVALID_HANDLE &&
	    (rv = f->C_DestroyObject(key->tok->sess, key->pub)) != CKR_OK) {
		log_warnx("token %s: key %s: cannot destroy the public key: "
		    "%s", key->tok->info.label, key->id_hex, hsm_rv_name(rv));
		ret = 0;
	}
	hsm_key_free(key);
	return ret;
}

int
hsm_key_check_sign(struct hsm_key *key, enum sig_alg alg)
{
	enum mech_result mr;
	CK_RV rv;

	if (!sig_alg_fits_key(alg, key->alg)) {
		log_warnx("token %s: key %s: signature algorithm %s does not "
		    "fit a %s key", key->tok->info.label, key->id_hex,
		    sig_alg_name(alg), key_alg_name(key->alg));
		return 0;
	}
	if ((mr = tok_mech(key->tok, sign_mech(alg), CKF_SIGN, 0, &rv)) ==
	    MECH_ERROR) {
		log_warnx("token %s: C_GetMechanismList: %s",
		    key->tok->info.label, hsm_rv_name(rv));
		return 0;
	}
	if (mr == MECH_NO) {
		log_warnx("token %s: ES-HSM-MECH-01: mechanism %s not "
		    "supported by the token (signature algorithm %s)",
		    key->tok->info.label, mech_name_any(sign_mech(alg)),
		    sig_alg_name(alg));
		return 0;
	}
	return 1;
}

/* Run C_SignInit/C_Sign on the token; *out is malloc'd. */
static int
token_sign(struct hsm_key *key, CK_MECHANISM *mech, const unsigned char *in,
    size_t inlen, unsigned char **out, size_t *outlen)
{
	CK_FUNCTION_LIST *f = key->tok->mod->f;
	CK_ULONG len = 0;
	unsigned char *buf = NULL;
	CK_RV rv;

	*out = NULL;
	*outlen = 0;
	if ((rv = f->C_SignInit(key->tok->sess, mech, key->priv)) != CKR_OK) {
		log_warnx("token %s: key %s: C_SignInit (%s): %s",
		    key->tok->info.label, key->id_hex,
		    mech_name_any(mech->mechanism), hsm_rv_name(rv));
		return 0;
	}
	/* Size query: a module must leave the operation active (PKCS#11 5.2). */
	if ((rv = f->C_Sign(key->tok->sess, (CK_BYTE *)in, inlen, NULL,
	    &len)) != CKR_OK) {
		goto fail;
	}
	if ((buf = malloc(len)) == NULL) {
		fatalx("out of memory");
	}
	if ((rv = f->C_Sign(key->tok->sess, (CK_BYTE *)in, inlen, buf,
	    &len)) != CKR_OK) {
		goto fail;
	}
	*out = buf;
	*outlen = len;
	return 1;
fail:
	log_warnx("token %s: key %s: C_Sign (%s): %s", key->tok->info.label,
	    key->id_hex, mech_name_any(mech->mechanism), hsm_rv_name(rv));
	free(buf);
	return 0;
}

/*
 * 1 if a signature of len bytes from the token has the size the key
 * makes: k octets for RSA (RFC 8017, 8.1.1), 64 for Ed25519 (RFC 8032,
 * 5.1.6), r || s of the curve's size for CKM_ECDSA.  Otherwise 0, logged:
 * a short signature is the token's fault, caught before use.
 */
static int
sig_len_ok(struct hsm_key *key, size_t len)
{
	size_t want = key->alg == KEY_ED25519 || key->alg == KEY_EC_P256 ?
	    64 : key->alg == KEY_EC_P384 ? 96 :
	    (size_t)EVP_PKEY_get_size(key->pub_pkey);

	if (len != want) {
		log_warnx("token %s: key %s: ES-HSM-SIG-01: C_Sign returned a "
		    "%zu-byte signature (expected %zu)", key->tok->info.label,
		    key->id_hex, len, want);
		return 0;
	}
	return 1;
}

int
hsm_sign_digest(struct hsm_key *key, enum sig_alg alg,
    const unsigned char *md, size_t mdlen, unsigned char **sig,
    size_t *siglen)
{
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_RSA_PKCS_PSS_PARAMS pss;
	const char *mdname = sig_alg_digest(alg);
	const unsigned char *prefix = NULL;
	unsigned char *in = NULL, *raw = NULL, *der = NULL;
	size_t inlen = 0, rawlen = 0, prefixlen = 0, want = 0, half;
	BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *esig = NULL;
	int derlen, ret = 0;

	*sig = NULL;
	*siglen = 0;
	if (!hsm_key_check_sign(key, alg)) {
		goto out;
	}
	if (mdname != NULL) {
		if (strcmp(mdname, "SHA256") == 0) {
			want = 32;
			prefix = di_sha256;
			prefixlen = sizeof(di_sha256);
			pss.hashAlg = CKM_SHA256;
			pss.mgf = CKG_MGF1_SHA256;
		} else if (strcmp(mdname, "SHA384") == 0) {
			want = 48;
			prefix = di_sha384;
			prefixlen = sizeof(di_sha384);
			pss.hashAlg = CKM_SHA384;
			pss.mgf = CKG_MGF1_SHA384;
		} else {
			want = 64;
			prefix = di_sha512;
			prefixlen = sizeof(di_sha512);
			pss.hashAlg = CKM_SHA512;
			pss.mgf = CKG_MGF1_SHA512;
		}
		if (mdlen != want) {
			log_warnx("token %s: key %s: %zu-byte digest for %s "
			    "(expected %zu)", key->tok->info.label,
			    key->id_hex, mdlen, sig_alg_name(alg), want);
			goto out;
		}
	}
	mech.mechanism = sign_mech(alg);
	if (sig_alg_is_pss(alg)) {
		pss.sLen = mdlen;
		mech.pParameter = &pss;
		mech.ulParameterLen = sizeof(pss);
		ret = token_sign(key, &mech, md, mdlen, sig, siglen);
	} else if (sig_alg_is_rsa(alg)) {
		inlen = prefixlen + mdlen;
		if ((in = malloc(inlen)) == NULL) {
			fatalx("out of memory");
		}
		memcpy(in, prefix, prefixlen);
		memcpy(in + prefixlen, md, mdlen);
		ret = token_sign(key, &mech, in, inlen, sig, siglen);
	} else if (sig_alg_is_ecdsa(alg)) {
		/* CKM_ECDSA returns r || s; X.509 wants ECDSA-Sig-Value. */
		if (!token_sign(key, &mech, md, mdlen, &raw, &rawlen)) {
			goto out;
		}
		if (!sig_len_ok(key, rawlen)) {
			goto out;
		}
		half = rawlen / 2;
		if ((r = BN_bin2bn(raw, half, NULL)) == NULL ||
		    (s = BN_bin2bn(raw + half, half, NULL)) == NULL ||
		    (esig = ECDSA_SIG_new()) == NULL) {
			fatalx("out of memory");
		}
		if (!ECDSA_SIG_set0(esig, r, s)) {
			fatalx("ECDSA_SIG_set0");
		}
		r = s = NULL;
		if ((derlen = i2d_ECDSA_SIG(esig, &der)) <= 0) {
			log_ssl("token %s: key %s: i2d_ECDSA_SIG",
			    key->tok->info.label, key->id_hex);
			goto out;
		}
		if ((*sig = malloc(derlen)) == NULL) {
			fatalx("out of memory");
		}
		memcpy(*sig, der, derlen);
		*siglen = derlen;
		ret = 1;
	} else {
		/* Ed25519 (PureEdDSA): md is the whole message. */
		ret = token_sign(key, &mech, md, mdlen, sig, siglen);
	}
out:
	if (ret && !sig_alg_is_ecdsa(alg) && !sig_len_ok(key, *siglen)) {
		free(*sig);
		*sig = NULL;
		*siglen = 0;
		ret = 0;
	}
	free(in);
	free(raw);
	OPENSSL_free(der);
	ECDSA_SIG_free(esig);
	BN_free(r);
	BN_free(s);
	return ret;
}
