/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for collector/logline.c: the input as one log line,
 * text or JSON (what labwatchctl reindex reads back); what parses is
 * written again (format.c) and must parse again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "format.h"
#include "logline.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record	 r, again;
	struct buf	 out;
	const char	*err;
	char		 host[256];
	int		 fmt;

	record_init(&r);
	record_init(&again);
	buf_init(&out);
	if (logline_parse((const char *)data, size, &r, host, sizeof(host),
	    &err) == 0) {
		r.host = host;
		for (fmt = FORMAT_TEXT; fmt <= FORMAT_JSON; fmt++) {
			buf_reset(&out);
			format_record(&out, &r, (enum log_format)fmt);
			if (logline_parse((const char *)out.data, out.len,
			    &again, host, sizeof(host), &err) != 0)
				abort();
		}
	}
	buf_free(&out);
	record_free(&r);
	record_free(&again);
	return 0;
}
