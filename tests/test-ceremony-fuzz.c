/*
 * Standalone driver for ca/fuzz_ceremony.c: runs every file named on the
 * command line through LLVMFuzzerTestOneInput, then every truncation and
 * a deterministic set of byte mutations at every byte (set to 0xff, '"',
 * '}', ']', ',', ' ', '0' and NUL, and one bit flipped), one TAP line per
 * file.  A seed that parses must be refused with bytes after its JSON
 * (whitespace aside) and accepted with whitespace there.  Every input must be parsed or refused with a message on stderr
 * (which must be a regular file: tests/ceremony-fuzz.test sees to it, and
 * shows its tail if the driver fails); last, the seeds must have reached a
 * parsed root, issuing and arl ceremony and refused files (so the target
 * is not stuck at the first check).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-mutate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern int fuzz_ceremony_last;
extern unsigned long fuzz_ceremony_seen[4];

/* Inputs refused without a message, over the whole run. */
static unsigned long silent;

/* One input; a refusal must have written to stderr (fd 2, a file). */
static int
run(const uint8_t *data, size_t size)
{
	off_t before = lseek(2, 0, SEEK_END);

	LLVMFuzzerTestOneInput(data, size);
	if (!fuzz_ceremony_last && lseek(2, 0, SEEK_END) <= before) {
		silent++;
	}
	return 0;
}

/*
 * Seed buf (len bytes, parsed) with trailing bytes: refused after each
 * tail of bytes, accepted after whitespace.  1 if so.
 */
static int
trailing(const unsigned char *buf, size_t len)
{
	static const char *const tail[] = { "x", "{}", "\"\"", "0", "]",
	    "\xff" };
	unsigned char	*m;
	size_t		 i, n;
	int		 good = 1;

	if ((m = malloc(len + 3)) == NULL) {
		return 0;
	}
	memcpy(m, buf, len);
	for (i = 0; i < sizeof(tail) / sizeof(tail[0]); i++) {
		n = strlen(tail[i]);
		memcpy(m + len, tail[i], n);
		run(m, len + n);
		good &= !fuzz_ceremony_last;
	}
	m[len] = '\0';
	run(m, len + 1);
	good &= !fuzz_ceremony_last;
	memcpy(m + len, " \n", 2);
	run(m, len + 2);
	good &= fuzz_ceremony_last;
	free(m);
	return good;
}

/* After a seed ran: if it parsed, bytes after its JSON must be refused. */
static void
seed_trailing(const char *path, const unsigned char *buf, size_t len)
{
	if (fuzz_ceremony_last) {
		ok(trailing(buf, len), "%s: refused with bytes after the JSON",
		    path);
	}
}

int
main(int argc, char **argv)
{
	static const unsigned char x[] = { 0xff, '"', '}', ']', ',', ' ', '0',
	    '\0' };
	const struct fuzz_mutations fm = {
		.target = run,
		.values = x,
		.nvalues = sizeof(x),
		.seed = seed_trailing,
	};

	if (lseek(2, 0, SEEK_END) == -1) {
		printf("Bail out! stderr is not a file\n");
		return 1;
	}
	fuzz_files(&fm, argc, argv);
	ok(silent == 0, "every refused input was logged (%lu silent)", silent);
	ok(fuzz_ceremony_seen[0] > 0 && fuzz_ceremony_seen[1] > 0 &&
	    fuzz_ceremony_seen[2] > 0 && fuzz_ceremony_seen[3] > 0,
	    "seeds reach parsed root, issuing and arl ceremonies and refused "
	    "files (%lu root, %lu issuing, %lu arl, %lu refused)",
	    fuzz_ceremony_seen[1], fuzz_ceremony_seen[2], fuzz_ceremony_seen[3],
	    fuzz_ceremony_seen[0]);
	return tap_done();
}
