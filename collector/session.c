/*
 * One agent connection: frames in, records to the host's log, ACKs out once
 * the records are stored as --sync says.  A peer that breaks the protocol
 * loses its own connection, with a log line naming it, and nobody else
 * notices.  A slow or silent peer costs little: reading stops while its
 * output or its host's log is backed up, and deadlines end what lingers.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "collector.h"
#include "escape.h"
#include "hostlog.h"
#include "hostname.h"
#include "log.h"
#include "wire.h"
#include "wire_ev.h"
#include "xmalloc.h"

#define CLOSE_TIMEOUT	5		/* seconds to deliver a BYE */
#define OUT_CAP		(64 * 1024)	/* output waiting before reads stop */

enum session_state {
	S_HELLO,		/* waiting for HELLO */
	S_ACTIVE,		/* records flow */
	S_CLOSING,		/* BYE queued, waiting for it to leave */
};

struct session {
	TAILQ_ENTRY(session)	 entry;
	struct bufferevent	*bev;
	struct event		*timer;		/* handshake, then keepalive */
	enum session_state	 state;
	int			 paused;	/* reading stopped */
	char			 peer[ADDR_STR_MAX];
	char			 host[HOSTNAME_MAX + 1];
	uint64_t		 stream;
	struct hostlog		*log;
	uint64_t		 acked;		/* last seq ACKed */
	uint64_t		 stored;	/* records accepted */
	int64_t			 started;	/* µs, at HELLO */
	struct record		 rec;		/* decode scratch */
	struct buf		 out;		/* encode scratch */
};

static TAILQ_HEAD(, session)	sessions = TAILQ_HEAD_INITIALIZER(sessions);
static int			nsessions;
static const struct collector_conf *conf;

static void	session_frame(struct session *, uint8_t, const uint8_t *,
		    size_t);
static void	session_read_cb(struct bufferevent *, void *);

void
session_init(const struct collector_conf *c)
{
	conf = c;
}

/* Who the peer is, for log lines: "addr:port" or "addr:port (host)". */
static const char *
session_name(struct session *s)
{
	static char	name[ADDR_STR_MAX + HOSTNAME_MAX + 4];

	if (s->host[0] == '\0')
		return s->peer;
	snprintf(name, sizeof(name), "%s (%s)", s->peer, s->host);
	return name;
}

static void
session_send(struct session *s)
{
	bufferevent_write(s->bev, s->out.data, s->out.len);
	buf_reset(&s->out);
}

/* Writes one of the collector's own records to the host's log. */
static void
session_log_event(struct session *s, const char *event, const char *reason,
    const char *detail)
{
	struct record	r;
	char		stream[17];

	record_init(&r);
	record_begin(&r, event);
	r.host = s->host;
	record_add_str(&r, "peer", s->peer);
	if (strcmp(event, "host.connect") == 0) {
		snprintf(stream, sizeof(stream), "%016" PRIx64, s->stream);
		record_add_str(&r, "stream", stream);
		record_add_int(&r, "resume_after", (int64_t)s->acked);
	} else if (reason != NULL) {
		record_add_str(&r, "reason", reason);
		if (detail[0] != '\0')
			record_add_str(&r, "detail", detail);
		record_add_int(&r, "records", (int64_t)s->stored);
		record_add_duration(&r, "duration", r.ts_us - s->started);
	}
	hostlog_append(s->log, &r);
	record_free(&r);
}

static void
session_free(struct session *s)
{
	TAILQ_REMOVE(&sessions, s, entry);
	nsessions--;
	event_free(s->timer);
	bufferevent_free(s->bev);
	record_free(&s->rec);
	buf_free(&s->out);
	free(s);
}

/*
 * Logs the end once (host.disconnect, or host.offline for a host that went
 * silent) with a reason word for admins to match on and a free-text detail,
 * and releases the host's log.
 */
static void
session_end(struct session *s, const char *reason, const char *detail)
{
	int	offline = strcmp(reason, "timeout") == 0;

	if (s->log == NULL)
		return;
	session_log_event(s, offline ? "host.offline" : "host.disconnect",
	    reason, detail);
	hostlog_set_offline(s->log, offline);
	hostlog_flush(s->log);
	hostlog_put(s->log);
	s->log = NULL;
	log_info("%s: %s: %s%s%s", session_name(s), offline ? "offline" :
	    "disconnected", reason, detail[0] ? ": " : "", detail);
}

