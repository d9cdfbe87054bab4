/* SPDX-License-Identifier: ISC */
/* Unit tests for the prefix sets and the ip.txt loader (common/cidr.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cidr.h"
#include "log.h"

static int
look(const struct cidr_set *s, const char *a)
{
	const char	*err;
	uint8_t		 addr[16];
	int		 af, plen;

	assert_int_equal(cidr_parse(a, &af, addr, &plen, &err), 0);
	return cidr_lookup(s, af, addr);
}

static void
add(struct cidr_set *s, const char *c, const char *label)
{
	const char	*err;
	uint8_t		 addr[16];
	int		 af, plen;

	assert_int_equal(cidr_parse(c, &af, addr, &plen, &err), 0);
	cidr_add(s, af, addr, plen, cidr_label(s, label));
}

static void
test_parse(void **state)
{
	const char	*err;
	uint8_t		 a[16];
	int		 af, plen;

	(void)state;
	assert_int_equal(cidr_parse("10.0.0.0/8", &af, a, &plen, &err), 0);
	assert_int_equal(af, 4);
	assert_int_equal(plen, 8);
	assert_int_equal(a[0], 10);
	assert_int_equal(cidr_parse("fe80::/10", &af, a, &plen, &err), 0);
	assert_int_equal(af, 6);
	assert_int_equal(plen, 10);
	assert_int_equal(cidr_parse("192.0.2.1", &af, a, &plen, &err), 0);
	assert_int_equal(plen, 32);
	assert_int_equal(cidr_parse("10.0.0.1/8", &af, a, &plen, &err), -1);
	assert_string_equal(err, "host bits set after the prefix length");
	assert_int_equal(cidr_parse("10.0.0.0/33", &af, a, &plen, &err), -1);
	assert_int_equal(cidr_parse("::/129", &af, a, &plen, &err), -1);
	assert_int_equal(cidr_parse("10.0.0/8", &af, a, &plen, &err), -1);
	assert_int_equal(cidr_parse("/8", &af, a, &plen, &err), -1);
	assert_int_equal(cidr_parse("10.0.0.0/", &af, a, &plen, &err), -1);
	assert_int_equal(cidr_parse("10.0.0.0/x", &af, a, &plen, &err), -1);
}

static void
test_longest_prefix(void **state)
{
	struct cidr_set	*s = cidr_new();

	(void)state;
	add(s, "10.0.0.0/8", "big");
	add(s, "10.1.0.0/16", "small");
	add(s, "2001:db8::/32", "doc6");
	add(s, "0.0.0.0/0", "all");
	assert_string_equal(cidr_label_name(s, look(s, "10.1.2.3")), "small");
	assert_string_equal(cidr_label_name(s, look(s, "10.2.2.3")), "big");
	assert_string_equal(cidr_label_name(s, look(s, "11.0.0.1")), "all");
	assert_string_equal(cidr_label_name(s, look(s, "2001:db8::1")),
	    "doc6");
	assert_int_equal(look(s, "2001:db9::1"), -1);
	assert_int_equal(cidr_count(s), 4);
	cidr_free(s);
}

static void
test_load(void **state)
{
	struct cidr_set	*s = cidr_new();
	char		 path[] = "/tmp/lwnet-cidr-XXXXXX";
	FILE		*f;
	int		 fd, i;

	(void)state;
	log_init("test_cidr", 1, 0);
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fprintf(f, "# a comment\n\n198.51.100.0/24 docs\n"
	    "203.0.113.0/24   # no label\n"
	    "10.0.0.1/8 bad-host-bits\n"
	    "not-an-address\n"
	    "2001:db8::/32 v6 extra\n"
	    "2001:db8::/32\tv6\n");
	/* 100,000 prefixes load (timing belongs to make bench). */
	for (i = 0; i < 100000; i++)
		fprintf(f, "%d.%d.%d.0/24 many\n", 100 + i / 65536,
		    i / 256 % 256, i % 256);
	fclose(f);
	assert_int_equal(cidr_load(s, path, "unlabeled"), 3);
	assert_int_equal(cidr_count(s), 3 + 100000);
	assert_string_equal(cidr_label_name(s, look(s, "198.51.100.7")),
	    "docs");
	assert_string_equal(cidr_label_name(s, look(s, "203.0.113.7")),
	    "unlabeled");
	assert_string_equal(cidr_label_name(s, look(s, "2001:db8::7")), "v6");
	assert_string_equal(cidr_label_name(s, look(s, "100.3.4.5")), "many");
	assert_int_equal(look(s, "10.0.0.1"), -1);
	unlink(path);
	assert_int_equal(cidr_load(s, path, "x"), -1);
	cidr_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_longest_prefix),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
