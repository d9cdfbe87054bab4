/* SPDX-License-Identifier: ISC */
/* The record model shared by agent and collector. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "record.h"
#include "xmalloc.h"

void
record_init(struct record *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->arena);
}

void
record_reset(struct record *r)
{
	r->seq = 0;
	r->ts_us = 0;
	r->host = NULL;
	r->event.off = r->event.len = 0;
	r->nfields = 0;
	r->nitems = 0;
	r->ext = NULL;
	buf_reset(&r->arena);
}

void
record_free(struct record *r)
{
	free(r->fields);
	free(r->items);
	buf_free(&r->arena);
	record_init(r);
}

int64_t
record_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct span
arena_add(struct record *r, const void *p, size_t len)
{
	struct span	s;

	if (r->ext != NULL)
		fatalx("record: adding to a decoded record");
	if (len > UINT32_MAX || r->arena.len > UINT32_MAX - len)
		fatalx("record: field too large");
	s.off = (uint32_t)r->arena.len;
	s.len = (uint32_t)len;
	buf_add(&r->arena, p, len);
	return s;
}

void
record_begin(struct record *r, const char *event)
{
	record_reset(r);
	r->ts_us = record_now();
	r->event = arena_add(r, event, strlen(event));
}

static struct field *
field_new(struct record *r, const char *key, uint8_t type)
{
	struct field	*f;

	if (r->nfields == r->fields_cap) {
		r->fields_cap = r->fields_cap ? r->fields_cap * 2 : 16;
		r->fields = xreallocarray(r->fields, r->fields_cap,
		    sizeof(*r->fields));
	}
	f = &r->fields[r->nfields++];
	memset(f, 0, sizeof(*f));
	f->key = arena_add(r, key, strlen(key));
	f->type = type;
	return f;
}

void
record_add_strn(struct record *r, const char *key, const void *s, size_t len)
{
	struct span	v = arena_add(r, s, len > RECORD_STR_MAX ?
	    RECORD_STR_MAX : len);

	field_new(r, key, FIELD_STR)->v.str = v;
}

void
record_add_str(struct record *r, const char *key, const char *s)
{
	record_add_strn(r, key, s, strlen(s));
}

void
record_add_int(struct record *r, const char *key, int64_t i)
{
	field_new(r, key, FIELD_INT)->v.i = i;
}

void
record_add_time(struct record *r, const char *key, int64_t us)
{
	field_new(r, key, FIELD_TIME)->v.i = us;
}

void
record_add_duration(struct record *r, const char *key, int64_t us)
{
	field_new(r, key, FIELD_DURATION)->v.i = us;
}

void
record_add_bool(struct record *r, const char *key, int b)
{
	field_new(r, key, FIELD_BOOL)->v.b = b != 0;
}

void
record_add_list(struct record *r, const char *key)
{
	struct field	*f = field_new(r, key, FIELD_LIST);

	f->v.list.first = r->nitems;
	f->v.list.n = 0;
}

void
record_list_add(struct record *r, const void *s, size_t len)
{
	struct field	*f;

	if (r->nfields == 0 || r->fields[r->nfields - 1].type != FIELD_LIST)
		fatalx("record_list_add: last field is not a list");
	f = &r->fields[r->nfields - 1];
	if (r->nitems == r->items_cap) {
		r->items_cap = r->items_cap ? r->items_cap * 2 : 16;
		r->items = xreallocarray(r->items, r->items_cap,
		    sizeof(*r->items));
	}
	r->items[r->nitems++] = arena_add(r, s, len > RECORD_STR_MAX ?
	    RECORD_STR_MAX : len);
	f->v.list.n++;
}

const struct field *
record_get(const struct record *r, const char *key)
{
	const uint8_t	*base = record_bytes(r);
	size_t		 klen = strlen(key);
	uint32_t	 i;

	for (i = 0; i < r->nfields; i++) {
		const struct field *f = &r->fields[i];

		if (f->key.len == klen &&
		    memcmp(base + f->key.off, key, klen) == 0)
			return f;
	}
	return NULL;
}

const char *
record_get_str(const struct record *r, const char *key, char *out,
    size_t size)
{
	const struct field	*f = record_get(r, key);

	out[0] = '\0';
	if (f == NULL || size == 0)
		return out;
	switch (f->type) {
	case FIELD_STR:
		snprintf(out, size, "%.*s", (int)f->v.str.len,
		    (const char *)record_bytes(r) + f->v.str.off);
		break;
	case FIELD_BOOL:
		snprintf(out, size, "%s", f->v.b ? "true" : "false");
		break;
	case FIELD_INT:
	case FIELD_TIME:
	case FIELD_DURATION:
		snprintf(out, size, "%" PRId64, f->v.i);
		break;
	default:
		break;
	}
	return out;
}

int64_t
record_get_int(const struct record *r, const char *key, int64_t dflt)
{
	const struct field	*f = record_get(r, key);
	char			 s[32], *end;
	long long		 v;

	if (f == NULL)
		return dflt;
	switch (f->type) {
	case FIELD_INT:
	case FIELD_TIME:
	case FIELD_DURATION:
		return f->v.i;
	case FIELD_BOOL:
		return f->v.b;
	case FIELD_STR:
		if (f->v.str.len == 0 || f->v.str.len >= sizeof(s))
			return dflt;
		memcpy(s, record_bytes(r) + f->v.str.off, f->v.str.len);
		s[f->v.str.len] = '\0';
		v = strtoll(s, &end, 10);
		return *end == '\0' ? v : dflt;
	default:
		return dflt;
	}
}

static int
is_word(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int
record_event_ok(const uint8_t *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > RECORD_EVENT_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			/* No empty word: not first, not last, not doubled. */
			if (i == 0 || i == len - 1 || s[i - 1] == '.')
				return 0;
		} else if (!is_word(s[i]))
			return 0;
	}
	return 1;
}

int
record_event_reserved(const uint8_t *s, size_t len)
{
	static const char *ns[] = { "host.", "lab.", "collector.",
	    "dashboard." };
	size_t	i, n;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		n = strlen(ns[i]);
		/* The bare word ("host") is the namespace too. */
		if ((len >= n && memcmp(s, ns[i], n) == 0) ||
		    (len == n - 1 && memcmp(s, ns[i], len) == 0))
			return 1;
	}
	return 0;
}

int
record_key_ok(const uint8_t *s, size_t len)
{
	static const char *reserved[] = { "ts", "host", "seq", "event" };
	size_t	i;

	if (len == 0 || len > RECORD_KEY_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_word(s[i]))
			return 0;
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == len &&
		    memcmp(reserved[i], s, len) == 0)
			return 0;
	return 1;
}
