/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the dashboard's account file (collector/users.c): line
 * parsing, loading a file with bad lines, and real crypt(3) checks of a
 * yescrypt and a bcrypt hash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "users.h"

/* crypt(3) of "correct horse", made with libcrypt's crypt_gensalt. */
#define YESCRYPT	"$y$j9T$Abt3uZQwfAbI641adlJal1$" \
			"5DqfIyPpEv9zzwjtmEY046KCY5e3UgpF7H0b83xgaM1"
#define BCRYPT		"$2b$05$YY2iTSlWOnBmI9DmhDuvtODj.6iv2by2IL5aHeMwd" \
			"vIWwsjJCZnMq"

static void
test_parse(void **state)
{
	static const struct {
		const char	*line, *err;
	} bad[] = {
		{ "ann", "not NAME:ROLE:HASH" },
		{ "ann:admin", "not NAME:ROLE:HASH" },
		{ ":admin:" YESCRYPT, "bad name" },
		{ "a n:admin:" YESCRYPT, "bad name" },
		{ ".ann:admin:" YESCRYPT, "bad name" },
		{ "ann:root:" YESCRYPT, "bad role" },
		{ "ann:admin:plain", "bad hash" },
		{ "ann:admin:" YESCRYPT ":x", "bad hash" },
	};
	struct user	 u;
	const char	*err;
	size_t		 i;

	(void)state;
	assert_int_equal(users_parse_line("ann:admin:" YESCRYPT "\n", &u,
	    &err), 1);
	assert_string_equal(u.name, "ann");
	assert_int_equal(u.role, ROLE_ADMIN);
	assert_string_equal(u.hash, YESCRYPT);
	assert_int_equal(users_parse_line("t.a-2:viewer:" BCRYPT, &u, &err),
	    1);
	assert_int_equal(u.role, ROLE_VIEWER);
	assert_int_equal(users_parse_line("  # a comment", &u, &err), 0);
	assert_int_equal(users_parse_line("\n", &u, &err), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(users_parse_line(bad[i].line, &u, &err), -1);
		if (strncmp(err, bad[i].err, strlen(bad[i].err)) != 0)
			fail_msg("%s: %s", bad[i].line, err);
	}
}

static void
test_load_verify(void **state)
{
	char		 path[] = "/tmp/test_users.XXXXXX";
	struct user	 u;
	FILE		*f;
	int		 fd;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fprintf(f, "# accounts\nann:admin:" YESCRYPT "\nbad line\n"
	    "bob:viewer:" BCRYPT "\n");
	fclose(f);
	assert_int_equal(users_load(path), 2);
	assert_int_equal(users_find("ann", &u), 0);
	assert_int_equal(u.role, ROLE_ADMIN);
	assert_true(users_verify(u.hash, "correct horse"));
	assert_false(users_verify(u.hash, "correct horse "));
	assert_false(users_verify(u.hash, ""));
	assert_int_equal(users_find("bob", &u), 0);
	assert_int_equal(u.role, ROLE_VIEWER);
	assert_true(users_verify(u.hash, "correct horse"));
	assert_false(users_verify(u.hash, "Correct horse"));
	assert_int_equal(users_find("carl", &u), -1);
	assert_false(users_verify(NULL, "correct horse"));
	unlink(path);
	users_free();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_load_verify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
