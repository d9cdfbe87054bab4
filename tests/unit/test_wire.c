/* SPDX-License-Identifier: ISC */
/* Unit tests for the wire codec (common/wire.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "record.h"
#include "wire.h"

#define ERR_SHORT	"field runs past the end of the frame"
#define ERR_TRAILING	"trailing bytes after the last field"
#define ERR_EVENT	"bad event name"
#define ERR_KEY		"bad or reserved field key"
#define ERR_DUP		"duplicate field key"
#define ERR_BOOL	"boolean is neither 0 nor 1"
#define ERR_TYPE	"unknown field type"
#define ERR_FIELDS	"too many fields"
#define ERR_ITEMS	"too many list items"
#define ERR_HOST	"host name length out of range"

static const uint8_t str_bytes[] = { 'a', 0x00, 0xff, '\n', 'z' };
static const uint8_t item_bytes[] = { 0x00, 0xff };

static void
mkhdr(uint8_t h[WIRE_HDR_LEN], uint16_t magic, uint8_t version, uint8_t type,
    uint32_t len)
{
	h[0] = magic >> 8;
	h[1] = magic & 0xff;
	h[2] = version;
	h[3] = type;
	h[4] = len >> 24;
	h[5] = (len >> 16) & 0xff;
	h[6] = (len >> 8) & 0xff;
	h[7] = len & 0xff;
}

static void
put_s16(struct buf *b, const void *s, size_t len)
{
	buf_add_u16(b, (uint16_t)len);
	buf_add(b, s, len);
}

/* Starts a hand-made RECORD payload: seq 1, ts 2, event, nfields. */
static void
payload_head(struct buf *b, const void *ev, size_t evlen, uint16_t nfields)
{
	buf_reset(b);
	buf_add_u64(b, 1);
	buf_add_u64(b, 2);
	put_s16(b, ev, evlen);
	buf_add_u16(b, nfields);
}

static void
field_head(struct buf *b, uint8_t type, const char *key)
{
	buf_add_u8(b, type);
	put_s16(b, key, strlen(key));
}

/*
 * Decodes len bytes of p from a copy of exactly that size, so a read past
 * the end is caught by ASan.  Only the result and the reason are kept.
 */
static int
decode_exact(const uint8_t *p, size_t len, struct record *r, const char **err)
{
	uint8_t	*copy;
	int	 rc;

	copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, p, len);
	*err = NULL;
	rc = wire_get_record(copy, len, r, err);
	free(copy);
	return rc;
}

static int
decode_buf(const struct buf *b, const char **err)
{
	struct record	r;
	int		rc;

	record_init(&r);
	rc = decode_exact(b->data, b->len, &r, err);
	record_free(&r);
	return rc;
}

static void
assert_rejects(const struct buf *b, const char *want)
{
	const char	*err;

	assert_int_equal(decode_buf(b, &err), -1);
	assert_non_null(err);
	assert_string_equal(err, want);
}

static void
assert_accepts(const struct buf *b)
{
	const char	*err = NULL;

	if (decode_buf(b, &err) != 0)
		fail_msg("rejected: %s", err ? err : "(no reason)");
}

static void
build_full(struct record *r)
{
	record_begin(r, "usb.device.add");
	r->seq = 42;
	r->ts_us = 1700000000123456;
	record_add_strn(r, "name", str_bytes, sizeof(str_bytes));
	record_add_str(r, "empty", "");
	record_add_int(r, "imin", INT64_MIN);
	record_add_int(r, "imax", INT64_MAX);
	record_add_int(r, "zero", 0);
	record_add_bool(r, "yes", 1);
	record_add_bool(r, "no", 0);
	record_add_list(r, "tags");
	record_list_add(r, "x", 1);
	record_list_add(r, item_bytes, sizeof(item_bytes));
	record_list_add(r, "", 0);
	record_add_list(r, "none");
	record_add_time(r, "at", 1700000000123456);
	record_add_time(r, "before", -1);
	record_add_duration(r, "took", 1500000);
	record_add_duration(r, "dmin", INT64_MIN);
	record_add_list(r, "last");
	record_list_add(r, "q", 1);
}

static void
build_small(struct record *r)
{
	record_begin(r, "net.conv");
	r->seq = 7;
	r->ts_us = -5;
	record_add_list(r, "ips");
	record_list_add(r, "10.0.0.1", 8);
	record_add_str(r, "proto", "tcp");
}

static void
assert_span_equal(const struct record *a, struct span sa,
    const struct record *b, struct span sb)
{
	assert_int_equal(sa.len, sb.len);
	if (sa.len > 0)
		assert_memory_equal(record_bytes(a) + sa.off,
		    record_bytes(b) + sb.off, sa.len);
}

static void
assert_records_equal(const struct record *a, const struct record *b)
{
	const struct field	*fa, *fb;
	uint32_t		 i, j;

	assert_true(a->seq == b->seq);
	assert_true(a->ts_us == b->ts_us);
	assert_span_equal(a, a->event, b, b->event);
	assert_int_equal(a->nfields, b->nfields);
	for (i = 0; i < a->nfields; i++) {
		fa = &a->fields[i];
		fb = &b->fields[i];
		assert_span_equal(a, fa->key, b, fb->key);
		assert_int_equal(fa->type, fb->type);
		switch (fa->type) {
		case FIELD_STR:
			assert_span_equal(a, fa->v.str, b, fb->v.str);
			break;
		case FIELD_INT:
		case FIELD_TIME:
		case FIELD_DURATION:
			assert_true(fa->v.i == fb->v.i);
			break;
		case FIELD_BOOL:
			assert_int_equal(fa->v.b, fb->v.b);
			break;
		case FIELD_LIST:
			assert_int_equal(fa->v.list.n, fb->v.list.n);
			for (j = 0; j < fa->v.list.n; j++)
				assert_span_equal(a,
				    a->items[fa->v.list.first + j], b,
				    b->items[fb->v.list.first + j]);
			break;
		default:
			fail_msg("field %u has type %u", i, fa->type);
		}
	}
}

