/* SPDX-License-Identifier: ISC */
/* Unit tests for records as ECS documents (collector/ecs.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ecs.h"

/* The document of r as a NUL-terminated string in b. */
static const char *
doc(struct buf *b, const struct record *r, const char *host, uint64_t seq)
{
	char	id[128];

	snprintf(id, sizeof(id), "%s/00000000000000ab/%llu", host,
	    (unsigned long long)seq);
	buf_reset(b);
	ecs_record(b, r, host, id, "00000000000000ab", seq);
	buf_add_u8(b, '\0');
	return (const char *)b->data;
}

static void
test_flow(void **state)
{
	struct record	r;
	struct buf	b;

	(void)state;
	record_init(&r);
	buf_init(&b);
	record_begin(&r, "flow.internet");
	r.ts_us = 1764460800123456LL;		/* 2025-11-30T00:00:00.123456Z */
	record_add_str(&r, "proto", "tcp");
	record_add_str(&r, "src", "192.0.2.2");
	record_add_str(&r, "dst", "203.0.113.9");
	record_add_int(&r, "dport", 443);
	record_add_str(&r, "name", "example.org");
	record_add_str(&r, "name_source", "sni");
	record_add_str(&r, "community_id", "1:abc=");
	record_add_int(&r, "bytes_out", 100);
	record_add_int(&r, "bytes_in", 2000);
	record_add_duration(&r, "duration", 1500000);
	assert_string_equal(doc(&b, &r, "pc01", 7),
	    "{\"@timestamp\":\"2025-11-30T00:00:00.123456Z\","
	    "\"destination\":{\"bytes\":2000,\"domain\":\"example.org\","
	    "\"ip\":\"203.0.113.9\",\"port\":443},"
	    "\"ecs\":{\"version\":\"" ECS_VERSION "\"},"
	    "\"event\":{\"action\":\"flow.internet\",\"category\":[\"network\"],"
	    "\"duration\":1500000000,"
	    "\"id\":\"pc01/00000000000000ab/7\",\"kind\":\"event\","
	    "\"module\":\"labwatch\"},"
	    "\"host\":{\"name\":\"pc01\"},"
	    "\"labwatch\":{\"name_source\":\"sni\",\"seq\":7,"
	    "\"stream\":\"00000000000000ab\"},"
	    "\"network\":{\"community_id\":\"1:abc=\",\"transport\":\"tcp\"},"
	    "\"source\":{\"bytes\":100,\"ip\":\"192.0.2.2\"},"
	    "\"tls\":{\"client\":{\"server_name\":\"example.org\"}}}");
	/* HTTP names are url.domain, not tls.*. */
	record_begin(&r, "flow.internet");
	record_add_str(&r, "name", "plain.example");
	record_add_str(&r, "name_source", "http");
	doc(&b, &r, "pc01", 8);
	assert_non_null(strstr((char *)b.data,
	    "\"url\":{\"domain\":\"plain.example\"}"));
	assert_null(strstr((char *)b.data, "\"tls\""));
	buf_free(&b);
	record_free(&r);
}

static void
test_file_and_rest(void **state)
{
	struct record	r;
	struct buf	b;
	const char	*d;

	(void)state;
	record_init(&r);
	buf_init(&b);
	record_begin(&r, "usb.write");
	record_add_str(&r, "path", "/media/stick/a \"b\".txt");
	record_add_int(&r, "size", 4096);
	record_add_str(&r, "serial", "XYZ");
	record_add_list(&r, "tags");
	record_list_add(&r, "a", 1);
	record_add_bool(&r, "coldplug", 0);
	d = doc(&b, &r, "pc02", 3);
	assert_non_null(strstr(d, "\"file\":{\"path\":\"/media/stick/a "
	    "\\\"b\\\".txt\",\"size\":4096}"));
	assert_non_null(strstr(d, "\"category\":[\"file\"]"));
	/* What ECS has no field for: labwatch.*, typed. */
	assert_non_null(strstr(d, "\"coldplug\":false"));
	assert_non_null(strstr(d, "\"serial\":\"XYZ\""));
	assert_non_null(strstr(d, "\"tags\":[\"a\"]"));
	/* host.connect's stream is not the record's identity. */
	record_begin(&r, "host.connect");
	record_add_str(&r, "stream", "1234");
	d = doc(&b, &r, "pc02", 4);
	assert_non_null(strstr(d, "\"session_stream\":\"1234\""));
	assert_non_null(strstr(d, "\"stream\":\"00000000000000ab\""));
	assert_non_null(strstr(d, "\"category\":[\"session\"]"));
	buf_free(&b);
	record_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_file_and_rest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
