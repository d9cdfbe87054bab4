/* SPDX-License-Identifier: ISC */
/*
 * lw-load: a load generator that speaks the labwatch protocol as many
 * agents, one connection and one host name (load0001, load0002, ...) each.
 *
 * Default mode: every agent sends --records records (per agent) of event
 * load.test, about --size bytes a frame, seq 1..R in a fresh random stream,
 * with at most --window records unacknowledged, and the run ends when every
 * record is acknowledged.  One summary line of key=value goes to stdout:
 * records_per_s counts only acknowledged records, and the latencies are from
 * handing a record to the socket to the ACK that covers it.  Stopped by
 * --timeout or a signal, it still prints the summary of what was acked.
 *
 * --rate R --duration S: paced instead of as fast as the window allows: each
 * agent sends R records a second for S seconds, the agents spread over the
 * second, and with --burst N --burst-every B also N records at once every B
 * seconds, a tenth of the agents at a time (agent i at (i mod 10 + 0.5) / 10
 * of each B-second span).  A line "sending ..." says when all are connected
 * and the records begin; the latencies are per record as above.
 *
 * --idle: connect, HELLO, then a heartbeat every --heartbeat seconds until
 * SIGTERM; prints "ready ..." once every agent is connected.
 *
 * --syslog: the same volume as syslog lines (RFC 5424, newline framing) to
 * a syslog TCP input, host name per connection; nothing is acknowledged, so
 * the summary counts what was handed to the kernel, and send_start (the
 * CLOCK_MONOTONIC second the lines began) lets a caller time the storing.
 *
 * --tls-ca, --tls-cert, --tls-key: every connection is TLS and presents
 * the first --tls-cert (repeatable, all with the one --tls-key) that names
 * its host as CN or DNS subjectAltName, as the collector wants; a few
 * certificates of many names each stand in for a lab's worth.  The
 * collector must prove the dialled address against the CA.
 *
 * --sources N binds connection i to loopback address i mod N (127.1.0.1
 * onwards), so the collector's per-address limits see a lab of PCs rather
 * than one very busy one.
 */
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>


#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "format.h"
#include "log.h"
#include "num.h"
#include "record.h"
#include "tls.h"
#include "wire.h"
#include "wire_ev.h"
#include "xmalloc.h"

#define OUT_HIGH	(64 * 1024)	/* bytes queued per connection */
#define MAX_CONNECTING	512		/* handshakes under way at once */
#define MAX_SOURCES	60000		/* 127.1.0.1 up to 127.1.239.250 */
#define HOST_FMT	"load%04u"	/* agent i's host name, i from 1 */
#define MAX_CERTS	1000		/* --tls-cert files */
#define HIST_STEP_US	10		/* latency resolution up to 10 s, */
#define HIST_FINE	1000000
#define HIST_COARSE_US	10000		/* then 10 ms up to 1,000 s */
#define HIST_BUCKETS	(HIST_FINE + 99000)
#define MAX_LOGGED	10		/* error lines printed */
#define PACE_MS		20		/* --rate: how often records are due */

enum mode {
	M_LOAD,
	M_IDLE,
	M_SYSLOG,
};

enum agent_state {
	A_NEW,
	A_CONNECTING,		/* TCP connect, then HELLO sent */
	A_READY,		/* WELCOME received (syslog: connected) */
	A_DONE,			/* everything acknowledged or sent */
	A_FAILED,
};

struct agent {
	struct bufferevent	*bev;
	SSL_CTX			*tls;		/* NULL: plaintext */
	enum agent_state	 state;
	char			 host[16];
	uint64_t		 stream;
	uint64_t		 next_seq;	/* next to send */
	uint64_t		 acked;
	uint64_t		 due;		/* --rate: may send up to this seq */
	int64_t			*sent_us;	/* ring of window send times */
};

