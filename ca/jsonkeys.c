/*
 * The checks that a reviewed JSON file (a ceremony file, a profile)
 * names only the keys its reader knows, and of control characters in
 * what it shows to a reviewer: kept apart from cautil.c so that the
 * ceremony file parser's fuzz target links without the store and the
 * HSM layer.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "ca.h"
#include "log.h"

int
str_has_control(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f ||
		    (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
			return 1;
		}
	}
	return 0;
}

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
		if (allowed[i] == NULL && str_has_control(key)) {
			log_warnx("%s: %s: an unknown key with a control "
			    "character (nothing implicit: fix the file)", file,
			    where);
			return 0;
		}
		if (allowed[i] == NULL) {
			log_warnx("%s: %s: unknown key \"%s\" (nothing implicit: "
			    "fix the file)", file, where, key);
			return 0;
		}
	}
	return 1;
}
