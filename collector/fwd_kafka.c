/* SPDX-License-Identifier: ISC */
/*
 * The Kafka output of forwarding:
 *
 *   forward NAME kafka BROKER[,BROKER...] TOPIC [ca FILE]
 *
 * One idempotent librdkafka producer per output.  Each record is one
 * message: key the host, so a host's records go to one partition in
 * order; value the record as the queue formatted it (JSON or ECS); headers
 * labwatch_id ("HOST/STREAM/SEQ"), host, stream (hex) and seq, its
 * identity, so a downstream can drop the duplicates a resend makes.
 *
 * librdkafka runs its own threads; everything it reports (delivery
 * reports, errors, its log lines) waits on its main queue, which wakes the
 * collector's loop through a pipe (rd_kafka_queue_io_event_enable) and is
 * served there, so the fwd_* calls happen in the loop and nothing blocks
 * it.  A record leaves the disk queue only when its delivery report says
 * the brokers have it.  Messages never time out inside librdkafka: while
 * the brokers are away they wait, at most KAFKA_WINDOW of them, and the
 * rest waits on disk.  A broker error is logged and retried, never fatal;
 * a producer that librdkafka declares fatally broken (idempotence state
 * lost) is replaced and every record not yet delivered is sent again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <librdkafka/rdkafka.h>

#include "addr.h"
#include "buf.h"
#include "escape.h"
#include "forward.h"
#include "log.h"
#include "opts.h"
#include "xmalloc.h"

#define KAFKA_WINDOW	4096	/* messages librdkafka holds at most */
#define KAFKA_FLUSH_MS	3000	/* waited at shutdown for delivery, */
#define KAFKA_FLUSH_STEP 500	/* ... while each step delivers some */
#define KAFKA_RETRY_MIN	1	/* seconds before sending again */
#define KAFKA_RETRY_MAX	30
#define KAFKA_ERR_EVERY	60	/* seconds between repeats of one error */
#define KAFKA_ERR_OTHER	10	/* ... of a different error */
#define KAFKA_TOPIC_MAX	249	/* Kafka's own limit */
#define KAFKA_BROKERS_MAX 1024	/* bytes of the broker list */
#define KAFKA_REJECTS	16	/* refusals waiting to be reported */
#define KAFKA_POLLS	64	/* rd_kafka_poll rounds before a pause */

struct kafka_reject {
	uint64_t		 qseq;
	rd_kafka_resp_err_t	 err;
};

struct kafka {
	struct fwd_output	*out;
	char			*brokers;
	char			*topic;
	rd_kafka_t		*rk;
	rd_kafka_topic_t	*rkt;
	int			 wake[2];	/* librdkafka -> loop */
	struct event		*ev_wake;	/* its queue has something */
	struct event		*ev_tick;	/* each second */
	/* In-flight records: a slot's number is the message's opaque. */
	uint64_t		 slot_qseq[KAFKA_WINDOW];
	uint16_t		 free_slots[KAFKA_WINDOW];
	uint32_t		 nfree;
	uint32_t		 inflight;
	struct kafka_reject	 rejects[KAFKA_REJECTS];
	uint32_t		 nrejects;
	int			 owe_ready;	/* send said -1 */
	int			 failing;	/* drain, then fwd_failed */
	int			 broken;	/* rebuild the producer */
	int			 waiting;	/* after fwd_failed: retry_at */
	time_t			 retry_at;
	int			 backoff;	/* seconds */
	char			 why[256];	/* of the failure */
	rd_kafka_resp_err_t	 last_err;	/* last broker error logged */
	time_t			 last_err_at;
	int			 in_trouble;	/* errors since a delivery */
	uint64_t		 delivered;
	uint64_t		 rejected;
	uint64_t		 resent;	/* times fwd_failed was called */
	char			*ca;		/* TLS to the brokers */
};

/* librdkafka's strings (a broker's words among them) made safe to log. */
static const char *
kafka_esc(struct buf *b, const char *s)
{
	return escape_cstr(b, s, strlen(s));
}

