/* SPDX-License-Identifier: ISC */
/*
 * The Kafka output (collector/fwd_kafka.c) against librdkafka's own mock
 * cluster, no broker running here: the test plays the forwarding queue
 * (fwd_delivered, fwd_failed, ...) and reads the topic back with a real
 * consumer.  Every record arrives with key = host and its identity in the
 * headers, a host's records in order; a broker outage and Produce errors
 * cost neither a record nor a duplicate (idempotence); a producer that
 * librdkafka declares broken is replaced and the undelivered go again;
 * shutting down with the brokers away takes a bounded time and leaves the
 * undelivered queued.  The driver's file is included to reach its
 * producer for the injected fatal error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../collector/fwd_kafka.c"

#include <librdkafka/rdkafka_mock.h>

#define NREC		6000	/* above KAFKA_WINDOW: send says -1 */
#define NHOST		5
#define PARTITIONS	3
#define WAIT_S		30

struct fwd_output {
	int	 unused;
};

/* The queue the test plays: records 1..n. */
static struct {
	uint64_t	 n;
	uint64_t	 next;		/* the next qseq to send */
	uint8_t		 delivered[NREC + 1];
	uint64_t	 ndelivered;
	uint64_t	 rejected;
	int		 ready;
	int		 failed;	/* fwd_failed calls */
	uint64_t	 ticks;		/* the loop ran */
} q;

/* What the consumer read. */
struct got {
	int32_t		 partition;
	int64_t		 offset;
	char		 key[16];
	char		 id[64];
	uint64_t	 seq;
	char		 value[128];
};

static struct fwd_output	 out;
static struct event_base	*base;
static rd_kafka_t		*host;
static rd_kafka_mock_cluster_t	*mc;
static struct kafka		*k;
static struct got		*got;
static size_t			 ngot;
static char			 topic[32];

void
fwd_delivered(struct fwd_output *o, uint64_t qseq)
{
	assert_ptr_equal(o, &out);
	assert_true(qseq >= 1 && qseq <= q.n);
	/* One report per record: a second would be a driver bug. */
	assert_int_equal(q.delivered[qseq], 0);
	q.delivered[qseq] = 1;
	q.ndelivered++;
}

void
fwd_rejected(struct fwd_output *o, uint64_t qseq, const char *why)
{
	(void)o;
	(void)why;
	assert_true(qseq >= 1 && qseq <= q.n);
	q.delivered[qseq] = 1;
	q.rejected++;
}

void
fwd_ready(struct fwd_output *o)
{
	(void)o;
	q.ready = 1;
}

/* Everything taken and not delivered goes again, in order. */
void
fwd_failed(struct fwd_output *o, const char *why)
{
	(void)o;
	(void)why;
	q.failed++;
	q.ready = 0;
	q.next = 1;
}

const char *
fwd_name(const struct fwd_output *o)
{
	(void)o;
	return "t";
}

static void
record_of(uint64_t qseq, char *hostname, size_t hlen, char *id, size_t idlen,
    char *payload, size_t plen)
{
	snprintf(hostname, hlen, "pc%02d", (int)(qseq % NHOST));
	snprintf(id, idlen, "%s/00000000000000ab/%llu", hostname,
	    (unsigned long long)qseq);
	snprintf(payload, plen, "{\"host\":\"%s\",\"seq\":%llu,\"record_id\":"
	    "\"%s\"}", hostname, (unsigned long long)qseq, id);
}

/* The queue's side: hands records to send while it takes them. */
static void
pump(void)
{
	struct fwd_record	r;
	char			h[16], id[64], payload[128];

	while (q.ready && q.next <= q.n) {
		if (q.delivered[q.next]) {
			q.next++;
			continue;
		}
		record_of(q.next, h, sizeof(h), id, sizeof(id), payload,
		    sizeof(payload));
		memset(&r, 0, sizeof(r));
		r.qseq = q.next;
		r.host = h;
		r.stream = 0xab;
		r.seq = q.next;
		r.id = id;
		r.payload = payload;
		r.payload_len = strlen(payload);
		if (fwd_kafka_driver.send(k, &r) == -1) {
			q.ready = 0;
			break;
		}
		q.next++;
	}
}

