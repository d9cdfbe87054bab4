/* SPDX-License-Identifier: ISC */
/* Unit tests for log line formatting (common/format.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "format.h"
#include "record.h"
#include "wire.h"

#define TS_2023	1700000000123456LL	/* 2023-11-14T22:13:20.123456Z */

static void
assert_buf_string(const struct buf *b, const char *want)
{
	size_t	len = strlen(want);

	if (b->len != len || (len > 0 && memcmp(b->data, want, len) != 0))
		fail_msg("got\n%.*s\nwant\n%s", (int)b->len,
		    b->data ? (const char *)b->data : "", want);
}

/* Is b exactly one line: one newline, at the end, and no other control? */
static void
assert_one_line(const struct buf *b)
{
	size_t	i;

	assert_true(b->len > 0);
	assert_int_equal(b->data[b->len - 1], '\n');
	for (i = 0; i + 1 < b->len; i++)
		if (b->data[i] < 0x20 || b->data[i] == 0x7f)
			fail_msg("byte 0x%02x at %zu of %zu", b->data[i], i,
			    b->len);
}

static void
expect_ts(int64_t us, const char *want)
{
	char	out[FORMAT_TS_LEN + 1];

	memset(out, 'X', sizeof(out));
	format_ts(out, us);
	assert_string_equal(out, want);
	assert_int_equal(strlen(out), FORMAT_TS_LEN);
}

static void
test_format_ts(void **state)
{
	(void)state;
	expect_ts(0, "1970-01-01T00:00:00.000000Z");
	expect_ts(1, "1970-01-01T00:00:00.000001Z");
	expect_ts(999999, "1970-01-01T00:00:00.999999Z");
	expect_ts(1000000, "1970-01-01T00:00:01.000000Z");
	/* Past 2^31 s (2038-01-19T03:14:08Z); 2040-01-01 is 2208988800 s
	 * (70 years of 365 days and 17 leap days, as 1900 to 1970). */
	expect_ts(2147483648000000LL, "2038-01-19T03:14:08.000000Z");
	expect_ts(2208988800000001LL, "2040-01-01T00:00:00.000001Z");
	expect_ts(TS_2023, "2023-11-14T22:13:20.123456Z");
	expect_ts(951782400000000LL, "2000-02-29T00:00:00.000000Z");
	expect_ts(253402300799999999LL, "9999-12-31T23:59:59.999999Z");
	expect_ts(-1, "1969-12-31T23:59:59.999999Z");
	expect_ts(-999999, "1969-12-31T23:59:59.000001Z");
	expect_ts(-1000000, "1969-12-31T23:59:59.000000Z");
	expect_ts(-1000001, "1969-12-31T23:59:58.999999Z");
	expect_ts(-86400000000LL, "1969-12-31T00:00:00.000000Z");
}

/* One second must not leak into another. */
static void
test_format_ts_cache(void **state)
{
	(void)state;
	expect_ts(TS_2023, "2023-11-14T22:13:20.123456Z");
	expect_ts(TS_2023 + 1, "2023-11-14T22:13:20.123457Z");
	expect_ts(TS_2023 + 876544, "2023-11-14T22:13:21.000000Z");
	expect_ts(TS_2023, "2023-11-14T22:13:20.123456Z");
	expect_ts(0, "1970-01-01T00:00:00.000000Z");
	expect_ts(-1, "1969-12-31T23:59:59.999999Z");
	expect_ts(0, "1970-01-01T00:00:00.000000Z");
}

/* Instants no calendar year of four digits can show still give 27 bytes. */
static void
test_format_ts_extremes(void **state)
{
	(void)state;
	expect_ts(INT64_MAX, "0000-00-00T00:00:00.775807Z");
	expect_ts(INT64_MIN, "0000-00-00T00:00:00.224192Z");
	expect_ts(253402300800000000LL, "0000-00-00T00:00:00.000000Z");
	/* Years below 1000 have no four digits in strftime's %Y either. */
	expect_ts(-30610224000000000LL, "1000-01-01T00:00:00.000000Z");
	expect_ts(-30610224000000001LL, "0000-00-00T00:00:00.999999Z");
	expect_ts(INT64_MAX, "0000-00-00T00:00:00.775807Z");
	expect_ts(1000000, "1970-01-01T00:00:01.000000Z");
}

