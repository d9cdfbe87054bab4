/* SPDX-License-Identifier: ISC */
/*
 * The dashboard (--http ADDR:PORT): the page, its JSON API under /api/ and
 * its live feed, served by the collector's event loop through evhttp;
 * HTTPS with the collector's certificate unless on loopback.  Logins
 * against --http-users, signed session cookies, CSRF tokens on changes,
 * admin and viewer roles.
 */
#ifndef LABWATCH_HTTP_H
#define LABWATCH_HTTP_H

#include <event2/event.h>
#include <event2/http.h>

#include "buf.h"
#include "opts.h"
#include "tls.h"
#include "users.h"

struct http_conf {
	const char		*addr;		/* --http */
	const char		*users;		/* --http-users */
	const struct opt_list	*rooms;		/* room lines */
	const char		*state_dir;	/* the cookie key lives here */
	const struct tls_files	*tls;		/* NULL: no TLS (--insecure) */
};

/* Listens: 0, or -1 (logged) when it cannot. */
int	http_init(struct event_base *, const struct http_conf *);
/*
 * Starts the reader thread (after daemon(3) and the privilege drop) on the
 * index database (NULL: none).
 */
int	http_start(const char *);
/* SIGHUP: the accounts file and the TLS files again. */
void	http_reload(void);
void	http_shutdown(void);
/* Whether addr ("HOST:PORT", ":PORT") is on loopback. */
int	http_addr_loopback(const char *);

/* For api.c and live.c: who is asking. */
struct http_who {
	struct user	u;
	char		peer[64];
};

/*
 * A request waiting for the reader thread: held keeps track of whether
 * the client went away meanwhile.
 */
struct http_held {
	struct evhttp_request		*req;
	struct evhttp_connection	*evcon;
	int				 gone;	/* the client went */
};
void	http_hold(struct http_held *, struct evhttp_request *);
/*
 * Stops watching: the request if its client is still there, else NULL
 * (and the request is freed).  Call it once for every held request.
 */
struct evhttp_request *http_release(struct http_held *);

void	http_reply(struct evhttp_request *, int, const char *,
	    const struct buf *);
void	http_reply_error(struct evhttp_request *, int, const char *);
/* A query parameter of the request (decoded), or NULL. */
const char *http_param(const struct evkeyvalq *, const char *);
/*
 * Logs a change made on the dashboard with the account's name (lab_mark
 * writes its lab.mark record to lab.log, naming the account too).
 */
void	http_log_change(const struct http_who *, const char *action,
	    const char *target);

/* api.c */
void	api_init(const struct opt_list *);
void	api_hosts(struct evhttp_request *, const struct http_who *);
void	api_query(struct evhttp_request *, const struct http_who *,
	    const char *);
void	api_mark(struct evhttp_request *, const struct http_who *,
	    const char *, const char *, size_t);
void	api_shutdown(void);

#endif
