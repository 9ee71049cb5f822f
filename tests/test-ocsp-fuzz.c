/*
 * Standalone driver for ocsp/fuzz_request.c: runs every file named on
 * the command line through LLVMFuzzerTestOneInput, then every truncation
 * and a deterministic set of byte mutations of it, one TAP line per file.
 * The target aborts if a response does not parse with OpenSSL's d2i.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "responder.h"
#include "fuzz-mutate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	static const unsigned char x[] = { 0x00, 0xff, 0x80 };
	const struct fuzz_mutations fm = {
		.target = LLVMFuzzerTestOneInput,
		.values = x,
		.nvalues = sizeof(x),
		.trailing = 1,
	};

	fuzz_files(&fm, argc, argv);
	ok(responder_stats.good > 0 && responder_stats.revoked > 0 &&
	    responder_stats.unknown > 0, "seeds reach good, revoked and unknown "
	    "(%llu/%llu/%llu)", (unsigned long long)responder_stats.good,
	    (unsigned long long)responder_stats.revoked,
	    (unsigned long long)responder_stats.unknown);
	return tap_done();
}