static void
pump_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	q.ticks++;
	pump();
}

/* Runs the loop until every record is reported or s seconds pass. */
static void
run_until_delivered(int s)
{
	time_t	end = time(NULL) + s;

	while (q.ndelivered + q.rejected < q.n && time(NULL) < end)
		event_base_loop(base, EVLOOP_ONCE);
}

/* Runs the loop for ms milliseconds. */
static void
run_for(int ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void
run_until_count(uint64_t n)
{
	time_t	end = time(NULL) + WAIT_S;

	while (q.ndelivered < n && time(NULL) < end)
		event_base_loop(base, EVLOOP_ONCE);
}

static const char *
header(rd_kafka_message_t *m, const char *name, char *b, size_t len)
{
	rd_kafka_headers_t	*hdrs;
	const void		*v;
	size_t			 n;

	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get_last(hdrs, name, &v, &n) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR || n >= len)
		return NULL;
	memcpy(b, v, n);
	b[n] = '\0';
	return b;
}

/* Reads the topic from the start until want messages came or WAIT_S. */
static void
consume(size_t want)
{
	rd_kafka_conf_t			*conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t	*parts;
	rd_kafka_message_t		*m;
	rd_kafka_t			*c;
	struct got			*g;
	char				 err[256], b[64];
	time_t				 end = time(NULL) + WAIT_S;
	int				 p;

	assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers",
	    rd_kafka_mock_cluster_bootstraps(mc), err, sizeof(err)),
	    RD_KAFKA_CONF_OK);
	/* Brokers going down are the point: no log noise from the reader. */
	assert_int_equal(rd_kafka_conf_set(conf, "log_level", "0", err,
	    sizeof(err)), RD_KAFKA_CONF_OK);
	assert_int_equal(rd_kafka_conf_set(conf, "group.id", "test", err,
	    sizeof(err)), RD_KAFKA_CONF_OK);
	c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	assert_non_null(c);
	parts = rd_kafka_topic_partition_list_new(PARTITIONS);
	for (p = 0; p < PARTITIONS; p++)
		rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
	assert_int_equal(rd_kafka_assign(c, parts), 0);
	rd_kafka_topic_partition_list_destroy(parts);
	free(got);
	got = xcalloc(want * 2 + 16, sizeof(*got));
	ngot = 0;
	while (ngot < want * 2 + 16 && time(NULL) < end) {
		if ((m = rd_kafka_consumer_poll(c, 100)) == NULL) {
			if (ngot >= want)
				break;
			continue;
		}
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			g = &got[ngot++];
			g->partition = m->partition;
			g->offset = m->offset;
			assert_true(m->key_len < sizeof(g->key));
			memcpy(g->key, m->key, m->key_len);
			assert_true(m->len < sizeof(g->value));
			memcpy(g->value, m->payload, m->len);
			assert_non_null(header(m, "labwatch_id", g->id,
			    sizeof(g->id)));
			assert_non_null(header(m, "seq", b, sizeof(b)));
			g->seq = strtoull(b, NULL, 10);
			assert_non_null(header(m, "host", b, sizeof(b)));
			assert_string_equal(b, g->key);
			assert_non_null(header(m, "stream", b, sizeof(b)));
			assert_string_equal(b, "00000000000000ab");
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);
}

/*
 * Checks what the consumer read: every record of 1..n once at least,
 * key = host, value and id as sent, each host's records in order; returns
 * the duplicates.
 */
static size_t
check_topic(uint64_t n)
{
	uint8_t		*seen = xcalloc(n + 1, 1);
	uint64_t	 last[NHOST] = { 0 };
	char		 h[16], id[64], payload[128];
	size_t		 i, dups = 0, distinct = 0;
	int		 hi;

	for (i = 0; i < ngot; i++) {
		assert_true(got[i].seq >= 1 && got[i].seq <= n);
		record_of(got[i].seq, h, sizeof(h), id, sizeof(id), payload,
		    sizeof(payload));
		assert_string_equal(got[i].key, h);
		assert_string_equal(got[i].id, id);
		assert_string_equal(got[i].value, payload);
		if (seen[got[i].seq]++) {
			dups++;
			log_debug("duplicate %s at %d/%lld", got[i].id,
			    (int)got[i].partition, (long long)got[i].offset);
			continue;
		}
		distinct++;
		/* A host's new records come in order (a resend may repeat). */
		hi = (int)(got[i].seq % NHOST);
		assert_true(got[i].seq > last[hi]);
		last[hi] = got[i].seq;
	}
	assert_int_equal(distinct, n);
	free(seen);
	return dups;
}

