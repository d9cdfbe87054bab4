/* SPDX-License-Identifier: ISC */
/* The check that makes a host name safe to use as a log file name. */
#include <stdint.h>

#include "hostname.h"

int
hostname_ok(const void *p, size_t len)
{
	const uint8_t	*s = p;
	size_t		 i;

	if (len == 0 || len > HOSTNAME_MAX || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-')
			continue;
		return 0;
	}
	return 1;
}