static void
session_closed_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	(void)bev;
	session_free(s);
}

static void
session_closing_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	(void)bev;
	(void)what;
	session_free(s);
}

/*
 * Ends the session: logs why, says BYE with a code, and frees the session
 * once the BYE has left (or after CLOSE_TIMEOUT).
 */
static void
session_close(struct session *s, uint16_t code, const char *reason,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
session_close(struct session *s, uint16_t code, const char *reason,
    const char *fmt, ...)
{
	struct timeval	tv = { CLOSE_TIMEOUT, 0 };
	char		detail[256];
	va_list		ap;

	if (s->state == S_CLOSING)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (code == BYE_PROTOCOL || code == BYE_BAD_HOST)
		log_warnx("%s: %s; closing", session_name(s), detail);
	session_end(s, reason, detail);
	s->state = S_CLOSING;
	evtimer_del(s->timer);
	wire_put_bye(&s->out, code, detail[0] ? detail : reason);
	session_send(s);
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_set_timeouts(s->bev, NULL, &tv);
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	bufferevent_setcb(s->bev, NULL, session_closed_cb,
	    session_closing_event_cb, s);
}

/* ACKs whatever of this session's stream has become durable. */
static void
session_ack(struct session *s)
{
	uint64_t	durable;

	if (s->state != S_ACTIVE)
		return;
	durable = hostlog_durable(s->log, s->stream);
	if (durable > s->acked) {
		wire_put_ack(&s->out, durable);
		session_send(s);
		s->acked = durable;
	}
}

/* Stops reading: the peer's output or its host's log is backed up. */
static void
session_pause(struct session *s)
{
	struct timeval	tv = { conf->idle_timeout / 3, 0 };

	if (s->paused)
		return;
	s->paused = 1;
	bufferevent_disable(s->bev, EV_READ);
	/* The agent still hears from us, so it does not give up. */
	if (hostlog_failed(s->log))
		evtimer_add(s->timer, &tv);
}

static void
session_resume(struct session *s)
{
	struct timeval	tv = { conf->idle_timeout, 0 };

	if (!s->paused || s->state != S_ACTIVE || hostlog_failed(s->log) ||
	    evbuffer_get_length(bufferevent_get_output(s->bev)) > OUT_CAP)
		return;
	s->paused = 0;
	evtimer_del(s->timer);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	bufferevent_enable(s->bev, EV_READ);
	/* Frames that arrived before the pause are still waiting. */
	session_read_cb(s->bev, s);
}

/* Writes what was read to the log; ACKs once the sync mode allows. */
static void
session_commit(struct session *s)
{
	if (s->state != S_ACTIVE)
		return;
	if (hostlog_flush(s->log) == -1) {
		session_pause(s);
		return;
	}
	session_ack(s);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) > OUT_CAP)
		session_pause(s);
}

static void
session_read_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct wire_hdr	 h;
	const uint8_t	*payload;
	const char	*err;
	int		 rv;

	while (s->state != S_CLOSING && !s->paused &&
	    (rv = wire_ev_next(in, conf->max_frame, &h, &payload, &err)) != 0) {
		if (rv == -1) {
			session_close(s, BYE_PROTOCOL, "protocol",
			    "bad frame header: %s", err);
			return;
		}
		session_frame(s, h.type, payload, h.len);
		evbuffer_drain(in, WIRE_HDR_LEN + h.len);
		/* A stuck log stops the reading of more records. */
		if (s->state == S_ACTIVE && hostlog_failed(s->log))
			break;
	}
	session_commit(s);
}

static void
session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	(void)bev;
	session_resume(s);
}

static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		if (what & BEV_EVENT_WRITING)
			session_close(s, BYE_TIMEOUT, "timeout",
			    "took no data for %d s", conf->idle_timeout);
		else
			session_close(s, BYE_TIMEOUT, "timeout",
			    "silent for %d s", conf->idle_timeout);
		return;
	}
	/* Keep what arrived before the end. */
	if (!s->paused)
		session_read_cb(s->bev, s);
	if (s->state == S_CLOSING)
		return;
	if (what & BEV_EVENT_EOF)
		session_end(s, "closed", "");
	else
		session_end(s, "error", evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
	session_free(s);
}

