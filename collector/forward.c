/* SPDX-License-Identifier: ISC */
/*
 * Forwarding outputs and their queues (see forward.h).  A record written
 * to a host log is appended at once to each output's spool in
 * <state-dir>/forward/NAME (write(2) in the loop, like the host logs; the
 * sync round that makes the logs durable before an ACK syncs the queues
 * too), then handed to the output's driver as it can take it.  A queue
 * that fills drops its oldest records and says so in lab.log
 * (lab.forward_dropped), as the agent's spool does with agent.dropped.
 */
#include <sys/stat.h>

#include <event2/buffer.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecs.h"
#include "escape.h"
#include "format.h"
#include "forward.h"
#include "hostlog.h"
#include "lab.h"
#include "log.h"
#include "num.h"
#include "privdrop.h"
#include "rbuf.h"
#include "spool.h"
#include "wire.h"
#include "xmalloc.h"

#define QUEUE_DEFAULT	(256LL * 1024 * 1024)
#define QUEUE_MIN	(64LL * 1024)
#define QUEUE_MAX	(1LL << 40)
#define WINDOW		4096		/* records taken, not yet delivered */
#define READ_BYTES	(256 * 1024)	/* spool_read at a time */
#define HOST_LEN_MAX	255
/* qseq, ts, stream, host length: before the host and the record. */
#define PREFIX_LEN	(8 + 8 + 8 + 1)
#define SAVE_SEC	1		/* how often the delivery point is saved */

static const struct fwd_driver *drivers[] = {
	&fwd_syslog_driver,
	&fwd_kafka_driver,
	NULL
};

/* One forward line, cut into words. */
struct fwd_line {
	char			 name[FWD_NAME_MAX + 1];
	const struct fwd_driver	*drv;
	enum fwd_format		 format;
	long long		 queue;
	int			 argc;		/* the driver's words */
	char			*argv[FWD_ARGS_MAX + 1];
	char			*words;
};

struct fwd_output {
	struct fwd_line		 line;
	void			*state;		/* the driver's */
	struct spool		*spool;
	uint64_t		 qstream;
	uint64_t		 acked;		/* all <= acked delivered */
	uint64_t		 sent;		/* last qseq taken by send */
	uint8_t			 done[WINDOW];	/* delivered, by qseq % WINDOW */
	int			 ready;
	int			 failing;	/* said once per outage */
	struct evbuffer		*rd;		/* read, not yet taken */
	struct event		*pump_ev;
	char			*dir;
	int			 dirfd;
	uint64_t		 saved;		/* acked as "delivered" says */
	uint64_t		 n_sent, n_delivered, n_rejected;
	uint64_t		 n_dropped, n_lost;
};

static struct {
	struct fwd_output	*outs;
	size_t			 nouts;
	char			*dir;		/* <state-dir>/forward */
	struct event		*report_ev;
	struct event		*save_ev;
	struct buf		 frame;		/* forward_record's */
	struct buf		 inner;
	struct buf		 payload;	/* the pump's */
	struct buf		 id;
	struct record		 rec;
	/* The lab.forward_dropped being written, and its run. */
	struct fwd_output	*reporting;
	struct spool_drop	 run;
} fw;

static void	fwd_pump(struct fwd_output *);

