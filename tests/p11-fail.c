/*
 * p11-fail.so: a PKCS#11 module for the tests that wraps a real one
 * (SoftHSM2) and makes it fail on purpose, as p11-kit's mock module does,
 * so that the token error paths of eseal run without a broken HSM.
 *
 * It exports C_GetFunctionList (eseal's loader, hsm/p11.c, uses nothing
 * else), loads the module named by the environment variable
 * P11FAIL_MODULE and forwards every call to it, except where a rule of
 * P11FAIL_RULES says otherwise.  Rules are separated by commas:
 *
 *	FUNCTION:WHEN:ACTION
 *
 * FUNCTION	a wrapped function: C_Initialize C_GetInfo C_GetSlotList
 *		C_GetSlotInfo C_GetTokenInfo C_GetMechanismList
 *		C_GetMechanismInfo C_OpenSession C_CloseSession
 *		C_GetSessionInfo C_Login C_Logout C_FindObjectsInit
 *		C_FindObjects C_FindObjectsFinal C_GetAttributeValue
 *		C_GenerateKeyPair C_DestroyObject C_SignInit C_Sign
 *		(any other name is refused, so a rule never silently misses)
 * WHEN		N (the Nth call only), N+ (the Nth and every later call),
 *		* (every call).  Calls are counted per function, per
 *		process (a forked child starts again from zero), under a
 *		mutex.  A C_Sign size query (NULL signature buffer) is not
 *		counted: C_Sign:2 is the second signature made.
 * ACTION	CKR_NAME or 0xHEX: return that error without doing the call
 *		(for C_Sign the module's pending operation is ended first,
 *		as an error ends it on a real token; C_Login with
 *		CKR_USER_ALREADY_LOGGED_IN does log in first, as that code
 *		says the user is logged in, and fails with CKR_PIN_INCORRECT
 *		if the real login does);
 *		short: forward the call, then shorten the returned signature
 *		by one byte, returning CKR_OK (C_Sign only);
 *		flip: forward the call, then flip a bit in the middle of the
 *		signature, returning CKR_OK (C_Sign only);
 *		remove: the token is removed at this call: this and every
 *		later call on a session fails with CKR_SESSION_HANDLE_INVALID,
 *		C_GetTokenInfo, C_OpenSession and the mechanism queries with
 *		CKR_TOKEN_NOT_PRESENT, and C_GetSlotList lists no token.
 *
 * Examples: "C_Sign:2:CKR_DEVICE_ERROR", "C_Sign:1:short",
 * "C_Login:1:CKR_USER_ALREADY_LOGGED_IN",
 * "C_FindObjectsInit:1+:CKR_SESSION_HANDLE_INVALID".
 *
 * If P11FAIL_LOG names a file, every injected failure is appended to it
 * as one line "FUNCTION N ACTION" (tests check that the failure they
 * asked for did happen).  A malformed rule or an unloadable module makes
 * C_GetFunctionList fail with a message on stderr.
 *
 * This is test code: it includes the PKCS#11 header, which product code
 * outside hsm/ never does.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_RULES 16

enum fn {
	FN_C_Initialize, FN_C_GetInfo, FN_C_GetSlotList, FN_C_GetSlotInfo,
	FN_C_GetTokenInfo, FN_C_GetMechanismList, FN_C_GetMechanismInfo,
	FN_C_OpenSession, FN_C_CloseSession, FN_C_GetSessionInfo, FN_C_Login,
	FN_C_Logout, FN_C_FindObjectsInit, FN_C_FindObjects,
	FN_C_FindObjectsFinal, FN_C_GetAttributeValue, FN_C_GenerateKeyPair,
	FN_C_DestroyObject, FN_C_SignInit, FN_C_Sign, FN__MAX
};

static const char *const fn_names[FN__MAX] = {
	"C_Initialize", "C_GetInfo", "C_GetSlotList", "C_GetSlotInfo",
	"C_GetTokenInfo", "C_GetMechanismList", "C_GetMechanismInfo",
	"C_OpenSession", "C_CloseSession", "C_GetSessionInfo", "C_Login",
	"C_Logout", "C_FindObjectsInit", "C_FindObjects",
	"C_FindObjectsFinal", "C_GetAttributeValue", "C_GenerateKeyPair",
	"C_DestroyObject", "C_SignInit", "C_Sign"
};

/* What a call is about, for "remove". */
enum scope { ON_MODULE, ON_SLOT, ON_SESSION };

