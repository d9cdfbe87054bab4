/* SPDX-License-Identifier: ISC */
/* labwatch-agent: what its modules share. */
#ifndef LABWATCH_AGENT_H
#define LABWATCH_AGENT_H

#include <sys/socket.h>

#include <event2/event.h>

#include <openssl/ssl.h>

#include <stdint.h>

#include "format.h"
#include "opts.h"
#include "record.h"

struct agent_conf {
	const char	*host;		/* this PC's name in the logs */
	const char	*collector;	/* HOST:PORT, or NULL with --stdout */
	enum log_format	 format;	/* for --stdout */
	int		 heartbeat;	/* seconds between heartbeats */
	int		 reconnect_max;	/* seconds, backoff ceiling */
	const char	*state_dir;	/* stream id, spool, known devices */
	int		 state_dir_set;	/* --state-dir given */
	size_t		 spool_max;	/* bytes of records kept for the collector */
	int		 selftest_rate;	/* agent.selftest records a second */
	int		 no_usb;	/* --no-usb: no USB monitor */

	/* Network monitor (capture.c, net.c, netdev.c). */
	int		 no_net;	/* --no-net: no packet capture */
	const char	*read_file;	/* --read: replay this capture */
	const char	**interfaces;	/* --interface; NULL: every one up */
	int		 ninterfaces;
	const char	**lan;		/* --lan CIDRs; NULL: the defaults */
	int		 nlan;
	uint8_t		 ignore_port[65536 / 8];	/* bitmap */
	int		 ignore_port_set;	/* --ignore-port given */
	const char	*ip_filter;	/* --ip-filter FILE */
	int		 ip_filter_set;	/* ... given, so it must load */
	int64_t		 flow_idle_us;
	int64_t		 flow_active_us;
	int		 stats_interval;	/* seconds between agent.stats */

	/* The link (uplink.c) and enrolment (enroll.c). */
	int		 insecure;	/* --insecure: plaintext */
	SSL_CTX		*tls;		/* NULL with --insecure */
	const char	*tls_ca, *tls_cert, *tls_key;
	int		 state_fresh;	/* the state folder was reset */
	const char	*enroll;	/* --enroll HOST:PORT */
	const char	*enroll_secret;

	/* As options.c reads them; agent.c derives the fields above. */
	int		 to_stdout;	/* --stdout */
	long long	 spool_max_ll;
	struct opt_list	 interface_list, lan_list, port_list;
	int		 flow_idle, flow_active;	/* seconds */
	const char	*pidfile;
	int		 foreground, verbose;
};

/* options.c: the option table. */
extern const struct opt	agent_opts[];
extern const size_t	agent_nopts;

/* agent.c: stamps a record with host and sequence and sends it on. */
void	agent_emit(struct record *);
/* Adds the monitors' health (capture counters) to a heartbeat. */
void	agent_health(struct record *);

/* enroll.c: --enroll; returns the exit status. */
int	enroll_run(const struct agent_conf *);

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

/* Replay (--read) is over: everything is emitted. */
void	agent_replay_done(void);

/* capture.c: libpcap, live on interfaces or from a file. */
int	capture_init(struct event_base *, const struct agent_conf *);
void	capture_shutdown(void);
/* Kernel counters over every live handle: received and dropped. */
void	capture_kernel_stats(uint64_t *, uint64_t *);

/* net.c: decoded packets to conversation and device records. */
int	net_init(const struct agent_conf *, int replay);
void	net_packet(int dlt, int64_t ts_us, const uint8_t *, size_t caplen,
	    size_t wirelen);
/* Ends idle conversations (live mode: called every second). */
void	net_tick(int64_t now_us);
/* Emits agent.stats; kernel counters from capture.c. */
void	net_stats(uint64_t kernel_seen, uint64_t kernel_dropped);
/* The collector's address: the agent's own link is not logged. */
void	net_exclude_peer(const struct sockaddr *);
/* SIGHUP: reloads the ip.txt filter, keeping open conversations. */
void	net_reload(void);
/* Ends every open conversation, emitting them. */
void	net_finish(void);
/* Frees what net_init made. */
void	net_shutdown(void);

/* netdev.c: new (MAC, IP) pairs on the LAN, kept in this state file. */
#define NETDEV_FILE	"devices"
void	netdev_init(const char *state_dir, int persist);
void	netdev_seen(int af, const uint8_t mac[6], const uint8_t *ip,
	    int64_t ts_us, int replay);
void	netdev_shutdown(void);

/*
 * statedir.c: makes and locks the state folder (the lock's descriptor, or
 * -1 with err) and checks it was made for this host on this machine; when
 * not, it is reset: reset says why and the spool must start fresh.
 */
int	statedir_open(const char *, const char *, char *, size_t, char *,
	    size_t);

/* sysinfo.c: what agent.start says about this machine. */
void	sysinfo_add(struct record *);

#endif
