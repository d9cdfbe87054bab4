/* SPDX-License-Identifier: ISC */
/* A whole file into memory, bounded. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "readfile.h"
#include "xmalloc.h"

#define READFILE_FIRST	(64 * 1024)	/* a first buffer, size unknown */

char *
readfile(const char *path, size_t max, size_t *len)
{
	struct stat	 st;
	char		*text;
	size_t		 cap;
	ssize_t		 n = 0;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	/* Its size when it says one, one byte over the bound at most. */
	cap = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 ?
	    (size_t)st.st_size + 1 : READFILE_FIRST;
	if (cap > max + 1)
		cap = max + 1;
	text = xmalloc(cap + 1);
	*len = 0;
	for (;;) {
		if (*len == cap) {
			if (cap > max)
				break;
			cap = cap > max + 1 - cap ? max + 1 : cap * 2;
			text = xreallocarray(text, cap + 1, 1);
		}
		if ((n = read(fd, text + *len, cap - *len)) <= 0)
			break;
		*len += (size_t)n;
	}
	saved = errno;
	close(fd);
	if (n == -1 || *len > max) {
		free(text);
		errno = n == -1 ? saved : EFBIG;
		return NULL;
	}
	text[*len] = '\0';
	return text;
}
