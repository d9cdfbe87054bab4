/* SPDX-License-Identifier: ISC */
/*
 * Life under systemd (Type=notify): readiness, the watchdog, stopping;
 * and the pid file for those not under systemd.
 */
#ifndef LABWATCH_SERVICE_H
#define LABWATCH_SERVICE_H

#include <event2/event.h>

/*
 * Tells systemd the daemon is ready and, when the unit has WatchdogSec,
 * pings the watchdog from the event loop at half the interval, so a hung
 * loop gets the daemon restarted.  Does nothing outside systemd.
 */
void	service_ready(struct event_base *);
/*
 * Tells systemd the daemon is stopping, frees the watchdog timer and
 * blocks SIGTERM and SIGINT so a second request cannot cut the cleanup.
 */
void	service_stopping(void);
/* Writes the process id to path; exits 1 when it cannot. */
void	service_pidfile(const char *);

#endif
