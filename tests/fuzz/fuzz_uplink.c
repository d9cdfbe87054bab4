/*
 * libFuzzer harness for the agent's side of the link (agent/uplink.c with
 * the real spool and command modules): the harness is the collector, a
 * plaintext listener on 127.0.0.1.  Per input the agent spools a record,
 * connects (the reconnect timer is fast-forwarded: what a clock jump would
 * do), says HELLO, and the input is what the collector answers (WELCOME,
 * ACK, COMMAND, BYE...); then the collector's end shuts and the agent
 * drops the link.  One agent serves every input, as one agent meets many
 * collectors' moods; the spool is kept small by a valid WELCOME now and
 * then.
 *
 * Aborts when an invariant breaks: the agent's frames are not valid (a
 * HELLO for its host first, then records in increasing order, heartbeats,
 * RESULTs); a command runs on a plaintext link; a small record is not
 * spooled (a collector's word made it refuse records); or records leave the
 * spool beyond what a WELCOME or ACK of the input could acknowledge (a
 * claim above the last number the agent gave acknowledges nothing).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "agent.h"
#include "fuzzfile.h"
#include "fuzzlink.h"
#include "priv.h"
#include "spool.h"
#include "wire.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define HOST		"pc01"
#define CHUNK		1024	/* bytes written between loop turns */
#define TURNS_MAX	100000	/* loop turns for a step that must end */
#define SPOOL_KEEP	64	/* records spooled before a clearing WELCOME */
#define TIMERS_MAX	32

static struct event_base	*base;
static struct agent_conf	 conf = {
	.host = HOST,
	.heartbeat = 30,
	.reconnect_max = 1,
	.spool_max = 4 << 20,
	.insecure = 1,
};
static char	collector[32];
static int	lfd = -1;

/* What the agent said so far on one connection. */
struct said {
	uint8_t		buf[WIRE_HDR_LEN + WIRE_MAX_FRAME];
	size_t		len;
	int		hello;		/* seen */
	uint64_t	last_seq;	/* of the last RECORD */
	struct record	rec;
};

/* The agent's hooks into the rest of the agent: nothing to do here. */
void
agent_health(struct record *r)
{
	(void)r;
}

void
net_exclude_peer(const struct sockaddr *sa)
{
	(void)sa;
}

/* command.c runs nothing on a plaintext link: reaching this is a bug. */
int
priv_wake(const char *ifname, const uint8_t mac[6], char *detail,
    size_t len)
{
	(void)ifname;
	(void)mac;
	(void)detail;
	(void)len;
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in	sin;
	socklen_t		slen = sizeof(sin);

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ==
	    -1 || listen(lfd, 4) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) == -1)
		abort();
	snprintf(collector, sizeof(collector), "127.0.0.1:%u",
	    ntohs(sin.sin_port));
	conf.collector = collector;
	conf.state_dir = fuzzfile_folder();
	if ((base = event_base_new()) == NULL)
		abort();
	uplink_init(base, &conf);
	return 0;
}

static int
timer_cb(const struct event_base *b, const struct event *ev, void *arg)
{
	const struct event	**t = arg;
	int			  i;

	(void)b;
	if (event_get_fd(ev) != -1 || (event_get_events(ev) & (EV_READ |
	    EV_WRITE | EV_SIGNAL)) != 0 || !event_pending(ev, EV_TIMEOUT,
	    NULL))
		return 0;
	for (i = 0; i < TIMERS_MAX - 1 && t[i] != NULL; i++)
		;
	t[i] = ev;
	return 0;
}

/* Fires every pending timer now, as if the clock had jumped past them. */
static void
timers_fire(void)
{
	const struct event	*t[TIMERS_MAX];
	int			 i;

	memset(t, 0, sizeof(t));
	event_base_foreach_event(base, timer_cb, t);
	for (i = 0; i < TIMERS_MAX && t[i] != NULL; i++)
		event_active((struct event *)(uintptr_t)t[i], EV_TIMEOUT, 0);
}

/* Checks the agent's frames as they complete. */
static void
said_check(void *arg)
{
	struct said		*s = arg;
	struct wire_hdr		 h;
	struct wire_hello	 hello;
	struct wire_result	 res;
	struct wire_bye		 bye;
	const uint8_t		*p = s->buf + WIRE_HDR_LEN;
	const char		*err;
	size_t			 n;

	while (s->len >= WIRE_HDR_LEN) {
		if (wire_parse_hdr(s->buf, WIRE_MAX_FRAME, &h, &err) == -1)
			abort();
		n = WIRE_HDR_LEN + h.len;
		if (s->len < n)
			return;
		if (!s->hello && h.type != WIRE_HELLO)
			abort();
		switch (h.type) {
		case WIRE_HELLO:
			if (s->hello || wire_get_hello(p, h.len, &hello,
			    &err) == -1 || hello.host_len != strlen(HOST) ||
			    memcmp(hello.host, HOST, hello.host_len) != 0)
				abort();
			s->hello = 1;
			break;
		case WIRE_RECORD:
			if (wire_get_record(p, h.len, &s->rec, &err) == -1 ||
			    s->rec.seq <= s->last_seq)
				abort();
			s->last_seq = s->rec.seq;
			break;
		case WIRE_HEARTBEAT:
			if (wire_get_record(p, h.len, &s->rec, &err) == -1)
				abort();
			break;
		case WIRE_RESULT:
			if (wire_get_result(p, h.len, &res, &err) == -1 ||
			    res.status != RESULT_REFUSED)
				abort();
			break;
		case WIRE_BYE:
			if (wire_get_bye(p, h.len, &bye, &err) == -1)
				abort();
			break;
		default:
			abort();
		}
		memmove(s->buf, s->buf + n, s->len - n);
		s->len -= n;
	}
}

