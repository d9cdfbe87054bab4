/* SPDX-License-Identifier: ISC */
/* Taking whole frames out of a libevent input buffer. */
#include "wire_ev.h"

int
wire_ev_next(struct evbuffer *in, uint32_t max, struct wire_hdr *h,
    const uint8_t **payload, const char **err)
{
	uint8_t	hdr[WIRE_HDR_LEN];
	size_t	need;

	if (evbuffer_get_length(in) < WIRE_HDR_LEN)
		return 0;
	evbuffer_copyout(in, hdr, sizeof(hdr));
	if (wire_parse_hdr(hdr, max, h, err) == -1)
		return -1;
	need = WIRE_HDR_LEN + h->len;
	if (evbuffer_get_length(in) < need)
		return 0;
	*payload = evbuffer_pullup(in, (ssize_t)need) + WIRE_HDR_LEN;
	return 1;
}
