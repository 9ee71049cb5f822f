/*
 * The configuration keys of eseal-ocspd's response cache.  presign-memory
 * takes a size (4096, 512K, 256M, 2G), a share of the machine's RAM (25%)
 * or 0 for no bound; shard takes K/N.  Kept apart from the rest of the
 * configuration so that the responder core states the bound it obeys.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cachecfg.h"
#include "log.h"

static size_t
ram_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || psz <= 0) {
		return (size_t)1 << 30;
	}
	return (size_t)pages * (size_t)psz;
}

size_t
cache_default_max(void)
{
	return ram_bytes() / 4;
}

/* "512M", "2G", "25%", "0": 1 and *out, or 0. */
static int
parse_size(const char *v, size_t *out)
{
	unsigned long long n, mul = 1;
	char *end;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || errno != 0) {
		return 0;
	}
	if (strcmp(end, "%") == 0) {
		if (n < 1 || n > 90) {
			return 0;
		}
		*out = ram_bytes() / 100 * n;
		return 1;
	}
	switch (*end) {
	case '\0':
		break;
	case 'K': case 'k':
		mul = 1ULL << 10;
		break;
	case 'M': case 'm':
		mul = 1ULL << 20;
		break;
	case 'G': case 'g':
		mul = 1ULL << 30;
		break;
	default:
		return 0;
	}
	if (*end != '\0' && end[1] != '\0') {
		return 0;
	}
	if (n > SIZE_MAX / mul) {
		return 0;
	}
	*out = (size_t)(n * mul);
	return *out == 0 || *out >= 65536;
}

/* "K/N" with 1 <= K <= N <= 1024: 1, or 0. */
static int
parse_shard(const char *v, unsigned int *k, unsigned int *n)
{
	unsigned long a, b;
	char *end;

	a = strtoul(v, &end, 10);
	if (*v < '1' || *v > '9' || *end != '/' || end[1] < '1' ||
	    end[1] > '9') {
		return 0;
	}
	b = strtoul(end + 1, &end, 10);
	if (*end != '\0' || a < 1 || b > 1024 || a > b) {
		return 0;
	}
	*k = (unsigned int)a;
	*n = (unsigned int)b;
	return 1;
}

int
cache_config_key(const char *k, const char *v, struct responder_opts *ro,
    const char *fn, int line)
{
	if (strcmp(k, "presign-memory") == 0) {
		if (!parse_size(v, &ro->cache_max)) {
			log_warnx("%s:%d: presign-memory: want 0, a size of "
			    "64K or more (512M, 2G) or a share of RAM (1%%..90%%)",
			    fn, line);
			return 0;
		}
		return 1;
	}
	if (strcmp(k, "shard") == 0) {
		if (!parse_shard(v, &ro->shard_k, &ro->shard_n)) {
			log_warnx("%s:%d: shard: want K/N with 1 <= K <= N <= "
			    "1024", fn, line);
			return 0;
		}
		return 1;
	}
	return -1;
}
