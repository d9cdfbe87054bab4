/* SPDX-License-Identifier: ISC */
/* Unit tests for the pure USB identity code (agent/usbid.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "usbid.h"

/* The SanDisk stick of tests/fixtures/usb-stick.umockdev. */
static const uint8_t stick[] = {
	0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0x81, 0x07, 0x67,
	0x55, 0x00, 0x01, 0x01, 0x02, 0x03, 0x01,
	0x09, 0x02, 0x20, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32,
	0x09, 0x04, 0x00, 0x00, 0x02, 0x08, 0x06, 0x50, 0x00,
	0x07, 0x05, 0x81, 0x02, 0x00, 0x02, 0x00,
	0x07, 0x05, 0x02, 0x02, 0x00, 0x02, 0x01,
};

static void
test_hash(void **state)
{
	(void)state;
	/* FNV-1a 64 reference values. */
	assert_true(usbid_hash("", 0) == 0xcbf29ce484222325ULL);
	assert_true(usbid_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
}

static void
test_serial_ok(void **state)
{
	(void)state;
	assert_true(usbid_serial_ok("4C530001230515117093"));
	assert_true(usbid_serial_ok("C767F1C714174C309255F70E4A7B2EE2"));
	assert_false(usbid_serial_ok(""));
	assert_false(usbid_serial_ok("123"));
	assert_false(usbid_serial_ok("00000000"));
	assert_false(usbid_serial_ok("0123456789ABCDEF"));
	assert_false(usbid_serial_ok("123456789"));
	assert_true(usbid_serial_ok("1235"));
}

static void
test_device_id(void **state)
{
	char	id[USBID_LEN + 1];

	(void)state;
	assert_int_equal(usbid_device_id(id, "0781", "5567",
	    "4C530001230515117093", "2-3"), 0);
	assert_int_equal(strlen(id), USBID_LEN);
	/* The serial decides: another port, the same id. */
	{
		char	other[USBID_LEN + 1];

		usbid_device_id(other, "0781", "5567",
		    "4C530001230515117093", "1-4.2");
		assert_string_equal(id, other);
	}
	/* No trustworthy serial: the port goes in, ports tell apart. */
	assert_int_equal(usbid_device_id(id, "0fce", "0166",
	    "0123456789ABCDEF", "1-1.5.2.4"), 1);
	{
		char	other[USBID_LEN + 1];

		usbid_device_id(other, "0fce", "0166", "0123456789ABCDEF",
		    "1-1.5.2.3");
		assert_string_not_equal(id, other);
	}
}

static void
test_descriptors(void **state)
{
	struct usbid_iface	ifs[USBID_IFACES_MAX];
	uint8_t			bad[sizeof(stick)];
	size_t			cut;

	(void)state;
	assert_int_equal(usbid_parse_descriptors(stick, sizeof(stick), ifs,
	    USBID_IFACES_MAX), 1);
	assert_int_equal(ifs[0].cls, 0x08);
	assert_int_equal(ifs[0].subcls, 0x06);
	assert_int_equal(ifs[0].proto, 0x50);
	assert_true(usbid_has_class(ifs, 1, 0x08));
	assert_false(usbid_has_class(ifs, 1, 0x03));
	/* Every truncation parses without reading past the end. */
	for (cut = 0; cut < sizeof(stick); cut++)
		assert_true(usbid_parse_descriptors(stick, cut, ifs,
		    USBID_IFACES_MAX) <= 1);
	assert_int_equal(usbid_parse_descriptors(stick, 17, ifs, 4), -1);
	/* A zero length byte ends the walk instead of looping. */
	memcpy(bad, stick, sizeof(bad));
	bad[18] = 0;
	assert_int_equal(usbid_parse_descriptors(bad, sizeof(bad), ifs, 4), 0);
	/* A length past the end stops there. */
	bad[18] = 0xff;
	assert_int_equal(usbid_parse_descriptors(bad, sizeof(bad), ifs, 4), 0);
	/* max 0 keeps nothing. */
	assert_int_equal(usbid_parse_descriptors(stick, sizeof(stick), ifs,
	    0), 0);
}

static void
test_interfaces_prop(void **state)
{
	struct usbid_iface	ifs[4];

	(void)state;
	assert_int_equal(usbid_parse_interfaces(":030101:030000:", ifs, 4), 2);
	assert_int_equal(ifs[0].cls, 3);
	assert_int_equal(ifs[0].proto, 1);
	assert_int_equal(ifs[1].subcls, 0);
	/* Duplicates collapse, junk is skipped, the cap holds. */
	assert_int_equal(usbid_parse_interfaces(":080650:080650:zz0000:0806:"
	    "ffffff", ifs, 4), 2);
	assert_int_equal(ifs[1].cls, 0xff);
	assert_int_equal(usbid_parse_interfaces(":010101:020202:030303:"
	    "040404:050505:", ifs, 4), 4);
	assert_int_equal(usbid_parse_interfaces("", ifs, 4), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_serial_ok),
		cmocka_unit_test(test_device_id),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_interfaces_prop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