static int
fwd_name_ok(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > FWD_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* "unknown output type (syslog, ...)", from the drivers there are. */
static const char *
fwd_types(void)
{
	static char	text[128];
	size_t		i;

	snprintf(text, sizeof(text), "unknown output type (");
	for (i = 0; drivers[i] != NULL; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "%s%s", i > 0 ? ", " : "", drivers[i]->type);
	snprintf(text + strlen(text), sizeof(text) - strlen(text), ")");
	return text;
}

static void
fwd_line_free(struct fwd_line *l)
{
	free(l->words);
	l->words = NULL;
}

/*
 * Cuts a forward line into NAME, TYPE, the common options and the
 * driver's words, and has the driver check its own.
 */
static int
fwd_line_parse(const char *s, struct fwd_line *l, const char **err)
{
	char	*w[FWD_ARGS_MAX + 3], *p, *save = NULL;
	int	 n = 0, i;

	memset(l, 0, sizeof(*l));
	l->format = FWD_JSON;
	l->queue = QUEUE_DEFAULT;
	l->words = xstrdup(s);
	for (p = strtok_r(l->words, " \t", &save); p != NULL;
	    p = strtok_r(NULL, " \t", &save)) {
		if (n == FWD_ARGS_MAX + 2) {
			*err = "too many words";
			goto fail;
		}
		w[n++] = p;
	}
	if (n < 2) {
		*err = "expected NAME TYPE ...";
		goto fail;
	}
	if (!fwd_name_ok(w[0])) {
		*err = "NAME: 1 to 32 of a-z, 0-9, _ and -";
		goto fail;
	}
	snprintf(l->name, sizeof(l->name), "%s", w[0]);
	for (i = 0; drivers[i] != NULL; i++)
		if (strcmp(drivers[i]->type, w[1]) == 0)
			l->drv = drivers[i];
	if (l->drv == NULL) {
		*err = fwd_types();
		goto fail;
	}
	for (i = 2; i < n; i++) {
		if (strcmp(w[i], "format") == 0 && i + 1 < n) {
			if (strcmp(w[i + 1], "json") == 0)
				l->format = FWD_JSON;
			else if (strcmp(w[i + 1], "ecs") == 0)
				l->format = FWD_ECS;
			else {
				*err = "format: json or ecs";
				goto fail;
			}
			i++;
		} else if (strcmp(w[i], "queue") == 0 && i + 1 < n) {
			if (num_parse(w[i + 1], QUEUE_MIN, QUEUE_MAX, &l->queue,
			    err) == -1) {
				*err = "queue: bytes, 65536 at least";
				goto fail;
			}
			i++;
		} else
			l->argv[l->argc++] = w[i];
	}
	l->argv[l->argc] = NULL;
	if (l->drv->check(l->argc, l->argv, err) == -1)
		goto fail;
	return 0;
fail:
	fwd_line_free(l);
	return -1;
}

int
forward_check(const char *s, const char **err)
{
	static char	(*seen)[FWD_NAME_MAX + 1];
	static size_t	 nseen;
	struct fwd_line	 l;
	size_t		 i;

	if (fwd_line_parse(s, &l, err) == -1)
		return -1;
	for (i = 0; i < nseen; i++)
		if (strcmp(seen[i], l.name) == 0) {
			*err = "an output of that NAME is already given";
			fwd_line_free(&l);
			return -1;
		}
	seen = xreallocarray(seen, nseen + 1, sizeof(*seen));
	memcpy(seen[nseen++], l.name, sizeof(*seen));
	fwd_line_free(&l);
	return 0;
}

const char *
fwd_name(const struct fwd_output *o)
{
	return o->line.name;
}

void
forward_record(const char *host, uint64_t stream, const struct record *r)
{
	struct fwd_output	*o;
	const struct spool_drop	*report;
	size_t			 i, hlen = strlen(host), len;
	uint64_t		 seq;

	if (fw.nouts == 0)
		return;
	if (hlen > HOST_LEN_MAX)
		hlen = HOST_LEN_MAX;
	buf_reset(&fw.inner);
	wire_put_record(&fw.inner, WIRE_RECORD, r);
	len = PREFIX_LEN + hlen + fw.inner.len - WIRE_HDR_LEN;
	buf_reset(&fw.frame);
	buf_add_u16(&fw.frame, WIRE_MAGIC);
	buf_add_u8(&fw.frame, WIRE_VERSION);
	buf_add_u8(&fw.frame, WIRE_RECORD);
	buf_add_u32(&fw.frame, (uint32_t)len);
	buf_add_u64(&fw.frame, 0);		/* qseq, per output */
	buf_add_u64(&fw.frame, (uint64_t)r->ts_us);
	buf_add_u64(&fw.frame, stream);
	buf_add_u8(&fw.frame, (uint8_t)hlen);
	buf_add(&fw.frame, host, hlen);
	buf_add(&fw.frame, fw.inner.data + WIRE_HDR_LEN,
	    fw.inner.len - WIRE_HDR_LEN);
	for (i = 0; i < fw.nouts; i++) {
		o = &fw.outs[i];
		if (o->spool == NULL)
			continue;
		if (len > SPOOL_FRAME_MAX) {
			log_warnx("forward %s: a record of %zu bytes is too "
			    "large to queue; not forwarded", o->line.name, len);
			o->n_lost++;
			continue;
		}
		seq = spool_next_seq(o->spool);
		buf_set_u32(&fw.frame, WIRE_HDR_LEN, (uint32_t)(seq >> 32));
		buf_set_u32(&fw.frame, WIRE_HDR_LEN + 4, (uint32_t)seq);
		report = fw.reporting == o ? &fw.run : NULL;
		if (spool_append(o->spool, fw.frame.data, fw.frame.len,
		    report) == -1) {
			o->n_lost++;
			continue;
		}
		if (spool_ndue(o->spool) > 0 && fw.report_ev != NULL)
			event_active(fw.report_ev, EV_TIMEOUT, 0);
		if (o->ready)
			event_active(o->pump_ev, EV_TIMEOUT, 0);
	}
}

/* Says in lab.log what full queues dropped (lab.forward_dropped). */
static void
fwd_report_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct fwd_output	*o;
	struct record		 r;
	size_t			 i;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < fw.nouts; i++) {
		o = &fw.outs[i];
		while (o->spool != NULL && spool_due(o->spool, &fw.run, 1) == 1) {
			log_warnx("forward %s: queue full, dropped %" PRIu64
			    " records (queue numbers %" PRIu64 " to %" PRIu64
			    ")", o->line.name, fw.run.count, fw.run.first_seq,
			    fw.run.last_seq);
			o->n_dropped += fw.run.count;
			record_init(&r);
			record_begin(&r, "lab.forward_dropped");
			record_add_str(&r, "output", o->line.name);
			record_add_int(&r, "count", (int64_t)fw.run.count);
			record_add_int(&r, "first", (int64_t)fw.run.first_seq);
			record_add_int(&r, "last", (int64_t)fw.run.last_seq);
			record_add_time(&r, "first_ts", fw.run.first_ts);
			record_add_time(&r, "last_ts", fw.run.last_ts);
			record_add_str(&r, "reason", "queue full");
			/* Into this queue as the report of its run. */
			fw.reporting = o;
			lab_emit(&r);
			fw.reporting = NULL;
			record_free(&r);
		}
	}
}

