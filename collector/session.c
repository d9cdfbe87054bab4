/* SPDX-License-Identifier: ISC */
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
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addr.h"
#include "alert.h"
#include "collector.h"
#include "escape.h"
#include "hostlog.h"
#include "hoststat.h"
#include "enroll.h"
#include "hostname.h"
#include "hostnet.h"
#include "index.h"
#include "lab.h"
#include "live.h"
#include "log.h"
#include "metrics.h"
#include "peerlimit.h"
#include "tls.h"
#include "wake.h"
#include "wire.h"
#include "wire_ev.h"
#include "xmalloc.h"

#define CLOSE_TIMEOUT	5		/* seconds to deliver a BYE */
#define OUT_CAP		(64 * 1024)	/* output waiting before reads stop */
/* Before HELLO a peer is nobody: it may hold one handshake frame. */
#define HELLO_FRAME_MAX	(2 + WIRE_HOST_MAX + 2 + WIRE_SECRET_MAX + 2 + \
			 WIRE_CSR_MAX)

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
	int			 tls;		/* TLS (handshake done or not) */
	int			 secure;	/* handshake done */
	X509			*cert;		/* the agent's, once verified */
	char			 peer[ADDR_STR_MAX];
	char			 addr[ADDR_STR_MAX];	/* peer, no port */
	char			 identity[HOSTNAME_MAX + 1];	/* cert CN */
	char			 serial[80];	/* cert serial, hex */
	char			 host[HOSTNAME_MAX + 1];
	uint64_t		 stream;
	uint32_t		 caps;		/* HELLO's capability bits */
	struct hostlog		*log;
	uint64_t		 acked;		/* last seq ACKed */
	uint64_t		 stored;	/* records accepted */
	int64_t			 unacked_since;	/* µs; 0: all ACKed */
	int64_t			 started;	/* µs, at HELLO */
	struct record		 rec;		/* decode scratch */
	struct buf		 out;		/* encode scratch */
};

static TAILQ_HEAD(, session)	sessions = TAILQ_HEAD_INITIALIZER(sessions);
static int			nsessions;	/* all */
static int			npending;	/* before HELLO */
static const struct collector_conf *conf;
static SSL_CTX			*tls_ctx;	/* NULL: --insecure */

static void	session_frame(struct session *, uint8_t, const uint8_t *,
		    size_t);
static void	session_read_cb(struct bufferevent *, void *);

void
session_init(const struct collector_conf *c)
{
	conf = c;
}

/*
 * Logs a line about a peer's misbehaviour, at most once a minute per
 * address, saying how many were held back since.
 */
static void
session_complain(struct session *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
session_complain(struct session *s, const char *fmt, ...)
{
	char		msg[512];
	unsigned	held;
	va_list		ap;

	/* A peer that proved who it is always gets its line. */
	held = 0;
	if (s->tls && s->cert == NULL &&
	    !peerlimit_may_log(s->addr, time(NULL), &held))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (held > 0)
		log_warnx("%s: %s (and %u more from this address in the last "
		    "minute)", s->peer, msg, held);
	else
		log_warnx("%s: %s", s->peer, msg);
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
		record_add_bool(&r, "tls", s->tls);
		if (s->cert != NULL) {
			record_add_str(&r, "identity", s->identity);
			record_add_str(&r, "serial", s->serial);
		}
	} else if (reason != NULL) {
		record_add_str(&r, "reason", reason);
		if (detail[0] != '\0')
			record_add_str(&r, "detail", detail);
		record_add_int(&r, "records", (int64_t)s->stored);
		record_add_duration(&r, "duration", r.ts_us - s->started);
	}
	hostlog_append(s->log, 0, &r);
	alert_record(s->host, &r);
	index_record(s->host, &r);
	live_record(s->host, &r);
	record_free(&r);
}

