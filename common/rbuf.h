/* SPDX-License-Identifier: ISC */
/*
 * A bounded reader over untrusted bytes.  Every getter checks what is left
 * and returns -1 without moving when the data is short, so a parser never
 * reads past the end of what it was given.
 */
#ifndef LABWATCH_RBUF_H
#define LABWATCH_RBUF_H

#include <stddef.h>
#include <stdint.h>

struct rbuf {
	const uint8_t	*data;
	size_t		 len;
	size_t		 off;
};

/* Starts a reader over len bytes at data. */
static inline void
rbuf_init(struct rbuf *rb, const void *data, size_t len)
{
	rb->data = data;
	rb->len = len;
	rb->off = 0;
}

/* Returns how many bytes are left to read. */
static inline size_t
rbuf_left(const struct rbuf *rb)
{
	return rb->len - rb->off;
}

/*
 * The getters are inline: decoding a packet calls them dozens of times and
 * the calls showed in the agent's replay profile.
 */
static inline int
rbuf_skip(struct rbuf *rb, size_t n)
{
	if (rbuf_left(rb) < n)
		return -1;
	rb->off += n;
	return 0;
}

static inline int
rbuf_get_u8(struct rbuf *rb, uint8_t *v)
{
	if (rbuf_left(rb) < 1)
		return -1;
	*v = rb->data[rb->off++];
	return 0;
}

static inline int
rbuf_get_u16(struct rbuf *rb, uint16_t *v)
{
	const uint8_t	*p;

	if (rbuf_left(rb) < 2)
		return -1;
	p = rb->data + rb->off;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	rb->off += 2;
	return 0;
}

static inline int
rbuf_get_u32(struct rbuf *rb, uint32_t *v)
{
	const uint8_t	*p;

	if (rbuf_left(rb) < 4)
		return -1;
	p = rb->data + rb->off;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	rb->off += 4;
	return 0;
}

static inline int
rbuf_get_u64(struct rbuf *rb, uint64_t *v)
{
	const uint8_t	*p;

	if (rbuf_left(rb) < 8)
		return -1;
	p = rb->data + rb->off;
	*v = (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
	    (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
	    (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	    (uint64_t)p[6] << 8 | p[7];
	rb->off += 8;
	return 0;
}

/* Points *p at the next n bytes, in place, and moves past them. */
static inline int
rbuf_get_ptr(struct rbuf *rb, size_t n, const uint8_t **p)
{
	if (rbuf_left(rb) < n)
		return -1;
	*p = rb->data + rb->off;
	rb->off += n;
	return 0;
}

/* Reads a length-prefixed (u16, network order) byte string in place. */
static inline int
rbuf_get_str16(struct rbuf *rb, const uint8_t **p, uint16_t *len)
{
	size_t	save = rb->off;

	if (rbuf_get_u16(rb, len) == -1)
		return -1;
	if (rbuf_get_ptr(rb, *len, p) == -1) {
		rb->off = save;
		return -1;
	}
	return 0;
}

#endif
