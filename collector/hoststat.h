/* SPDX-License-Identifier: ISC */
/*
 * What the collector knows about each host, for labwatchctl and the
 * metrics: online, offline or degraded and since when, address, agent
 * version, TLS identity, last event, today's counts, recent records,
 * records and bytes per event, what its heartbeats report.  No I/O.
 */
#ifndef LABWATCH_HOSTSTAT_H
#define LABWATCH_HOSTSTAT_H

#include <stdint.h>

#include "buf.h"
#include "record.h"

#define HOSTSTAT_RECENT		20	/* records show keeps per host */
#define HOSTSTAT_EVENTS		64	/* event names counted per host */

struct hoststat_event {
	char		name[RECORD_EVENT_MAX + 1];	/* "other" past the cap */
	uint64_t	records, bytes;
};

struct hoststat {
	char			*host;
	int			 connected, degraded, seen;
	int64_t			 since;		/* µs; 0: before this start */
	char			 peer[64], version[64], identity[80];
	char			 last_event[RECORD_EVENT_MAX + 1];
	int64_t			 last_ts;
	int			 day;		/* of the counts below */
	uint64_t		 usb, lan, internet;
	int64_t			 spool_records, spool_bytes;
	int64_t			 capture_packets, capture_dropped;
	struct hoststat_event	 events[HOSTSTAT_EVENTS];
	int			 nevents;
	char			*recent[HOSTSTAT_RECENT];	/* text lines */
	int			 nrecent, recent_next;
};

/* A host known from the state folder: offline, since before this start. */
void	hoststat_known(const char *);
/* An agent said HELLO, with its version (escaped) and TLS identity. */
void	hoststat_connect(const char *, const char *peer, const char *version,
	    const char *identity, int64_t now);
/* Its connection ended; offline says it went silent. */
void	hoststat_disconnect(const char *, int64_t now);
/* A record stored for host; size is its frame's. */
void	hoststat_record(const char *, const struct record *, size_t, int day);
/* A heartbeat: spool depth and capture counters. */
void	hoststat_heartbeat(const char *, const struct record *);
/* The host's entry, or NULL. */
const struct hoststat *hoststat_get(const char *);
/* Calls cb for every host, in name order. */
void	hoststat_each(void (*)(const struct hoststat *, void *), void *);
/* "online", "offline" or "degraded". */
const char *hoststat_state(const struct hoststat *);
/* Appends the hosts as a JSON array; today is the local day number. */
void	hoststat_json(struct buf *, int today);
/* Appends one host as a JSON object. */
void	hoststat_json_host(struct buf *, const struct hoststat *, int today);
/* The local day of a time (µs): year * 1000 + day of the year. */
int	hoststat_today(int64_t);
/* Frees everything. */
void	hoststat_free(void);

#endif
