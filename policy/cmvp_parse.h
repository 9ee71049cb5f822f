/*
 * Parsing CMVP snapshot data for "eseal-policy cmvp import": the
 * NIST-CMVP-API JSON layout and our CSV layout (doc/cmvp-csv.md), parsed
 * whole and normalised into records before anything touches the store,
 * so that a malformed file changes nothing.  Every problem is logged once
 * as "FILE: line N: ES-CMVP-0x: problem".  No I/O: the caller reads the
 * file (cmvp_cmd.c).
 */
#ifndef ESEAL_CMVP_PARSE_H
#define ESEAL_CMVP_PARSE_H

#include <stddef.h>

#include <jansson.h>

/* One certificate record as read from a file, normalised. */
struct rec {
	char	*cert;
	char	*vendor;
	char	*module;
	char	*standard;	/* "FIPS 140-2", "FIPS 140-3", ... or "" */
	char	*status;	/* Active, Historical, Revoked */
	int	 level;		/* 0 unknown */
	char	*module_type;
	char	*embodiment;
	char	*sunset;	/* YYYY-MM-DD or "" */
	char	*vdates;	/* "YYYY-MM-DD;YYYY-MM-DD", oldest first, or "" */
	char	*snapshot;	/* CSV column, or NULL */
};

struct infile {
	const char	*path;
	char		 sha256[65];
	char		 snapshot[11];
	char		 embedded[11];	/* snapshot date found in the file itself */
	struct rec	*v;
	size_t		 n, cap;
};

/* A malloc'd copy of s without leading and trailing white space. */
char *cmvpf_trimdup(const char *s);
void cmvpf_rec_clear(struct rec *r);
/* Free the records of f (f itself is the caller's); NULL is accepted. */
void cmvpf_infile_free(struct infile *f);
/*
 * Parse a date, YYYY-MM-DD or M/D/YYYY, or "" (out gets ""); out gets
 * YYYY-MM-DD.  1/0 (not logged).
 */
int cmvpf_parse_date(const char *s, char out[11]);
/* 1 if a and b are equal ignoring ASCII case. */
int cmvpf_ieq(const char *a, const char *b);
/*
 * Check and normalise r (standard, status, level, dates; local: a local
 * declaration's number); where prefixes the messages.  1/0 (logged).
 */
int cmvpf_rec_normalise(struct rec *r, const char *where, int local);
/*
 * Parse the text of one snapshot file (JSON or CSV; f->path names it in
 * messages) into f->v, with its SHA-256 and any snapshot date it carries
 * in f->embedded.  A certificate twice is an error.  1/0 (logged).
 */
int cmvpf_parse(struct infile *f, const unsigned char *buf, size_t len);
/* The date of meta's "generated_at" (YYYY-MM-DD), or "" in out. */
void cmvpf_generated_at(json_t *meta, char out[11]);

#endif