static int
setup(void **state)
{
	static int	 nth;
	char		 err[256];
	char		*argv[2];
	rd_kafka_conf_t	*conf = rd_kafka_conf_new();
	struct timeval	 tv = { 0, 5000 };
	struct event	*ev;
	int		 p;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.n = NREC;
	q.next = 1;
	q.ready = 0;	/* until the driver says so, as in forward.c */
	base = event_base_new();
	rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
	host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	assert_non_null(host);
	mc = rd_kafka_mock_cluster_new(host, 3);
	assert_non_null(mc);
	snprintf(topic, sizeof(topic), "lw%d", nth++);
	assert_int_equal(rd_kafka_mock_topic_create(mc, topic, PARTITIONS, 3),
	    0);
	for (p = 0; p < PARTITIONS; p++)
		rd_kafka_mock_partition_set_leader(mc, topic, p, p + 1);
	argv[0] = (char *)(uintptr_t)rd_kafka_mock_cluster_bootstraps(mc);
	argv[1] = topic;
	k = fwd_kafka_driver.open(&out, base, 2, argv);
	assert_non_null(k);
	ev = event_new(base, -1, EV_PERSIST, pump_cb, NULL);
	event_add(ev, &tv);
	*state = ev;
	return 0;
}

static int
teardown(void **state)
{
	if (k != NULL)
		fwd_kafka_driver.close(k);
	k = NULL;
	event_free(*state);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(host);
	event_base_free(base);
	free(got);
	got = NULL;
	return 0;
}

static void
test_deliver_all(void **state)
{
	struct buf	b;

	(void)state;
	run_until_delivered(WAIT_S);
	assert_int_equal(q.ndelivered, NREC);
	assert_int_equal(q.failed, 0);
	buf_init(&b);
	fwd_kafka_driver.status(k, &b);
	buf_add_u8(&b, '\0');
	assert_non_null(strstr((char *)b.data, "6000 delivered"));
	buf_free(&b);
	consume(NREC);
	/* The idempotent producer in a quiet run: each record once. */
	assert_int_equal(check_topic(NREC), 0);
}

/*
 * Every broker down for 2 s while records flow: none lost, each host's in
 * order, and the driver resends nothing (q.failed).  Duplicates can still
 * appear: a batch the mock appended just as it dropped the connection goes
 * again, and Debian's mock (librdkafka 2.0.2) does not always recognise the
 * retry as a real broker does; they carry the same identity and value
 * (check_topic), which is what a downstream dedups on.
 */
static void
test_brokers_down(void **state)
{
	uint64_t	ticks, at_down;

	(void)state;
	run_until_count(NREC / 4);
	assert_int_equal(rd_kafka_mock_broker_set_down(mc, -1), 0);
	ticks = q.ticks;
	run_for(2000);
	at_down = q.ndelivered;
	/* The loop went on (never blocked) and nothing was lost. */
	assert_true(q.ticks > ticks + 50);
	assert_int_equal(rd_kafka_mock_broker_set_up(mc, -1), 0);
	run_until_delivered(WAIT_S);
	assert_int_equal(q.ndelivered, NREC);
	assert_true(at_down < NREC);
	/* The outage is librdkafka's to ride out, not a resend. */
	assert_int_equal(q.failed, 0);
	consume(NREC);
	log_debug("brokers down: %zu duplicates of %d records",
	    check_topic(NREC), NREC);
}

/* The leader of partition 0 down, then up: the same. */
static void
test_leader_down(void **state)
{
	(void)state;
	run_until_count(NREC / 4);
	assert_int_equal(rd_kafka_mock_broker_set_down(mc, 1), 0);
	run_for(1500);
	assert_int_equal(rd_kafka_mock_broker_set_up(mc, 1), 0);
	run_until_delivered(WAIT_S);
	assert_int_equal(q.ndelivered, NREC);
	assert_int_equal(q.failed, 0);
	consume(NREC);
	log_debug("leader down: %zu duplicates of %d records",
	    check_topic(NREC), NREC);
}

