/* SPDX-License-Identifier: ISC */
/*
 * The agent's connection to the collector.  Records go to the spool first
 * and wait there until the collector ACKs them; after a reconnect the agent
 * resends from what the collector's WELCOME says it last stored, so neither
 * a dropped connection nor a restart loses anything.  Reconnects back off
 * exponentially with jitter so a lab of PCs does not come back in one wave.
 */
#include <sys/random.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>

#include <openssl/err.h>

#include <inttypes.h>
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

enum uplink_state {
	U_WAIT,		/* disconnected, reconnect timer running */
	U_CONNECTING,
	U_HELLO,	/* HELLO sent, waiting for WELCOME */
	U_READY,
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
	char			 host[ADDR_HOST_MAX];
	char			 port[ADDR_PORT_MAX];
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
static void	uplink_retry_later(void);
static int	uplink_spool(struct record *, const struct spool_drop *);

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
	if (up.done != NULL && spool_records(up.spool) == 0)
		uplink_finish();
}

/* Hands queued frames to the socket, a bounded amount at a time. */
static void
uplink_pump(void)
{
	struct evbuffer	*out;
	size_t		 len;

	if (up.state != U_READY)
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
		uplink_retry_later();
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
		uplink_retry_later();
		return;
	}
	snprintf(new, sizeof(new), "%016" PRIx64, up.stream);
	if (claimed != 0)
		log_warnx("collector %s: %s claims records up to %" PRIu64
		    ", but this agent numbered only up to %" PRIu64 "; going "
		    "on as stream %s", up.host, what, claimed,
		    spool_next_seq(up.spool) - 1, new);
	else
		log_warnx("collector %s: stream %s belongs to another host; "
		    "going on as stream %s", up.host, old, new);
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
	uplink_retry_later();
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
	    ", %" PRIu64 " spooled", up.host, up.port, w.last_seq,
	    spool_records(up.spool));
	uplink_acked(w.last_seq);
	spool_due_trim(up.spool, w.last_seq);
	uplink_report_drops();
	spool_rewind(up.spool, w.last_seq);
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
		log_warnx("collector %s: bad COMMAND: %s", up.host, err);
		uplink_retry_later();
		return;
	}
	status = command_run(&c, up.conf->tls != NULL, detail,
	    sizeof(detail));
	log_info("collector %s: command %u %.*s: %s", up.host, c.id,
	    (int)c.name_len, (const char *)c.name, detail);
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
			log_warnx("collector %s: bad ACK: %s", up.host, err);
			uplink_retry_later();
			return;
		}
		if (seq >= spool_next_seq(up.spool)) {
			uplink_new_stream("ACK", seq);
			return;
		}
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
			log_warnx("collector %s: bad BYE: %s", up.host, err);
		} else {
			buf_init(&esc);
			log_warnx("collector %s closed the link: \"%s\"",
			    up.host, escape_cstr(&esc, bye.reason,
			    bye.reason_len));
			buf_free(&esc);
			if (bye.code == BYE_BAD_HOST)
				up.backoff_ms = up.conf->reconnect_max * 1000;
			if (bye.code == BYE_STREAM) {
				uplink_new_stream("BYE", 0);
				return;
			}
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

static void
uplink_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen;
	const char		*hint = "";

	(void)arg;
	/* Cut before WELCOME on plaintext: most likely a TLS collector. */
	if (up.state == U_HELLO && up.conf->tls == NULL)
		hint = " before WELCOME (a TLS collector? --insecure must be "
		    "on both sides)";
	if (what & BEV_EVENT_CONNECTED) {
		sslen = sizeof(ss);
		if (getpeername(bufferevent_getfd(bev), (struct sockaddr *)&ss,
		    &sslen) == 0)
			net_exclude_peer((struct sockaddr *)&ss);
		buf_reset(&up.scratch);
		wire_put_hello(&up.scratch, up.conf->host, up.stream,
		    LABWATCH_VERSION, WIRE_CAP_COMMANDS);
		bufferevent_write(bev, up.scratch.data, up.scratch.len);
		up.state = U_HELLO;
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		log_warnx("collector %s:%s: silent, reconnecting", up.host,
		    up.port);
	else if (up.state == U_CONNECTING)
		log_warnx("cannot connect to %s:%s: %s", up.host, up.port,
		    uplink_error(bev));
	else if (what & BEV_EVENT_EOF)
		log_warnx("collector %s:%s closed the connection%s", up.host,
		    up.port, hint);
	else
		log_warnx("collector %s:%s: %s%s", up.host, up.port,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()), hint);
	uplink_retry_later();
}

static void
uplink_connect(void)
{
	struct timeval	tv = { 10, 0 };
	SSL		*ssl;

	if (up.conf->tls != NULL) {
		if ((ssl = SSL_new(up.conf->tls)) == NULL ||
		    tls_expect_host(ssl, up.host) == -1)
			fatalx("SSL_new: %s", tls_error());
		up.bev = bufferevent_openssl_socket_new(up.base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (up.bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(up.bev, 1);
	} else
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
uplink_init(struct event_base *base, const struct agent_conf *conf)
{
	const char	*err;

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
	up.sync = evtimer_new(base, uplink_sync_cb, NULL);
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