enum act { ACT_NONE, ACT_RV, ACT_SHORT, ACT_FLIP, ACT_REMOVE };

struct rule {
	enum fn		 fn;
	unsigned long	 n;		/* 1-based call number */
	int		 from;		/* also every later call */
	enum act	 act;
	CK_RV		 rv;
	char		 action[48];	/* as written, for the log */
};

static const struct {
	const char	*name;
	CK_RV		 rv;
} rv_names[] = {
#define R(x) { #x, x }
	R(CKR_CANCEL), R(CKR_HOST_MEMORY), R(CKR_SLOT_ID_INVALID),
	R(CKR_GENERAL_ERROR), R(CKR_FUNCTION_FAILED), R(CKR_ARGUMENTS_BAD),
	R(CKR_ATTRIBUTE_SENSITIVE), R(CKR_ATTRIBUTE_TYPE_INVALID),
	R(CKR_DATA_INVALID), R(CKR_DATA_LEN_RANGE), R(CKR_DEVICE_ERROR),
	R(CKR_DEVICE_MEMORY), R(CKR_DEVICE_REMOVED), R(CKR_FUNCTION_CANCELED),
	R(CKR_FUNCTION_NOT_SUPPORTED), R(CKR_KEY_HANDLE_INVALID),
	R(CKR_KEY_FUNCTION_NOT_PERMITTED), R(CKR_MECHANISM_INVALID),
	R(CKR_MECHANISM_PARAM_INVALID), R(CKR_OBJECT_HANDLE_INVALID),
	R(CKR_OPERATION_ACTIVE), R(CKR_OPERATION_NOT_INITIALIZED),
	R(CKR_PIN_INCORRECT), R(CKR_PIN_INVALID), R(CKR_PIN_LEN_RANGE),
	R(CKR_PIN_EXPIRED), R(CKR_PIN_LOCKED), R(CKR_SESSION_CLOSED),
	R(CKR_SESSION_COUNT), R(CKR_SESSION_HANDLE_INVALID),
	R(CKR_SESSION_READ_ONLY), R(CKR_TEMPLATE_INCOMPLETE),
	R(CKR_TEMPLATE_INCONSISTENT), R(CKR_TOKEN_NOT_PRESENT),
	R(CKR_TOKEN_NOT_RECOGNIZED), R(CKR_TOKEN_WRITE_PROTECTED),
	R(CKR_USER_ALREADY_LOGGED_IN), R(CKR_USER_NOT_LOGGED_IN),
	R(CKR_USER_PIN_NOT_INITIALIZED), R(CKR_USER_TYPE_INVALID),
	R(CKR_USER_ANOTHER_ALREADY_LOGGED_IN), R(CKR_BUFFER_TOO_SMALL),
	R(CKR_CRYPTOKI_NOT_INITIALIZED), R(CKR_CRYPTOKI_ALREADY_INITIALIZED),
	R(CKR_FUNCTION_REJECTED),
#undef R
};

static CK_FUNCTION_LIST *real;		/* the wrapped module's list */
static CK_FUNCTION_LIST list;		/* ours: a copy, some replaced */
static struct rule rules[MAX_RULES];
static size_t nrules;
static const char *logpath;

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pid_t counted_pid;		/* the process the counts belong to */
static unsigned long counts[FN__MAX];
static int removed;

