/* SPDX-License-Identifier: ISC */
/* Records as Elastic Common Schema documents: see ecs.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "escape.h"
#include "format.h"
#include "xmalloc.h"

#define PATH_MAX_LEN	64
#define ENTRIES_MAX	(RECORD_FIELDS_MAX + 16)

enum ecs_kind {
	E_FIELD,	/* a record field, as JSON */
	E_STR,		/* a string */
	E_INT,
	E_RAW,		/* JSON as it is */
	E_NSEC,		/* a DURATION field in nanoseconds */
};

struct ecs_entry {
	char			 path[PATH_MAX_LEN];
	enum ecs_kind		 kind;
	const struct field	*f;
	const char		*s;
	int64_t			 i;
	size_t			 order;		/* ties keep the first */
};

/* Where ECS has a field for one of the records' keys. */
static const struct {
	const char	*key;
	const char	*path;
} ecs_map[] = {
	{ "src",		"source.ip" },
	{ "dst",		"destination.ip" },
	{ "dport",		"destination.port" },
	{ "proto",		"network.transport" },
	{ "community_id",	"network.community_id" },
	{ "bytes_out",		"source.bytes" },
	{ "packets_out",	"source.packets" },
	{ "bytes_in",		"destination.bytes" },
	{ "packets_in",		"destination.packets" },
	{ "start",		"event.start" },
	{ "end",		"event.end" },
	{ "path",		"file.path" },
	{ "size",		"file.size" },
	{ "pid",		"process.pid" },
	{ "comm",		"process.name" },
	{ "uid",		"user.id" },
	{ "peer",		"source.address" },
};

/* The event's ECS category, by its namespace. */
static const char *
ecs_category(const char *ev, size_t len)
{
	static const struct {
		const char	*prefix;
		const char	*cat;
	} cats[] = {
		{ "flow.", "[\"network\"]" },
		{ "net.", "[\"network\"]" },
		{ "usb.write", "[\"file\"]" },
		{ "usb.read", "[\"file\"]" },
		{ "usb.", "[\"host\"]" },
		{ "host.connect", "[\"session\"]" },
		{ "host.disconnect", "[\"session\"]" },
	};
	size_t	i, n;

	for (i = 0; i < sizeof(cats) / sizeof(cats[0]); i++) {
		n = strlen(cats[i].prefix);
		if (len >= n && memcmp(ev, cats[i].prefix, n) == 0)
			return cats[i].cat;
	}
	return "[\"host\"]";
}

static struct ecs_entry *
ecs_add(struct ecs_entry *e, size_t *n, enum ecs_kind kind, const char *a,
    const char *b)
{
	struct ecs_entry	*x;

	if (*n >= ENTRIES_MAX)
		return NULL;
	x = &e[*n];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->order = *n;
	(*n)++;
	snprintf(x->path, sizeof(x->path), "%s%s", a, b != NULL ? b : "");
	return x;
}

