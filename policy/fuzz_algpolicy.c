/*
 * Fuzz target for the algorithm policy parsers (policy/algpolicy.c,
 * policy/algdated.c), which read files an officer writes or copies: the
 * algorithm policy (alg_policy_parse()) and the dated policies (one
 * document, or the array the store keeps: alg_policy_set_dated(), and
 * alg_dated_valid() then alg_dated_eval() for a few keys, as the gate and
 * the report call them).  The whole input is one file's text.  The seeds
 * are in tests/corpus/fuzz_algpolicy/.  Built with -fsanitize=fuzzer it is
 * a libFuzzer target; tests/test-algpolicy-fuzz.c is the make check driver.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "algdated.h"
#include "lint.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Outcomes seen, for the driver: [0] refused, [1] a dated policy parsed. */
unsigned long fuzz_algpolicy_seen[2], fuzz_algpolicy_static;

/* The dated-policy paths of one NUL-terminated text. */
static void
dated(const char *text)
{
	static const struct { const char *kind; int bits; const char *hash; }
	    keys[] = { { "rsa", 2048, "SHA256" }, { "rsa", 3072, NULL },
	    { "EC", 256, "sha3_256" }, { "ed25519", 253, "" } };
	struct alg_dated_result r;
	struct alg_policy *ap = alg_policy_default();
	json_t *doc;
	size_t k;
	int ok;

	ok = alg_policy_set_dated(&ap, text, "fuzz");
	alg_policy_free(ap);
	fuzz_algpolicy_seen[ok != 0]++;
	if ((doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL) {
		return;
	}
	if (json_is_object(doc) && alg_dated_valid(doc, "fuzz")) {
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			alg_dated_eval(doc, keys[k].kind, keys[k].bits,
			    keys[k].hash, k % 2 ? "pss" : NULL, "2031-01-01",
			    &r);
		}
	}
	json_decref(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alg_policy *ap;
	char *text;

	log_set_verbose(0);
	if ((text = malloc(size + 3)) == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if ((ap = alg_policy_parse(text, "fuzz")) != NULL) {
		fuzz_algpolicy_static++;
	}
	alg_policy_free(ap);
	dated(text);
	/* A single document as the store keeps it: in an array. */
	memmove(text + 1, text, size);
	text[0] = '[';
	text[size + 1] = ']';
	text[size + 2] = '\0';
	dated(text);
	free(text);
	return 0;
}
