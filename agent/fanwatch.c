/*
 * Files written to and read from USB mounts, through fanotify: one
 * notification group per mount, marked on the whole mount for
 * FAN_CLOSE_WRITE (usb.write, with the size after close) and
 * FAN_CLOSE_NOWRITE (usb.read: the file was opened without write access).
 *
 * Repeats of the same file, process and kind within a second are merged
 * into one record with a count.  The merge table holds at most PENDING_MAX
 * entries: when it is full the oldest is sent at once, so a burst of any
 * size keeps memory bounded and still reports every file.
 */
#include <sys/fanotify.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "usb.h"
#include "xmalloc.h"

#define PENDING_MAX	4096		/* merge entries held */
#define HASH_SIZE	4096		/* buckets of the merge table */
#define MERGE_US	1000000		/* the merge window */
#define READ_BUF	(64 * 1024)	/* fanotify events per read */
#define READS_PER_CB	16		/* reads per wakeup, then yield */

enum fw_kind { FW_WRITE, FW_READ };

struct watch {
	LIST_ENTRY(watch)	 entry;
	int			 mount_id;
	int			 fd;
	struct event		*ev;
	char			 mountpoint[PATH_MAX];
	struct usb_block	 blk;
};

struct pending {
	TAILQ_ENTRY(pending)	 order;		/* oldest first */
	LIST_ENTRY(pending)	 hash;
	struct watch		*w;
	enum fw_kind		 kind;
	int			 pid;
	int			 uid;
	int64_t			 first_us;
	int64_t			 size;
	int64_t			 count;
	char			 comm[32];
	size_t			 pathlen;
	char			 path[];
};

static LIST_HEAD(, watch)	 watches = LIST_HEAD_INITIALIZER(watches);
static TAILQ_HEAD(, pending)	 order = TAILQ_HEAD_INITIALIZER(order);
static LIST_HEAD(, pending)	 buckets[HASH_SIZE];
static int			 npending;
static struct event_base	*evbase;
static struct event		*flush_ev;
static uint8_t			*readbuf;
/* The last process looked up, valid for one drain: bursts come from one. */
static struct {
	int	pid;
	int	uid;
	char	comm[32];
}				 proc_cache = { .pid = -1 };

/* Sends the merged record for p and forgets it. */
static void
pending_emit(struct pending *p)
{
	struct record	 r;

	record_init(&r);
	record_begin(&r, p->kind == FW_WRITE ? "usb.write" : "usb.read");
	r.ts_us = p->first_us;
	record_add_strn(&r, "path", p->path, p->pathlen);
	if (p->kind == FW_WRITE)
		record_add_int(&r, "size", p->size);
	record_add_int(&r, "pid", p->pid);
	if (p->uid >= 0)
		record_add_int(&r, "uid", p->uid);
	record_add_strn(&r, "comm", p->comm, strlen(p->comm));
	if (p->count > 1)
		record_add_int(&r, "count", p->count);
	record_add_strn(&r, "mountpoint", p->w->mountpoint,
	    strlen(p->w->mountpoint));
	usb_ident_add(&r, &p->w->blk.ident, 0);
	agent_emit(&r);
	record_free(&r);
	TAILQ_REMOVE(&order, p, order);
	LIST_REMOVE(p, hash);
	npending--;
	free(p);
}

/* Arms the timer for the oldest entry's window end. */
static void
flush_arm(void)
{
	struct pending	*p = TAILQ_FIRST(&order);
	struct timeval	 tv;
	int64_t		 wait;

	if (p == NULL)
		return;
	wait = p->first_us + MERGE_US - record_now();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000000;
	tv.tv_usec = wait % 1000000;
	evtimer_add(flush_ev, &tv);
}

/* Sends every entry whose window has passed (all of them when force). */
static void
flush(int force)
{
	struct pending	*p;
	int64_t		 now = record_now();

	while ((p = TAILQ_FIRST(&order)) != NULL &&
	    (force || p->first_us + MERGE_US <= now))
		pending_emit(p);
	flush_arm();
}

static void
flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	flush(0);
}

/* The process's uid and command name; uid -1 when it is gone. */
static void
proc_info(int pid, int *uid, char *comm, size_t size)
{
	char	 path[64], line[256];
	FILE	*f;
	size_t	 n;

	if (pid == proc_cache.pid) {
		*uid = proc_cache.uid;
		snprintf(comm, size, "%s", proc_cache.comm);
		return;
	}
	*uid = -1;
	comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "Uid: %d", uid) == 1)
				break;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if ((f = fopen(path, "re")) != NULL) {
		n = fread(comm, 1, size - 1, f);
		comm[n] = '\0';
		if (n > 0 && comm[n - 1] == '\n')
			comm[n - 1] = '\0';
		fclose(f);
	}
	proc_cache.pid = pid;
	proc_cache.uid = *uid;
	snprintf(proc_cache.comm, sizeof(proc_cache.comm), "%s", comm);
}

