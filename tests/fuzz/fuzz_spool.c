/*
 * libFuzzer harness for the agent's spool as found at start (agent/
 * spool.c): the input's first two bytes give the length of a drops file,
 * the rest is a segment file (with a good stream file beside it, so the
 * segment is kept); spool_open scans, checks and repairs them, then every
 * frame it keeps is read back.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "fuzzfile.h"
#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Empties the folder (flat) so each input starts from nothing. */
static void
empty(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	char		 path[512];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer	*out;
	struct spool	*sp;
	char		 path[256];
	uint64_t	 stream;
	size_t		 n;

	if (fuzzfile_split(&data, &size, &n) == -1)
		return 0;
	empty(fuzzfile_folder());
	fuzzfile_write("stream", "00000000000000ab\n", 17, path);
	fuzzfile_write("drops", data, n, path);
	fuzzfile_write("0000000000000001.seg", data + n, size - n, path);
	if ((sp = spool_open(fuzzfile_folder(), 1 << 20, 0, &stream)) == NULL)
		return 0;
	out = evbuffer_new();
	while (spool_read(sp, out, 65536) > 0)
		evbuffer_drain(out, evbuffer_get_length(out));
	evbuffer_free(out);
	spool_close(sp);
	return 0;
}
