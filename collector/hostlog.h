/* SPDX-License-Identifier: ISC */
/*
 * Per-host log files in the log folder, and how far each host's stream is
 * stored: accepted (formatted, maybe not yet written), written, durable.
 */
#ifndef LABWATCH_HOSTLOG_H
#define LABWATCH_HOSTLOG_H

#include <event2/event.h>

#include <stdint.h>

#include "format.h"
#include "record.h"

enum sync_mode {
	SYNC_ALWAYS,	/* fdatasync each batch in the loop before its ACK */
	SYNC_BATCH,	/* group commit in a thread before the ACKs */
	SYNC_NEVER,	/* ACK once written; the kernel syncs when it likes */
};

struct hostlog;

/*
 * Opens the log and state folders, loads the state file, repairs a torn
 * last line in every host log and reads back what the logs say about their
 * streams.  durable_cb runs whenever records became durable, resume_cb
 * when a log that failed to write works again.
 */
int	 hostlog_init(struct event_base *, const char *, const char *,
	    enum log_format, enum sync_mode, void (*)(void), void (*)(void));
/* Calls cb with the name of every host the logs and the state know. */
void	 hostlog_each_host(void (*)(const char *));
/*
 * Returns the log of host (a name hostname_ok accepted), opening
 * <dir>/<host>.log on first use; NULL with errno if it cannot be opened.
 */
struct hostlog *hostlog_get(const char *);
/* Releases a log from hostlog_get. */
void	 hostlog_put(struct hostlog *);
/*
 * Formats a record into the log's pending output and queues it for the
 * forwarding outputs; stream is the agent's (0: the collector's record).
 */
void	 hostlog_append(struct hostlog *, uint64_t, const struct record *);
/* Notes that the stream's records up to seq are accepted (appended). */
void	 hostlog_accept(struct hostlog *, uint64_t, uint64_t);
/*
 * Writes pending output and starts making it durable.  -1 when writing
 * failed: the output stays pending (memory stays flat because the host's
 * sessions stop reading) and is retried every second.
 */
int	 hostlog_flush(struct hostlog *);
int	 hostlog_failed(const struct hostlog *);
/* The last seq of stream accepted / stored durably; 0 for another stream. */
uint64_t hostlog_accepted(const struct hostlog *, uint64_t);
uint64_t hostlog_durable(const struct hostlog *, uint64_t);
/*
 * A known host whose name differs from name only in case, or NULL: on a
 * case-insensitive file system both would share one file.
 */
const char *hostlog_case_twin(const char *);
/* The host whose log holds stream, or NULL. */
const char *hostlog_stream_owner(uint64_t);
/* Whether the host was last seen going silent (host.offline). */
int	 hostlog_offline(const struct hostlog *);
void	 hostlog_set_offline(struct hostlog *, int);
/* Reopens every open log by name (after logrotate renamed them). */
void	 hostlog_reopen_all(void);
/* Writes and syncs everything, saves the state, closes. */
void	 hostlog_shutdown(void);

#endif