/* Takes one file event: merges it into a repeat or starts an entry. */
static void
file_event(struct watch *w, enum fw_kind kind, int fd, int pid)
{
	struct pending	*p;
	struct stat	 st;
	char		 link[64], path[PATH_MAX];
	ssize_t		 len;
	uint64_t	 h;
	int64_t		 now = record_now();

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((len = readlink(link, path, sizeof(path))) <= 0) {
		log_warn("fanwatch: readlink %s", link);
		return;
	}
	h = usbid_hash(path, (size_t)len) ^ (uint64_t)pid * 31 ^ kind;
	LIST_FOREACH(p, &buckets[h % HASH_SIZE], hash) {
		if (p->pid == pid && p->kind == kind && p->w == w &&
		    p->pathlen == (size_t)len &&
		    memcmp(p->path, path, (size_t)len) == 0 &&
		    now - p->first_us < MERGE_US) {
			p->count++;
			if (kind == FW_WRITE && fstat(fd, &st) == 0)
				p->size = st.st_size;
			return;
		}
	}
	if (npending >= PENDING_MAX)
		pending_emit(TAILQ_FIRST(&order));
	p = xcalloc(1, sizeof(*p) + (size_t)len);
	p->w = w;
	p->kind = kind;
	p->pid = pid;
	p->first_us = now;
	p->count = 1;
	p->size = -1;
	if (kind == FW_WRITE && fstat(fd, &st) == 0)
		p->size = st.st_size;
	memcpy(p->path, path, (size_t)len);
	p->pathlen = (size_t)len;
	proc_info(pid, &p->uid, p->comm, sizeof(p->comm));
	LIST_INSERT_HEAD(&buckets[h % HASH_SIZE], p, hash);
	TAILQ_INSERT_TAIL(&order, p, order);
	npending++;
	if (npending == 1)
		flush_arm();
}

/* Reads what the group has queued; returns 0 when it is drained. */
static int
drain(struct watch *w, int max_reads)
{
	struct fanotify_event_metadata	*m;
	ssize_t				 n;
	int				 i;

	proc_cache.pid = -1;
	for (i = 0; i < max_reads; i++) {
		n = read(w->fd, readbuf, READ_BUF);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			if (n == -1)
				log_warn("fanwatch: read on %s",
				    w->mountpoint);
			return 0;
		}
		for (m = (struct fanotify_event_metadata *)readbuf;
		    FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			if (m->vers != FANOTIFY_METADATA_VERSION) {
				log_warnx("fanwatch: metadata version %u",
				    m->vers);
				return 0;
			}
			if (m->mask & FAN_Q_OVERFLOW)
				log_warnx("fanwatch: %s: event queue "
				    "overflow, files missed", w->mountpoint);
			if (m->fd < 0)
				continue;
			if (m->mask & FAN_CLOSE_WRITE)
				file_event(w, FW_WRITE, m->fd, m->pid);
			else if (m->mask & FAN_CLOSE_NOWRITE)
				file_event(w, FW_READ, m->fd, m->pid);
			close(m->fd);
		}
	}
	return 1;
}

static void
watch_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct watch	*w = arg;

	(void)fd;
	(void)ev;
	drain(w, READS_PER_CB);
}

int
fanwatch_add(int mount_id, const char *mountpoint, const struct usb_block *b)
{
	struct watch	*w;
	int		 fd;

	fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK |
	    FAN_UNLIMITED_QUEUE, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (fd == -1) {
		log_warn("fanwatch: fanotify_init");
		return -1;
	}
	if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_MOUNT,
	    FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE, AT_FDCWD, mountpoint) == -1) {
		log_warn("fanwatch: fanotify_mark %s", mountpoint);
		close(fd);
		return -1;
	}
	w = xcalloc(1, sizeof(*w));
	w->mount_id = mount_id;
	w->fd = fd;
	snprintf(w->mountpoint, sizeof(w->mountpoint), "%s", mountpoint);
	w->blk = *b;
	w->ev = event_new(evbase, fd, EV_READ | EV_PERSIST, watch_cb, w);
	event_add(w->ev, NULL);
	LIST_INSERT_HEAD(&watches, w, entry);
	return 0;
}

/* Stops watching w: reads what is left, sends its entries, frees it. */
static void
watch_free(struct watch *w)
{
	struct pending	*p, *next;

	while (drain(w, READS_PER_CB))
		;
	for (p = TAILQ_FIRST(&order); p != NULL; p = next) {
		next = TAILQ_NEXT(p, order);
		if (p->w == w)
			pending_emit(p);
	}
	flush_arm();
	LIST_REMOVE(w, entry);
	event_free(w->ev);
	close(w->fd);
	free(w);
}

void
fanwatch_remove(int mount_id)
{
	struct watch	*w;

	LIST_FOREACH(w, &watches, entry)
		if (w->mount_id == mount_id) {
			watch_free(w);
			return;
		}
}

void
fanwatch_init(struct event_base *base)
{
	int	i;

	evbase = base;
	for (i = 0; i < HASH_SIZE; i++)
		LIST_INIT(&buckets[i]);
	readbuf = xmalloc(READ_BUF);
	flush_ev = evtimer_new(base, flush_cb, NULL);
}

void
fanwatch_shutdown(void)
{
	struct watch	*w;

	if (flush_ev == NULL)
		return;
	flush(1);
	while ((w = LIST_FIRST(&watches)) != NULL)
		watch_free(w);
	event_free(flush_ev);
	flush_ev = NULL;
	free(readbuf);
	readbuf = NULL;
}
