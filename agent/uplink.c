/*
 * The agent's connection to the collector.  Records wait in a memory queue
 * until the collector ACKs them; after a reconnect the agent resends from
 * what the collector's WELCOME says it last stored, so a dropped connection
 * loses nothing.  Reconnects back off exponentially with jitter so a lab of
 * PCs does not come back in one wave.
 */
#include <sys/random.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "agent.h"
#include "escape.h"
#include "log.h"
#include "wire.h"
#include "wire_ev.h"
#include "xmalloc.h"

#define BACKOFF_MIN_MS	500
#define OUT_HIGH	(256 * 1024)	/* bytes handed to the socket at once */
#define SHUTDOWN_WAIT	3		/* seconds to get the queue ACKed */

enum uplink_state {
	U_WAIT,		/* disconnected, reconnect timer running */
	U_CONNECTING,
	U_HELLO,	/* HELLO sent, waiting for WELCOME */
	U_READY,
	U_DONE,		/* shut down */
};

struct qent {
	uint64_t	seq;
	int64_t		ts_us;
	uint32_t	len;
	uint8_t		frame[];
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
	char			 host[ADDR_HOST_MAX];
	char			 port[ADDR_PORT_MAX];
	uint64_t		 stream;
	uint32_t		 max_frame;
	int			 hb_interval;	/* seconds */
	int			 backoff_ms;
	int64_t			 started;

	struct qent		**q;		/* ring of unacked records */
	size_t			 qhead, qcount, qcap;
	size_t			 qbytes;
	size_t			 qsent;		/* from qhead, on this link */

	uint64_t		 dropped;	/* since the last report */
	uint64_t		 drop_first_seq, drop_last_seq;
	int64_t			 drop_first_ts, drop_last_ts;

	void			(*done)(void);
	struct buf		 scratch;
	struct record		 check;		/* decode of our own frames */
} up;

static void	uplink_connect(void);
static void	uplink_finish(void);
static void	uplink_deadline_cb(evutil_socket_t, short, void *);

static struct qent *
q_at(size_t i)
{
	return up.q[(up.qhead + i) % up.qcap];
}

static void
q_push(struct qent *e)
{
	size_t	i;

	if (up.qcount == up.qcap) {
		struct qent **nq = xcalloc(up.qcap ? up.qcap * 2 : 1024,
		    sizeof(*nq));

		for (i = 0; i < up.qcount; i++)
			nq[i] = q_at(i);
		free(up.q);
		up.q = nq;
		up.qhead = 0;
		up.qcap = up.qcap ? up.qcap * 2 : 1024;
	}
	up.q[(up.qhead + up.qcount++) % up.qcap] = e;
	up.qbytes += e->len;
}

static struct qent *
q_pop(void)
{
	struct qent	*e = up.q[up.qhead];

	up.qhead = (up.qhead + 1) % up.qcap;
	up.qcount--;
	up.qbytes -= e->len;
	if (up.qsent > 0)
		up.qsent--;
	return e;
}

size_t
uplink_queued(void)
{
	return up.qcount;
}

/* Forgets every queued record the collector has stored (<= seq). */
static void
uplink_acked(uint64_t seq)
{
	while (up.qcount > 0 && q_at(0)->seq <= seq)
		free(q_pop());
	if (up.done != NULL && up.qcount == 0)
		uplink_finish();
}

/* Hands queued frames to the socket, a bounded amount at a time. */
static void
uplink_pump(void)
{
	struct evbuffer	*out;
	struct qent	*e;

	if (up.state != U_READY)
		return;
	out = bufferevent_get_output(up.bev);
	while (up.qsent < up.qcount && evbuffer_get_length(out) < OUT_HIGH) {
		e = q_at(up.qsent++);
		evbuffer_add(out, e->frame, e->len);
	}
}

/* Reports records lost to a full queue, once there is a link again. */
static void
uplink_report_drops(void)
{
	struct record	r;

	if (up.dropped == 0)
		return;
	log_warnx("queue full: dropped %" PRIu64 " records", up.dropped);
	record_init(&r);
	record_begin(&r, "agent.dropped");
	record_add_int(&r, "count", (int64_t)up.dropped);
	record_add_int(&r, "first_seq", (int64_t)up.drop_first_seq);
	record_add_int(&r, "last_seq", (int64_t)up.drop_last_seq);
	record_add_time(&r, "first_ts", up.drop_first_ts);
	record_add_time(&r, "last_ts", up.drop_last_ts);
	record_add_str(&r, "reason", "memory queue full");
	up.dropped = 0;
	agent_emit(&r);
	record_free(&r);
}

