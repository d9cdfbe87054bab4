/* SPDX-License-Identifier: ISC */
/* What the collector knows about each host (labwatchctl, metrics). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "format.h"
#include "hoststat.h"
#include "lab.h"
#include "xmalloc.h"

static struct hoststat	**hosts;	/* sorted by name */
static size_t		  nhosts;

static int
hoststat_cmp(const void *a, const void *b)
{
	const struct hoststat	*const *x = a, *const *y = b;

	return strcmp((*x)->host, (*y)->host);
}

/* The host's entry, made on first use. */
static struct hoststat *
hoststat_find(const char *host)
{
	struct hoststat	 key = { .host = (char *)(uintptr_t)host }, *kp = &key;
	struct hoststat	**found, *h;

	/* bsearch takes no NULL array, even for none (the first host). */
	found = nhosts == 0 ? NULL : bsearch(&kp, hosts, nhosts,
	    sizeof(*hosts), hoststat_cmp);
	if (found != NULL)
		return *found;
	h = xcalloc(1, sizeof(*h));
	h->host = xstrdup(host);
	hosts = xreallocarray(hosts, nhosts + 1, sizeof(*hosts));
	hosts[nhosts++] = h;
	qsort(hosts, nhosts, sizeof(*hosts), hoststat_cmp);
	return h;
}

