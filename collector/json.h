/* SPDX-License-Identifier: ISC */
/*
 * A small bounded parser for the JSON bodies of the dashboard's API: one
 * flat object of strings, numbers, true, false and null, at most
 * JSON_MAX_IN bytes and JSON_MAX_FIELDS members.  Nested objects and
 * arrays, duplicate keys, control characters, NUL and invalid UTF-8 are
 * refused with a reason.  No I/O, no allocation.
 */
#ifndef LABWATCH_JSON_H
#define LABWATCH_JSON_H

#include <stddef.h>

#define JSON_MAX_IN	4096	/* bytes of input */
#define JSON_MAX_FIELDS	16
#define JSON_KEY_MAX	32	/* bytes of a key */

enum json_type {
	JSON_STR,
	JSON_NUM,
	JSON_BOOL,
	JSON_NULL,
};

struct json_field {
	char		 key[JSON_KEY_MAX + 1];
	enum json_type	 type;
	const char	*str;		/* JSON_STR: NUL-terminated, in store */
	size_t		 len;
	double		 num;		/* JSON_NUM */
	int		 b;		/* JSON_BOOL */
};

struct json_obj {
	struct json_field	f[JSON_MAX_FIELDS];
	int			n;
	char			store[JSON_MAX_IN + 1];	/* decoded strings */
};

/* Parses in (len bytes) into o: 0, or -1 with *err saying why. */
int	json_parse(struct json_obj *, const char *, size_t, const char **);
/* The string member key, or NULL when absent or not a string. */
const char *json_str(const struct json_obj *, const char *);
/* The member key, or NULL. */
const struct json_field *json_get(const struct json_obj *, const char *);

#endif
