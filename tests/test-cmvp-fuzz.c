/*
 * Standalone driver for policy/fuzz_cmvp.c: runs every file named on the
 * command line through LLVMFuzzerTestOneInput, then every truncation and
 * a deterministic set of byte mutations at every byte (set to 0xff, '"',
 * ',' and '\n', and one bit flipped), one TAP line per file; last, the
 * seeds must have reached both a parsed file with records and a refused
 * one (so the target is not stuck at the first check).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-mutate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern unsigned long fuzz_cmvp_seen[2], fuzz_cmvp_records;

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
	ok(fuzz_cmvp_seen[1] > 0 && fuzz_cmvp_records > 0 &&
	    fuzz_cmvp_seen[0] > 0, "seeds reach parsed files with records and "
	    "refused files (%lu parsed, %lu records, %lu refused)",
	    fuzz_cmvp_seen[1], fuzz_cmvp_records, fuzz_cmvp_seen[0]);
	return tap_done();
}
