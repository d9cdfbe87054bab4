/* SPDX-License-Identifier: ISC */
/* Formatting of records as log lines: text or JSON Lines. */
#ifndef LABWATCH_FORMAT_H
#define LABWATCH_FORMAT_H

#include <stdint.h>

#include "buf.h"
#include "record.h"

enum log_format {
	FORMAT_TEXT,
	FORMAT_JSON,
};

#define FORMAT_TS_LEN	27	/* 2026-11-22T04:05:06.123456Z */

/* Parses "text" or "json"; returns -1 for anything else. */
int	format_parse(const char *, enum log_format *);
/* Writes ts_us as RFC 3339 UTC with microseconds and a NUL. */
void	format_ts(char [FORMAT_TS_LEN + 1], int64_t);
/*
 * Text lines in local time with the UTC offset
 * (2026-11-22T05:25:24.589150+01:00) from now on; UTC by default.  JSON
 * stays in UTC.
 */
void	format_set_localtime(int);
/*
 * Appends the value of r's field f as the format writes it: for JSON a
 * string, number, boolean or array; for text as a text value.
 */
void	format_value(struct buf *, const struct record *, const struct field *,
	    enum log_format);
/* Appends the record as one line, newline included. */
void	format_record(struct buf *, const struct record *, enum log_format);

#endif
