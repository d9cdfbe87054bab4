/* SPDX-License-Identifier: ISC */
/*
 * The dashboard's page, script and style sheet, built into the binary
 * from collector/www/ (www.c): a lab may have no internet, and nothing is
 * installed beside the collector that could drift from it.
 */
#ifndef LABWATCH_WWW_H
#define LABWATCH_WWW_H

#include <stddef.h>

struct www_file {
	const char	*path;		/* "/app.js" */
	const char	*type;		/* Content-Type */
	const unsigned char *data;
	const unsigned char *end;
};

/* The file served at path, or NULL. */
const struct www_file *www_find(const char *);

#endif
