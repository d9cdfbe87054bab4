/* SPDX-License-Identifier: ISC */
/*
 * The agent's connection to the collector.  Records go to the spool first
 * and wait there until the collector ACKs them; after a reconnect the agent
 * resends from what the collector's WELCOME says it last stored, so neither
 * a dropped connection nor a restart loses anything.  Reconnects back off
 * exponentially with jitter so a lab of PCs does not come back in one wave.
 *
 * With a list of collectors the link goes to the first that answers, in
 * order; a collector that cannot be reached (connect, TLS, silence, a BYE)
 * sends the agent on to the next, and a broken link starts again at the
 * first.  While on a later one the agent probes the first with a link of
 * its own; once that one is WELCOMEd, the old link stops taking records,
 * its last ACK is awaited (a record boundary), and the probe becomes the
 * link.  Each collector resumes from its own WELCOME; what another one
 * acknowledged has left the spool and is not sent again.
 */
#include <sys/random.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>

#include <openssl/err.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "agent.h"
#include "escape.h"
#include "log.h"
#include "spool.h"
#include "tls.h"
#include "wire.h"
#include "wire_ev.h"
#include "xmalloc.h"

#define BACKOFF_MIN_MS	500
#define OUT_HIGH	(256 * 1024)	/* bytes handed to the socket at once */
#define SHUTDOWN_WAIT	3		/* seconds to get the spool ACKed */
#define SYNC_DELAY_MS	100		/* spool writes become durable */
#define PROBE_MIN_MS	2000		/* first probe of the first collector */
#define DRAIN_WAIT_MS	2000		/* for the old link's last ACK */
#define CONNECT_WAIT	10		/* seconds for TCP, TLS and WELCOME */

/* Where the next attempt goes after a link is lost. */
#define RETRY_FIRST	0		/* the first collector: the link broke */
#define RETRY_NEXT	1		/* the next one: this one sent us away */

enum uplink_state {
	U_WAIT,		/* disconnected, reconnect timer running */
	U_CONNECTING,
	U_HELLO,	/* HELLO sent, waiting for WELCOME */
	U_READY,	/* the link; a probe: WELCOMEd, waiting to take over */
	U_DONE,		/* shut down */
};


static struct {
	const struct agent_conf	*conf;
	struct event_base	*base;
	struct evdns_base	*dns;
	struct bufferevent	*bev;
	struct event		*retry;
	struct event		*heartbeat;
	struct event		*deadline;	/* shutdown */
	enum uplink_state	 state;
	struct addr_hostport	 coll[ADDR_LIST_MAX];
	int			 ncoll;
	int			 cur;		/* the collector of the link */
	int			 from;		/* the last one that took records */
	char			 why[256];	/* why the agent left it */

	/* A link to the first collector while on a later one. */
	struct bufferevent	*probe;
	enum uplink_state	 probe_state;	/* U_WAIT: none */
	uint8_t			 probe_welcome[16];
	struct event		*probe_timer;
	struct event		*drain;		/* the old link's last ACK */
	int			 probe_ms;

	uint64_t		 stream;
	uint32_t		 max_frame;
	int			 hb_interval;	/* seconds */
	int			 backoff_ms;
	int64_t			 started;

	struct spool		*spool;
	struct event		*sync;
	void			(*done)(void);
	struct buf		 scratch;
	struct record		 check;		/* decode of our own frames */
} up;

