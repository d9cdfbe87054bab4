/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the USB identity parsers: the input is a device's
 * raw sysfs "descriptors" file, and also (NUL-terminated) an
 * ID_USB_INTERFACES value and a serial number.  Both parsers must stay in
 * bounds, keep within max and return distinct triples.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "usbid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Aborts unless the n triples are distinct and n is within [lo, max]. */
static void
check_ifaces(const struct usbid_iface *ifs, int n, int lo, int max)
{
	int	i, j;

	if (n < lo || n > max)
		abort();
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (memcmp(&ifs[i], &ifs[j], sizeof(ifs[i])) == 0)
				abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct usbid_iface	 ifs[4];
	char			 id[USBID_LEN + 1];
	char			*s;
	uint8_t			*copy;

	copy = malloc(len ? len : 1);
	memcpy(copy, data, len);
	check_ifaces(ifs, usbid_parse_descriptors(copy, len, ifs, 4), -1, 4);
	free(copy);
	s = malloc(len + 1);
	memcpy(s, data, len);
	s[len] = '\0';
	check_ifaces(ifs, usbid_parse_interfaces(s, ifs, 4), 0, 4);
	(void)usbid_serial_ok(s);
	usbid_device_id(id, "0781", "5567", s, s);
	if (strlen(id) != USBID_LEN)
		abort();
	free(s);
	return 0;
}
