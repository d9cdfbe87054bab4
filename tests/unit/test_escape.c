/* SPDX-License-Identifier: ISC */
/* Unit tests for UTF-8 decoding and escaping (common/escape.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "escape.h"

#define S(s)	(const uint8_t *)(s), sizeof(s) - 1

/*
 * A reference UTF-8 decoder written from the table of well-formed byte
 * sequences in the Unicode standard (3.9, table 3-7).
 */
static size_t
ref_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint8_t	lo = 0x80, hi = 0xbf;
	size_t	n, i;
	uint32_t c;

	if (len == 0)
		return 0;
	if (s[0] <= 0x7f) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
		c = c << 6 | (s[i] & 0x3f);
	}
	*cp = c;
	return n;
}

/* Code points the escapers must never write raw. */
static int
forbidden_cp(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

static void
put_utf8(struct buf *b, uint32_t cp)
{
	if (cp < 0x80)
		buf_add_u8(b, (uint8_t)cp);
	else if (cp < 0x800) {
		buf_add_u8(b, (uint8_t)(0xc0 | cp >> 6));
		buf_add_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_add_u8(b, (uint8_t)(0xe0 | cp >> 12));
		buf_add_u8(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
		buf_add_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
	} else {
		buf_add_u8(b, (uint8_t)(0xf0 | cp >> 18));
		buf_add_u8(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
		buf_add_u8(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
		buf_add_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
	}
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads n hex digits at s; returns -1 if one is not hex. */
static long
hexn(const uint8_t *s, size_t n)
{
	long	v = 0;
	size_t	i;
	int	d;

	for (i = 0; i < n; i++) {
		if ((d = hexval(s[i])) == -1)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* Is every sequence in s well-formed UTF-8 and no forbidden code point? */
static int
safe_utf8(const uint8_t *s, size_t len)
{
	uint32_t	cp;
	size_t		i, n;

	for (i = 0; i < len; i += n) {
		if ((n = ref_decode(s + i, len - i, &cp)) == 0)
			return 0;
		if (forbidden_cp(cp))
			return 0;
	}
	return 1;
}

/*
 * Undoes escape_text: a bare value must hold nothing that needs quoting; a
 * quoted one may use only the escapes escape.h lists.  Returns -1 when the
 * value is malformed.
 */
static int
text_unescape(const uint8_t *s, size_t len, struct buf *out)
{
	size_t	i;
	long	v;

	buf_reset(out);
	if (len == 0)
		return -1;
	if (s[0] != '"') {
		for (i = 0; i < len; i++)
			if (s[i] <= 0x20 || s[i] == 0x7f || s[i] == '"' ||
			    s[i] == '\\' || s[i] == ',')
				return -1;
		buf_add(out, s, len);
		return 0;
	}
	if (len < 2 || s[len - 1] != '"')
		return -1;
	for (i = 1; i < len - 1; i++) {
		if (s[i] == '"')
			return -1;
		if (s[i] != '\\') {
			buf_add_u8(out, s[i]);
			continue;
		}
		if (++i >= len - 1)
			return -1;
		switch (s[i]) {
		case '"':
		case '\\':
			buf_add_u8(out, s[i]);
			break;
		case 'n':
			buf_add_u8(out, '\n');
			break;
		case 'r':
			buf_add_u8(out, '\r');
			break;
		case 't':
			buf_add_u8(out, '\t');
			break;
		case 'x':
			if (i + 2 >= len - 1 || (v = hexn(s + i + 1, 2)) < 0)
				return -1;
			buf_add_u8(out, (uint8_t)v);
			i += 2;
			break;
		case 'u':
			if (i + 4 >= len - 1 || (v = hexn(s + i + 1, 4)) < 0)
				return -1;
			put_utf8(out, (uint32_t)v);
			i += 4;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/*
 * Checks that s is exactly one JSON string literal (RFC 8259) and decodes
 * it into out.  Returns -1 when it is not.
 */
static int
json_string(const uint8_t *s, size_t len, struct buf *out)
{
	size_t	i;
	long	v;

	buf_reset(out);
	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return -1;
	for (i = 1; i < len - 1; i++) {
		if (s[i] < 0x20 || s[i] == '"')
			return -1;
		if (s[i] != '\\') {
			buf_add_u8(out, s[i]);
			continue;
		}
		if (++i >= len - 1)
			return -1;
		switch (s[i]) {
		case '"':
		case '\\':
		case '/':
			buf_add_u8(out, s[i]);
			break;
		case 'b':
			buf_add_u8(out, '\b');
			break;
		case 'f':
			buf_add_u8(out, '\f');
			break;
		case 'n':
			buf_add_u8(out, '\n');
			break;
		case 'r':
			buf_add_u8(out, '\r');
			break;
		case 't':
			buf_add_u8(out, '\t');
			break;
		case 'u':
			if (i + 4 >= len - 1 || (v = hexn(s + i + 1, 4)) < 0)
				return -1;
			/* The escaper has no reason to write a surrogate. */
			if (v >= 0xd800 && v <= 0xdfff)
				return -1;
			put_utf8(out, (uint32_t)v);
			i += 4;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static void
expect_decode(const uint8_t *s, size_t len, size_t want_n, uint32_t want_cp)
{
	uint32_t	cp = 0xdeadbeef;

	assert_int_equal(utf8_decode(s, len, &cp), want_n);
	if (want_n > 0)
		assert_int_equal(cp, want_cp);
	else
		assert_int_equal(cp, 0xdeadbeef);
}

static void
test_utf8_valid(void **state)
{
	(void)state;
	expect_decode(S("A"), 1, 'A');
	expect_decode(S("\x00"), 1, 0);
	expect_decode(S("\x7f"), 1, 0x7f);
	expect_decode(S("\xc2\x80"), 2, 0x80);
	expect_decode(S("\xc3\xa9"), 2, 0xe9);
	expect_decode(S("\xdf\xbf"), 2, 0x7ff);
	expect_decode(S("\xe0\xa0\x80"), 3, 0x800);
	expect_decode(S("\xe2\x82\xac"), 3, 0x20ac);
	expect_decode(S("\xed\x9f\xbf"), 3, 0xd7ff);
	expect_decode(S("\xee\x80\x80"), 3, 0xe000);
	expect_decode(S("\xef\xbf\xbf"), 3, 0xffff);
	expect_decode(S("\xf0\x90\x80\x80"), 4, 0x10000);
	expect_decode(S("\xf0\x9f\x98\x80"), 4, 0x1f600);
	expect_decode(S("\xf4\x8f\xbf\xbf"), 4, 0x10ffff);
	/* Only the first sequence is decoded. */
	expect_decode(S("\xc3\xa9z"), 2, 0xe9);
	expect_decode(S("ab"), 1, 'a');
}

static void
test_utf8_invalid(void **state)
{
	(void)state;
	expect_decode(NULL, 0, 0, 0);
	expect_decode(S("\xc0\x80"), 0, 0);		/* overlong NUL */
	expect_decode(S("\xc1\xbf"), 0, 0);		/* overlong */
	expect_decode(S("\xe0\x80\x80"), 0, 0);	/* overlong */
	expect_decode(S("\xe0\x9f\xbf"), 0, 0);	/* overlong */
	expect_decode(S("\xf0\x8f\xbf\xbf"), 0, 0);	/* overlong */
	expect_decode(S("\xed\xa0\x80"), 0, 0);	/* surrogate */
	expect_decode(S("\xed\xbf\xbf"), 0, 0);	/* surrogate */
	expect_decode(S("\xf4\x90\x80\x80"), 0, 0);	/* > U+10FFFF */
	expect_decode(S("\xf5\x80\x80\x80"), 0, 0);
	expect_decode(S("\xf7\xbf\xbf\xbf"), 0, 0);
	expect_decode(S("\xf8\x88\x80\x80\x80"), 0, 0);
	expect_decode(S("\xfe"), 0, 0);
	expect_decode(S("\xff"), 0, 0);
	expect_decode(S("\x80"), 0, 0);		/* lone continuation */
	expect_decode(S("\xbf"), 0, 0);
	expect_decode(S("\xc3"), 0, 0);		/* truncated */
	expect_decode(S("\xe2\x82"), 0, 0);
	expect_decode(S("\xf0\x9f\x98"), 0, 0);
	expect_decode(S("\xc3\x41"), 0, 0);		/* bad continuation */
	expect_decode(S("\xe2\x28\xa1"), 0, 0);
	expect_decode(S("\xe2\x82\x28"), 0, 0);
	expect_decode(S("\xf0\x9f\x98\xc0"), 0, 0);
	/* len bounds the read even when more bytes follow. */
	expect_decode((const uint8_t *)"\xc3\xa9", 1, 0, 0);
	expect_decode((const uint8_t *)"\xf0\x9f\x98\x80", 3, 0, 0);
}

/* Compares utf8_decode with the reference on every 1-3 byte prefix. */
static void
test_utf8_exhaustive(void **state)
{
	static const uint8_t	tails[] = {
		0x00, 0x3f, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
		0xff,
	};
	uint8_t			s[4];
	uint32_t		cp, rcp;
	size_t			n, rn, i, j;
	unsigned		a, b, c;

	(void)state;
	for (a = 0; a < 256; a++) {
		for (b = 0; b < 256; b++) {
			for (c = 0; c < 256; c++) {
				if (a < 0xc0 && (b | c) != 0)
					break;
				s[0] = a;
				s[1] = b;
				s[2] = c;
				s[3] = 0x80;
				for (i = 1; i <= 4; i++) {
					if (i > 1 && a < 0xc0)
						break;
					cp = rcp = 0;
					n = utf8_decode(s, i, &cp);
					rn = ref_decode(s, i, &rcp);
					if (n != rn || (n > 0 && cp != rcp))
						fail_msg("%02x %02x %02x len "
						    "%zu: %zu U+%04x, want "
						    "%zu U+%04x", a, b, c, i,
						    n, cp, rn, rcp);
				}
			}
		}
	}
	for (a = 0xf0; a < 256; a++)
		for (b = 0; b < 256; b++)
			for (i = 0; i < sizeof(tails); i++)
				for (j = 0; j < sizeof(tails); j++) {
					s[0] = a;
					s[1] = b;
					s[2] = tails[i];
					s[3] = tails[j];
					cp = rcp = 0;
					n = utf8_decode(s, 4, &cp);
					rn = ref_decode(s, 4, &rcp);
					if (n != rn || (n > 0 && cp != rcp))
						fail_msg("%02x %02x %02x %02x: "
						    "%zu, want %zu", a, b,
						    s[2], s[3], n, rn);
				}
}

struct esc_case {
	const char	*in;
	size_t		 len;
	const char	*text;
	const char	*json;
};

#define C(in, text, json)	{ in, sizeof(in) - 1, text, json }

static const struct esc_case cases[] = {
	C("", "\"\"", "\"\""),
	C("abc", "abc", "\"abc\""),
	C("a=b", "a=b", "\"a=b\""),
	C("-", "-", "\"-\""),
	C("a b", "\"a b\"", "\"a b\""),
	C(" ", "\" \"", "\" \""),
	C("a,b", "\"a,b\"", "\"a,b\""),
	C("a\"b", "\"a\\\"b\"", "\"a\\\"b\""),
	C("a\\b", "\"a\\\\b\"", "\"a\\\\b\""),
	C("a\nb", "\"a\\nb\"", "\"a\\nb\""),
	C("\r", "\"\\r\"", "\"\\r\""),
	C("\t", "\"\\t\"", "\"\\t\""),
	C("\x01", "\"\\x01\"", "\"\\u0001\""),
	C("\x1f", "\"\\x1f\"", "\"\\u001f\""),
	C("\x7f", "\"\\x7f\"", "\"\\u007f\""),
	C("\0", "\"\\x00\"", "\"\\u0000\""),
	C("\x1b[31m", "\"\\x1b[31m\"", "\"\\u001b[31m\""),
	C("\xff", "\"\\xff\"", "\"\\\\xff\""),
	C("a\xc3", "\"a\\xc3\"", "\"a\\\\xc3\""),
	C("\xc0\x80", "\"\\xc0\\x80\"", "\"\\\\xc0\\\\x80\""),
	C("\xe0\x80\x80", "\"\\xe0\\x80\\x80\"",
	    "\"\\\\xe0\\\\x80\\\\x80\""),
	C("\xed\xa0\x80", "\"\\xed\\xa0\\x80\"",
	    "\"\\\\xed\\\\xa0\\\\x80\""),
	C("\xf4\x90\x80\x80", "\"\\xf4\\x90\\x80\\x80\"",
	    "\"\\\\xf4\\\\x90\\\\x80\\\\x80\""),
	C("\xc2\x9b", "\"\\u009b\"", "\"\\u009b\""),
	C("\xc2\x80", "\"\\u0080\"", "\"\\u0080\""),
	C("\xc2\x85", "\"\\u0085\"", "\"\\u0085\""),
	C("\xc2\x9f", "\"\\u009f\"", "\"\\u009f\""),
	C("\xe2\x80\xa8", "\"\\u2028\"", "\"\\u2028\""),
	C("\xe2\x80\xa9", "\"\\u2029\"", "\"\\u2029\""),
	C("\xe2\x80\xaa", "\"\\u202a\"", "\"\\u202a\""),
	C("\xe2\x80\xae", "\"\\u202e\"", "\"\\u202e\""),
	C("\xe2\x81\xa6", "\"\\u2066\"", "\"\\u2066\""),
	C("\xe2\x81\xa9", "\"\\u2069\"", "\"\\u2069\""),
	C("x\xe2\x80\xaey", "\"x\\u202ey\"", "\"x\\u202ey\""),
	C("caf\xc3\xa9", "caf\xc3\xa9", "\"caf\xc3\xa9\""),
	C("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac",
	    "\"\xe6\x97\xa5\xe6\x9c\xac\""),
	C("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""),
	C("caf\xc3\xa9 x", "\"caf\xc3\xa9 x\"", "\"caf\xc3\xa9 x\""),
	C("\xc2\xa1\xe2\x80\xa7", "\xc2\xa1\xe2\x80\xa7",
	    "\"\xc2\xa1\xe2\x80\xa7\""),
};

static void
assert_buf_string(const struct buf *b, const char *want)
{
	size_t	len = strlen(want);

	if (b->len != len || (len > 0 && memcmp(b->data, want, len) != 0))
		fail_msg("got \"%.*s\" (%zu bytes), want \"%s\" (%zu bytes)",
		    (int)b->len, b->data ? (const char *)b->data : "",
		    b->len, want, len);
}

static void
test_escape_text(void **state)
{
	struct buf	b;
	size_t		i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		escape_text(&b, (const uint8_t *)cases[i].in, cases[i].len);
		assert_buf_string(&b, cases[i].text);
	}
	buf_free(&b);
}

static void
test_escape_json(void **state)
{
	struct buf	b;
	size_t		i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		escape_json(&b, (const uint8_t *)cases[i].in, cases[i].len);
		assert_buf_string(&b, cases[i].json);
	}
	buf_free(&b);
}

static void
test_escape_appends(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	buf_add_str(&b, "k=");
	escape_text(&b, S("a b"));
	buf_add_str(&b, " j=");
	escape_json(&b, S("x"));
	buf_add_u8(&b, ' ');
	escape_text(&b, S("bare"));
	assert_buf_string(&b, "k=\"a b\" j=\"x\" bare");
	buf_free(&b);
}

static void
test_escape_cstr(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*want;
	} c[] = {
		{ "plain", 5, "plain" },
		{ "a b", 3, "a b" },
		{ "", 0, "" },
		{ "a\nb", 3, "a\\nb" },
		{ "q\"", 2, "q\\\"" },
		{ "\\", 1, "\\\\" },
		{ "\x01\x7f", 2, "\\x01\\x7f" },
		{ "\xff", 1, "\\xff" },
		{ "a\0b", 3, "a\\x00b" },
		{ "\xc2\x9b", 2, "\\u009b" },
		{ "\xe2\x80\xae", 3, "\\u202e" },
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },
	};
	struct buf	 b;
	const char	*s;
	size_t		 i;

	(void)state;
	buf_init(&b);
	buf_add_str(&b, "leftover");
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		s = escape_cstr(&b, c[i].in, c[i].len);
		assert_non_null(s);
		assert_string_equal(s, c[i].want);
	}
	buf_free(&b);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* Byte strings that stress the escapers more than uniform bytes. */
static const char *const frags[] = {
	"\n", "\r", "\t", "\"", "\\", ",", " ", "=", "\x7f", "\x1b",
	"\xc2\x9b", "\xc2\x85", "\xe2\x80\xa8", "\xe2\x80\xa9",
	"\xe2\x80\xae", "\xe2\x81\xa6", "\xc3\xa9", "\xf0\x9f\x98\x80",
	"\xf4\x8f\xbf\xbf", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80",
	"\xe2\x82", "\\x41", "\\u0041",
};

static size_t
random_input(uint8_t *s, size_t max)
{
	size_t		len = 0, want = rng() % (max + 1), n;
	const char	*f;
	uint64_t	kind = rng() % 3;

	while (len < want) {
		if (kind == 0 || rng() % 2 == 0) {
			s[len++] = (uint8_t)rng();
			continue;
		}
		f = frags[rng() % (sizeof(frags) / sizeof(frags[0]))];
		n = strlen(f);
		if (n > want - len)
			n = want - len;
		memcpy(s + len, f, n);
		len += n;
	}
	return len;
}

static int
valid_utf8(const uint8_t *s, size_t len)
{
	uint32_t	cp;
	size_t		i, n;

	for (i = 0; i < len; i += n)
		if ((n = ref_decode(s + i, len - i, &cp)) == 0)
			return 0;
	return 1;
}

static void
test_escape_random(void **state)
{
	uint8_t		in[64];
	struct buf	out, dec;
	size_t		len;
	int		i;

	(void)state;
	buf_init(&out);
	buf_init(&dec);
	for (i = 0; i < 20000; i++) {
		len = random_input(in, sizeof(in));

		buf_reset(&out);
		escape_text(&out, in, len);
		if (!safe_utf8(out.data, out.len))
			fail_msg("text output %d is not safe UTF-8", i);
		if (text_unescape(out.data, out.len, &dec) == -1)
			fail_msg("text output %d is malformed: %.*s", i,
			    (int)out.len, (const char *)out.data);
		if (dec.len != len || (len > 0 &&
		    memcmp(dec.data, in, len) != 0))
			fail_msg("text output %d does not round-trip", i);

		buf_reset(&out);
		escape_json(&out, in, len);
		if (!safe_utf8(out.data, out.len))
			fail_msg("JSON output %d is not safe UTF-8", i);
		if (json_string(out.data, out.len, &dec) == -1)
			fail_msg("JSON output %d is not a JSON string: %.*s",
			    i, (int)out.len, (const char *)out.data);
		/* Valid UTF-8 survives JSON exactly; other bytes become text. */
		if (valid_utf8(in, len) && (dec.len != len || (len > 0 &&
		    memcmp(dec.data, in, len) != 0)))
			fail_msg("JSON output %d does not round-trip", i);
	}
	buf_free(&out);
	buf_free(&dec);
}

/* The checkers above must reject what the escapers must never write. */
static void
test_checkers(void **state)
{
	struct buf	dec;

	(void)state;
	buf_init(&dec);
	assert_false(safe_utf8(S("a\nb")));
	assert_false(safe_utf8(S("\xc2\x9b")));
	assert_false(safe_utf8(S("\xe2\x80\xae")));
	assert_false(safe_utf8(S("\xff")));
	assert_true(safe_utf8(S("caf\xc3\xa9")));
	assert_int_equal(text_unescape(S("a b"), &dec), -1);
	assert_int_equal(text_unescape(S(""), &dec), -1);
	assert_int_equal(text_unescape(S("\"a\"b\""), &dec), -1);
	assert_int_equal(text_unescape(S("\"a\\q\""), &dec), -1);
	assert_int_equal(text_unescape(S("\"\\x4\""), &dec), -1);
	assert_int_equal(text_unescape(S("\"a\\\""), &dec), -1);
	assert_int_equal(text_unescape(S("\"\\x41\\u00e9\""), &dec), 0);
	assert_buf_string(&dec, "A\xc3\xa9");
	assert_int_equal(json_string(S("\"a\x01\""), &dec), -1);
	assert_int_equal(json_string(S("\"a\\x41\""), &dec), -1);
	assert_int_equal(json_string(S("\"a\\u00\""), &dec), -1);
	assert_int_equal(json_string(S("\"a\"b\""), &dec), -1);
	assert_int_equal(json_string(S("\"a\\\""), &dec), -1);
	assert_int_equal(json_string(S("\"\\\\x41\\u0001\""), &dec), 0);
	assert_buf_string(&dec, "\\x41\x01");
	buf_free(&dec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_utf8_exhaustive),
		cmocka_unit_test(test_escape_text),
		cmocka_unit_test(test_escape_json),
		cmocka_unit_test(test_escape_appends),
		cmocka_unit_test(test_escape_cstr),
		cmocka_unit_test(test_checkers),
		cmocka_unit_test(test_escape_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
