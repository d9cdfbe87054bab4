/* SPDX-License-Identifier: ISC */
/* Parsing of /proc/self/mountinfo lines, pure. */
#ifndef LABWATCH_MOUNTINFO_H
#define LABWATCH_MOUNTINFO_H

#include <stddef.h>

#define MOUNTINFO_PATH_MAX	4096
#define MOUNTINFO_FSTYPE_MAX	64

struct mountinfo {
	int		id;
	unsigned int	major;
	unsigned int	minor;
	char		mountpoint[MOUNTINFO_PATH_MAX];
	char		fstype[MOUNTINFO_FSTYPE_MAX];
	char		source[MOUNTINFO_PATH_MAX];
};

/*
 * Parses one mountinfo line of len bytes (no newline needed):
 * "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE
 * SUPEROPTS".  Undoes the kernel's octal escapes (\040 space, \011 tab,
 * \012 newline, \134 backslash) in the mount point and source.  Returns 0,
 * or -1 when a field is missing, a number is malformed or a string does
 * not fit.
 */
int	mountinfo_parse(const char *, size_t, struct mountinfo *);

/*
 * Copies the len bytes at s into dst (size bytes, NUL-terminated), turning
 * each \NNN octal escape into its byte.  Returns -1 when it does not fit or
 * an escape decodes to NUL.
 */
int	mountinfo_unescape(char *, size_t, const char *, size_t);

#endif
