/* Per-host log files in the log folder. */
#ifndef LABWATCH_HOSTLOG_H
#define LABWATCH_HOSTLOG_H

#include <stdint.h>

#include "format.h"
#include "record.h"

struct hostlog;

/* Opens the log folder once; files are created in it by name only. */
int	 hostlog_init(const char *, enum log_format);
/*
 * Returns the log of host (a name hostname_ok accepted), opening
 * <dir>/<host>.log on first use; NULL with errno if it cannot be opened.
 */
struct hostlog *hostlog_get(const char *);
/* Releases a log from hostlog_get; the last release closes it. */
void	 hostlog_put(struct hostlog *);
/* Formats the record into the log's pending output. */
void	 hostlog_append(struct hostlog *, const struct record *);
/* Writes pending output; -1 on a write error (logged, rate-limited). */
int	 hostlog_flush(struct hostlog *);
/* Reopens every open log by name (after logrotate renamed them). */
void	 hostlog_reopen_all(void);
/* Flushes and closes everything. */
void	 hostlog_shutdown(void);

/* The last sequence number stored for the host's current stream. */
uint64_t hostlog_last_seq(struct hostlog *, uint64_t);
void	 hostlog_set_seq(struct hostlog *, uint64_t, uint64_t);

#endif
