/* SPDX-License-Identifier: ISC */
/* Unit tests for the mountinfo line parser (agent/mountinfo.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "mountinfo.h"

static struct mountinfo	mi;

static int
parse(const char *s)
{
	memset(&mi, 0x55, sizeof(mi));
	return mountinfo_parse(s, strlen(s), &mi);
}

static void
test_plain(void **state)
{
	(void)state;
	assert_int_equal(parse("36 35 98:0 /mnt1 /mnt/parent rw,noatime "
	    "master:1 - ext3 /dev/root rw,errors=continue\n"), 0);
	assert_int_equal(mi.id, 36);
	assert_int_equal(mi.major, 98);
	assert_int_equal(mi.minor, 0);
	assert_string_equal(mi.mountpoint, "/mnt/parent");
	assert_string_equal(mi.fstype, "ext3");
	assert_string_equal(mi.source, "/dev/root");
	/* No optional fields, several of them. */
	assert_int_equal(parse("43 27 7:0 / /tmp/mnt1 rw,relatime - ext4 "
	    "/dev/loop0 rw"), 0);
	assert_string_equal(mi.source, "/dev/loop0");
	assert_int_equal(parse("43 27 259:12 / /m rw shared:3 master:2 "
	    "propagate_from:1 unbindable - xfs /dev/sdb1 rw"), 0);
	assert_int_equal(mi.major, 259);
	assert_int_equal(mi.minor, 12);
}

static void
test_escapes(void **state)
{
	(void)state;
	assert_int_equal(parse("50 27 7:1 / /media/USB\\040STICK\\011x\\012y"
	    "\\134z rw - ext4 /dev/sd\\040b1 rw"), 0);
	assert_string_equal(mi.mountpoint, "/media/USB STICK\tx\ny\\z");
	assert_string_equal(mi.source, "/dev/sd b1");
	/* Not an escape: kept as is. */
	assert_int_equal(parse("50 27 7:1 / /a\\9b\\04 rw - ext4 x rw"), 0);
	assert_string_equal(mi.mountpoint, "/a\\9b\\04");
	/* \000 would cut the string: refused. */
	assert_int_equal(parse("50 27 7:1 / /a\\000b rw - ext4 x rw"), -1);
}

static void
test_malformed(void **state)
{
	static const char *bad[] = {
		"",
		"\n",
		"x 27 7:1 / /m rw - ext4 s rw",
		"50 27 71 / /m rw - ext4 s rw",
		"50 27 7: / /m rw - ext4 s rw",
		"50 27 :1 / /m rw - ext4 s rw",
		"50 27 7:1x / /m rw - ext4 s rw",
		"50 27 7:1 / /m rw ext4 s rw",
		"50 27 7:1 / /m rw -",
		"50 27 7:1 / /m rw - ext4",
		"50 27 7:1 /",
		"9999999999 27 7:1 / /m rw - ext4 s rw",
	};
	char	long_line[3 * MOUNTINFO_PATH_MAX];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	/* A mount point longer than the buffer is refused, not cut. */
	memset(long_line, 'a', sizeof(long_line));
	memcpy(long_line, "1 2 3:4 / /", 11);
	memcpy(long_line + sizeof(long_line) - 16, " rw - ext4 s rw", 16);
	assert_int_equal(parse(long_line), -1);
	/* Only len bytes are read: no NUL needed. */
	assert_int_equal(mountinfo_parse("1 2 3:4 / /m rw - ext4 s rwXXXX",
	    27, &mi), 0);
	assert_string_equal(mi.source, "s");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