/* The handshake deadline, then (while the log is stuck) keepalive ACKs. */
static void
session_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct session	*s = arg;
	struct timeval	 tv = { conf->idle_timeout / 3, 0 };

	(void)fd;
	(void)ev;
	if (s->state == S_HELLO) {
		session_close(s, BYE_TIMEOUT, "timeout", "no HELLO within %d s",
		    conf->handshake_timeout);
		return;
	}
	if (s->state == S_ACTIVE && s->paused && hostlog_failed(s->log)) {
		wire_put_ack(&s->out, s->acked);
		session_send(s);
		evtimer_add(s->timer, &tv);
	}
}

/*
 * A host reconnecting while its old connection still looks alive (its
 * agent gave up on a link the collector has not yet noticed is dead) ends
 * the old one, so it is not later logged as gone offline.
 */
static void
session_replace(struct session *s)
{
	struct session	*o, *next;

	for (o = TAILQ_FIRST(&sessions); o != NULL; o = next) {
		next = TAILQ_NEXT(o, entry);
		if (o != s && o->state == S_ACTIVE &&
		    strcmp(o->host, s->host) == 0 && o->stream == s->stream)
			session_close(o, BYE_SHUTDOWN, "replaced",
			    "the agent reconnected from %s", s->peer);
	}
}

static void
session_hello(struct session *s, const uint8_t *p, size_t len)
{
	struct wire_hello	h;
	struct wire_welcome	w;
	struct buf		esc;
	struct timeval		tv = { conf->idle_timeout, 0 };
	const char		*err;

	if (wire_get_hello(p, len, &h, &err) == -1) {
		session_close(s, BYE_PROTOCOL, "protocol", "bad HELLO: %s",
		    err);
		return;
	}
	if (!hostname_ok(h.host, h.host_len)) {
		buf_init(&esc);
		session_close(s, BYE_BAD_HOST, "bad-host",
		    "refused host name \"%s\"",
		    escape_cstr(&esc, h.host, h.host_len));
		buf_free(&esc);
		return;
	}
	memcpy(s->host, h.host, h.host_len);
	s->host[h.host_len] = '\0';
	if ((s->log = hostlog_get(s->host)) == NULL) {
		log_warn("%s: cannot open %s.log", session_name(s), s->host);
		session_close(s, BYE_STORAGE, "write-error",
		    "cannot open %s.log", s->host);
		return;
	}
	evtimer_del(s->timer);
	s->stream = h.stream;
	session_replace(s);
	s->state = S_ACTIVE;
	s->started = record_now();
	/* Resume after what is durable; the rest comes again, deduplicated. */
	s->acked = hostlog_durable(s->log, s->stream);
	if (hostlog_offline(s->log)) {
		session_log_event(s, "host.online", NULL, NULL);
		hostlog_set_offline(s->log, 0);
	}
	session_log_event(s, "host.connect", NULL, NULL);
	w.last_seq = s->acked;
	w.heartbeat_ms = (uint32_t)conf->idle_timeout * 1000;
	w.max_frame = conf->max_frame;
	wire_put_welcome(&s->out, &w);
	session_send(s);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	log_info("%s: connected, stream %016" PRIx64 ", resuming after %"
	    PRIu64, session_name(s), s->stream, s->acked);
}

static void
session_record(struct session *s, const uint8_t *p, size_t len)
{
	const char	*err;

	if (wire_get_record(p, len, &s->rec, &err) == -1) {
		session_close(s, BYE_PROTOCOL, "protocol", "bad RECORD: %s",
		    err);
		return;
	}
	if (s->rec.seq == 0) {
		session_close(s, BYE_PROTOCOL, "protocol",
		    "bad RECORD: sequence 0");
		return;
	}
	/* Stored before the link broke: not again. */
	if (s->rec.seq <= hostlog_accepted(s->log, s->stream))
		return;
	s->rec.host = s->host;
	hostlog_append(s->log, &s->rec);
	hostlog_accept(s->log, s->stream, s->rec.seq);
	s->stored++;
}

