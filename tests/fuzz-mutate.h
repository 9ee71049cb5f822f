/*
 * The seed loop and mutation loop the standalone fuzz drivers
 * (tests/test-*-fuzz.c) share: each seed file, then every truncation of
 * it and, at every stride-th byte, the byte set to each of a few values
 * and then with its low bit flipped; last, if asked, the seed with one
 * NUL byte after it.  No engine and no randomness: the same seeds give
 * the same inputs on every run.  Header-only, like tap.h, whose counters
 * it shares.
 */
#ifndef ESEAL_FUZZ_MUTATE_H
#define ESEAL_FUZZ_MUTATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util.h"

struct fuzz_mutations {
	int			(*target)(const uint8_t *, size_t);
	const unsigned char	*values;	/* each byte set to each */
	size_t			 nvalues;
	size_t			 stride;	/* every stride-th byte; 0: 1 */
	int			 trailing;	/* then seed + one NUL byte */
	void			(*mutated)(void); /* after each mutant, or NULL */
	/* After the seed itself ran, before its mutations, or NULL. */
	void			(*seed)(const char *, const unsigned char *,
				    size_t);
};

/*
 * Run fm->target over the truncations and mutations of seed (len bytes,
 * not run itself), calling fm->mutated after each mutated input.  Returns
 * the number of inputs run; out of memory bails out of the TAP run.
 */
static inline size_t
fuzz_mutate(const struct fuzz_mutations *fm, const unsigned char *seed,
    size_t len)
{
	unsigned char	*m;
	size_t		 i, v, n = 0, stride = fm->stride ? fm->stride : 1;

	if ((m = malloc(len + 1)) == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	for (i = 0; i < len; i += stride) {
		fm->target(seed, i);
		for (v = 0; v <= fm->nvalues; v++) {
			memcpy(m, seed, len);
			m[i] = v < fm->nvalues ? fm->values[v] : m[i] ^ 0x01;
			fm->target(m, len);
			if (fm->mutated != NULL) {
				fm->mutated();
			}
		}
		n += 2 + fm->nvalues;
	}
	if (fm->trailing) {
		memcpy(m, seed, len);
		m[len] = 0;
		fm->target(m, len + 1);
		n++;
	}
	free(m);
	return n;
}

/*
 * Each file of argv[1..argc-1] (at most 1 MiB): run it through
 * fm->target, then fm->seed, then fuzz_mutate(); one TAP line per file.
 */
static inline void
fuzz_files(const struct fuzz_mutations *fm, int argc, char **argv)
{
	unsigned char	*buf;
	size_t		 len, n;
	int		 a;

	for (a = 1; a < argc; a++) {
		if (!file_read(argv[a], 1 << 20, &buf, &len)) {
			ok(0, "%s: readable", argv[a]);
			continue;
		}
		fm->target(buf, len);
		if (fm->seed != NULL) {
			fm->seed(argv[a], buf, len);
		}
		n = fuzz_mutate(fm, buf, len);
		free(buf);
		ok(1, "%s: %zu bytes, %zu variants", argv[a], len, n + 1);
	}
}

#endif
