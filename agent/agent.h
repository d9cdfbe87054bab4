/* labwatch-agent: what its modules share. */
#ifndef LABWATCH_AGENT_H
#define LABWATCH_AGENT_H

#include <event2/event.h>

#include <stdint.h>

#include "format.h"
#include "record.h"

struct agent_conf {
	const char	*host;		/* this PC's name in the logs */
	const char	*collector;	/* HOST:PORT, or NULL with --stdout */
	enum log_format	 format;	/* for --stdout */
	int		 heartbeat;	/* seconds between heartbeats */
	int		 reconnect_max;	/* seconds, backoff ceiling */
	const char	*state_dir;	/* stream id and spool */
	size_t		 spool_max;	/* bytes of records kept for the collector */
	int		 selftest_rate;	/* agent.selftest records a second */
	int		 no_usb;	/* --no-usb: no USB monitor */
	int		 no_net;	/* --no-net: no packet capture */
};

/* agent.c: stamps a record with host and sequence and sends it on. */
void	agent_emit(struct record *);

/* uplink.c: the connection to the collector. */
void	uplink_init(struct event_base *, const struct agent_conf *);
/* Numbers a record (host already set) and spools it for the collector. */
void	uplink_send(struct record *);
/* Sends what is queued (for at most a few seconds), says BYE, then done. */
void	uplink_shutdown(void (*)(void));
/* Records waiting for the collector's ACK. */
size_t	uplink_queued(void);

/* usb.c: USB devices, their mounts and files (with mounts.c, fanwatch.c). */
void	usb_init(struct event_base *, const struct agent_conf *);
/* Sends what is pending and stops watching; safe to call twice. */
void	usb_shutdown(void);

/* sysinfo.c: what agent.start says about this machine. */
void	sysinfo_add(struct record *);

#endif
