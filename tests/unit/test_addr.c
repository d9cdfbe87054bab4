/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the address helpers (common/addr.c): the agent's list of
 * collectors, HOST:PORT,HOST:PORT,... in order of preference, and
 * HOST:PORT joined again for log lines and records.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"

static void
test_list_good(void **state)
{
	struct addr_hostport	l[ADDR_LIST_MAX];
	const char		*err = NULL;

	(void)state;
	assert_int_equal(addr_split_list("a.lab:7514", l, ADDR_LIST_MAX,
	    &err), 1);
	assert_string_equal(l[0].host, "a.lab");
	assert_string_equal(l[0].port, "7514");
	assert_int_equal(addr_split_list("a:1,[2001:db8::1]:7514,10.0.0.3:99",
	    l, ADDR_LIST_MAX, &err), 3);
	assert_string_equal(l[1].host, "2001:db8::1");
	assert_string_equal(l[1].port, "7514");
	assert_string_equal(l[2].host, "10.0.0.3");
	assert_string_equal(l[2].port, "99");
	/* The same host on another port is another collector. */
	assert_int_equal(addr_split_list("a:1,a:2", l, ADDR_LIST_MAX, &err),
	    2);
	assert_int_equal(addr_split_list("a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1",
	    l, ADDR_LIST_MAX, &err), 8);
	assert_string_equal(l[7].host, "h");
}

static void
test_join(void **state)
{
	struct addr_hostport	 l[ADDR_LIST_MAX];
	const char		*err;
	char			 out[ADDR_HOST_MAX + ADDR_PORT_MAX + 4];

	(void)state;
	assert_string_equal(addr_join(out, sizeof(out), "a.lab", "7514"),
	    "a.lab:7514");
	assert_string_equal(addr_join(out, sizeof(out), "2001:db8::1",
	    "7514"), "[2001:db8::1]:7514");
	/* What addr_split_list took apart, joined again. */
	assert_int_equal(addr_split_list("[fe80::1]:9,b:8", l, ADDR_LIST_MAX,
	    &err), 2);
	assert_string_equal(addr_join(out, sizeof(out), l[0].host, l[0].port),
	    "[fe80::1]:9");
}

static void
expect_bad(const char *s, const char *why)
{
	struct addr_hostport	l[ADDR_LIST_MAX];
	const char		*err = NULL;

	assert_int_equal(addr_split_list(s, l, ADDR_LIST_MAX, &err), -1);
	assert_non_null(err);
	if (strstr(err, why) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", s, err, why);
}

static void
test_list_bad(void **state)
{
	(void)state;
	expect_bad("", "empty entry");
	expect_bad("a:1,", "entry 2: empty");
	expect_bad(",a:1", "entry 1: empty");
	expect_bad("a:1,,b:2", "entry 2: empty");
	expect_bad("a:1,b", "entry 2: the port is missing");
	expect_bad("a:1,:7514", "entry 2: the host is missing");
	/* One entry: no "entry 1" in the way. */
	expect_bad("a:0", "port must be");
	expect_bad("collector.lab", "the port is missing");
	expect_bad("a:1,b:70000", "entry 2: port must be");
	expect_bad("a:1,2001:db8::1:7514", "entry 2: IPv6 addresses go in");
	expect_bad("a:1,b:2,a:1", "entry 3: named twice");
	expect_bad("a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1,i:1", "more than 8");
	expect_bad("a:1 ,b:2", "entry 1: port must be");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_good),
		cmocka_unit_test(test_list_bad),
		cmocka_unit_test(test_join),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
