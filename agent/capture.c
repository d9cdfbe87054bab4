/* SPDX-License-Identifier: ISC */
/*
 * libpcap: live capture on the PC's interfaces (non-blocking, each fd in the
 * event loop, a kernel BPF filter) or replay of a capture file (--read) as
 * fast as it can be read, with the packets' own time as the clock.  A
 * classic pcap file is mapped and read in place (pcapfile.c); pcapng and
 * other variants go through libpcap.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include <event2/event.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "decode.h"
#include "log.h"
#include "pcapfile.h"
#include "xmalloc.h"

#define CAPTURE_MAX		16		/* live interfaces */
#define CAPTURE_BUFFER		(32 * 1024 * 1024)
#define CAPTURE_TIMEOUT_MS	100
#define CAPTURE_BATCH		1024		/* packets per live callback */
#define REPLAY_BATCH		65536		/* packets per replay slice */
#define REPLAY_STDIO_BUF	(256 * 1024)	/* fits in L2: read, then parse hot */
#define REPLAY_QUEUE_HIGH	10000		/* records waiting: pause */
#define REPLAY_DROP		(4 * 1024 * 1024)	/* mapped bytes let go */

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
static const struct agent_sink	*sink;
static struct event	*tick_ev, *replay_ev;
static int64_t		 last_stats;
static char		*replay_iobuf;		/* the replay stream's buffer */
static struct {
	uint8_t		*map;			/* the mapped file, or NULL */
	size_t		 len;
	size_t		 dropped;		/* pages before: unmapped */
	struct pcapfile	 f;
}			 mapped;

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
	*seen = *dropped = 0;
	if (conf != NULL && conf->read_file == NULL)
		live_stats(seen, dropped);
}

/* Live mode, once a second: idle conversations end, stats when due. */
static void
capture_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	uint64_t	seen, dropped;
	int64_t		now = record_now();

	(void)fd;
	(void)ev;
	(void)arg;
	/* Drain what the kernel holds before judging idleness. */
	live_drain();
	net_tick(now);
	if (now - last_stats >= (int64_t)conf->stats_interval * 1000000) {
		last_stats = now;
		live_health();
		capture_kernel_stats(&seen, &dropped);
		net_stats(seen, dropped);
	}
}

/*
 * Pages read are let go (they stay in the page cache): the agent's
 * resident memory is its conversations, not the file's size.
 */
static void
capture_mapped_drop(void)
{
	size_t	end;

	end = mapped.f.off < mapped.len ? mapped.f.off & ~(size_t)4095 : 0;
	if (end > mapped.dropped + REPLAY_DROP) {
		madvise(mapped.map + mapped.dropped, end - mapped.dropped,
		    MADV_DONTNEED);
		mapped.dropped = end;
	}
}

/* Up to REPLAY_BATCH records of the mapped file; 0 at its end. */
static int
capture_mapped_slice(void)
{
	const uint8_t	*data;
	int64_t		 ts;
	uint32_t	 caplen, wirelen;
	int		 n, rv = PCAPFILE_END;

	for (n = 0; n < REPLAY_BATCH && (rv = pcapfile_next(&mapped.f, &ts,
	    &data, &caplen, &wirelen)) == PCAPFILE_OK; n++) {
		net_packet((int)mapped.f.linktype, ts, data, caplen, wirelen);
		if ((n & 4095) == 4095)
			capture_mapped_drop();
	}
	if (rv == PCAPFILE_BAD)
		log_warnx("%s: a record cut short or longer than %d bytes "
		    "(reading stops here)", conf->read_file, PCAPFILE_SNAP_MAX);
	return n;
}

/* Link types read in place; libpcap maps the others (and says which). */
static int
capture_mapped_linktype(uint32_t lt)
{
	switch (lt) {
	case DECODE_DLT_EN10MB:
	case DECODE_DLT_RAW_ALT:
	case DECODE_DLT_LINUX_SLL:
	case DECODE_DLT_IPV4:
	case DECODE_DLT_IPV6:
	case DECODE_DLT_LINUX_SLL2:
		return 1;
	default:
		return 0;
	}
}

/*
 * Maps a classic pcap file for reading in place.  Returns 0, or -1 for
 * libpcap to read it (pcapng, another variant or link type, not a
 * regular file).  A file cut short by someone else while mapped would
 * fault: --read is for finished captures.
 */
static int
capture_map(int fd)
{
	struct stat	st;
	void		*p;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size < PCAPFILE_HDR)
		return -1;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	if (pcapfile_open(&mapped.f, p, (size_t)st.st_size) == -1 ||
	    !capture_mapped_linktype(mapped.f.linktype)) {
		munmap(p, (size_t)st.st_size);
		return -1;
	}
	madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
	mapped.map = p;
	mapped.len = (size_t)st.st_size;
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
	if (sink->backlog() > REPLAY_QUEUE_HIGH) {
		event_add(replay_ev, &pause);
		return;
	}
	if (mapped.map != NULL)
		n = capture_mapped_slice();
	else if ((n = pcap_dispatch(c->p, REPLAY_BATCH, capture_handler,
	    (u_char *)c)) == -1)
		log_warnx("%s: %s (reading stops here)", conf->read_file,
		    pcap_geterr(c->p));
	if (n > 0) {
		event_active(replay_ev, EV_TIMEOUT, 0);
		return;
	}
	net_finish();
	net_stats(0, 0);
	sink->replay_done();
}

static int
capture_replay(void)
{
	struct capture	*c = &caps[0];
	FILE		*fp;
	char		 err[PCAP_ERRBUF_SIZE];

	if ((fp = fdopen(conf->read_fd, "rb")) == NULL) {
		log_warn("%s", conf->read_file);
		return -1;
	}
	if (capture_map(fileno(fp)) == 0) {
		fclose(fp);
		c->name = xstrdup(conf->read_file);
		goto go;
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
go:
	ncaps = 1;
	replay_ev = event_new(base, -1, 0, capture_replay_cb, NULL);
	event_active(replay_ev, EV_TIMEOUT, 0);
	return 0;
}

int
capture_init(struct event_base *b, const struct agent_conf *c,
    const struct agent_sink *s)
{
	struct timeval	tv = { 1, 0 };

	base = b;
	conf = c;
	sink = s;
	if (conf->read_file != NULL)
		return capture_replay();
	if (live_init(base, conf) == -1)
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
		if (caps[i].p != NULL)
			pcap_close(caps[i].p);
		free(caps[i].name);
	}
	ncaps = 0;
	live_shutdown();
	free(replay_iobuf);	/* after pcap_close closed its stream */
	replay_iobuf = NULL;
	if (mapped.map != NULL)
		munmap(mapped.map, mapped.len);
	memset(&mapped, 0, sizeof(mapped));
}