static void
session_free(struct session *s)
{
	TAILQ_REMOVE(&sessions, s, entry);
	nsessions--;
	if (s->state == S_HELLO)
		npending--;
	X509_free(s->cert);
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
	hoststat_disconnect(s->host, record_now());
	live_host(s->host);
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
	if (code == BYE_PROTOCOL)
		session_complain(s, "%s; closing", detail);
	session_end(s, reason, detail);
	if (s->state == S_HELLO)
		npending--;
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
		if (s->unacked_since != 0) {
			metrics_ack_latency(record_now() - s->unacked_since);
			s->unacked_since = 0;
		}
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

/* A TLS ClientHello on a plaintext collector: say what is wrong. */
static const char *
session_tls_hint(struct session *s, struct evbuffer *in)
{
	uint8_t	p[2];

	if (s->tls || s->state != S_HELLO ||
	    evbuffer_copyout(in, p, 2) != 2 || p[0] != 0x16 || p[1] != 0x03)
		return "";
	return " (a TLS client: this collector runs --insecure)";
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
	    (rv = wire_ev_next(in, s->state == S_HELLO ? HELLO_FRAME_MAX :
	    conf->max_frame, &h, &payload, &err)) != 0) {
		if (rv == -1) {
			session_close(s, BYE_PROTOCOL, "protocol",
			    "bad frame header: %s%s", err, session_tls_hint(s,
			    in));
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

/* The TLS handshake is done: keep the agent's verified certificate. */
static void
session_secured(struct session *s)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(s->bev);

	s->secure = 1;
	if ((s->cert = SSL_get1_peer_certificate(ssl)) == NULL)
		return;
	if (tls_cert_cn(s->cert, s->identity, sizeof(s->identity)) == -1 ||
	    !hostname_ok(s->identity, strlen(s->identity)))
		snprintf(s->identity, sizeof(s->identity), "?");
	tls_cert_serial(s->cert, s->serial, sizeof(s->serial));
	log_debug("%s: TLS %s, certificate of %s (serial %s)", s->peer,
	    SSL_get_version(ssl), s->identity, s->serial);
}

/* A handshake that failed: say why, once a minute per address. */
static void
session_tls_failed(struct session *s)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(s->bev);
	unsigned long	 err = bufferevent_get_openssl_error(s->bev);

	metrics_inc(METRIC_HANDSHAKE_FAILURES);
	session_complain(s, "TLS handshake failed: %s",
	    tls_handshake_error(ssl, err));
	while (bufferevent_get_openssl_error(s->bev) != 0)
		;
}

static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		session_secured(s);
		return;
	}
	if (s->tls && !s->secure) {
		/* Nothing was said: no host to log a disconnect for. */
		session_tls_failed(s);
		session_free(s);
		return;
	}
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
		if (s->tls && !s->secure) {
			metrics_inc(METRIC_HANDSHAKE_FAILURES);
			session_complain(s, "no TLS handshake within %d s",
			    conf->handshake_timeout);
			session_free(s);
			return;
		}
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

/* The live session of host other than s, or NULL. */
static struct session *
session_of_host(struct session *s)
{
	struct session	*o;

	TAILQ_FOREACH(o, &sessions, entry)
		if (o != s && o->state == S_ACTIVE &&
		    strcmp(o->host, s->host) == 0)
			return o;
	return NULL;
}

/*
 * A host connecting while an older connection of it still looks alive.
 * Its agent may have given up on a link the collector has not yet seen
 * die: the older one ends, so it is not later logged as gone offline.  But
 * only for a peer that proves it is that host (its certificate) or, on a
 * plaintext link, continues the same stream; anyone else is refused.  Two
 * streams never take turns in one log without a line saying so.  Returns
 * -1 when s was refused.
 */
static int
session_replace(struct session *s)
{
	struct session	*o;

	if ((o = session_of_host(s)) == NULL)
		return 0;
	if (s->cert == NULL && o->stream != s->stream) {
		session_complain(s, "claims host %s, which is connected from "
		    "%s; refused", s->host, o->peer);
		session_close(s, BYE_BAD_HOST, "bad-host",
		    "host %s is connected already", s->host);
		return -1;
	}
	if (o->stream != s->stream) {
		log_warnx("%s: a second agent with the certificate of %s "
		    "(stream %016" PRIx64 ") replaces the one at %s (stream "
		    "%016" PRIx64 "): two PCs share one key?", s->peer,
		    s->host, s->stream, o->peer, o->stream);
		session_close(o, BYE_SHUTDOWN, "replaced",
		    "another agent with this host's certificate connected "
		    "from %s with stream %016" PRIx64, s->peer, s->stream);
	} else
		session_close(o, BYE_SHUTDOWN, "replaced",
		    "the agent reconnected from %s", s->peer);
	return 0;
}

