/* SPDX-License-Identifier: ISC */
/* Unit tests for the configuration file syntax (common/conffile.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "conffile.h"

struct seen {
	char	out[2048];	/* "line:key=value|" and "line!error|" */
	int	reject;		/* the callback refuses this key */
};

static int
cb(const char *key, const char *value, int line, void *arg)
{
	struct seen	*s = arg;
	size_t		 n = strlen(s->out);

	snprintf(s->out + n, sizeof(s->out) - n, "%d:%s=%s|", line, key,
	    value);
	return s->reject && strcmp(key, "bad") == 0 ? -1 : 0;
}

static void
err(int line, const char *msg, void *arg)
{
	struct seen	*s = arg;
	size_t		 n = strlen(s->out);

	snprintf(s->out + n, sizeof(s->out) - n, "%d!%s|", line, msg);
}

static int
parse(const char *text, size_t len, struct seen *s)
{
	memset(s->out, 0, sizeof(s->out));
	return conffile_parse(text, len, cb, err, s);
}

static void
test_lines(void **state)
{
	const char	*t = "# a comment\n\nkey value\n  indented\tvalue "
			    "with spaces  \nflag\nlast no-newline";
	struct seen	 s = { .reject = 0 };

	(void)state;
	assert_int_equal(parse(t, strlen(t), &s), 0);
	assert_string_equal(s.out, "3:key=value|4:indented=value with spaces|"
	    "5:flag=|6:last=no-newline|");
}

static void
test_comments(void **state)
{
	const char	*t = "a b # trailing\nc d#not-a-comment\n   # x\n"
			    "e f\t#tab\n#g h\n";
	struct seen	 s = { .reject = 0 };

	(void)state;
	assert_int_equal(parse(t, strlen(t), &s), 0);
	assert_string_equal(s.out, "1:a=b|2:c=d#not-a-comment|4:e=f|");
}

static void
test_errors_go_on(void **state)
{
	const char	 t[] = "Key v\nok 1\nx\001y z\nbad 2\nnul \0 here\n"
			    "fine 3\n";
	struct seen	 s = { .reject = 1 };

	(void)state;
	assert_int_equal(parse(t, sizeof(t) - 1, &s), 4);
	assert_string_equal(s.out, "1!a key is lower-case letters, digits and "
	    "-|2:ok=1|3!control byte in the line|4:bad=2|5!NUL byte in the "
	    "line|6:fine=3|");
}

static void
test_long_lines(void **state)
{
	static char	t[CONFFILE_LINE_MAX + 100];
	struct seen	s = { .reject = 0 };

	(void)state;
	memset(t, 'a', sizeof(t));
	t[CONFFILE_LINE_MAX + 1] = '\n';
	memcpy(t + CONFFILE_LINE_MAX + 2, "k v\n", 4);
	assert_int_equal(parse(t, CONFFILE_LINE_MAX + 6, &s), 1);
	assert_string_equal(s.out, "1!line too long|2:k=v|");
	/* A key of 65 letters is too long, of 64 fine. */
	memset(t, 'k', 65);
	memcpy(t + 65, " v", 3);
	assert_int_equal(parse(t, 67, &s), 1);
	assert_string_equal(s.out, "1!key too long|");
	assert_int_equal(parse(t + 1, 66, &s), 0);
}

static void
test_crlf_is_an_error(void **state)
{
	const char	*t = "a b\r\nc d\n";
	struct seen	 s = { .reject = 0 };

	(void)state;
	assert_int_equal(parse(t, strlen(t), &s), 1);
	assert_string_equal(s.out, "1!control byte in the line|2:c=d|");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_errors_go_on),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_crlf_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