static void	uplink_connect(void);
static void	uplink_finish(void);
static void	uplink_deadline_cb(evutil_socket_t, short, void *);
static void	uplink_retry_later(int);
static void	uplink_lost(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	uplink_spool(struct record *, const struct spool_drop *);
static void	uplink_probe_close(void);
static void	uplink_take_over(void);

#define CUR	(&up.coll[up.cur])

size_t
uplink_queued(void)
{
	return (size_t)spool_records(up.spool);
}

struct spool *
uplink_spool_of(void)
{
	return up.spool;
}

/* Forgets every spooled record the collector has stored (<= seq). */
static void
uplink_acked(uint64_t seq)
{
	spool_ack(up.spool, seq);
	if (up.done != NULL && spool_records(up.spool) == 0) {
		uplink_finish();
		return;
	}
	/* A switch waits for the old link to have everything it was sent. */
	if (up.probe_state == U_READY && seq >= spool_sent(up.spool))
		uplink_take_over();
}

/* Hands queued frames to the socket, a bounded amount at a time. */
static void
uplink_pump(void)
{
	struct evbuffer	*out;
	size_t		 len;

	/* Nothing more for a link that is about to be replaced. */
	if (up.state != U_READY || up.probe_state == U_READY)
		return;
	out = bufferevent_get_output(up.bev);
	while ((len = evbuffer_get_length(out)) < OUT_HIGH)
		if (spool_read(up.spool, out, OUT_HIGH - len) == 0)
			break;
}

/* Says which records a full spool dropped, in the stream itself. */
static void
uplink_report_drops(void)
{
	struct spool_drop	d;
	struct record		r;

	record_init(&r);
	while (spool_due(up.spool, &d, 1) == 1) {
		log_warnx("spool full: dropped %" PRIu64 " records (%" PRIu64
		    " to %" PRIu64 ")", d.count, d.first_seq, d.last_seq);
		record_begin(&r, "agent.dropped");
		r.host = up.conf->host;
		record_add_int(&r, "count", (int64_t)d.count);
		record_add_int(&r, "first_seq", (int64_t)d.first_seq);
		record_add_int(&r, "last_seq", (int64_t)d.last_seq);
		record_add_time(&r, "first_ts", d.first_ts);
		record_add_time(&r, "last_ts", d.last_ts);
		record_add_str(&r, "reason", "spool full");
		uplink_spool(&r, &d);
	}
	record_free(&r);
}

static void
uplink_sync_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	spool_sync(up.spool);
}

/* Numbers, checks and spools one record; report marks an agent.dropped. */
static int
uplink_spool(struct record *r, const struct spool_drop *report)
{
	struct timeval	 tv = { 0, SYNC_DELAY_MS * 1000 };
	const char	*err;
	size_t		 max;

	r->seq = spool_next_seq(up.spool);
	buf_reset(&up.scratch);
	wire_put_record(&up.scratch, WIRE_RECORD, r);
	/*
	 * A record the collector would refuse would cost the link and come
	 * back after every reconnect: check it as the collector will.  Its
	 * number is used only once it is in the spool.
	 */
	max = up.max_frame < SPOOL_FRAME_MAX ? up.max_frame : SPOOL_FRAME_MAX;
	if (up.scratch.len - WIRE_HDR_LEN > max) {
		log_warnx("%.*s record (%zu bytes) is larger than the "
		    "collector takes; not sent", (int)r->event.len,
		    (const char *)record_bytes(r) + r->event.off,
		    up.scratch.len);
		return -1;
	}
	if (wire_get_record(up.scratch.data + WIRE_HDR_LEN,
	    up.scratch.len - WIRE_HDR_LEN, &up.check, &err) == -1) {
		log_warnx("%.*s record is malformed (%s); not sent",
		    (int)r->event.len, (const char *)record_bytes(r) +
		    r->event.off, err);
		return -1;
	}
	if (spool_append(up.spool, up.scratch.data, up.scratch.len,
	    report) == -1)
		return -1;
	if (!evtimer_pending(up.sync, NULL))
		evtimer_add(up.sync, &tv);
	return 0;
}

void
uplink_send(struct record *r)
{
	if (up.state == U_DONE || uplink_spool(r, NULL) == -1)
		return;
	if (spool_ndue(up.spool) > 0 && up.state == U_READY) {
		/*
		 * Records in flight were dropped: only a new WELCOME can say
		 * which of them the collector stored, so the report is exact.
		 */
		log_warnx("spool full while connected; resynchronizing");
		up.backoff_ms = BACKOFF_MIN_MS;
		uplink_retry_later(RETRY_FIRST);
		return;
	}
	uplink_pump();
}

static void
uplink_drop_link(void)
{
	if (up.bev != NULL)
		bufferevent_free(up.bev);
	up.bev = NULL;
	evtimer_del(up.heartbeat);
}

/* Everything up to this seq is acknowledged (by some collector). */
static uint64_t
uplink_acked_up_to(void)
{
	return spool_next_seq(up.spool) - 1 - spool_records(up.spool);
}

