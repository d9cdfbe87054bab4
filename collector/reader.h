/* SPDX-License-Identifier: ISC */
/*
 * The dashboard's reader thread: what may be slow runs there, never in the
 * event loop.  Queries against the index (its own read-only SQLite
 * connection; WAL lets it read while the index thread writes), and the
 * password checks of logins (crypt is slow on purpose).  A job's run()
 * happens in the thread, then its done() in the loop, in order.
 */
#ifndef LABWATCH_READER_H
#define LABWATCH_READER_H

#include <sys/queue.h>

#include <event2/event.h>

#include <sqlite3.h>

#define READER_QUEUE_MAX	64	/* jobs waiting; more are refused */
#define READER_QUERY_MS		2000	/* a query running longer stops */

struct reader_job {
	TAILQ_ENTRY(reader_job)	 entry;
	/* In the thread; db is NULL when the index cannot be opened. */
	void			(*run)(struct reader_job *, sqlite3 *);
	/* In the event loop, after run; also at shutdown (cancelled). */
	void			(*done)(struct reader_job *, int cancelled);
};

/* Starts the thread; dbpath (or NULL: no index) opened on first use. */
int	reader_init(struct event_base *, const char *);
/* Queues a job: 0, or -1 when the queue is full. */
int	reader_submit(struct reader_job *);
/* Stops the thread; jobs still queued are done() as cancelled. */
void	reader_shutdown(void);

#endif