/* Kafka's legal topic names: [a-zA-Z0-9._-], not "." nor "..". */
static int
kafka_topic_ok(const char *t)
{
	size_t	n = strlen(t);

	if (n == 0 || n > KAFKA_TOPIC_MAX || strcmp(t, ".") == 0 ||
	    strcmp(t, "..") == 0)
		return 0;
	return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

static int
kafka_brokers_ok(const char *list, const char **err)
{
	static char	 why[160];
	char		 copy[KAFKA_BROKERS_MAX], *p, *b;
	const char	*e;

	if (strlen(list) >= sizeof(copy)) {
		*err = "kafka: the broker list is too long";
		return -1;
	}
	strcpy(copy, list);
	for (p = copy; (b = strsep(&p, ",")) != NULL;) {
		if (*b == '\0') {
			*err = "kafka: an empty broker in the list "
			    "(HOST:PORT,...)";
			return -1;
		}
		if (opts_check_hostport(b, &e) == -1) {
			snprintf(why, sizeof(why), "kafka: broker %.64s: %s", b,
			    e);
			*err = why;
			return -1;
		}
	}
	return 0;
}

static int
kafka_check(int argc, char **argv, const char **err)
{
	int	i;

	if (argc < 2) {
		*err = "kafka: expected BROKER[,BROKER...] TOPIC";
		return -1;
	}
	if (kafka_brokers_ok(argv[0], err) == -1)
		return -1;
	if (!kafka_topic_ok(argv[1])) {
		*err = "kafka: a topic is 1 to 249 of a-z, A-Z, 0-9, ., _ "
		    "and -";
		return -1;
	}
	for (i = 2; i < argc; i += 2) {
		if (strcmp(argv[i], "ca") != 0) {
			*err = "kafka: unknown option (ca FILE)";
			return -1;
		}
		if (i + 1 >= argc || argv[i + 1][0] == '\0') {
			*err = "kafka: ca: a file";
			return -1;
		}
	}
	return 0;
}

/*
 * Logs a broker error at once, then the same error again after a minute
 * and another after 10 s; a delivery after errors says so.
 */
static void
kafka_trouble(struct kafka *k, rd_kafka_resp_err_t err, const char *reason)
{
	struct buf	b;
	time_t		now = time(NULL);

	if (k->in_trouble && now - k->last_err_at < (err == k->last_err ?
	    KAFKA_ERR_EVERY : KAFKA_ERR_OTHER))
		return;
	k->in_trouble = 1;
	k->last_err = err;
	k->last_err_at = now;
	buf_init(&b);
	log_warnx("forward %s: kafka %s: %s (retrying; records wait in the "
	    "queue)", fwd_name(k->out), k->brokers, kafka_esc(&b, reason));
	buf_free(&b);
}

static void
kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *arg)
{
	struct kafka	*k = arg;
	struct buf	 b;
	const char	*why;
	char		 fatal[256];

	if (err != RD_KAFKA_RESP_ERR__FATAL) {
		kafka_trouble(k, err, reason);
		return;
	}
	rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
	buf_init(&b);
	why = kafka_esc(&b, fatal);
	log_warnx("forward %s: kafka producer broken (%s): making a new one, "
	    "records not yet delivered will be sent again", fwd_name(k->out),
	    why);
	snprintf(k->why, sizeof(k->why), "producer broken: %s", why);
	buf_free(&b);
	k->broken = 1;
}

/* librdkafka's own lines (log.queue): served in the loop, -v shows them. */
static void
kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
    const char *line)
{
	struct kafka	*k = rd_kafka_opaque(rk);
	struct buf	 b;

	(void)level;
	buf_init(&b);
	log_debug("forward %s: librdkafka %s: %s", fwd_name(k->out), fac,
	    kafka_esc(&b, line));
	buf_free(&b);
}

/* Refusals for good: the record itself is wrong for Kafka. */
static int
kafka_err_permanent(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_RECORD:
	case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
		return 1;
	default:
		return 0;
	}
}

static void
kafka_slot_put(struct kafka *k, uint32_t slot)
{
	k->free_slots[k->nfree++] = (uint16_t)slot;
	k->inflight--;
}