static struct {
	enum mode		 mode;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	unsigned		 nagents;
	uint64_t		 records;	/* per agent */
	unsigned		 size;
	uint64_t		 window;
	int			 heartbeat;
	int			 timeout;
	unsigned		 connecting;	/* handshakes at once */
	unsigned		 nsources;	/* 0: the kernel's choice */
	unsigned		 rate;		/* records a second per agent */
	unsigned		 duration;	/* seconds of --rate */
	unsigned		 burst;		/* records at once, */
	unsigned		 burst_every;	/* every this many seconds */
	char			 peer[ADDR_HOST_MAX];	/* as dialled */
} opt = {
	.nagents = 100,
	.records = 10000,
	.size = 200,
	.window = 10000,
	.heartbeat = 10,
	.timeout = 300,
	.connecting = MAX_CONNECTING,
};

static struct event_base	*base;
static struct agent		*agents;
static unsigned			 next_agent;	/* next to connect */
static unsigned			 connecting, ready, done, failed;
static int			 sending;	/* records started */
static int64_t			 t_begin, t_send, t_end;
static uint64_t			 acked_total, errors;
static uint32_t			*hist;
static struct buf		 tmpl;		/* one RECORD frame */
static struct buf		 hb;		/* one HEARTBEAT frame */
static struct buf		 chunk;		/* frames being batched */
static struct event		*hb_timer;
static struct event		*pace_timer;
static const char		*cert_files[MAX_CERTS];
static SSL_CTX			*certs[MAX_CERTS];	/* one per file */
static unsigned			 ncerts;

static void	connect_more(void);
static void	agent_fill(struct agent *);
static void	maybe_finish(void);

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: lw-load --connect HOST:PORT [options]\n"
"  --agents N      connections, one host name each (default 100)\n"
"  --records R     records PER AGENT (default 10000)\n"
"  --size B        bytes per record frame, or per syslog line (default 200)\n"
"  --window W      unacknowledged records per connection (default 10000)\n"
"  --rate R        paced: R records a second per agent, for --duration S\n"
"  --duration S    seconds of --rate (the records are R x S, plus bursts)\n"
"  --burst N       with --rate: N records at once per agent, ...\n"
"  --burst-every B ... every B seconds, a tenth of the agents at a time\n"
"  --idle          connect, HELLO, heartbeat until SIGTERM\n"
"  --heartbeat S   seconds between heartbeats in --idle (default 10)\n"
"  --syslog        send syslog lines over TCP instead (newline framing)\n"
"  --timeout S     give up after S seconds (default 300)\n"
"  --connecting N  handshakes under way at once (default %d)\n"
"  --sources N     spread connections over N loopback source addresses\n"
"                  127.1.0.1, 127.1.0.2, ... (the collector on 127.x.x.x)\n"
"  --tls-ca FILE   speak TLS: the CA the collector's certificate chains to\n"
"  --tls-cert FILE a client certificate naming load hosts (repeatable)\n"
"  --tls-key FILE  the private key of every --tls-cert, mode 600\n",
	    MAX_CONNECTING);
	exit(status);
}

static int64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void
agent_error(struct agent *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Counts an error, prints the first few, and drops the connection. */
static void
agent_error(struct agent *a, const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errors++ < MAX_LOGGED)
		log_warnx("%s: %s", a->host, msg);
	if (a->state == A_CONNECTING)
		connecting--;
	if (a->state == A_READY)
		ready--;
	a->state = A_FAILED;
	failed++;
	if (a->bev != NULL)
		bufferevent_free(a->bev);
	a->bev = NULL;
	connect_more();
	maybe_finish();
}

