/* SPDX-License-Identifier: ISC */
/* USB identity, pure: device ids, serial checks, interface classes. */
#include <stdio.h>
#include <string.h>

#include "rbuf.h"
#include "usbid.h"

#define DT_DEVICE	1
#define DT_INTERFACE	4

uint64_t
usbid_hash(const void *p, size_t len)
{
	const uint8_t	*s = p;
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int
xdigit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

int
usbid_serial_ok(const char *s)
{
	size_t	len = strlen(s), i;
	int	same = 1, run = 1;

	if (len < 4)
		return 0;
	for (i = 1; i < len; i++) {
		if (s[i] != s[0])
			same = 0;
		if (xdigit_value((unsigned char)s[i]) == -1 ||
		    xdigit_value((unsigned char)s[i]) !=
		    xdigit_value((unsigned char)s[i - 1]) + 1)
			run = 0;
	}
	return !same && !run;
}

int
usbid_device_id(char out[USBID_LEN + 1], const char *vendor,
    const char *product, const char *serial, const char *port)
{
	char	 key[1024];
	int	 with_port = !usbid_serial_ok(serial);
	int	 n;

	n = snprintf(key, sizeof(key), "%s:%s:%s%s%s", vendor, product,
	    serial, with_port ? "@" : "", with_port ? port : "");
	if (n < 0)
		n = 0;
	else if ((size_t)n >= sizeof(key))
		n = sizeof(key) - 1;
	snprintf(out, USBID_LEN + 1, "%016llx",
	    (unsigned long long)usbid_hash(key, (size_t)n));
	return with_port;
}

/* Adds a triple unless it is there already or out is full. */
static int
iface_add(struct usbid_iface *out, int n, int max, uint8_t c, uint8_t s,
    uint8_t p)
{
	int	i;

	for (i = 0; i < n; i++)
		if (out[i].cls == c && out[i].subcls == s &&
		    out[i].proto == p)
			return n;
	if (n == max)
		return n;
	out[n].cls = c;
	out[n].subcls = s;
	out[n].proto = p;
	return n + 1;
}

int
usbid_has_class(const struct usbid_iface *ifs, int n, uint8_t c)
{
	int	i;

	for (i = 0; i < n; i++)
		if (ifs[i].cls == c)
			return 1;
	return 0;
}

int
usbid_parse_descriptors(const uint8_t *data, size_t len,
    struct usbid_iface *out, int max)
{
	struct rbuf	 rb, d;
	const uint8_t	*p;
	uint8_t		 dlen, type, c, s, pr;
	int		 n = 0;

	rbuf_init(&rb, data, len);
	if (rbuf_get_u8(&rb, &dlen) == -1 || dlen < 18 ||
	    rbuf_get_u8(&rb, &type) == -1 || type != DT_DEVICE ||
	    rbuf_skip(&rb, dlen - 2) == -1)
		return -1;
	/* Each pass eats at least two bytes, so the loop ends. */
	while (rbuf_left(&rb) >= 2) {
		if (rbuf_get_u8(&rb, &dlen) == -1 || dlen < 2 ||
		    rbuf_get_u8(&rb, &type) == -1 ||
		    rbuf_get_ptr(&rb, dlen - 2, &p) == -1)
			break;
		if (type != DT_INTERFACE || dlen < 9)
			continue;
		/* bInterfaceNumber, bAlternateSetting, bNumEndpoints, then
		 * class, subclass, protocol. */
		rbuf_init(&d, p, dlen - 2);
		if (rbuf_skip(&d, 3) == -1 || rbuf_get_u8(&d, &c) == -1 ||
		    rbuf_get_u8(&d, &s) == -1 || rbuf_get_u8(&d, &pr) == -1)
			break;
		n = iface_add(out, n, max, c, s, pr);
	}
	return n;
}

int
usbid_parse_interfaces(const char *s, struct usbid_iface *out, int max)
{
	int	n = 0, i, v[6];

	while (*s != '\0') {
		if (*s == ':') {
			s++;
			continue;
		}
		for (i = 0; i < 6 && s[i] != '\0'; i++)
			if ((v[i] = xdigit_value((unsigned char)s[i])) == -1 ||
			    v[i] > 15)
				break;
		if (i == 6 && (s[6] == ':' || s[6] == '\0'))
			n = iface_add(out, n, max, (uint8_t)(v[0] << 4 | v[1]),
			    (uint8_t)(v[2] << 4 | v[3]),
			    (uint8_t)(v[4] << 4 | v[5]));
		while (*s != '\0' && *s != ':')
			s++;
	}
	return n;
}