static void
kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *arg)
{
	struct kafka	*k = arg;
	uint32_t	 slot = (uint32_t)(uintptr_t)m->_private - 1;
	uint64_t	 qseq;

	(void)rk;
	if (slot >= KAFKA_WINDOW)
		fatalx("kafka: a delivery report for no message");
	qseq = k->slot_qseq[slot];
	kafka_slot_put(k, slot);
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		k->delivered++;
		if (k->in_trouble) {
			log_info("forward %s: kafka %s: delivering again",
			    fwd_name(k->out), k->brokers);
			k->in_trouble = 0;
			k->last_err = RD_KAFKA_RESP_ERR_NO_ERROR;
		}
		k->backoff = 0;
		fwd_delivered(k->out, qseq);
	} else if (kafka_err_permanent(m->err)) {
		k->rejected++;
		fwd_rejected(k->out, qseq, rd_kafka_err2str(m->err));
	} else if (!k->failing && !k->broken) {
		/* Sent again once everything in flight is back. */
		k->failing = 1;
		snprintf(k->why, sizeof(k->why), "%s",
		    rd_kafka_err2str(m->err));
		kafka_trouble(k, m->err, k->why);
	}
}

static int
kafka_conf(rd_kafka_conf_t *conf, const char *key, const char *val,
    const char *name)
{
	char	err[256];

	if (rd_kafka_conf_set(conf, key, val, err, sizeof(err)) ==
	    RD_KAFKA_CONF_OK)
		return 0;
	log_warnx("forward %s: kafka: %s=%s: %s", name, key, val, err);
	return -1;
}

/* A new producer on the configured brokers; -1 after logging. */
static int
kafka_start(struct kafka *k)
{
	rd_kafka_conf_t	*conf = rd_kafka_conf_new();
	rd_kafka_queue_t *q;
	const char	*name = fwd_name(k->out);
	char		 err[512];
	uint32_t	 i;

	if (kafka_conf(conf, "bootstrap.servers", k->brokers, name) == -1 ||
	    kafka_conf(conf, "client.id", "labwatch-collector", name) == -1 ||
	    kafka_conf(conf, "enable.idempotence", "true", name) == -1 ||
	    /* Never given up on: the disk queue holds what waits. */
	    kafka_conf(conf, "message.timeout.ms", "0", name) == -1 ||
	    kafka_conf(conf, "linger.ms", "5", name) == -1 ||
	    /* The key's partition as Java producers pick it. */
	    kafka_conf(conf, "partitioner", "murmur2_random", name) == -1 ||
	    kafka_conf(conf, "log.queue", "true", name) == -1 ||
	    (k->ca != NULL && (kafka_conf(conf, "security.protocol", "ssl",
	    name) == -1 || kafka_conf(conf, "ssl.ca.location", k->ca,
	    name) == -1))) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr_cb);
	rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
	if ((k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err,
	    sizeof(err))) == NULL) {
		log_warnx("forward %s: kafka: %s", name, err);
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	rd_kafka_set_log_queue(k->rk, NULL);
	q = rd_kafka_queue_get_main(k->rk);
	rd_kafka_queue_io_event_enable(q, k->wake[1], "k", 1);
	rd_kafka_queue_destroy(q);
	k->rkt = rd_kafka_topic_new(k->rk, k->topic, NULL);
	k->nfree = KAFKA_WINDOW;
	for (i = 0; i < KAFKA_WINDOW; i++)
		k->free_slots[i] = (uint16_t)(KAFKA_WINDOW - 1 - i);
	k->inflight = 0;
	return 0;
}

/* Frees the producer; what it still held is forgotten (sent again). */
static void
kafka_stop(struct kafka *k)
{
	rd_kafka_queue_t	*q;

	if (k->rk == NULL)
		return;
	rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE |
	    RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
	q = rd_kafka_queue_get_main(k->rk);
	rd_kafka_queue_io_event_enable(q, -1, NULL, 0);
	rd_kafka_queue_destroy(q);
	/* The purged messages' reports are never served: no fwd_* calls. */
	rd_kafka_topic_destroy(k->rkt);
	rd_kafka_destroy(k->rk);
	k->rk = NULL;
	k->rkt = NULL;
	k->inflight = 0;
}

