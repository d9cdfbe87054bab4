/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for reading log lines back into records (collector/logline.c):
 * what format.c writes, text and JSON, comes back the same; bad lines are
 * refused with a reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "format.h"
#include "logline.h"
#include "record.h"

/* A record with the strings a hostile device or path may hold. */
static void
make(struct record *r)
{
	static const char nasty[] = "a \"b\" c\\d,e\nf\tg\x01h\xffi \xe2\x80\xae"
	    "j \xf0\x9f\x98\x80 k=v";

	record_init(r);
	record_begin(r, "usb.write");
	r->ts_us = 1795000000123456LL;
	r->seq = 42;
	r->host = "pc07";
	record_add_str(r, "path", nasty);
	record_add_str(r, "empty", "");
	record_add_int(r, "size", -12345678901LL);
	record_add_bool(r, "storage", 1);
	record_add_list(r, "interfaces");
	record_list_add(r, "08/06/50", 8);
	record_list_add(r, "ff/ff/ff", 8);
	record_add_str(r, "mac", "02:00:5e:10:00:01");
}

/* The field as text, as record_get_str gives it (lists joined by ","). */
static void
value(const struct record *r, const char *key, char *out, size_t size)
{
	const struct field	*f = record_get(r, key);
	const struct span	*sp;
	size_t			 n = 0;
	uint32_t		 i;

	assert_non_null(f);
	if (f->type != FIELD_LIST) {
		record_get_str(r, key, out, size);
		return;
	}
	out[0] = '\0';
	for (i = 0; i < f->v.list.n; i++) {
		sp = &r->items[f->v.list.first + i];
		n += (size_t)snprintf(out + n, size - n, "%s%.*s", i ? "," : "",
		    (int)sp->len, (const char *)record_bytes(r) + sp->off);
	}
}

static void
round_trip(enum log_format fmt)
{
	static const char *keys[] = { "path", "empty", "size", "storage",
	    "interfaces", "mac" };
	struct record	 r, back;
	struct buf	 line;
	char		 host[64], a[512], b[512];
	const char	*err = NULL;
	size_t		 i;

	make(&r);
	buf_init(&line);
	format_record(&line, &r, fmt);
	record_init(&back);
	assert_int_equal(logline_parse((const char *)line.data, line.len,
	    &back, host, sizeof(host), &err), 0);
	assert_string_equal(host, "pc07");
	assert_true(back.ts_us == r.ts_us);
	assert_true(back.seq == 42);
	assert_int_equal(back.event.len, 9);
	assert_memory_equal(record_bytes(&back) + back.event.off, "usb.write",
	    9);
	assert_int_equal(back.nfields, r.nfields);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		value(&r, keys[i], a, sizeof(a));
		value(&back, keys[i], b, sizeof(b));
		/* JSON lines write a byte that is not UTF-8 as the four
		 * characters \xNN (labwatch-events(7)): so it reads back. */
		if (fmt == FORMAT_JSON && strcmp(keys[i], "path") == 0) {
			char *x = strchr(a, '\xff');

			assert_non_null(x);
			memmove(x + 4, x + 1, strlen(x + 1) + 1);
			memcpy(x, "\\xff", 4);
		}
		assert_string_equal(a, b);
	}
	assert_true(record_get_int(&back, "size", 0) == -12345678901LL);
	record_free(&r);
	record_free(&back);
	buf_free(&line);
}

static void
test_text_round_trip(void **state)
{
	(void)state;
	round_trip(FORMAT_TEXT);
}

static void
test_json_round_trip(void **state)
{
	(void)state;
	round_trip(FORMAT_JSON);
}

static void
test_collector_record_without_seq(void **state)
{
	struct record	 r;
	char		 host[64];
	const char	*err = NULL;
	const char	*l = "2026-11-22T04:25:24.589150Z lab lab.mark kind=lan "
			    "id=02:00:5e:10:00:02 mark=known "
			    "note=\"the printer\" by=\"uid 0\"\n";

	(void)state;
	record_init(&r);
	assert_int_equal(logline_parse(l, strlen(l), &r, host, sizeof(host),
	    &err), 0);
	assert_string_equal(host, "lab");
	assert_true(r.seq == 0);
	assert_int_equal(r.nfields, 5);
	{
		char v[64];

		assert_string_equal(record_get_str(&r, "note", v, sizeof(v)),
		    "the printer");
	}
	record_free(&r);
}

static void
test_ts(void **state)
{
	int64_t	us = 0;

	(void)state;
	assert_int_equal(logline_ts("1970-01-01T00:00:01.000002Z", 27, &us), 0);
	assert_true(us == 1000002);
	/* Local time with its offset (--localtime): the same instant. */
	assert_int_equal(logline_ts("1970-01-01T01:00:01.000002+01:00", 32,
	    &us), 0);
	assert_true(us == 1000002);
	assert_int_equal(logline_ts("1969-12-31T23:00:01.000002-01:00", 32,
	    &us), 0);
	assert_true(us == 1000002);
	assert_int_equal(logline_ts("1970-13-01T00:00:01.000002Z", 27, &us),
	    -1);
	assert_int_equal(logline_ts("1970-01-01T00:00:01Z", 20, &us), -1);
	assert_int_equal(logline_ts("1970-01-01T00:00:01.00000xZ", 27, &us),
	    -1);
}

static void
test_bad_lines(void **state)
{
	static const char *bad[] = {
		"",
		"\n",
		"garbage\n",
		"2026-11-22T04:25:24.589150Z pc01\n",
		"2026-11-22T04:25:24.589150Z pc01 Bad.Event\n",
		"2026-11-22T04:25:24.589150Z pc01 usb.add novalue\n",
		"2026-11-22T04:25:24.589150Z pc01 usb.add k=\"unterminated\n",
		"2026-11-22T04:25:24.589150Z pc01 usb.add k=\"\\q\"\n",
		"2026-11-22T04:25:24.589150Z pc01 usb.add K=v\n",
		"2026-11-22T04:25:24.589150Z pc01 usb.add host=v\n",
		"{\"ts\":\"2026-11-22T04:25:24.589150Z\",\"host\":\"pc01\"}\n",
		"{\"ts\":\"2026-11-22T04:25:24.589150Z\",\"host\":\"pc01\","
		    "\"event\":\"usb.add\",\"k\":[1]}\n",
		"{\"ts\":\"2026-11-22T04:25:24.589150Z\",\"host\":\"pc01\","
		    "\"event\":\"usb.add\",\"k\":\"v\"} junk\n",
		"{\"ts\":\"2026-11-22T04:25:24.589150Z\",\"host\":\"pc01\","
		    "\"event\":\"usb.add\",\"k\":99999999999999999999}\n",
		"{\"ts\":\"2026-11-22T04:25:24.589150Z\",\"host\":\"pc01\","
		    "\"event\":\"usb.add\",\"k\":\"v\"",
	};
	struct record	 r;
	char		 host[64];
	const char	*err;
	size_t		 i;

	(void)state;
	record_init(&r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (logline_parse(bad[i], strlen(bad[i]), &r, host,
		    sizeof(host), &err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(err);
	}
	record_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_round_trip),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_collector_record_without_seq),
		cmocka_unit_test(test_ts),
		cmocka_unit_test(test_bad_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