/* Parse one "FUNCTION:WHEN:ACTION" into r; 1/0 (message on stderr). */
static int
rule_parse(char *s, struct rule *r)
{
	char *when, *act, *end;
	size_t i;

	memset(r, 0, sizeof(*r));
	if ((when = strchr(s, ':')) == NULL ||
	    (act = strchr(when + 1, ':')) == NULL) {
		goto bad;
	}
	*when++ = '\0';
	*act++ = '\0';
	for (i = 0; i < FN__MAX && strcmp(fn_names[i], s) != 0; i++) {
		continue;
	}
	if (i == FN__MAX) {
		fprintf(stderr, "p11-fail: %s is not a wrapped function\n", s);
		return 0;
	}
	r->fn = (enum fn)i;
	if (strcmp(when, "*") == 0) {
		r->n = 1;
		r->from = 1;
	} else {
		r->n = strtoul(when, &end, 10);
		if (r->n == 0 || end == when ||
		    (*end != '\0' && strcmp(end, "+") != 0)) {
			goto bad;
		}
		r->from = *end == '+';
	}
	snprintf(r->action, sizeof(r->action), "%s", act);
	if (strcmp(act, "short") == 0 || strcmp(act, "flip") == 0) {
		if (r->fn != FN_C_Sign) {
			fprintf(stderr, "p11-fail: %s applies to C_Sign only\n",
			    act);
			return 0;
		}
		r->act = strcmp(act, "short") == 0 ? ACT_SHORT : ACT_FLIP;
		return 1;
	}
	if (strcmp(act, "remove") == 0) {
		r->act = ACT_REMOVE;
		return 1;
	}
	r->act = ACT_RV;
	if (strncmp(act, "0x", 2) == 0) {
		r->rv = strtoul(act + 2, &end, 16);
		if (end != act + 2 && *end == '\0') {
			return 1;
		}
		goto bad;
	}
	for (i = 0; i < NITEMS(rv_names); i++) {
		if (strcmp(rv_names[i].name, act) == 0) {
			r->rv = rv_names[i].rv;
			return 1;
		}
	}
bad:
	fprintf(stderr, "p11-fail: bad rule \"%s\" (want FUNCTION:N|N+|*:"
	    "CKR_NAME|0xHEX|short|flip|remove)\n", s);
	return 0;
}

/* Parse P11FAIL_RULES; 1/0. */
static int
rules_load(void)
{
	const char *env = getenv("P11FAIL_RULES");
	char *copy, *tok, *save = NULL;
	int ok = 1;

	nrules = 0;
	if (env == NULL || *env == '\0') {
		return 1;
	}
	if ((copy = strdup(env)) == NULL) {
		return 0;
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL && ok;
	    tok = strtok_r(NULL, ",", &save)) {
		if (nrules == MAX_RULES) {
			fprintf(stderr, "p11-fail: more than %d rules\n",
			    MAX_RULES);
			ok = 0;
		} else {
			ok = rule_parse(tok, &rules[nrules++]);
		}
	}
	free(copy);
	return ok;
}

/* Append "FUNCTION N ACTION" to P11FAIL_LOG (if set).  Caller holds mtx. */
static void
log_injection(enum fn f, unsigned long n, const char *action)
{
	FILE *fp;

	if (logpath == NULL || (fp = fopen(logpath, "a")) == NULL) {
		return;
	}
	fprintf(fp, "%s %lu %s\n", fn_names[f], n, action);
	fclose(fp);
}

/*
 * Count one call of f in this process and copy the first rule that
 * applies to it into *out (out->act is ACT_NONE if none does).  Sets
 * *gone if the token has been removed (by this call or an earlier one).
 */
static void
inject(enum fn f, struct rule *out, int *gone)
{
	unsigned long n;
	size_t i;
	int hit = 0;

	out->act = ACT_NONE;
	pthread_mutex_lock(&mtx);
	if (counted_pid != getpid()) {
		/* A forked child counts its own calls from zero. */
		counted_pid = getpid();
		memset(counts, 0, sizeof(counts));
		removed = 0;
	}
	n = ++counts[f];
	for (i = 0; i < nrules && !hit; i++) {
		if (rules[i].fn == f && (n == rules[i].n ||
		    (rules[i].from && n > rules[i].n))) {
			*out = rules[i];
			hit = 1;
			log_injection(f, n, rules[i].action);
			if (rules[i].act == ACT_REMOVE) {
				removed = 1;
			}
		}
	}
	*gone = removed;
	pthread_mutex_unlock(&mtx);
}

