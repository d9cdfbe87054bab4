/* SPDX-License-Identifier: ISC */
/*
 * The record model shared by agent and collector: a timestamped, sequenced
 * event with typed fields.  Field bytes live either in the record's own arena
 * (records built with record_add_*) or, for decoded records, in the frame
 * they were decoded from (record.ext), so decoding copies nothing.
 */
#ifndef LABWATCH_RECORD_H
#define LABWATCH_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define RECORD_EVENT_MAX	64	/* bytes in an event name */
#define RECORD_KEY_MAX		32	/* bytes in a field key */
#define RECORD_FIELDS_MAX	256	/* fields in one record */
#define RECORD_ITEMS_MAX	4096	/* list items in one record */
#define RECORD_STR_MAX		8192	/* longer strings are cut */

enum field_type {
	FIELD_STR = 1,
	FIELD_INT = 2,
	FIELD_BOOL = 3,
	FIELD_LIST = 4,
	FIELD_TIME = 5,		/* microseconds since the epoch, UTC */
	FIELD_DURATION = 6,	/* microseconds, shown as seconds */
};

struct span {
	uint32_t	off;
	uint32_t	len;
};

struct field {
	struct span	key;
	uint8_t		type;
	union {
		struct span	str;
		int64_t		i;	/* INT, TIME, DURATION */
		int		b;
		struct {
			uint32_t first;
			uint32_t n;
		}		list;
	}		v;
};

struct record {
	uint64_t	 seq;		/* 0: not part of an agent's stream */
	int64_t		 ts_us;		/* microseconds since the epoch, UTC */
	const char	*host;		/* not owned */
	struct span	 event;
	struct field	*fields;
	uint32_t	 nfields;
	uint32_t	 fields_cap;
	struct span	*items;		/* list items of every list field */
	uint32_t	 nitems;
	uint32_t	 items_cap;
	const uint8_t	*ext;		/* bytes spans point into, or NULL */
	struct buf	 arena;		/* ... the arena when ext is NULL */
};

void	record_init(struct record *);
/* Empties the record for reuse, keeping its memory. */
void	record_reset(struct record *);
void	record_free(struct record *);
/* Starts a fresh record for event, stamped now. */
void	record_begin(struct record *, const char *event);
/* Adds a string field; one longer than RECORD_STR_MAX is cut there. */
void	record_add_str(struct record *, const char *, const char *);
void	record_add_strn(struct record *, const char *, const void *, size_t);
void	record_add_int(struct record *, const char *, int64_t);
void	record_add_bool(struct record *, const char *, int);
void	record_add_time(struct record *, const char *, int64_t);
void	record_add_duration(struct record *, const char *, int64_t);
/* Adds an empty list field; record_list_add appends to the last one. */
void	record_add_list(struct record *, const char *);
void	record_list_add(struct record *, const void *, size_t);

/* Returns the bytes the record's spans refer to. */
static inline const uint8_t *
record_bytes(const struct record *r)
{
	return r->ext != NULL ? r->ext : r->arena.data;
}

/* Finds the field named key, or NULL. */
const struct field *record_get(const struct record *, const char *);
/*
 * The field's value as a C string in out ("" when missing or a list):
 * strings, numbers, true/false.  Returns out.
 */
const char *record_get_str(const struct record *, const char *, char *,
	    size_t);
/* The field as a number (a string of digits too, as text logs read back). */
int64_t	record_get_int(const struct record *, const char *, int64_t);
/* Is this a valid event name: dotted words of [a-z0-9_]? */
int	record_event_ok(const uint8_t *, size_t);
/*
 * Is this event in a namespace only the collector writes (host.*, lab.*,
 * collector.*)?  Agents may not send such events.
 */
int	record_event_reserved(const uint8_t *, size_t);
/* Is this a valid field key: [a-z0-9_], not a reserved name? */
int	record_key_ok(const uint8_t *, size_t);
/* Microseconds since the epoch, from the real-time clock. */
int64_t	record_now(void);

#endif
