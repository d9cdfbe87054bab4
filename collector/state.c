/* SPDX-License-Identifier: ISC */
/* The collector's state file: last stored sequence number per stream. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostname.h"
#include "log.h"
#include "state.h"

/* Parses one line; returns 0 or -1 with *err. */
static int
state_parse_line(char *line, char **host, uint64_t *stream, uint64_t *seq,
    const char **err)
{
	char	*s, *q, *end;

	*host = strtok_r(line, " ", &end);
	s = strtok_r(NULL, " ", &end);
	q = strtok_r(NULL, " ", &end);
	if (*host == NULL || s == NULL || q == NULL ||
	    strtok_r(NULL, " ", &end) != NULL) {
		*err = "expected HOST STREAM SEQ";
		return -1;
	}
	if (!hostname_ok(*host, strlen(*host))) {
		*err = "bad host name";
		return -1;
	}
	errno = 0;
	*stream = strtoull(s, &end, 16);
	if (strlen(s) != 16 || *end != '\0' || errno != 0) {
		*err = "stream is not 16 hex digits";
		return -1;
	}
	*seq = strtoull(q, &end, 10);
	if (*q < '0' || *q > '9' || *end != '\0' || errno != 0) {
		*err = "bad sequence number";
		return -1;
	}
	return 0;
}

int
state_load(int dirfd, const char *dirname,
    void (*cb)(const char *, uint64_t, uint64_t, void *), void *arg)
{
	FILE		*f;
	char		 line[256], *host;
	const char	*err;
	uint64_t	 stream, seq;
	size_t		 len;
	int		 fd, lineno = 0;

	if ((fd = openat(dirfd, STATE_FILE, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s/%s", dirname, STATE_FILE);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		len = strlen(line);
		if (len == 0 || line[len - 1] != '\n') {
			log_warnx("%s/%s:%d: line too long or cut",
			    dirname, STATE_FILE, lineno);
			/* Skip the rest of an overlong line. */
			while (len > 0 && line[len - 1] != '\n' &&
			    fgets(line, sizeof(line), f) != NULL)
				len = strlen(line);
			continue;
		}
		line[len - 1] = '\0';
		if (state_parse_line(line, &host, &stream, &seq, &err) == -1) {
			log_warnx("%s/%s:%d: %s", dirname, STATE_FILE, lineno,
			    err);
			continue;
		}
		cb(host, stream, seq, arg);
	}
	fclose(f);
	return 0;
}

int
state_write(int dirfd, const void *buf, size_t len)
{
	const char	*tmp = STATE_FILE ".tmp";
	ssize_t		 n;
	size_t		 off;
	int		 fd;

	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1)
		return -1;
	for (off = 0; off < len; off += (size_t)n) {
		n = write(fd, (const char *)buf + off, len - off);
		if (n == -1 && errno == EINTR)
			n = 0;
		else if (n == -1)
			goto fail;
	}
	if (fdatasync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (renameat(dirfd, tmp, dirfd, STATE_FILE) == -1)
		return -1;
	return fsync(dirfd);
fail:
	if (fd != -1)
		close(fd);
	return -1;
}
