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

#define CAPTURE_SNAPLEN	4096	/* bytes of a packet kept: a ClientHello */

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
	int		 read_fd;	/* ... opened before privileges go */
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
	const char	*user;		/* --user: the worker runs as */

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

/*
 * Where a monitor's records go, handed in at init: monitors call nothing
 * in agent.c, so the arrows of the tree point one way.
 */
struct agent_sink {
	void	(*emit)(struct record *);	/* stamps, numbers, sends */
	size_t	(*backlog)(void);		/* records not yet taken */
	void	(*replay_done)(void);		/* --read is over */
};

/* Adds the monitors' health (capture counters) to a heartbeat. */
void	agent_health(struct record *);

struct wire_command;
/*
 * command.c: runs a command from the collector (secure: over
 * authenticated TLS): its RESULT status, with detail; command_record()
 * makes its agent.command record.
 */
uint16_t command_run(const struct wire_command *, int, char *, size_t);
void	command_record(struct record *, const struct wire_command *, uint16_t,
	    const char *);

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
/* The spool behind the link (for the fuzzer). */
struct spool *uplink_spool_of(void);

/* usb.c: USB devices, their mounts and files (with mounts.c, fanwatch.c). */
void	usb_init(struct event_base *, const struct agent_conf *,
	    const struct agent_sink *);
/* Sends what is pending and stops watching; safe to call twice. */
void	usb_shutdown(void);


/* capture.c: libpcap, live on interfaces or from a file. */
int	capture_init(struct event_base *, const struct agent_conf *,
	    const struct agent_sink *);
void	capture_shutdown(void);
/* Kernel counters over every live handle: received and dropped. */
void	capture_kernel_stats(uint64_t *, uint64_t *);

/*
 * live.c: live capture on packet sockets from the privileged parent,
 * interfaces followed through rtnetlink (net.interface records).
 */
int	live_init(struct event_base *, const struct agent_conf *);
/* Reads what the sockets hold now. */
void	live_drain(void);
/* Packets the kernel passed and dropped, over every socket so far. */
void	live_stats(uint64_t *, uint64_t *);
/* The stats interval passed: are packets being dropped? */
void	live_health(void);
void	live_shutdown(void);

/* net.c: decoded packets to conversation and device records. */
int	net_init(const struct agent_conf *, int replay,
	    const struct agent_sink *);
/* Sends a record of the network monitor (netdev.c, live.c). */
void	net_emit(struct record *);
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

/*
 * health.c: which monitors run.  A monitor that cannot do its job says
 * health_degraded(monitor, reason) (an agent.degraded record, once per
 * change), health_recovered() when it can again; health_running() when it
 * started fine.  health_add() adds "monitors" (at start) and "degraded".
 * Records go to the sink given to health_init(), which first sends what
 * was degraded before it.
 */
void	health_init(void (*)(struct record *));
void	health_running(const char *);
void	health_degraded(const char *, const char *);
void	health_recovered(const char *);
void	health_add(struct record *, int);

/* sysinfo.c: what agent.start says about this machine. */
void	sysinfo_add(struct record *);

#endif