/*
 * Names the collector refuses although they are valid host names: one
 * ending in ".log" (its file would be NAME.log.log, easily mistaken), and
 * one that differs only in case from a host already known (on a
 * case-insensitive file system, or copied to one, the two would be one
 * file).  Returns -1 when s was refused.
 */
static int
session_name_clash(struct session *s)
{
	const char	*twin;
	size_t		 len = strlen(s->host);

	if (strcasecmp(s->host, LAB_HOST) == 0) {
		session_complain(s, "refused host name %s: the lab log's",
		    s->host);
		session_close(s, BYE_BAD_HOST, "bad-host",
		    "host name %s is reserved for the lab log", s->host);
		return -1;
	}
	if (len >= 4 && strcasecmp(s->host + len - 4, ".log") == 0) {
		session_complain(s, "refused host name %s: ends in .log",
		    s->host);
		session_close(s, BYE_BAD_HOST, "bad-host",
		    "a host name may not end in .log");
		return -1;
	}
	if ((twin = hostlog_case_twin(s->host)) != NULL) {
		session_complain(s, "refused host name %s: host %s is known "
		    "already (names differing only in case share a file on "
		    "some file systems)", s->host, twin);
		session_close(s, BYE_BAD_HOST, "bad-host",
		    "host %s differs from %s only in case", s->host, twin);
		return -1;
	}
	return 0;
}

/*
 * Who may speak for a host: on TLS, only a peer whose certificate names
 * it; never for a stream the collector knows under another host.  Returns
 * -1 when s was refused.
 */
static int
session_identify(struct session *s)
{
	const char	*owner;

	if (s->tls && s->cert == NULL) {
		session_complain(s, "HELLO as %s without a certificate; "
		    "refused", s->host);
		session_close(s, BYE_BAD_HOST, "bad-host",
		    "no client certificate: enrol this PC first");
		return -1;
	}
	if (s->cert != NULL &&
	    !tls_cert_names(s->cert, s->host, strlen(s->host))) {
		session_complain(s, "suspicious: the certificate of \"%s\" "
		    "(serial %s) claims host %s; refused", s->identity,
		    s->serial, s->host);
		session_close(s, BYE_BAD_HOST, "bad-host",
		    "the certificate does not name host %s", s->host);
		return -1;
	}
	if ((owner = hostlog_stream_owner(s->stream)) != NULL &&
	    strcmp(owner, s->host) != 0) {
		session_complain(s, "suspicious: host %s asks for stream "
		    "%016" PRIx64 ", which belongs to %s; refused", s->host,
		    s->stream, owner);
		session_close(s, BYE_STREAM, "bad-stream",
		    "stream %016" PRIx64 " belongs to another host", s->stream);
		return -1;
	}
	if (s->cert == NULL)
		log_warnx("%s: plaintext link for %s (--insecure): neither "
		    "authenticated nor encrypted", s->peer, s->host);
	return 0;
}

