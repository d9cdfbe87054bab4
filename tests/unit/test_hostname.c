/* SPDX-License-Identifier: ISC */
/* Unit tests for the host name check (common/hostname.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "hostname.h"

static int
ok_str(const char *s)
{
	return hostname_ok(s, strlen(s));
}

static void
test_accepted(void **state)
{
	static const char	*good[] = {
		"a", "Z", "0", "pc-01", "PC_1.lab", "lab-pc.example.org",
		"a.", "a..b", "-a", "_", "192.168.0.1",
	};
	char			 s[HOSTNAME_MAX + 1];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!ok_str(good[i]))
			fail_msg("rejected \"%s\"", good[i]);
	memset(s, 'h', sizeof(s));
	assert_true(hostname_ok(s, HOSTNAME_MAX));
}

static void
test_rejected(void **state)
{
	static const char	*bad[] = {
		"", ".hidden", ".", "..", "../x", "a/b", "/", "a b", " a",
		"a\n", "caf\xc3\xa9", "\xc3\xa9", "a\\b", "a:b", "a*", "a~",
		"a\t", "a\x7f", "a\xff",
	};
	char			 s[HOSTNAME_MAX + 2];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ok_str(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	assert_false(hostname_ok("a\0b", 3));
	assert_false(hostname_ok("\0", 1));
	assert_false(hostname_ok("ab\0", 3));
	memset(s, 'h', sizeof(s));
	assert_false(hostname_ok(s, HOSTNAME_MAX + 1));
	assert_false(hostname_ok(s, SIZE_MAX));
}

/* Only len bytes are looked at, whatever follows them. */
static void
test_length_bound(void **state)
{
	(void)state;
	assert_true(hostname_ok("ab/", 2));
	assert_true(hostname_ok("a\0", 1));
	assert_false(hostname_ok("a/", 2));
	assert_false(hostname_ok("abc", 0));
}

/* Every byte value, in the middle and at the start of a name. */
static void
test_every_byte(void **state)
{
	static const char	allowed[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	uint8_t			s[3];
	unsigned		c;
	int			want;

	(void)state;
	for (c = 0; c < 256; c++) {
		want = c != 0 && strchr(allowed, (int)c) != NULL;
		s[0] = 'x';
		s[1] = (uint8_t)c;
		s[2] = 'y';
		if (hostname_ok(s, 3) != want)
			fail_msg("byte 0x%02x in the middle: got %d", c, !want);
		s[0] = (uint8_t)c;
		if (hostname_ok(s, 3) != (want && c != '.'))
			fail_msg("byte 0x%02x first: got %d", c,
			    hostname_ok(s, 3));
		if (hostname_ok(s, 1) != (want && c != '.'))
			fail_msg("byte 0x%02x alone: got %d", c,
			    hostname_ok(s, 1));
	}
}

/* Names that fit make a path that fits HOSTNAME_PATH_MAX. */
static void
test_path_max(void **state)
{
	(void)state;
	assert_int_equal(HOSTNAME_PATH_MAX, HOSTNAME_MAX + strlen(".log") + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_length_bound),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_path_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
