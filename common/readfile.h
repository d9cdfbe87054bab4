/* SPDX-License-Identifier: ISC */
/* A whole file into memory, bounded. */
#ifndef LABWATCH_READFILE_H
#define LABWATCH_READFILE_H

#include <stddef.h>

/*
 * Reads the file at path, at most max bytes, into a new buffer (with a NUL
 * after the len bytes, for the caller's convenience: the text may hold
 * NULs of its own).  Returns it, or NULL with errno (EFBIG: longer than
 * max).
 */
char	*readfile(const char *path, size_t max, size_t *len);

#endif
