/* SPDX-License-Identifier: ISC */
/* Formatting of records as log lines: text or JSON Lines. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "format.h"

int
format_parse(const char *s, enum log_format *f)
{
	if (strcmp(s, "text") == 0)
		*f = FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*f = FORMAT_JSON;
	else
		return -1;
	return 0;
}

/* Writes n decimal digits of v at p. */
static void
format_digits(char *p, int64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * The UTC date and time of sec as YYYY-MM-DDTHH:MM:SS, by the proleptic
 * Gregorian calendar (as gmtime_r), without a library call: records
 * carry several times each.  Years outside 1000-9999 (which strftime's
 * %Y writes with other than four digits) give zeros.
 */
static void
format_civil(char out[19], int64_t sec)
{
	int64_t	days = sec / 86400, rem = sec % 86400;
	int64_t	era, doe, yoe, doy, mp, y, m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	/* Days since 0000-03-01, in 400-year eras (H. Hinnant). */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	if (y < 1000 || y > 9999) {
		memcpy(out, "0000-00-00T00:00:00", 19);
		return;
	}
	format_digits(out, y, 4);
	out[4] = '-';
	format_digits(out + 5, m, 2);
	out[7] = '-';
	format_digits(out + 8, d, 2);
	out[10] = 'T';
	format_digits(out + 11, rem / 3600, 2);
	out[13] = ':';
	format_digits(out + 14, rem / 60 % 60, 2);
	out[16] = ':';
	format_digits(out + 17, rem % 60, 2);
}

void
format_ts(char out[FORMAT_TS_LEN + 1], int64_t ts_us)
{
	int64_t	sec = ts_us / 1000000, usec = ts_us % 1000000;

	if (usec < 0) {
		usec += 1000000;
		sec--;
	}
	format_civil(out, sec);
	out[19] = '.';
	format_digits(out + 20, usec, 6);
	out[26] = 'Z';
	out[27] = '\0';
}

static int	text_localtime;	/* text lines in local time */

void
format_set_localtime(int on)
{
	text_localtime = on;
	tzset();
}

/* A time in a text line: UTC, or local time with its offset. */
static void
format_text_ts(struct buf *out, int64_t ts_us)
{
	char		ts[FORMAT_TS_LEN + 1];
	int64_t		sec = ts_us / 1000000, usec = ts_us % 1000000;
	struct tm	tm;
	time_t		t;
	long		off;

	if (!text_localtime) {
		format_ts(ts, ts_us);
		buf_add(out, ts, FORMAT_TS_LEN);
		return;
	}
	if (usec < 0) {
		usec += 1000000;
		sec--;
	}
	t = (time_t)sec;
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm) != 19)
		memcpy(ts, "0000-00-00T00:00:00", 20);
	off = tm.tm_gmtoff / 60;
	buf_printf(out, "%s.%06ld%c%02ld:%02ld", ts, (long)usec,
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

void
format_value(struct buf *out, const struct record *r, const struct field *f,
    enum log_format fmt)
{
	void		(*esc)(struct buf *, const uint8_t *, size_t);
	const uint8_t	*base = record_bytes(r);
	const struct span *it;
	char		 ts[FORMAT_TS_LEN + 1];
	uint64_t	 mag;
	uint32_t	 i;

	esc = fmt == FORMAT_JSON ? escape_json : escape_text;
	switch (f->type) {
	case FIELD_STR:
		esc(out, base + f->v.str.off, f->v.str.len);
		break;
	case FIELD_INT:
		buf_add_sdec(out, f->v.i);
		break;
	case FIELD_BOOL:
		buf_add_str(out, f->v.b ? "true" : "false");
		break;
	case FIELD_TIME:
		if (fmt != FORMAT_JSON) {
			format_text_ts(out, f->v.i);
			break;
		}
		format_ts(ts, f->v.i);
		if (fmt == FORMAT_JSON)
			buf_add_u8(out, '"');
		buf_add(out, ts, FORMAT_TS_LEN);
		if (fmt == FORMAT_JSON)
			buf_add_u8(out, '"');
		break;
	case FIELD_DURATION:
		/* Unsigned magnitude: INT64_MIN comes off the wire too. */
		mag = f->v.i < 0 ? -(uint64_t)f->v.i : (uint64_t)f->v.i;
		if (f->v.i < 0)
			buf_add_u8(out, '-');
		buf_add_dec(out, mag / 1000000, 0);
		buf_add_u8(out, '.');
		buf_add_dec(out, mag % 1000000, 6);
		break;
	case FIELD_LIST:
		if (fmt == FORMAT_JSON)
			buf_add_u8(out, '[');
		else if (f->v.list.n == 0)
			buf_add_str(out, "\"\"");
		for (i = 0; i < f->v.list.n; i++) {
			if (i > 0)
				buf_add_u8(out, ',');
			it = &r->items[f->v.list.first + i];
			esc(out, base + it->off, it->len);
		}
		if (fmt == FORMAT_JSON)
			buf_add_u8(out, ']');
		break;
	}
}

void
format_record(struct buf *out, const struct record *r, enum log_format fmt)
{
	const uint8_t	*base = record_bytes(r);
	const char	*host = r->host != NULL ? r->host : "-";
	char		 ts[FORMAT_TS_LEN + 1];
	uint32_t	 i;

	if (fmt == FORMAT_JSON) {
		format_ts(ts, r->ts_us);
		buf_add_str(out, "{\"ts\":\"");
		buf_add(out, ts, FORMAT_TS_LEN);
		buf_add_str(out, "\",\"host\":");
		escape_json(out, (const uint8_t *)host, strlen(host));
		if (r->seq != 0) {
			buf_add_str(out, ",\"seq\":");
			buf_add_dec(out, r->seq, 0);
		}
		buf_add_str(out, ",\"event\":");
		escape_json(out, base + r->event.off, r->event.len);
		for (i = 0; i < r->nfields; i++) {
			buf_add_u8(out, ',');
			escape_json(out, base + r->fields[i].key.off,
			    r->fields[i].key.len);
			buf_add_u8(out, ':');
			format_value(out, r, &r->fields[i], fmt);
		}
		buf_add_str(out, "}\n");
		return;
	}
	format_text_ts(out, r->ts_us);
	buf_add_u8(out, ' ');
	escape_text(out, (const uint8_t *)host, strlen(host));
	buf_add_u8(out, ' ');
	escape_text(out, base + r->event.off, r->event.len);
	if (r->seq != 0) {
		buf_add_str(out, " seq=");
		buf_add_dec(out, r->seq, 0);
	}
	for (i = 0; i < r->nfields; i++) {
		buf_add_u8(out, ' ');
		escape_text(out, base + r->fields[i].key.off,
		    r->fields[i].key.len);
		buf_add_u8(out, '=');
		format_value(out, r, &r->fields[i], fmt);
	}
	buf_add_u8(out, '\n');
}