static void
build_all(struct record *r)
{
	record_begin(r, "usb.add");
	r->ts_us = TS_2023;
	r->seq = 7;
	r->host = "pc-01";
	record_add_str(r, "name", "Kingston DT");
	record_add_str(r, "serial", "");
	record_add_int(r, "n", -42);
	record_add_int(r, "big", INT64_MAX);
	record_add_int(r, "small", INT64_MIN);
	record_add_bool(r, "ok", 1);
	record_add_bool(r, "off", 0);
	record_add_list(r, "tags");
	record_list_add(r, "a", 1);
	record_list_add(r, "b c", 3);
	record_add_list(r, "none");
	record_add_time(r, "at", TS_2023);
	record_add_duration(r, "took", 1500000);
	record_add_duration(r, "neg", -2500000);
	record_add_duration(r, "tiny", -1);
	record_add_duration(r, "dmin", INT64_MIN);
	record_add_duration(r, "dmax", INT64_MAX);
	record_add_duration(r, "zero", 0);
}

static const char all_text[] =
    "2023-11-14T22:13:20.123456Z pc-01 usb.add seq=7"
    " name=\"Kingston DT\" serial=\"\" n=-42 big=9223372036854775807"
    " small=-9223372036854775808 ok=true off=false tags=a,\"b c\""
    " none=\"\" at=2023-11-14T22:13:20.123456Z took=1.500000"
    " neg=-2.500000 tiny=-0.000001 dmin=-9223372036854.775808"
    " dmax=9223372036854.775807 zero=0.000000\n";

static const char all_json[] =
    "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"host\":\"pc-01\",\"seq\":7,"
    "\"event\":\"usb.add\",\"name\":\"Kingston DT\",\"serial\":\"\","
    "\"n\":-42,\"big\":9223372036854775807,"
    "\"small\":-9223372036854775808,\"ok\":true,\"off\":false,"
    "\"tags\":[\"a\",\"b c\"],\"none\":[],"
    "\"at\":\"2023-11-14T22:13:20.123456Z\",\"took\":1.500000,"
    "\"neg\":-2.500000,\"tiny\":-0.000001,"
    "\"dmin\":-9223372036854.775808,\"dmax\":9223372036854.775807,"
    "\"zero\":0.000000}\n";

static void
test_record_text(void **state)
{
	struct record	r;
	struct buf	b;

	(void)state;
	record_init(&r);
	buf_init(&b);
	build_all(&r);
	format_record(&b, &r, FORMAT_TEXT);
	assert_buf_string(&b, all_text);
	assert_one_line(&b);
	buf_free(&b);
	record_free(&r);
}

static void
test_record_json(void **state)
{
	struct record	r;
	struct buf	b;

	(void)state;
	record_init(&r);
	buf_init(&b);
	build_all(&r);
	format_record(&b, &r, FORMAT_JSON);
	assert_buf_string(&b, all_json);
	assert_one_line(&b);
	buf_free(&b);
	record_free(&r);
}

/* A record decoded from a frame formats like the one it was built from. */
static void
test_record_decoded(void **state)
{
	struct record	 r, d;
	struct buf	 frame, b;
	const char	*err = NULL;

	(void)state;
	record_init(&r);
	record_init(&d);
	buf_init(&frame);
	buf_init(&b);
	build_all(&r);
	wire_put_record(&frame, WIRE_RECORD, &r);
	assert_int_equal(wire_get_record(frame.data + WIRE_HDR_LEN,
	    frame.len - WIRE_HDR_LEN, &d, &err), 0);
	assert_null(d.host);
	d.host = "pc-01";
	format_record(&b, &d, FORMAT_TEXT);
	assert_buf_string(&b, all_text);
	buf_reset(&b);
	format_record(&b, &d, FORMAT_JSON);
	assert_buf_string(&b, all_json);
	buf_free(&b);
	buf_free(&frame);
	record_free(&d);
	record_free(&r);
}

