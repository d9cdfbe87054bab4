/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the dashboard's session cookies and CSRF tokens
 * (collector/cookie.c): a good cookie passes, and every change to it, to
 * the account's password, to the clock or a logout makes it fail.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cookie.h"

static const uint8_t	key[COOKIE_KEY_LEN] = { 1, 2, 3 };
static const struct user ann = { "ann", ROLE_ADMIN, "$y$j9T$aaaa$bbbb" };
static const struct user bob = { "bob", ROLE_VIEWER, "$y$j9T$aaaa$bbbb" };

#define NOW	1796000000

static void
test_make_check(void **state)
{
	struct user	 newpw = ann;
	char		 v[COOKIE_MAX], w[COOKIE_MAX], name[USER_NAME_MAX + 1];
	char		*last;

	(void)state;
	cookie_set_key(key);
	cookie_make(&ann, NOW, v, sizeof(v));
	assert_int_equal(strncmp(v, "ann:", 4), 0);
	assert_int_equal(cookie_name(v, name), 0);
	assert_string_equal(name, "ann");
	assert_int_equal(cookie_check(v, &ann, NOW), 0);
	assert_int_equal(cookie_check(v, &ann, NOW + COOKIE_SECONDS), 0);
	/* Expired. */
	assert_int_equal(cookie_check(v, &ann, NOW + COOKIE_SECONDS + 1), -1);
	/* Another account, even with the same hash. */
	assert_int_equal(cookie_check(v, &bob, NOW), -1);
	/* A new password. */
	strcpy(newpw.hash, "$y$j9T$cccc$dddd");
	assert_int_equal(cookie_check(v, &newpw, NOW), -1);
	/* One changed character anywhere: the MAC, the expiry, the name. */
	strcpy(w, v);
	last = w + strlen(w) - 1;
	*last = *last == '0' ? '1' : '0';
	assert_int_equal(cookie_check(w, &ann, NOW), -1);
	strcpy(w, v);
	w[4] = w[4] == '9' ? '8' : '9';
	assert_int_equal(cookie_check(w, &ann, NOW), -1);
	/* Another key. */
	cookie_set_key((const uint8_t *)"another key, 32 bytes long......");
	assert_int_equal(cookie_check(v, &ann, NOW), -1);
	cookie_set_key(key);
	assert_int_equal(cookie_check(v, &ann, NOW), 0);
	/* Two sessions differ; a logout ends one. */
	cookie_make(&ann, NOW, w, sizeof(w));
	assert_string_not_equal(v, w);
	cookie_revoke(v);
	assert_int_equal(cookie_check(v, &ann, NOW), -1);
	assert_int_equal(cookie_check(w, &ann, NOW), 0);
}

static void
test_malformed(void **state)
{
	static const char *bad[] = {
		"", "ann", "ann:1:2", ":1796000000:0011223344556677:" \
		"00000000000000000000000000000000" \
		"00000000000000000000000000000000",
		"ann:1796000000:00112233:" \
		"00000000000000000000000000000000" \
		"00000000000000000000000000000000",
		"ann:1796000000:0011223344556677:00",
		"a-name-that-is-far-too-long-for-any-account:1:" \
		"0011223344556677:" \
		"00000000000000000000000000000000" \
		"00000000000000000000000000000000",
	};
	char	name[USER_NAME_MAX + 1];
	size_t	i;

	(void)state;
	cookie_set_key(key);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cookie_name(bad[i], name) != -1 ||
		    cookie_check(bad[i], &ann, NOW) != -1)
			fail_msg("accepted %s", bad[i]);
		cookie_revoke(bad[i]);		/* ignored */
	}
}

static void
test_find_csrf(void **state)
{
	char	v[COOKIE_MAX], a[CSRF_HEX + 1], b[CSRF_HEX + 1];

	(void)state;
	assert_int_equal(cookie_find("x=1; labwatch_session=ann:1:2:3; y=2",
	    v, sizeof(v)), 0);
	assert_string_equal(v, "ann:1:2:3");
	assert_int_equal(cookie_find("labwatch_session=abc", v, sizeof(v)),
	    0);
	assert_string_equal(v, "abc");
	assert_int_equal(cookie_find("xlabwatch_session=abc", v, sizeof(v)),
	    -1);
	assert_int_equal(cookie_find("labwatch_session=; y=1", v, sizeof(v)),
	    -1);
	assert_int_equal(cookie_find("labwatch_session=abcdef", v, 4), -1);
	assert_int_equal(cookie_find("", v, sizeof(v)), -1);
	cookie_set_key(key);
	cookie_csrf("ann:1:2:3", a);
	cookie_csrf("ann:1:2:3", b);
	assert_int_equal(strlen(a), CSRF_HEX);
	assert_string_equal(a, b);
	cookie_csrf("ann:1:2:4", b);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make_check),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_find_csrf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
