/* SPDX-License-Identifier: ISC */
/* Prometheus metrics over HTTP (--metrics ADDR:PORT), with evhttp. */
#ifndef LABWATCH_METRICS_H
#define LABWATCH_METRICS_H

#include <event2/event.h>

#include <stdint.h>

#include "buf.h"

enum metric {
	METRIC_WRITE_ERRORS,		/* failed writes to host logs */
	METRIC_HANDSHAKE_FAILURES,	/* TLS handshakes failed or late */
	METRIC_COUNT
};

/* Counts one event; cheap, also when metrics are off. */
void	metrics_inc(enum metric);
/* Observes an acknowledgement latency (µs from record to its ACK). */
void	metrics_ack_latency(int64_t);
/*
 * Serves GET /metrics on addr ("HOST:PORT"; ":PORT" is loopback).  -1
 * (logged) when it cannot listen.
 */
int	metrics_init(struct event_base *, const char *);
void	metrics_shutdown(void);
/* Appends the text exposition format (for tests and the HTTP handler). */
void	metrics_render(struct buf *);

#endif
