/*
 * Argument parsing shared by the eseal-ca subcommands (see args.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "ca.h"
#include "exitcodes.h"
#include "log.h"

static int
listed(const char *const *list, const char *name, size_t len)
{
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		if (strlen(list[i]) == len && strncmp(list[i], name, len) == 0) {
			return 1;
		}
	}
	return 0;
}

int
args_parse(int argc, char **argv, const char *const *valued,
    const char *const *flags, struct args *a)
{
	static const char *const common_valued[] = { "db", "busy-timeout", NULL };
	static const char *const common_flags[] = { "json", NULL };
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		char *arg = argv[i], *eq, *name, *value = NULL;
		size_t len;

		if (strcmp(arg, "--") == 0) {
			for (i++; i < argc && a->npos < ARGS_MAX; i++) {
				a->pos[a->npos++] = argv[i];
			}
			break;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			a->help = 1;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			if (a->npos >= ARGS_MAX) {
				log_warnx("too many arguments");
				return 0;
			}
			a->pos[a->npos++] = arg;
			continue;
		}
		name = arg + 2;
		eq = strchr(name, '=');
		len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if (listed(valued, name, len) || listed(common_valued, name, len)) {
			if (eq != NULL) {
				value = eq + 1;
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				log_warnx("--%.*s needs a value", (int)len, name);
				return 0;
			}
		} else if (listed(flags, name, len) ||
		    listed(common_flags, name, len)) {
			if (eq != NULL) {
				log_warnx("--%.*s takes no value", (int)len, name);
				return 0;
			}
		} else {
			log_warnx("unknown option --%.*s (see --help)", (int)len,
			    name);
			return 0;
		}
		if (a->nkv >= ARGS_MAX) {
			log_warnx("too many options");
			return 0;
		}
		if (len == 2 && strncmp(name, "db", 2) == 0) {
			g.db_path = value;
			continue;
		}
		if (len == 4 && strncmp(name, "json", 4) == 0) {
			g.json = 1;
			continue;
		}
		if (len == 12 && strncmp(name, "busy-timeout", 12) == 0) {
			g.busy_ms = atoi(value);
			continue;
		}
		a->key[a->nkv] = name;
		a->val[a->nkv] = value;
		/* Keep only the name part for lookups. */
		if (eq != NULL) {
			*eq = '\0';
		}
		a->nkv++;
	}
	return 1;
}

int
args_start(int argc, char **argv, const char *const *valued,
    const char *const *flags, struct args *a, void (*usage)(FILE *),
    int *code)
{
	if (!args_parse(argc, argv, valued, flags, a)) {
		*code = EXIT_USAGE;
		return 0;
	}
	if (a->help) {
		usage(stdout);
		*code = EXIT_OK;
		return 0;
	}
	return 1;
}

const char *
args_get(const struct args *a, const char *name)
{
	const char *v = NULL;
	size_t i;

	for (i = 0; i < a->nkv; i++) {
		if (strcmp(a->key[i], name) == 0) {
			v = a->val[i];
		}
	}
	return v;
}

size_t
args_all(const struct args *a, const char *name, char **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < a->nkv && n < max; i++) {
		if (strcmp(a->key[i], name) == 0) {
			out[n++] = a->val[i];
		}
	}
	return n;
}

int
args_flag(const struct args *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nkv; i++) {
		if (strcmp(a->key[i], name) == 0) {
			return 1;
		}
	}
	return 0;
}

int
args_need(const struct args *a, const char *name, const char *what)
{
	if (args_get(a, name) == NULL) {
		log_warnx("%s: --%s is required (see --help)", what, name);
		return 0;
	}
	return 1;
}