/*
 * The common front of a wrapper: 1 and *rv set if the call must not be
 * forwarded (an injected error, or the token is gone); 0 if it is
 * forwarded, r->act saying what to do to its result (ACT_SHORT...).
 */
static int
intercept(enum fn f, enum scope sc, struct rule *r, CK_RV *rv)
{
	int gone = 0;

	inject(f, r, &gone);
	if (r->act == ACT_RV) {
		*rv = r->rv;
		return 1;
	}
	if (gone && sc != ON_MODULE) {
		*rv = sc == ON_SESSION ? CKR_SESSION_HANDLE_INVALID :
		    CKR_TOKEN_NOT_PRESENT;
		return 1;
	}
	return 0;
}

/* Plain wrappers: intercept, else forward. */
#define WRAP(name, sc, params, args)					\
static CK_RV								\
w_##name params								\
{									\
	struct rule r;							\
	CK_RV rv;							\
									\
	if (intercept(FN_##name, sc, &r, &rv)) {			\
		return rv;						\
	}								\
	return real->name args;						\
}

WRAP(C_Initialize, ON_MODULE, (CK_VOID_PTR a), (a))
WRAP(C_GetInfo, ON_MODULE, (CK_INFO_PTR i), (i))
WRAP(C_GetSlotInfo, ON_MODULE, (CK_SLOT_ID s, CK_SLOT_INFO_PTR i), (s, i))
WRAP(C_GetTokenInfo, ON_SLOT, (CK_SLOT_ID s, CK_TOKEN_INFO_PTR i), (s, i))
WRAP(C_GetMechanismList, ON_SLOT,
    (CK_SLOT_ID s, CK_MECHANISM_TYPE_PTR l, CK_ULONG_PTR n), (s, l, n))
WRAP(C_GetMechanismInfo, ON_SLOT,
    (CK_SLOT_ID s, CK_MECHANISM_TYPE t, CK_MECHANISM_INFO_PTR i), (s, t, i))
WRAP(C_OpenSession, ON_SLOT,
    (CK_SLOT_ID s, CK_FLAGS f, CK_VOID_PTR a, CK_NOTIFY n,
    CK_SESSION_HANDLE_PTR h), (s, f, a, n, h))
WRAP(C_CloseSession, ON_SESSION, (CK_SESSION_HANDLE h), (h))
WRAP(C_GetSessionInfo, ON_SESSION,
    (CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR i), (h, i))
WRAP(C_Logout, ON_SESSION, (CK_SESSION_HANDLE h), (h))
WRAP(C_FindObjectsInit, ON_SESSION,
    (CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR t, CK_ULONG n), (h, t, n))
WRAP(C_FindObjects, ON_SESSION,
    (CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR o, CK_ULONG m,
    CK_ULONG_PTR n), (h, o, m, n))
WRAP(C_FindObjectsFinal, ON_SESSION, (CK_SESSION_HANDLE h), (h))
WRAP(C_GetAttributeValue, ON_SESSION,
    (CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t,
    CK_ULONG n), (h, o, t, n))
WRAP(C_GenerateKeyPair, ON_SESSION,
    (CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pt,
    CK_ULONG pn, CK_ATTRIBUTE_PTR vt, CK_ULONG vn, CK_OBJECT_HANDLE_PTR pk,
    CK_OBJECT_HANDLE_PTR vk), (h, m, pt, pn, vt, vn, pk, vk))
WRAP(C_DestroyObject, ON_SESSION, (CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o),
    (h, o))
WRAP(C_SignInit, ON_SESSION,
    (CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k), (h, m, k))
#undef WRAP

/*
 * CKR_USER_ALREADY_LOGGED_IN means the user is logged in: the call is
 * forwarded first, so that the session can see private objects as it
 * would on a token where another session had logged in.
 */
static CK_RV
w_C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE u, CK_UTF8CHAR_PTR p, CK_ULONG l)
{
	struct rule r;
	CK_RV rv;

	if (intercept(FN_C_Login, ON_SESSION, &r, &rv)) {
		if (rv == CKR_USER_ALREADY_LOGGED_IN &&
		    real->C_Login(h, u, p, l) != CKR_OK) {
			return CKR_PIN_INCORRECT;
		}
		return rv;
	}
	return real->C_Login(h, u, p, l);
}

