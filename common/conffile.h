/* SPDX-License-Identifier: ISC */
/*
 * The configuration file's syntax, apart from any I/O: "key value" lines,
 * blank lines and "#" comments.
 */
#ifndef LABWATCH_CONFFILE_H
#define LABWATCH_CONFFILE_H

#include <stddef.h>

#define CONFFILE_MAX		(1024 * 1024)	/* bytes in a file */
#define CONFFILE_LINE_MAX	4096		/* bytes in a line */
#define CONFFILE_KEY_MAX	64		/* bytes in a key */

/*
 * Calls cb(key, value, line, arg) for each "key value" line of the text
 * (len bytes).  A key is [a-z0-9-]; the value is the rest of the line
 * without the white space around it ("" when there is none); a line whose
 * first non-blank byte is "#" is a comment, as is anything after " #".
 * NUL and other control bytes but tab, over-long lines and bad keys are
 * errors: cb is not called, err(line, message, arg) is, and parsing goes
 * on.  cb returning -1 counts as an error too.  Returns the number of
 * errors.
 */
int	conffile_parse(const char *, size_t,
	    int (*cb)(const char *, const char *, int, void *),
	    void (*err)(int, const char *, void *), void *);

#endif