/* Serves what librdkafka queued: reports, errors, log lines. */
static void
kafka_serve(struct kafka *k)
{
	const char	*why;
	uint32_t	 i;
	int		 n = 0;

	for (i = 0; i < k->nrejects; i++) {
		k->rejected++;
		fwd_rejected(k->out, k->rejects[i].qseq,
		    rd_kafka_err2str(k->rejects[i].err));
	}
	k->nrejects = 0;
	/* Each round serves what is there; more rounds after the loop ran. */
	while (k->rk != NULL && rd_kafka_poll(k->rk, 0) > 0)
		if (++n == KAFKA_POLLS) {
			event_active(k->ev_tick, EV_TIMEOUT, 0);
			break;
		}
	if (k->broken) {
		kafka_stop(k);
		k->broken = 0;
		k->failing = 1;
	}
	if (k->failing && k->inflight == 0) {
		/* Everything back: the undelivered go again after a pause. */
		k->failing = 0;
		k->waiting = 1;
		k->resent++;
		k->backoff = k->backoff == 0 ? KAFKA_RETRY_MIN :
		    k->backoff * 2 > KAFKA_RETRY_MAX ? KAFKA_RETRY_MAX :
		    k->backoff * 2;
		k->retry_at = time(NULL) + k->backoff;
		why = k->why[0] != '\0' ? k->why : "delivery failed";
		/* The queue says it from here on ("delivering again"). */
		k->in_trouble = 0;
		fwd_failed(k->out, why);
	}
	if (k->waiting && time(NULL) >= k->retry_at) {
		if (k->rk == NULL && kafka_start(k) == -1) {
			k->retry_at = time(NULL) + KAFKA_RETRY_MAX;
			return;
		}
		k->waiting = 0;
		k->owe_ready = 0;
		k->why[0] = '\0';
		fwd_ready(k->out);
	} else if (k->owe_ready && !k->failing && !k->waiting &&
	    k->inflight < KAFKA_WINDOW / 2) {
		k->owe_ready = 0;
		fwd_ready(k->out);
	}
}

static void
kafka_wake_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct kafka	*k = arg;
	char		 b[64];

	(void)ev;
	while (read(fd, b, sizeof(b)) > 0)
		;
	kafka_serve(k);
}

static void
kafka_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct kafka	*k = arg;

	(void)fd;
	(void)ev;
	kafka_serve(k);
}

static void
kafka_free(struct kafka *k)
{
	kafka_stop(k);
	if (k->ev_wake != NULL)
		event_free(k->ev_wake);
	if (k->ev_tick != NULL)
		event_free(k->ev_tick);
	if (k->wake[0] != -1) {
		close(k->wake[0]);
		close(k->wake[1]);
	}
	free(k->ca);
	free(k->brokers);
	free(k->topic);
	free(k);
}

