/* SPDX-License-Identifier: ISC */
/*
 * Per-host log files.  Every file is opened with openat() on the log folder
 * and O_NOFOLLOW, and only for names that hostname_ok() accepted, so nothing
 * is ever written outside the folder.  Lines are gathered per host and
 * written with one write() per batch on an O_APPEND descriptor; then, as
 * --sync says, made durable before the agents hear that they are stored.
 */
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "forward.h"
#include "hostlog.h"
#include "hostname.h"
#include "log.h"
#include "metrics.h"
#include "recover.h"
#include "state.h"
#include "syncer.h"
#include "xmalloc.h"

#define RETRY_SEC	1	/* a failed write is tried again */
#define ERROR_EVERY	60	/* seconds between repeats of an error */
#define RENAMED_SEC	1	/* how often renamed logs are looked for */

struct hostlog {
	TAILQ_ENTRY(hostlog)	 entry;
	TAILQ_ENTRY(hostlog)	 lru;		/* open logs, least used first */
	char			*name;
	int			 fd;
	int			 refs;
	struct buf		 pending;
	size_t			 pending_off;	/* written part of pending */
	uint64_t		 stream;
	uint64_t		 accepted;	/* appended to pending */
	uint64_t		 written;	/* write() done */
	uint64_t		 durable;	/* fdatasync done */
	int			 dirty;		/* written, not synced */
	int			 failed;	/* write failing */
	int			 offline;
	time_t			 last_error;
};

struct sync_item {
	struct hostlog	*hl;
	uint64_t	 stream;
	uint64_t	 seq;
};

static TAILQ_HEAD(, hostlog)	hostlogs = TAILQ_HEAD_INITIALIZER(hostlogs);
static TAILQ_HEAD(, hostlog)	lru = TAILQ_HEAD_INITIALIZER(lru);
static size_t			nopen, open_max;
static int			logdir_fd = -1;
static int			statedir_fd = -1;
static const char		*logdir_name;
static enum log_format		logfmt;
static enum sync_mode		syncmode;
static void			(*durable_cb)(void);
static void			(*resume_cb)(void);
static struct event		*retry_ev;	/* failed writes */
static struct event		*round_ev;	/* next sync round */
static struct event		*renamed_ev;	/* looks for rotated logs */
static struct sync_job		 job;
static struct sync_item		*items;
static size_t			 items_cap;
static int			 state_changed;
static time_t			 state_error;

static void	hostlog_round(void);
static void	hostlog_round_done(struct sync_job *);

static struct hostlog *
hostlog_find(const char *name, int create)
{
	struct hostlog	*hl;

	TAILQ_FOREACH(hl, &hostlogs, entry)
		if (strcmp(hl->name, name) == 0)
			return hl;
	if (!create)
		return NULL;
	hl = xcalloc(1, sizeof(*hl));
	hl->name = xstrdup(name);
	hl->fd = -1;
	buf_init(&hl->pending);
	TAILQ_INSERT_TAIL(&hostlogs, hl, entry);
	return hl;
}

/*
 * Opens <name>.log in the log folder: never through a symlink, never
 * blocking (a FIFO planted there must not stall the collector), and only
 * a regular file.
 */