/* Builds the frames every agent sends, checking them with the decoder. */
static void
make_frames(void)
{
	struct record	 r, check;
	const char	*err;
	char		*pad;
	size_t		 overhead, padlen;

	record_init(&r);
	record_init(&check);
	buf_init(&tmpl);
	buf_init(&hb);
	buf_init(&chunk);

	record_begin(&r, "load.test");
	record_add_str(&r, "pad", "");
	r.seq = 1;
	wire_put_record(&tmpl, WIRE_RECORD, &r);
	overhead = tmpl.len;
	padlen = opt.size > overhead ? opt.size - overhead : 1;
	pad = xmalloc(padlen);
	memset(pad, 'x', padlen);
	buf_reset(&tmpl);
	record_begin(&r, "load.test");
	record_add_strn(&r, "pad", pad, padlen);
	r.seq = 1;
	wire_put_record(&tmpl, WIRE_RECORD, &r);
	free(pad);
	if (wire_get_record(tmpl.data + WIRE_HDR_LEN, tmpl.len - WIRE_HDR_LEN,
	    &check, &err) == -1 || check.seq != 1)
		fatalx("own RECORD does not decode: %s", err);

	record_begin(&r, "agent.heartbeat");
	record_add_int(&r, "queued", 0);
	r.seq = 0;
	wire_put_record(&hb, WIRE_HEARTBEAT, &r);
	record_free(&r);
	record_free(&check);
}

/*
 * Appends one syslog line of opt.size bytes (more if the header needs it):
 * head is "<13>1 TS HOST lwload - - - ", made once per batch.
 */
static void
syslog_line(struct buf *b, const char *head, size_t head_len, uint64_t seq)
{
	static char	pad[RECORD_STR_MAX];
	char		num[32];
	int		n;
	size_t		used;

	if (pad[0] == '\0')
		memset(pad, 'x', sizeof(pad));
	n = snprintf(num, sizeof(num), "seq=%" PRIu64 " pad=", seq);
	buf_add(b, head, head_len);
	buf_add(b, num, (size_t)n);
	used = head_len + (size_t)n + 1;
	if (used < opt.size)
		buf_add(b, pad, opt.size - used);
	buf_add_u8(b, '\n');
}

/* Queues records while the window and the output buffer allow. */
static void
agent_fill(struct agent *a)
{
	struct evbuffer	*out;
	int64_t		 t, wall;
	char		 ts[FORMAT_TS_LEN + 1], head[128];
	int		 head_len = 0;

	if (a->state != A_READY || !sending)
		return;
	out = bufferevent_get_output(a->bev);
	t = now_us();
	wall = record_now();
	buf_reset(&chunk);
	if (opt.mode == M_SYSLOG) {
		format_ts(ts, wall);
		head_len = snprintf(head, sizeof(head),
		    "<13>1 %s %s lwload - - - ", ts, a->host);
	}
	while (a->next_seq <= opt.records &&
	    evbuffer_get_length(out) + chunk.len < OUT_HIGH) {
		if (opt.mode == M_SYSLOG) {
			syslog_line(&chunk, head, (size_t)head_len,
			    a->next_seq++);
			continue;
		}
		if (a->next_seq - a->acked > opt.window ||
		    (opt.rate > 0 && a->next_seq > a->due))
			break;
		put_be64(tmpl.data + WIRE_HDR_LEN, a->next_seq);
		put_be64(tmpl.data + WIRE_HDR_LEN + 8, (uint64_t)wall);
		buf_add(&chunk, tmpl.data, tmpl.len);
		a->sent_us[a->next_seq % opt.window] = t;
		a->next_seq++;
	}
	if (chunk.len > 0)
		evbuffer_add(out, chunk.data, chunk.len);
	if (opt.mode == M_SYSLOG && a->next_seq > opt.records &&
	    evbuffer_get_length(out) == 0) {
		bufferevent_free(a->bev);
		a->bev = NULL;
		a->state = A_DONE;
		ready--;
		done++;
		t_end = now_us();
		maybe_finish();
	}
}

