/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the enrolment allowlist patterns (common/hostpat.c), the
 * collector's namespaces (record_event_reserved) and the enrolment hash
 * line (collector/enroll.c), each against hand-worked cases.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "enroll.h"
#include "hostpat.h"
#include "record.h"

static int
match(const char *list, const char *name)
{
	return hostpat_match(list, name, strlen(name));
}

static void
test_ranges(void **state)
{
	char	name[16];
	int	i;

	(void)state;
	/* "[01-40]": exactly two digits, 01 to 40. */
	for (i = 0; i <= 99; i++) {
		snprintf(name, sizeof(name), "pc%02d", i);
		assert_int_equal(match("pc[01-40]", name), i >= 1 && i <= 40);
	}
	assert_false(match("pc[01-40]", "pc1"));
	assert_false(match("pc[01-40]", "pc001"));
	assert_false(match("pc[01-40]", "pc"));
	assert_false(match("pc[01-40]", "pc4"));
	/* "[1-40]": no leading zero, one or two digits. */
	assert_true(match("pc[1-40]", "pc1"));
	assert_true(match("pc[1-40]", "pc40"));
	assert_false(match("pc[1-40]", "pc01"));
	assert_false(match("pc[1-40]", "pc41"));
	assert_false(match("pc[1-40]", "pc0"));
	/* A range before more text, and two ranges. */
	assert_true(match("r[1-3]-pc[01-20]", "r2-pc07"));
	assert_false(match("r[1-3]-pc[01-20]", "r4-pc07"));
	assert_false(match("r[1-3]-pc[01-20]", "r2-pc21"));
	assert_true(match("pc[1-9]x", "pc9x"));
}

static void
test_globs_and_lists(void **state)
{
	(void)state;
	assert_true(match("lab2-*", "lab2-"));
	assert_true(match("lab2-*", "lab2-pc07"));
	assert_false(match("lab2-*", "lab3-pc07"));
	assert_false(match("lab2-*", "xlab2-pc07"));
	assert_true(match("pc??", "pc07"));
	assert_false(match("pc??", "pc7"));
	assert_true(match("*", "anything"));
	assert_false(match("PC01", "pc01"));
	assert_true(match("pc[01-40], lab2-*", "lab2-a"));
	assert_true(match("pc[01-40],lab2-*", "pc40"));
	assert_false(match("pc[01-40] lab2-*", "pc41"));
	assert_false(match("", "pc01"));
	assert_false(match(" , ", "pc01"));
	/* Malformed brackets match nothing. */
	assert_false(match("pc[40-01]", "pc20"));
	assert_false(match("pc[a-z]", "pcb"));
	assert_false(match("pc[01-", "pc01"));
}

/*
 * fuzz_options found this: 40 stars then 'x' against 60 'a's backtracked
 * for minutes (each star tried every split).  Now well under a second,
 * and the answers are those of a plain reading: no 'x', no match.
 */
static void
test_many_stars(void **state)
{
	char	pat[64], name[64];
	clock_t	t0 = clock();

	(void)state;
	memset(pat, '*', 40);
	strcpy(pat + 40, "x");
	memset(name, 'a', 60);
	name[60] = '\0';
	assert_false(hostpat_match(pat, name, 60));
	name[59] = 'x';
	assert_true(hostpat_match(pat, name, 60));
	strcpy(pat + 40, "[1-99]x");
	memcpy(name + 56, "a42x", 4);
	assert_true(hostpat_match(pat, name, 60));
	name[58] = 'y';
	assert_false(hostpat_match(pat, name, 60));
	assert_true(clock() - t0 < CLOCKS_PER_SEC);
}

static void
test_check(void **state)
{
	const char	*err = NULL;

	(void)state;
	assert_int_equal(hostpat_check("pc[01-40], lab2-*", &err), 0);
	assert_int_equal(hostpat_check("pc[a-z]", &err), -1);
	assert_non_null(err);
	assert_int_equal(hostpat_check("pc[40-01]", &err), -1);
	assert_int_equal(hostpat_check("pc]", &err), -1);
	assert_int_equal(hostpat_check("pc[1-2", &err), -1);
	assert_int_equal(hostpat_check("pc[0000000001-2]", &err), -1);
}