void
uplink_send(const struct record *r)
{
	struct qent	*e;
	const char	*err;

	if (up.state == U_DONE)
		return;
	buf_reset(&up.scratch);
	wire_put_record(&up.scratch, WIRE_RECORD, r);
	/*
	 * A record the collector would refuse would cost the link and come
	 * back after every reconnect: check it as the collector will.
	 */
	if (up.scratch.len - WIRE_HDR_LEN > up.max_frame) {
		log_warnx("record %" PRIu64 " (%zu bytes) is larger than the "
		    "collector takes; not sent", r->seq, up.scratch.len);
		return;
	}
	if (wire_get_record(up.scratch.data + WIRE_HDR_LEN,
	    up.scratch.len - WIRE_HDR_LEN, &up.check, &err) == -1) {
		log_warnx("record %" PRIu64 " is malformed (%s); not sent",
		    r->seq, err);
		return;
	}
	e = xmalloc(sizeof(*e) + up.scratch.len);
	e->seq = r->seq;
	e->ts_us = r->ts_us;
	e->len = (uint32_t)up.scratch.len;
	memcpy(e->frame, up.scratch.data, up.scratch.len);
	/* Full: the oldest records go, and agent.dropped says so. */
	while (up.qcount > 0 && up.qbytes + e->len > up.conf->queue_max) {
		struct qent *old = q_pop();

		if (up.dropped++ == 0) {
			up.drop_first_seq = old->seq;
			up.drop_first_ts = old->ts_us;
		}
		up.drop_last_seq = old->seq;
		up.drop_last_ts = old->ts_us;
		free(old);
	}
	q_push(e);
	uplink_pump();
}

static void
uplink_drop_link(void)
{
	if (up.bev != NULL)
		bufferevent_free(up.bev);
	up.bev = NULL;
	up.qsent = 0;
	evtimer_del(up.heartbeat);
}

/* Schedules the next attempt: exponential backoff with full jitter. */
static void
uplink_retry_later(void)
{
	struct timeval	tv;
	uint32_t	r;
	int		ms;

	uplink_drop_link();
	if (up.done != NULL) {
		uplink_finish();
		return;
	}
	up.state = U_WAIT;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)rand();
	/* Somewhere in [backoff/2, backoff]. */
	ms = up.backoff_ms / 2 + (int)(r % (uint32_t)(up.backoff_ms / 2 + 1));
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(up.retry, &tv);
	log_debug("reconnecting in %d ms", ms);
	if (up.backoff_ms < up.conf->reconnect_max * 1000)
		up.backoff_ms *= 2;
	if (up.backoff_ms > up.conf->reconnect_max * 1000)
		up.backoff_ms = up.conf->reconnect_max * 1000;
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
	record_add_int(&r, "queued", (int64_t)up.qcount);
	record_add_int(&r, "queued_bytes", (int64_t)up.qbytes);
	buf_reset(&up.scratch);
	wire_put_record(&up.scratch, WIRE_HEARTBEAT, &r);
	bufferevent_write(up.bev, up.scratch.data, up.scratch.len);
	record_free(&r);
	evtimer_add(up.heartbeat, &tv);
}

static void
uplink_welcome(const uint8_t *p, size_t len)
{
	struct wire_welcome	 w;
	struct timeval		 tv;
	const char		*err;
	int			 hb;

	if (wire_get_welcome(p, len, &w, &err) == -1) {
		log_warnx("collector %s: bad WELCOME: %s", up.host, err);
		uplink_retry_later();
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
	    ", %zu queued", up.host, up.port, w.last_seq, up.qcount);
	up.qsent = 0;
	uplink_acked(w.last_seq);
	uplink_report_drops();
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
			log_warnx("collector %s: bad ACK: %s", up.host, err);
			uplink_retry_later();
			return;
		}
		uplink_acked(seq);
		uplink_pump();
		return;
	case WIRE_BYE:
		if (wire_get_bye(p, len, &bye, &err) == -1) {
			log_warnx("collector %s: bad BYE: %s", up.host, err);
		} else {
			buf_init(&esc);
			log_warnx("collector %s closed the link: \"%s\"",
			    up.host, escape_cstr(&esc, bye.reason,
			    bye.reason_len));
			buf_free(&esc);
			if (bye.code == BYE_BAD_HOST)
				up.backoff_ms = up.conf->reconnect_max * 1000;
		}
		uplink_retry_later();
		return;
	}
	log_warnx("collector %s: unexpected %s; reconnecting", up.host,
	    wire_type_name(type));
	uplink_retry_later();
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
			log_warnx("collector %s: %s; reconnecting", up.host,
			    err);
			uplink_retry_later();
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