/* Starts timer ev somewhere in [ms/2, ms]: full jitter. */
static int
uplink_jitter(struct event *ev, int ms)
{
	struct timeval	tv;
	uint32_t	r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)rand();
	ms = ms / 2 + (int)(r % (uint32_t)(ms / 2 + 1));
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
	return ms;
}

/* Doubles a backoff, up to --reconnect-max. */
static void
uplink_double(int *ms)
{
	*ms *= 2;
	if (*ms > up.conf->reconnect_max * 1000)
		*ms = up.conf->reconnect_max * 1000;
}

/*
 * Schedules the next attempt.  The next collector of the list is tried
 * after half a second; once the whole list failed (or the link broke) the
 * agent starts again at the first, with exponential backoff and full
 * jitter.  A probe that was WELCOMEd takes over at once instead.
 */
static void
uplink_retry_later(int next)
{
	int	ms;

	uplink_drop_link();
	if (up.done != NULL) {
		uplink_finish();
		return;
	}
	if (up.probe_state == U_READY) {
		uplink_take_over();
		return;
	}
	uplink_probe_close();
	up.state = U_WAIT;
	if (next && up.cur + 1 < up.ncoll) {
		up.cur++;
		ms = uplink_jitter(up.retry, BACKOFF_MIN_MS);
		log_info("trying collector %s:%s next (%d of %d) in %d ms",
		    CUR->host, CUR->port, up.cur + 1, up.ncoll, ms);
		return;
	}
	up.cur = 0;
	ms = uplink_jitter(up.retry, up.backoff_ms);
	log_debug("reconnecting to %s:%s in %d ms", CUR->host, CUR->port, ms);
	uplink_double(&up.backoff_ms);
}

/*
 * The link is lost, for the reason given: logged, kept as the reason of a
 * switch away from the collector that last took records, and the next
 * attempt scheduled.
 */
static void
uplink_lost(int next, const char *fmt, ...)
{
	char	why[sizeof(up.why)];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warnx("collector %s:%s: %s", CUR->host, CUR->port, why);
	if (up.cur == up.from)
		memcpy(up.why, why, sizeof(up.why));
	uplink_retry_later(next);
}

static void
uplink_heartbeat_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	tv = { up.hb_interval, 0 };
	struct record	r;

	(void)fd;
	(void)ev;
	(void)arg;
	record_init(&r);
	record_begin(&r, "agent.heartbeat");
	record_add_duration(&r, "uptime", record_now() - up.started);
	record_add_int(&r, "spool_records",
	    (int64_t)spool_records(up.spool));
	record_add_int(&r, "spool_bytes", (int64_t)spool_bytes(up.spool));
	agent_health(&r);
	buf_reset(&up.scratch);
	wire_put_record(&up.scratch, WIRE_HEARTBEAT, &r);
	bufferevent_write(up.bev, up.scratch.data, up.scratch.len);
	record_free(&r);
	evtimer_add(up.heartbeat, &tv);
}

/*
 * The collector claims records this agent never sent (seq above the last
 * one numbered), or says the stream is another host's: someone else wrote
 * into this stream, or the collector's memory is not this agent's.  Never
 * drop records on its word: go on under a new stream id, resending what is
 * spooled, and say so in the stream itself.
 */
static void
uplink_new_stream(const char *what, uint64_t claimed)
{
	struct record	r;
	char		old[17], new[17];

	snprintf(old, sizeof(old), "%016" PRIx64, up.stream);
	if (spool_restream(up.spool, &up.stream) == -1) {
		uplink_retry_later(RETRY_FIRST);
		return;
	}
	snprintf(new, sizeof(new), "%016" PRIx64, up.stream);
	if (claimed != 0)
		log_warnx("collector %s:%s: %s claims records up to %" PRIu64
		    ", but this agent numbered only up to %" PRIu64 "; going "
		    "on as stream %s", CUR->host, CUR->port, what, claimed,
		    spool_next_seq(up.spool) - 1, new);
	else
		log_warnx("collector %s:%s: stream %s belongs to another host; "
		    "going on as stream %s", CUR->host, CUR->port, old, new);
	record_init(&r);
	record_begin(&r, "agent.stream_reset");
	r.host = up.conf->host;
	record_add_str(&r, "reason", claimed != 0 ? "collector claims "
	    "records this agent never sent" : "stream belongs to another host");
	record_add_str(&r, "old_stream", old);
	record_add_str(&r, "new_stream", new);
	if (claimed != 0)
		record_add_int(&r, "claimed", (int64_t)claimed);
	record_add_int(&r, "last_seq",
	    (int64_t)(spool_next_seq(up.spool) - 1));
	uplink_spool(&r, NULL);
	record_free(&r);
	up.backoff_ms = BACKOFF_MIN_MS;
	uplink_retry_later(RETRY_FIRST);
}

