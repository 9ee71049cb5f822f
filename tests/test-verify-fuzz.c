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

#include "tap.h"
#include "util.h"
#include "verify.h"

#define STRIDE	3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern unsigned long fuzz_status_seen[2][4];

int
main(int argc, char **argv)
{
	static const unsigned char x[2] = { 0xff, 0x01 };
	unsigned char	*buf, *m;
	size_t		 len, i, nv;
	int		 a, v;

	for (a = 1; a < argc; a++) {
		if (!file_read(argv[a], 1 << 20, &buf, &len)) {
			ok(0, "%s: readable", argv[a]);
			continue;
		}
		LLVMFuzzerTestOneInput(buf, len);
		if ((m = malloc(len + 1)) == NULL) {
			return 1;
		}
		for (i = 0, nv = 0; i < len; i += STRIDE) {
			LLVMFuzzerTestOneInput(buf, i);
			for (v = 0; v < 2; v++) {
				memcpy(m, buf, len);
				m[i] = (unsigned char)(v == 0 ? x[v] :
				    m[i] ^ x[v]);
				LLVMFuzzerTestOneInput(m, len);
			}
			nv += 3;
		}
		memcpy(m, buf, len);
		m[len] = 0;
		LLVMFuzzerTestOneInput(m, len + 1);
		free(m);
		free(buf);
		ok(1, "%s: %zu bytes, %zu variants", argv[a], len, nv + 2);
	}
	ok(fuzz_status_seen[0][RS_GOOD] > 0 && fuzz_status_seen[0][RS_REVOKED] >
	    0, "OCSP seeds reach good and revoked (%lu/%lu)",
	    fuzz_status_seen[0][RS_GOOD], fuzz_status_seen[0][RS_REVOKED]);
	ok(fuzz_status_seen[1][RS_GOOD] > 0 && fuzz_status_seen[1][RS_REVOKED] >
	    0, "CRL seeds reach good and revoked (%lu/%lu)",
	    fuzz_status_seen[1][RS_GOOD], fuzz_status_seen[1][RS_REVOKED]);
	return tap_done();
}
