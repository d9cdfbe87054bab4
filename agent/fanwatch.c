/* SPDX-License-Identifier: ISC */
/*
 * Files written to and read from USB mounts, through fanotify: one
 * notification group per mount, marked on its whole file system (so it
 * works from the service's own mount namespace too) for
 * FAN_CLOSE_WRITE (usb.write) and FAN_CLOSE_NOWRITE (usb.read: the file
 * was opened without write access), each with the file's size at close
 * (what fanotify can tell: how much of it a reader read, it cannot).
 *
 * Repeats of the same file, process and kind within a second are merged
 * into one record with a count (fanmerge.c).  The merge table holds at most
 * PENDING_MAX entries: when it is full the oldest is sent at once, so a
 * burst of any size keeps memory bounded and still reports every file.
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
#include "fanmerge.h"
#include "log.h"
#include "priv.h"
#include "usb.h"
#include "xmalloc.h"

#define PENDING_MAX	4096		/* merge entries held */
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

static LIST_HEAD(, watch)	 watches = LIST_HEAD_INITIALIZER(watches);
static struct fanmerge		 merge;
static struct event_base	*evbase;
static struct event		*flush_ev;
static uint8_t			*readbuf;
/* The last process looked up, valid for one drain: bursts come from one. */
static struct {
	int	pid;
	int	uid;
	char	comm[32];
}				 proc_cache = { .pid = -1 };

/* Sends the merged record for an entry leaving the merge table. */
static void
entry_emit(const struct fm_entry *e, void *arg)
{
	const struct watch	*w = e->owner;
	struct record		 r;

	(void)arg;
	record_init(&r);
	record_begin(&r, e->kind == FW_WRITE ? "usb.write" : "usb.read");
	r.ts_us = e->first_us;
	record_add_strn(&r, "path", e->path, e->pathlen);
	if (e->size >= 0)
		record_add_int(&r, "size", e->size);
	record_add_int(&r, "pid", e->pid);
	if (e->uid >= 0)
		record_add_int(&r, "uid", e->uid);
	if (e->comm[0] != '\0')
		record_add_strn(&r, "comm", e->comm, strlen(e->comm));
	if (e->count > 1)
		record_add_int(&r, "count", e->count);
	record_add_strn(&r, "mountpoint", w->mountpoint,
	    strlen(w->mountpoint));
	usb_ident_add(&r, &w->blk.ident, 0);
	usb_emit(&r);
	record_free(&r);
}

/* Arms the timer for the end of the oldest entry's window. */
static void
flush_arm(void)
{
	struct timeval	 tv;
	int64_t		 wait, deadline = fanmerge_deadline(&merge);

	if (deadline == -1)
		return;
	wait = deadline - record_now();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000000;
	tv.tv_usec = wait % 1000000;
	evtimer_add(flush_ev, &tv);
}

static void
flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	fanmerge_expire(&merge, record_now());
	flush_arm();
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
	struct fm_entry	*e;
	struct stat	 st;
	char		 link[64], path[PATH_MAX];
	ssize_t		 len;
	int		 fresh, was_empty = fanmerge_deadline(&merge) == -1;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((len = readlink(link, path, sizeof(path))) <= 0) {
		log_warn("fanwatch: readlink %s", link);
		return;
	}
	e = fanmerge_get(&merge, w, kind, pid, path, (size_t)len,
	    record_now(), &fresh);
	if (fstat(fd, &st) == 0)
		e->size = st.st_size;
	if (fresh)
		proc_info(pid, &e->uid, e->comm, sizeof(e->comm));
	if (was_empty)
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
			/* The kernel merges queued events of one file and
			 * process, so one event may be a write and a read. */
			if (m->mask & FAN_CLOSE_WRITE)
				file_event(w, FW_WRITE, m->fd, m->pid);
			if (m->mask & FAN_CLOSE_NOWRITE)
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
	char		 why[PRIV_WHY_MAX];
	int		 fd;

	/* The group and its mark come from the privileged parent. */
	if ((fd = priv_fanotify(mount_id, mountpoint, why, sizeof(why))) ==
	    -1) {
		health_degraded("files", why);
		return -1;
	}
	health_recovered("files");
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
	while (drain(w, READS_PER_CB))
		;
	fanmerge_drop_owner(&merge, w);
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
	evbase = base;
	fanmerge_init(&merge, PENDING_MAX, MERGE_US, entry_emit, NULL);
	readbuf = xmalloc(READ_BUF);
	flush_ev = evtimer_new(base, flush_cb, NULL);
}

void
fanwatch_shutdown(void)
{
	struct watch	*w;

	if (flush_ev == NULL)
		return;
	while ((w = LIST_FIRST(&watches)) != NULL)
		watch_free(w);
	fanmerge_free(&merge);
	event_free(flush_ev);
	flush_ev = NULL;
	free(readbuf);
	readbuf = NULL;
}