static void
session_frame(struct session *s, uint8_t type, const uint8_t *p, size_t len)
{
	struct wire_bye	 bye;
	struct buf	 esc;
	const char	*err;

	if (s->state == S_HELLO) {
		if (type != WIRE_HELLO)
			session_close(s, BYE_PROTOCOL, "protocol",
			    "%s before HELLO", wire_type_name(type));
		else
			session_hello(s, p, len);
		return;
	}
	switch (type) {
	case WIRE_RECORD:
		session_record(s, p, len);
		break;
	case WIRE_HEARTBEAT:
		if (wire_get_record(p, len, &s->rec, &err) == -1) {
			session_close(s, BYE_PROTOCOL, "protocol",
			    "bad HEARTBEAT: %s", err);
			break;
		}
		/* The ACK is the agent's sign that we are alive. */
		wire_put_ack(&s->out, s->acked);
		session_send(s);
		break;
	case WIRE_BYE:
		if (wire_get_bye(p, len, &bye, &err) == -1) {
			session_close(s, BYE_PROTOCOL, "protocol",
			    "bad BYE: %s", err);
			break;
		}
		buf_init(&esc);
		session_commit(s);
		session_close(s, BYE_SHUTDOWN, "agent-stop", "%s",
		    escape_cstr(&esc, bye.reason, bye.reason_len));
		buf_free(&esc);
		break;
	default:
		session_close(s, BYE_PROTOCOL, "protocol",
		    "unexpected %s from an agent", wire_type_name(type));
		break;
	}
}

void
session_accept(struct event_base *base, evutil_socket_t fd,
    const struct sockaddr *sa)
{
	static time_t	 last_warn;
	struct session	*s;
	struct timeval	 tv = { conf->handshake_timeout, 0 };
	char		 peer[ADDR_STR_MAX];
	time_t		 now;

	if (nsessions >= conf->max_conns) {
		now = time(NULL);
		if (now != last_warn) {
			log_warnx("%s: refused, %d connections already",
			    addr_str(sa, peer, sizeof(peer)), nsessions);
			last_warn = now;
		}
		evutil_closesocket(fd);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	addr_str(sa, s->peer, sizeof(s->peer));
	record_init(&s->rec);
	buf_init(&s->out);
	s->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		log_warnx("%s: cannot set up the connection", s->peer);
		evutil_closesocket(fd);
		free(s);
		return;
	}
	TAILQ_INSERT_TAIL(&sessions, s, entry);
	nsessions++;
	/* At most one whole frame waits in memory per connection. */
	bufferevent_setwatermark(s->bev, EV_READ, 0,
	    WIRE_HDR_LEN + conf->max_frame);
	/* Reading resumes once the peer has taken its ACKs. */
	bufferevent_setwatermark(s->bev, EV_WRITE, OUT_CAP / 2, 0);
	bufferevent_setcb(s->bev, session_read_cb, session_write_cb,
	    session_event_cb, s);
	/* A deadline, not an idle timer: trickling bytes do not extend it. */
	s->timer = evtimer_new(base, session_timer_cb, s);
	evtimer_add(s->timer, &tv);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	log_debug("%s: accepted", s->peer);
}

/* Some records became durable: tell their agents. */
void
session_durable(void)
{
	struct session	*s;

	TAILQ_FOREACH(s, &sessions, entry)
		session_ack(s);
}

/* A host log that failed works again: its agents may send on. */
void
session_resume_all(void)
{
	struct session	*s, *next;

	for (s = TAILQ_FIRST(&sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		session_resume(s);
	}
}

void
session_shutdown(void)
{
	struct session	*s, *next;

	for (s = TAILQ_FIRST(&sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		session_commit(s);
		session_close(s, BYE_SHUTDOWN, "collector-stop", "%s", "");
	}
}

void
session_free_all(void)
{
	struct session	*s;

	while ((s = TAILQ_FIRST(&sessions)) != NULL) {
		session_end(s, "collector-stop", "");
		session_free(s);
	}
}
