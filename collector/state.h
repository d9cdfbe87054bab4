/* SPDX-License-Identifier: ISC */
/*
 * The collector's state file: for each host, the stream it last spoke and
 * the last sequence number of that stream stored durably.  Written whole and
 * atomically (temporary file, fsync, rename, fsync of the folder).
 */
#ifndef LABWATCH_STATE_H
#define LABWATCH_STATE_H

#include <stddef.h>
#include <stdint.h>

#define STATE_FILE	"streams"

/*
 * Reads dir/streams, one "HOST STREAMHEX SEQ" a line, calling cb for each
 * good line; a bad line is reported as file:line and skipped.  A missing
 * file is no error.  Returns -1 on an I/O error.
 */
int	state_load(int, const char *,
	    void (*)(const char *, uint64_t, uint64_t, void *), void *);
/* Replaces dir/streams with the bytes given.  Safe from any thread. */
int	state_write(int, const void *, size_t);

#endif
