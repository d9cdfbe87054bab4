/* SPDX-License-Identifier: ISC */
/* Unit tests for the seeded hash (common/hash.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hash.h"

#define KEYS	64
#define BUCKETS	65536	/* as the collector's lab tables */

/* The fullest of BUCKETS buckets when the keys are hashed under seed. */
static int
fullest(uint64_t seed, char keys[KEYS][24])
{
	static uint8_t	n[BUCKETS];
	uint8_t		*b;
	int		 i, max = 0;

	memset(n, 0, sizeof(n));
	for (i = 0; i < KEYS; i++) {
		b = &n[hash_str(seed, keys[i]) % BUCKETS];
		if (++*b > max)
			max = *b;
	}
	return max;
}

static void
test_seed(void **state)
{
	uint64_t	s = hash_seed();

	(void)state;
	assert_true(s != 0);
	assert_true(hash_seed() == s);
	assert_true(hash_str(s, "02:00:00:00:00:01") ==
	    hash_bytes(s, "02:00:00:00:00:01", 17));
	assert_true(hash_str(1, "a") != hash_str(2, "a"));
	assert_true(hash_str(1, "a") != hash_str(1, "b"));
}

/*
 * MAC-like keys crafted to share one bucket under a known seed share it
 * there, and spread under another seed and under the process's own.
 */
static void
test_crafted_keys_spread(void **state)
{
	static char	keys[KEYS][24];
	const uint64_t	known = 0x0123456789abcdefULL;
	uint32_t	i;
	int		n = 0;

	(void)state;
	for (i = 0; n < KEYS; i++) {
		snprintf(keys[n], sizeof(keys[n]), "02:%02x:%02x:%02x:%02x:00",
		    i >> 24 & 0xff, i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff);
		if (hash_str(known, keys[n]) % BUCKETS == 0)
			n++;
	}
	assert_int_equal(fullest(known, keys), KEYS);
	assert_true(fullest(known + 1, keys) <= 4);
	assert_true(fullest(hash_seed(), keys) <= 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_crafted_keys_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
