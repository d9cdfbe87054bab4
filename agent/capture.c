/* SPDX-License-Identifier: ISC */
/*
 * libpcap: live capture on the PC's interfaces (non-blocking, each fd in the
 * event loop, a kernel BPF filter) or replay of a capture file (--read) as
 * fast as it can be read, with the packets' own time as the clock.
 */
#include <pcap/pcap.h>

#include <event2/event.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "xmalloc.h"

#define CAPTURE_MAX		16		/* live interfaces */
#define CAPTURE_SNAPLEN		4096		/* enough for a ClientHello */
#define CAPTURE_BUFFER		(32 * 1024 * 1024)
#define CAPTURE_TIMEOUT_MS	100
#define CAPTURE_BATCH		1024		/* packets per live callback */
#define REPLAY_BATCH		65536		/* packets per replay slice */
#define REPLAY_STDIO_BUF	(256 * 1024)	/* fits in L2: read, then parse hot */
#define REPLAY_QUEUE_HIGH	10000		/* records waiting: pause */

struct capture {
	pcap_t		*p;
	struct event	*ev;
	char		*name;
	int		 dlt;
};

static struct capture	 caps[CAPTURE_MAX];
static int		 ncaps;
static struct event_base *base;
static const struct agent_conf *conf;
static struct event	*tick_ev, *replay_ev;
static int64_t		 last_stats;
static char		*replay_iobuf;		/* the replay stream's buffer */

static int
capture_dlt_ok(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_RAW:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_IPV4:
	case DLT_IPV6:
		return 1;
	default:
		return 0;
	}
}

static void
capture_handler(u_char *user, const struct pcap_pkthdr *h, const u_char *p)
{
	const struct capture	*c = (const struct capture *)(void *)user;

	net_packet(c->dlt, (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec,
	    p, h->caplen, h->len);
}

void
capture_kernel_stats(uint64_t *seen, uint64_t *dropped)
{
	struct pcap_stat	ps;
	int			i;

	*seen = *dropped = 0;
	for (i = 0; i < ncaps; i++) {
		if (caps[i].ev == NULL || pcap_stats(caps[i].p, &ps) == -1)
			continue;
		*seen += ps.ps_recv;
		*dropped += (uint64_t)ps.ps_drop + ps.ps_ifdrop;
	}
}

static void
capture_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct capture	*c = arg;

	(void)fd;
	(void)ev;
	if (pcap_dispatch(c->p, CAPTURE_BATCH, capture_handler,
	    (u_char *)c) == -1)
		log_warnx("%s: %s", c->name, pcap_geterr(c->p));
}

/* Live mode, once a second: idle conversations end, stats when due. */
static void
capture_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	uint64_t	seen, dropped;
	int64_t		now = record_now();
	int		i;

	(void)fd;
	(void)ev;
	(void)arg;
	/* Drain what the kernel holds before judging idleness. */
	for (i = 0; i < ncaps; i++)
		pcap_dispatch(caps[i].p, -1, capture_handler,
		    (u_char *)&caps[i]);
	net_tick(now);
	if (now - last_stats >= (int64_t)conf->stats_interval * 1000000) {
		last_stats = now;
		capture_kernel_stats(&seen, &dropped);
		net_stats(seen, dropped);
	}
}

/* The kernel filter: IP, ARP (tagged or not), minus ignored UDP noise. */
static char *
capture_filter(void)
{
	struct buf	 b;
	char		*s;
	int		 port, n = 0;

	buf_init(&b);
	buf_add_str(&b, "(ip or ip6 or arp or (vlan and (ip or ip6 or arp)))");
	for (port = 1; port < 65536; port++) {
		/* DNS answers carry names: they must reach us. */
		if (port == 53 || !(conf->ignore_port[port / 8] &
		    (1 << (port % 8))))
			continue;
		buf_printf(&b, "%s%d", n++ ? " or " : " and not (udp and "
		    "(port ", port);
		if (n >= 64)
			break;
	}
	if (n > 0)
		buf_add_str(&b, "))");
	buf_add_u8(&b, '\0');
	s = xstrdup((const char *)b.data);
	buf_free(&b);
	return s;
}