static const struct field *
get_field(const struct record *r, const char *key, uint8_t type)
{
	const struct field	*f = record_get(r, key);

	if (f == NULL)
		fail_msg("no field %s", key);
	assert_int_equal(f->type, type);
	return f;
}

static void
assert_item(const struct record *r, const struct field *f, uint32_t i,
    const void *want, size_t len)
{
	const struct span	*it;

	assert_true(i < f->v.list.n);
	it = &r->items[f->v.list.first + i];
	assert_int_equal(it->len, len);
	if (len > 0)
		assert_memory_equal(record_bytes(r) + it->off, want, len);
}

/* Checks the decoded full record against literals, not the encoder. */
static void
assert_full_values(const struct record *r)
{
	const struct field	*f;

	assert_true(r->seq == 42);
	assert_true(r->ts_us == 1700000000123456);
	assert_int_equal(r->event.len, 14);
	assert_memory_equal(record_bytes(r) + r->event.off, "usb.device.add",
	    14);
	assert_int_equal(r->nfields, 14);
	f = get_field(r, "name", FIELD_STR);
	assert_int_equal(f->v.str.len, sizeof(str_bytes));
	assert_memory_equal(record_bytes(r) + f->v.str.off, str_bytes,
	    sizeof(str_bytes));
	assert_int_equal(get_field(r, "empty", FIELD_STR)->v.str.len, 0);
	assert_true(get_field(r, "imin", FIELD_INT)->v.i == INT64_MIN);
	assert_true(get_field(r, "imax", FIELD_INT)->v.i == INT64_MAX);
	assert_true(get_field(r, "zero", FIELD_INT)->v.i == 0);
	assert_int_equal(get_field(r, "yes", FIELD_BOOL)->v.b, 1);
	assert_int_equal(get_field(r, "no", FIELD_BOOL)->v.b, 0);
	f = get_field(r, "tags", FIELD_LIST);
	assert_int_equal(f->v.list.n, 3);
	assert_item(r, f, 0, "x", 1);
	assert_item(r, f, 1, item_bytes, sizeof(item_bytes));
	assert_item(r, f, 2, "", 0);
	assert_int_equal(get_field(r, "none", FIELD_LIST)->v.list.n, 0);
	assert_true(get_field(r, "at", FIELD_TIME)->v.i == 1700000000123456);
	assert_true(get_field(r, "before", FIELD_TIME)->v.i == -1);
	assert_true(get_field(r, "took", FIELD_DURATION)->v.i == 1500000);
	assert_true(get_field(r, "dmin", FIELD_DURATION)->v.i == INT64_MIN);
	f = get_field(r, "last", FIELD_LIST);
	assert_int_equal(f->v.list.n, 1);
	assert_item(r, f, 0, "q", 1);
	assert_int_equal(r->nitems, 4);
}

/* Encodes r as one frame of type and checks its header. */
static void
encode(struct buf *b, uint8_t type, const struct record *r)
{
	struct wire_hdr	 h;
	const char	*err = NULL;

	buf_reset(b);
	wire_put_record(b, type, r);
	assert_true(b->len >= WIRE_HDR_LEN);
	assert_int_equal(wire_parse_hdr(b->data, WIRE_MAX_FRAME, &h, &err), 0);
	assert_int_equal(h.type, type);
	assert_int_equal(h.len, b->len - WIRE_HDR_LEN);
}

static void
test_hdr_accept(void **state)
{
	static const uint32_t	 min[] = { 0, 17, 16, 21, 21, 8, 4, 9, 3,
	    9, 8 };
	/* The most each type's fields can fill; 0: the frame maximum. */
	static const uint32_t	 max[] = { 0, 336, 16, 0, 0, 8, 260, 4422,
	    16386, 2104, 264 };
	uint32_t		 top;
	uint8_t			 p[WIRE_HDR_LEN];
	struct wire_hdr		 h;
	const char		*err;
	uint8_t			 t;

	(void)state;
	for (t = 1; t <= WIRE_TYPE_MAX; t++) {
		mkhdr(p, WIRE_MAGIC, WIRE_VERSION, t, min[t]);
		h.type = 0;
		h.len = 0xdeadbeef;
		err = NULL;
		assert_int_equal(wire_parse_hdr(p, WIRE_MAX_FRAME, &h, &err), 0);
		assert_int_equal(h.type, t);
		assert_int_equal(h.len, min[t]);

		top = max[t] ? max[t] : WIRE_MAX_FRAME;
		mkhdr(p, WIRE_MAGIC, WIRE_VERSION, t, top);
		assert_int_equal(wire_parse_hdr(p, WIRE_MAX_FRAME, &h, &err), 0);
		assert_int_equal(h.len, top);
		if (max[t] != 0) {
			mkhdr(p, WIRE_MAGIC, WIRE_VERSION, t, top + 1);
			assert_int_equal(wire_parse_hdr(p, WIRE_MAX_FRAME, &h,
			    &err), -1);
			assert_string_equal(err, "frame longer than the maximum");
		}
	}
	mkhdr(p, WIRE_MAGIC, WIRE_VERSION, WIRE_RECORD, WIRE_MAX_FRAME_LIMIT);
	assert_int_equal(wire_parse_hdr(p, WIRE_MAX_FRAME_LIMIT, &h, &err), 0);
	assert_int_equal(h.len, WIRE_MAX_FRAME_LIMIT);

	/* The literal bytes of a header, as on the wire. */
	memcpy(p, "\x4c\x57\x01\x05\x00\x00\x00\x08", 8);
	assert_int_equal(wire_parse_hdr(p, WIRE_MAX_FRAME, &h, &err), 0);
	assert_int_equal(h.type, WIRE_ACK);
	assert_int_equal(h.len, 8);
}

static void
assert_hdr_rejects(uint16_t magic, uint8_t version, uint8_t type,
    uint32_t len, uint32_t max, const char *want)
{
	uint8_t		 p[WIRE_HDR_LEN];
	struct wire_hdr	 h;
	const char	*err = NULL;

	mkhdr(p, magic, version, type, len);
	h.type = 0xee;
	h.len = 0xdeadbeef;
	assert_int_equal(wire_parse_hdr(p, max, &h, &err), -1);
	assert_non_null(err);
	assert_string_equal(err, want);
	assert_int_equal(h.type, 0xee);
	assert_int_equal(h.len, 0xdeadbeef);
}

