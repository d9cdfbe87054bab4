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

int	rbuf_skip(struct rbuf *, size_t);
int	rbuf_get_u8(struct rbuf *, uint8_t *);
int	rbuf_get_u16(struct rbuf *, uint16_t *);
int	rbuf_get_u32(struct rbuf *, uint32_t *);
int	rbuf_get_u64(struct rbuf *, uint64_t *);
/* Points *p at the next n bytes, in place, and moves past them. */
int	rbuf_get_ptr(struct rbuf *, size_t, const uint8_t **);
/* Reads a length-prefixed (u16, network order) byte string in place. */
int	rbuf_get_str16(struct rbuf *, const uint8_t **, uint16_t *);

#endif