static int
hostlog_open(const char *name, int flags)
{
	struct stat	st;
	char		path[HOSTNAME_PATH_MAX];
	int		fd;

	snprintf(path, sizeof(path), "%s.log", name);
	if ((fd = openat(logdir_fd, path, flags | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0640)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		log_warnx("%s/%s is not a regular file; not written",
		    logdir_name, path);
		return -1;
	}
	return fd;
}

static void
hostlog_close_fd(struct hostlog *hl)
{
	close(hl->fd);
	hl->fd = -1;
	TAILQ_REMOVE(&lru, hl, lru);
	nopen--;
}

/*
 * Opens hl's file for writing.  Past open_max descriptors the least
 * recently written log with nothing waiting is closed (it reopens by name
 * when its host writes again), so thousands of idle hosts do not use up
 * the descriptors the connections need.
 */
static int
hostlog_open_hl(struct hostlog *hl)
{
	struct hostlog	*old;

	if (hl->fd != -1)
		return 0;
	TAILQ_FOREACH(old, &lru, lru) {
		if (nopen < open_max)
			break;
		if (!old->dirty && old->pending.len == 0)
			hostlog_close_fd(old);
	}
	if ((hl->fd = hostlog_open(hl->name, O_WRONLY)) == -1)
		return -1;
	TAILQ_INSERT_TAIL(&lru, hl, lru);
	nopen++;
	return 0;
}

/* Marks hl as the most recently written. */
static void
hostlog_touch(struct hostlog *hl)
{
	TAILQ_REMOVE(&lru, hl, lru);
	TAILQ_INSERT_TAIL(&lru, hl, lru);
}

/* Logs an error about a host, at most once a minute per host. */
static void
hostlog_error(struct hostlog *hl, const char *what)
{
	time_t	now = time(NULL);

	if (now - hl->last_error < ERROR_EVERY)
		return;
	hl->last_error = now;
	log_warn("%s/%s.log: %s", logdir_name, hl->name, what);
}

static void
state_line_cb(const char *host, uint64_t stream, uint64_t seq, void *arg)
{
	struct hostlog	*hl = hostlog_find(host, 1);

	(void)arg;
	hl->stream = stream;
	hl->accepted = hl->written = hl->durable = seq;
}

/*
 * A log begun in the other --format: one file never mixes text and JSON,
 * so the collector refuses to start (-1, logged).
 */
static int
hostlog_format_differs(int fd, const char *name)
{
	const char	*fmt = logfmt == FORMAT_JSON ? "json" : "text";
	char		 c;

	if (pread(fd, &c, 1, 0) != 1 || (c == '{') == (logfmt == FORMAT_JSON))
		return 0;
	log_warnx("%s/%s is written in %s; this collector would write %s: "
	    "refusing to mix them in one file (start with --format %s, or "
	    "another --log-dir)", logdir_name, name, c == '{' ? "json" : "text",
	    fmt, c == '{' ? "json" : "text");
	return -1;
}

/*
 * The log ends inside a session (the collector died with the agent
 * connected): say so, so no log shows two host.connect lines in a row.
 */
static void
hostlog_close_session(int fd, const char *host)
{
	struct record	r;
	struct buf	b;

	record_init(&r);
	record_begin(&r, "host.disconnect");
	r.host = host;
	record_add_str(&r, "reason", "collector-restart");
	record_add_str(&r, "detail", "the collector stopped without closing "
	    "this link");
	buf_init(&b);
	format_record(&b, &r, logfmt);
	if (write(fd, b.data, b.len) != (ssize_t)b.len)
		log_warn("%s/%s.log: closing the last session", logdir_name,
		    host);
	buf_free(&b);
	record_free(&r);
}

/* Repairs each host log and merges what it says with the state file. */
static int
hostlog_recover(void)
{
	struct dirent	*de;
	struct recover	 rc;
	struct hostlog	*hl;
	DIR		*d;
	char		 host[HOSTNAME_MAX + 1];
	size_t		 len;
	int		 fd, dfd;

	if ((dfd = dup(logdir_fd)) == -1 || (d = fdopendir(dfd)) == NULL) {
		log_warn("%s", logdir_name);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 4 || strcmp(de->d_name + len - 4, ".log") != 0 ||
		    !hostname_ok(de->d_name, len - 4))
			continue;
		memcpy(host, de->d_name, len - 4);
		host[len - 4] = '\0';
		if ((fd = hostlog_open(host, O_RDWR)) == -1) {
			log_warn("%s/%s", logdir_name, de->d_name);
			continue;
		}
		if (hostlog_format_differs(fd, de->d_name) == -1) {
			close(fd);
			closedir(d);
			return -1;
		}
		memset(&rc, 0, sizeof(rc));
		if (recover_log(fd, de->d_name, &rc) == -1)
			log_warn("%s/%s: reading it back", logdir_name,
			    de->d_name);
		if (rc.open)
			hostlog_close_session(fd, host);
		/* What a killed collector wrote counts once it is durable. */
		if (fdatasync(fd) == -1)
			log_warn("%s/%s: fdatasync", logdir_name, de->d_name);
		close(fd);
		hl = hostlog_find(host, 1);
		/* The log is never older than the state: it is written first. */
		if (rc.have_stream && rc.stream != hl->stream) {
			hl->stream = rc.stream;
			hl->durable = 0;
		}
		if ((rc.have_stream || hl->stream != 0) &&
		    rc.last_seq > hl->durable)
			hl->durable = rc.last_seq;
		hl->accepted = hl->written = hl->durable;
		if (hl->stream != 0)
			log_debug("%s: stream %016" PRIx64 " stored up to %"
			    PRIu64, host, hl->stream, hl->durable);
	}
	closedir(d);
	return 0;
}