static int
reserved(const char *s)
{
	return record_event_reserved((const uint8_t *)s, strlen(s));
}

static void
test_reserved_events(void **state)
{
	(void)state;
	assert_true(reserved("host.connect"));
	assert_true(reserved("host.disconnect"));
	assert_true(reserved("host"));
	assert_true(reserved("lab.device.new"));
	assert_true(reserved("collector.x"));
	assert_true(reserved("dashboard.login"));
	assert_false(reserved("dashboards.x"));
	assert_false(reserved("hosts.x"));
	assert_false(reserved("agent.start"));
	assert_false(reserved("usb.add"));
	assert_false(reserved("labx.y"));
	assert_false(reserved("hos"));
}

static void
test_hash_line(void **state)
{
	unsigned char	salt[64], hash[64];
	size_t		slen, hlen;
	unsigned	iter;
	const char	*err;
	char		line[256];

	(void)state;
	snprintf(line, sizeof(line), "pbkdf2-sha256$100000$%s$%s\n",
	    "000102030405060708090a0b0c0d0e0f",
	    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100");
	assert_int_equal(enroll_parse_hash(line, &iter, salt, &slen, hash,
	    &hlen, &err), 0);
	assert_int_equal(iter, 100000);
	assert_int_equal(slen, 16);
	assert_int_equal(hlen, 32);
	assert_int_equal(salt[15], 0x0f);
	assert_int_equal(hash[0], 0xff);
	assert_int_equal(hash[31], 0x00);
	/* Without the newline too; uppercase hex is hex. */
	assert_int_equal(enroll_parse_hash("pbkdf2-sha256$1000$AB$"
	    "00112233445566778899AABBCCDDEEFF", &iter, salt, &slen, hash,
	    &hlen, &err), 0);
	assert_int_equal(hash[15], 0xff);
	/* Refused. */
	assert_int_equal(enroll_parse_hash("sha256$1000$ab$"
	    "00112233445566778899aabbccddeeff", &iter, salt, &slen, hash,
	    &hlen, &err), -1);
	assert_int_equal(enroll_parse_hash("pbkdf2-sha256$999$ab$"
	    "00112233445566778899aabbccddeeff", &iter, salt, &slen, hash,
	    &hlen, &err), -1);
	assert_int_equal(enroll_parse_hash("pbkdf2-sha256$1000$abc$"
	    "00112233445566778899aabbccddeeff", &iter, salt, &slen, hash,
	    &hlen, &err), -1);
	assert_int_equal(enroll_parse_hash("pbkdf2-sha256$1000$ab$"
	    "0011", &iter, salt, &slen, hash, &hlen, &err), -1);
	assert_int_equal(enroll_parse_hash("pbkdf2-sha256$1000$ab$"
	    "00112233445566778899aabbccddeeff\nmore", &iter, salt, &slen,
	    hash, &hlen, &err), -1);
	assert_int_equal(enroll_parse_hash("pbkdf2-sha256$$ab$"
	    "00112233445566778899aabbccddeeff", &iter, salt, &slen, hash,
	    &hlen, &err), -1);
	assert_int_equal(enroll_parse_hash("pbkdf2-sha256$1000$ab$"
	    "00112233445566778899aabbccddeefg", &iter, salt, &slen, hash,
	    &hlen, &err), -1);
	assert_int_equal(enroll_parse_hash("pbkdf2-sha256$99999999999$ab$"
	    "00112233445566778899aabbccddeeff", &iter, salt, &slen, hash,
	    &hlen, &err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_globs_and_lists),
		cmocka_unit_test(test_many_stars),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_reserved_events),
		cmocka_unit_test(test_hash_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
