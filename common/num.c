/* SPDX-License-Identifier: ISC */
/* The one range-checked number parser for options and configuration. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "num.h"

int
num_parse(const char *s, long long min, long long max, long long *out,
    const char **err)
{
	char		*end;
	long long	 v;

	errno = 0;
	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9'))) {
		*err = "invalid";
		return -1;
	}
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		*err = "invalid";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*err = "too small";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*err = "too large";
		return -1;
	}
	*out = v;
	return 0;
}

long long
num_arg(const char *name, const char *s, long long min, long long max)
{
	long long	 v;
	const char	*err;

	if (num_parse(s, min, max, &v, &err) == -1) {
		fprintf(stderr, "%s: --%s %s: %s (%lld to %lld)\n",
		    program_invocation_short_name, name, s, err, min, max);
		exit(2);
	}
	return v;
}