static void
test_hdr_reject(void **state)
{
	static const uint32_t	min[] = { 0, 17, 16, 21, 21, 8, 4, 9, 3,
	    9, 8 };
	const char		*magic = "bad magic (not a labwatch peer)";
	const char		*version = "unknown protocol version";
	const char		*type = "unknown frame type";
	const char		*longer = "frame longer than the maximum";
	const char		*shorter = "frame shorter than its type's minimum";
	uint8_t			 t;

	(void)state;
	assert_hdr_rejects(0x574c, 1, WIRE_ACK, 8, WIRE_MAX_FRAME, magic);
	assert_hdr_rejects(0x0000, 1, WIRE_ACK, 8, WIRE_MAX_FRAME, magic);
	assert_hdr_rejects(0x4c58, 1, WIRE_ACK, 8, WIRE_MAX_FRAME, magic);
	assert_hdr_rejects(WIRE_MAGIC, 0, WIRE_ACK, 8, WIRE_MAX_FRAME, version);
	assert_hdr_rejects(WIRE_MAGIC, 2, WIRE_ACK, 8, WIRE_MAX_FRAME, version);
	assert_hdr_rejects(WIRE_MAGIC, 255, WIRE_ACK, 8, WIRE_MAX_FRAME,
	    version);
	assert_hdr_rejects(WIRE_MAGIC, 1, 0, 8, WIRE_MAX_FRAME, type);
	assert_hdr_rejects(WIRE_MAGIC, 1, WIRE_TYPE_MAX + 1, 8, WIRE_MAX_FRAME,
	    type);
	assert_hdr_rejects(WIRE_MAGIC, 1, 255, 8, WIRE_MAX_FRAME, type);
	assert_hdr_rejects(WIRE_MAGIC, 1, WIRE_RECORD, WIRE_MAX_FRAME + 1,
	    WIRE_MAX_FRAME, longer);
	assert_hdr_rejects(WIRE_MAGIC, 1, WIRE_RECORD, 0xffffffff,
	    WIRE_MAX_FRAME_LIMIT, longer);
	assert_hdr_rejects(WIRE_MAGIC, 1, WIRE_ACK, 100, 99, longer);
	for (t = 1; t <= WIRE_TYPE_MAX; t++) {
		assert_hdr_rejects(WIRE_MAGIC, 1, t, min[t] - 1,
		    WIRE_MAX_FRAME, shorter);
		assert_hdr_rejects(WIRE_MAGIC, 1, t, 0, WIRE_MAX_FRAME,
		    shorter);
	}
}

static void
test_type_name(void **state)
{
	(void)state;
	assert_string_equal(wire_type_name(0), "unknown");
	assert_string_equal(wire_type_name(WIRE_HELLO), "HELLO");
	assert_string_equal(wire_type_name(WIRE_WELCOME), "WELCOME");
	assert_string_equal(wire_type_name(WIRE_RECORD), "RECORD");
	assert_string_equal(wire_type_name(WIRE_HEARTBEAT), "HEARTBEAT");
	assert_string_equal(wire_type_name(WIRE_ACK), "ACK");
	assert_string_equal(wire_type_name(WIRE_BYE), "BYE");
	assert_string_equal(wire_type_name(WIRE_TYPE_MAX + 1), "unknown");
	assert_string_equal(wire_type_name(255), "unknown");
}

static void
test_record_bytes(void **state)
{
	static const uint8_t	 want[] = {
		0x4c, 0x57, 0x01, 0x03, 0x00, 0x00, 0x00, 0x28,
		0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 0, 2,
		0x00, 0x03, 'a', '.', 'b',
		0x00, 0x02,
		0x02, 0x00, 0x01, 'n', 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xfb,
		0x03, 0x00, 0x01, 'b', 0x01,
	};
	struct record		 r;
	struct buf		 b;

	(void)state;
	record_init(&r);
	buf_init(&b);
	record_begin(&r, "a.b");
	r.seq = 1;
	r.ts_us = 2;
	record_add_int(&r, "n", -5);
	record_add_bool(&r, "b", 1);
	wire_put_record(&b, WIRE_RECORD, &r);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	buf_free(&b);
	record_free(&r);
}

static void
round_trip(uint8_t type)
{
	struct record	 r, d;
	struct buf	 b;
	const char	*err = NULL;

	record_init(&r);
	record_init(&d);
	buf_init(&b);
	build_full(&r);
	encode(&b, type, &r);
	if (wire_get_record(b.data + WIRE_HDR_LEN, b.len - WIRE_HDR_LEN, &d,
	    &err) != 0)
		fail_msg("decode: %s", err);
	assert_ptr_equal(d.ext, b.data + WIRE_HDR_LEN);
	assert_records_equal(&r, &d);
	assert_full_values(&d);
	assert_full_values(&r);
	buf_free(&b);
	record_free(&d);
	record_free(&r);
}

static void
test_record_round_trip(void **state)
{
	(void)state;
	round_trip(WIRE_RECORD);
}

static void
test_heartbeat_round_trip(void **state)
{
	(void)state;
	round_trip(WIRE_HEARTBEAT);
}

static void
test_reencode(void **state)
{
	struct record	 r, d;
	struct buf	 a, b;
	const char	*err = NULL;

	(void)state;
	record_init(&r);
	record_init(&d);
	buf_init(&a);
	buf_init(&b);
	build_full(&r);
	encode(&a, WIRE_RECORD, &r);
	assert_int_equal(wire_get_record(a.data + WIRE_HDR_LEN,
	    a.len - WIRE_HDR_LEN, &d, &err), 0);
	/* A decoded record encodes from the frame bytes it points into. */
	wire_put_record(&b, WIRE_RECORD, &d);
	assert_int_equal(b.len, a.len);
	assert_memory_equal(b.data, a.data, a.len);
	buf_free(&a);
	buf_free(&b);
	record_free(&d);
	record_free(&r);
}

