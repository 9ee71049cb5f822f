/*
 * A small argument parser for the eseal-ca subcommands: "--name value",
 * "--name=value", boolean flags and positional arguments.  --db, --json
 * and --busy-timeout are accepted by every subcommand and update g.
 */
#ifndef ESEAL_ARGS_H
#define ESEAL_ARGS_H

#include <stddef.h>
#include <stdio.h>

#define ARGS_MAX 64

struct args {
	char		*pos[ARGS_MAX];
	size_t		 npos;
	const char	*key[ARGS_MAX];
	char		*val[ARGS_MAX];	/* NULL for flags */
	size_t		 nkv;
	int		 help;
};

/*
 * Parse argv[1..argc-1].  valued lists options taking a value, flags the
 * boolean ones (both without "--", NULL-terminated).  Unknown options and
 * a missing value are usage errors (logged, 0).
 */
int args_parse(int argc, char **argv, const char *const *valued,
    const char *const *flags, struct args *a);
/*
 * The prologue of a subcommand: args_parse, then --help prints usage to
 * stdout.  1 to go on; 0 when the command is done, with *code set to its
 * exit status (EXIT_USAGE after a usage error, EXIT_OK after --help).
 */
int args_start(int argc, char **argv, const char *const *valued,
    const char *const *flags, struct args *a, void (*usage)(FILE *),
    int *code);
/* The last value given for name, or NULL. */
const char *args_get(const struct args *a, const char *name);
/* Every value given for name, in order; returns the count (at most max). */
size_t args_all(const struct args *a, const char *name, char **out, size_t max);
int args_flag(const struct args *a, const char *name);
/* Log "what: --name is required" and return 0 if name is missing. */
int args_need(const struct args *a, const char *name, const char *what);

#endif