/*
 * The link is to another collector than the last one that took records:
 * say so in the log and in the stream (agent.collector), which the new one
 * stores first.
 */
static void
uplink_switched(void)
{
	struct record	 r;
	char		 from[ADDR_HOST_MAX + ADDR_PORT_MAX + 4];
	char		 to[sizeof(from)];

	if (up.cur == up.from) {
		up.why[0] = '\0';	/* back where it was: nothing to say */
		return;
	}
	addr_join(from, sizeof(from), up.coll[up.from].host,
	    up.coll[up.from].port);
	addr_join(to, sizeof(to), CUR->host, CUR->port);
	if (up.why[0] == '\0')
		snprintf(up.why, sizeof(up.why), "unknown");
	log_warnx("switched from collector %s to %s (%d of %d): %s", from,
	    to, up.cur + 1, up.ncoll, up.why);
	record_init(&r);
	record_begin(&r, "agent.collector");
	r.host = up.conf->host;
	record_add_str(&r, "from", from);
	record_add_str(&r, "to", to);
	record_add_int(&r, "position", up.cur + 1);
	record_add_str(&r, "reason", up.why);
	uplink_spool(&r, NULL);
	record_free(&r);
	up.from = up.cur;
	up.why[0] = '\0';
}

static void
uplink_welcome(const uint8_t *p, size_t len)
{
	struct wire_welcome	 w;
	struct timeval		 tv;
	const char		*err;
	int			 hb;

	if (wire_get_welcome(p, len, &w, &err) == -1) {
		uplink_lost(RETRY_NEXT, "bad WELCOME: %s", err);
		return;
	}
	if (w.last_seq >= spool_next_seq(up.spool)) {
		uplink_new_stream("WELCOME", w.last_seq);
		return;
	}
	up.max_frame = w.max_frame < WIRE_MAX_FRAME_LIMIT ? w.max_frame :
	    WIRE_MAX_FRAME_LIMIT;
	/* Three heartbeats fit in the collector's idle timeout. */
	hb = up.conf->heartbeat;
	if (w.heartbeat_ms / 3000 > 0 && (int)(w.heartbeat_ms / 3000) < hb)
		hb = (int)(w.heartbeat_ms / 3000);
	up.hb_interval = hb;
	tv.tv_sec = hb * 3 + 2;
	tv.tv_usec = 0;
	bufferevent_set_timeouts(up.bev, &tv, &tv);
	tv.tv_sec = hb;
	evtimer_add(up.heartbeat, &tv);
	up.state = U_READY;
	up.backoff_ms = BACKOFF_MIN_MS;
	log_info("connected to %s:%s, collector has up to %" PRIu64
	    ", %" PRIu64 " spooled", CUR->host, CUR->port, w.last_seq,
	    spool_records(up.spool));
	uplink_acked(w.last_seq);
	spool_due_trim(up.spool, w.last_seq);
	uplink_report_drops();
	uplink_switched();
	spool_rewind(up.spool, w.last_seq);
	if (up.cur > 0)
		log_debug("probing collector %s:%s in %d ms", up.coll[0].host,
		    up.coll[0].port, uplink_jitter(up.probe_timer,
		    up.probe_ms));
	uplink_pump();
}

