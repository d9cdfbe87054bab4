/* SPDX-License-Identifier: ISC */
/* Taking whole frames out of a libevent input buffer. */
#ifndef LABWATCH_WIRE_EV_H
#define LABWATCH_WIRE_EV_H

#include <event2/buffer.h>

#include "wire.h"

/*
 * Looks at the front of in.  Returns 1 with *h and *payload set when a whole
 * valid frame is there (the caller drains WIRE_HDR_LEN + h->len bytes after
 * use), 0 when more bytes are needed, -1 with *err on a bad header.  The
 * header is checked as soon as it is complete, before the payload arrives.
 */
int	wire_ev_next(struct evbuffer *, uint32_t, struct wire_hdr *,
	    const uint8_t **, const char **);

#endif