static void
retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	 tv = { RETRY_SEC, 0 };
	struct hostlog	*hl;
	int		 still = 0, resumed = 0;

	(void)fd;
	(void)ev;
	(void)arg;
	TAILQ_FOREACH(hl, &hostlogs, entry) {
		if (!hl->failed)
			continue;
		if (hostlog_flush(hl) == 0) {
			log_info("%s/%s.log: writing works again", logdir_name,
			    hl->name);
			resumed = 1;
		} else
			still = 1;
	}
	if (still)
		evtimer_add(retry_ev, &tv);
	if (resumed)
		resume_cb();
}

/* Reopens one log by name: a new file took its place. */
static void
hostlog_reopen(struct hostlog *hl)
{
	int	fd;

	hostlog_flush(hl);
	if ((fd = hostlog_open(hl->name, O_WRONLY)) == -1) {
		hostlog_error(hl, "reopening");
		return;
	}
	/* A round under way holds its own dup of the old file. */
	close(hl->fd);
	hl->fd = fd;
}

/*
 * Every second: a log renamed or removed under us (logrotate without a
 * signal, an admin's mv) is reopened by name, so nothing more goes to the
 * old file.
 */
static void
renamed_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	 tv = { RENAMED_SEC, 0 };
	struct hostlog	*hl;
	struct stat	 open_st, name_st;
	char		 path[HOSTNAME_PATH_MAX];

	(void)fd;
	(void)ev;
	(void)arg;
	TAILQ_FOREACH(hl, &hostlogs, entry) {
		if (hl->fd == -1 || fstat(hl->fd, &open_st) == -1)
			continue;
		snprintf(path, sizeof(path), "%s.log", hl->name);
		if (fstatat(logdir_fd, path, &name_st, AT_SYMLINK_NOFOLLOW) ==
		    0 && name_st.st_ino == open_st.st_ino &&
		    name_st.st_dev == open_st.st_dev)
			continue;
		log_info("%s/%s: renamed or removed; writing a new one",
		    logdir_name, path);
		hostlog_reopen(hl);
	}
	evtimer_add(renamed_ev, &tv);
}

static void
round_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	hostlog_round();
}

