/* SPDX-License-Identifier: ISC */
/* The dashboard's live feed over Server-Sent Events: see live.h. */
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "hostname.h"
#include "hoststat.h"
#include "live.h"
#include "log.h"
#include "xmalloc.h"

/* glibc's sys/queue.h has no _SAFE form: this one may free l. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#define LIVE_TICK	1	/* seconds: host states, keepalive */
#define LIVE_PING	15	/* seconds between comments on a quiet feed */

struct live {
	TAILQ_ENTRY(live)		 entry;
	struct evhttp_request		*req;
	struct evhttp_connection	*evcon;
	char				 host[HOSTNAME_MAX + 1]; /* "" none */
	int				 quiet;		/* ticks */
};

static TAILQ_HEAD(, live)	 clients = TAILQ_HEAD_INITIALIZER(clients);
static int			 nclients;
static struct event		*tick;
static char			**dirty;	/* hosts changed since tick */
static size_t			 ndirty;

static void
live_free(struct live *l)
{
	TAILQ_REMOVE(&clients, l, entry);
	nclients--;
	free(l);
}

/* The connection went away. */
static void
live_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct live	*l = arg;

	(void)evcon;
	/* libevent left the unfinished request to us, unconnected. */
	if (evhttp_request_get_connection(l->req) == NULL)
		evhttp_request_free(l->req);
	live_free(l);
}

/* Ends a stream from our side. */
static void
live_cut(struct live *l)
{
	evhttp_connection_set_closecb(l->evcon, NULL, NULL);
	evhttp_send_reply_end(l->req);
	live_free(l);
}

/* How many bytes wait to go out to this client. */
static size_t
live_backlog(struct live *l)
{
	struct bufferevent	*bev = evhttp_connection_get_bufferevent(l->evcon);

	return bev != NULL ? evbuffer_get_length(bufferevent_get_output(bev)) :
	    0;
}

/* Sends one event: "event: NAME\ndata: JSON\n\n". */
static void
live_send(struct live *l, const char *event, const struct buf *data)
{
	struct evbuffer	*out;

	if (live_backlog(l) > LIVE_BACKLOG_MAX) {
		log_warnx("dashboard: a live client fell behind, cut");
		live_cut(l);
		return;
	}
	out = evbuffer_new();
	if (event != NULL)
		evbuffer_add_printf(out, "event: %s\ndata: ", event);
	evbuffer_add(out, data->data, data->len);
	evbuffer_add(out, "\n\n", 2);
	evhttp_send_reply_chunk(l->req, out);
	evbuffer_free(out);
	l->quiet = 0;
}

static void
live_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct live		*l, *next;
	const struct hoststat	*h;
	struct buf		 b;
	size_t			 i;

	(void)fd;
	(void)ev;
	(void)arg;
	buf_init(&b);
	if (ndirty > 0) {
		buf_add(&b, "[", 1);
		for (i = 0; i < ndirty; i++) {
			if ((h = hoststat_get(dirty[i])) != NULL) {
				if (b.len > 1)
					buf_add(&b, ",", 1);
				hoststat_json_host(&b, h,
				    hoststat_today(record_now()));
			}
			free(dirty[i]);
		}
		buf_add(&b, "]", 1);
		ndirty = 0;
	}
	TAILQ_FOREACH_SAFE(l, &clients, entry, next) {
		if (b.len > 0)
			live_send(l, "hosts", &b);
		else if (++l->quiet >= LIVE_PING) {
			/* A comment: proxies and the browser see life. */
			buf_reset(&b);
			buf_add_str(&b, ": ping");
			live_send(l, NULL, &b);
			buf_reset(&b);
		}
	}
	buf_free(&b);
}

void
live_init(struct event_base *base)
{
	struct timeval	tv = { LIVE_TICK, 0 };

	tick = event_new(base, -1, EV_PERSIST, live_tick_cb, NULL);
	event_add(tick, &tv);
}

void
live_open(struct evhttp_request *req, const char *host)
{
	struct evkeyvalq	*hdr = evhttp_request_get_output_headers(req);
	struct live		*l;
	struct buf		 b;

	if (nclients >= LIVE_CLIENTS_MAX) {
		evhttp_send_error(req, 503, "Too many live clients");
		return;
	}
	l = xcalloc(1, sizeof(*l));
	l->req = req;
	l->evcon = evhttp_request_get_connection(req);
	if (host != NULL && hostname_ok(host, strlen(host)))
		strcpy(l->host, host);
	TAILQ_INSERT_TAIL(&clients, l, entry);
	nclients++;
	evhttp_add_header(hdr, "Content-Type", "text/event-stream");
	evhttp_add_header(hdr, "Cache-Control", "no-store");
	evhttp_send_reply_start(req, 200, "OK");
	evhttp_connection_set_closecb(l->evcon, live_close_cb, l);
	/* A stream has no end a timeout should cut. */
	evhttp_connection_set_timeout(l->evcon, 24 * 3600);
	/* The snapshot: every host; then changes. */
	buf_init(&b);
	buf_add_str(&b, "retry: 1000\nevent: snapshot\ndata: ");
	hoststat_json(&b, hoststat_today(record_now()));
	live_send(l, NULL, &b);
	buf_free(&b);
}

void
live_host(const char *host)
{
	size_t	i;

	if (nclients == 0)
		return;
	for (i = 0; i < ndirty; i++)
		if (strcmp(dirty[i], host) == 0)
			return;
	dirty = xreallocarray(dirty, ndirty + 1, sizeof(*dirty));
	dirty[ndirty++] = xstrdup(host);
}

void
live_record(const char *host, const struct record *r)
{
	struct live	*l, *next;
	struct buf	 b;
	int		 sent = 0;

	if (nclients == 0)
		return;
	live_host(host);
	TAILQ_FOREACH_SAFE(l, &clients, entry, next) {
		if (strcmp(l->host, host) != 0)
			continue;
		if (!sent++) {
			buf_init(&b);
			format_record(&b, r, FORMAT_JSON);
			if (b.len > 0)
				b.len--;	/* its newline */
		}
		live_send(l, "record", &b);
	}
	if (sent)
		buf_free(&b);
}

void
live_lab(const struct record *r)
{
	struct live	*l, *next;
	struct buf	 b;

	if (nclients == 0)
		return;
	buf_init(&b);
	format_record(&b, r, FORMAT_JSON);
	if (b.len > 0)
		b.len--;
	TAILQ_FOREACH_SAFE(l, &clients, entry, next)
		live_send(l, "lab", &b);
	buf_free(&b);
}

void
live_shutdown(void)
{
	size_t	i;

	while (!TAILQ_EMPTY(&clients))
		live_cut(TAILQ_FIRST(&clients));
	for (i = 0; i < ndirty; i++)
		free(dirty[i]);
	free(dirty);
	dirty = NULL;
	ndirty = 0;
	if (tick != NULL)
		event_free(tick);
	tick = NULL;
}