/* Reads what the agent wrote: 0 once it closed its end. */
static int
said_read(int fd, struct said *s)
{
	return fuzzlink_read(fd, s->buf, sizeof(s->buf), &s->len,
	    said_check, s);
}

/* Waits for the agent to connect and say HELLO: the connection. */
static int
agent_connect(struct said *s)
{
	int	fd, turns = 0;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN || ++turns > TURNS_MAX)
			abort();
		timers_fire();
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	while (!s->hello) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (said_read(fd, s) == 0 || ++turns > TURNS_MAX)
			abort();
	}
	return fd;
}

/*
 * One connection: the agent connects, the collector's side says what is
 * in data, then shuts its end; returns once the agent has let go.
 */
static void
converse(const uint8_t *data, size_t size)
{
	static struct said	 s;
	size_t			 off = 0, n;
	ssize_t			 w;
	int			 fd, turns = 0, open = 1;

	memset(&s, 0, sizeof(s));
	record_init(&s.rec);
	fd = agent_connect(&s);
	while (off < size && open) {
		n = size - off < CHUNK ? size - off : CHUNK;
		w = write(fd, data + off, n);
		if (w > 0)
			off += (size_t)w;
		else if (w == -1 && errno != EAGAIN)
			break;
		event_base_loop(base, EVLOOP_NONBLOCK);
		open = said_read(fd, &s);
		if (++turns > TURNS_MAX)
			abort();
	}
	/* A few more turns for what the last bytes set off. */
	while (open && turns++ < 16 + (int)(size / CHUNK)) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		open = said_read(fd, &s);
	}
	shutdown(fd, SHUT_WR);
	while (open) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		open = said_read(fd, &s);
		if (++turns > TURNS_MAX)
			abort();
	}
	close(fd);
	record_free(&s.rec);
}

/*
 * The highest sequence number a WELCOME or ACK in data claims, of those
 * below next (the others acknowledge nothing); 0 for none.
 */
static uint64_t
claimed(const uint8_t *data, size_t size, uint64_t next)
{
	struct wire_hdr		 h;
	struct wire_welcome	 w;
	const char		*err;
	uint64_t		 seq, max = 0;
	size_t			 off = 0;

	while (size - off >= WIRE_HDR_LEN &&
	    wire_parse_hdr(data + off, WIRE_MAX_FRAME, &h, &err) == 0 &&
	    size - off - WIRE_HDR_LEN >= h.len) {
		seq = 0;
		if (h.type == WIRE_WELCOME && wire_get_welcome(data + off +
		    WIRE_HDR_LEN, h.len, &w, &err) == 0)
			seq = w.last_seq;
		else if (h.type == WIRE_ACK && wire_get_ack(data + off +
		    WIRE_HDR_LEN, h.len, &seq, &err) == -1)
			seq = 0;
		if (seq < next && seq > max)
			max = seq;
		off += WIRE_HDR_LEN + h.len;
	}
	return max;
}

/* Spools one record, as a monitor would. */
static void
spool_one(void)
{
	struct record	r;

	record_init(&r);
	record_begin(&r, "usb.add");
	r.host = HOST;
	record_add_str(&r, "vendor", "0781");
	uplink_send(&r);
	record_free(&r);
}

/* A valid WELCOME for everything spooled: the spool empties. */
static void
spool_clear(void)
{
	struct buf		b;
	struct wire_welcome	w = { spool_next_seq(uplink_spool_of()) - 1, 30000,
				    WIRE_MAX_FRAME };

	buf_init(&b);
	wire_put_welcome(&b, &w);
	converse(b.data, b.len);
	buf_free(&b);
	if (spool_records(uplink_spool_of()) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t	first, next, acked, floor;

	if (spool_records(uplink_spool_of()) > SPOOL_KEEP)
		spool_clear();
	/* Whatever the last collector said, a small record is spooled. */
	next = spool_next_seq(uplink_spool_of());
	spool_one();
	if (spool_next_seq(uplink_spool_of()) != next + 1)
		abort();
	first = spool_next_seq(uplink_spool_of()) - spool_records(uplink_spool_of());
	converse(data, size);
	/* Gone are at most the records up to the highest valid claim. */
	next = spool_next_seq(uplink_spool_of());
	acked = claimed(data, size, next);
	if (acked < first - 1)
		acked = first - 1;
	floor = next - 1 - acked;
	if (spool_records(uplink_spool_of()) < floor || spool_records(uplink_spool_of()) > next - first)
		abort();
	return 0;
}