/* A command: checked and run by command.c, answered, and recorded. */
static void
uplink_command(const uint8_t *p, size_t len)
{
	struct wire_command	 c;
	struct record		 r;
	char			 detail[WIRE_TEXT_MAX];
	const char		*err;
	uint16_t		 status;

	if (wire_get_command(p, len, &c, &err) == -1) {
		uplink_lost(RETRY_NEXT, "bad COMMAND: %s", err);
		return;
	}
	status = command_run(&c, up.conf->tls != NULL, detail,
	    sizeof(detail));
	log_info("collector %s:%s: command %u %.*s: %s", CUR->host, CUR->port,
	    c.id, (int)c.name_len, (const char *)c.name, detail);
	record_init(&r);
	command_record(&r, &c, status, detail);
	r.host = up.conf->host;
	uplink_spool(&r, NULL);
	record_free(&r);
	buf_reset(&up.scratch);
	wire_put_result(&up.scratch, c.id, status, detail);
	bufferevent_write(up.bev, up.scratch.data, up.scratch.len);
	uplink_pump();
}

static void
uplink_frame(uint8_t type, const uint8_t *p, size_t len)
{
	struct wire_bye	 bye;
	struct buf	 esc;
	const char	*err;
	uint64_t	 seq;

	switch (type) {
	case WIRE_WELCOME:
		if (up.state != U_HELLO)
			break;
		uplink_welcome(p, len);
		return;
	case WIRE_ACK:
		if (up.state != U_READY)
			break;
		if (wire_get_ack(p, len, &seq, &err) == -1) {
			uplink_lost(RETRY_NEXT, "bad ACK: %s", err);
			return;
		}
		if (seq >= spool_next_seq(up.spool)) {
			uplink_new_stream("ACK", seq);
			return;
		}
		/* The first collector stores again: probe it soon next time. */
		if (up.cur == 0)
			up.probe_ms = PROBE_MIN_MS;
		uplink_acked(seq);
		uplink_pump();
		return;
	case WIRE_COMMAND:
		if (up.state != U_READY)
			break;
		uplink_command(p, len);
		return;
	case WIRE_BYE:
		if (wire_get_bye(p, len, &bye, &err) == -1) {
			uplink_lost(RETRY_NEXT, "bad BYE: %s", err);
			return;
		}
		if (bye.code == BYE_STREAM) {
			uplink_new_stream("BYE", 0);
			return;
		}
		if (bye.code == BYE_BAD_HOST)
			up.backoff_ms = up.conf->reconnect_max * 1000;
		/* A collector that sends the agent away: the next one. */
		buf_init(&esc);
		uplink_lost(RETRY_NEXT, "closed the link: BYE %u \"%s\"",
		    bye.code, escape_cstr(&esc, bye.reason, bye.reason_len));
		buf_free(&esc);
		return;
	}
	uplink_lost(RETRY_NEXT, "unexpected %s; reconnecting",
	    wire_type_name(type));
}

static void
uplink_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct wire_hdr	 h;
	const uint8_t	*payload;
	const char	*err;
	int		 rv;

	(void)arg;
	while (up.bev == bev && up.state != U_DONE &&
	    (rv = wire_ev_next(in, WIRE_MAX_FRAME, &h, &payload, &err)) != 0) {
		if (rv == -1) {
			uplink_lost(RETRY_NEXT, "%s; reconnecting", err);
			return;
		}
		uplink_frame(h.type, payload, h.len);
		if (up.bev == bev)
			evbuffer_drain(in, WIRE_HDR_LEN + h.len);
	}
}

static void
uplink_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)arg;
	uplink_pump();
}

/* Why a connection attempt failed: DNS, TLS or the socket. */
static const char *
uplink_error(struct bufferevent *bev)
{
	static char	 text[512];
	unsigned long	 e;
	SSL		*ssl;

	if (bufferevent_socket_get_dns_error(bev))
		return evutil_gai_strerror(bufferevent_socket_get_dns_error(bev));
	if (up.conf->tls != NULL &&
	    (ssl = bufferevent_openssl_get_ssl(bev)) != NULL &&
	    (((e = bufferevent_get_openssl_error(bev)) != 0 &&
	    ERR_GET_LIB(e) != 0) || SSL_get_verify_result(ssl) != X509_V_OK)) {
		snprintf(text, sizeof(text), "TLS: %s",
		    tls_handshake_error(ssl, e));
		while (bufferevent_get_openssl_error(bev) != 0)
			;
		return text;
	}
	return evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
}

