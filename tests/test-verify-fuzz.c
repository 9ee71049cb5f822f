/*
 * Standalone driver for verify/fuzz_status.c: runs every file named on
 * the command line through LLVMFuzzerTestOneInput, then truncations and
 * a deterministic set of byte mutations at every STRIDE-th byte (each
 * variant of a response costs signature checks, and make check runs
 * under ASan too: libFuzzer goes deeper), one TAP line per file;
 * last, the seeds must have reached a good and a revoked answer through
 * both parsers (so the target is not stuck at the first check).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-mutate.h"
#include "verify.h"

#define STRIDE	3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern unsigned long fuzz_status_seen[2][4];

int
main(int argc, char **argv)
{
	static const unsigned char x[] = { 0xff };
	const struct fuzz_mutations fm = {
		.target = LLVMFuzzerTestOneInput,
		.values = x,
		.nvalues = sizeof(x),
		.stride = STRIDE,
		.trailing = 1,
	};

	fuzz_files(&fm, argc, argv);
	ok(fuzz_status_seen[0][RS_GOOD] > 0 && fuzz_status_seen[0][RS_REVOKED] >
	    0, "OCSP seeds reach good and revoked (%lu/%lu)",
	    fuzz_status_seen[0][RS_GOOD], fuzz_status_seen[0][RS_REVOKED]);
	ok(fuzz_status_seen[1][RS_GOOD] > 0 && fuzz_status_seen[1][RS_REVOKED] >
	    0, "CRL seeds reach good and revoked (%lu/%lu)",
	    fuzz_status_seen[1][RS_GOOD], fuzz_status_seen[1][RS_REVOKED]);
	return tap_done();
}
