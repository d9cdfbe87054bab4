/*
 * Per-host log files.  Every file is opened with openat() on the log folder
 * and O_NOFOLLOW, and only for names that hostname_ok() accepted, so nothing
 * is ever written outside the folder.  Lines are gathered per host and
 * written with one write() per batch on an O_APPEND descriptor.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "hostlog.h"
#include "hostname.h"
#include "log.h"
#include "xmalloc.h"

struct hostlog {
	TAILQ_ENTRY(hostlog)	 entry;
	char			*name;
	int			 fd;
	int			 refs;
	struct buf		 pending;
	uint64_t		 stream;	/* stream of last_seq */
	uint64_t		 last_seq;
	time_t			 last_error;	/* when we last logged one */
};

static TAILQ_HEAD(, hostlog)	hostlogs = TAILQ_HEAD_INITIALIZER(hostlogs);
static int			logdir_fd = -1;
static enum log_format		logfmt;

int
hostlog_init(const char *dir, enum log_format fmt)
{
	logdir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (logdir_fd == -1) {
		log_warn("log folder %s", dir);
		return -1;
	}
	logfmt = fmt;
	return 0;
}

static int
hostlog_open(const char *name)
{
	char	path[HOSTNAME_PATH_MAX];

	snprintf(path, sizeof(path), "%s.log", name);
	return openat(logdir_fd, path,
	    O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
}

struct hostlog *
hostlog_get(const char *name)
{
	struct hostlog	*hl;
	int		 fd;

	TAILQ_FOREACH(hl, &hostlogs, entry) {
		if (strcmp(hl->name, name) != 0)
			continue;
		if (hl->fd == -1 && (hl->fd = hostlog_open(name)) == -1)
			return NULL;
		hl->refs++;
		return hl;
	}
	if ((fd = hostlog_open(name)) == -1)
		return NULL;
	hl = xcalloc(1, sizeof(*hl));
	hl->name = xstrdup(name);
	hl->fd = fd;
	hl->refs = 1;
	buf_init(&hl->pending);
	TAILQ_INSERT_TAIL(&hostlogs, hl, entry);
	return hl;
}

void
hostlog_put(struct hostlog *hl)
{
	if (--hl->refs > 0)
		return;
	/*
	 * Keep the entry (and its stream position) while the host is away;
	 * only the descriptor and the buffer go.
	 */
	hostlog_flush(hl);
	buf_free(&hl->pending);
	if (hl->fd != -1)
		close(hl->fd);
	hl->fd = -1;
}

void
hostlog_append(struct hostlog *hl, const struct record *r)
{
	format_record(&hl->pending, r, logfmt);
}

int
hostlog_flush(struct hostlog *hl)
{
	size_t	 off = 0;
	ssize_t	 n;
	time_t	 now;

	if (hl->fd == -1 && hl->pending.len > 0 &&
	    (hl->fd = hostlog_open(hl->name)) == -1)
		goto fail;
	while (off < hl->pending.len) {
		n = write(hl->fd, hl->pending.data + off,
		    hl->pending.len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	buf_reset(&hl->pending);
	return 0;
fail:
	now = time(NULL);
	if (now - hl->last_error >= 60) {
		log_warn("%s.log: write failed", hl->name);
		hl->last_error = now;
	}
	buf_reset(&hl->pending);
	return -1;
}

void
hostlog_reopen_all(void)
{
	struct hostlog	*hl;
	int		 fd;

	TAILQ_FOREACH(hl, &hostlogs, entry) {
		if (hl->fd == -1)
			continue;
		hostlog_flush(hl);
		if ((fd = hostlog_open(hl->name)) == -1) {
			log_warn("reopening %s.log", hl->name);
			continue;
		}
		close(hl->fd);
		hl->fd = fd;
	}
	log_info("log files reopened");
}

void
hostlog_shutdown(void)
{
	struct hostlog	*hl;

	while ((hl = TAILQ_FIRST(&hostlogs)) != NULL) {
		TAILQ_REMOVE(&hostlogs, hl, entry);
		if (hl->fd != -1) {
			hostlog_flush(hl);
			close(hl->fd);
		}
		buf_free(&hl->pending);
		free(hl->name);
		free(hl);
	}
	if (logdir_fd != -1)
		close(logdir_fd);
	logdir_fd = -1;
}

uint64_t
hostlog_last_seq(struct hostlog *hl, uint64_t stream)
{
	return hl->stream == stream ? hl->last_seq : 0;
}

void
hostlog_set_seq(struct hostlog *hl, uint64_t stream, uint64_t seq)
{
	hl->stream = stream;
	hl->last_seq = seq;
}
