/* SPDX-License-Identifier: ISC */
/*
 * Prometheus metrics: agents connected, online and degraded; records and
 * bytes per host and event; the acknowledgement latency histogram; write
 * errors and handshake failures; spool depth and capture drops as each
 * agent's heartbeats report them.  Text exposition format 0.0.4.
 */
#include <event2/buffer.h>
#include <event2/http.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "escape.h"
#include "forward.h"
#include "hoststat.h"
#include "log.h"
#include "metrics.h"

/* Upper bounds of the latency buckets, seconds. */
static const double	 bounds[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
			    0.25, 0.5, 1, 2.5, 5, 10 };
#define NBOUNDS		(sizeof(bounds) / sizeof(bounds[0]))

static uint64_t		 counters[METRIC_COUNT];
static uint64_t		 buckets[NBOUNDS + 1];	/* the last: +Inf only */
static uint64_t		 lat_count;
static double		 lat_sum;
static struct evhttp	*http;

void
metrics_inc(enum metric m)
{
	counters[m]++;
}

void
metrics_ack_latency(int64_t us)
{
	double	s = (double)us / 1e6;
	size_t	i;

	for (i = 0; i < NBOUNDS && s > bounds[i]; i++)
		;
	buckets[i]++;
	lat_count++;
	lat_sum += s;
}

/* A label value: host names and event names are plain, but be safe. */
static void
label(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, "%s=", name);
	escape_json(b, (const uint8_t *)v, strlen(v));
}

struct totals {
	int	connected, online, degraded, offline;
};

static void
count_cb(const struct hoststat *h, void *arg)
{
	struct totals	*t = arg;

	if (!h->connected)
		t->offline++;
	else if (h->degraded)
		t->degraded++;
	else
		t->online++;
	t->connected += h->connected;
}

/* Records (or their bytes) per host and event. */
static void
per_event(struct buf *b, const struct hoststat *h, const char *name,
    int bytes)
{
	int	i;

	for (i = 0; i < h->nevents; i++) {
		buf_printf(b, "%s{", name);
		label(b, "host", h->host);
		buf_add_str(b, ",");
		label(b, "event", h->events[i].name);
		buf_printf(b, "} %llu\n", (unsigned long long)(bytes ?
		    h->events[i].bytes : h->events[i].records));
	}
}

static void
records_cb(const struct hoststat *h, void *arg)
{
	per_event(arg, h, "labwatch_records_total", 0);
}

static void
bytes_cb(const struct hoststat *h, void *arg)
{
	per_event(arg, h, "labwatch_record_bytes_total", 1);
}

/* One per-host gauge from a heartbeat field (absent: not reported). */
static void
agent_gauge(struct buf *b, const char *name, const struct hoststat *h,
    int64_t v)
{
	if (v < 0)
		return;
	buf_printf(b, "%s{", name);
	label(b, "host", h->host);
	buf_printf(b, "} %lld\n", (long long)v);
}

static void
spool_records_cb(const struct hoststat *h, void *arg)
{
	agent_gauge(arg, "labwatch_agent_spool_records", h, h->spool_records);
}

static void
spool_bytes_cb(const struct hoststat *h, void *arg)
{
	agent_gauge(arg, "labwatch_agent_spool_bytes", h, h->spool_bytes);
}

static void
capture_dropped_cb(const struct hoststat *h, void *arg)
{
	agent_gauge(arg, "labwatch_agent_capture_dropped", h,
	    h->capture_dropped);
}

/* One forwarding family: which number of each output it shows. */
struct fwd_family {
	struct buf	*b;
	const char	*name;
	size_t		 off;		/* of a uint64_t in struct fwd_stat */
};

static void
fwd_family_cb(const struct fwd_stat *st, void *arg)
{
	struct fwd_family	*f = arg;
	uint64_t		 v;

	memcpy(&v, (const char *)st + f->off, sizeof(v));
	buf_printf(f->b, "%s{", f->name);
	label(f->b, "output", st->name);
	buf_printf(f->b, "} %llu\n", (unsigned long long)v);
}

static void
fwd_connected_cb(const struct fwd_stat *st, void *arg)
{
	struct buf	*b = arg;

	buf_add_str(b, "labwatch_forward_connected{");
	label(b, "output", st->name);
	buf_printf(b, "} %d\n", st->connected);
}