static void
session_hello(struct session *s, const uint8_t *p, size_t len)
{
	struct wire_hello	h;
	struct wire_welcome	w;
	struct buf		esc;
	struct timeval		tv = { conf->idle_timeout, 0 };
	const char		*err, *name;

	if (wire_get_hello(p, len, &h, &err) == -1) {
		session_close(s, BYE_PROTOCOL, "protocol", "bad HELLO: %s",
		    err);
		return;
	}
	if (!hostname_ok(h.host, h.host_len)) {
		buf_init(&esc);
		name = escape_cstr(&esc, h.host, h.host_len);
		session_complain(s, "refused host name \"%s\"", name);
		session_close(s, BYE_BAD_HOST, "bad-host",
		    "refused host name \"%s\"", name);
		buf_free(&esc);
		return;
	}
	memcpy(s->host, h.host, h.host_len);
	s->host[h.host_len] = '\0';
	s->stream = h.stream;
	s->caps = h.caps;
	if (session_name_clash(s) == -1)
		return;
	if (session_identify(s) == -1 || session_replace(s) == -1)
		return;
	if (nsessions - npending >= conf->max_conns) {
		session_complain(s, "refused, %d agents connected already",
		    nsessions - npending);
		session_close(s, BYE_BUSY, "busy", "too many agents");
		return;
	}
	if ((s->log = hostlog_get(s->host)) == NULL) {
		log_warn("%s: cannot open %s.log", session_name(s), s->host);
		session_close(s, BYE_STORAGE, "write-error",
		    "cannot open %s.log", s->host);
		return;
	}
	evtimer_del(s->timer);
	npending--;
	s->state = S_ACTIVE;
	bufferevent_setwatermark(s->bev, EV_READ, 0,
	    WIRE_HDR_LEN + conf->max_frame);
	s->started = record_now();
	/* Resume after what is durable; the rest comes again, deduplicated. */
	s->acked = hostlog_durable(s->log, s->stream);
	if (hostlog_offline(s->log)) {
		session_log_event(s, "host.online", NULL, NULL);
		hostlog_set_offline(s->log, 0);
	}
	session_log_event(s, "host.connect", NULL, NULL);
	buf_init(&esc);
	hoststat_connect(s->host, s->peer, escape_cstr(&esc, h.software,
	    h.software_len), s->cert != NULL ? s->identity : "", s->started);
	buf_free(&esc);
	live_host(s->host);
	w.last_seq = s->acked;
	w.heartbeat_ms = (uint32_t)conf->idle_timeout * 1000;
	w.max_frame = conf->max_frame;
	wire_put_welcome(&s->out, &w);
	session_send(s);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	log_info("%s: connected, stream %016" PRIx64 ", resuming after %"
	    PRIu64, session_name(s), s->stream, s->acked);
	wake_connected(s->host);
}

/*
 * A record in the collector's own namespace: no agent may write what looks
 * like the collector's word (host.connect with a resume point, say).  It
 * is not stored; a line of the collector's own says that it came, and its
 * number counts as delivered so the stream goes on.
 */
static void
session_refuse_record(struct session *s)
{
	struct record	r;

	session_complain(s, "suspicious: a record named %.*s, which only "
	    "the collector writes; not stored", (int)s->rec.event.len,
	    (const char *)record_bytes(&s->rec) + s->rec.event.off);
	record_init(&r);
	record_begin(&r, "host.refused");
	r.host = s->host;
	record_add_strn(&r, "refused_event", record_bytes(&s->rec) +
	    s->rec.event.off, s->rec.event.len);
	record_add_int(&r, "number", (int64_t)s->rec.seq);
	record_add_str(&r, "reason", "reserved for the collector");
	hostlog_append(s->log, 0, &r);
	record_free(&r);
}

/* The string field key of the record just read, escaped, or "". */
static const char *
session_field(struct session *s, const char *key, struct buf *esc)
{
	const struct field	*f = record_get(&s->rec, key);

	if (f == NULL || f->type != FIELD_STR)
		return "";
	return escape_cstr(esc, record_bytes(&s->rec) + f->v.str.off,
	    f->v.str.len);
}

/* A blinded agent stands out in the collector's own log too. */
static void
session_note_health(struct session *s)
{
	struct buf	m, r;
	const uint8_t	*ev = record_bytes(&s->rec) + s->rec.event.off;
	size_t		 len = s->rec.event.len;

	if (len == 14 && memcmp(ev, "agent.degraded", 14) == 0) {
		buf_init(&m);
		buf_init(&r);
		log_warnx("%s: agent degraded: %s: %s", session_name(s),
		    session_field(s, "monitor", &m),
		    session_field(s, "reason", &r));
		buf_free(&m);
		buf_free(&r);
	} else if (len == 15 && memcmp(ev, "agent.recovered", 15) == 0) {
		buf_init(&m);
		log_info("%s: agent recovered: %s", session_name(s),
		    session_field(s, "monitor", &m));
		buf_free(&m);
	}
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
	if (record_event_reserved(record_bytes(&s->rec) + s->rec.event.off,
	    s->rec.event.len))
		session_refuse_record(s);
	else {
		hostlog_append(s->log, s->stream, &s->rec);
		session_note_health(s);
		if (s->rec.event.len == 11 && memcmp(record_bytes(&s->rec) +
		    s->rec.event.off, "agent.start", 11) == 0)
			hostnet_learn(s->host, &s->rec);
		hoststat_record(s->host, &s->rec, WIRE_HDR_LEN + len,
		    hoststat_today(s->rec.ts_us));
		alert_record(s->host, &s->rec);
		index_record(s->host, &s->rec);
		lab_record(s->host, &s->rec);
		live_record(s->host, &s->rec);
	}
	hostlog_accept(s->log, s->stream, s->rec.seq);
	s->stored++;
	if (s->unacked_since == 0)
		s->unacked_since = record_now();
}

