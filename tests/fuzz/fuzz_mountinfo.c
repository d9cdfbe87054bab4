/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the mountinfo line parser: the input is one line,
 * given without a NUL so a read past its end is caught.  A parsed line's
 * strings must be NUL-terminated within their buffers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct mountinfo	 mi;
	char			*copy;

	copy = malloc(len ? len : 1);
	memcpy(copy, data, len);
	if (mountinfo_parse(copy, len, &mi) == 0 &&
	    (memchr(mi.mountpoint, '\0', sizeof(mi.mountpoint)) == NULL ||
	    memchr(mi.fstype, '\0', sizeof(mi.fstype)) == NULL ||
	    memchr(mi.source, '\0', sizeof(mi.source)) == NULL))
		abort();
	free(copy);
	return 0;
}
