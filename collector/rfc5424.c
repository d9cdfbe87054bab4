/* SPDX-License-Identifier: ISC */
/* Records as RFC 5424 syslog messages: see rfc5424.h. */
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "format.h"
#include "rfc5424.h"

/* Whether s is 1 to max PRINTUSASCII characters (HOSTNAME, MSGID). */
static int
rfc5424_printable(const uint8_t *s, size_t len, size_t max)
{
	size_t	i;

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < 33 || s[i] > 126)
			return 0;
	return 1;
}

int
rfc5424_sd_name_ok(const uint8_t *s, size_t len)
{
	if (!rfc5424_printable(s, len, RFC5424_SDNAME_MAX))
		return 0;
	return memchr(s, '=', len) == NULL && memchr(s, ']', len) == NULL &&
	    memchr(s, '"', len) == NULL;
}

void
rfc5424_sd_value(struct buf *out, const uint8_t *s, size_t len)
{
	uint32_t	cp;
	size_t		i, j, n, run;
	char		hex[5];

	for (i = 0; i < len; i += n) {
		/* Plain ASCII goes in runs. */
		for (run = i; run < len && s[run] >= 0x20 && s[run] < 0x7f &&
		    s[run] != '\\' && s[run] != '"' && s[run] != ']'; run++)
			;
		if (run > i) {
			buf_add(out, s + i, run - i);
			n = run - i;
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			/* A C1 control: all its bytes. */
			for (j = 0; j < (n == 0 ? 1 : n); j++) {
				snprintf(hex, sizeof(hex), "\\x%02x", s[i + j]);
				buf_add(out, hex, 4);
			}
			n = j;
			continue;
		}
		if (s[i] == '\\' || s[i] == '"' || s[i] == ']')
			buf_add_u8(out, '\\');
		buf_add(out, s + i, n);
	}
}

/* A field's value as SD-PARAM text: as the text format, but unquoted. */
static void
rfc5424_field(struct buf *out, struct buf *tmp, const struct record *r,
    const struct field *f)
{
	const uint8_t	*base = record_bytes(r);
	const struct span *it;
	uint32_t	 i;

	switch (f->type) {
	case FIELD_STR:
		rfc5424_sd_value(out, base + f->v.str.off, f->v.str.len);
		break;
	case FIELD_LIST:
		for (i = 0; i < f->v.list.n; i++) {
			if (i > 0)
				buf_add_u8(out, ',');
			it = &r->items[f->v.list.first + i];
			rfc5424_sd_value(out, base + it->off, it->len);
		}
		break;
	default:
		/* Numbers, booleans, times, durations: plain ASCII. */
		buf_reset(tmp);
		format_value(tmp, r, f, FORMAT_JSON);
		if (tmp->len >= 2 && tmp->data[0] == '"')
			buf_add(out, tmp->data + 1, tmp->len - 2);
		else
			buf_add(out, tmp->data, tmp->len);
		break;
	}
}

void
rfc5424_frame(struct buf *out, const struct record *r, const char *host,
    const char *stream, uint64_t seq, unsigned long pen, const char *msg,
    size_t msglen)
{
	const uint8_t	*base = record_bytes(r);
	const struct field *f;
	struct buf	 m, tmp;
	char		 ts[FORMAT_TS_LEN + 1];
	size_t		 i, len;

	buf_init(&m);
	buf_init(&tmp);
	format_ts(ts, r->ts_us);
	buf_printf(&m, "<%d>1 %s ", RFC5424_PRI, ts);
	/* HOSTNAME and MSGID: printable ASCII, never empty. */
	len = strlen(host);
	if (rfc5424_printable((const uint8_t *)host, len, 255))
		buf_add(&m, host, len);
	else
		buf_add_u8(&m, '-');
	buf_add_str(&m, " labwatch - ");
	len = r->event.len > RFC5424_MSGID_MAX ? RFC5424_MSGID_MAX :
	    r->event.len;
	if (rfc5424_printable(base + r->event.off, len, RFC5424_MSGID_MAX))
		buf_add(&m, base + r->event.off, len);
	else
		buf_add_u8(&m, '-');
	buf_printf(&m, " [labwatch-id@%lu host=\"", pen);
	rfc5424_sd_value(&m, (const uint8_t *)host, strlen(host));
	buf_printf(&m, "\" stream=\"%s\" seq=\"%llu\"][labwatch@%lu event=\"",
	    stream, (unsigned long long)seq, pen);
	rfc5424_sd_value(&m, base + r->event.off, r->event.len);
	buf_add_u8(&m, '"');
	for (i = 0; i < r->nfields; i++) {
		f = &r->fields[i];
		/* Keys that are no SD-NAME (or "event") are in MSG only. */
		if (!rfc5424_sd_name_ok(base + f->key.off, f->key.len) ||
		    (f->key.len == 5 && memcmp(base + f->key.off, "event",
		    5) == 0))
			continue;
		buf_add_u8(&m, ' ');
		buf_add(&m, base + f->key.off, f->key.len);
		buf_add_str(&m, "=\"");
		rfc5424_field(&m, &tmp, r, f);
		buf_add_u8(&m, '"');
	}
	buf_add_str(&m, "] ");
	buf_add(&m, msg, msglen);
	buf_printf(out, "%zu ", m.len);
	buf_add(out, m.data, m.len);
	buf_free(&m);
	buf_free(&tmp);
}
