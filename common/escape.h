/* SPDX-License-Identifier: ISC */
/*
 * Escaping of untrusted strings for the two log formats.  Whatever the
 * input, the output holds no control byte (C0, DEL, C1), no line or
 * paragraph separator, no bidirectional override and no invalid UTF-8, so
 * one record is always one line and nothing reaches a terminal raw.
 */
#ifndef LABWATCH_ESCAPE_H
#define LABWATCH_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Decodes one UTF-8 sequence at s (at most len bytes) into *cp.  Returns its
 * length, or 0 when the bytes are not valid UTF-8 (overlong, surrogate, past
 * U+10FFFF, truncated).
 */
size_t	utf8_decode(const uint8_t *, size_t, uint32_t *);
/* Writes code point cp (up to U+10FFFF) as UTF-8 to out; its length. */
size_t	utf8_put(uint8_t [4], uint32_t);
/* Appends code point cp (up to U+10FFFF) as UTF-8. */
void	utf8_encode(struct buf *, uint32_t);
/* The value of a hex digit (either case), or -1. */
int	hex_digit(int);
/* Reads four hex digits at p (the caller checked there are four) into *v:
 * 0, or -1 when one is not a hex digit. */
int	hex4(const char *, uint32_t *);

/*
 * Appends s as a text-format value: bare when it is non-empty and holds
 * nothing that needs escaping, a space, a comma or a quote; otherwise in
 * double quotes with \" \\ \n \r \t \xNN (other bytes below 0x20, 0x7f,
 * invalid UTF-8) and \uNNNN (C1 controls, separators, bidi controls).
 */
void	escape_text(struct buf *, const uint8_t *, size_t);

/*
 * Appends s as a JSON string, quotes included.  Invalid UTF-8 bytes become
 * the four characters \xNN (written as "\\xNN"), as Zeek does.
 */
void	escape_json(struct buf *, const uint8_t *, size_t);

/*
 * Text-escapes s into b, without the surrounding quotes, and returns it
 * NUL-terminated, for log lines.
 */
const char *escape_cstr(struct buf *, const void *, size_t);

#endif
