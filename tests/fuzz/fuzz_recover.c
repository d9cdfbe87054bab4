/*
 * libFuzzer harness for the collector's start-up readers: a host log's
 * tail (collector/recover.c: recover_scan in memory, recover_log on a
 * file it may cut) and the state file (collector/state.c: state_load).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzfile.h"
#include "recover.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
seen_cb(const char *host, uint64_t stream, uint64_t seq, void *arg)
{
	size_t	*n = arg;

	*n += strlen(host) + (stream ^ seq ? 1 : 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recover	 rc;
	char		 path[256], *copy;
	size_t		 n = 0;
	int		 fd, dfd;

	copy = fuzzfile_str(data, size);
	memset(&rc, 0, sizeof(rc));
	recover_scan(copy, size, &rc);
	free(copy);

	fuzzfile_write("host.log", data, size, path);
	if ((fd = open(path, O_RDWR)) == -1)
		abort();
	memset(&rc, 0, sizeof(rc));
	recover_log(fd, path, &rc);
	close(fd);

	fuzzfile_write(STATE_FILE, data, size, path);
	if ((dfd = open(fuzzfile_folder(), O_RDONLY | O_DIRECTORY)) == -1)
		abort();
	state_load(dfd, fuzzfile_folder(), seen_cb, &n);
	close(dfd);
	return 0;
}
