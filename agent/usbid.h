/* SPDX-License-Identifier: ISC */
/*
 * USB identity, pure: the stable device id, whether a serial number can be
 * trusted to tell devices apart, and the interface classes of a device read
 * from its raw descriptors or from udev's ID_USB_INTERFACES.  No I/O.
 */
#ifndef LABWATCH_USBID_H
#define LABWATCH_USBID_H

#include <stddef.h>
#include <stdint.h>

#define USBID_IFACES_MAX	32	/* distinct class triples kept */
#define USBID_LEN		16	/* hex digits of a device id */

struct usbid_iface {
	uint8_t	cls;
	uint8_t	subcls;
	uint8_t	proto;
};

/* FNV-1a, 64 bits, over len bytes. */
uint64_t usbid_hash(const void *, size_t);

/*
 * Is this serial number worth trusting as unique: at least 4 bytes, not one
 * repeated character, not a run of consecutive digits and letters like
 * "0123456789ABCDEF" that cheap devices share by the thousand.
 */
int	usbid_serial_ok(const char *);

/*
 * Writes the device id, USBID_LEN hex digits and a NUL: the hash of
 * "vendor:product:serial" when the serial is trustworthy, otherwise of
 * "vendor:product:serial@port" (the physical port path, e.g. "1-1.4").
 * Returns 1 when the port went into it, 0 when it did not.
 */
int	usbid_device_id(char [USBID_LEN + 1], const char *, const char *,
	    const char *, const char *);

/*
 * Reads the interface descriptors out of a device's raw descriptors (the
 * sysfs "descriptors" file: the device descriptor, then every configuration
 * with its interfaces and endpoints).  Each descriptor's length byte is
 * checked against what is left; a zero or short length ends the walk.
 * Stores at most max distinct triples in out, in order of appearance.
 * Returns how many, or -1 when not even the device descriptor is there.
 */
int	usbid_parse_descriptors(const uint8_t *, size_t, struct usbid_iface *,
	    int);

/*
 * Reads udev's ID_USB_INTERFACES, ":030101:080650:", six hex digits per
 * interface.  Malformed groups are skipped.  Returns how many triples were
 * stored (at most max, distinct).
 */
int	usbid_parse_interfaces(const char *, struct usbid_iface *, int);

/* Does any triple have class c? */
int	usbid_has_class(const struct usbid_iface *, int, uint8_t);

#endif
