/* SPDX-License-Identifier: ISC */
/* A growable byte buffer for building frames and log lines. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
}

void
buf_reserve(struct buf *b, size_t n)
{
	size_t	cap;

	if (b->cap - b->len >= n)
		return;
	if (n > SIZE_MAX / 2 - b->len)
		fatalx("buf_reserve: %zu bytes is too much", n);
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	b->data = xreallocarray(b->data, cap, 1);
	b->cap = cap;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
buf_add_u16(struct buf *b, uint16_t v)
{
	uint8_t	p[2] = { v >> 8, v & 0xff };

	buf_add(b, p, sizeof(p));
}

void
buf_add_u32(struct buf *b, uint32_t v)
{
	buf_reserve(b, 4);
	buf_set_u32(b, b->len, v);
	b->len += 4;
}

void
buf_add_u64(struct buf *b, uint64_t v)
{
	buf_add_u32(b, (uint32_t)(v >> 32));
	buf_add_u32(b, (uint32_t)v);
}

void
buf_add_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_add_dec(struct buf *b, uint64_t v, int width)
{
	char	tmp[20];
	int	n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 || n < width);
	buf_reserve(b, (size_t)n);
	while (n > 0)
		b->data[b->len++] = (uint8_t)tmp[--n];
}

void
buf_add_sdec(struct buf *b, int64_t v)
{
	if (v < 0) {
		buf_add_u8(b, '-');
		/* Unsigned negation: INT64_MIN has no positive twin. */
		buf_add_dec(b, -(uint64_t)v, 0);
	} else
		buf_add_dec(b, (uint64_t)v, 0);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("buf_printf: bad format");
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_set_u32(struct buf *b, size_t off, uint32_t v)
{
	uint8_t	*p = b->data + off;

	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}
