/*
 * Standalone driver for ca/fuzz_spki.c: runs every file named on the
 * command line through LLVMFuzzerTestOneInput, then every truncation and
 * a deterministic set of byte mutations at every byte (set to 0x00, 0x80,
 * 0xff, and one bit flipped), one TAP line per file; last, the seeds must
 * have reached both decoded keys and refused inputs.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-mutate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern unsigned long fuzz_spki_seen[2];

int
main(int argc, char **argv)
{
	static const unsigned char x[] = { 0x00, 0x80, 0xff };
	/* Last, a byte after the CSR, to be refused. */
	const struct fuzz_mutations fm = {
		.target = LLVMFuzzerTestOneInput,
		.values = x,
		.nvalues = sizeof(x),
		.trailing = 1,
	};

	fuzz_files(&fm, argc, argv);
	ok(fuzz_spki_seen[1] > 0 && fuzz_spki_seen[0] > 0, "seeds reach "
	    "decoded keys and refused inputs (%lu decoded, %lu refused)",
	    fuzz_spki_seen[1], fuzz_spki_seen[0]);
	return tap_done();
}
