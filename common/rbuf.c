/* A bounded reader over untrusted bytes; all numbers in network order. */
#include "rbuf.h"

int
rbuf_skip(struct rbuf *rb, size_t n)
{
	if (rbuf_left(rb) < n)
		return -1;
	rb->off += n;
	return 0;
}

int
rbuf_get_u8(struct rbuf *rb, uint8_t *v)
{
	if (rbuf_left(rb) < 1)
		return -1;
	*v = rb->data[rb->off++];
	return 0;
}

int
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

int
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

int
rbuf_get_u64(struct rbuf *rb, uint64_t *v)
{
	uint32_t	hi, lo;

	if (rbuf_left(rb) < 8)
		return -1;
	rbuf_get_u32(rb, &hi);
	rbuf_get_u32(rb, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
rbuf_get_ptr(struct rbuf *rb, size_t n, const uint8_t **p)
{
	if (rbuf_left(rb) < n)
		return -1;
	*p = rb->data + rb->off;
	rb->off += n;
	return 0;
}

int
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