static void *
kafka_open(struct fwd_output *out, struct event_base *base, int argc,
    char **argv)
{
	struct kafka	*k;
	struct timeval	 tv = { 1, 0 };
	const char	*err;
	int		 i;

	if (kafka_check(argc, argv, &err) == -1) {
		log_warnx("forward %s: %s", fwd_name(out), err);
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->out = out;
	k->brokers = xstrdup(argv[0]);
	k->topic = xstrdup(argv[1]);
	for (i = 2; i + 1 < argc; i += 2)
		if (strcmp(argv[i], "ca") == 0) {
			free(k->ca);
			k->ca = xstrdup(argv[i + 1]);
		}
	k->wake[0] = k->wake[1] = -1;
	if (pipe2(k->wake, O_NONBLOCK | O_CLOEXEC) == -1) {
		log_warn("forward %s: pipe", fwd_name(out));
		kafka_free(k);
		return NULL;
	}
	if (kafka_start(k) == -1) {
		kafka_free(k);
		return NULL;
	}
	k->ev_wake = event_new(base, k->wake[0], EV_READ | EV_PERSIST,
	    kafka_wake_cb, k);
	k->ev_tick = event_new(base, -1, EV_PERSIST, kafka_tick_cb, k);
	event_add(k->ev_wake, NULL);
	event_add(k->ev_tick, &tv);
	/* librdkafka holds what it takes until the brokers answer: ready. */
	k->owe_ready = 1;
	event_active(k->ev_tick, EV_TIMEOUT, 0);
	log_info("forward %s: kafka %s topic %s%s", fwd_name(out), k->brokers,
	    k->topic, k->ca != NULL ? " (TLS)" : "");
	return k;
}

static int
kafka_send(void *arg, const struct fwd_record *r)
{
	struct kafka		*k = arg;
	rd_kafka_resp_err_t	 err;
	uint32_t		 slot;
	char			 stream[17], seq[21];

	if (k->rk == NULL || k->failing || k->waiting || k->broken ||
	    k->nfree == 0 || k->nrejects == KAFKA_REJECTS) {
		k->owe_ready = 1;
		return -1;
	}
	slot = k->free_slots[k->nfree - 1];
	snprintf(stream, sizeof(stream), "%016llx",
	    (unsigned long long)r->stream);
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)r->seq);
	err = rd_kafka_producev(k->rk,
	    RD_KAFKA_V_RKT(k->rkt),
	    RD_KAFKA_V_KEY(r->host, strlen(r->host)),
	    RD_KAFKA_V_VALUE((void *)(uintptr_t)r->payload, r->payload_len),
	    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	    RD_KAFKA_V_HEADER("labwatch_id", r->id, -1),
	    RD_KAFKA_V_HEADER("host", r->host, -1),
	    RD_KAFKA_V_HEADER("stream", stream, -1),
	    RD_KAFKA_V_HEADER("seq", seq, -1),
	    RD_KAFKA_V_OPAQUE((void *)(uintptr_t)(slot + 1)),
	    RD_KAFKA_V_END);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		k->nfree--;
		k->inflight++;
		k->slot_qseq[slot] = r->qseq;
		return 0;
	}
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
		k->owe_ready = 1;
		return -1;
	}
	if (kafka_err_permanent(err)) {
		/* Reported from the loop, not from inside the queue's send. */
		k->rejects[k->nrejects].qseq = r->qseq;
		k->rejects[k->nrejects].err = err;
		k->nrejects++;
		event_active(k->ev_tick, EV_TIMEOUT, 0);
		return 0;
	}
	if (err == RD_KAFKA_RESP_ERR__FATAL)
		k->broken = 1;
	else
		k->failing = 1;
	snprintf(k->why, sizeof(k->why), "%s", rd_kafka_err2str(err));
	kafka_trouble(k, err, k->why);
	k->owe_ready = 1;
	event_active(k->ev_tick, EV_TIMEOUT, 0);
	return -1;
}

static void
kafka_close(void *arg)
{
	struct kafka		*k = arg;
	rd_kafka_resp_err_t	 err;
	uint32_t		 before;
	int			 waited;

	/*
	 * Bounded, and only while deliveries come: what is not confirmed by
	 * then stays queued (brokers that are away cost one step).
	 */
	for (waited = 0; k->rk != NULL && k->inflight > 0 &&
	    waited < KAFKA_FLUSH_MS; waited += KAFKA_FLUSH_STEP) {
		before = k->inflight;
		err = rd_kafka_flush(k->rk, KAFKA_FLUSH_STEP);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR || k->inflight == before)
			break;
	}
	if (k->rk != NULL && k->inflight > 0)
		log_warnx("forward %s: kafka: %u records not confirmed at "
		    "shutdown; they stay queued and go again at the next start",
		    fwd_name(k->out), k->inflight);
	kafka_free(k);
}

static void
kafka_status(void *arg, struct buf *b)
{
	struct kafka	*k = arg;

	buf_printf(b, "kafka %s topic %s: %u in flight, %llu delivered",
	    k->brokers, k->topic, k->inflight,
	    (unsigned long long)k->delivered);
	if (k->rejected > 0)
		buf_printf(b, ", %llu refused", (unsigned long long)k->rejected);
	if (k->resent > 0)
		buf_printf(b, ", sent again %llu times",
		    (unsigned long long)k->resent);
	if (k->failing || k->waiting || k->broken)
		buf_printf(b, ", retrying: %s", k->why);
	else if (k->in_trouble)
		buf_printf(b, ", broker trouble: %s",
		    rd_kafka_err2str(k->last_err));
}

const struct fwd_driver fwd_kafka_driver = {
	.type = "kafka",
	.check = kafka_check,
	.open = kafka_open,
	.send = kafka_send,
	.close = kafka_close,
	.status = kafka_status,
};
