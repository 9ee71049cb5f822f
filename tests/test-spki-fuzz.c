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

#include "tap.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern unsigned long fuzz_spki_seen[2];

int
main(int argc, char **argv)
{
	static const unsigned char x[] = { 0x00, 0x80, 0xff };
	unsigned char	*buf, *m;
	size_t		 len, i, nv, v;
	int		 a;

	for (a = 1; a < argc; a++) {
		if (!file_read(argv[a], 1 << 20, &buf, &len)) {
			ok(0, "%s: readable", argv[a]);
			continue;
		}
		LLVMFuzzerTestOneInput(buf, len);
		if ((m = malloc(len + 1)) == NULL) {
			return 1;
		}
		for (i = 0, nv = 0; i < len; i++) {
			LLVMFuzzerTestOneInput(buf, i);
			for (v = 0; v <= sizeof(x); v++) {
				memcpy(m, buf, len);
				m[i] = v < sizeof(x) ? x[v] : m[i] ^ 0x01;
				LLVMFuzzerTestOneInput(m, len);
			}
			nv += 2 + sizeof(x);
		}
		/* A byte after the CSR is refused. */
		memcpy(m, buf, len);
		m[len] = 0;
		LLVMFuzzerTestOneInput(m, len + 1);
		free(m);
		free(buf);
		ok(1, "%s: %zu bytes, %zu variants", argv[a], len, nv + 2);
	}
	ok(fuzz_spki_seen[1] > 0 && fuzz_spki_seen[0] > 0, "seeds reach "
	    "decoded keys and refused inputs (%lu decoded, %lu refused)",
	    fuzz_spki_seen[1], fuzz_spki_seen[0]);
	return tap_done();
}