int
hostlog_init(struct event_base *base, const char *logdir,
    const char *statedir, enum log_format fmt, enum sync_mode mode,
    void (*on_durable)(void), void (*on_resume)(void))
{
	struct rlimit	rl;

	/* A quarter of the descriptors for logs, the rest for agents. */
	open_max = 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 > open_max)
		open_max = rl.rlim_cur / 4;
	logdir_name = logdir;
	logfmt = fmt;
	syncmode = mode;
	durable_cb = on_durable;
	resume_cb = on_resume;
	logdir_fd = open(logdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (logdir_fd == -1) {
		log_warn("log folder %s", logdir);
		return -1;
	}
	if (mkdir(statedir, 0700) == -1 && errno != EEXIST) {
		log_warn("state folder %s", statedir);
		return -1;
	}
	statedir_fd = open(statedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (statedir_fd == -1) {
		log_warn("state folder %s", statedir);
		return -1;
	}
	if (state_load(statedir_fd, statedir, state_line_cb, NULL) == -1 ||
	    hostlog_recover() == -1)
		return -1;
	buf_init(&job.state);
	retry_ev = evtimer_new(base, retry_cb, NULL);
	round_ev = evtimer_new(base, round_cb, NULL);
	renamed_ev = evtimer_new(base, renamed_cb, NULL);
	renamed_cb(-1, 0, NULL);
	syncer_init(base, statedir_fd, hostlog_round_done);
	return 0;
}

void
hostlog_each_host(void (*cb)(const char *))
{
	struct hostlog	*hl;

	TAILQ_FOREACH(hl, &hostlogs, entry)
		cb(hl->name);
}

struct hostlog *
hostlog_get(const char *name)
{
	struct hostlog	*hl = hostlog_find(name, 1);

	if (hostlog_open_hl(hl) == -1)
		return NULL;
	hl->refs++;
	return hl;
}

void
hostlog_put(struct hostlog *hl)
{
	if (--hl->refs > 0)
		return;
	/* A log with output waiting stays open for the retries. */
	if (hostlog_flush(hl) == 0 && !hl->dirty && hl->fd != -1)
		hostlog_close_fd(hl);
}

void
hostlog_append(struct hostlog *hl, uint64_t stream, const struct record *r)
{
	format_record(&hl->pending, r, logfmt);
	forward_record(hl->name, stream, r);
}

void
hostlog_accept(struct hostlog *hl, uint64_t stream, uint64_t seq)
{
	if (hl->stream != stream) {
		hl->stream = stream;
		hl->written = hl->durable = 0;
		state_changed = 1;
	}
	hl->accepted = seq;
}

uint64_t
hostlog_accepted(const struct hostlog *hl, uint64_t stream)
{
	return hl->stream == stream ? hl->accepted : 0;
}

uint64_t
hostlog_durable(const struct hostlog *hl, uint64_t stream)
{
	return hl->stream == stream ? hl->durable : 0;
}

const char *
hostlog_case_twin(const char *name)
{
	struct hostlog	*hl;

	TAILQ_FOREACH(hl, &hostlogs, entry)
		if (strcasecmp(hl->name, name) == 0 &&
		    strcmp(hl->name, name) != 0)
			return hl->name;
	return NULL;
}

const char *
hostlog_stream_owner(uint64_t stream)
{
	struct hostlog	*hl;

	TAILQ_FOREACH(hl, &hostlogs, entry)
		if (hl->stream == stream && stream != 0)
			return hl->name;
	return NULL;
}

int
hostlog_failed(const struct hostlog *hl)
{
	return hl->failed;
}

int
hostlog_offline(const struct hostlog *hl)
{
	return hl->offline;
}

void
hostlog_set_offline(struct hostlog *hl, int offline)
{
	hl->offline = offline;
}

/* Writes pending output; the caller decides what follows. */
static int
hostlog_write(struct hostlog *hl)
{
	ssize_t	n;

	while (hl->pending_off < hl->pending.len) {
		if (hostlog_open_hl(hl) == -1)
			return -1;
		n = write(hl->fd, hl->pending.data + hl->pending_off,
		    hl->pending.len - hl->pending_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		hl->pending_off += (size_t)n;
	}
	buf_reset(&hl->pending);
	hl->pending_off = 0;
	if (hl->fd != -1)
		hostlog_touch(hl);
	return 0;
}

int
hostlog_flush(struct hostlog *hl)
{
	struct timeval	tv = { RETRY_SEC, 0 };

	if (hl->pending.len == 0 && !hl->failed)
		return 0;
	if (hostlog_write(hl) == -1) {
		hostlog_error(hl, "write failed; holding its records back");
		if (!hl->failed)
			metrics_inc(METRIC_WRITE_ERRORS);
		hl->failed = 1;
		if (!evtimer_pending(retry_ev, NULL))
			evtimer_add(retry_ev, &tv);
		return -1;
	}
	hl->failed = 0;
	if (hl->written != hl->accepted) {
		hl->written = hl->accepted;
		state_changed = 1;
	}
	hl->dirty = 1;
	if (syncmode != SYNC_BATCH) {
		/* This log alone, here; the state file once a second. */
		if (syncmode == SYNC_ALWAYS)
			forward_sync();
		if (syncmode == SYNC_NEVER || fdatasync(hl->fd) == 0) {
			hl->durable = hl->written;
			hl->dirty = 0;
		} else
			hostlog_error(hl, "fdatasync failed");
		if (!evtimer_pending(round_ev, NULL)) {
			tv.tv_sec = 1;
			evtimer_add(round_ev, &tv);
		}
		return 0;
	}
	if (!syncer_busy() && !evtimer_pending(round_ev, NULL)) {
		/* Right after this batch of reads. */
		tv.tv_sec = 0;
		evtimer_add(round_ev, &tv);
	}
	return 0;
}

/* Makes room for item n of the job. */
static void
hostlog_job_grow(size_t n)
{
	if (n < items_cap)
		return;
	items_cap = items_cap ? items_cap * 2 : 64;
	items = xreallocarray(items, items_cap, sizeof(*items));
	job.fds = xreallocarray(job.fds, items_cap, sizeof(*job.fds));
	job.failed = xreallocarray(job.failed, items_cap, sizeof(*job.failed));
}

/*
 * Fills job with every dirty log, the forwarding queues and the state
 * file as it will be.
 */
static int
hostlog_job(void)
{
	struct hostlog	*hl;
	int		*qfds;
	size_t		 n = 0, i, nq;
	uint64_t	 seq;
	int		 fd;

	buf_reset(&job.state);
	TAILQ_FOREACH(hl, &hostlogs, entry) {
		seq = hl->durable;
		if (hl->dirty && hl->fd != -1 && (fd = dup(hl->fd)) != -1) {
			hostlog_job_grow(n);
			items[n].hl = hl;
			items[n].stream = hl->stream;
			items[n].seq = seq = hl->written;
			job.fds[n++] = fd;
			hl->dirty = 0;
		}
		if (hl->stream != 0)
			buf_printf(&job.state, "%s %016" PRIx64 " %" PRIu64 "\n",
			    hl->name, hl->stream, seq);
	}
	/* The forwarding queues: durable no later than the logs. */
	nq = forward_sync_fds(&qfds);
	for (i = 0; i < nq; i++) {
		hostlog_job_grow(n);
		items[n].hl = NULL;
		job.fds[n++] = qfds[i];
	}
	job.nfds = n;
	for (i = 0; i < n; i++)
		job.failed[i] = 0;
	if (n == 0 && !state_changed)
		return 0;
	state_changed = 0;
	return 1;
}

/* What a finished round made durable. */
static void
hostlog_round_done(struct sync_job *j)
{
	struct timeval	 tv = { RETRY_SEC, 0 };
	struct hostlog	*hl;
	size_t		 i;
	int		 again = 0, trouble = 0;
	time_t		 now;

	for (i = 0; i < j->nfds; i++) {
		hl = items[i].hl;
		if (hl == NULL) {
			if (j->failed[i] != 0) {
				errno = j->failed[i];
				log_warn("forwarding queue: fdatasync");
			}
			continue;
		}
		if (j->failed[i] != 0) {
			errno = j->failed[i];
			hostlog_error(hl, "fdatasync failed");
			hl->dirty = 1;
			trouble = 1;
		} else if (hl->stream == items[i].stream &&
		    items[i].seq > hl->durable)
			hl->durable = items[i].seq;
	}
	if (j->state_failed != 0) {
		state_changed = 1;
		now = time(NULL);
		if (now - state_error >= ERROR_EVERY) {
			errno = j->state_failed;
			log_warn("writing the state file");
			state_error = now;
		}
		trouble = 1;
	}
	durable_cb();
	TAILQ_FOREACH(hl, &hostlogs, entry)
		again |= hl->dirty;
	if (again && !evtimer_pending(round_ev, NULL)) {
		if (!trouble)
			tv.tv_sec = 0;
		evtimer_add(round_ev, &tv);
	}
}

/* Starts a sync round (in the thread, or here for --sync always). */
static void
hostlog_round(void)
{
	if (syncer_busy() || !hostlog_job())
		return;
	if (syncmode == SYNC_ALWAYS) {
		syncer_run(&job);
		hostlog_round_done(&job);
	} else
		syncer_start(&job);
}

void
hostlog_reopen_all(void)
{
	struct hostlog	*hl;

	TAILQ_FOREACH(hl, &hostlogs, entry)
		if (hl->fd != -1)
			hostlog_reopen(hl);
	log_info("log files reopened");
}

void
hostlog_shutdown(void)
{
	struct hostlog	*hl;

	syncer_shutdown();
	if (renamed_ev != NULL)
		event_free(renamed_ev);
	TAILQ_FOREACH(hl, &hostlogs, entry)
		if (hostlog_write(hl) == -1 && hl->pending.len > 0)
			hostlog_error(hl, "records lost at shutdown");
	/* The last round, here, so the state matches the logs. */
	TAILQ_FOREACH(hl, &hostlogs, entry)
		if (hl->pending.len == 0 && hl->written != hl->accepted)
			hl->written = hl->accepted;
	state_changed = 1;
	if (hostlog_job()) {
		syncer_run(&job);
		hostlog_round_done(&job);
	}
	while ((hl = TAILQ_FIRST(&hostlogs)) != NULL) {
		TAILQ_REMOVE(&hostlogs, hl, entry);
		if (hl->fd != -1)
			hostlog_close_fd(hl);
		buf_free(&hl->pending);
		free(hl->name);
		free(hl);
	}
	buf_free(&job.state);
	free(job.fds);
	free(job.failed);
	free(items);
	event_free(retry_ev);
	event_free(round_ev);
	close(logdir_fd);
	close(statedir_fd);
}