static void
test_seq_zero(void **state)
{
	struct record	r;
	struct buf	b;

	(void)state;
	record_init(&r);
	buf_init(&b);
	record_begin(&r, "agent.start");
	r.ts_us = 0;
	r.host = "h";
	record_add_int(&r, "pid", 12);
	format_record(&b, &r, FORMAT_TEXT);
	assert_buf_string(&b,
	    "1970-01-01T00:00:00.000000Z h agent.start pid=12\n");
	buf_reset(&b);
	format_record(&b, &r, FORMAT_JSON);
	assert_buf_string(&b, "{\"ts\":\"1970-01-01T00:00:00.000000Z\","
	    "\"host\":\"h\",\"event\":\"agent.start\",\"pid\":12}\n");

	r.seq = UINT64_MAX;
	buf_reset(&b);
	format_record(&b, &r, FORMAT_TEXT);
	assert_buf_string(&b, "1970-01-01T00:00:00.000000Z h agent.start"
	    " seq=18446744073709551615 pid=12\n");
	buf_reset(&b);
	format_record(&b, &r, FORMAT_JSON);
	assert_buf_string(&b, "{\"ts\":\"1970-01-01T00:00:00.000000Z\","
	    "\"host\":\"h\",\"seq\":18446744073709551615,"
	    "\"event\":\"agent.start\",\"pid\":12}\n");
	buf_free(&b);
	record_free(&r);
}

static void
test_host(void **state)
{
	struct record	r;
	struct buf	b;

	(void)state;
	record_init(&r);
	buf_init(&b);
	record_begin(&r, "e");
	r.ts_us = -1;
	format_record(&b, &r, FORMAT_TEXT);
	assert_buf_string(&b, "1969-12-31T23:59:59.999999Z - e\n");
	buf_reset(&b);
	format_record(&b, &r, FORMAT_JSON);
	assert_buf_string(&b, "{\"ts\":\"1969-12-31T23:59:59.999999Z\","
	    "\"host\":\"-\",\"event\":\"e\"}\n");

	r.host = "lab pc\n";
	buf_reset(&b);
	format_record(&b, &r, FORMAT_TEXT);
	assert_buf_string(&b,
	    "1969-12-31T23:59:59.999999Z \"lab pc\\n\" e\n");
	assert_one_line(&b);
	buf_reset(&b);
	format_record(&b, &r, FORMAT_JSON);
	assert_buf_string(&b, "{\"ts\":\"1969-12-31T23:59:59.999999Z\","
	    "\"host\":\"lab pc\\n\",\"event\":\"e\"}\n");
	assert_one_line(&b);
	buf_free(&b);
	record_free(&r);
}

static void
test_lists(void **state)
{
	struct record	r;
	struct buf	b;

	(void)state;
	record_init(&r);
	buf_init(&b);
	record_begin(&r, "e");
	r.ts_us = 0;
	r.host = "h";
	record_add_list(&r, "one");
	record_list_add(&r, "x", 1);
	record_add_list(&r, "odd");
	record_list_add(&r, "", 0);
	record_list_add(&r, "x,y", 3);
	record_list_add(&r, "q\"", 2);
	record_list_add(&r, "\xff", 1);
	record_list_add(&r, "caf\xc3\xa9", 5);
	record_add_list(&r, "empty");
	format_record(&b, &r, FORMAT_TEXT);
	assert_buf_string(&b, "1970-01-01T00:00:00.000000Z h e one=x"
	    " odd=\"\",\"x,y\",\"q\\\"\",\"\\xff\",caf\xc3\xa9 empty=\"\"\n");
	buf_reset(&b);
	format_record(&b, &r, FORMAT_JSON);
	assert_buf_string(&b, "{\"ts\":\"1970-01-01T00:00:00.000000Z\","
	    "\"host\":\"h\",\"event\":\"e\",\"one\":[\"x\"],"
	    "\"odd\":[\"\",\"x,y\",\"q\\\"\",\"\\\\xff\",\"caf\xc3\xa9\"],"
	    "\"empty\":[]}\n");
	buf_free(&b);
	record_free(&r);
}

static void
test_one_line(void **state)
{
	static const char	s[] =
	    "line1\nline2\r\n\x1b[2J\xe2\x80\xa8" "end\xc2\x85\x7f";
	struct record		r;
	struct buf		b;

	(void)state;
	record_init(&r);
	buf_init(&b);
	record_begin(&r, "e");
	r.ts_us = 0;
	r.host = "h";
	record_add_strn(&r, "s", s, sizeof(s) - 1);
	record_add_list(&r, "l");
	record_list_add(&r, "\n", 1);
	record_list_add(&r, "a\rb\0", 4);
	format_record(&b, &r, FORMAT_TEXT);
	assert_one_line(&b);
	assert_buf_string(&b, "1970-01-01T00:00:00.000000Z h e"
	    " s=\"line1\\nline2\\r\\n\\x1b[2J\\u2028end\\u0085\\x7f\""
	    " l=\"\\n\",\"a\\rb\\x00\"\n");
	buf_reset(&b);
	format_record(&b, &r, FORMAT_JSON);
	assert_one_line(&b);
	assert_buf_string(&b, "{\"ts\":\"1970-01-01T00:00:00.000000Z\","
	    "\"host\":\"h\",\"event\":\"e\","
	    "\"s\":\"line1\\nline2\\r\\n\\u001b[2J\\u2028end\\u0085\\u007f\","
	    "\"l\":[\"\\n\",\"a\\rb\\u0000\"]}\n");
	buf_free(&b);
	record_free(&r);
}

