/*
 * Fuzz target for the relying party's parsing of untrusted revocation
 * data in eseal-verify: OCSP responses (ocsp_check_der: DER, status,
 * basic response, CertID match, responder certificate and its authority,
 * signature, times, archiveCutoff, extended revoke) and CRLs
 * (crl_check_buf: PEM or DER, issuer, signature, critical extensions, IDP
 * scope, entries, deltas), offline.  The first input byte picks the
 * parser (even: OCSP, odd: CRL), the rest is the data.  The fixed CA and
 * end-entity certificate (serial 0x1001, CDP http://crl.fuzz.invalid/)
 * are the ones the seeds in tests/corpus/fuzz_verify_status/ were made
 * for with the openssl CLI (ocsp -index, ca -gencrl; see
 * tests/verify-fuzz.test).  Built with -fsanitize=fuzzer it is a
 * libFuzzer target; tests/test-verify-fuzz.c is the make check driver.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "log.h"
#include "util.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_ca_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhDCCASqgAwIBAgIUXddL1ZRndKlGxw00+nIZNyscb+kwCgYIKoZIzj0EAwIw\n"
    "HzEdMBsGA1UEAwwUZXNlYWwgdmVyaWZ5IGZ1enogQ0EwIBcNMjYxMjAyMTcwMDM0\n"
    "WhgPMjEyNjExMDgxNzAwMzRaMB8xHTAbBgNVBAMMFGVzZWFsIHZlcmlmeSBmdXp6\n"
    "IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7zCqFgH4FRrym+ct3OWRG7Hx\n"
    "+JUAV/hZCCGkdCuAhzWvDPKmq2gTFTwmRVCvokXbpL7V0ILNj4HIAMT4xZHcAaNC\n"
    "MEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFAJB\n"
    "Y9rSNwMFffHL2mWtpAXkMUq/MAoGCCqGSM49BAMCA0gAMEUCIF5TCx+q3M6Mll6f\n"
    "qQLie83Pg6X+g6zAprbD42q6IeZrAiEAzuGY35NHd7pYmHg33FQ3NxJBYO01v8J1\n"
    "mV/ZAkMJIEA=\n"
    "-----END CERTIFICATE-----\n"
    ;

static const char fuzz_leaf_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBuDCCAV6gAwIBAgICEAEwCgYIKoZIzj0EAwIwHzEdMBsGA1UEAwwUZXNlYWwg\n"
    "dmVyaWZ5IGZ1enogQ0EwIBcNMjYxMjAyMTcwMDM0WhgPMjEyNjExMDgxNzAwMzRa\n"
    "MBQxEjAQBgNVBAMMCWZ1enogbGVhZjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA\n"
    "BEZT2vc2dq5rGrIZ4bC1ospdRZtSkktFDKqBoYHb4VsDsd6Qd9zzp1TFRRCd0l1Z\n"
    "IDg457bNSVrXUX/CdAiwedqjgZIwgY8wDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8E\n"
    "BAMCBsAwLwYDVR0fBCgwJjAkoCKgIIYeaHR0cDovL2NybC5mdXp6LmludmFsaWQv\n"
    "Y2EuY3JsMB0GA1UdDgQWBBQjcBmq82PImyjTCLen7pApalJ5czAfBgNVHSMEGDAW\n"
    "gBQCQWPa0jcDBX3xy9plraQF5DFKvzAKBggqhkjOPQQDAgNIADBFAiEAi5nVsT5Y\n"
    "CTa8SDFleW/KOhjVHSursRtsP5OvEN1CjfECIAwaf+KedZMWvKUsqJ+ohoTULmqg\n"
    "bWPx3hsM5zEXVhsa\n"
    "-----END CERTIFICATE-----\n"
    ;

static X509		*ca, *leaf;
static struct vparams	 vp;

/* Outcomes seen, for the driver: [parser][rev_status]. */
unsigned long fuzz_status_seen[2][4];

static X509 *
pem_cert(const char *pem)
{
	BIO	*b;
	X509	*x;

	if ((b = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		fatalx("fuzz: bad built-in certificate");
	}
	BIO_free(b);
	return x;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rev_evidence	ev;
	enum rev_status		st;
	int			which;

	if (ca == NULL) {
		log_set_verbose(0);
		ca = pem_cert(fuzz_ca_pem);
		leaf = pem_cert(fuzz_leaf_pem);
		/* 2027-01-01: after the seeds' thisUpdate, before nextUpdate. */
		vp.now = vp.at = 1798761600;
		vp.skew = 300;
		vp.offline = 1;
		vp.http.timeout = 1;
		vp.http.max_body = 1 << 20;
	}
	if (size < 1) {
		return 0;
	}
	which = data[0] & 1;
	memset(&ev, 0, sizeof(ev));
	if (which == 0) {
		st = ocsp_check_der(data + 1, size - 1, leaf, ca, NULL, &vp,
		    &ev);
	} else {
		st = crl_check_buf(data + 1, size - 1, "fuzz", leaf, ca, &vp,
		    &ev);
	}
	fuzz_status_seen[which][st]++;
	ERR_clear_error();
	return 0;
}
