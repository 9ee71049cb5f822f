/*
 * Key ceremony files: what ceremony_parse.c reads from a ceremony file
 * and ceremony_run.c performs.  Every string points into root.
 */
#ifndef CEREMONY_H
#define CEREMONY_H

#include <time.h>

#include <jansson.h>

#include "ca.h"

#define MAX_OFFICERS 16
#define MAX_POLICIES 16

struct ceremony {
	json_t		*root;
	const char	*file;
	char		 file_sha256[65];
	int		 issuing;
	const char	*ca;
	const char	*module, *token_label, *token_serial, *pin;
	enum key_alg	 kalg;
	const char	*key_label;
	enum sig_alg	 salg;
	json_t		*subject;
	time_t		 nb, na;
	int		 path_len;
	const char	*output;
	const char	*transcript;
	const char	*parent, *parent_pin;
	const char	*csr_output;
	const char	*crldp, *ca_issuers, *ocsp;
	char		*policies[MAX_POLICIES];
	size_t		 npolicies;
	json_t		*settings;
	const char	*officers[MAX_OFFICERS];
	size_t		 nofficers;
	int		 arl;		/* "ceremony": "arl" (a root's ARL) */
	char		 next_days[24];
	int		 pem;
};

/*
 * Parse and check ceremony file file into c (root, issuing or arl).
 * Release c with ceremony_free(), also after a failure.  1/0 (logged).
 */
int ceremony_parse(const char *file, struct ceremony *c);
/*
 * The same over the file's contents buf (len bytes, file names it in
 * messages), reading nothing else: the fuzz target's entry.  1/0 (logged).
 */
int ceremony_parse_buf(const unsigned char *buf, size_t len,
    const char *file, struct ceremony *c);
/* Release what ceremony_parse() kept (c itself is the caller's). */
void ceremony_free(struct ceremony *c);
/* Print every input of ceremony c for review, on stdout. */
void ceremony_print(const struct ceremony *c);

#endif
