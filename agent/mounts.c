/* SPDX-License-Identifier: ISC */
/*
 * USB mounts: /proc/self/mountinfo is watched for change (the kernel flags
 * POLLPRI/POLLERR on it after every mount and unmount; a small epoll set
 * holding it is the event in the libevent loop).  A mount is USB when its
 * major:minor belongs to a block device usb.c tied to a USB device.
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "mountinfo.h"
#include "usb.h"
#include "xmalloc.h"

#define MOUNTINFO_MAX	(64 * 1024 * 1024)	/* bytes of mountinfo read */

struct usb_mount {
	TAILQ_ENTRY(usb_mount)	 entry;
	struct mountinfo	 mi;
	struct usb_block	 blk;
	int			 seen;
};

static TAILQ_HEAD(, usb_mount)	 mounts = TAILQ_HEAD_INITIALIZER(mounts);
static int			 mi_fd = -1, ep_fd = -1;
static struct event		*mi_ev;
static struct buf		 text;

/* Sends usb.mount or usb.unmount. */
static void
emit_mount(const char *event, const struct usb_mount *m, int coldplug)
{
	struct record	 r;
	const char	*dev = m->blk.devname[0] != '\0' ? m->blk.devname :
			    m->mi.source;

	record_init(&r);
	record_begin(&r, event);
	record_add_strn(&r, "device", dev, strlen(dev));
	record_add_strn(&r, "mountpoint", m->mi.mountpoint,
	    strlen(m->mi.mountpoint));
	record_add_strn(&r, "fstype", m->mi.fstype, strlen(m->mi.fstype));
	record_add_strn(&r, "fs_uuid", m->blk.fs_uuid,
	    strlen(m->blk.fs_uuid));
	record_add_strn(&r, "fs_label", m->blk.fs_label,
	    strlen(m->blk.fs_label));
	usb_ident_add(&r, &m->blk.ident, 1);
	if (coldplug)
		record_add_bool(&r, "coldplug", 1);
	usb_emit(&r);
	record_free(&r);
}

/* Reads the whole mount table into text; -1 on error. */
static int
read_mountinfo(void)
{
	ssize_t	n;

	buf_reset(&text);
	if (lseek(mi_fd, 0, SEEK_SET) == -1)
		return -1;
	for (;;) {
		if (text.len >= MOUNTINFO_MAX) {
			log_warnx("mounts: mountinfo larger than %d bytes",
			    MOUNTINFO_MAX);
			break;
		}
		buf_reserve(&text, 65536);
		n = read(mi_fd, text.data + text.len, text.cap - text.len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		text.len += (size_t)n;
	}
	return 0;
}

static struct usb_mount *
mount_find(int id)
{
	struct usb_mount	*m;

	TAILQ_FOREACH(m, &mounts, entry)
		if (m->mi.id == id)
			return m;
	return NULL;
}

void
mounts_rescan(int coldplug)
{
	struct usb_mount	*m, *next;
	struct mountinfo	*mi;
	const struct usb_block	*b;
	const char		*p, *nl, *end;

	if (mi_fd == -1 || read_mountinfo() == -1) {
		if (mi_fd != -1)
			log_warn("mounts: /proc/self/mountinfo");
		return;
	}
	TAILQ_FOREACH(m, &mounts, entry)
		m->seen = 0;
	mi = xmalloc(sizeof(*mi));
	end = (const char *)text.data + text.len;
	for (p = (const char *)text.data; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (mountinfo_parse(p, (size_t)(nl - p), mi) == -1) {
			log_debug("mounts: unparsable mountinfo line");
			continue;
		}
		if ((m = mount_find(mi->id)) != NULL) {
			m->seen = 1;
			continue;
		}
		if ((b = usb_block_find(makedev(mi->major, mi->minor))) ==
		    NULL)
			continue;
		m = xcalloc(1, sizeof(*m));
		m->mi = *mi;
		m->blk = *b;
		m->seen = 1;
		TAILQ_INSERT_TAIL(&mounts, m, entry);
		emit_mount("usb.mount", m, coldplug);
		if (fanwatch_add(m->mi.id, m->mi.mountpoint, &m->blk) == -1)
			log_warnx("mounts: no file events for mount %d",
			    m->mi.id);
	}
	free(mi);
	for (m = TAILQ_FIRST(&mounts); m != NULL; m = next) {
		next = TAILQ_NEXT(m, entry);
		if (m->seen)
			continue;
		fanwatch_remove(m->mi.id);
		emit_mount("usb.unmount", m, 0);
		TAILQ_REMOVE(&mounts, m, entry);
		free(m);
	}
}

static void
mountinfo_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct epoll_event	e[1];

	(void)ev;
	(void)arg;
	/* Takes the readiness off the inner set, then looks. */
	(void)epoll_wait(fd, e, 1, 0);
	mounts_rescan(0);
}

void
mounts_init(struct event_base *base)
{
	struct epoll_event	e;

	buf_init(&text);
	if ((mi_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)) ==
	    -1) {
		log_warn("mounts: /proc/self/mountinfo; no mount events");
		return;
	}
	if ((ep_fd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("mounts: epoll_create1");
	memset(&e, 0, sizeof(e));
	e.events = EPOLLPRI | EPOLLERR;
	if (epoll_ctl(ep_fd, EPOLL_CTL_ADD, mi_fd, &e) == -1)
		fatal("mounts: epoll_ctl mountinfo");
	mi_ev = event_new(base, ep_fd, EV_READ | EV_PERSIST, mountinfo_cb,
	    NULL);
	event_add(mi_ev, NULL);
}

void
mounts_shutdown(void)
{
	struct usb_mount	*m;

	while ((m = TAILQ_FIRST(&mounts)) != NULL) {
		TAILQ_REMOVE(&mounts, m, entry);
		free(m);
	}
	if (mi_ev != NULL)
		event_free(mi_ev);
	mi_ev = NULL;
	if (ep_fd != -1)
		close(ep_fd);
	if (mi_fd != -1)
		close(mi_fd);
	ep_fd = mi_fd = -1;
	buf_free(&text);
}