static void
copy(char *dst, size_t size, const void *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void
hoststat_known(const char *host)
{
	/* lab.log is the lab's, not a PC's. */
	if (strcmp(host, LAB_HOST) != 0)
		hoststat_find(host);
}

void
hoststat_connect(const char *host, const char *peer, const char *version,
    const char *identity, int64_t now)
{
	struct hoststat	*h = hoststat_find(host);

	h->connected = 1;
	h->seen = 1;
	h->since = now;
	copy(h->peer, sizeof(h->peer), peer, strlen(peer));
	copy(h->identity, sizeof(h->identity), identity, strlen(identity));
	copy(h->version, sizeof(h->version), version, strlen(version));
}

void
hoststat_disconnect(const char *host, int64_t now)
{
	struct hoststat	*h = hoststat_find(host);

	if (h->connected)
		h->since = now;
	h->connected = 0;
}

/* The string field key of r, or NULL; its length in *len. */
static const uint8_t *
hoststat_str(const struct record *r, const char *key, size_t *len)
{
	const struct field	*f = record_get(r, key);

	if (f == NULL || f->type != FIELD_STR)
		return NULL;
	*len = f->v.str.len;
	return record_bytes(r) + f->v.str.off;
}

static int64_t
hoststat_int(const struct record *r, const char *key)
{
	const struct field	*f = record_get(r, key);

	return f != NULL && f->type == FIELD_INT ? f->v.i : -1;
}

/* Counts a record under its event name, "other" past the cap. */
static void
hoststat_count(struct hoststat *h, const uint8_t *ev, size_t len,
    size_t size)
{
	struct hoststat_event	*e = NULL;
	int			 i;

	for (i = 0; i < h->nevents; i++)
		if (strlen(h->events[i].name) == len &&
		    memcmp(h->events[i].name, ev, len) == 0) {
			e = &h->events[i];
			break;
		}
	if (e == NULL && h->nevents < HOSTSTAT_EVENTS - 1) {
		e = &h->events[h->nevents++];
		copy(e->name, sizeof(e->name), ev, len);
	} else if (e == NULL) {
		e = &h->events[HOSTSTAT_EVENTS - 1];
		strcpy(e->name, "other");
		h->nevents = HOSTSTAT_EVENTS;
	}
	e->records++;
	e->bytes += size;
}

void
hoststat_record(const char *host, const struct record *r, size_t size,
    int day)
{
	struct hoststat	*h = hoststat_find(host);
	const uint8_t	*ev = record_bytes(r) + r->event.off, *v;
	size_t		 len = r->event.len, vlen;
	struct buf	 line;

	hoststat_count(h, ev, len, size);
	copy(h->last_event, sizeof(h->last_event), ev, len);
	h->last_ts = r->ts_us;
	if (h->day != day) {
		h->day = day;
		h->usb = h->lan = h->internet = 0;
	}
#define IS(s)	(len == sizeof(s) - 1 && memcmp(ev, s, len) == 0)
	if (IS("usb.add"))
		h->usb++;
	else if (IS("flow.lan"))
		h->lan++;
	else if (IS("flow.internet"))
		h->internet++;
	else if (IS("agent.degraded"))
		h->degraded = 1;
	else if (IS("agent.recovered") || IS("agent.start"))
		h->degraded = 0;
	if (IS("agent.start") &&
	    (v = hoststat_str(r, "version", &vlen)) != NULL)
		copy(h->version, sizeof(h->version), v, vlen);
#undef IS
	buf_init(&line);
	format_record(&line, r, FORMAT_TEXT);
	if (line.len > 0)
		line.len--;		/* the newline */
	buf_add(&line, "", 1);
	free(h->recent[h->recent_next]);
	h->recent[h->recent_next] = (char *)line.data;
	h->recent_next = (h->recent_next + 1) % HOSTSTAT_RECENT;
	if (h->nrecent < HOSTSTAT_RECENT)
		h->nrecent++;
}

void
hoststat_heartbeat(const char *host, const struct record *r)
{
	struct hoststat	*h = hoststat_find(host);

	h->spool_records = hoststat_int(r, "spool_records");
	h->spool_bytes = hoststat_int(r, "spool_bytes");
	h->capture_packets = hoststat_int(r, "capture_packets");
	h->capture_dropped = hoststat_int(r, "capture_dropped");
}

const struct hoststat *
hoststat_get(const char *host)
{
	struct hoststat	 key = { .host = (char *)(uintptr_t)host }, *kp = &key;
	struct hoststat	**found;

	/* bsearch takes no NULL array, even for none (the first host). */
	found = nhosts == 0 ? NULL : bsearch(&kp, hosts, nhosts,
	    sizeof(*hosts), hoststat_cmp);
	return found != NULL ? *found : NULL;
}

void
hoststat_each(void (*cb)(const struct hoststat *, void *), void *arg)
{
	size_t	i;

	for (i = 0; i < nhosts; i++)
		cb(hosts[i], arg);
}

const char *
hoststat_state(const struct hoststat *h)
{
	if (!h->connected)
		return "offline";
	return h->degraded ? "degraded" : "online";
}

static void
json_str(struct buf *b, const char *key, const char *s)
{
	buf_printf(b, "\"%s\":", key);
	escape_json(b, (const uint8_t *)s, strlen(s));
	buf_add(b, ",", 1);
}

static void
json_ts(struct buf *b, const char *key, int64_t us)
{
	char	ts[FORMAT_TS_LEN + 1];

	if (us == 0) {
		buf_printf(b, "\"%s\":null,", key);
		return;
	}
	format_ts(ts, us);
	buf_printf(b, "\"%s\":\"%s\",", key, ts);
}

void
hoststat_json_host(struct buf *b, const struct hoststat *h, int today)
{
	int	fresh = h->day == today;

	buf_add(b, "{", 1);
	json_str(b, "host", h->host);
	json_str(b, "state", hoststat_state(h));
	json_ts(b, "since", h->since);
	json_str(b, "address", h->peer);
	json_str(b, "version", h->version);
	json_str(b, "identity", h->identity);
	json_str(b, "last_event", h->last_event);
	json_ts(b, "last_ts", h->last_ts);
	buf_printf(b, "\"usb_today\":%llu,\"lan_today\":%llu,"
	    "\"internet_today\":%llu}",
	    fresh ? (unsigned long long)h->usb : 0,
	    fresh ? (unsigned long long)h->lan : 0,
	    fresh ? (unsigned long long)h->internet : 0);
}

void
hoststat_json(struct buf *b, int today)
{
	size_t	i;

	buf_add(b, "[", 1);
	for (i = 0; i < nhosts; i++) {
		if (i > 0)
			buf_add(b, ",", 1);
		hoststat_json_host(b, hosts[i], today);
	}
	buf_add(b, "]", 1);
}

void
hoststat_free(void)
{
	size_t	i;
	int	j;

	for (i = 0; i < nhosts; i++) {
		for (j = 0; j < HOSTSTAT_RECENT; j++)
			free(hosts[i]->recent[j]);
		free(hosts[i]->host);
		free(hosts[i]);
	}
	free(hosts);
	hosts = NULL;
	nhosts = 0;
}

int
hoststat_today(int64_t now_us)
{
	time_t		t = (time_t)(now_us / 1000000);
	struct tm	tm;

	localtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 1000 + tm.tm_yday + 1;
}
