/* SPDX-License-Identifier: ISC */
/*
 * Reading a log line back into a record (labwatchctl reindex): the text
 * format (TS HOST EVENT [seq=N] key=value ...) or JSON Lines, no I/O.
 * Text values come back as strings (a text log does not keep types); JSON
 * numbers as integers (or strings when they have a fraction), true and
 * false as booleans, arrays as lists.
 */
#ifndef LABWATCH_LOGLINE_H
#define LABWATCH_LOGLINE_H

#include <stddef.h>

#include "record.h"

/*
 * Parses line (len bytes, a trailing newline allowed) into r (reset
 * first) and its host into host: 0, or -1 with *err.
 */
int	logline_parse(const char *, size_t, struct record *, char *, size_t,
	    const char **);
/* Parses an RFC 3339 time with microseconds into µs: 0, or -1. */
int	logline_ts(const char *, size_t, int64_t *);

#endif
