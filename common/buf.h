/* SPDX-License-Identifier: ISC */
/* A growable byte buffer for building frames and log lines. */
#ifndef LABWATCH_BUF_H
#define LABWATCH_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t	*data;
	size_t	 len;
	size_t	 cap;
};

void	buf_init(struct buf *);
void	buf_free(struct buf *);
/* Empties the buffer but keeps its memory. */
void	buf_reset(struct buf *);
/* Makes room for n more bytes. */
void	buf_reserve(struct buf *, size_t);
void	buf_add(struct buf *, const void *, size_t);
void	buf_add_u16(struct buf *, uint16_t);
void	buf_add_u32(struct buf *, uint32_t);
void	buf_add_u64(struct buf *, uint64_t);
void	buf_add_str(struct buf *, const char *);
/* Appends a number in decimal; width pads with leading zeros. */
void	buf_add_dec(struct buf *, uint64_t, int);
/* Appends a signed number in decimal. */
void	buf_add_sdec(struct buf *, int64_t);
void	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Overwrites a u32 at off, which must already be in the buffer. */
void	buf_set_u32(struct buf *, size_t, uint32_t);

/* Inline: log lines are built a byte at a time between fields. */
static inline void
buf_add_u8(struct buf *b, uint8_t v)
{
	if (b->len == b->cap)
		buf_reserve(b, 1);
	b->data[b->len++] = v;
}

#endif