/*
 * Decodes a queued frame (payload p, len bytes) into fr, its record in
 * fw.rec and its payload in the output's format.
 */
static int
fwd_decode(struct fwd_output *o, const uint8_t *p, size_t len,
    struct fwd_record *fr, char *host, char *stream_hex)
{
	struct rbuf	 rb;
	const char	*err;
	uint64_t	 ts, seq;
	uint8_t		 hlen;
	size_t		 start;

	rbuf_init(&rb, p, len);
	if (rbuf_get_u64(&rb, &fr->qseq) == -1 || rbuf_get_u64(&rb, &ts) == -1 ||
	    rbuf_get_u64(&rb, &fr->stream) == -1 ||
	    rbuf_get_u8(&rb, &hlen) == -1 || len < PREFIX_LEN + (size_t)hlen)
		return -1;
	memcpy(host, p + PREFIX_LEN, hlen);
	host[hlen] = '\0';
	if (wire_get_record(p + PREFIX_LEN + hlen, len - PREFIX_LEN - hlen,
	    &fw.rec, &err) == -1) {
		log_warnx("forward %s: queued record %" PRIu64 " is damaged "
		    "(%s); skipped", o->line.name, fr->qseq, err);
		return -1;
	}
	fw.rec.host = host;
	fr->host = host;
	fr->rec = &fw.rec;
	/* The collector's own records: the queue's stream and number. */
	if (fw.rec.seq == 0) {
		fr->stream = o->qstream;
		seq = fr->qseq;
	} else
		seq = fw.rec.seq;
	fr->seq = seq;
	snprintf(stream_hex, 17, "%016" PRIx64, fr->stream);
	buf_reset(&fw.id);
	buf_printf(&fw.id, "%s/%s/%" PRIu64, host, stream_hex, seq);
	buf_add_u8(&fw.id, '\0');
	fr->id = (const char *)fw.id.data;
	buf_reset(&fw.payload);
	if (o->line.format == FWD_ECS)
		ecs_record(&fw.payload, &fw.rec, host, fr->id, stream_hex, seq);
	else {
		/* The log's JSON line with the identity first. */
		buf_add_str(&fw.payload, "{\"record_id\":");
		escape_json(&fw.payload, (const uint8_t *)fr->id,
		    strlen(fr->id));
		buf_add_u8(&fw.payload, ',');
		start = fw.payload.len;
		format_record(&fw.payload, &fw.rec, FORMAT_JSON);
		/* Without the line's own "{" and its newline. */
		memmove(fw.payload.data + start, fw.payload.data + start + 1,
		    fw.payload.len - start - 1);
		fw.payload.len -= 2;
	}
	fr->payload = (const char *)fw.payload.data;
	fr->payload_len = fw.payload.len;
	return 0;
}