/* --rate: how many records agent i may have sent after us microseconds. */
static uint64_t
pace_due(unsigned i, int64_t us)
{
	int64_t		phase = (int64_t)i * 1000000 / opt.nagents;
	int64_t		span, at;
	uint64_t	due = 0;

	if (us > phase)
		due = (uint64_t)((us - phase) * opt.rate / 1000000) + 1;
	if (opt.burst > 0) {
		span = (int64_t)opt.burst_every * 1000000;
		at = span * (int64_t)(i % 10 * 2 + 1) / 20;
		if (us >= at)
			due += (uint64_t)opt.burst * (uint64_t)((us - at) /
			    span + 1);
	}
	return due < opt.records ? due : opt.records;
}

static void
pace_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	tv = { 0, PACE_MS * 1000 };
	int64_t		us = now_us() - t_send;
	unsigned	i;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < opt.nagents; i++) {
		agents[i].due = pace_due(i, us);
		if (agents[i].next_seq <= agents[i].due)
			agent_fill(&agents[i]);
	}
	evtimer_add(pace_timer, &tv);
}

static void
start_sending(void)
{
	unsigned	i;

	sending = 1;
	t_send = now_us();
	if (opt.rate > 0) {
		printf("sending agents=%u connected=%u connect_s=%.3f "
		    "errors=%" PRIu64 "\n", opt.nagents, ready,
		    (double)(t_send - t_begin) / 1e6, errors);
		fflush(stdout);
		pace_cb(-1, 0, NULL);
		return;
	}
	for (i = 0; i < opt.nagents; i++)
		agent_fill(&agents[i]);
}

static uint32_t
hist_bucket(int64_t us)
{
	int64_t	b;

	if (us < (int64_t)HIST_FINE * HIST_STEP_US)
		return us < 0 ? 0 : (uint32_t)(us / HIST_STEP_US);
	b = HIST_FINE + (us - (int64_t)HIST_FINE * HIST_STEP_US) /
	    HIST_COARSE_US;
	return b >= HIST_BUCKETS ? HIST_BUCKETS - 1 : (uint32_t)b;
}

static void
agent_acked(struct agent *a, uint64_t seq)
{
	int64_t		t = now_us();
	uint64_t	s;

	if (seq < a->acked || seq >= a->next_seq) {
		agent_error(a, "ACK %" PRIu64 " outside %" PRIu64 "..%" PRIu64,
		    seq, a->acked, a->next_seq - 1);
		return;
	}
	for (s = a->acked + 1; s <= seq; s++)
		hist[hist_bucket(t - a->sent_us[s % opt.window])]++;
	acked_total += seq - a->acked;
	a->acked = seq;
	if (seq == opt.records) {
		t_end = t;
		bufferevent_free(a->bev);
		a->bev = NULL;
		a->state = A_DONE;
		ready--;
		done++;
		maybe_finish();
		return;
	}
	agent_fill(a);
}