/* Produce requests failing (retriable): retried, none twice. */
static void
test_produce_errors(void **state)
{
	int	i;

	(void)state;
	run_until_count(NREC / 4);
	for (i = 0; i < 20; i++)
		rd_kafka_mock_push_request_errors(mc, 0, 1,
		    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
	run_until_delivered(WAIT_S);
	assert_int_equal(q.ndelivered, NREC);
	assert_int_equal(q.failed, 0);
	consume(NREC);
	assert_int_equal(check_topic(NREC), 0);
}

/*
 * librdkafka declares the producer broken: the driver says so (fwd_failed),
 * makes a new one, and the undelivered go again; duplicates, if any, carry
 * the same identity and value (check_topic compares them).
 */
static void
test_fatal(void **state)
{
	(void)state;
	run_until_count(NREC / 4);
	assert_int_equal(rd_kafka_test_fatal_error(k->rk,
	    RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "injected"), 0);
	run_until_delivered(WAIT_S);
	assert_int_equal(q.ndelivered, NREC);
	assert_int_equal(q.failed, 1);
	consume(NREC);
	log_debug("after the fatal error: %zu duplicates of %d records",
	    check_topic(NREC), NREC);
}

/* Closing with the brokers away waits a bounded time and delivers none. */
static void
test_close_bounded(void **state)
{
	struct timespec	t0, t1;
	double		s;

	(void)state;
	run_until_count(100);
	assert_int_equal(rd_kafka_mock_broker_set_down(mc, -1), 0);
	run_for(500);
	assert_true(k->inflight > 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fwd_kafka_driver.close(k);
	k = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(s < KAFKA_FLUSH_MS / 1000.0 + 2);
	/* What was in flight was not reported: it stays queued. */
	assert_true(q.ndelivered < NREC);
}

static void
test_check(void **state)
{
	const char	*err;
	char		*ok[] = { "a:9092,b:9092", "lab.events" };
	char		*ok_ca[] = { "[::1]:9092", "t-1_x", "ca", "/etc/ca.pem" };
	char		*no_topic[] = { "a:9092" };
	char		*bad_topic[] = { "a:9092", "lab events" };
	char		*dots[] = { "a:9092", ".." };
	char		*empty_broker[] = { "a:9092,,b:9092", "t" };
	char		*no_port[] = { "a", "t" };
	char		*bad_port[] = { "a:99999", "t" };
	char		*unknown[] = { "a:9092", "t", "acks", "1" };
	char		*no_file[] = { "a:9092", "t", "ca" };
	char		 longt[300];
	char		*too_long[] = { "a:9092", longt };

	(void)state;
	memset(longt, 'x', 250);
	longt[250] = '\0';
	assert_int_equal(kafka_check(2, ok, &err), 0);
	assert_int_equal(kafka_check(4, ok_ca, &err), 0);
	assert_int_equal(kafka_check(1, no_topic, &err), -1);
	assert_non_null(strstr(err, "TOPIC"));
	assert_int_equal(kafka_check(2, bad_topic, &err), -1);
	assert_int_equal(kafka_check(2, dots, &err), -1);
	assert_int_equal(kafka_check(2, too_long, &err), -1);
	assert_int_equal(kafka_check(2, empty_broker, &err), -1);
	assert_non_null(strstr(err, "empty broker"));
	assert_int_equal(kafka_check(2, no_port, &err), -1);
	assert_int_equal(kafka_check(2, bad_port, &err), -1);
	assert_int_equal(kafka_check(4, unknown, &err), -1);
	assert_non_null(strstr(err, "unknown"));
	assert_int_equal(kafka_check(3, no_file, &err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test_setup_teardown(test_deliver_all, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_brokers_down, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_leader_down, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_produce_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_bounded, setup,
		    teardown),
	};

	log_init("test_fwd_kafka", 1, getenv("TEST_VERBOSE") != NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