/* Hands queued records to the driver while it takes them. */
static void
fwd_pump(struct fwd_output *o)
{
	struct fwd_record	 fr;
	struct wire_hdr		 h;
	const char		*err;
	uint8_t			 hdr[WIRE_HDR_LEN], *p;
	char			 host[HOST_LEN_MAX + 1], stream_hex[17];
	uint64_t		 q;

	while (o->ready && o->spool != NULL) {
		if (evbuffer_get_length(o->rd) < WIRE_HDR_LEN &&
		    spool_read(o->spool, o->rd, READ_BYTES) == 0)
			break;
		evbuffer_copyout(o->rd, hdr, WIRE_HDR_LEN);
		if (wire_parse_hdr(hdr, SPOOL_FRAME_MAX, &h, &err) == -1 ||
		    evbuffer_get_length(o->rd) < WIRE_HDR_LEN + h.len) {
			/* spool_read gives whole frames: cannot happen. */
			log_warnx("forward %s: bad frame in the queue",
			    o->line.name);
			evbuffer_drain(o->rd, evbuffer_get_length(o->rd));
			break;
		}
		p = evbuffer_pullup(o->rd, WIRE_HDR_LEN + h.len) + WIRE_HDR_LEN;
		/*
		 * A damaged record is skipped; the next one's number covers
		 * it as it covers what a full queue dropped.
		 */
		if (fwd_decode(o, p, h.len, &fr, host, stream_hex) == -1) {
			o->n_lost++;
			evbuffer_drain(o->rd, WIRE_HDR_LEN + h.len);
			continue;
		}
		if (fr.qseq <= o->sent) {
			evbuffer_drain(o->rd, WIRE_HDR_LEN + h.len);
			continue;
		}
		/* Numbers the full queue dropped before they were sent. */
		if (fr.qseq != o->sent + 1) {
			if (o->sent == o->acked)
				o->acked = o->sent = fr.qseq - 1;
			else if (fr.qseq - 1 - o->acked >= WINDOW)
				break;
			else
				for (q = o->sent + 1; q < fr.qseq; q++)
					o->done[q % WINDOW] = 1;
			o->sent = fr.qseq - 1;
		}
		if (o->sent - o->acked >= WINDOW)
			break;
		if (o->line.drv->send(o->state, &fr) == -1) {
			o->ready = 0;
			break;
		}
		evbuffer_drain(o->rd, WIRE_HDR_LEN + h.len);
		o->sent = fr.qseq;
		o->n_sent++;
	}
}

/*
 * Keeps the delivery point in the queue's folder ("delivered"), so a
 * restart does not send a segment's delivered records again.  Not synced:
 * a point that is behind only makes duplicates.
 */
static void
fwd_save(struct fwd_output *o)
{
	char	text[32];
	int	fd, len;

	if (o->saved == o->acked || o->dirfd == -1)
		return;
	len = snprintf(text, sizeof(text), "%" PRIu64 "\n", o->acked);
	fd = openat(o->dirfd, "delivered.tmp", O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1 || write(fd, text, (size_t)len) != len ||
	    close(fd) == -1 || renameat(o->dirfd, "delivered.tmp", o->dirfd,
	    "delivered") == -1) {
		log_warn("forward %s: %s/delivered", o->line.name, o->dir);
		return;
	}
	o->saved = o->acked;
}

