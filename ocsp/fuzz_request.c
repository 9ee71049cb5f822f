/*
 * Fuzz target for the request path of eseal-ocspd: DER parsing, nonce
 * checks, CertID resolution, status lookup, ResponseData encoding and
 * response assembly (with a stand-in signature).  The responder state
 * holds one fixed CA (the seeds in tests/corpus/fuzz_ocsp_request/ name
 * it) with serials 0x1001 good and 0x1002 revoked.  Built with
 * -fsanitize=fuzzer it is a libFuzzer target; tests/test-ocsp-fuzz.c is
 * the standalone driver used by make check.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "log.h"
#include "responder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_ca_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBdDCCARqgAwIBAgIBATAKBggqhkjOPQQDAjAYMRYwFAYDVQQDDA1lc2VhbCBm\n"
    "dXp6IENBMCAXDTI2MTEyMjIyMDkyMloYDzIxMjYxMDI5MjIwOTIyWjAYMRYwFAYD\n"
    "VQQDDA1lc2VhbCBmdXp6IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAERaw/\n"
    "xEDciPwRw8GeoFMcZv6w63IIfjVHsKrVwOyvkGluPGJ41B9mBggx41FgvMxUpqyO\n"
    "kiV+nS5nS4f7cZflhaNTMFEwHQYDVR0OBBYEFBLkrFtfXfvz6gTPLOp33bTDBY9p\n"
    "MB8GA1UdIwQYMBaAFBLkrFtfXfvz6gTPLOp33bTDBY9pMA8GA1UdEwEB/wQFMAMB\n"
    "Af8wCgYIKoZIzj0EAwIDSAAwRQIhAIJzs6OTd72A92xZtFYi0JVputXaUSP/30PT\n"
    "8bVVm7YGAiAHwNoMzhdyfyBDbNihe0VY+4Cx60ppXRWlNEtwet/Y2Q==\n"
    "-----END CERTIFICATE-----\n"
    ;

static struct rstate *st, *st_rev;
static struct responder_signer sg;

static int
fake_sign(void *arg, const unsigned char *tbs, size_t len,
    unsigned char **sig, size_t *sig_len)
{
	if ((*sig = calloc(1, 64)) == NULL) {
		return 0;
	}
	*sig_len = 64;
	return 1;
}

/*
 * The entries of the fixed CA, as in an export: 0x1001 good, 0x1002
 * revoked (keyCompromise, 2020-09-13T12:26:40Z, invalidity date
 * 2020-05-20T18:40:00Z).
 */
static const unsigned char entries_der[] = {
	0x30, 0x07, 0x02, 0x02, 0x10, 0x01, 0x0a, 0x01, 0x00,
	0x30, 0x32, 0x02, 0x02, 0x10, 0x02, 0x0a, 0x01, 0x01,
	0xa0, 0x11, 0x18, 0x0f, '2', '0', '2', '0', '0', '9', '1', '3', '1',
	'2', '2', '6', '4', '0', 'Z',
	0xa1, 0x03, 0x0a, 0x01, 0x01,
	0xa2, 0x11, 0x18, 0x0f, '2', '0', '2', '0', '0', '5', '2', '0', '1',
	'8', '4', '0', '0', '0', 'Z'
};

/* One state over the fixed CA; unknown-serial policy as given. */
static struct rstate *
make_state(X509 *ca, enum unknown_policy up)
{
	/* The CA signs its own responses here (RFC 6960 4.2.2.2). */
	struct responder_opts o = { .unknown = up, .extended_revoke = 1,
	    .archive_cutoff_days = 7, .validity = 3600, .signer = ca };
	struct export *e;
	struct export_issuer *is;

	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->issuers = calloc(1, sizeof(*is))) == NULL) {
		abort();
	}
	e->version = 1;
	e->sequence = 1;
	e->nissuers = 1;
	is = &e->issuers[0];
	X509_up_ref(ca);
	is->ca = ca;
	is->this_update = 1000;
	is->next_update = (time_t)4102444800LL;	/* 2100 */
	if (!export_issuer_index(is, entries_der, sizeof(entries_der),
	    "fuzz")) {
		abort();
	}
	return rstate_new(e, &o);
}

static void
init(void)
{
	static const unsigned char algid[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a,
	    0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
	BIO *b;
	X509 *ca;

	log_set_verbose(0);
	if ((b = BIO_new_mem_buf(fuzz_ca_pem, -1)) == NULL ||
	    (ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		abort();
	}
	BIO_free(b);
	st = make_state(ca, UNKNOWN_AS_UNKNOWN);
	st_rev = make_state(ca, UNKNOWN_AS_REVOKED);
	sg.sign = fake_sign;
	sg.cert = ca;
	sg.algid = (unsigned char *)algid;
	sg.algid_len = sizeof(algid);
	if (!responder_signer_prepare(&sg)) {
		abort();
	}
}

/*
 * What we answer must be one DER OCSPResponse, and in canonical DER: the
 * ResponseData is written by hand, so OpenSSL's parse and re-encoding
 * must give the same bytes back.
 */
static void
check_answer(const struct rblob *b)
{
	OCSP_RESPONSE *r;
	const unsigned char *p = b->der;
	unsigned char *again = NULL;
	int n;

	if (b->len < 5 || b->der[0] != 0x30 ||
	    (r = d2i_OCSP_RESPONSE(NULL, &p, (long)b->len)) == NULL ||
	    p != b->der + b->len) {
		abort();
	}
	if ((n = i2d_OCSP_RESPONSE(r, &again)) <= 0 ||
	    (size_t)n != b->len || memcmp(again, b->der, b->len) != 0) {
		abort();
	}
	OPENSSL_free(again);
	OCSP_RESPONSE_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rblob *b;

	if (st == NULL) {
		init();
	}
	responder_answer(st, &sg, data, size, 1700000000, &b);
	if (b == NULL) {
		abort();
	}
	check_answer(b);
	rblob_unref(b);
	responder_answer(st_rev, &sg, data, size, 1700000000, &b);
	if (b == NULL) {
		abort();
	}
	check_answer(b);
	rblob_unref(b);
	return 0;
}
