/* SPDX-License-Identifier: ISC */
/* The check that makes a host name safe to use as a log file name. */
#ifndef LABWATCH_HOSTNAME_H
#define LABWATCH_HOSTNAME_H

#include <stddef.h>

#define HOSTNAME_MAX	64
#define HOSTNAME_PATH_MAX	(HOSTNAME_MAX + 5)	/* name + ".log" + NUL */

/*
 * Is s (len bytes, not NUL-terminated) a valid host name: 1 to 64 bytes of
 * [A-Za-z0-9._-], not starting with a dot?  This keeps "." and "..", slashes
 * and NUL bytes out of file names.
 */
int	hostname_ok(const void *, size_t);

#endif
