/*
 * Fuzz target for the CMVP snapshot parser (policy/cmvp_parse.c), which
 * reads files an operator downloads from NIST or writes by hand: the
 * NIST-CMVP-API JSON layout (object with metadata and modules, or a bare
 * array) and our CSV layout (RFC 4180 quoting, UTF-8 only), with the date
 * forms they use and the normalisation of every record.  The whole input
 * is one file's text; a NUL-terminated copy of its first line also goes
 * through cmvpf_parse_date().  The seeds are in tests/corpus/fuzz_cmvp_parse/.
 * Built with -fsanitize=fuzzer it is a libFuzzer target;
 * tests/test-cmvp-fuzz.c is the make check driver.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmvp_parse.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Outcomes seen, for the driver: [0] refused, [1] parsed; records read. */
unsigned long fuzz_cmvp_seen[2], fuzz_cmvp_records;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct infile	 f;
	char		 line[64], date[11];
	size_t		 n;
	int		 ok;

	log_set_verbose(0);
	memset(&f, 0, sizeof(f));
	f.path = "fuzz";
	ok = cmvpf_parse(&f, data, size);
	fuzz_cmvp_seen[ok != 0]++;
	if (ok) {
		fuzz_cmvp_records += f.n;
	}
	cmvpf_infile_free(&f);

	for (n = 0; n < size && n < sizeof(line) - 1 && data[n] != '\n'; n++) {
		line[n] = (char)data[n];
	}
	line[n] = '\0';
	(void)cmvpf_parse_date(line, date);
	return 0;
}
