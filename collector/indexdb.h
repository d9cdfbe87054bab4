/* SPDX-License-Identifier: ISC */
/* The index's SQL, used by its writer thread only (and index_open). */
#ifndef LABWATCH_INDEXDB_H
#define LABWATCH_INDEXDB_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "record.h"

struct indexdb;

/* Opens path in WAL mode, applies the migrations it lacks; NULL: logged. */
struct indexdb *indexdb_open(const char *);
/* Calls cb for each LAN and USB device row. */
void	indexdb_devices(struct indexdb *,
	    void (*)(const struct index_device *, void *), void *);
/*
 * One transaction around a batch (waits out another writer's lock): 0, or
 * -1 when it could not (the batch is then not indexed).
 */
int	indexdb_begin(struct indexdb *);
void	indexdb_commit(struct indexdb *);
/*
 * From another thread, stopping: one try at the lock (a busy timeout) per
 * batch from now on: a writer holding it must not hold up the exit.
 */
void	indexdb_hurry(struct indexdb *);
/* Indexes the record of host and what it tells about hosts and devices. */
void	indexdb_apply(struct indexdb *, const char *, const struct record *);
/*
 * Empties the index (marks kept) and reads every log in dir back into it:
 * *n records; msg says how it went.  0, or -1.
 */
int	indexdb_reindex(struct indexdb *, const char *, uint64_t *, char *,
	    size_t);
void	indexdb_close(struct indexdb *);

#endif
