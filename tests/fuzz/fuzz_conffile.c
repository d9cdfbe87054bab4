/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the configuration file syntax: whatever the bytes,
 * every key handed on is 1-64 of [a-z0-9-], every value has no control
 * byte but tab and no white space at either end, and line numbers rise.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conffile.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	last_line;

static int
cb(const char *key, const char *value, int line, void *arg)
{
	size_t	klen = strlen(key), vlen = strlen(value), i;

	(void)arg;
	if (klen == 0 || klen > CONFFILE_KEY_MAX ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789-") != klen)
		abort();
	for (i = 0; i < vlen; i++)
		if (((unsigned char)value[i] < 0x20 && value[i] != '\t') ||
		    value[i] == 0x7f)
			abort();
	if (vlen > 0 && (value[0] == ' ' || value[0] == '\t' ||
	    value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
		abort();
	if (line <= last_line)
		abort();
	last_line = line;
	return 0;
}

static void
err(int line, const char *msg, void *arg)
{
	(void)msg;
	(void)arg;
	if (line <= last_line)
		abort();
	last_line = line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	last_line = 0;
	conffile_parse((const char *)data, len, cb, err, NULL);
	return 0;
}
