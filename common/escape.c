/* SPDX-License-Identifier: ISC */
/* Escaping of untrusted strings for the two log formats. */
#include "escape.h"

size_t
utf8_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint32_t	c, min;
	size_t		n, i;

	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

size_t
utf8_put(uint8_t u[4], uint32_t cp)
{
	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (uint8_t)(0xf0 | cp >> 18);
	u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	u[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

void
utf8_encode(struct buf *b, uint32_t cp)
{
	uint8_t	u[4];

	buf_add(b, u, utf8_put(u, cp));
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex4(const char *p, uint32_t *v)
{
	int	i, d;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if ((d = hex_digit((unsigned char)p[i])) < 0)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/* Code points above ASCII that must not reach a log raw. */
static int
unsafe_cp(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||		/* C1 controls */
	    cp == 0x2028 || cp == 0x2029 ||		/* separators */
	    (cp >= 0x202a && cp <= 0x202e) ||		/* bidi embeddings */
	    (cp >= 0x2066 && cp <= 0x2069);		/* bidi isolates */
}

static const char hex[] = "0123456789abcdef";

static void
add_hex_byte(struct buf *out, const char *prefix, uint8_t c)
{
	buf_add_str(out, prefix);
	buf_add_u8(out, (uint8_t)hex[c >> 4]);
	buf_add_u8(out, (uint8_t)hex[c & 0xf]);
}

static void
add_u_escape(struct buf *out, uint32_t cp)
{
	buf_printf(out, "\\u%04x", (unsigned)cp);
}

/* ASCII bytes a bare text value may hold: printable, not " \\ , or space. */
static const uint8_t text_plain[128] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1,
	['/'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
	['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, [':'] = 1,
	[';'] = 1, ['<'] = 1, ['='] = 1, ['>'] = 1, ['?'] = 1, ['@'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1, ['['] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,
	['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1,
	['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1,
	['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1,
	['x'] = 1, ['y'] = 1, ['z'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1,
	['~'] = 1,
};

/* Can s be written bare in the text format? */
static int
text_bare(const uint8_t *s, size_t len)
{
	uint32_t	cp;
	size_t		i, n;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i += n) {
		if (s[i] < 0x80) {
			if (!text_plain[s[i]])
				return 0;
			n = 1;
		} else if ((n = utf8_decode(s + i, len - i, &cp)) == 0 ||
		    unsafe_cp(cp))
			return 0;
	}
	return 1;
}

/*
 * Appends the escaped inside of a quoted string.  The formats differ only in
 * how they write a byte that is not UTF-8 and a control byte below 0x80.
 */
static void
escape_quoted(struct buf *out, const uint8_t *s, size_t len, int json)
{
	uint32_t	cp;
	size_t		i, n;
	uint8_t		c;

	buf_reserve(out, len + 2);
	buf_add_u8(out, '"');
	for (i = 0; i < len; i += n) {
		/* A run of bytes written as they are, in one copy. */
		for (n = 0; i + n < len && s[i + n] >= 0x20 && s[i + n] < 0x7f &&
		    s[i + n] != '"' && s[i + n] != '\\'; n++)
			;
		if (n > 0) {
			buf_add(out, s + i, n);
			continue;
		}
		c = s[i];
		n = 1;
		if (c >= 0x80) {
			if ((n = utf8_decode(s + i, len - i, &cp)) == 0) {
				add_hex_byte(out, json ? "\\\\x" : "\\x", c);
				n = 1;
			} else if (unsafe_cp(cp))
				add_u_escape(out, cp);
			else
				buf_add(out, s + i, n);
			continue;
		}
		switch (c) {
		case '"':
			buf_add_str(out, "\\\"");
			break;
		case '\\':
			buf_add_str(out, "\\\\");
			break;
		case '\n':
			buf_add_str(out, "\\n");
			break;
		case '\r':
			buf_add_str(out, "\\r");
			break;
		case '\t':
			buf_add_str(out, "\\t");
			break;
		default:
			if (c >= 0x20 && c != 0x7f)
				buf_add_u8(out, c);
			else if (json)
				add_u_escape(out, c);
			else
				add_hex_byte(out, "\\x", c);
		}
	}
	buf_add_u8(out, '"');
}

void
escape_text(struct buf *out, const uint8_t *s, size_t len)
{
	if (text_bare(s, len))
		buf_add(out, s, len);
	else
		escape_quoted(out, s, len, 0);
}

void
escape_json(struct buf *out, const uint8_t *s, size_t len)
{
	escape_quoted(out, s, len, 1);
}

const char *
escape_cstr(struct buf *b, const void *s, size_t len)
{
	buf_reset(b);
	escape_quoted(b, s, len, 0);
	/* Drop the quotes: the caller's format supplies them. */
	b->data[b->len - 1] = '\0';
	return (const char *)b->data + 1;
}