static void
test_record_truncated(void **state)
{
	struct record	 r, d;
	struct buf	 b;
	const uint8_t	*p;
	const char	*err;
	size_t		 plen, len;

	(void)state;
	record_init(&r);
	record_init(&d);
	buf_init(&b);
	build_full(&r);
	encode(&b, WIRE_RECORD, &r);
	p = b.data + WIRE_HDR_LEN;
	plen = b.len - WIRE_HDR_LEN;
	for (len = 0; len < plen; len++) {
		if (decode_exact(p, len, &d, &err) != -1)
			fail_msg("accepted a payload cut to %zu of %zu bytes",
			    len, plen);
		assert_non_null(err);
		assert_string_equal(err, ERR_SHORT);
	}
	assert_int_equal(decode_exact(p, plen, &d, &err), 0);
	buf_free(&b);
	record_free(&d);
	record_free(&r);
}

static void
test_record_trailing(void **state)
{
	struct record	 r;
	struct buf	 b;

	(void)state;
	record_init(&r);
	buf_init(&b);
	build_small(&r);
	encode(&b, WIRE_RECORD, &r);
	memmove(b.data, b.data + WIRE_HDR_LEN, b.len - WIRE_HDR_LEN);
	b.len -= WIRE_HDR_LEN;
	assert_accepts(&b);
	buf_add_u8(&b, 0);
	assert_rejects(&b, ERR_TRAILING);
	buf_free(&b);
	record_free(&r);
}

static void
test_event_names(void **state)
{
	static const char	*bad[] = {
		"", "A", "a..b", ".a", "a.", ".", "usb.Add", "a b", "a-b",
		"a/b", "\xc3\xa9",
	};
	static const char	*good[] = {
		"a", "0", "_", "usb.add", "a_b.c9.d", "x.y.z",
	};
	char			 name[RECORD_EVENT_MAX + 2];
	struct buf		 b;
	size_t			 i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		payload_head(&b, bad[i], strlen(bad[i]), 0);
		assert_rejects(&b, ERR_EVENT);
	}
	payload_head(&b, "a\0b", 3, 0);
	assert_rejects(&b, ERR_EVENT);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		payload_head(&b, good[i], strlen(good[i]), 0);
		assert_accepts(&b);
	}
	memset(name, 'a', sizeof(name));
	payload_head(&b, name, RECORD_EVENT_MAX, 0);
	assert_accepts(&b);
	payload_head(&b, name, RECORD_EVENT_MAX + 1, 0);
	assert_rejects(&b, ERR_EVENT);
	buf_free(&b);
}

static void
one_int_field(struct buf *b, const char *key, size_t klen)
{
	payload_head(b, "e", 1, 1);
	buf_add_u8(b, FIELD_INT);
	put_s16(b, key, klen);
	buf_add_u64(b, 9);
}

static void
test_keys(void **state)
{
	static const char	*bad[] = {
		"Key", "K", "", "a-b", "a.b", "a b", "\xc3\xa9", "a\n",
	};
	static const char	*reserved[] = { "ts", "host", "seq", "event" };
	static const char	*good[] = {
		"a", "_", "0", "key_1", "tsx", "hosts", "seq_", "events", "t",
	};
	char			 key[RECORD_KEY_MAX + 2];
	struct buf		 b;
	size_t			 i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		one_int_field(&b, bad[i], strlen(bad[i]));
		assert_rejects(&b, ERR_KEY);
	}
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		one_int_field(&b, reserved[i], strlen(reserved[i]));
		assert_rejects(&b, ERR_KEY);
	}
	one_int_field(&b, "a\0", 2);
	assert_rejects(&b, ERR_KEY);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		one_int_field(&b, good[i], strlen(good[i]));
		assert_accepts(&b);
	}
	memset(key, 'k', sizeof(key));
	one_int_field(&b, key, RECORD_KEY_MAX);
	assert_accepts(&b);
	one_int_field(&b, key, RECORD_KEY_MAX + 1);
	assert_rejects(&b, ERR_KEY);
	buf_free(&b);
}

static void
test_duplicate_keys(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	payload_head(&b, "e", 1, 2);
	field_head(&b, FIELD_INT, "a");
	buf_add_u64(&b, 1);
	field_head(&b, FIELD_STR, "a");
	put_s16(&b, "x", 1);
	assert_rejects(&b, ERR_DUP);

	payload_head(&b, "e", 1, 3);
	field_head(&b, FIELD_BOOL, "a");
	buf_add_u8(&b, 1);
	field_head(&b, FIELD_BOOL, "ab");
	buf_add_u8(&b, 1);
	field_head(&b, FIELD_BOOL, "a");
	buf_add_u8(&b, 0);
	assert_rejects(&b, ERR_DUP);

	/* A key that is a prefix of another is not a duplicate. */
	payload_head(&b, "e", 1, 2);
	field_head(&b, FIELD_BOOL, "ab");
	buf_add_u8(&b, 1);
	field_head(&b, FIELD_BOOL, "a");
	buf_add_u8(&b, 1);
	assert_accepts(&b);
	buf_free(&b);
}

static void
test_bool_values(void **state)
{
	struct record	 r;
	struct buf	 b;
	const char	*err = NULL;
	unsigned	 v;

	(void)state;
	record_init(&r);
	buf_init(&b);
	for (v = 0; v <= 255; v++) {
		payload_head(&b, "e", 1, 1);
		field_head(&b, FIELD_BOOL, "flag");
		buf_add_u8(&b, (uint8_t)v);
		if (v > 1) {
			assert_rejects(&b, ERR_BOOL);
			continue;
		}
		assert_int_equal(wire_get_record(b.data, b.len, &r, &err), 0);
		assert_int_equal(get_field(&r, "flag", FIELD_BOOL)->v.b, v);
	}
	buf_free(&b);
	record_free(&r);
}

static void
test_field_types(void **state)
{
	static const uint8_t	bad[] = { 0, 7, 8, 0x80, 255 };
	struct buf		b;
	size_t			i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(bad); i++) {
		payload_head(&b, "e", 1, 1);
		field_head(&b, bad[i], "k");
		buf_add_u64(&b, 0);
		assert_rejects(&b, ERR_TYPE);
	}
	buf_free(&b);
}

