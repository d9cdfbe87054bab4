/* SPDX-License-Identifier: ISC */
/*
 * Alerts: records matching a rule run its command (no shell) with the
 * record as JSON on standard input, within a timeout, a few at a time, at
 * most once per --alert-interval per rule and host (what is held back is
 * counted and passed on in LABWATCH_SUPPRESSED).
 */
#ifndef LABWATCH_ALERT_H
#define LABWATCH_ALERT_H

#include <event2/event.h>

#include "opts.h"
#include "record.h"

struct alert_conf {
	const struct opt_list	*rules;		/* alert lines */
	int			 timeout;	/* seconds a command may run */
	int			 max;		/* commands at once */
	int			 interval;	/* seconds per rule and host */
};

/* Parses the rules; a bad one is reported as file:line, and -1. */
int	alert_init(const struct alert_conf *);
/* From now on matching records run their commands in this loop. */
void	alert_attach(struct event_base *);
/* A record stored for host: runs the commands of the rules it matches. */
void	alert_record(const char *, const struct record *);
/* Kills what runs, frees the rules. */
void	alert_shutdown(void);

#endif
