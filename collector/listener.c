/* SPDX-License-Identifier: ISC */
/*
 * Accepting agent connections: an explicit large backlog (a lab boots at
 * once), a cap on connections, and on EMFILE a pause instead of a spin.
 */
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "collector.h"
#include "log.h"
#include "xmalloc.h"

#define LISTEN_BACKLOG	4096

struct listener {
	struct evconnlistener	*lev;
	struct event		*resume;	/* after EMFILE */
	char			 name[ADDR_STR_MAX];
	struct listener		*next;
};

static struct listener	*listeners;

static void
listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)arg;
	(void)salen;
	session_accept(evconnlistener_get_base(lev), fd, sa);
}

static void
listener_resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct listener	*l = arg;

	(void)fd;
	(void)ev;
	evconnlistener_enable(l->lev);
}

static void
listener_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener	*l = arg;
	struct timeval	 tv = { 1, 0 };
	int		 err = EVUTIL_SOCKET_ERROR();

	(void)lev;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		log_warnx("%s: accept: %s; pausing for a second", l->name,
		    strerror(err));
		evconnlistener_disable(l->lev);
		evtimer_add(l->resume, &tv);
		return;
	}
	log_warnx("%s: accept: %s", l->name, strerror(err));
}

int
listener_add(struct event_base *base, const char *spec)
{
	struct sockaddr_storage	 ss;
	struct listener		*l;
	socklen_t		 sslen;
	const char		*err;

	if (addr_parse(spec, &ss, &sslen, &err) == -1) {
		log_warnx("--listen %s: %s", spec, err);
		return -1;
	}
	l = xcalloc(1, sizeof(*l));
	addr_str((struct sockaddr *)&ss, l->name, sizeof(l->name));
	l->lev = evconnlistener_new_bind(base, listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
	    LEV_OPT_REUSEABLE, LISTEN_BACKLOG, (struct sockaddr *)&ss,
	    (int)sslen);
	if (l->lev == NULL) {
		log_warn("cannot listen on %s", l->name);
		free(l);
		return -1;
	}
	evconnlistener_set_error_cb(l->lev, listener_error_cb);
	l->resume = evtimer_new(base, listener_resume_cb, l);
	l->next = listeners;
	listeners = l;
	log_info("listening on %s", l->name);
	return 0;
}

void
listener_shutdown(void)
{
	struct listener	*l;

	while ((l = listeners) != NULL) {
		listeners = l->next;
		evconnlistener_free(l->lev);
		event_free(l->resume);
		free(l);
	}
}