/* Each forwarding output's queue and counters. */
static void
fwd_families(struct buf *b)
{
	static const struct {
		const char	*name, *type, *help;
		size_t		 off;
	} fams[] = {
		{ "labwatch_forward_queue_records", "gauge",
		    "Records in the output's queue, not yet delivered.",
		    offsetof(struct fwd_stat, queued) },
		{ "labwatch_forward_queue_bytes", "gauge",
		    "Bytes of the output's queue on disk.",
		    offsetof(struct fwd_stat, queued_bytes) },
		{ "labwatch_forward_sent_total", "counter",
		    "Records handed to the output (resends counted again).",
		    offsetof(struct fwd_stat, sent) },
		{ "labwatch_forward_delivered_total", "counter",
		    "Records the downstream has.",
		    offsetof(struct fwd_stat, delivered) },
		{ "labwatch_forward_dropped_total", "counter",
		    "Records a full queue dropped (lab.forward_dropped).",
		    offsetof(struct fwd_stat, dropped) },
		{ "labwatch_forward_rejected_total", "counter",
		    "Records the downstream refused for good.",
		    offsetof(struct fwd_stat, rejected) },
	};
	struct fwd_family	f;
	size_t			i;

	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", fams[i].name,
		    fams[i].help, fams[i].name, fams[i].type);
		f.b = b;
		f.name = fams[i].name;
		f.off = fams[i].off;
		forward_each(fwd_family_cb, &f);
	}
	buf_add_str(b, "# HELP labwatch_forward_connected Whether the output "
	    "is connected to its downstream.\n"
	    "# TYPE labwatch_forward_connected gauge\n");
	forward_each(fwd_connected_cb, b);
}

static void
family(struct buf *b, const char *name, const char *type, const char *help,
    void (*cb)(const struct hoststat *, void *))
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	if (cb != NULL)
		hoststat_each(cb, b);
}

void
metrics_render(struct buf *b)
{
	struct totals	t = { 0, 0, 0, 0 };
	uint64_t	cum = 0;
	size_t		i;

	hoststat_each(count_cb, &t);
	family(b, "labwatch_agents_connected", "gauge",
	    "Agents connected now.", NULL);
	buf_printf(b, "labwatch_agents_connected %d\n", t.connected);
	family(b, "labwatch_agents", "gauge",
	    "Hosts by state: online, degraded, offline.", NULL);
	buf_printf(b, "labwatch_agents{state=\"online\"} %d\n"
	    "labwatch_agents{state=\"degraded\"} %d\n"
	    "labwatch_agents{state=\"offline\"} %d\n", t.online, t.degraded,
	    t.offline);
	family(b, "labwatch_records_total", "counter",
	    "Records stored, per host and event.", records_cb);
	family(b, "labwatch_record_bytes_total", "counter",
	    "Frame bytes of the records stored, per host and event.",
	    bytes_cb);
	family(b, "labwatch_ack_latency_seconds", "histogram",
	    "From a record's arrival to the acknowledgement that covers it.",
	    NULL);
	for (i = 0; i < NBOUNDS; i++) {
		cum += buckets[i];
		buf_printf(b, "labwatch_ack_latency_seconds_bucket{le=\"%g\"} "
		    "%llu\n", bounds[i], (unsigned long long)cum);
	}
	buf_printf(b, "labwatch_ack_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "labwatch_ack_latency_seconds_sum %.6f\n"
	    "labwatch_ack_latency_seconds_count %llu\n",
	    (unsigned long long)lat_count, lat_sum,
	    (unsigned long long)lat_count);
	family(b, "labwatch_write_errors_total", "counter",
	    "Failed writes to host logs.", NULL);
	buf_printf(b, "labwatch_write_errors_total %llu\n",
	    (unsigned long long)counters[METRIC_WRITE_ERRORS]);
	family(b, "labwatch_handshake_failures_total", "counter",
	    "TLS handshakes that failed or did not finish in time.", NULL);
	buf_printf(b, "labwatch_handshake_failures_total %llu\n",
	    (unsigned long long)counters[METRIC_HANDSHAKE_FAILURES]);
	family(b, "labwatch_agent_spool_records", "gauge",
	    "Records in the agent's spool, as its last heartbeat said.",
	    spool_records_cb);
	family(b, "labwatch_agent_spool_bytes", "gauge",
	    "Bytes in the agent's spool, as its last heartbeat said.",
	    spool_bytes_cb);
	family(b, "labwatch_agent_capture_dropped", "gauge",
	    "Packets the agent's kernel capture dropped since it started.",
	    capture_dropped_cb);
	fwd_families(b);
}

static void
metrics_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*out;
	struct buf	 b;

	(void)arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, NULL);
		return;
	}
	buf_init(&b);
	metrics_render(&b);
	out = evbuffer_new();
	evbuffer_add(out, b.data, b.len);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
	buf_free(&b);
}

int
metrics_init(struct event_base *base, const char *addr)
{
	char		 host[ADDR_HOST_MAX], port[ADDR_PORT_MAX];
	const char	*err;

	if (addr_split(addr, host, sizeof(host), port, &err) == -1) {
		log_warnx("--metrics %s: %s", addr, err);
		return -1;
	}
	if ((http = evhttp_new(base)) == NULL)
		return -1;
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET);
	evhttp_set_timeout(http, 10);
	evhttp_set_cb(http, "/metrics", metrics_cb, NULL);
	if (evhttp_bind_socket(http, host[0] != '\0' ? host : "127.0.0.1",
	    (uint16_t)atoi(port)) == -1) {
		log_warn("--metrics %s", addr);
		evhttp_free(http);
		http = NULL;
		return -1;
	}
	log_info("metrics on http://%s:%s/metrics", host[0] != '\0' ? host :
	    "127.0.0.1", port);
	return 0;
}

void
metrics_shutdown(void)
{
	if (http != NULL)
		evhttp_free(http);
	http = NULL;
}
