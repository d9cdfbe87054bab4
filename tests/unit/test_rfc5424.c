/* SPDX-License-Identifier: ISC */
/* Unit tests for RFC 5424 messages (collector/rfc5424.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rfc5424.h"

static const char *
cstr(struct buf *b)
{
	buf_add_u8(b, '\0');
	b->len--;
	return (const char *)b->data;
}

static void
test_sd_name(void **state)
{
	(void)state;
	assert_true(rfc5424_sd_name_ok((const uint8_t *)"bytes_out", 9));
	assert_false(rfc5424_sd_name_ok((const uint8_t *)"", 0));
	assert_false(rfc5424_sd_name_ok((const uint8_t *)"a b", 3));
	assert_false(rfc5424_sd_name_ok((const uint8_t *)"a=b", 3));
	assert_false(rfc5424_sd_name_ok((const uint8_t *)"a]", 2));
	assert_false(rfc5424_sd_name_ok((const uint8_t *)"a\"", 2));
	assert_false(rfc5424_sd_name_ok((const uint8_t *)"\xc3\xa9", 2));
	assert_true(rfc5424_sd_name_ok((const uint8_t *)
	    "abcdefghijklmnopqrstuvwxyz012345", 32));
	assert_false(rfc5424_sd_name_ok((const uint8_t *)
	    "abcdefghijklmnopqrstuvwxyz0123456", 33));
}

static void
test_sd_value(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	rfc5424_sd_value(&b, (const uint8_t *)"a\"b\\c]d\xc3\xa9", 9);
	assert_string_equal(cstr(&b), "a\\\"b\\\\c\\]d\xc3\xa9");
	buf_reset(&b);
	/* Control bytes, a C1 control and a stray byte as \xNN. */
	rfc5424_sd_value(&b, (const uint8_t *)"x\ny\xc2\x85z\xff", 7);
	assert_string_equal(cstr(&b), "x\\x0ay\\xc2\\x85z\\xff");
	buf_free(&b);
}

static void
test_frame(void **state)
{
	struct record	 r;
	struct buf	 b;
	const char	*msg = "{\"x\":1}", *s, *sp;
	char		 want[1024];

	(void)state;
	record_init(&r);
	buf_init(&b);
	record_begin(&r, "usb.add");
	r.ts_us = 1764460800000001LL;
	record_add_str(&r, "serial", "S]1");
	record_add_int(&r, "speed", 480);
	record_add_bool(&r, "storage", 1);
	record_add_list(&r, "interfaces");
	record_list_add(&r, "08/06/50", 8);
	record_list_add(&r, "03/00/00", 8);
	rfc5424_frame(&b, &r, "pc01", "00000000000000ab", 5, 32473, msg,
	    strlen(msg));
	s = cstr(&b);
	strcpy(want, "<134>1 2025-11-30T00:00:00.000001Z pc01 labwatch - "
	    "usb.add [labwatch-id@32473 host=\"pc01\" "
	    "stream=\"00000000000000ab\" seq=\"5\"][labwatch@32473 "
	    "event=\"usb.add\" serial=\"S\\]1\" speed=\"480\" storage=\"true\" "
	    "interfaces=\"08/06/50,03/00/00\"] {\"x\":1}");
	/* Octet counting: the length of what follows the space. */
	sp = strchr(s, ' ');
	assert_non_null(sp);
	assert_int_equal(strtoul(s, NULL, 10), strlen(want));
	assert_string_equal(sp + 1, want);
	/* A long event is cut to 32 in MSGID only. */
	buf_reset(&b);
	record_begin(&r, "a.very.long.event.name.beyond.thirty.two");
	rfc5424_frame(&b, &r, "pc01", "00000000000000ab", 6, 1, "{}", 2);
	assert_non_null(strstr(cstr(&b), " a.very.long.event.name.beyond.th "
	    "[labwatch-id@1 "));
	assert_non_null(strstr(cstr(&b),
	    "event=\"a.very.long.event.name.beyond.thirty.two\""));
	buf_free(&b);
	record_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sd_name),
		cmocka_unit_test(test_sd_value),
		cmocka_unit_test(test_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
