/*
 * Fuzz target for the ceremony file parser (ca/ceremony_parse.c), which
 * reads the JSON file operators bring into a key ceremony: root, issuing
 * (parent or external root) and arl ceremonies, with their token, key,
 * algorithms, certificate contents, officers and unknown keys refused.
 * The whole input is one file's contents, through ceremony_parse_buf().
 * The seeds are the example ceremony files of doc/examples, @PLACEHOLDERS@
 * filled in (tests/ceremony-fuzz.test), and tests/corpus/fuzz_ceremony_parse/.
 * Built with -fsanitize=fuzzer it is a libFuzzer target;
 * tests/test-ceremony-fuzz.c is the make check driver.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "ceremony.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* For the driver: the last outcome (1 parsed, 0 refused) and counts of
 * [0] refused, [1] root, [2] issuing, [3] arl files parsed. */
int fuzz_ceremony_last;
unsigned long fuzz_ceremony_seen[4];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ceremony c;

	log_set_verbose(0);
	fuzz_ceremony_last = ceremony_parse_buf(data, size, "fuzz", &c);
	if (!fuzz_ceremony_last) {
		fuzz_ceremony_seen[0]++;
	} else {
		fuzz_ceremony_seen[c.arl ? 3 : c.issuing ? 2 : 1]++;
	}
	ceremony_free(&c);
	return 0;
}
