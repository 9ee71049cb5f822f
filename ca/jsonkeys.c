/*
 * The check that a reviewed JSON file (a ceremony file, a profile)
 * names only the keys its reader knows: kept apart from cautil.c
 * so that the ceremony file parser's fuzz target links without the store
 * and the HSM layer.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "ca.h"
#include "log.h"

int
json_known_keys(json_t *obj, const char *const *allowed, const char *where,
    const char *file)
{
	const char *key;
	json_t *val;
	size_t i;

	if (!json_is_object(obj)) {
		log_warnx("%s: %s must be an object", file, where);
		return 0;
	}
	json_object_foreach(obj, key, val) {
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(allowed[i], key) == 0) {
				break;
			}
		}
		if (allowed[i] == NULL) {
			log_warnx("%s: %s: unknown key \"%s\" (nothing implicit: "
			    "fix the file)", file, where, key);
			return 0;
		}
	}
	return 1;
}