static void
many_fields(struct buf *b, unsigned n)
{
	char		key[16];
	unsigned	i;

	payload_head(b, "e", 1, (uint16_t)n);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "f%u", i);
		field_head(b, FIELD_BOOL, key);
		buf_add_u8(b, i & 1);
	}
}

static void
test_field_count(void **state)
{
	struct record	 r;
	struct buf	 b;
	const char	*err = NULL;

	(void)state;
	record_init(&r);
	buf_init(&b);
	many_fields(&b, RECORD_FIELDS_MAX);
	assert_int_equal(wire_get_record(b.data, b.len, &r, &err), 0);
	assert_int_equal(r.nfields, RECORD_FIELDS_MAX);
	assert_int_equal(get_field(&r, "f255", FIELD_BOOL)->v.b, 1);
	many_fields(&b, RECORD_FIELDS_MAX + 1);
	assert_rejects(&b, ERR_FIELDS);
	payload_head(&b, "e", 1, 0xffff);
	assert_rejects(&b, ERR_FIELDS);
	buf_free(&b);
	record_free(&r);
}

static void
add_empty_items(struct buf *b, unsigned n)
{
	unsigned	i;

	buf_add_u16(b, (uint16_t)n);
	for (i = 0; i < n; i++)
		buf_add_u16(b, 0);
}

static void
test_item_count(void **state)
{
	struct record	 r;
	struct buf	 b;
	const char	*err = NULL;

	(void)state;
	record_init(&r);
	buf_init(&b);
	payload_head(&b, "e", 1, 1);
	field_head(&b, FIELD_LIST, "l");
	add_empty_items(&b, RECORD_ITEMS_MAX);
	assert_int_equal(wire_get_record(b.data, b.len, &r, &err), 0);
	assert_int_equal(r.nitems, RECORD_ITEMS_MAX);
	assert_int_equal(get_field(&r, "l", FIELD_LIST)->v.list.n,
	    RECORD_ITEMS_MAX);

	payload_head(&b, "e", 1, 1);
	field_head(&b, FIELD_LIST, "l");
	add_empty_items(&b, RECORD_ITEMS_MAX + 1);
	assert_rejects(&b, ERR_ITEMS);

	/* The limit is over the whole record, not per list. */
	payload_head(&b, "e", 1, 2);
	field_head(&b, FIELD_LIST, "a");
	add_empty_items(&b, 4000);
	field_head(&b, FIELD_LIST, "b");
	add_empty_items(&b, RECORD_ITEMS_MAX - 4000);
	assert_accepts(&b);

	payload_head(&b, "e", 1, 2);
	field_head(&b, FIELD_LIST, "a");
	add_empty_items(&b, 4000);
	field_head(&b, FIELD_LIST, "b");
	add_empty_items(&b, RECORD_ITEMS_MAX - 4000 + 1);
	assert_rejects(&b, ERR_ITEMS);

	/* A count the payload cannot hold. */
	payload_head(&b, "e", 1, 1);
	field_head(&b, FIELD_LIST, "l");
	buf_add_u16(&b, 1000);
	buf_add_u16(&b, 0);
	assert_rejects(&b, ERR_SHORT);

	/* Enough bytes for the lengths, but an item runs past the end. */
	payload_head(&b, "e", 1, 1);
	field_head(&b, FIELD_LIST, "l");
	buf_add_u16(&b, 2);
	put_s16(&b, "ab", 2);
	buf_add_u16(&b, 5);
	buf_add(&b, "xyz", 3);
	assert_rejects(&b, ERR_SHORT);
	buf_free(&b);
	record_free(&r);
}

static void
test_string_past_end(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	payload_head(&b, "e", 1, 1);
	field_head(&b, FIELD_STR, "s");
	buf_add_u16(&b, 0xffff);
	buf_add(&b, "abc", 3);
	assert_rejects(&b, ERR_SHORT);

	payload_head(&b, "e", 1, 1);
	buf_add_u8(&b, FIELD_STR);
	buf_add_u16(&b, 10);
	buf_add(&b, "abc", 3);
	assert_rejects(&b, ERR_SHORT);

	/* More fields announced than present. */
	payload_head(&b, "e", 1, 2);
	field_head(&b, FIELD_INT, "i");
	buf_add_u64(&b, 3);
	assert_rejects(&b, ERR_SHORT);
	buf_free(&b);
}

static void
test_record_reuse(void **state)
{
	struct record	 full, small, d;
	struct buf	 bf, bs, bad;
	const char	*err = NULL;

	(void)state;
	record_init(&full);
	record_init(&small);
	record_init(&d);
	buf_init(&bf);
	buf_init(&bs);
	buf_init(&bad);
	build_full(&full);
	build_small(&small);
	encode(&bf, WIRE_RECORD, &full);
	encode(&bs, WIRE_HEARTBEAT, &small);

	/* A record built in its arena can be decoded into. */
	build_small(&d);
	assert_int_equal(wire_get_record(bf.data + WIRE_HDR_LEN,
	    bf.len - WIRE_HDR_LEN, &d, &err), 0);
	assert_records_equal(&full, &d);
	assert_full_values(&d);

	assert_int_equal(wire_get_record(bs.data + WIRE_HDR_LEN,
	    bs.len - WIRE_HDR_LEN, &d, &err), 0);
	assert_records_equal(&small, &d);
	assert_int_equal(d.nfields, 2);
	assert_int_equal(d.nitems, 1);
	assert_item(&d, get_field(&d, "ips", FIELD_LIST), 0, "10.0.0.1", 8);
	assert_null(record_get(&d, "tags"));

	/* A decode that fails half way leaves nothing behind. */
	payload_head(&bad, "e", 1, 2);
	field_head(&bad, FIELD_LIST, "ips");
	add_empty_items(&bad, 3);
	field_head(&bad, FIELD_BOOL, "ips");
	buf_add_u8(&bad, 1);
	assert_int_equal(wire_get_record(bad.data, bad.len, &d, &err), -1);
	assert_string_equal(err, ERR_DUP);

	assert_int_equal(wire_get_record(bf.data + WIRE_HDR_LEN,
	    bf.len - WIRE_HDR_LEN, &d, &err), 0);
	assert_records_equal(&full, &d);
	assert_full_values(&d);

	assert_int_equal(wire_get_record(bs.data + WIRE_HDR_LEN,
	    bs.len - WIRE_HDR_LEN, &d, &err), 0);
	assert_records_equal(&small, &d);

	/* After record_reset, record_begin builds in the arena again. */
	record_reset(&d);
	assert_null(d.ext);
	assert_int_equal(d.nfields, 0);
	assert_int_equal(d.nitems, 0);
	build_full(&d);
	assert_records_equal(&full, &d);

	buf_free(&bf);
	buf_free(&bs);
	buf_free(&bad);
	record_free(&full);
	record_free(&small);
	record_free(&d);
}

