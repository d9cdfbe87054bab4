/* SPDX-License-Identifier: ISC */
/*
 * The agent's spool: every record handed to it is written to a segment file
 * in the state folder before anything else happens to it, and stays there
 * until the collector has acknowledged it.  Segments are named after their
 * first sequence number and hold wire RECORD frames back to back, so
 * resending is copying bytes.  The folder also keeps the stream id, so a
 * restarted agent continues its stream where it stopped.
 */
#ifndef LABWATCH_SPOOL_H
#define LABWATCH_SPOOL_H

#include <event2/buffer.h>

#include <stddef.h>
#include <stdint.h>

#define SPOOL_FRAME_MAX	(256 * 1024)	/* largest record payload spooled */

struct spool_drop {
	uint64_t	count;
	uint64_t	first_seq;
	uint64_t	last_seq;
	int64_t		first_ts;
	int64_t		last_ts;
};

/*
 * Opens (creating) the spool in dir, at most max bytes: reads or makes the
 * stream id, scans the segments, cuts a torn last frame off; with fresh,
 * drops whatever the folder held and starts a new stream.  Returns -1 on
 * an error it has logged.
 */
int	 spool_open(const char *, size_t, int, uint64_t *);
/*
 * Starts a new stream id for the records spooled and to come (their
 * numbers stay): the collector's word on the old one cannot be trusted.
 */
int	 spool_restream(uint64_t *);
/* The sequence number the next record gets. */
uint64_t spool_next_seq(void);
/*
 * Appends one RECORD frame whose seq is spool_next_seq().  When the spool
 * is full the oldest records go first, and spool_due() then lists the runs
 * of sequence numbers to report in agent.dropped records, once
 * spool_due_trim() has taken out what the collector says it has: append
 * each with report pointing at its run (room for them is kept).  A report
 * that is itself dropped before the collector has it comes back as due, so
 * the reports that arrive account for every missing number exactly once.
 * Runs due and reports unacknowledged survive a restart.
 * Returns -1 on a write error (logged, the record is lost).
 */
int	 spool_append(const uint8_t *, size_t, const struct spool_drop *);
/* Takes up to max runs due for reporting into out; returns how many. */
size_t	 spool_due(struct spool_drop *, size_t);
/* How many runs are due. */
size_t	 spool_ndue(void);
/*
 * The collector has everything up to stored: no run due may claim those
 * numbers (they were sent before they were dropped).
 */
void	 spool_due_trim(uint64_t);
/* Everything up to seq is stored by the collector: forget it. */
void	 spool_ack(uint64_t);
/*
 * The next spool_read starts at the first record after seq, or after the
 * last acknowledged one if that is later: what one collector acknowledged
 * is not sent to another.
 */
void	 spool_rewind(uint64_t);
/* Appends whole frames from the send cursor to out, about max bytes. */
size_t	 spool_read(struct evbuffer *, size_t);
/* The seq of the last record spool_read handed out since the rewind. */
uint64_t spool_sent(void);
/* Records and bytes not yet acknowledged. */
uint64_t spool_records(void);
uint64_t spool_bytes(void);
/* Makes what was appended durable (fdatasync). */
void	 spool_sync(void);
void	 spool_close(void);

#endif
