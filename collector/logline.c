/* SPDX-License-Identifier: ISC */
/* Log lines back into records: text and JSON Lines, no I/O. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "escape.h"
#include "hostname.h"
#include "logline.h"

struct cur {
	const char	*p, *end;
};

/* Reads n decimal digits at p into *v. */
static int
digits(const char *p, int n, int *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

int
logline_ts(const char *s, size_t len, int64_t *us)
{
	struct tm	tm;
	int		y, mo, d, h, mi, sec, frac, oh, om;
	int64_t		off = 0;
	time_t		t;

	/* 2026-11-22T04:25:24.589150 then Z or +HH:MM */
	if (len < 27 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
	    digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec) || s[19] != '.' ||
	    digits(s + 20, 6, &frac))
		return -1;
	if (len == 27 && s[26] == 'Z')
		off = 0;
	else if (len == 32 && (s[26] == '+' || s[26] == '-') &&
	    !digits(s + 27, 2, &oh) && s[29] == ':' && !digits(s + 30, 2, &om))
		off = (s[26] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
	else
		return -1;
	/* format.c writes four-digit years (0000-00-00 when it cannot). */
	if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*us = ((int64_t)t - off) * 1000000 + frac;
	return 0;
}

/* A decimal integer in [s, end), an optional minus first: 0, or -1. */
static int
decimal(const char *s, const char *end, long long *v)
{
	unsigned long long	n = 0;
	int			neg = s < end && *s == '-';

	if (neg)
		s++;
	if (s == end || end - s > 19)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (unsigned long long)(*s - '0');
	}
	if (n > (unsigned long long)INT64_MAX)
		return -1;
	*v = neg ? -(long long)n : (long long)n;
	return 0;
}

/*
 * Reads a quoted string at c->p (on its opening quote) into b, undoing
 * the escapes both formats write (\" \\ \n \r \t \xNN \uNNNN, and JSON's
 * \/ \b \f).  0, or -1.
 */
static int
quoted(struct cur *c, struct buf *b)
{
	int		hi, lo;
	uint32_t	cp, lo2;

	buf_reset(b);
	for (c->p++; c->p < c->end; c->p++) {
		if (*c->p == '"') {
			c->p++;
			return 0;
		}
		if (*c->p != '\\') {
			buf_add_u8(b, (uint8_t)*c->p);
			continue;
		}
		if (++c->p >= c->end)
			return -1;
		switch (*c->p) {
		case '"': case '\\': case '/':
			buf_add_u8(b, (uint8_t)*c->p);
			break;
		case 'n': buf_add_u8(b, '\n'); break;
		case 'r': buf_add_u8(b, '\r'); break;
		case 't': buf_add_u8(b, '\t'); break;
		case 'b': buf_add_u8(b, '\b'); break;
		case 'f': buf_add_u8(b, '\f'); break;
		case 'x':
			if (c->end - c->p < 3 || (hi = hex_digit(c->p[1])) < 0 ||
			    (lo = hex_digit(c->p[2])) < 0)
				return -1;
			buf_add_u8(b, (uint8_t)(hi << 4 | lo));
			c->p += 2;
			break;
		case 'u':
			if (c->end - c->p < 5 || hex4(c->p + 1, &cp) == -1)
				return -1;
			c->p += 4;
			/* A surrogate pair (JSON) makes one code point. */
			if (cp >= 0xd800 && cp <= 0xdbff && c->end - c->p >= 7 &&
			    c->p[1] == '\\' && c->p[2] == 'u') {
				if (hex4(c->p + 3, &lo2) == -1)
					return -1;
				if (lo2 >= 0xdc00 && lo2 <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo2 - 0xdc00);
					c->p += 6;
				}
			}
			utf8_encode(b, cp);
			break;
		default:
			return -1;
		}
	}
	return -1;
}

/*
 * A value of the text format into b: items, bare (no space, quote or
 * comma) or quoted, joined by commas (a list: its items joined by commas,
 * as a string).
 */
static int
text_word(struct cur *c, struct buf *b)
{
	struct buf	 item;
	const char	*s;
	int		 rc = -1;

	buf_reset(b);
	buf_init(&item);
	for (;;) {
		if (c->p < c->end && *c->p == '"') {
			if (quoted(c, &item) == -1)
				break;
			buf_add(b, item.data, item.len);
		} else {
			for (s = c->p; c->p < c->end && *c->p != ' ' &&
			    *c->p != ',' && *c->p != '"'; c->p++)
				;
			if (c->p == s)
				break;
			buf_add(b, s, (size_t)(c->p - s));
		}
		if (c->p == c->end || *c->p == ' ') {
			rc = 0;
			break;
		}
		if (*c->p != ',')
			break;
		buf_add_u8(b, ',');
		c->p++;
	}
	buf_free(&item);
	return rc;
}