static void
test_hello(void **state)
{
	static const uint8_t	 want[] = {
		0x4c, 0x57, 0x01, 0x01, 0x00, 0x00, 0x00, 0x23,
		0x00, 0x05, 'p', 'c', '-', '0', '1',
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x00, 0x0e, 'l', 'a', 'b', 'w', 'a', 't', 'c', 'h', ' ',
		'0', '.', '1', '.', '0',
		0x00, 0x00, 0x00, 0x00,
	};
	struct wire_hello	 h;
	struct wire_hdr		 hdr;
	struct buf		 b;
	const char		*err = NULL;

	(void)state;
	buf_init(&b);
	wire_put_hello(&b, "pc-01", 0x0102030405060708ULL, "labwatch 0.1.0", 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	assert_int_equal(wire_parse_hdr(b.data, WIRE_MAX_FRAME, &hdr, &err), 0);
	assert_int_equal(hdr.type, WIRE_HELLO);
	assert_int_equal(hdr.len, b.len - WIRE_HDR_LEN);
	memset(&h, 0xa5, sizeof(h));
	assert_int_equal(wire_get_hello(b.data + WIRE_HDR_LEN, hdr.len, &h,
	    &err), 0);
	assert_int_equal(h.host_len, 5);
	assert_memory_equal(h.host, "pc-01", 5);
	assert_true(h.stream == 0x0102030405060708ULL);
	assert_int_equal(h.software_len, 14);
	assert_memory_equal(h.software, "labwatch 0.1.0", 14);
	assert_int_equal(h.caps, 0);

	/* An empty software string is allowed. */
	buf_reset(&b);
	wire_put_hello(&b, "a", 0, "", 0);
	assert_int_equal(wire_get_hello(b.data + WIRE_HDR_LEN,
	    b.len - WIRE_HDR_LEN, &h, &err), 0);
	assert_int_equal(h.host_len, 1);
	assert_int_equal(h.software_len, 0);
	buf_free(&b);
}

static int
hello_decode(const char *host, const char *software, const char **err)
{
	struct wire_hello	h;
	struct buf		b;
	int			rc;

	buf_init(&b);
	wire_put_hello(&b, host, 1, software, 0);
	*err = NULL;
	rc = wire_get_hello(b.data + WIRE_HDR_LEN, b.len - WIRE_HDR_LEN, &h,
	    err);
	buf_free(&b);
	return rc;
}

static void
test_hello_limits(void **state)
{
	char		 s[WIRE_TEXT_MAX + 2];
	const char	*err;

	(void)state;
	assert_int_equal(hello_decode("", "v", &err), -1);
	assert_string_equal(err, ERR_HOST);

	memset(s, 'h', sizeof(s));
	s[WIRE_HOST_MAX] = '\0';
	assert_int_equal(hello_decode(s, "v", &err), 0);
	s[WIRE_HOST_MAX] = 'h';
	s[WIRE_HOST_MAX + 1] = '\0';
	assert_int_equal(hello_decode(s, "v", &err), -1);
	assert_string_equal(err, ERR_HOST);

	memset(s, 'v', sizeof(s));
	s[WIRE_TEXT_MAX] = '\0';
	assert_int_equal(hello_decode("h", s, &err), 0);
	s[WIRE_TEXT_MAX] = 'v';
	s[WIRE_TEXT_MAX + 1] = '\0';
	assert_int_equal(hello_decode("h", s, &err), -1);
	assert_string_equal(err, "software version too long");
}

static void
test_welcome(void **state)
{
	static const uint8_t	 want[] = {
		0x4c, 0x57, 0x01, 0x02, 0x00, 0x00, 0x00, 0x10,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		0x00, 0x00, 0x75, 0x30,
		0x00, 0x01, 0x00, 0x00,
	};
	struct wire_welcome	 w = { UINT64_MAX - 1, 30000, 65536 }, d;
	struct wire_hdr		 hdr;
	struct buf		 b;
	const char		*err = NULL;

	(void)state;
	buf_init(&b);
	wire_put_welcome(&b, &w);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	assert_int_equal(wire_parse_hdr(b.data, WIRE_MAX_FRAME, &hdr, &err), 0);
	assert_int_equal(hdr.type, WIRE_WELCOME);
	memset(&d, 0, sizeof(d));
	assert_int_equal(wire_get_welcome(b.data + WIRE_HDR_LEN, hdr.len, &d,
	    &err), 0);
	assert_true(d.last_seq == UINT64_MAX - 1);
	assert_int_equal(d.heartbeat_ms, 30000);
	assert_int_equal(d.max_frame, 65536);
	buf_free(&b);
}

/* A payload limit under 1,024 would let the agent send no record. */
static void
test_welcome_small_frame(void **state)
{
	/* last_seq 0, heartbeat 30000, then max_frame 1023 and 1024. */
	static const uint8_t	 p1023[] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0x00, 0x00, 0x75, 0x30, 0x00, 0x00, 0x03, 0xff };
	static const uint8_t	 p1024[] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0x00, 0x00, 0x75, 0x30, 0x00, 0x00, 0x04, 0x00 };
	struct wire_welcome	 d;
	const char		*err = NULL;

	(void)state;
	assert_int_equal(wire_get_welcome(p1023, sizeof(p1023), &d, &err), -1);
	assert_string_equal(err, "max_frame below the minimum");
	assert_int_equal(wire_get_welcome(p1024, sizeof(p1024), &d, &err), 0);
	assert_int_equal(d.max_frame, 1024);
}