/* The delivery point saved, or 0. */
static uint64_t
fwd_load(struct fwd_output *o)
{
	char		 text[32];
	long long	 v;
	const char	*err;
	ssize_t		 n;
	int		 fd;

	if ((fd = openat(o->dirfd, "delivered", O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	text[strcspn(text, "\n")] = '\0';
	if (num_parse(text, 0, INT64_MAX, &v, &err) == -1) {
		log_warnx("forward %s: %s/delivered: %s; ignored",
		    o->line.name, o->dir, err);
		return 0;
	}
	return (uint64_t)v;
}

static void
fwd_save_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	tv = { SAVE_SEC, 0 };
	size_t		i;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < fw.nouts; i++)
		fwd_save(&fw.outs[i]);
	evtimer_add(fw.save_ev, &tv);
}

static void
fwd_pump_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	fwd_pump(arg);
}

static void
fwd_advance(struct fwd_output *o)
{
	uint64_t	before = o->acked;

	while (o->acked < o->sent && o->done[(o->acked + 1) % WINDOW]) {
		o->done[(o->acked + 1) % WINDOW] = 0;
		o->acked++;
	}
	if (o->acked != before) {
		spool_ack(o->spool, o->acked);
		event_active(o->pump_ev, EV_TIMEOUT, 0);
	}
}

void
fwd_delivered(struct fwd_output *o, uint64_t qseq)
{
	if (qseq <= o->acked || qseq > o->sent)
		return;
	o->done[qseq % WINDOW] = 1;
	o->n_delivered++;
	if (o->failing) {
		log_info("forward %s: delivering again", o->line.name);
		o->failing = 0;
	}
	fwd_advance(o);
}

void
fwd_rejected(struct fwd_output *o, uint64_t qseq, const char *reason)
{
	if (qseq <= o->acked || qseq > o->sent)
		return;
	log_warnx("forward %s: queue record %" PRIu64 " refused: %s; not "
	    "sent again", o->line.name, qseq, reason);
	o->n_rejected++;
	o->done[qseq % WINDOW] = 1;
	fwd_advance(o);
}

void
fwd_ready(struct fwd_output *o)
{
	o->ready = 1;
	event_active(o->pump_ev, EV_TIMEOUT, 0);
}

void
fwd_failed(struct fwd_output *o, const char *reason)
{
	if (!o->failing)
		log_warnx("forward %s: %s; %" PRIu64 " records wait in its "
		    "queue", o->line.name, reason, spool_records(o->spool));
	o->failing = 1;
	o->ready = 0;
	memset(o->done, 0, sizeof(o->done));
	o->sent = o->acked;
	evbuffer_drain(o->rd, evbuffer_get_length(o->rd));
	spool_rewind(o->spool, o->acked);
}

