/*
 * Fuzz target for the status export's content decoder (export_read.c):
 * the StatusExport DER walk, the strict StatusEntry checks, the sort of
 * the entry index and the NamedCRLs, with no signature and no trust
 * decision (export_content_decode).  What it accepts must hold
 * together: entries in strictly increasing serial order, each found
 * again by export_issuer_find() at its own index, each decoding to a
 * status the format allows.  Built with -fsanitize=fuzzer it is a
 * libFuzzer target; tests/test-export-fuzz.c is the standalone driver
 * used by make check.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Set by the driver: 1 if the last input was accepted. */
int fuzz_export_accepted;

/* Abort unless the decoded export e holds together. */
static void
check(const struct export *e)
{
	struct export_entry en, prev;
	size_t i, j;

	if (e->nissuers == 0 || (e->version != EXPORT_VERSION &&
	    e->version != EXPORT_VERSION_AUDIT) || e->sequence < 0) {
		abort();
	}
	for (i = 0; i < e->nissuers; i++) {
		const struct export_issuer *is = &e->issuers[i];

		if (is->ca == NULL || is->this_update >= is->next_update) {
			abort();
		}
		for (j = 0; j < is->nentries; j++) {
			export_entry_get(is, j, &en);
			if (en.serial_len < 1 ||
			    en.serial_len > EXPORT_SERIAL_MAX ||
			    (en.status != EXPORT_GOOD &&
			    en.status != EXPORT_REVOKED) ||
			    (en.status == EXPORT_GOOD &&
			    (en.revocation_time != 0 || en.reason != -1)) ||
			    en.reason < -1 || en.reason > 10 || en.reason == 7 ||
			    export_issuer_find(is, en.serial, en.serial_len) !=
			    (long)j) {
				abort();
			}
			if (j > 0 && (prev.serial_len > en.serial_len ||
			    (prev.serial_len == en.serial_len &&
			    memcmp(prev.serial, en.serial, en.serial_len) >=
			    0))) {
				abort();
			}
			prev = en;
		}
		for (j = 0; j < is->ncrls; j++) {
			if (!export_crl_name_ok(is->crls[j].name,
			    strlen(is->crls[j].name)) ||
			    is->crls[j].der_len == 0) {
				abort();
			}
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct export *e;

	if (!init) {
		log_set_verbose(0);
		init = 1;
	}
	e = export_content_decode(data, size, "fuzz");
	fuzz_export_accepted = e != NULL;
	if (e != NULL) {
		check(e);
	}
	export_free(e);
	return 0;
}