static int
parse_text(struct cur *c, struct record *r, char *host, size_t hostlen,
    const char **err)
{
	const char	*ts = c->p, *key;
	struct buf	 b;
	char		 ev[RECORD_EVENT_MAX + 1];
	int64_t		 us;
	long long	 seq;
	size_t		 klen;
	int		 rc = -1;

	buf_init(&b);
	while (c->p < c->end && *c->p != ' ')
		c->p++;
	if (logline_ts(ts, (size_t)(c->p - ts), &us) == -1) {
		*err = "bad time";
		goto out;
	}
	c->p++;
	if (c->p >= c->end || text_word(c, &b) == -1 || b.len >= hostlen ||
	    !hostname_ok((const char *)b.data, b.len)) {
		*err = "bad host";
		goto out;
	}
	snprintf(host, hostlen, "%.*s", (int)b.len, (const char *)b.data);
	c->p++;
	if (c->p >= c->end || text_word(c, &b) == -1 || b.len >= sizeof(ev) ||
	    !record_event_ok(b.data, b.len)) {
		*err = "bad event";
		goto out;
	}
	snprintf(ev, sizeof(ev), "%.*s", (int)b.len, (const char *)b.data);
	record_begin(r, ev);
	r->ts_us = us;
	while (c->p < c->end && *c->p == ' ') {
		key = ++c->p;
		while (c->p < c->end && *c->p != '=' && *c->p != ' ')
			c->p++;
		if (c->p >= c->end || *c->p != '=' || c->p == key) {
			*err = "expected key=value";
			goto out;
		}
		klen = (size_t)(c->p - key);
		c->p++;
		if (c->p < c->end && *c->p == ' ')
			buf_reset(&b);
		else if (text_word(c, &b) == -1) {
			*err = "bad value";
			goto out;
		}
		if (klen == 3 && memcmp(key, "seq", 3) == 0 && r->seq == 0 &&
		    r->nfields == 0) {
			if (decimal((const char *)b.data, (const char *)b.data +
			    b.len, &seq) == 0 && seq > 0)
				r->seq = (uint64_t)seq;
			continue;
		}
		if (klen > RECORD_KEY_MAX || !record_key_ok((const uint8_t *)key,
		    klen) || r->nfields >= RECORD_FIELDS_MAX) {
			*err = "bad key";
			goto out;
		}
		{
			char k[RECORD_KEY_MAX + 1];

			snprintf(k, sizeof(k), "%.*s", (int)klen, key);
			record_add_strn(r, k, b.data, b.len);
		}
	}
	if (c->p != c->end) {
		*err = "junk after the fields";
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

static void
json_ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static int
json_expect(struct cur *c, char ch)
{
	json_ws(c);
	if (c->p >= c->end || *c->p != ch)
		return -1;
	c->p++;
	json_ws(c);
	return 0;
}

static int
json_string(struct cur *c, struct buf *b)
{
	if (c->p >= c->end || *c->p != '"')
		return -1;
	return quoted(c, b);
}

/* One value of key k into r. */
static int
json_value(struct cur *c, struct record *r, const char *k, struct buf *b)
{
	const char	*s = c->p;
	long long	 v;
	int		 n, frac = 0;

	if (c->p >= c->end)
		return -1;
	if (*c->p == '"') {
		if (quoted(c, b) == -1)
			return -1;
		record_add_strn(r, k, b->data, b->len);
		return 0;
	}
	if (*c->p == '[') {
		record_add_list(r, k);
		c->p++;
		json_ws(c);
		if (c->p < c->end && *c->p == ']') {
			c->p++;
			return 0;
		}
		for (;;) {
			if (r->nitems >= RECORD_ITEMS_MAX ||
			    json_string(c, b) == -1)
				return -1;
			record_list_add(r, b->data, b->len);
			json_ws(c);
			if (c->p < c->end && *c->p == ']') {
				c->p++;
				return 0;
			}
			if (json_expect(c, ',') == -1)
				return -1;
		}
	}
	if ((size_t)(c->end - c->p) >= 4 && memcmp(c->p, "true", 4) == 0) {
		c->p += 4;
		record_add_bool(r, k, 1);
		return 0;
	}
	if ((size_t)(c->end - c->p) >= 5 && memcmp(c->p, "false", 5) == 0) {
		c->p += 5;
		record_add_bool(r, k, 0);
		return 0;
	}
	if (*c->p == '-')
		c->p++;
	for (n = 0; c->p < c->end && ((*c->p >= '0' && *c->p <= '9') ||
	    *c->p == '.'); c->p++, n++)
		frac |= *c->p == '.';
	if (n == 0 || n > 19)
		return -1;
	if (frac) {
		record_add_strn(r, k, s, (size_t)(c->p - s));
		return 0;
	}
	if (decimal(s, c->p, &v) == -1)
		return -1;
	record_add_int(r, k, v);
	return 0;
}

static int
parse_json(struct cur *c, struct record *r, char *host, size_t hostlen,
    const char **err)
{
	struct buf	 key, b;
	char		 k[RECORD_KEY_MAX + 1];
	int64_t		 us = 0;
	int		 rc = -1, have_event = 0;

	buf_init(&key);
	buf_init(&b);
	host[0] = '\0';
	record_reset(r);
	c->p++;
	json_ws(c);
	while (c->p < c->end && *c->p != '}') {
		if (json_string(c, &key) == -1 || json_expect(c, ':') == -1) {
			*err = "expected \"key\":";
			goto out;
		}
		if (key.len == 2 && memcmp(key.data, "ts", 2) == 0) {
			if (json_string(c, &b) == -1 || logline_ts((const char *)
			    b.data, b.len, &us) == -1) {
				*err = "bad time";
				goto out;
			}
		} else if (key.len == 4 && memcmp(key.data, "host", 4) == 0) {
			if (json_string(c, &b) == -1 || b.len >= hostlen ||
			    !hostname_ok((const char *)b.data, b.len)) {
				*err = "bad host";
				goto out;
			}
			snprintf(host, hostlen, "%.*s", (int)b.len,
			    (const char *)b.data);
		} else if (key.len == 3 && memcmp(key.data, "seq", 3) == 0) {
			const char *s = c->p;
			long long v;

			while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
				c->p++;
			if (decimal(s, c->p, &v) == -1) {
				*err = "bad seq";
				goto out;
			}
			r->seq = (uint64_t)v;
		} else if (key.len == 5 && memcmp(key.data, "event", 5) == 0) {
			char ev[RECORD_EVENT_MAX + 1];

			if (have_event || json_string(c, &b) == -1 ||
			    b.len >= sizeof(ev) ||
			    !record_event_ok(b.data, b.len)) {
				*err = "bad event";
				goto out;
			}
			snprintf(ev, sizeof(ev), "%.*s", (int)b.len,
			    (const char *)b.data);
			/* The event comes before the fields (format.c). */
			if (r->nfields > 0) {
				*err = "event after fields";
				goto out;
			}
			{
				uint64_t seq = r->seq;

				record_begin(r, ev);
				r->seq = seq;
			}
			have_event = 1;
		} else {
			if (!have_event || key.len > RECORD_KEY_MAX ||
			    !record_key_ok(key.data, key.len) ||
			    r->nfields >= RECORD_FIELDS_MAX) {
				*err = "bad key";
				goto out;
			}
			snprintf(k, sizeof(k), "%.*s", (int)key.len,
			    (const char *)key.data);
			if (json_value(c, r, k, &b) == -1) {
				*err = "bad value";
				goto out;
			}
		}
		json_ws(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			json_ws(c);
		}
	}
	if (c->p >= c->end || !have_event || host[0] == '\0' || us == 0) {
		*err = "incomplete record";
		goto out;
	}
	c->p++;
	json_ws(c);
	if (c->p != c->end) {
		*err = "junk after the object";
		goto out;
	}
	r->ts_us = us;
	rc = 0;
out:
	buf_free(&key);
	buf_free(&b);
	return rc;
}

int
logline_parse(const char *line, size_t len, struct record *r, char *host,
    size_t hostlen, const char **err)
{
	struct cur	c = { line, line + len };

	if (len > 0 && line[len - 1] == '\n')
		c.end--;
	if (c.end > c.p && c.end[-1] == '\r')
		c.end--;
	record_reset(r);
	if (c.p == c.end) {
		*err = "empty line";
		return -1;
	}
	if (*c.p == '{')
		return parse_json(&c, r, host, hostlen, err);
	return parse_text(&c, r, host, hostlen, err);
}