/* The network monitor leaves this link (slot 0) or probe (1) alone. */
static void
uplink_exclude(struct bufferevent *bev, int slot)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen = sizeof(ss);

	if (getpeername(bufferevent_getfd(bev), (struct sockaddr *)&ss,
	    &sslen) == 0)
		net_exclude_peer(slot, (struct sockaddr *)&ss);
}

/* Says HELLO on a link (or probe) that just connected. */
static void
uplink_hello(struct bufferevent *bev, int slot)
{
	uplink_exclude(bev, slot);
	buf_reset(&up.scratch);
	wire_put_hello(&up.scratch, up.conf->host, up.stream,
	    LABWATCH_VERSION, WIRE_CAP_COMMANDS);
	bufferevent_write(bev, up.scratch.data, up.scratch.len);
}

static void
uplink_event_cb(struct bufferevent *bev, short what, void *arg)
{
	const char	*hint = "";

	(void)arg;
	/* Cut before WELCOME on plaintext: most likely a TLS collector. */
	if (up.state == U_HELLO && up.conf->tls == NULL)
		hint = " before WELCOME (a TLS collector? --insecure must be "
		    "on both sides)";
	if (what & BEV_EVENT_CONNECTED) {
		uplink_hello(bev, 0);
		up.state = U_HELLO;
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		uplink_lost(RETRY_NEXT, "silent, reconnecting");
	else if (up.state == U_CONNECTING)
		uplink_lost(RETRY_NEXT, "cannot connect: %s",
		    uplink_error(bev));
	else if (what & BEV_EVENT_EOF)
		uplink_lost(up.state == U_READY ? RETRY_FIRST : RETRY_NEXT,
		    "closed the connection%s", hint);
	else
		uplink_lost(up.state == U_READY ? RETRY_FIRST : RETRY_NEXT,
		    "%s%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()),
		    hint);
}

/* A new connection to collector i (TLS unless --insecure). */
static struct bufferevent *
uplink_dial(int i, bufferevent_data_cb readcb, bufferevent_event_cb eventcb)
{
	struct timeval		 tv = { CONNECT_WAIT, 0 };
	struct bufferevent	*bev;
	SSL			*ssl;

	if (up.conf->tls != NULL) {
		if ((ssl = SSL_new(up.conf->tls)) == NULL ||
		    tls_expect_host(ssl, up.coll[i].host) == -1)
			fatalx("SSL_new: %s", tls_error());
		bev = bufferevent_openssl_socket_new(up.base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else
		bev = bufferevent_socket_new(up.base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		fatalx("bufferevent_socket_new");
	bufferevent_setcb(bev, readcb, NULL, eventcb, NULL);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect_hostname(bev, up.dns, AF_UNSPEC,
	    up.coll[i].host, atoi(up.coll[i].port)) == -1) {
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}

static void
uplink_connect(void)
{
	up.state = U_CONNECTING;
	if ((up.bev = uplink_dial(up.cur, uplink_read_cb,
	    uplink_event_cb)) == NULL) {
		uplink_lost(RETRY_NEXT, "cannot connect");
		return;
	}
	bufferevent_setcb(up.bev, uplink_read_cb, uplink_write_cb,
	    uplink_event_cb, NULL);
	/* The write callback refills once the socket has taken half. */
	bufferevent_setwatermark(up.bev, EV_WRITE, OUT_HIGH / 2, 0);
}

static void
uplink_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	uplink_connect();
}

/* Closes the probe, if any. */
static void
uplink_probe_close(void)
{
	if (up.probe != NULL)
		bufferevent_free(up.probe);
	up.probe = NULL;
	up.probe_state = U_WAIT;
	evtimer_del(up.probe_timer);
	evtimer_del(up.drain);
	net_exclude_peer(1, NULL);
}

/* The probe failed: try again later, less often. */
static void
uplink_probe_failed(const char *why)
{
	int	ms;

	uplink_probe_close();
	ms = uplink_jitter(up.probe_timer, up.probe_ms);
	log_info("collector %s:%s (the first) still unavailable: %s; next "
	    "probe in %d ms", up.coll[0].host, up.coll[0].port, why, ms);
	uplink_double(&up.probe_ms);
}

static void
uplink_probe_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct wire_welcome	 w;
	struct wire_hdr		 h;
	struct wire_bye		 bye;
	struct timeval		 tv = { 0, DRAIN_WAIT_MS * 1000 };
	const uint8_t		*p;
	const char		*err = "bad WELCOME";
	int			 rv;

	(void)arg;
	if (up.probe_state != U_HELLO)
		return;		/* what follows WELCOME waits for the switch */
	if ((rv = wire_ev_next(in, WIRE_MAX_FRAME, &h, &p, &err)) == 0)
		return;
	if (rv == -1) {
		uplink_probe_failed(err);
		return;
	}
	if (h.type == WIRE_BYE) {
		uplink_probe_failed(wire_get_bye(p, h.len, &bye, &err) == 0 &&
		    bye.code == BYE_BUSY ? "busy" : "sent the agent away");
		return;
	}
	if (h.type != WIRE_WELCOME || h.len != sizeof(up.probe_welcome) ||
	    wire_get_welcome(p, h.len, &w, &err) == -1) {
		uplink_probe_failed(err);
		return;
	}
	/*
	 * The first collector is back.  The link stops taking records; once
	 * it has acknowledged what it was sent (or after a short wait) the
	 * probe takes over, resuming from its own WELCOME.
	 */
	memcpy(up.probe_welcome, p, sizeof(up.probe_welcome));
	evbuffer_drain(in, WIRE_HDR_LEN + h.len);
	bufferevent_disable(bev, EV_READ);
	bufferevent_set_timeouts(bev, NULL, NULL);
	up.probe_state = U_READY;
	/* Until the first ACKs records again: a collector that answers and
	 * then sends the agent away is probed less and less often. */
	uplink_double(&up.probe_ms);
	snprintf(up.why, sizeof(up.why), "the first collector answers again");
	log_info("collector %s:%s (the first) answers again; switching once "
	    "%s:%s has acknowledged what it was sent", up.coll[0].host,
	    up.coll[0].port, CUR->host, CUR->port);
	if (up.state != U_READY || spool_sent(up.spool) <= uplink_acked_up_to())
		uplink_take_over();
	else
		evtimer_add(up.drain, &tv);
}

static void
uplink_probe_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & BEV_EVENT_CONNECTED) {
		uplink_hello(bev, 1);
		up.probe_state = U_HELLO;
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		uplink_probe_failed("silent");
	else if (up.probe_state == U_CONNECTING)
		uplink_probe_failed(uplink_error(bev));
	else
		uplink_probe_failed("closed the connection");
}

static void
uplink_probe_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (up.state != U_READY || up.cur == 0 || up.probe != NULL)
		return;
	up.probe_state = U_CONNECTING;
	if ((up.probe = uplink_dial(0, uplink_probe_read_cb,
	    uplink_probe_event_cb)) == NULL)
		uplink_probe_failed("cannot connect");
}

