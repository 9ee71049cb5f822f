/*
 * bench/sign-rate: the raw signing rate of a CA key on its token, for
 * comparison with eseal-ca issue's certificates per second (bench/issue).
 * Usage: sign-rate MODULE TOKEN-SERIAL KEY-ID-HEX SIG-ALG PIN-SOURCE N
 * Prints "token signatures/second: R".  Not part of make check.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hsm.h"
#include "log.h"

int
main(int argc, char **argv)
{
	struct hsm_module *mod = NULL;
	struct hsm_token *tok = NULL;
	struct hsm_key *key = NULL;
	struct timespec t0, t1;
	unsigned char md[64], *sig;
	enum sig_alg alg;
	size_t siglen, mdlen;
	double secs;
	long i, n;
	int ret = 1;

	log_init("sign-rate");
	if (argc != 7 || (n = atol(argv[6])) <= 0) {
		fprintf(stderr, "usage: sign-rate MODULE TOKEN-SERIAL KEY-ID "
		    "SIG-ALG PIN-SOURCE N\n");
		return 2;
	}
	if (!sig_alg_from_name(argv[4], &alg, "sign-rate") ||
	    (mod = hsm_module_load(argv[1])) == NULL ||
	    (tok = hsm_token_open(mod, NULL, argv[2])) == NULL ||
	    hsm_token_login(tok, argv[5]) != HSM_LOGIN_OK ||
	    (key = hsm_key_find(tok, argv[3])) == NULL) {
		goto out;
	}
	mdlen = strcmp(sig_alg_digest(alg), "SHA512") == 0 ? 64 :
	    strcmp(sig_alg_digest(alg), "SHA384") == 0 ? 48 : 32;
	memset(md, 0x5a, sizeof(md));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		md[0] = (unsigned char)i;
		if (!hsm_sign_digest(key, alg, md, mdlen, &sig, &siglen)) {
			goto out;
		}
		free(sig);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("token signatures/second: %.1f (%ld in %.2f s, %s)\n",
	    (double)n / secs, n, secs, argv[4]);
	ret = 0;
out:
	hsm_key_free(key);
	hsm_token_close(tok);
	hsm_module_free(mod);
	return ret;
}
