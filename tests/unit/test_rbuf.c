/* SPDX-License-Identifier: ISC */
/* Unit tests for the bounded reader (common/rbuf.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "rbuf.h"

static const uint8_t seq8[] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
};

static const uint8_t high8[] = {
	0xff, 0xfe, 0x80, 0x01, 0xa5, 0x5a, 0x00, 0x7f,
};

static void
test_init_left(void **state)
{
	struct rbuf	rb;

	(void)state;
	rbuf_init(&rb, seq8, sizeof(seq8));
	assert_ptr_equal(rb.data, seq8);
	assert_int_equal(rb.len, 8);
	assert_int_equal(rb.off, 0);
	assert_int_equal(rbuf_left(&rb), 8);
	rbuf_init(&rb, NULL, 0);
	assert_int_equal(rbuf_left(&rb), 0);
}

static void
test_u8(void **state)
{
	struct rbuf	rb;
	uint8_t		v = 0x33;

	(void)state;
	rbuf_init(&rb, high8, 1);
	assert_int_equal(rbuf_get_u8(&rb, &v), 0);
	assert_int_equal(v, 0xff);
	assert_int_equal(rb.off, 1);
	assert_int_equal(rbuf_left(&rb), 0);

	v = 0x33;
	assert_int_equal(rbuf_get_u8(&rb, &v), -1);
	assert_int_equal(rb.off, 1);
	assert_int_equal(v, 0x33);

	rbuf_init(&rb, high8, 0);
	assert_int_equal(rbuf_get_u8(&rb, &v), -1);
	assert_int_equal(rb.off, 0);
}

static void
test_u16(void **state)
{
	struct rbuf	rb;
	uint16_t	v = 0x3333;

	(void)state;
	rbuf_init(&rb, seq8, 2);
	assert_int_equal(rbuf_get_u16(&rb, &v), 0);
	assert_int_equal(v, 0x0102);
	assert_int_equal(rb.off, 2);

	rbuf_init(&rb, high8, 2);
	assert_int_equal(rbuf_get_u16(&rb, &v), 0);
	assert_int_equal(v, 0xfffe);

	v = 0x3333;
	rbuf_init(&rb, seq8, 1);
	assert_int_equal(rbuf_get_u16(&rb, &v), -1);
	assert_int_equal(rb.off, 0);
	assert_int_equal(v, 0x3333);

	/* Short in the middle of the data: offset stays where it was. */
	rbuf_init(&rb, seq8, 3);
	assert_int_equal(rbuf_skip(&rb, 2), 0);
	assert_int_equal(rbuf_get_u16(&rb, &v), -1);
	assert_int_equal(rb.off, 2);
	assert_int_equal(v, 0x3333);
}

static void
test_u32(void **state)
{
	struct rbuf	rb;
	uint32_t	v = 0x33333333;

	(void)state;
	rbuf_init(&rb, seq8, 4);
	assert_int_equal(rbuf_get_u32(&rb, &v), 0);
	assert_int_equal(v, 0x01020304);
	assert_int_equal(rb.off, 4);

	rbuf_init(&rb, high8, 4);
	assert_int_equal(rbuf_get_u32(&rb, &v), 0);
	assert_int_equal(v, 0xfffe8001);

	v = 0x33333333;
	rbuf_init(&rb, seq8, 3);
	assert_int_equal(rbuf_get_u32(&rb, &v), -1);
	assert_int_equal(rb.off, 0);
	assert_int_equal(v, 0x33333333);

	rbuf_init(&rb, seq8, 8);
	assert_int_equal(rbuf_skip(&rb, 5), 0);
	assert_int_equal(rbuf_get_u32(&rb, &v), -1);
	assert_int_equal(rb.off, 5);
}

static void
test_u64(void **state)
{
	struct rbuf	rb;
	uint64_t	v = 0x3333333333333333ULL;

	(void)state;
	rbuf_init(&rb, seq8, 8);
	assert_int_equal(rbuf_get_u64(&rb, &v), 0);
	assert_true(v == 0x0102030405060708ULL);
	assert_int_equal(rb.off, 8);

	rbuf_init(&rb, high8, 8);
	assert_int_equal(rbuf_get_u64(&rb, &v), 0);
	assert_true(v == 0xfffe8001a55a007fULL);

	v = 0x3333333333333333ULL;
	rbuf_init(&rb, seq8, 7);
	assert_int_equal(rbuf_get_u64(&rb, &v), -1);
	assert_int_equal(rb.off, 0);
	assert_true(v == 0x3333333333333333ULL);

	/* Four bytes are there: the reader must not take half a u64. */
	rbuf_init(&rb, seq8, 8);
	assert_int_equal(rbuf_skip(&rb, 1), 0);
	assert_int_equal(rbuf_get_u64(&rb, &v), -1);
	assert_int_equal(rb.off, 1);
	assert_int_equal(rbuf_left(&rb), 7);
}

static void
test_skip(void **state)
{
	struct rbuf	rb;

	(void)state;
	rbuf_init(&rb, seq8, 8);
	assert_int_equal(rbuf_skip(&rb, 0), 0);
	assert_int_equal(rb.off, 0);
	assert_int_equal(rbuf_skip(&rb, 3), 0);
	assert_int_equal(rb.off, 3);
	assert_int_equal(rbuf_skip(&rb, 6), -1);
	assert_int_equal(rb.off, 3);
	assert_int_equal(rbuf_skip(&rb, SIZE_MAX), -1);
	assert_int_equal(rb.off, 3);
	assert_int_equal(rbuf_skip(&rb, 5), 0);
	assert_int_equal(rbuf_left(&rb), 0);
	assert_int_equal(rbuf_skip(&rb, 1), -1);
	assert_int_equal(rb.off, 8);
}