/*
 * ENROLL: a PC without a certificate asks for one.  Only on TLS (the
 * secret must not cross the network in clear); enroll.c decides and signs.
 */
static void
session_enroll(struct session *s, const uint8_t *p, size_t len)
{
	struct wire_enroll	 e;
	struct buf		 pem;
	char			 why[256];
	const char		*err;

	if (wire_get_enroll(p, len, &e, &err) == -1) {
		session_close(s, BYE_PROTOCOL, "protocol", "bad ENROLL: %s",
		    err);
		return;
	}
	if (!s->tls) {
		session_complain(s, "enrolment over a plaintext link; refused");
		session_close(s, BYE_ENROLL, "enrol", "enrolment needs TLS");
		return;
	}
	buf_init(&pem);
	if (enroll_request(s->addr, &e, &pem, why, sizeof(why)) == -1)
		session_close(s, BYE_ENROLL, "enrol", "%s", why);
	else {
		wire_put_enrolled(&s->out, pem.data, pem.len);
		session_send(s);
		session_close(s, BYE_SHUTDOWN, "enrol", "%s", "enrolled");
	}
	buf_free(&pem);
}

static void
session_frame(struct session *s, uint8_t type, const uint8_t *p, size_t len)
{
	struct wire_bye	 bye;
	struct wire_result res;
	struct buf	 esc;
	const char	*err;

	if (s->state == S_HELLO) {
		if (type == WIRE_HELLO)
			session_hello(s, p, len);
		else if (type == WIRE_ENROLL)
			session_enroll(s, p, len);
		else
			session_close(s, BYE_PROTOCOL, "protocol",
			    "%s before HELLO", wire_type_name(type));
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
		hoststat_heartbeat(s->host, &s->rec);
		/* The ACK is the agent's sign that we are alive. */
		wire_put_ack(&s->out, s->acked);
		session_send(s);
		break;
	case WIRE_RESULT:
		if (wire_get_result(p, len, &res, &err) == -1) {
			session_close(s, BYE_PROTOCOL, "protocol",
			    "bad RESULT: %s", err);
			break;
		}
		wake_result(s->host, &res);
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

/* The address part of "addr:port" or "[v6]:port". */
static void
session_peer_addr(const char *peer, char *addr, size_t size)
{
	const char	*colon = strrchr(peer, ':');
	size_t		 len = colon != NULL ? (size_t)(colon - peer) :
			    strlen(peer);

	snprintf(addr, size, "%.*s", (int)len, peer);
}

/*
 * Whether a new connection from peer may wait for its handshake: nobody
 * unproven holds more than --max-pending slots, nor one address more than
 * --max-pending-per-addr, so a flood of idle sockets cannot lock the
 * lab's agents out; proven agents have their own --max-conns.  NULL, or
 * why not.
 */
static const char *
session_admit(const char *peer)
{
	static char	 why[128];
	struct session	*s;
	char		 addr[ADDR_STR_MAX];
	int		 n = 0;

	if (npending >= conf->max_pending) {
		snprintf(why, sizeof(why), "%d connections wait for their "
		    "handshake already", npending);
		return why;
	}
	session_peer_addr(peer, addr, sizeof(addr));
	TAILQ_FOREACH(s, &sessions, entry)
		if (s->state == S_HELLO && strcmp(s->addr, addr) == 0)
			n++;
	if (n >= conf->max_pending_addr) {
		snprintf(why, sizeof(why), "%d connections from this address "
		    "wait for their handshake already", n);
		return why;
	}
	return NULL;
}

void
session_accept(struct event_base *base, evutil_socket_t fd,
    const struct sockaddr *sa)
{
	static time_t	 last_warn;
	struct session	*s;
	struct timeval	 tv = { conf->handshake_timeout, 0 };
	char		 peer[ADDR_STR_MAX];
	const char	*why;
	SSL		*ssl;
	time_t		 now;

	addr_str(sa, peer, sizeof(peer));
	if ((why = session_admit(peer)) != NULL) {
		now = time(NULL);
		if (now != last_warn) {
			log_warnx("%s: refused, %s", peer, why);
			last_warn = now;
		}
		evutil_closesocket(fd);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	memcpy(s->peer, peer, sizeof(s->peer));
	session_peer_addr(s->peer, s->addr, sizeof(s->addr));
	record_init(&s->rec);
	buf_init(&s->out);
	if (tls_ctx != NULL && (ssl = SSL_new(tls_ctx)) != NULL) {
		s->tls = 1;
		s->bev = bufferevent_openssl_socket_new(base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (s->bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	} else if (tls_ctx == NULL)
		s->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		log_warnx("%s: cannot set up the connection", s->peer);
		evutil_closesocket(fd);
		free(s);
		return;
	}
	TAILQ_INSERT_TAIL(&sessions, s, entry);
	nsessions++;
	npending++;
	/* Before HELLO, one handshake frame; after, one whole record. */
	bufferevent_setwatermark(s->bev, EV_READ, 0,
	    WIRE_HDR_LEN + HELLO_FRAME_MAX);
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

void
session_set_tls(SSL_CTX *ctx)
{
	struct session	*s, *next;
	STACK_OF(X509)	*chain;
	const char	*why;

	if (tls_ctx != NULL)
		SSL_CTX_free(tls_ctx);
	tls_ctx = ctx;
	if (ctx == NULL)
		return;
	/* Connected agents are held to the new CA and CRL too. */
	for (s = TAILQ_FIRST(&sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->cert == NULL || s->state == S_CLOSING)
			continue;
		chain = SSL_get_peer_cert_chain(
		    bufferevent_openssl_get_ssl(s->bev));
		if (tls_reverify(ctx, s->cert, chain, &why) == 0)
			continue;
		log_warnx("%s: certificate of %s (serial %s) no longer "
		    "valid: %s; closing", s->peer, s->identity, s->serial, why);
		session_close(s, BYE_BAD_HOST, "revoked", "certificate no "
		    "longer valid: %s", why);
	}
}

int
session_online(const char *host)
{
	struct session	*s;

	TAILQ_FOREACH(s, &sessions, entry)
		if (s->state == S_ACTIVE && strcmp(s->host, host) == 0)
			return 1;
	return 0;
}

/* An active session that may be sent commands: TLS-proven, capable. */
static struct session *
session_commandable(const char *host)
{
	struct session	*s;

	TAILQ_FOREACH(s, &sessions, entry)
		if (s->state == S_ACTIVE && strcmp(s->host, host) == 0 &&
		    s->cert != NULL && (s->caps & WIRE_CAP_COMMANDS))
			return s;
	return NULL;
}

void
session_pick_relays(struct relay_pick *p, int max)
{
	struct session	*s;
	int		 k;

	TAILQ_FOREACH(s, &sessions, entry) {
		if (p->n >= max || p->n >= 3)
			break;
		if (s->state != S_ACTIVE || s->cert == NULL ||
		    !(s->caps & WIRE_CAP_COMMANDS) ||
		    strcmp(s->host, p->target) == 0 ||
		    !hostnet_on_segment(s->host, p->addr, p->prefix))
			continue;
		for (k = 0; k < p->n; k++)
			if (strcmp(p->hosts[k], s->host) == 0)
				break;
		if (k == p->n)
			snprintf(p->hosts[p->n++], sizeof(p->hosts[0]), "%s",
			    s->host);
	}
}

int
session_command(const char *host, uint32_t id, const char *name, int nargs,
    const char *const *args)
{
	struct session	*s = session_commandable(host);

	if (s == NULL)
		return -1;
	wire_put_command(&s->out, id, name, nargs, args);
	session_send(s);
	return 0;
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