static void
test_ack(void **state)
{
	static const uint64_t	 seqs[] = { 0, 1, 0x8000000000000001ULL,
	    UINT64_MAX };
	static const uint8_t	 want[] = {
		0x4c, 0x57, 0x01, 0x05, 0x00, 0x00, 0x00, 0x08,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c,
	};
	struct wire_hdr		 hdr;
	struct buf		 b;
	const char		*err = NULL;
	uint64_t		 seq;
	size_t			 i;

	(void)state;
	buf_init(&b);
	wire_put_ack(&b, 300);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		buf_reset(&b);
		wire_put_ack(&b, seqs[i]);
		assert_int_equal(wire_parse_hdr(b.data, WIRE_MAX_FRAME, &hdr,
		    &err), 0);
		assert_int_equal(hdr.type, WIRE_ACK);
		seq = seqs[i] ^ 1;
		assert_int_equal(wire_get_ack(b.data + WIRE_HDR_LEN, hdr.len,
		    &seq, &err), 0);
		assert_true(seq == seqs[i]);
	}
	buf_free(&b);
}

static void
test_bye(void **state)
{
	static const uint8_t	 want[] = {
		0x4c, 0x57, 0x01, 0x06, 0x00, 0x00, 0x00, 0x07,
		0x00, 0x03, 0x00, 0x03, 'b', 'a', 'd',
	};
	char			 s[300];
	struct wire_bye		 d;
	struct wire_hdr		 hdr;
	struct buf		 b;
	const char		*err = NULL;

	(void)state;
	buf_init(&b);
	wire_put_bye(&b, BYE_BAD_HOST, "bad");
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	assert_int_equal(wire_parse_hdr(b.data, WIRE_MAX_FRAME, &hdr, &err), 0);
	assert_int_equal(hdr.type, WIRE_BYE);
	assert_int_equal(wire_get_bye(b.data + WIRE_HDR_LEN, hdr.len, &d, &err),
	    0);
	assert_int_equal(d.code, BYE_BAD_HOST);
	assert_int_equal(d.reason_len, 3);
	assert_memory_equal(d.reason, "bad", 3);

	buf_reset(&b);
	wire_put_bye(&b, BYE_SHUTDOWN, "");
	assert_int_equal(b.len, WIRE_HDR_LEN + 4);
	assert_int_equal(wire_get_bye(b.data + WIRE_HDR_LEN, 4, &d, &err), 0);
	assert_int_equal(d.code, BYE_SHUTDOWN);
	assert_int_equal(d.reason_len, 0);

	/* The encoder cuts a long reason to what the decoder accepts. */
	memset(s, 'r', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	buf_reset(&b);
	wire_put_bye(&b, BYE_STORAGE, s);
	assert_int_equal(wire_get_bye(b.data + WIRE_HDR_LEN,
	    b.len - WIRE_HDR_LEN, &d, &err), 0);
	assert_int_equal(d.code, BYE_STORAGE);
	assert_int_equal(d.reason_len, WIRE_TEXT_MAX);

	buf_reset(&b);
	buf_add_u16(&b, BYE_PROTOCOL);
	put_s16(&b, s, WIRE_TEXT_MAX + 1);
	assert_int_equal(wire_get_bye(b.data, b.len, &d, &err), -1);
	assert_string_equal(err, "reason too long");
	buf_free(&b);
}

/* Calls the decoder for type on len bytes copied to an exact buffer. */
static int
decode_type(uint8_t type, const uint8_t *p, size_t len, const char **err)
{
	struct wire_hello	 h;
	struct wire_welcome	 w;
	struct wire_bye		 y;
	struct wire_enroll	 e;
	struct wire_command	 cmd;
	struct wire_result	 res;
	struct record		 r;
	const uint8_t		*pem;
	uint16_t		 pem_len;
	uint64_t		 seq;
	uint8_t			*copy;
	int			 rc = -2;

	copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, p, len);
	*err = NULL;
	switch (type) {
	case WIRE_HELLO:
		rc = wire_get_hello(copy, len, &h, err);
		break;
	case WIRE_WELCOME:
		rc = wire_get_welcome(copy, len, &w, err);
		break;
	case WIRE_ACK:
		rc = wire_get_ack(copy, len, &seq, err);
		break;
	case WIRE_BYE:
		rc = wire_get_bye(copy, len, &y, err);
		break;
	case WIRE_ENROLL:
		rc = wire_get_enroll(copy, len, &e, err);
		break;
	case WIRE_ENROLLED:
		rc = wire_get_enrolled(copy, len, &pem, &pem_len, err);
		break;
	case WIRE_COMMAND:
		rc = wire_get_command(copy, len, &cmd, err);
		break;
	case WIRE_RESULT:
		rc = wire_get_result(copy, len, &res, err);
		break;
	case WIRE_RECORD:
	case WIRE_HEARTBEAT:
		record_init(&r);
		rc = wire_get_record(copy, len, &r, err);
		record_free(&r);
		break;
	}
	free(copy);
	return rc;
}

/* One ENROLL and one ENROLLED frame. */
static void
put_enrolment(struct buf *b)
{
	struct wire_enroll	e = {
		(const uint8_t *)"pc07", 4, (const uint8_t *)"s3cret", 6,
		(const uint8_t *)"\x30\x82\x01", 3,
	};

	wire_put_enroll(b, &e);
	wire_put_enrolled(b, "-----BEGIN CERTIFICATE-----\n", 28);
}