static void
test_ptr(void **state)
{
	struct rbuf	 rb;
	const uint8_t	*p = NULL;

	(void)state;
	rbuf_init(&rb, seq8, 8);
	assert_int_equal(rbuf_skip(&rb, 2), 0);
	assert_int_equal(rbuf_get_ptr(&rb, 6, &p), 0);
	assert_ptr_equal(p, seq8 + 2);
	assert_int_equal(rb.off, 8);

	p = NULL;
	rbuf_init(&rb, seq8, 8);
	assert_int_equal(rbuf_skip(&rb, 2), 0);
	assert_int_equal(rbuf_get_ptr(&rb, 7, &p), -1);
	assert_null(p);
	assert_int_equal(rb.off, 2);
	assert_int_equal(rbuf_get_ptr(&rb, SIZE_MAX, &p), -1);
	assert_int_equal(rb.off, 2);

	assert_int_equal(rbuf_get_ptr(&rb, 0, &p), 0);
	assert_ptr_equal(p, seq8 + 2);
	assert_int_equal(rb.off, 2);
}

static void
test_str16(void **state)
{
	static const uint8_t	 s[] = { 0x00, 0x03, 'a', 0x00, 0xff, 'z' };
	static const uint8_t	 empty[] = { 0x00, 0x00 };
	struct rbuf		 rb;
	const uint8_t		*p = NULL;
	uint16_t		 len = 0;

	(void)state;
	rbuf_init(&rb, s, 5);
	assert_int_equal(rbuf_get_str16(&rb, &p, &len), 0);
	assert_int_equal(len, 3);
	assert_ptr_equal(p, s + 2);
	assert_memory_equal(p, "a\0\xff", 3);
	assert_int_equal(rb.off, 5);

	rbuf_init(&rb, empty, 2);
	assert_int_equal(rbuf_get_str16(&rb, &p, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(rb.off, 2);
}

static void
test_str16_short(void **state)
{
	static const uint8_t	 s[] = { 'x', 0x00, 0x03, 'a', 'b' };
	static const uint8_t	 big[] = { 0xff, 0xff, 'a' };
	struct rbuf		 rb;
	const uint8_t		*p;
	uint16_t		 len;
	uint8_t			 c;

	(void)state;
	/* The length says 3, only 2 bytes follow. */
	rbuf_init(&rb, s, sizeof(s));
	assert_int_equal(rbuf_skip(&rb, 1), 0);
	assert_int_equal(rbuf_get_str16(&rb, &p, &len), -1);
	assert_int_equal(rb.off, 1);
	assert_int_equal(rbuf_left(&rb), 4);

	/* Only half of the length prefix. */
	rbuf_init(&rb, s, 2);
	assert_int_equal(rbuf_skip(&rb, 1), 0);
	assert_int_equal(rbuf_get_str16(&rb, &p, &len), -1);
	assert_int_equal(rb.off, 1);

	rbuf_init(&rb, big, sizeof(big));
	assert_int_equal(rbuf_get_str16(&rb, &p, &len), -1);
	assert_int_equal(rb.off, 0);

	/* The same reader still works after the failure. */
	rbuf_init(&rb, s, sizeof(s));
	assert_int_equal(rbuf_get_str16(&rb, &p, &len), -1);
	assert_int_equal(rb.off, 0);
	assert_int_equal(rbuf_get_u8(&rb, &c), 0);
	assert_int_equal(c, 'x');
}

static void
test_sequence(void **state)
{
	static const uint8_t	 msg[] = {
		0x4c, 0x57, 0x01, 0x03, 0x00, 0x00, 0x00, 0x2a,
		0x00, 0x02, 'h', 'i', 0x09,
	};
	struct rbuf		 rb;
	const uint8_t		*p;
	uint32_t		 u32;
	uint16_t		 u16, len;
	uint8_t			 u8;

	(void)state;
	rbuf_init(&rb, msg, sizeof(msg));
	assert_int_equal(rbuf_get_u16(&rb, &u16), 0);
	assert_int_equal(u16, 0x4c57);
	assert_int_equal(rbuf_get_u8(&rb, &u8), 0);
	assert_int_equal(u8, 1);
	assert_int_equal(rbuf_get_u8(&rb, &u8), 0);
	assert_int_equal(u8, 3);
	assert_int_equal(rbuf_get_u32(&rb, &u32), 0);
	assert_int_equal(u32, 42);
	assert_int_equal(rbuf_get_str16(&rb, &p, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(p, "hi", 2);
	assert_int_equal(rbuf_left(&rb), 1);
	assert_int_equal(rbuf_get_u16(&rb, &u16), -1);
	assert_int_equal(rbuf_get_u8(&rb, &u8), 0);
	assert_int_equal(u8, 9);
	assert_int_equal(rbuf_left(&rb), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_left),
		cmocka_unit_test(test_u8),
		cmocka_unit_test(test_u16),
		cmocka_unit_test(test_u32),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_skip),
		cmocka_unit_test(test_ptr),
		cmocka_unit_test(test_str16),
		cmocka_unit_test(test_str16_short),
		cmocka_unit_test(test_sequence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
