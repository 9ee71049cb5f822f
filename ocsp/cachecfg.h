/*
 * The configuration keys of eseal-ocspd's response cache: presign-memory
 * (the bound of the pre-signed and on-demand answers kept in memory) and
 * shard (which share of the certificates this instance pre-signs).
 */
#ifndef ESEAL_OCSP_CACHECFG_H
#define ESEAL_OCSP_CACHECFG_H

#include <stddef.h>

#include "responder.h"

/* The default presign-memory: a quarter of the machine's RAM. */
size_t cache_default_max(void);

/*
 * Parse key k = v of file fn, line line into ro if k is a cache key.
 * Returns -1 when k is not one of them, 0 on a bad value (logged as
 * "fn:line: key: problem"), 1 when taken.
 */
int cache_config_key(const char *k, const char *v, struct responder_opts *ro,
    const char *fn, int line);

#endif
