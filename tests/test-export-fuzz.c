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

#include "tap.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern int fuzz_export_accepted;

int
main(int argc, char **argv)
{
	unsigned char *buf, *m;
	const char *base;
	size_t len, i, accepted = 0;
	int a, v, want;

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
		if ((m = malloc(len + 1)) == NULL) {
			return 1;
		}
		for (i = 0; i < len; i++) {
			LLVMFuzzerTestOneInput(buf, i);
			for (v = 0; v < 4; v++) {
				static const unsigned char x[4] = {
				    0x00, 0xff, 0x80, 0x01 };

				memcpy(m, buf, len);
				m[i] = (unsigned char)(v < 3 ? x[v] :
				    m[i] ^ x[v]);
				LLVMFuzzerTestOneInput(m, len);
				accepted += fuzz_export_accepted;
			}
		}
		memcpy(m, buf, len);
		m[len] = 0;
		LLVMFuzzerTestOneInput(m, len + 1);
		ok(!fuzz_export_accepted, "%s: a trailing byte refused", base);
		free(m);
		free(buf);
		ok(1, "%s: %zu bytes, %zu variants", base, len, 5 * len + 2);
	}
	printf("# %zu mutations accepted\n", accepted);
	return tap_done();
}
