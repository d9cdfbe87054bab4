/* SPDX-License-Identifier: ISC */
/* Readiness and the watchdog under systemd (sd_notify); the pid file. */
#include <systemd/sd-daemon.h>
#include <signal.h>

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "service.h"

static struct event	*watchdog_ev;
static struct timeval	 watchdog_tv;

static void
watchdog_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
	evtimer_add(watchdog_ev, &watchdog_tv);
}

void
service_ready(struct event_base *base)
{
	uint64_t	usec;

	if (sd_notifyf(0, "READY=1\nMAINPID=%ld", (long)getpid()) <= 0)
		return;
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return;
	usec /= 2;
	watchdog_tv.tv_sec = (time_t)(usec / 1000000);
	watchdog_tv.tv_usec = (suseconds_t)(usec % 1000000);
	watchdog_ev = evtimer_new(base, watchdog_cb, NULL);
	evtimer_add(watchdog_ev, &watchdog_tv);
	log_debug("systemd watchdog every %lld.%06ld s",
	    (long long)watchdog_tv.tv_sec, (long)watchdog_tv.tv_usec);
}

void
service_stopping(void)
{
	sigset_t	set;

	/*
	 * Already stopping: a second SIGTERM or SIGINT must not cut the
	 * cleanup.  Blocked, not ignored: freeing the signal events puts
	 * back the default action, which would kill the process.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sd_notify(0, "STOPPING=1");
	if (watchdog_ev != NULL) {
		event_free(watchdog_ev);
		watchdog_ev = NULL;
	}
}

void
service_pidfile(const char *path)
{
	FILE	*f;

	if ((f = fopen(path, "we")) == NULL)
		fatal("%s", path);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) == EOF)
		fatal("%s", path);
}
