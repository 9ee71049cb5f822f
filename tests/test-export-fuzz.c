/*
 * Standalone driver for ocsp/fuzz_export.c: runs every file named on
 * the command line through LLVMFuzzerTestOneInput, then every truncation
 * and a deterministic set of byte mutations of it, one TAP line per
 * file.  A seed whose name starts with "bad-" must be refused, any other
 * accepted.  The target aborts if what it accepts does not hold together.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-mutate.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern int fuzz_export_accepted;

/* Mutations the decoder accepted, over the whole run. */
static size_t accepted;

/* After each mutated input: count it if the decoder accepted it. */
static void
count_accepted(void)
{
	accepted += fuzz_export_accepted;
}

int
main(int argc, char **argv)
{
	static const unsigned char x[] = { 0x00, 0xff, 0x80 };
	const struct fuzz_mutations fm = {
		.target = LLVMFuzzerTestOneInput,
		.values = x,
		.nvalues = sizeof(x),
		.trailing = 1,
		.mutated = count_accepted,
	};
	unsigned char *buf;
	const char *base;
	size_t len, nv;
	int a, want;

	for (a = 1; a < argc; a++) {
		if (!file_read(argv[a], 1 << 20, &buf, &len)) {
			ok(0, "%s: readable", argv[a]);
			continue;
		}
		base = strrchr(argv[a], '/') != NULL ?
		    strrchr(argv[a], '/') + 1 : argv[a];
		want = strncmp(base, "bad-", 4) != 0;
		LLVMFuzzerTestOneInput(buf, len);
		ok(fuzz_export_accepted == want, "%s: %s", base,
		    want ? "accepted" : "refused");
		/* The last input run is the seed with a trailing byte. */
		nv = fuzz_mutate(&fm, buf, len);
		ok(!fuzz_export_accepted, "%s: a trailing byte refused", base);
		free(buf);
		ok(1, "%s: %zu bytes, %zu variants", base, len, nv + 1);
	}
	printf("# %zu mutations accepted\n", accepted);
	return tap_done();
}