static void
uplink_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & BEV_EVENT_CONNECTED) {
		buf_reset(&up.scratch);
		wire_put_hello(&up.scratch, up.conf->host, up.stream,
		    LABWATCH_VERSION);
		bufferevent_write(bev, up.scratch.data, up.scratch.len);
		up.state = U_HELLO;
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		log_warnx("collector %s:%s: silent, reconnecting", up.host,
		    up.port);
	else if (what & BEV_EVENT_EOF)
		log_warnx("collector %s:%s closed the connection", up.host,
		    up.port);
	else if (up.state == U_CONNECTING)
		log_warnx("cannot connect to %s:%s: %s", up.host, up.port,
		    bufferevent_socket_get_dns_error(bev) ?
		    evutil_gai_strerror(bufferevent_socket_get_dns_error(bev)) :
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else
		log_warnx("collector %s:%s: %s", up.host, up.port,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	uplink_retry_later();
}

static void
uplink_connect(void)
{
	struct timeval	tv = { 10, 0 };

	up.bev = bufferevent_socket_new(up.base, -1,
	    BEV_OPT_CLOSE_ON_FREE);
	if (up.bev == NULL)
		fatalx("bufferevent_socket_new");
	bufferevent_setcb(up.bev, uplink_read_cb, uplink_write_cb,
	    uplink_event_cb, NULL);
	/* The write callback refills once the socket has taken half. */
	bufferevent_setwatermark(up.bev, EV_WRITE, OUT_HIGH / 2, 0);
	bufferevent_set_timeouts(up.bev, &tv, &tv);
	bufferevent_enable(up.bev, EV_READ | EV_WRITE);
	up.state = U_CONNECTING;
	if (bufferevent_socket_connect_hostname(up.bev, up.dns, AF_UNSPEC,
	    up.host, atoi(up.port)) == -1)
		uplink_retry_later();
}

static void
uplink_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	uplink_connect();
}

void
uplink_init(struct event_base *base, const struct agent_conf *conf,
    uint64_t stream)
{
	const char	*err;

	up.conf = conf;
	up.base = base;
	up.stream = stream;
	up.max_frame = WIRE_MAX_FRAME;
	up.hb_interval = conf->heartbeat;
	up.backoff_ms = BACKOFF_MIN_MS;
	up.started = record_now();
	buf_init(&up.scratch);
	record_init(&up.check);
	if (addr_split(conf->collector, up.host, sizeof(up.host), up.port,
	    &err) == -1 || up.host[0] == '\0')
		fatalx("--collector %s: %s", conf->collector,
		    up.host[0] == '\0' ? "no host" : err);
	up.dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (up.dns == NULL)
		up.dns = evdns_base_new(base, 0);
	up.retry = evtimer_new(base, uplink_retry_cb, NULL);
	up.heartbeat = evtimer_new(base, uplink_heartbeat_cb, NULL);
	up.deadline = evtimer_new(base, uplink_deadline_cb, NULL);
	uplink_connect();
}

static void
uplink_bye_sent_cb(struct bufferevent *bev, void *arg)
{
	void	(*done)(void) = up.done;

	(void)bev;
	(void)arg;
	uplink_drop_link();
	up.state = U_DONE;
	up.done = NULL;
	evtimer_del(up.deadline);
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
	if (up.state != U_READY) {
		uplink_bye_sent_cb(NULL, NULL);
		return;
	}
	if (up.qcount > 0)
		log_warnx("stopping with %zu records not acknowledged",
		    up.qcount);
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
	if (up.qcount == 0 || up.state != U_READY) {
		uplink_finish();
		return;
	}
	evtimer_add(up.deadline, &tv);
}