static void
uplink_drain_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	log_info("collector %s:%s acknowledged up to %" PRIu64 " of %" PRIu64
	    " in time; the rest goes to the first collector too", CUR->host,
	    CUR->port, uplink_acked_up_to(), spool_sent(up.spool));
	uplink_take_over();
}

static void
uplink_let_go_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_free(bev);
}

static void
uplink_let_go_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

/* Says BYE on an old link, closed once it is written (or cannot be). */
static void
uplink_let_go(struct bufferevent *bev)
{
	struct timeval	tv = { 2, 0 };

	buf_reset(&up.scratch);
	wire_put_bye(&up.scratch, BYE_SHUTDOWN, "switching to the first "
	    "collector");
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_setcb(bev, NULL, uplink_let_go_cb, uplink_let_go_event_cb,
	    NULL);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_write(bev, up.scratch.data, up.scratch.len);
}

/*
 * The probe becomes the link, at a record boundary: the old link (if
 * still up) says BYE, and the WELCOME the probe got is read as the new
 * link's own.
 */
static void
uplink_take_over(void)
{
	struct bufferevent	*bev = up.probe;

	evtimer_del(up.drain);
	if (up.bev != NULL && up.state == U_READY) {
		evtimer_del(up.heartbeat);
		uplink_let_go(up.bev);
		up.bev = NULL;
	} else
		uplink_drop_link();
	evtimer_del(up.retry);
	up.probe = NULL;
	up.probe_state = U_WAIT;
	net_exclude_peer(1, NULL);
	uplink_exclude(bev, 0);
	up.bev = bev;
	up.cur = 0;
	up.state = U_HELLO;
	bufferevent_setcb(bev, uplink_read_cb, uplink_write_cb,
	    uplink_event_cb, NULL);
	bufferevent_setwatermark(bev, EV_WRITE, OUT_HIGH / 2, 0);
	bufferevent_enable(bev, EV_READ);
	uplink_welcome(up.probe_welcome, sizeof(up.probe_welcome));
	/* Frames that came after WELCOME while the old link drained. */
	if (up.bev == bev)
		uplink_read_cb(bev, NULL);
}