int
forward_open(const char *state_dir, const char *const *lines, int n)
{
	struct fwd_output	*o;
	const char		*err;
	char			 dir[4096];
	uint64_t		 saved;
	int			 i;

	buf_init(&fw.frame);
	buf_init(&fw.inner);
	buf_init(&fw.payload);
	buf_init(&fw.id);
	record_init(&fw.rec);
	if (n == 0)
		return 0;
	fw.outs = xcalloc((size_t)n, sizeof(*fw.outs));
	snprintf(dir, sizeof(dir), "%s/forward", state_dir);
	fw.dir = xstrdup(dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("%s", dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		o = &fw.outs[fw.nouts];
		o->dirfd = -1;
		if (fwd_line_parse(lines[i], &o->line, &err) == -1) {
			log_warnx("forward %s: %s", lines[i], err);
			return -1;
		}
		fw.nouts++;
		snprintf(dir, sizeof(dir), "%s/forward/%s", state_dir,
		    o->line.name);
		if ((o->spool = spool_open(dir, (size_t)o->line.queue, 0,
		    &o->qstream)) == NULL)
			return -1;
		if ((o->dirfd = open(dir, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			log_warn("%s", dir);
			return -1;
		}
		o->dir = xstrdup(dir);
		o->acked = o->sent = spool_next_seq(o->spool) - 1 -
		    spool_records(o->spool);
		saved = fwd_load(o);
		if (saved > o->acked && saved < spool_next_seq(o->spool)) {
			spool_ack(o->spool, saved);
			o->acked = o->sent = saved;
		}
		o->saved = o->acked;
		spool_rewind(o->spool, o->acked);
		o->rd = evbuffer_new();
	}
	return 0;
}

int
forward_chown(const struct privdrop_user *u)
{
	size_t	i;

	if (fw.nouts > 0 && privdrop_chown_dir(fw.dir, u) == -1)
		return -1;
	for (i = 0; i < fw.nouts; i++)
		if (privdrop_chown_dir(fw.outs[i].dir, u) == -1)
			return -1;
	return 0;
}

int
forward_start(struct event_base *base)
{
	struct fwd_output	*o;
	struct timeval		 tv = { SAVE_SEC, 0 };
	size_t			 i;

	if (fw.nouts == 0)
		return 0;
	fw.report_ev = event_new(base, -1, 0, fwd_report_cb, NULL);
	for (i = 0; i < fw.nouts; i++) {
		o = &fw.outs[i];
		o->pump_ev = event_new(base, -1, 0, fwd_pump_cb, o);
		if ((o->state = o->line.drv->open(o, base, o->line.argc,
		    o->line.argv)) == NULL)
			return -1;
	}
	/* Runs left to report from before a restart. */
	event_active(fw.report_ev, EV_TIMEOUT, 0);
	fw.save_ev = evtimer_new(base, fwd_save_cb, NULL);
	evtimer_add(fw.save_ev, &tv);
	return 0;
}

size_t
forward_sync_fds(int **fds)
{
	static int	*v;
	size_t		 i, n = 0;

	v = xreallocarray(v, fw.nouts * SPOOL_SYNC_FDS + 1, sizeof(*v));
	for (i = 0; i < fw.nouts; i++)
		if (fw.outs[i].spool != NULL)
			n += spool_sync_fds(fw.outs[i].spool, v + n);
	*fds = v;
	return n;
}

void
forward_sync(void)
{
	size_t	i;

	for (i = 0; i < fw.nouts; i++)
		if (fw.outs[i].spool != NULL)
			spool_sync(fw.outs[i].spool);
}

void
forward_each(void (*cb)(const struct fwd_stat *, void *), void *arg)
{
	struct fwd_output	*o;
	struct fwd_stat		 st;
	struct buf		 b;
	size_t			 i;

	buf_init(&b);
	for (i = 0; i < fw.nouts; i++) {
		o = &fw.outs[i];
		memset(&st, 0, sizeof(st));
		st.name = o->line.name;
		st.type = o->line.drv->type;
		if (o->spool != NULL) {
			st.queued = spool_records(o->spool);
			st.queued_bytes = spool_bytes(o->spool);
		}
		st.sent = o->n_sent;
		st.delivered = o->n_delivered;
		st.rejected = o->n_rejected;
		st.dropped = o->n_dropped;
		st.lost = o->n_lost;
		st.connected = o->ready || (!o->failing && o->n_delivered > 0);
		buf_reset(&b);
		if (o->state != NULL && o->line.drv->status != NULL)
			o->line.drv->status(o->state, &b);
		buf_add_u8(&b, '\0');
		st.status = (const char *)b.data;
		cb(&st, arg);
	}
	buf_free(&b);
}

void
forward_shutdown(void)
{
	struct fwd_output	*o;
	size_t			 i;

	for (i = 0; i < fw.nouts; i++) {
		o = &fw.outs[i];
		if (o->state != NULL)
			o->line.drv->close(o->state);
		fwd_save(o);
		if (o->dirfd != -1)
			close(o->dirfd);
		free(o->dir);
		if (o->spool != NULL) {
			if (spool_records(o->spool) > 0)
				log_info("forward %s: %" PRIu64 " records wait "
				    "in its queue for the next start",
				    o->line.name, spool_records(o->spool));
			spool_close(o->spool);
		}
		if (o->rd != NULL)
			evbuffer_free(o->rd);
		if (o->pump_ev != NULL)
			event_free(o->pump_ev);
		fwd_line_free(&o->line);
	}
	free(fw.outs);
	free(fw.dir);
	fw.outs = NULL;
	fw.nouts = 0;
	if (fw.report_ev != NULL)
		event_free(fw.report_ev);
	if (fw.save_ev != NULL)
		event_free(fw.save_ev);
	buf_free(&fw.frame);
	buf_free(&fw.inner);
	buf_free(&fw.payload);
	buf_free(&fw.id);
	record_free(&fw.rec);
}