static int
ecs_cmp(const void *pa, const void *pb)
{
	const struct ecs_entry	*a = pa, *b = pb;
	int			 c = strcmp(a->path, b->path);

	if (c != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Whether the string field f of r is s. */
static int
ecs_is(const struct record *r, const struct field *f, const char *s)
{
	return f != NULL && f->type == FIELD_STR && f->v.str.len == strlen(s) &&
	    memcmp(record_bytes(r) + f->v.str.off, s, f->v.str.len) == 0;
}

/* One record field: where ECS has it, and always under labwatch.*. */
static void
ecs_field(struct ecs_entry *e, size_t *n, const struct record *r,
    const struct field *f, const char *key)
{
	const struct field	*src;
	struct ecs_entry	*x;
	size_t			 i;

	for (i = 0; i < sizeof(ecs_map) / sizeof(ecs_map[0]); i++)
		if (strcmp(ecs_map[i].key, key) == 0) {
			if ((x = ecs_add(e, n, E_FIELD, ecs_map[i].path,
			    NULL)) != NULL)
				x->f = f;
			return;
		}
	if (strcmp(key, "duration") == 0 && f->type == FIELD_DURATION) {
		if ((x = ecs_add(e, n, E_NSEC, "event.duration", NULL)) != NULL)
			x->f = f;
		return;
	}
	if (strcmp(key, "name") == 0 && f->type == FIELD_STR) {
		src = record_get(r, "name_source");
		if (ecs_is(r, src, "sni") &&
		    (x = ecs_add(e, n, E_FIELD, "tls.client.server_name",
		    NULL)) != NULL)
			x->f = f;
		else if (ecs_is(r, src, "http") &&
		    (x = ecs_add(e, n, E_FIELD, "url.domain", NULL)) != NULL)
			x->f = f;
		if ((x = ecs_add(e, n, E_FIELD, "destination.domain",
		    NULL)) != NULL)
			x->f = f;
		return;
	}
	if ((x = ecs_add(e, n, E_FIELD, "labwatch.", key)) != NULL)
		x->f = f;
}

/* Common length of the object parts ("a.b." of "a.b.c") of two paths. */
static size_t
ecs_common(const char *a, const char *b)
{
	size_t	i, last = 0;

	for (i = 0; a[i] != '\0' && a[i] == b[i]; i++)
		if (a[i] == '.')
			last = i + 1;
	return last;
}

static void
ecs_value(struct buf *out, const struct record *r, const struct ecs_entry *x)
{
	switch (x->kind) {
	case E_FIELD:
		format_value(out, r, x->f, FORMAT_JSON);
		break;
	case E_STR:
		escape_json(out, (const uint8_t *)x->s, strlen(x->s));
		break;
	case E_INT:
		buf_add_sdec(out, x->i);
		break;
	case E_RAW:
		buf_add_str(out, x->s);
		break;
	case E_NSEC:
		buf_add_sdec(out, x->f->v.i * 1000);
		break;
	}
}

/* Writes the sorted entries as nested objects. */
static void
ecs_emit(struct buf *out, const struct record *r, struct ecs_entry *e,
    size_t n)
{
	const char	*prev = "", *p, *seg;
	size_t		 i, keep, j;
	int		 first = 1;

	buf_add_u8(out, '{');
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(e[i].path, e[i - 1].path) == 0)
			continue;
		keep = ecs_common(prev, e[i].path);
		/* Close the objects of prev past what the two share. */
		for (j = keep; prev[j] != '\0'; j++)
			if (prev[j] == '.')
				buf_add_u8(out, '}');
		if (!first)
			buf_add_u8(out, ',');
		first = 0;
		/* Open the objects of this path past the shared part. */
		for (seg = p = e[i].path + keep; *p != '\0'; p++)
			if (*p == '.') {
				escape_json(out, (const uint8_t *)seg,
				    (size_t)(p - seg));
				buf_add_str(out, ":{");
				seg = p + 1;
			}
		escape_json(out, (const uint8_t *)seg, strlen(seg));
		buf_add_u8(out, ':');
		ecs_value(out, r, &e[i]);
		prev = e[i].path;
	}
	for (j = 0; prev[j] != '\0'; j++)
		if (prev[j] == '.')
			buf_add_u8(out, '}');
	buf_add_u8(out, '}');
}

void
ecs_record(struct buf *out, const struct record *r, const char *host,
    const char *id, const char *stream, uint64_t seq)
{
	static struct ecs_entry	*e;	/* scratch, kept: one loop */
	struct ecs_entry	*x;
	const uint8_t		*base = record_bytes(r);
	char			 ts[FORMAT_TS_LEN + 1];
	char			 ev[RECORD_EVENT_MAX + 1];
	char			 key[RECORD_KEY_MAX + 1];
	size_t			 n = 0, len;
	uint32_t		 i;

	if (e == NULL)
		e = xcalloc(ENTRIES_MAX, sizeof(*e));
	len = r->event.len < RECORD_EVENT_MAX ? r->event.len :
	    RECORD_EVENT_MAX;
	memcpy(ev, base + r->event.off, len);
	ev[len] = '\0';
	format_ts(ts, r->ts_us);
	if ((x = ecs_add(e, &n, E_STR, "@timestamp", NULL)) != NULL)
		x->s = ts;
	if ((x = ecs_add(e, &n, E_STR, "ecs.version", NULL)) != NULL)
		x->s = ECS_VERSION;
	if ((x = ecs_add(e, &n, E_STR, "event.action", NULL)) != NULL)
		x->s = ev;
	if ((x = ecs_add(e, &n, E_RAW, "event.category", NULL)) != NULL)
		x->s = ecs_category(ev, len);
	if ((x = ecs_add(e, &n, E_STR, "event.kind", NULL)) != NULL)
		x->s = "event";
	if ((x = ecs_add(e, &n, E_STR, "event.module", NULL)) != NULL)
		x->s = "labwatch";
	if ((x = ecs_add(e, &n, E_STR, "event.id", NULL)) != NULL)
		x->s = id;
	if ((x = ecs_add(e, &n, E_STR, "host.name", NULL)) != NULL)
		x->s = host;
	if ((x = ecs_add(e, &n, E_STR, "labwatch.stream", NULL)) != NULL)
		x->s = stream;
	if ((x = ecs_add(e, &n, E_INT, "labwatch.seq", NULL)) != NULL)
		x->i = (int64_t)seq;
	for (i = 0; i < r->nfields; i++) {
		len = r->fields[i].key.len;
		if (len > RECORD_KEY_MAX)
			continue;
		memcpy(key, base + r->fields[i].key.off, len);
		key[len] = '\0';
		/* host.connect's agent stream, not the record's identity. */
		if (strcmp(key, "stream") == 0) {
			if ((x = ecs_add(e, &n, E_FIELD,
			    "labwatch.session_stream", NULL)) != NULL)
				x->f = &r->fields[i];
			continue;
		}
		ecs_field(e, &n, r, &r->fields[i], key);
	}
	qsort(e, n, sizeof(*e), ecs_cmp);
	ecs_emit(out, r, e, n);
}