static int
capture_open_live(const char *name)
{
	struct bpf_program	 prog;
	struct capture		*c;
	char			*filter;
	int			 rv;

	if (ncaps == CAPTURE_MAX) {
		log_warnx("%s: more than %d interfaces; not captured", name,
		    CAPTURE_MAX);
		return -1;
	}
	c = &caps[ncaps];
	memset(c, 0, sizeof(*c));
	if ((c->p = pcap_create(name, NULL)) == NULL) {
		log_warnx("%s: cannot capture", name);
		return -1;
	}
	pcap_set_snaplen(c->p, CAPTURE_SNAPLEN);
	pcap_set_promisc(c->p, 0);
	pcap_set_timeout(c->p, CAPTURE_TIMEOUT_MS);
	pcap_set_buffer_size(c->p, CAPTURE_BUFFER);
	if ((rv = pcap_activate(c->p)) < 0) {
		log_warnx("%s: %s", name, pcap_geterr(c->p));
		pcap_close(c->p);
		return -1;
	}
	c->dlt = pcap_datalink(c->p);
	if (!capture_dlt_ok(c->dlt)) {
		log_warnx("%s: link type %s not understood; not captured",
		    name, pcap_datalink_val_to_name(c->dlt));
		pcap_close(c->p);
		return -1;
	}
	filter = capture_filter();
	if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == -1 ||
	    pcap_setfilter(c->p, &prog) == -1)
		log_warnx("%s: filter: %s", name, pcap_geterr(c->p));
	else
		pcap_freecode(&prog);
	free(filter);
	if (pcap_setnonblock(c->p, 1, NULL) == -1) {
		log_warnx("%s: %s", name, pcap_geterr(c->p));
		pcap_close(c->p);
		return -1;
	}
	c->name = xstrdup(name);
	c->ev = event_new(base, pcap_get_selectable_fd(c->p),
	    EV_READ | EV_PERSIST, capture_read_cb, c);
	event_add(c->ev, NULL);
	ncaps++;
	log_info("capturing on %s", name);
	return 0;
}

static int
capture_live(void)
{
	pcap_if_t	*all, *d;
	char		 err[PCAP_ERRBUF_SIZE];
	int		 i;

	if (conf->interfaces != NULL) {
		for (i = 0; i < conf->ninterfaces; i++)
			if (capture_open_live(conf->interfaces[i]) == -1)
				return -1;
	} else {
		if (pcap_findalldevs(&all, err) == -1) {
			log_warnx("pcap: %s", err);
			return -1;
		}
		for (d = all; d != NULL; d = d->next) {
			if ((d->flags & PCAP_IF_LOOPBACK) ||
			    !(d->flags & PCAP_IF_UP) ||
			    strcmp(d->name, "any") == 0 ||
			    d->addresses == NULL)
				continue;
			capture_open_live(d->name);
		}
		pcap_freealldevs(all);
		if (ncaps == 0)
			log_warnx("no interface to capture on");
	}
	return 0;
}

/* One slice of the file, then back to the loop; at the end, finish. */
static void
capture_replay_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct capture	*c = &caps[0];
	struct timeval	 pause = { 0, 10000 };
	int		 n;

	(void)fd;
	(void)ev;
	(void)arg;
	if (conf->collector != NULL && uplink_queued() > REPLAY_QUEUE_HIGH) {
		event_add(replay_ev, &pause);
		return;
	}
	n = pcap_dispatch(c->p, REPLAY_BATCH, capture_handler, (u_char *)c);
	if (n > 0) {
		event_active(replay_ev, EV_TIMEOUT, 0);
		return;
	}
	if (n == -1)
		log_warnx("%s: %s (reading stops here)", conf->read_file,
		    pcap_geterr(c->p));
	net_finish();
	net_stats(0, 0);
	agent_replay_done();
}

static int
capture_replay(void)
{
	struct capture	*c = &caps[0];
	FILE		*fp;
	char		 err[PCAP_ERRBUF_SIZE];

	if ((fp = fopen(conf->read_file, "rbe")) == NULL) {
		log_warn("%s", conf->read_file);
		return -1;
	}
	replay_iobuf = xmalloc(REPLAY_STDIO_BUF);
	setvbuf(fp, replay_iobuf, _IOFBF, REPLAY_STDIO_BUF);
	if ((c->p = pcap_fopen_offline_with_tstamp_precision(fp,
	    PCAP_TSTAMP_PRECISION_MICRO, err)) == NULL) {
		log_warnx("%s: %s", conf->read_file, err);
		fclose(fp);
		free(replay_iobuf);
		replay_iobuf = NULL;
		return -1;
	}
	c->dlt = pcap_datalink(c->p);
	if (!capture_dlt_ok(c->dlt))
		log_warnx("%s: link type %s not understood", conf->read_file,
		    pcap_datalink_val_to_name(c->dlt));
	c->name = xstrdup(conf->read_file);
	ncaps = 1;
	replay_ev = event_new(base, -1, 0, capture_replay_cb, NULL);
	event_active(replay_ev, EV_TIMEOUT, 0);
	return 0;
}

int
capture_init(struct event_base *b, const struct agent_conf *c)
{
	struct timeval	tv = { 1, 0 };

	base = b;
	conf = c;
	if (conf->read_file != NULL)
		return capture_replay();
	if (capture_live() == -1)
		return -1;
	last_stats = record_now();
	tick_ev = event_new(base, -1, EV_PERSIST, capture_tick_cb, NULL);
	event_add(tick_ev, &tv);
	return 0;
}

void
capture_shutdown(void)
{
	int	i;

	if (tick_ev != NULL)
		event_free(tick_ev);
	if (replay_ev != NULL)
		event_free(replay_ev);
	tick_ev = replay_ev = NULL;
	for (i = 0; i < ncaps; i++) {
		if (caps[i].ev != NULL)
			event_free(caps[i].ev);
		pcap_close(caps[i].p);
		free(caps[i].name);
	}
	ncaps = 0;
	free(replay_iobuf);	/* after pcap_close closed its stream */
	replay_iobuf = NULL;
}