static uint64_t rng_state = 0x0123456789abcdefULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t
random_bytes(uint8_t *s, size_t max)
{
	static const uint8_t	pick[] = {
		'\n', '\r', 0x00, 0x1b, 0x7f, 0x85, 0xc2, 0xe2, 0x80, 0xa8,
		'"', '\\', ',', ' ', 'a',
	};
	size_t			len = rng() % (max + 1), i;

	for (i = 0; i < len; i++)
		s[i] = rng() % 2 ? (uint8_t)rng() :
		    pick[rng() % sizeof(pick)];
	return len;
}

/* Random strings anywhere in a record never break the line. */
static void
test_one_line_random(void **state)
{
	char		host[17];
	uint8_t		s[32];
	struct record	r;
	struct buf	b;
	size_t		n;
	int		i, j;

	(void)state;
	record_init(&r);
	buf_init(&b);
	for (i = 0; i < 3000; i++) {
		record_begin(&r, "e.x");
		r.ts_us = (int64_t)rng();
		r.seq = rng() % 3;
		n = random_bytes((uint8_t *)host, sizeof(host) - 1);
		host[n] = '\0';
		r.host = host;
		n = random_bytes(s, sizeof(s));
		record_add_strn(&r, "s", s, n);
		record_add_duration(&r, "d", (int64_t)rng());
		record_add_time(&r, "t", (int64_t)rng());
		record_add_list(&r, "l");
		for (j = rng() % 4; j > 0; j--) {
			n = random_bytes(s, sizeof(s));
			record_list_add(&r, s, n);
		}
		buf_reset(&b);
		format_record(&b, &r, FORMAT_TEXT);
		assert_one_line(&b);
		buf_reset(&b);
		format_record(&b, &r, FORMAT_JSON);
		assert_one_line(&b);
		assert_int_equal(b.data[0], '{');
		assert_int_equal(b.data[b.len - 2], '}');
	}
	buf_free(&b);
	record_free(&r);
}

static void
test_appends(void **state)
{
	struct record	r;
	struct buf	b;

	(void)state;
	record_init(&r);
	buf_init(&b);
	record_begin(&r, "a");
	r.ts_us = 0;
	r.host = "h";
	format_record(&b, &r, FORMAT_TEXT);
	format_record(&b, &r, FORMAT_TEXT);
	assert_buf_string(&b, "1970-01-01T00:00:00.000000Z h a\n"
	    "1970-01-01T00:00:00.000000Z h a\n");
	buf_free(&b);
	record_free(&r);
}

static void
test_format_parse(void **state)
{
	static const char	*bad[] = {
		"", "TEXT", "Json", "jsonl", "text ", " json", "tex", "txt",
	};
	enum log_format		 f;
	size_t			 i;

	(void)state;
	f = FORMAT_JSON;
	assert_int_equal(format_parse("text", &f), 0);
	assert_int_equal(f, FORMAT_TEXT);
	assert_int_equal(format_parse("json", &f), 0);
	assert_int_equal(f, FORMAT_JSON);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = FORMAT_JSON;
		assert_int_equal(format_parse(bad[i], &f), -1);
		assert_int_equal(f, FORMAT_JSON);
	}
	f = FORMAT_TEXT;
	assert_int_equal(format_parse("json\n", &f), -1);
	assert_int_equal(f, FORMAT_TEXT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_ts),
		cmocka_unit_test(test_format_ts_cache),
		cmocka_unit_test(test_format_ts_extremes),
		cmocka_unit_test(test_record_text),
		cmocka_unit_test(test_record_json),
		cmocka_unit_test(test_record_decoded),
		cmocka_unit_test(test_seq_zero),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_one_line_random),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