static void
test_control_truncated(void **state)
{
	static const uint8_t	 types[] = { WIRE_HELLO, WIRE_WELCOME,
	    WIRE_ACK, WIRE_BYE, WIRE_ENROLL, WIRE_ENROLLED, WIRE_COMMAND,
	    WIRE_RESULT };
	static const char *const args[] = { "02:00:00:00:00:07",
	    "10.0.0.0/24" };
	struct wire_welcome	 w = { 5, 1000, 4096 };
	struct wire_hdr		 hdr;
	struct buf		 b;
	const uint8_t		*p;
	const char		*err;
	size_t			 i, len;

	(void)state;
	buf_init(&b);
	wire_put_hello(&b, "pc-01", 3, "labwatch", 0);
	wire_put_welcome(&b, &w);
	wire_put_ack(&b, 77);
	wire_put_bye(&b, BYE_TIMEOUT, "idle");
	put_enrolment(&b);
	wire_put_command(&b, 7, "wake", 2, args);
	wire_put_result(&b, 7, RESULT_OK, "sent");
	p = b.data;
	for (i = 0; i < sizeof(types); i++) {
		assert_int_equal(wire_parse_hdr(p, WIRE_MAX_FRAME, &hdr, &err),
		    0);
		assert_int_equal(hdr.type, types[i]);
		p += WIRE_HDR_LEN;
		for (len = 0; len < hdr.len; len++) {
			if (decode_type(hdr.type, p, len, &err) != -1)
				fail_msg("%s cut to %zu of %u bytes accepted",
				    wire_type_name(hdr.type), len, hdr.len);
			assert_string_equal(err, ERR_SHORT);
		}
		assert_int_equal(decode_type(hdr.type, p, hdr.len, &err), 0);
		p += hdr.len;
	}
	assert_ptr_equal(p, b.data + b.len);
	buf_free(&b);
}

static void
test_control_trailing(void **state)
{
	static const uint8_t	 types[] = { WIRE_HELLO, WIRE_WELCOME,
	    WIRE_ACK, WIRE_BYE, WIRE_ENROLL, WIRE_ENROLLED };
	struct wire_welcome	 w = { 5, 1000, 4096 };
	struct buf		 b;
	const char		*err;
	size_t			 i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(types); i++) {
		buf_reset(&b);
		switch (types[i]) {
		case WIRE_HELLO:
			wire_put_hello(&b, "pc-01", 3, "labwatch", 0);
			break;
		case WIRE_WELCOME:
			wire_put_welcome(&b, &w);
			break;
		case WIRE_ACK:
			wire_put_ack(&b, 77);
			break;
		case WIRE_BYE:
			wire_put_bye(&b, BYE_TIMEOUT, "idle");
			break;
		case WIRE_ENROLL:
		case WIRE_ENROLLED:
			put_enrolment(&b);
			/* Keep the one frame of this type. */
			if (types[i] == WIRE_ENROLLED) {
				size_t	n = WIRE_HDR_LEN + 2 + 4 + 2 + 6 + 2 + 3;

				memmove(b.data, b.data + n, b.len - n);
				b.len -= n;
			} else
				b.len = WIRE_HDR_LEN + 2 + 4 + 2 + 6 + 2 + 3;
			break;
		}
		buf_add_u8(&b, 0);
		assert_int_equal(decode_type(types[i], b.data + WIRE_HDR_LEN,
		    b.len - WIRE_HDR_LEN, &err), -1);
		assert_string_equal(err, ERR_TRAILING);
	}
	buf_free(&b);
}

static void
test_frame_stream(void **state)
{
	static const uint8_t	 types[] = { WIRE_HELLO, WIRE_RECORD,
	    WIRE_HEARTBEAT, WIRE_ACK };
	struct record		 r, d;
	struct wire_hdr		 hdr;
	struct buf		 b;
	const uint8_t		*p, *end;
	const char		*err = NULL;
	uint64_t		 seq;
	int			 n = 0;

	(void)state;
	record_init(&r);
	record_init(&d);
	buf_init(&b);
	build_small(&r);
	wire_put_hello(&b, "pc-01", 9, "v", 0);
	wire_put_record(&b, WIRE_RECORD, &r);
	wire_put_record(&b, WIRE_HEARTBEAT, &r);
	wire_put_ack(&b, 7);
	p = b.data;
	end = b.data + b.len;
	while (p < end) {
		assert_true((size_t)(end - p) >= WIRE_HDR_LEN);
		assert_int_equal(wire_parse_hdr(p, WIRE_MAX_FRAME, &hdr, &err),
		    0);
		p += WIRE_HDR_LEN;
		assert_true(hdr.len <= (size_t)(end - p));
		assert_true(n < 4);
		assert_int_equal(hdr.type, types[n]);
		switch (hdr.type) {
		case WIRE_RECORD:
		case WIRE_HEARTBEAT:
			assert_int_equal(wire_get_record(p, hdr.len, &d, &err),
			    0);
			assert_records_equal(&r, &d);
			break;
		case WIRE_ACK:
			assert_int_equal(wire_get_ack(p, hdr.len, &seq, &err),
			    0);
			assert_true(seq == 7);
			break;
		}
		p += hdr.len;
		n++;
	}
	assert_int_equal(n, 4);
	buf_free(&b);
	record_free(&d);
	record_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_accept),
		cmocka_unit_test(test_hdr_reject),
		cmocka_unit_test(test_type_name),
		cmocka_unit_test(test_record_bytes),
		cmocka_unit_test(test_record_round_trip),
		cmocka_unit_test(test_heartbeat_round_trip),
		cmocka_unit_test(test_reencode),
		cmocka_unit_test(test_record_truncated),
		cmocka_unit_test(test_record_trailing),
		cmocka_unit_test(test_event_names),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_bool_values),
		cmocka_unit_test(test_field_types),
		cmocka_unit_test(test_field_count),
		cmocka_unit_test(test_item_count),
		cmocka_unit_test(test_string_past_end),
		cmocka_unit_test(test_record_reuse),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_hello_limits),
		cmocka_unit_test(test_welcome),
		cmocka_unit_test(test_welcome_small_frame),
		cmocka_unit_test(test_ack),
		cmocka_unit_test(test_bye),
		cmocka_unit_test(test_control_truncated),
		cmocka_unit_test(test_control_trailing),
		cmocka_unit_test(test_frame_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
