/* SPDX-License-Identifier: ISC */
/*
 * The dashboard's live feed, as Server-Sent Events (GET /api/live): a
 * snapshot of the hosts, then what changes.  Host states coalesced once a
 * second, records of the one host a page watches, the lab's events.  A
 * client that falls behind is cut; its browser reconnects and starts
 * again from a snapshot, as after a collector restart.  Cheap when nobody
 * watches: the hooks return at once.
 */
#ifndef LABWATCH_LIVE_H
#define LABWATCH_LIVE_H

#include <event2/event.h>
#include <event2/http.h>

#include "record.h"

#define LIVE_CLIENTS_MAX	64
#define LIVE_BACKLOG_MAX	(1024 * 1024)	/* bytes unsent: cut */

void	live_init(struct event_base *);
/* Takes the request over as a stream; host NULL: no host's records. */
void	live_open(struct evhttp_request *, const char *);
/* session.c: a record stored for host. */
void	live_record(const char *, const struct record *);
/* session.c: host connected, disconnected. */
void	live_host(const char *);
/* A record written to lab.log. */
void	live_lab(const struct record *);
void	live_shutdown(void);

#endif