static void
agent_welcome(struct agent *a, const uint8_t *p, size_t len)
{
	struct wire_welcome	 w;
	const char		*err;

	if (wire_get_welcome(p, len, &w, &err) == -1) {
		agent_error(a, "bad WELCOME: %s", err);
		return;
	}
	if (w.last_seq != 0) {
		agent_error(a, "WELCOME says %" PRIu64 " stored of a new "
		    "stream", w.last_seq);
		return;
	}
	a->state = A_READY;
	connecting--;
	ready++;
	connect_more();
	maybe_finish();
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct agent	*a = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct wire_hdr	 h;
	struct wire_bye	 bye;
	const uint8_t	*p;
	const char	*err;
	uint64_t	 seq;
	int		 rv;

	if (opt.mode == M_SYSLOG) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	while (a->bev != NULL && (rv = wire_ev_next(in, WIRE_MAX_FRAME_LIMIT,
	    &h, &p, &err)) != 0) {
		if (rv == -1) {
			agent_error(a, "bad frame from the collector: %s", err);
			return;
		}
		switch (h.type) {
		case WIRE_WELCOME:
			if (a->state == A_CONNECTING)
				agent_welcome(a, p, h.len);
			break;
		case WIRE_ACK:
			if (wire_get_ack(p, h.len, &seq, &err) == -1)
				agent_error(a, "bad ACK: %s", err);
			else if (a->state == A_READY && opt.mode == M_LOAD)
				agent_acked(a, seq);
			break;
		case WIRE_BYE:
			if (wire_get_bye(p, h.len, &bye, &err) == -1)
				agent_error(a, "bad BYE: %s", err);
			else
				agent_error(a, "BYE %u: %.*s", bye.code,
				    (int)bye.reason_len, bye.reason);
			return;
		default:
			agent_error(a, "unexpected %s",
			    wire_type_name(h.type));
			return;
		}
		if (a->bev == NULL)
			return;
		evbuffer_drain(in, WIRE_HDR_LEN + h.len);
	}
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	agent_fill(arg);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct agent	*a = arg;
	struct buf	 b;
	unsigned long	 e;

	if (what & BEV_EVENT_CONNECTED) {
		if (opt.mode == M_SYSLOG) {
			a->state = A_READY;
			connecting--;
			ready++;
			connect_more();
			maybe_finish();
			return;
		}
		buf_init(&b);
		wire_put_hello(&b, a->host, a->stream, "lw-load", 0);
		bufferevent_write(a->bev, b.data, b.len);
		buf_free(&b);
		return;
	}
	if (what & BEV_EVENT_EOF)
		agent_error(a, "connection closed by the peer");
	else if (a->tls != NULL &&
	    (e = bufferevent_get_openssl_error(bev)) != 0)
		agent_error(a, "TLS: %s", tls_handshake_error(
		    bufferevent_openssl_get_ssl(bev), e));
	else
		agent_error(a, "connection: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* A socket bound to loopback source address i of --sources, or -1. */
static evutil_socket_t
source_socket(unsigned i)
{
	struct sockaddr_in	sin;
	evutil_socket_t		fd;

	i %= opt.nsources;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f010000 | (i / 250) << 8 |
	    (i % 250 + 1));
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
agent_connect(struct agent *a)
{
	evutil_socket_t	 fd = -1;
	SSL		*ssl;

	if (opt.nsources > 0 &&
	    (fd = source_socket((unsigned)(a - agents))) == -1)
		fatal("socket bound to a --sources address");
	if (a->tls != NULL) {
		if ((ssl = SSL_new(a->tls)) == NULL ||
		    tls_expect_host(ssl, opt.peer) == -1)
			fatalx("SSL_new: %s", tls_error());
		a->bev = bufferevent_openssl_socket_new(base, fd, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (a->bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(a->bev, 1);
	} else
		a->bev = bufferevent_socket_new(base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if (a->bev == NULL)
		fatalx("bufferevent_socket_new");
	a->state = A_CONNECTING;
	connecting++;
	bufferevent_setcb(a->bev, read_cb, write_cb, event_cb, a);
	bufferevent_setwatermark(a->bev, EV_WRITE, OUT_HIGH / 4, 0);
	bufferevent_enable(a->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(a->bev, (struct sockaddr *)&opt.ss,
	    (int)opt.sslen) == -1)
		agent_error(a, "connect: %s", strerror(errno));
}

/* Keeps up to --connecting handshakes under way. */
static void
connect_more(void)
{
	while (next_agent < opt.nagents && connecting < opt.connecting)
		agent_connect(&agents[next_agent++]);
}

/* The latency below which a fraction q of the acknowledged records lie. */
static double
percentile_ms(double q)
{
	uint64_t	want = (uint64_t)(q * (double)acked_total), seen = 0;
	uint32_t	i;

	if (acked_total == 0)
		return 0;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += hist[i];
		if (seen > want || seen == acked_total)
			break;
	}
	if (i < HIST_FINE)
		return (i + 0.5) * HIST_STEP_US / 1000.0;
	return ((double)HIST_FINE * HIST_STEP_US +
	    (i - HIST_FINE + 0.5) * HIST_COARSE_US) / 1000.0;
}

static void
print_summary(void)
{
	double	secs;

	if (opt.mode == M_IDLE) {
		printf("mode=idle agents=%u connected=%u errors=%" PRIu64 "\n",
		    opt.nagents, ready, errors);
		fflush(stdout);
		return;
	}
	if (t_end < t_send)
		t_end = now_us();
	secs = sending ? (double)(t_end - t_send) / 1e6 : 0;
	if (opt.mode == M_SYSLOG) {
		printf("mode=syslog agents=%u records=%" PRIu64 " sent=%" PRIu64
		    " seconds=%.3f records_per_s=%.0f connect_s=%.3f "
		    "send_start=%.6f errors=%" PRIu64 "\n", opt.nagents,
		    opt.records * opt.nagents,
		    done == opt.nagents ? opt.records * opt.nagents : 0, secs,
		    secs > 0 && done == opt.nagents ?
		    (double)(opt.records * opt.nagents) / secs : 0,
		    (double)(t_send - t_begin) / 1e6, (double)t_send / 1e6,
		    errors);
		fflush(stdout);
		return;
	}
	printf("mode=load agents=%u records=%" PRIu64 " acked=%" PRIu64
	    " seconds=%.3f records_per_s=%.0f p50_ms=%.2f p99_ms=%.2f "
	    "connect_s=%.3f errors=%" PRIu64 "\n", opt.nagents,
	    opt.records * opt.nagents, acked_total, secs,
	    secs > 0 ? (double)acked_total / secs : 0, percentile_ms(0.50),
	    percentile_ms(0.99), (double)(t_send - t_begin) / 1e6, errors);
	fflush(stdout);
}

/* Moves on when every agent has connected, or everything is done. */
static void
maybe_finish(void)
{
	if (connecting > 0 || next_agent < opt.nagents)
		return;
	if (!sending && opt.mode != M_IDLE && ready > 0) {
		start_sending();
		return;
	}
	if (opt.mode == M_IDLE) {
		if (!sending) {
			sending = 1;
			printf("ready agents=%u connected=%u connect_s=%.3f "
			    "errors=%" PRIu64 "\n", opt.nagents, ready,
			    (double)(now_us() - t_begin) / 1e6, errors);
			fflush(stdout);
		}
		return;
	}
	if (ready == 0)
		event_base_loopbreak(base);
}

static void
heartbeat_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	tv = { opt.heartbeat, 0 };
	unsigned	i;

	(void)fd;
	(void)ev;
	(void)arg;
	put_be64(hb.data + WIRE_HDR_LEN + 8, (uint64_t)record_now());
	for (i = 0; i < opt.nagents; i++)
		if (agents[i].state == A_READY)
			bufferevent_write(agents[i].bev, hb.data, hb.len);
	evtimer_add(hb_timer, &tv);
}

static void
stop_cb(evutil_socket_t sig, short ev, void *arg)
{
	(void)sig;
	(void)ev;
	(void)arg;
	if (opt.mode != M_IDLE) {
		log_warnx("stopped before the end");
		t_end = now_us();	/* the rate is over the whole run */
	}
	event_base_loopbreak(base);
}

/*
 * A client context per --tls-cert, and for each agent the first one that
 * names its host (the collector refuses a HELLO its certificate does not
 * name); the search starts at the last match, so grouped names cost one
 * check each.
 */
static void
tls_setup(const char *ca, const char *key)
{
	struct tls_files	 f = { ca, NULL, key, NULL };
	struct agent		*a;
	char			 err[TLS_ERR_MAX];
	unsigned		 i, j = 0, tried;

	if (ca == NULL || key == NULL || ncerts == 0 || opt.mode == M_SYSLOG) {
		fprintf(stderr, "lw-load: TLS needs --tls-ca, --tls-cert and "
		    "--tls-key, and not --syslog\n");
		exit(2);
	}
	for (i = 0; i < ncerts; i++) {
		f.cert = cert_files[i];
		if ((certs[i] = tls_client_ctx(&f, err, sizeof(err))) == NULL)
			fatalx("%s", err);
	}
	for (a = agents; a < agents + opt.nagents; a++) {
		for (tried = 0; tried < ncerts; tried++, j = (j + 1) % ncerts)
			if (tls_cert_names(SSL_CTX_get0_certificate(certs[j]),
			    a->host, strlen(a->host)))
				break;
		if (tried == ncerts)
			fatalx("no --tls-cert names host %s", a->host);
		a->tls = certs[j];
	}
}

static void
raise_nofile(rlim_t need)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need)
		rl.rlim_max = need;	/* works as root */
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < need)
			fatalx("need %llu descriptors, may have %llu",
			    (unsigned long long)need,
			    (unsigned long long)rl.rlim_cur);
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "agents", required_argument, NULL, 'n' },
		{ "records", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "window", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 4 },
		{ "duration", required_argument, NULL, 5 },
		{ "burst", required_argument, NULL, 6 },
		{ "burst-every", required_argument, NULL, 7 },
		{ "idle", no_argument, NULL, 'i' },
		{ "heartbeat", required_argument, NULL, 'H' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 't' },
		{ "connecting", required_argument, NULL, 'C' },
		{ "sources", required_argument, NULL, 'A' },
		{ "tls-ca", required_argument, NULL, 1 },
		{ "tls-cert", required_argument, NULL, 2 },
		{ "tls-key", required_argument, NULL, 3 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct timeval	 tv;
	struct event	*sigs[2], *deadline;
	const char	*connect = NULL, *err, *tls_ca = NULL, *tls_key = NULL;
	char		 port[ADDR_PORT_MAX];
	unsigned	 i;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			connect = optarg;
			break;
		case 'n':
			opt.nagents = (unsigned)num_arg("agents", optarg, 1,
			    100000);
			break;
		case 'r':
			opt.records = (uint64_t)num_arg("records", optarg, 1,
			    1LL << 40);
			break;
		case 's':
			opt.size = (unsigned)num_arg("size", optarg, 64,
			    RECORD_STR_MAX);
			break;
		case 'w':
			opt.window = (uint64_t)num_arg("window", optarg, 1,
			    1 << 24);
			break;
		case 'i':
			opt.mode = M_IDLE;
			break;
		case 'H':
			opt.heartbeat = (int)num_arg("heartbeat", optarg, 1,
			    3600);
			break;
		case 'S':
			opt.mode = M_SYSLOG;
			break;
		case 't':
			opt.timeout = (int)num_arg("timeout", optarg, 1,
			    86400);
			break;
		case 'C':
			opt.connecting = (unsigned)num_arg("connecting", optarg,
			    1, 100000);
			break;
		case 'A':
			opt.nsources = (unsigned)num_arg("sources", optarg, 1,
			    MAX_SOURCES);
			break;
		case 1:
			tls_ca = optarg;
			break;
		case 2:
			if (ncerts == MAX_CERTS)
				fatalx("more than %d --tls-cert", MAX_CERTS);
			cert_files[ncerts++] = optarg;
			break;
		case 3:
			tls_key = optarg;
			break;
		case 4:
			opt.rate = (unsigned)num_arg("rate", optarg, 1, 100000);
			break;
		case 5:
			opt.duration = (unsigned)num_arg("duration", optarg, 1,
			    86400);
			break;
		case 6:
			opt.burst = (unsigned)num_arg("burst", optarg, 1,
			    100000);
			break;
		case 7:
			opt.burst_every = (unsigned)num_arg("burst-every",
			    optarg, 1, 86400);
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc || connect == NULL)
		usage(2);
	if ((opt.rate > 0) != (opt.duration > 0) || (opt.burst > 0) !=
	    (opt.burst_every > 0) || (opt.burst > 0 && opt.rate == 0) ||
	    (opt.rate > 0 && opt.mode != M_LOAD)) {
		fprintf(stderr, "lw-load: --rate goes with --duration, --burst "
		    "with --burst-every and --rate; not with --idle or "
		    "--syslog\n");
		exit(2);
	}
	if (opt.rate > 0)
		opt.records = (uint64_t)opt.rate * opt.duration +
		    (opt.burst > 0 ? (uint64_t)opt.burst *
		    (opt.duration / opt.burst_every) : 0);
	log_init("lw-load", 1, 0);
	if (addr_parse(connect, &opt.ss, &opt.sslen, &err) == -1 ||
	    addr_split(connect, opt.peer, sizeof(opt.peer), port, &err) == -1) {
		fprintf(stderr, "lw-load: --connect %s: %s\n", connect, err);
		exit(2);
	}
	if (opt.nsources > 0 && (opt.ss.ss_family != AF_INET ||
	    (ntohl(((struct sockaddr_in *)&opt.ss)->sin_addr.s_addr) >> 24) !=
	    127)) {
		fprintf(stderr, "lw-load: --sources needs a collector on "
		    "127.x.x.x\n");
		exit(2);
	}
	signal(SIGPIPE, SIG_IGN);
	raise_nofile(opt.nagents + 64);
	if ((base = event_base_new()) == NULL)
		fatalx("cannot make the event base");
	make_frames();
	hist = xcalloc(HIST_BUCKETS, sizeof(*hist));
	agents = xcalloc(opt.nagents, sizeof(*agents));
	for (i = 0; i < opt.nagents; i++) {
		snprintf(agents[i].host, sizeof(agents[i].host), HOST_FMT,
		    i + 1);
		if (getrandom(&agents[i].stream, sizeof(agents[i].stream),
		    0) != sizeof(agents[i].stream))
			fatal("getrandom");
		agents[i].next_seq = 1;
		if (opt.mode == M_LOAD)
			agents[i].sent_us = xcalloc(opt.window,
			    sizeof(int64_t));
	}
	if (tls_ca != NULL || ncerts > 0 || tls_key != NULL)
		tls_setup(tls_ca, tls_key);
	sigs[0] = evsignal_new(base, SIGTERM, stop_cb, NULL);
	sigs[1] = evsignal_new(base, SIGINT, stop_cb, NULL);
	evsignal_add(sigs[0], NULL);
	evsignal_add(sigs[1], NULL);
	deadline = evtimer_new(base, stop_cb, NULL);
	if (opt.mode != M_IDLE) {
		tv.tv_sec = opt.timeout;
		tv.tv_usec = 0;
		evtimer_add(deadline, &tv);
	}
	hb_timer = evtimer_new(base, heartbeat_cb, NULL);
	pace_timer = evtimer_new(base, pace_cb, NULL);
	if (opt.mode == M_IDLE) {
		tv.tv_sec = opt.heartbeat;
		tv.tv_usec = 0;
		evtimer_add(hb_timer, &tv);
	}

	t_begin = t_send = now_us();
	connect_more();
	event_base_dispatch(base);

	print_summary();
	for (i = 0; i < opt.nagents; i++) {
		if (agents[i].bev != NULL)
			bufferevent_free(agents[i].bev);
		free(agents[i].sent_us);
	}
	free(agents);
	free(hist);
	buf_free(&tmpl);
	buf_free(&hb);
	buf_free(&chunk);
	event_free(sigs[0]);
	event_free(sigs[1]);
	event_free(deadline);
	event_free(hb_timer);
	event_free(pace_timer);
	event_base_free(base);
	for (i = 0; i < ncerts; i++)
		SSL_CTX_free(certs[i]);
	if (opt.mode == M_IDLE)
		return errors == 0 && ready == opt.nagents ? 0 : 1;
	return errors == 0 && done == opt.nagents ? 0 : 1;
}
