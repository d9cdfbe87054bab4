/* SPDX-License-Identifier: ISC */
/* Parsing of /proc/self/mountinfo lines, pure. */
#include <string.h>

#include "mountinfo.h"

struct cursor {
	const char	*p;
	const char	*end;
};

/* Points *f at the next space-separated field; -1 at the end of the line. */
static int
next_field(struct cursor *c, const char **f, size_t *flen)
{
	while (c->p < c->end && *c->p == ' ')
		c->p++;
	if (c->p == c->end)
		return -1;
	*f = c->p;
	while (c->p < c->end && *c->p != ' ')
		c->p++;
	*flen = (size_t)(c->p - *f);
	return 0;
}

/* A decimal number of at most 9 digits, all of the field; -1 otherwise. */
static int
parse_uint(const char *s, size_t len, unsigned int *v)
{
	size_t	i;

	if (len == 0 || len > 9)
		return -1;
	*v = 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned int)(s[i] - '0');
	}
	return 0;
}

int
mountinfo_unescape(char *dst, size_t size, const char *s, size_t len)
{
	size_t	i, o = 0;
	int	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '\\' && len - i >= 4 &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 |
			    (s[i + 3] - '0');
			i += 3;
			if (c == 0)
				return -1;
		}
		if (o + 1 >= size)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

int
mountinfo_parse(const char *line, size_t len, struct mountinfo *mi)
{
	struct cursor	 c = { line, line + len };
	const char	*f, *colon;
	size_t		 flen;
	unsigned int	 id;

	if (len > 0 && line[len - 1] == '\n')
		c.end--;
	if (next_field(&c, &f, &flen) == -1 || parse_uint(f, flen, &id) == -1)
		return -1;
	mi->id = (int)id;
	if (next_field(&c, &f, &flen) == -1 ||		/* parent */
	    next_field(&c, &f, &flen) == -1 ||		/* major:minor */
	    (colon = memchr(f, ':', flen)) == NULL ||
	    parse_uint(f, (size_t)(colon - f), &mi->major) == -1 ||
	    parse_uint(colon + 1, flen - (size_t)(colon + 1 - f),
	    &mi->minor) == -1)
		return -1;
	if (next_field(&c, &f, &flen) == -1 ||		/* root */
	    next_field(&c, &f, &flen) == -1 ||
	    mountinfo_unescape(mi->mountpoint, sizeof(mi->mountpoint), f,
	    flen) == -1 ||
	    next_field(&c, &f, &flen) == -1)		/* options */
		return -1;
	/* Optional fields up to the "-" separator; bounded by the line. */
	for (;;) {
		if (next_field(&c, &f, &flen) == -1)
			return -1;
		if (flen == 1 && f[0] == '-')
			break;
	}
	if (next_field(&c, &f, &flen) == -1 ||
	    mountinfo_unescape(mi->fstype, sizeof(mi->fstype), f, flen) == -1 ||
	    next_field(&c, &f, &flen) == -1 ||
	    mountinfo_unescape(mi->source, sizeof(mi->source), f, flen) == -1)
		return -1;
	return 0;
}
