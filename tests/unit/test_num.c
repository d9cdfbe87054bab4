/* SPDX-License-Identifier: ISC */
/* Unit tests for the range-checked number parser (common/num.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "num.h"

#define UNTOUCHED	-7777LL

static void
expect_ok(const char *s, long long min, long long max, long long want)
{
	long long	 v = UNTOUCHED;
	const char	*err = NULL;

	if (num_parse(s, min, max, &v, &err) != 0)
		fail_msg("\"%s\" in [%lld, %lld]: %s", s, min, max,
		    err ? err : "(no reason)");
	assert_true(v == want);
}

static void
expect_err(const char *s, long long min, long long max, const char *want)
{
	long long	 v = UNTOUCHED;
	const char	*err = NULL;

	if (num_parse(s, min, max, &v, &err) != -1)
		fail_msg("\"%s\" in [%lld, %lld] accepted as %lld", s, min,
		    max, v);
	assert_non_null(err);
	assert_string_equal(err, want);
	assert_true(v == UNTOUCHED);
}

static void
test_in_range(void **state)
{
	(void)state;
	expect_ok("0", 0, 10, 0);
	expect_ok("10", 0, 10, 10);
	expect_ok("5", 5, 5, 5);
	expect_ok("-5", -10, 10, -5);
	expect_ok("-10", -10, 10, -10);
	expect_ok("-0", 0, 0, 0);
	expect_ok("007", 0, 10, 7);
	expect_ok("010", 0, 100, 10);
	expect_ok("65535", 1, 65535, 65535);
	expect_ok("9223372036854775807", LLONG_MIN, LLONG_MAX, LLONG_MAX);
	expect_ok("-9223372036854775808", LLONG_MIN, LLONG_MAX, LLONG_MIN);
	expect_ok("-9223372036854775807", LLONG_MIN, 0, LLONG_MIN + 1);
}

static void
test_invalid(void **state)
{
	static const char	*bad[] = {
		"", "12x", "x12", " 1", "1 ", "+1", "-", "--1", "-+1", "- 1",
		"0x10", "1e3", "1.0", "1,000", "\t1", "1\n", "abc",
		"\xef\xbc\x91",
	};
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_err(bad[i], LLONG_MIN, LLONG_MAX, "invalid");
	/* Syntax is checked before range. */
	expect_err("99999999999999999999x", 0, 10, "invalid");
	expect_err("-1x", 0, 10, "invalid");
}

static void
test_range(void **state)
{
	(void)state;
	expect_err("11", 0, 10, "too large");
	expect_err("-1", 0, 10, "too small");
	expect_err("0", 1, 65535, "too small");
	expect_err("65536", 1, 65535, "too large");
	expect_err("-11", -10, 10, "too small");
	expect_err("9223372036854775807", 0, LLONG_MAX - 1, "too large");
	expect_err("-9223372036854775808", LLONG_MIN + 1, 0, "too small");
}

static void
test_overflow(void **state)
{
	(void)state;
	expect_err("9223372036854775808", LLONG_MIN, LLONG_MAX, "too large");
	expect_err("-9223372036854775809", LLONG_MIN, LLONG_MAX, "too small");
	expect_err("99999999999999999999999", LLONG_MIN, LLONG_MAX,
	    "too large");
	expect_err("-99999999999999999999999", LLONG_MIN, LLONG_MAX,
	    "too small");
	expect_err("9223372036854775808", 0, 100, "too large");
	expect_err("-9223372036854775809", -100, 100, "too small");
}

/* A stale errno from earlier calls must not fail a good number. */
static void
test_stale_errno(void **state)
{
	(void)state;
	errno = ERANGE;
	expect_ok("5", 0, 10, 5);
	errno = ERANGE;
	expect_ok("9223372036854775807", 0, LLONG_MAX, LLONG_MAX);
	errno = ERANGE;
	expect_ok("-9223372036854775808", LLONG_MIN, 0, LLONG_MIN);
}

/* The MAC and IPv4 prefix parsers the wake command and hostnet share. */
static void
test_mac_cidr(void **state)
{
	static const char *badmac[] = { "", "02:00:00:00:00", "02:00:00:00:00:1",
	    "02:00:00:00:00:123", "02-00-00-00-00-12", " 2:00:00:00:00:12",
	    "+2:00:00:00:00:12", "02:00:00:00:00:1g", "02:00:00:00:00:12x" };
	static const char *badcidr[] = { "", "10.0.0.0", "10.0.0.0/", "10.0.0/8",
	    "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "::1/64" };
	uint8_t		mac[6];
	uint32_t	a;
	int		p;
	size_t		i;

	(void)state;
	assert_int_equal(addr_mac_parse("02:00:00:00:00:12", mac), 0);
	assert_int_equal(mac[0], 0x02);
	assert_int_equal(mac[5], 0x12);
	assert_int_equal(addr_mac_parse("AA:bb:CC:dd:EE:ff", mac), 0);
	assert_int_equal(mac[0], 0xaa);
	for (i = 0; i < sizeof(badmac) / sizeof(badmac[0]); i++)
		if (addr_mac_parse(badmac[i], mac) != -1)
			fail_msg("accepted MAC \"%s\"", badmac[i]);
	assert_int_equal(addr_cidr4_parse("10.77.0.14/24", &a, &p), 0);
	assert_true(a == 0x0a4d000e && p == 24);
	assert_true((a & addr_mask4(p)) == 0x0a4d0000);
	assert_true(addr_mask4(0) == 0 && addr_mask4(32) == 0xffffffff);
	for (i = 0; i < sizeof(badcidr) / sizeof(badcidr[0]); i++)
		if (addr_cidr4_parse(badcidr[i], &a, &p) != -1)
			fail_msg("accepted prefix \"%s\"", badcidr[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_range),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_stale_errno),
		cmocka_unit_test(test_mac_cidr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
