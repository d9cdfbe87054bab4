/* SPDX-License-Identifier: ISC */
/*
 * A spool: every record handed to it is written to a segment file in its
 * folder before anything else happens to it, and stays there until its
 * receiver has acknowledged it.  The agent keeps one for the collector
 * (the state folder), the collector one per forwarding output.  Frames
 * are wire RECORD frames, or any frame of that type whose payload starts
 * with the spool's seq and a ts (u64 each).  Segments are named after their
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
#define SPOOL_LEFT_MAX	8	/* full segments awaiting their sync */
#define SPOOL_SYNC_FDS	(SPOOL_LEFT_MAX + 2)

struct spool;

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
 * NULL on an error it has logged.
 */
struct spool *spool_open(const char *, size_t, int, uint64_t *);
/*
 * Starts a new stream id for the records spooled and to come (their
 * numbers stay): the collector's word on the old one cannot be trusted.
 */
int	 spool_restream(struct spool *, uint64_t *);
/* The sequence number the next record gets. */
uint64_t spool_next_seq(struct spool *);
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
int	 spool_append(struct spool *, const uint8_t *, size_t,
	    const struct spool_drop *);
/* Takes up to max runs due for reporting into out; returns how many. */
size_t	 spool_due(struct spool *, struct spool_drop *, size_t);
/* How many runs are due. */
size_t	 spool_ndue(struct spool *);
/*
 * The collector has everything up to stored: no run due may claim those
 * numbers (they were sent before they were dropped).
 */
void	 spool_due_trim(struct spool *, uint64_t);
/* Everything up to seq is stored by the collector: forget it. */
void	 spool_ack(struct spool *, uint64_t);
/* The next spool_read starts at the first record after seq. */
void	 spool_rewind(struct spool *, uint64_t);
/* Appends whole frames from the send cursor to out, about max bytes. */
size_t	 spool_read(struct spool *, struct evbuffer *, size_t);
/* Records and bytes not yet acknowledged. */
uint64_t spool_records(struct spool *);
uint64_t spool_bytes(struct spool *);
/*
 * The descriptors spool_sync would sync, dup()s for a sync done elsewhere
 * (the collector's sync thread, which closes them): segments filled since
 * the last sync, the active one and the folder.  Returns how many (0 when
 * nothing is new).
 */
size_t	 spool_sync_fds(struct spool *, int [SPOOL_SYNC_FDS]);
/* Makes what was appended durable (fdatasync). */
void	 spool_sync(struct spool *);
void	 spool_close(struct spool *);

#endif
