/* SPDX-License-Identifier: ISC */
/* Seeded hashing for tables fed by the network. */
#include <sys/random.h>

#include <errno.h>
#include <string.h>

#include "hash.h"
#include "log.h"

uint64_t
hash_seed(void)
{
	static uint64_t	seed;

	while (seed == 0)
		if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed) &&
		    errno != EINTR)
			fatal("getrandom");
	return seed;
}

/* FNV-1a's step over bytes from a state h. */
static uint64_t
hash_fnv(uint64_t h, const uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* Spreads the high bits of h, which depend on the whole seed, down. */
static uint64_t
hash_final(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ h >> 29;
}

uint64_t
hash_bytes(uint64_t seed, const void *p, size_t len)
{
	return hash_final(hash_fnv(seed ^ 0xcbf29ce484222325ULL, p, len));
}

uint64_t
hash_str(uint64_t seed, const char *s)
{
	return hash_bytes(seed, s, strlen(s));
}
