/*
 * Standalone driver for policy/fuzz_algpolicy.c: runs every file named on the
 * command line through LLVMFuzzerTestOneInput, then every truncation and
 * a deterministic set of byte mutations at every byte (set to 0xff, '"',
 * ',' and '\n', and one bit flipped), one TAP line per file; last, the
 * seeds must have reached a dated policy accepted, one refused and an
 * algorithm policy accepted (so the target is not stuck at the first
 * check).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-mutate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern unsigned long fuzz_algpolicy_seen[2], fuzz_algpolicy_static;

int
main(int argc, char **argv)
{
	static const unsigned char x[] = { 0xff, '"', ',', '\n' };
	const struct fuzz_mutations fm = {
		.target = LLVMFuzzerTestOneInput,
		.values = x,
		.nvalues = sizeof(x),
	};

	fuzz_files(&fm, argc, argv);
	ok(fuzz_algpolicy_seen[1] > 0 && fuzz_algpolicy_seen[0] > 0 &&
	    fuzz_algpolicy_static > 0, "seeds reach accepted and refused dated "
	    "policies and accepted algorithm policies (%lu accepted, %lu "
	    "refused, %lu algorithm policies)", fuzz_algpolicy_seen[1],
	    fuzz_algpolicy_seen[0], fuzz_algpolicy_static);
	return tap_done();
}
