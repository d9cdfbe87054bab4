/* SPDX-License-Identifier: ISC */
/* labwatch-collector: what its modules share. */
#ifndef LABWATCH_COLLECTOR_H
#define LABWATCH_COLLECTOR_H

#include <sys/socket.h>

#include <event2/event.h>
#include <event2/util.h>

#include <openssl/ssl.h>

#include <stdint.h>

#include "enroll.h"
#include "format.h"
#include "hostlog.h"
#include "hostname.h"
#include "opts.h"
#include "tls.h"

struct collector_conf {
	uint32_t	max_frame;		/* payload bytes */
	int		max_frame_int;		/* ... as options.c reads it */
	int		max_conns;		/* agents past HELLO */
	int		max_pending;		/* connections before HELLO */
	int		max_pending_addr;	/* ... from one address */
	int		handshake_timeout;	/* seconds to HELLO */
	int		idle_timeout;		/* seconds without a frame */
	enum log_format	format;
	enum sync_mode	sync;

	struct opt_list	listen;			/* ADDR:PORT */
	const char	*log_dir, *state_dir, *user, *pidfile;
	const char	*control;		/* socket path; "" off */
	const char	*index;			/* "" state-dir/index.db */
	int		 no_index;
	const char	*metrics;		/* ADDR:PORT or NULL */
	const char	*http;			/* the dashboard's, or NULL */
	const char	*http_users;		/* its accounts */
	struct opt_list	rooms;			/* NAME HOST|- ... */
	int		localtime;		/* text lines in local time */
	struct opt_list	alerts;			/* alert rules */
	struct opt_list	forwards;		/* forwarding outputs */
	int		alert_timeout, alert_max, alert_interval;
	struct tls_files tls;
	struct enroll_conf enroll;
	int		insecure, foreground, verbose;
};

/* options.c: the option table. */
extern const struct opt	collector_opts[];
extern const size_t	collector_nopts;

/* control.c asks it: the log folder (for labwatchctl reindex). */
const char *collector_log_dir(void);

/* listener.c: accepting connections, within limits. */
int	listener_add(struct event_base *, const char *);
void	listener_shutdown(void);

/* session.c: one agent connection. */
void	session_init(const struct collector_conf *);
void	session_accept(struct event_base *, evutil_socket_t,
	    const struct sockaddr *);
/*
 * The TLS context for new connections (NULL: plaintext, --insecure); takes
 * ctx's reference.  Connected agents whose certificates no longer pass
 * against it (revoked, another CA) are cut.
 */
void	session_set_tls(SSL_CTX *);
/* Whether host has an agent connected. */
int	session_online(const char *);
/*
 * Up to max relays for a wake: online, authenticated, taking commands,
 * on the segment addr/prefix, not the target.
 */
struct relay_pick {
	const char	*target;
	uint32_t	 addr;
	int		 prefix;
	char		 hosts[3][HOSTNAME_MAX + 1];
	int		 n;
};
void	session_pick_relays(struct relay_pick *, int);
/* Sends a COMMAND to host's agent: 0, or -1 when it cannot take one. */
int	session_command(const char *, uint32_t, const char *, int,
	    const char *const *);
/* Tells every agent goodbye, logs its disconnect and closes. */
void	session_shutdown(void);
/* Frees what is left once the loop has ended. */
void	session_free_all(void);
/* hostlog.c calls these: records became durable; a failed log works. */
void	session_durable(void);
void	session_resume_all(void);

#endif
