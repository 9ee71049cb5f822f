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
#include "tap.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	unsigned char *buf, *m;
	size_t len, i;
	int a, v;

	for (a = 1; a < argc; a++) {
		if (!file_read(argv[a], 1 << 20, &buf, &len)) {
			ok(0, "%s: readable", argv[a]);
			continue;
		}
		LLVMFuzzerTestOneInput(buf, len);
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
			}
		}
		memcpy(m, buf, len);
		m[len] = 0;
		LLVMFuzzerTestOneInput(m, len + 1);
		free(m);
		free(buf);
		ok(1, "%s: %zu bytes, %zu variants", argv[a], len, 5 * len + 2);
	}
	ok(responder_stats.good > 0 && responder_stats.revoked > 0 &&
	    responder_stats.unknown > 0, "seeds reach good, revoked and unknown "
	    "(%llu/%llu/%llu)", (unsigned long long)responder_stats.good,
	    (unsigned long long)responder_stats.revoked,
	    (unsigned long long)responder_stats.unknown);
	return tap_done();
}
