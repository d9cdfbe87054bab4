/* SPDX-License-Identifier: ISC */
/*
 * Making host logs durable off the event loop: a thread runs fdatasync on
 * the logs written since the last round (syncfs once many were) and then replaces the state file,
 * and the loop hears back through a pipe.  One round at a time, so rounds
 * batch whatever arrived while the previous one ran (group commit).
 */
#ifndef LABWATCH_SYNCER_H
#define LABWATCH_SYNCER_H

#include <event2/event.h>

#include <stddef.h>

#include "buf.h"

struct sync_job {
	int		*fds;		/* dup()s, closed by the round */
	size_t		 nfds;
	int		*failed;	/* per fd: errno of its sync, or 0 */
	struct buf	 state;		/* the new state file */
	int		 state_failed;	/* errno of writing it, or 0 */
	void		*arg;		/* the caller's */
};

/* Starts the thread; done runs in the loop after each round. */
void	syncer_init(struct event_base *, int, void (*)(struct sync_job *));
/* Runs a round in the thread; the caller checks syncer_busy() first. */
void	syncer_start(struct sync_job *);
/* Runs a round right here, blocking (--sync always). */
void	syncer_run(struct sync_job *);
int	syncer_busy(void);
/* Waits for a running round, then stops the thread. */
void	syncer_shutdown(void);

#endif