void
uplink_init(struct event_base *base, const struct agent_conf *conf)
{
	const char	*err;
	int		 n;

	up.conf = conf;
	up.base = base;
	if ((up.spool = spool_open(conf->state_dir, conf->spool_max,
	    conf->state_fresh, &up.stream)) == NULL)
		fatalx("cannot use the spool in %s", conf->state_dir);
	up.max_frame = WIRE_MAX_FRAME;
	up.hb_interval = conf->heartbeat;
	up.backoff_ms = BACKOFF_MIN_MS;
	up.started = record_now();
	buf_init(&up.scratch);
	record_init(&up.check);
	if ((n = addr_split_list(conf->collector, up.coll, ADDR_LIST_MAX,
	    &err)) == -1)
		fatalx("--collector %s: %s", conf->collector, err);
	up.ncoll = n;
	up.probe_ms = PROBE_MIN_MS;
	up.dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (up.dns == NULL)
		up.dns = evdns_base_new(base, 0);
	up.retry = evtimer_new(base, uplink_retry_cb, NULL);
	up.heartbeat = evtimer_new(base, uplink_heartbeat_cb, NULL);
	up.deadline = evtimer_new(base, uplink_deadline_cb, NULL);
	up.sync = evtimer_new(base, uplink_sync_cb, NULL);
	up.probe_timer = evtimer_new(base, uplink_probe_cb, NULL);
	up.drain = evtimer_new(base, uplink_drain_cb, NULL);
	uplink_connect();
}

static void
uplink_bye_sent_cb(struct bufferevent *bev, void *arg)
{
	void	(*done)(void) = up.done;

	(void)bev;
	(void)arg;
	uplink_drop_link();
	uplink_probe_close();
	up.state = U_DONE;
	up.done = NULL;
	evtimer_del(up.deadline);
	evtimer_del(up.sync);
	spool_close(up.spool);
	if (done != NULL)
		done();
}

/* Ends the link: a BYE if connected, then the done callback. */
static void
uplink_finish(void)
{
	struct timeval	tv = { 1, 0 };

	evtimer_del(up.retry);
	if (up.state == U_DONE)
		return;
	uplink_probe_close();
	if (up.state != U_READY) {
		uplink_bye_sent_cb(NULL, NULL);
		return;
	}
	if (spool_records(up.spool) > 0)
		log_warnx("stopping with %" PRIu64 " records not acknowledged; "
		    "they stay in the spool", spool_records(up.spool));
	up.state = U_DONE;
	buf_reset(&up.scratch);
	wire_put_bye(&up.scratch, BYE_SHUTDOWN, "agent stopping");
	bufferevent_setwatermark(up.bev, EV_WRITE, 0, 0);
	bufferevent_setcb(up.bev, NULL, uplink_bye_sent_cb, NULL, NULL);
	bufferevent_write(up.bev, up.scratch.data, up.scratch.len);
	evtimer_del(up.deadline);
	evtimer_add(up.deadline, &tv);
}

/* Shutdown took too long: stop waiting for ACKs, or for the BYE to leave. */
static void
uplink_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (up.state == U_DONE)
		uplink_bye_sent_cb(NULL, NULL);
	else
		uplink_finish();
}

void
uplink_shutdown(void (*done)(void))
{
	struct timeval	tv = { SHUTDOWN_WAIT, 0 };

	up.done = done;
	/* A link on its way up may still take what is spooled. */
	if (spool_records(up.spool) == 0 || up.state == U_WAIT ||
	    up.state == U_DONE) {
		uplink_finish();
		return;
	}
	evtimer_add(up.deadline, &tv);
}
