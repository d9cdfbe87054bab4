/* SPDX-License-Identifier: ISC */
/* Host name patterns: '*', '?', "[A-B]" number ranges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostpat.h"

#define RANGE_DIGITS	9	/* at most, per bound */

struct range {
	unsigned long	lo, hi;
	size_t		width;		/* fixed digits, or 0 */
	size_t		len;		/* bytes of the bracket */
};

/* Parses "[A-B]" at p (up to end); -1 when malformed. */
static int
hostpat_range(const char *p, const char *end, struct range *r)
{
	const char	*q = p + 1, *a = q;
	size_t		 alen, blen;

	r->lo = r->hi = 0;
	while (q < end && *q >= '0' && *q <= '9')
		r->lo = r->lo * 10 + (unsigned long)(*q++ - '0');
	alen = (size_t)(q - a);
	if (alen == 0 || alen > RANGE_DIGITS || q >= end || *q++ != '-')
		return -1;
	a = q;
	while (q < end && *q >= '0' && *q <= '9')
		r->hi = r->hi * 10 + (unsigned long)(*q++ - '0');
	blen = (size_t)(q - a);
	if (blen == 0 || blen > RANGE_DIGITS || q >= end || *q++ != ']' ||
	    r->lo > r->hi)
		return -1;
	r->width = alen > 1 && p[1] == '0' ? alen : 0;
	r->len = (size_t)(q - p);
	return 0;
}

/*
 * The (pattern, name) positions known not to match: each is tried once,
 * so '*' and ranges cost at most pattern x name x name steps instead of
 * backtracking exponentially (a pattern of 40 stars took minutes).
 */
struct memo {
	const char	*p0, *s0;
	size_t		 cols;
	uint8_t		*failed;	/* a bit per position pair */
};

static int	hostpat_one(struct memo *, const char *, const char *,
		    const char *, const char *);

/* hostpat_one, remembering where it failed. */
static int
hostpat_at(struct memo *m, const char *p, const char *pend, const char *s,
    const char *send)
{
	size_t	i = (size_t)(p - m->p0) * m->cols + (size_t)(s - m->s0);

	if (m->failed[i / 8] & 1 << (i % 8))
		return 0;
	if (hostpat_one(m, p, pend, s, send))
		return 1;
	m->failed[i / 8] |= (uint8_t)(1 << (i % 8));
	return 0;
}

/* One pattern [p, pend) against [s, send). */
static int
hostpat_one(struct memo *m, const char *p, const char *pend, const char *s,
    const char *send)
{
	struct range	r;
	unsigned long	v;
	size_t		k;

	while (p < pend) {
		switch (*p) {
		case '*':
			for (; s <= send; s++)
				if (hostpat_at(m, p + 1, pend, s, send))
					return 1;
			return 0;
		case '?':
			if (s == send)
				return 0;
			p++;
			s++;
			break;
		case '[':
			if (hostpat_range(p, pend, &r) == -1)
				return 0;
			v = 0;
			for (k = 1; k <= RANGE_DIGITS && s + k <= send &&
			    s[k - 1] >= '0' && s[k - 1] <= '9'; k++) {
				v = v * 10 + (unsigned long)(s[k - 1] - '0');
				if ((r.width == 0 || k == r.width) &&
				    (r.width != 0 || k == 1 || s[0] != '0') &&
				    v >= r.lo && v <= r.hi &&
				    hostpat_at(m, p + r.len, pend, s + k, send))
					return 1;
			}
			return 0;
		default:
			if (s == send || *s != *p)
				return 0;
			p++;
			s++;
		}
	}
	return s == send;
}

int
hostpat_match(const char *list, const char *name, size_t len)
{
	const char	*p = list, *end;
	struct memo	 m;
	int		 hit;

	while (*p != '\0') {
		p += strspn(p, ", ");
		end = p + strcspn(p, ", ");
		if (end > p) {
			m.p0 = p;
			m.s0 = name;
			m.cols = len + 1;
			if ((m.failed = calloc(((size_t)(end - p) + 1) * m.cols /
			    8 + 1, 1)) == NULL)
				return 0;
			hit = hostpat_one(&m, p, end, name, name + len);
			free(m.failed);
			if (hit)
				return 1;
		}
		p = end;
	}
	return 0;
}

int
hostpat_check(const char *list, const char **err)
{
	struct range	 r;
	const char	*p, *end;

	for (p = list; *p != '\0'; p++) {
		if (*p == ']') {
			*err = "']' without '['";
			return -1;
		}
		if (*p != '[')
			continue;
		end = p + strcspn(p, ", ");
		if (hostpat_range(p, end, &r) == -1) {
			*err = "a bracket must be a number range such as "
			    "[01-40]";
			return -1;
		}
		p += r.len - 1;
	}
	return 0;
}
