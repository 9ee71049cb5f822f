/*
 * Test-only: verify and decode a status export against the given CA
 * certificates and print a summary (and the decode time on stderr), so
 * the shell tests can check what the decoder accepted.  Usage:
 *   test-ocsp-dump EXPORT.der CA.pem...
 * It prints the first 20 entries of each issuer, all of them with
 * DUMP_ALL set in the environment, and whether the decoder had to sort
 * them ("order N written" or "order N resorted").
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/pem.h>

#include "export.h"
#include "log.h"
#include "util.h"

int
main(int argc, char **argv)
{
	struct export *e = NULL;
	X509 *trust[8];
	struct timespec t0, t1;
	size_t i, j, ntrust = 0, show;
	FILE *f;
	int rc = 1;

	log_init(argv[0]);
	show = getenv("DUMP_ALL") != NULL ? SIZE_MAX : 20;
	if (argc < 3 || argc > 10) {
		fprintf(stderr, "usage: %s EXPORT.der CA.pem...\n", argv[0]);
		return 2;
	}
	for (i = 2; i < (size_t)argc; i++) {
		if ((f = fopen(argv[i], "r")) == NULL ||
		    (trust[ntrust] = PEM_read_X509(f, NULL, NULL, NULL)) ==
		    NULL) {
			log_ssl("%s: cannot read", argv[i]);
			goto out;
		}
		fclose(f);
		ntrust++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((e = export_load(argv[1], trust, ntrust)) == NULL) {
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "decode-ms %ld\n", (long)((t1.tv_sec - t0.tv_sec) *
	    1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	printf("version %d\nsequence %lld\nissuers %zu\n", e->version,
	    (long long)e->sequence, e->nissuers);
	for (i = 0; i < e->nissuers; i++) {
		struct export_issuer *is = &e->issuers[i];
		char tu[32], nu[32];

		time_fmt(is->this_update, tu, sizeof(tu));
		time_fmt(is->next_update, nu, sizeof(nu));
		printf("issuer %zu entries %zu crls %zu this %s next %s\n", i,
		    is->nentries, is->ncrls, tu, nu);
		printf("order %zu %s\n", i, is->resorted ? "resorted" :
		    "written");
		for (j = 0; j < is->nentries && j < show; j++) {
			struct export_entry ent, *en = &ent;
			char *hex, rt[32] = "-", id[32] = "-";

			export_entry_get(is, j, &ent);
			hex = hex_encode(en->serial, en->serial_len);

			if (en->revocation_time != 0) {
				time_fmt(en->revocation_time, rt, sizeof(rt));
			}
			if (en->invalidity_date != 0) {
				time_fmt(en->invalidity_date, id, sizeof(id));
			}
			printf("entry %s %s %s %s %s\n", hex,
			    en->status == EXPORT_GOOD ? "good" : "revoked", rt,
			    export_reason_name(en->reason), id);
			free(hex);
		}
		for (j = 0; j < is->ncrls; j++) {
			printf("crl %s %zu\n", is->crls[j].name,
			    is->crls[j].der_len);
		}
	}
	rc = 0;
 out:
	export_free(e);
	for (i = 0; i < ntrust; i++) {
		X509_free(trust[i]);
	}
	return rc;
}