/* After "remove", a token-present slot list is empty. */
static CK_RV
w_C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR l, CK_ULONG_PTR n)
{
	struct rule r;
	CK_RV rv;

	if (intercept(FN_C_GetSlotList, ON_MODULE, &r, &rv)) {
		return rv;
	}
	pthread_mutex_lock(&mtx);
	rv = removed && counted_pid == getpid() && present;
	pthread_mutex_unlock(&mtx);
	if (rv) {
		*n = 0;
		return CKR_OK;
	}
	return real->C_GetSlotList(present, l, n);
}

/* End the module's pending signing operation (its result is dropped). */
static void
sign_abort(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl)
{
	CK_ULONG len = 0;
	CK_BYTE *buf;

	if (real->C_Sign(h, d, dl, NULL, &len) != CKR_OK ||
	    (buf = malloc(len + 1)) == NULL) {
		return;
	}
	real->C_Sign(h, d, dl, buf, &len);
	free(buf);
}

static CK_RV
w_C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR sig,
    CK_ULONG_PTR sl)
{
	struct rule r;
	CK_RV rv;

	if (sig == NULL) {
		/* A size query: forwarded, not counted. */
		return real->C_Sign(h, d, dl, sig, sl);
	}
	if (intercept(FN_C_Sign, ON_SESSION, &r, &rv)) {
		sign_abort(h, d, dl);
		return rv;
	}
	rv = real->C_Sign(h, d, dl, sig, sl);
	if (rv == CKR_OK && r.act == ACT_SHORT && *sl > 0) {
		(*sl)--;
	} else if (rv == CKR_OK && r.act == ACT_FLIP && *sl > 0) {
		sig[*sl / 2] ^= 0x01;
	}
	return rv;
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	const char *path = getenv("P11FAIL_MODULE");
	CK_C_GetFunctionList getfl;
	void *dl;

	if (out == NULL) {
		return CKR_ARGUMENTS_BAD;
	}
	if (real == NULL) {
		if (path == NULL || *path == '\0') {
			fprintf(stderr, "p11-fail: set P11FAIL_MODULE to the "
			    "module to wrap\n");
			return CKR_GENERAL_ERROR;
		}
		if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL |
		    RTLD_NODELETE)) == NULL) {
			fprintf(stderr, "p11-fail: %s: %s\n", path, dlerror());
			return CKR_GENERAL_ERROR;
		}
		*(void **)&getfl = dlsym(dl, "C_GetFunctionList");
		if (getfl == NULL || getfl(&real) != CKR_OK || real == NULL) {
			fprintf(stderr, "p11-fail: %s: no function list\n",
			    path);
			real = NULL;
			return CKR_GENERAL_ERROR;
		}
		list = *real;
		list.C_GetFunctionList = C_GetFunctionList;
#define SET(name) list.name = w_##name
		SET(C_Initialize); SET(C_GetInfo); SET(C_GetSlotList);
		SET(C_GetSlotInfo); SET(C_GetTokenInfo);
		SET(C_GetMechanismList); SET(C_GetMechanismInfo);
		SET(C_OpenSession); SET(C_CloseSession);
		SET(C_GetSessionInfo); SET(C_Login); SET(C_Logout);
		SET(C_FindObjectsInit); SET(C_FindObjects);
		SET(C_FindObjectsFinal); SET(C_GetAttributeValue);
		SET(C_GenerateKeyPair); SET(C_DestroyObject);
		SET(C_SignInit); SET(C_Sign);
#undef SET
	}
	logpath = getenv("P11FAIL_LOG");
	if (!rules_load()) {
		return CKR_GENERAL_ERROR;
	}
	*out = &list;
	return CKR_OK;
}
