/* SPDX-License-Identifier: ISC */
/*
 * Per-address memory for what a peer may cost: how often a complaint about
 * it is logged, and how many failed attempts (handshakes, enrolments) it
 * made lately.  A fixed table: the least recently seen address makes room.
 */
#ifndef LABWATCH_PEERLIMIT_H
#define LABWATCH_PEERLIMIT_H

#include <time.h>

#define PEERLIMIT_LOG_EVERY	60	/* seconds between log lines */
#define PEERLIMIT_FAILS		5	/* failures in a window ... */
#define PEERLIMIT_WINDOW	60	/* ... seconds that block an address */

/*
 * Whether a line about addr may be logged now: the first one, then one a
 * PEERLIMIT_LOG_EVERY; *suppressed gets how many were held back since.
 */
int	peerlimit_may_log(const char *, time_t, unsigned *);
/* Counts a failed attempt from addr. */
void	peerlimit_fail(const char *, time_t);
/* Whether addr failed PEERLIMIT_FAILS times within the window. */
int	peerlimit_blocked(const char *, time_t);

#endif
