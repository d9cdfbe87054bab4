/* SPDX-License-Identifier: ISC */
/* Unit tests for the dashboard's JSON body parser (collector/json.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

static struct json_obj	o;

static int
parse(const char *s, const char **err)
{
	*err = NULL;
	return json_parse(&o, s, strlen(s), err);
}

static void
test_login(void **state)
{
	const char	*err;

	(void)state;
	assert_int_equal(parse(" {\"user\": \"ann\", \"password\":"
	    "\"p\\u00e4ss \\\"w\\\\\\/\"}\n", &err), 0);
	assert_int_equal(o.n, 2);
	assert_string_equal(json_str(&o, "user"), "ann");
	assert_string_equal(json_str(&o, "password"), "p\xc3\xa4ss \"w\\/");
	assert_null(json_str(&o, "role"));
}

static void
test_values(void **state)
{
	const struct json_field	*f;
	const char		*err;

	(void)state;
	assert_int_equal(parse("{}", &err), 0);
	assert_int_equal(o.n, 0);
	assert_int_equal(parse("{\"a\":-12.5e1,\"b\":true,\"c\":false,"
	    "\"d\":null,\"e\":\"\\ud83d\\ude00\",\"f\":0}", &err), 0);
	assert_int_equal(o.n, 6);
	f = json_get(&o, "a");
	assert_int_equal(f->type, JSON_NUM);
	assert_true(f->num == -125.0);
	assert_int_equal(json_get(&o, "b")->b, 1);
	assert_int_equal(json_get(&o, "c")->type, JSON_BOOL);
	assert_int_equal(json_get(&o, "c")->b, 0);
	assert_int_equal(json_get(&o, "d")->type, JSON_NULL);
	assert_string_equal(json_str(&o, "e"), "\xf0\x9f\x98\x80");
	assert_null(json_str(&o, "a"));
}

static void
test_errors(void **state)
{
	static const struct {
		const char	*in, *err;
	} bad[] = {
		{ "", "expected an object" },
		{ "[]", "expected an object" },
		{ "{\"a\":{}}", "nested values are not accepted" },
		{ "{\"a\":[1]}", "nested values are not accepted" },
		{ "{\"a\":1,\"a\":2}", "duplicate key" },
		{ "{\"a\":\"x\001\"}", "control character in a string" },
		{ "{\"a\":\"\\u0000\"}", "NUL in a string" },
		{ "{\"a\":\"\\ud800\"}", "lone high surrogate" },
		{ "{\"a\":\"\\udc00\"}", "lone low surrogate" },
		{ "{\"a\":\"\xc3\x28\"}", "invalid UTF-8" },
		{ "{\"a\":\"\\q\"}", "bad escape" },
		{ "{\"a\":\"abc", "unterminated string" },
		{ "{\"a\":01}", "bad number" },
		{ "{\"a\":1.}", "bad number" },
		{ "{\"a\":1e}", "bad number" },
		{ "{\"a\":-}", "bad number" },
		{ "{\"a\":tru}", "bad value" },
		{ "{\"a\":1", "expected ',' or '}'" },
		{ "{\"a\":1,}", "expected a string" },
		{ "{\"a\" 1}", "expected ':'" },
		{ "{\"\":1}", "bad key" },
		{ "{\"a\":1} x", "trailing bytes" },
		{ "{\"a\":1}{}", "trailing bytes" },
	};
	char		 big[JSON_MAX_IN + 2], many[512];
	const char	*err;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i].in, &err), -1);
		assert_non_null(err);
		if (strcmp(err, bad[i].err) != 0)
			fail_msg("%s: %s, not %s", bad[i].in, err, bad[i].err);
	}
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big, &err), -1);
	assert_string_equal(err, "body too large");
	strcpy(many, "{");
	for (i = 0; i <= JSON_MAX_FIELDS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
		    "%s\"k%zu\":1", i > 0 ? "," : "", i);
	strcat(many, "}");
	assert_int_equal(parse(many, &err), -1);
	assert_string_equal(err, "too many members");
	/* One short of the cap is fine. */
	strcpy(strrchr(many, ','), "}");
	assert_int_equal(parse(many, &err), 0);
	assert_int_equal(o.n, JSON_MAX_FIELDS);
}

/* Strings that fill the input decode within the store: no overflow. */
static void
test_bounds(void **state)
{
	char		 in[JSON_MAX_IN + 1];
	const char	*err;
	size_t		 n;

	(void)state;
	strcpy(in, "{\"k\":\"");
	n = strlen(in);
	while (n + 8 < JSON_MAX_IN) {
		memcpy(in + n, "\\u00e4", 6);	/* 6 bytes in, 2 out */
		n += 6;
	}
	strcpy(in + n, "\"}");
	assert_int_equal(parse(in, &err), 0);
	assert_int_equal(json_get(&o, "k")->len, (n - 6) / 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
