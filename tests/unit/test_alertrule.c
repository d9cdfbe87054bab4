/* SPDX-License-Identifier: ISC */
/* Unit tests for alert rules: parsing and matching (collector/alertrule.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "alertrule.h"

static void
test_parse(void **state)
{
	struct alert_rule	 r;
	const char		*err = NULL;

	(void)state;
	assert_int_equal(alertrule_parse("sticks usb.add storage=true "
	    "host=lab2-* -> /usr/lib/labwatch/notify-mail a@b c", &r, &err),
	    0);
	assert_string_equal(r.name, "sticks");
	assert_string_equal(r.event, "usb.add");
	assert_int_equal(r.nconds, 2);
	assert_string_equal(r.field[0], "storage");
	assert_string_equal(r.glob[0], "true");
	assert_string_equal(r.field[1], "host");
	assert_string_equal(r.glob[1], "lab2-*");
	assert_int_equal(r.argc, 3);
	assert_string_equal(r.argv[0], "/usr/lib/labwatch/notify-mail");
	assert_string_equal(r.argv[2], "c");
	assert_null(r.argv[3]);
	alertrule_free(&r);
}

static void
test_parse_errors(void **state)
{
	static const struct {
		const char	*line, *err;
	} bad[] = {
		{ "x usb.add -> notify", "the command must be an absolute "
		    "path (no shell runs it)" },
		{ "x usb.add storage=true", "no command after ->" },
		{ "x usb.add ->", "no command after ->" },
		{ "x usb.add storage -> /bin/true", "a condition is FIELD=GLOB" },
		{ "x usb.add =v -> /bin/true", "a condition is FIELD=GLOB" },
		{ "x -> /bin/true", "expected NAME EVENT [FIELD=GLOB ...] "
		    "[unknown] -> COMMAND [ARG ...]" },
		{ "b/d usb.add -> /bin/true", "a rule's name is 1-64 of "
		    "[A-Za-z0-9._-]" },
	};
	struct alert_rule	 r;
	const char		*err;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (alertrule_parse(bad[i].line, &r, &err) != -1)
			fail_msg("accepted: %s", bad[i].line);
		assert_string_equal(err, bad[i].err);
	}
}

static void
test_match(void **state)
{
	struct alert_rule	 r;
	struct record		 rec;
	const char		*err;

	(void)state;
	assert_int_equal(alertrule_parse("w flow.* name=*.example.com "
	    "dport=443 host=lab2-* -> /bin/true", &r, &err), 0);
	record_init(&rec);
	record_begin(&rec, "flow.internet");
	record_add_str(&rec, "name", "www.example.com");
	record_add_int(&rec, "dport", 443);
	assert_true(alertrule_match(&r, "lab2-07", &rec));
	assert_false(alertrule_match(&r, "lab1-07", &rec));
	record_begin(&rec, "flow.internet");
	record_add_str(&rec, "name", "www.example.org");
	record_add_int(&rec, "dport", 443);
	assert_false(alertrule_match(&r, "lab2-07", &rec));
	record_begin(&rec, "flow.internet");
	record_add_str(&rec, "name", "www.example.com");
	assert_false(alertrule_match(&r, "lab2-07", &rec));	/* no dport */
	record_begin(&rec, "net.device");
	assert_false(alertrule_match(&r, "lab2-07", &rec));
	alertrule_free(&r);

	/* Booleans as true/false; a list matches by any item. */
	assert_int_equal(alertrule_parse("s usb.add storage=true "
	    "interfaces=08/* -> /bin/true", &r, &err), 0);
	record_begin(&rec, "usb.add");
	record_add_bool(&rec, "storage", 1);
	record_add_list(&rec, "interfaces");
	record_list_add(&rec, "03/01/01", 8);
	record_list_add(&rec, "08/06/50", 8);
	assert_true(alertrule_match(&r, "pc01", &rec));
	record_begin(&rec, "usb.add");
	record_add_bool(&rec, "storage", 0);
	record_add_list(&rec, "interfaces");
	record_list_add(&rec, "08/06/50", 8);
	assert_false(alertrule_match(&r, "pc01", &rec));
	alertrule_free(&r);
	record_free(&rec);
}

/* The lab's marks, as lab_known answers: one known MAC, one stick. */
static int
known(const char *id)
{
	return strcmp(id, "02:00:5e:10:00:01") == 0 ||
	    strcmp(id, "4f1b0e27a1c9d3e2") == 0;
}

static void
test_unknown(void **state)
{
	struct alert_rule	 r;
	struct record		 rec;
	const char		*err = NULL;

	(void)state;
	assert_int_equal(alertrule_parse("newbox net.device unknown -> "
	    "/bin/true", &r, &err), 0);
	assert_true(r.unknown);
	assert_int_equal(r.nconds, 0);
	alertrule_known(known);
	record_init(&rec);
	record_begin(&rec, "net.device");
	record_add_str(&rec, "mac", "02:00:5e:10:00:01");
	assert_false(alertrule_match(&r, "pc01", &rec));
	record_begin(&rec, "net.device");
	record_add_str(&rec, "mac", "02:00:5e:10:00:02");
	assert_true(alertrule_match(&r, "pc01", &rec));
	/* No device in the record: unknown cannot hold. */
	record_begin(&rec, "net.device");
	record_add_str(&rec, "ip", "198.51.100.7");
	assert_false(alertrule_match(&r, "pc01", &rec));
	alertrule_free(&r);
	/* USB devices by device_id, with other conditions. */
	assert_int_equal(alertrule_parse("sticks usb.add storage=true unknown "
	    "-> /bin/true", &r, &err), 0);
	record_begin(&rec, "usb.add");
	record_add_str(&rec, "device_id", "4f1b0e27a1c9d3e2");
	record_add_bool(&rec, "storage", 1);
	assert_false(alertrule_match(&r, "pc01", &rec));
	record_begin(&rec, "usb.add");
	record_add_str(&rec, "device_id", "00000000000000d2");
	record_add_bool(&rec, "storage", 1);
	assert_true(alertrule_match(&r, "pc01", &rec));
	alertrule_free(&r);
	alertrule_known(NULL);
	record_free(&rec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
