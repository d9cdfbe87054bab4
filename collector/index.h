/* SPDX-License-Identifier: ISC */
/*
 * The collector's index: an SQLite database (WAL) in the state folder,
 * written by its own thread in batches.  The event loop hands it records
 * through a bounded queue and never waits: when the queue is full the
 * record is not indexed, the loss is counted and logged (the per-host logs
 * stay the source of truth; labwatchctl reindex rebuilds the index from
 * them).  Schema: collector/index_schema.sql, one migration a version.
 */
#ifndef LABWATCH_INDEX_H
#define LABWATCH_INDEX_H

#include <event2/event.h>

#include <stdint.h>

#include "record.h"

#define INDEX_QUEUE_MAX		65536	/* records waiting for the thread */
#define INDEX_BATCH_MAX		4096	/* records in one transaction */
#define INDEX_NOTE_MAX		200	/* bytes of a mark's note */

enum index_mark {
	INDEX_NEW = 0,		/* neither known nor ignored */
	INDEX_KNOWN,
	INDEX_IGNORED,
	INDEX_FORGET,		/* drop the mark (and the device's row) */
};

enum index_kind {
	INDEX_LAN = 0,		/* a LAN device, by MAC */
	INDEX_USB,		/* a USB device, by device_id */
};

/*
 * A device as the lab knows it (lab.c keeps these in memory).  Marks are
 * set through lab_mark() (lab.h), which logs lab.mark to lab.log; the
 * index applies lab.mark records.
 */
struct index_device {
	enum index_kind	 kind;
	char		 id[128];	/* MAC aa:bb:..., or device_id */
	enum index_mark	 mark;
	char		 note[INDEX_NOTE_MAX + 1];
	int64_t		 first_seen, last_seen;	/* µs */
};

struct index_stats {
	uint64_t	queued, indexed, missed, batches;
	int		depth;		/* records waiting now */
	uint64_t	spilled;	/* ... in the spill file */
	int		on;
	int		reindexing;	/* a rebuild runs */
	uint64_t	reindexed;	/* records the last rebuild read */
	char		reindex_msg[256];	/* its outcome, "" before */
};

/*
 * Opens (creating, migrating) path; "" or NULL: the index is off and every
 * call below does nothing.  Before the thread starts: calls cb for each
 * device row (kind, id, mark, note, first and last seen) so the lab knows
 * what it saw before this start.  -1 (logged) when the file cannot be
 * used.
 */
int	index_open(const char *, void (*)(const struct index_device *, void *),
	    void *);
/*
 * Starts the writer thread (after daemon(3) and the privilege drop); the
 * loop hands it records once a turn.
 */
int	index_start(struct event_base *);
/* From the event loop, never blocking: the record stored for host. */
void	index_record(const char *, const struct record *);
/*
 * Starts rebuilding the index from the logs in log_dir (HOST.log, lab.log,
 * text or JSON lines) in the writer thread: 0, or -1 with why in msg (the
 * index is off, a rebuild runs).  index_stats tells when it is done.
 */
int	index_reindex(const char *, char *, size_t);
void	index_stats(struct index_stats *);
/* Drains what is queued, stops the thread, closes the database. */
void	index_shutdown(void);

/* The SQL that makes (and migrates) the schema; version is its index + 1. */
extern const char *const index_migrations[];
extern const int	 index_nmigrations;

#endif
