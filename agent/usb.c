/* SPDX-License-Identifier: ISC */
/*
 * USB devices through libudev: a scan of what is present at start
 * (coldplug), then a udev monitor for "usb" and "block" in the event loop.
 * Remembers each reported device's identity, so usb.remove can say what
 * went although sysfs is gone, and ties block devices to their USB device
 * for mounts.c.
 */
#include <sys/queue.h>
#include <sys/sysmacros.h>

#include <event2/event.h>
#include <libudev.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "escape.h"
#include "log.h"
#include "usb.h"
#include "xmalloc.h"

#define USB_DEVICES_MAX	1024	/* devices and block devices remembered */
#define DESCRIPTORS_MAX	65536	/* bytes read of a "descriptors" file */

struct usb_dev {
	TAILQ_ENTRY(usb_dev)	 entry;
	struct usb_ident	 ident;
};

struct usb_blk {
	TAILQ_ENTRY(usb_blk)	 entry;
	char			 syspath[USB_STR_MAX];
	struct usb_block	 b;
};

static const struct agent_sink	*sink;
static TAILQ_HEAD(, usb_dev)	 devs = TAILQ_HEAD_INITIALIZER(devs);
static TAILQ_HEAD(, usb_blk)	 blks = TAILQ_HEAD_INITIALIZER(blks);
static unsigned			 sessions;	/* usb_session ids made */
static int			 ndevs, nblks;
static struct udev		*udev;
static struct udev_monitor	*mon;
static struct udev_hwdb		*hwdb;
static struct event		*mon_ev;
static struct buf		 logbuf;

#define IDENT_STR(f)	offsetof(struct usb_ident, f), \
			sizeof(((struct usb_ident *)NULL)->f)

/* The identity strings read from sysfs as they are. */
static const struct {
	const char	*name;
	size_t		 off;
	size_t		 size;
} sysattrs[] = {
	{ "idVendor", IDENT_STR(vendor_id) },
	{ "idProduct", IDENT_STR(product_id) },
	{ "bcdDevice", IDENT_STR(bcd_device) },
	{ "speed", IDENT_STR(speed) },
	{ "manufacturer", IDENT_STR(manufacturer) },
	{ "product", IDENT_STR(product) },
	{ "serial", IDENT_STR(serial) },
};

/* Copies a possibly NULL string into dst, cut to fit. */
static void
copy_str(char *dst, size_t size, const char *src)
{
	size_t	len;

	if (src == NULL)
		src = "";
	len = strnlen(src, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* A sysfs number such as busnum; -1 when missing or not a number. */
static int
attr_int(struct udev_device *d, const char *name)
{
	const char	*s = udev_device_get_sysattr_value(d, name);
	char		*end;
	long		 v;

	if (s == NULL)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno != 0 || v < 0 || v > 65535)
		return -1;
	while (*end == '\n' || *end == ' ')
		end++;
	return *end == '\0' ? (int)v : -1;
}

/* A name from the hardware database: udev's property, else our query. */
static void
hwdb_name(struct udev_device *d, const char *prop, char *dst, size_t size)
{
	struct udev_list_entry	*e;
	const char		*v, *mod;

	if ((v = udev_device_get_property_value(d, prop)) != NULL) {
		copy_str(dst, size, v);
		return;
	}
	dst[0] = '\0';
	if (hwdb == NULL ||
	    (mod = udev_device_get_sysattr_value(d, "modalias")) == NULL)
		return;
	udev_list_entry_foreach(e, udev_hwdb_get_properties_list_entry(hwdb,
	    mod, 0)) {
		if (strcmp(udev_list_entry_get_name(e), prop) == 0)
			copy_str(dst, size, udev_list_entry_get_value(e));
	}
}

/* Reads the interface classes from sysfs "descriptors", else from udev. */
static void
read_ifaces(struct udev_device *d, struct usb_ident *id)
{
	uint8_t		*data;
	const char	*prop;
	char		*path;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	id->nifaces = -1;
	xasprintf(&path, "%s/descriptors", udev_device_get_syspath(d));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		data = xmalloc(DESCRIPTORS_MAX);
		while (len < DESCRIPTORS_MAX && (n = read(fd, data + len,
		    DESCRIPTORS_MAX - len)) > 0)
			len += (size_t)n;
		close(fd);
		id->nifaces = usbid_parse_descriptors(data, len, id->ifaces,
		    USBID_IFACES_MAX);
		free(data);
		if (id->nifaces == -1)
			log_warnx("usb: %s: descriptors of %zu bytes without a "
			    "device descriptor, ignored", escape_cstr(&logbuf,
			    id->syspath, strlen(id->syspath)), len);
	}
	free(path);
	if (id->nifaces <= 0 && (prop = udev_device_get_property_value(d,
	    "ID_USB_INTERFACES")) != NULL)
		id->nifaces = usbid_parse_interfaces(prop, id->ifaces,
		    USBID_IFACES_MAX);
	if (id->nifaces < 0)
		id->nifaces = 0;
	id->storage = usbid_has_class(id->ifaces, id->nifaces, 0x08);
}

/* Is this a device the admin marked with LABWATCH_IGNORE=1? */
static int
ignored(struct udev_device *d)
{
	const char	*v = udev_device_get_property_value(d,
			    "LABWATCH_IGNORE");

	return v != NULL && strcmp(v, "1") == 0;
}

static struct usb_dev *
dev_find(const char *syspath)
{
	struct usb_dev	*u;

	TAILQ_FOREACH(u, &devs, entry)
		if (strcmp(u->ident.syspath, syspath) == 0)
			return u;
	return NULL;
}

/* Adds a NUL-terminated string as it is; the formatter escapes it. */
static void
add_str(struct record *r, const char *key, const char *s)
{
	record_add_strn(r, key, s, strlen(s));
}

void
usb_ident_add(struct record *r, const struct usb_ident *id, int full)
{
	int	i;
	char	t[16];

	/* Who the device is first; where it sits after. */
	add_str(r, "device_id", id->device_id);
	add_str(r, "vendor_id", id->vendor_id);
	add_str(r, "product_id", id->product_id);
	if (full) {
		add_str(r, "manufacturer", id->manufacturer);
		add_str(r, "product", id->product);
	}
	add_str(r, "serial", id->serial);
	add_str(r, "usb_session", id->session);
	if (!full)
		return;
	if (id->vendor_name[0] != '\0')
		add_str(r, "vendor_name", id->vendor_name);
	if (id->model_name[0] != '\0')
		add_str(r, "model_name", id->model_name);
	add_str(r, "syspath", id->syspath);
	add_str(r, "port", id->port);
	if (id->busnum >= 0)
		record_add_int(r, "busnum", id->busnum);
	if (id->devnum >= 0)
		record_add_int(r, "devnum", id->devnum);
	add_str(r, "speed", id->speed);
	add_str(r, "bcd_device", id->bcd_device);
	record_add_list(r, "interfaces");
	for (i = 0; i < id->nifaces; i++) {
		snprintf(t, sizeof(t), "%02x/%02x/%02x", id->ifaces[i].cls,
		    id->ifaces[i].subcls, id->ifaces[i].proto);
		record_list_add(r, t, strlen(t));
	}
	record_add_bool(r, "storage", id->storage);
}

/* Sends usb.add or usb.remove for a device. */
static void
emit_dev(const char *event, const struct usb_ident *id, int coldplug)
{
	struct record	r;

	record_init(&r);
	record_begin(&r, event);
	usb_ident_add(&r, id, 1);
	if (coldplug)
		record_add_bool(&r, "coldplug", 1);
	usb_emit(&r);
	record_free(&r);
}

/* A USB device appeared: remember and report it unless it is a hub. */
static struct usb_dev *
dev_add(struct udev_device *d, int coldplug)
{
	struct usb_ident	*id;
	struct usb_dev		*u;
	const char		*syspath = udev_device_get_syspath(d);
	const char		*cls, *sysname = udev_device_get_sysname(d);
	size_t			 i;

	if ((u = dev_find(syspath)) != NULL)
		return u;
	/* Root hubs are "usbN"; real ports are "B-P[.P...]". */
	if (strchr(sysname, '-') == NULL)
		return NULL;
	cls = udev_device_get_sysattr_value(d, "bDeviceClass");
	if (cls != NULL && strncmp(cls, "09", 2) == 0)
		return NULL;
	if (ignored(d)) {
		log_debug("usb: %s: LABWATCH_IGNORE set, not reported",
		    escape_cstr(&logbuf, syspath, strlen(syspath)));
		return NULL;
	}
	if (ndevs >= USB_DEVICES_MAX) {
		log_warnx("usb: more than %d devices, %s not reported",
		    USB_DEVICES_MAX, escape_cstr(&logbuf, syspath,
		    strlen(syspath)));
		return NULL;
	}
	u = xcalloc(1, sizeof(*u));
	id = &u->ident;
	copy_str(id->syspath, sizeof(id->syspath), syspath);
	copy_str(id->port, sizeof(id->port), sysname);
	id->busnum = attr_int(d, "busnum");
	id->devnum = attr_int(d, "devnum");
	for (i = 0; i < sizeof(sysattrs) / sizeof(sysattrs[0]); i++)
		copy_str((char *)id + sysattrs[i].off, sysattrs[i].size,
		    udev_device_get_sysattr_value(d, sysattrs[i].name));
	hwdb_name(d, "ID_VENDOR_FROM_DATABASE", id->vendor_name,
	    sizeof(id->vendor_name));
	hwdb_name(d, "ID_MODEL_FROM_DATABASE", id->model_name,
	    sizeof(id->model_name));
	read_ifaces(d, id);
	id->id_by_port = usbid_device_id(id->device_id, id->vendor_id,
	    id->product_id, id->serial, id->port);
	/* Unique on this PC: the time in µs, a counter in the low bits. */
	snprintf(id->session, sizeof(id->session), "%016llx",
	    (unsigned long long)((uint64_t)record_now() << 8 |
	    (uint8_t)++sessions));
	TAILQ_INSERT_TAIL(&devs, u, entry);
	ndevs++;
	emit_dev("usb.add", id, coldplug);
	return u;
}

static void
blk_free(struct usb_blk *k)
{
	TAILQ_REMOVE(&blks, k, entry);
	nblks--;
	free(k);
}

/* A USB device went: report it with what usb.add saw, forget it. */
static void
dev_remove(const char *syspath)
{
	struct usb_dev	*u;
	struct usb_blk	*k, *next;

	if ((u = dev_find(syspath)) == NULL)
		return;
	for (k = TAILQ_FIRST(&blks); k != NULL; k = next) {
		next = TAILQ_NEXT(k, entry);
		if (strcmp(k->b.ident.syspath, syspath) == 0)
			blk_free(k);
	}
	emit_dev("usb.remove", &u->ident, 0);
	TAILQ_REMOVE(&devs, u, entry);
	ndevs--;
	free(u);
}

static struct usb_blk *
blk_find(const char *syspath)
{
	struct usb_blk	*k;

	TAILQ_FOREACH(k, &blks, entry)
		if (strcmp(k->syspath, syspath) == 0)
			return k;
	return NULL;
}

const struct usb_block *
usb_block_find(dev_t devnum)
{
	struct usb_blk	*k;

	TAILQ_FOREACH(k, &blks, entry)
		if (k->b.devnum == devnum)
			return &k->b;
	return NULL;
}

/* A block device appeared or changed: tie it to its USB device. */
static void
blk_add(struct udev_device *d, int coldplug)
{
	struct udev_device	*p;
	struct usb_dev		*u;
	struct usb_blk		*k;
	const char		*syspath = udev_device_get_syspath(d);

	if (udev_device_get_devnum(d) == makedev(0, 0)) {
		log_debug("usb: block %s without a device number, ignored",
		    escape_cstr(&logbuf, syspath, strlen(syspath)));
		return;
	}
	p = udev_device_get_parent_with_subsystem_devtype(d, "usb",
	    "usb_device");
	if (p == NULL)
		return;
	/* The parent's own event may come later (or never, when it was
	 * announced before we started): take it now. */
	if ((u = dev_add(p, coldplug)) == NULL)
		return;
	if ((k = blk_find(syspath)) == NULL) {
		if (nblks >= USB_DEVICES_MAX) {
			log_warnx("usb: more than %d block devices",
			    USB_DEVICES_MAX);
			return;
		}
		k = xcalloc(1, sizeof(*k));
		copy_str(k->syspath, sizeof(k->syspath), syspath);
		TAILQ_INSERT_TAIL(&blks, k, entry);
		nblks++;
	}
	k->b.devnum = udev_device_get_devnum(d);
	copy_str(k->b.devname, sizeof(k->b.devname),
	    udev_device_get_devnode(d));
	copy_str(k->b.fs_uuid, sizeof(k->b.fs_uuid),
	    udev_device_get_property_value(d, "ID_FS_UUID"));
	copy_str(k->b.fs_label, sizeof(k->b.fs_label),
	    udev_device_get_property_value(d, "ID_FS_LABEL"));
	k->b.ident = u->ident;
	log_debug("usb: block %u:%u (%s) is on %s", major(k->b.devnum),
	    minor(k->b.devnum), escape_cstr(&logbuf, k->b.devname,
	    strlen(k->b.devname)), u->ident.device_id);
}

/* Handles one device from the scan or the monitor. */
static void
handle(struct udev_device *d, const char *action, int coldplug)
{
	const char	*subsys = udev_device_get_subsystem(d);
	const char	*devtype = udev_device_get_devtype(d);
	const char	*syspath = udev_device_get_syspath(d);
	struct usb_blk	*k;

	if (subsys == NULL || syspath == NULL)
		return;
	if (strcmp(subsys, "usb") == 0) {
		if (devtype == NULL || strcmp(devtype, "usb_device") != 0)
			return;
		if (strcmp(action, "add") == 0)
			dev_add(d, coldplug);
		else if (strcmp(action, "remove") == 0)
			dev_remove(syspath);
	} else if (strcmp(subsys, "block") == 0) {
		if (strcmp(action, "add") == 0 ||
		    strcmp(action, "change") == 0) {
			blk_add(d, coldplug);
			if (!coldplug)
				mounts_rescan(0);
		} else if (strcmp(action, "remove") == 0 &&
		    (k = blk_find(syspath)) != NULL)
			blk_free(k);
	}
}

static void
monitor_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct udev_device	*d;
	const char		*action;
	int			 i;

	(void)fd;
	(void)ev;
	(void)arg;
	/* A bounded batch per wakeup; the rest waits for the next one. */
	for (i = 0; i < 256; i++) {
		if ((d = udev_monitor_receive_device(mon)) == NULL)
			break;
		if ((action = udev_device_get_action(d)) != NULL)
			handle(d, action, 0);
		udev_device_unref(d);
	}
}

/* Reports what is present now: USB devices first, then block devices. */
static void
scan(const char *subsys)
{
	struct udev_enumerate	*en;
	struct udev_list_entry	*e;
	struct udev_device	*d;

	if ((en = udev_enumerate_new(udev)) == NULL)
		fatalx("usb: udev_enumerate_new");
	udev_enumerate_add_match_subsystem(en, subsys);
	if (udev_enumerate_scan_devices(en) < 0)
		log_warnx("usb: cannot scan %s devices", subsys);
	udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
		d = udev_device_new_from_syspath(udev,
		    udev_list_entry_get_name(e));
		if (d == NULL)
			continue;
		handle(d, "add", 1);
		udev_device_unref(d);
	}
	udev_enumerate_unref(en);
}

void
usb_emit(struct record *r)
{
	sink->emit(r);
}

void
usb_init(struct event_base *base, const struct agent_conf *conf,
    const struct agent_sink *s)
{
	(void)conf;
	sink = s;
	buf_init(&logbuf);
	if ((udev = udev_new()) == NULL)
		fatalx("usb: udev_new");
	hwdb = udev_hwdb_new(udev);	/* NULL without hwdb.bin: fine */
	/* Without the monitor, what is present is still reported, loudly. */
	if ((mon = udev_monitor_new_from_netlink(udev, "udev")) == NULL ||
	    udev_monitor_filter_add_match_subsystem_devtype(mon, "usb",
	    "usb_device") < 0 ||
	    udev_monitor_filter_add_match_subsystem_devtype(mon, "block",
	    NULL) < 0 || udev_monitor_enable_receiving(mon) < 0) {
		health_degraded("usb", "cannot start the udev monitor: "
		    "devices plugged in from now on are not seen");
		if (mon != NULL)
			udev_monitor_unref(mon);
		mon = NULL;
	} else {
		/* Large enough for a burst of plugs while the loop is busy. */
		udev_monitor_set_receive_buffer_size(mon, 4 * 1024 * 1024);
		mon_ev = event_new(base, udev_monitor_get_fd(mon),
		    EV_READ | EV_PERSIST, monitor_cb, NULL);
		event_add(mon_ev, NULL);
	}
	fanwatch_init(base);
	mounts_init(base);
	scan("usb");
	scan("block");
	mounts_rescan(1);
	log_info("usb: watching; %d devices, %d block devices present",
	    ndevs, nblks);
}

void
usb_shutdown(void)
{
	struct usb_dev	*u;
	struct usb_blk	*k;

	if (udev == NULL)
		return;
	mounts_shutdown();
	fanwatch_shutdown();
	if (mon_ev != NULL)
		event_free(mon_ev);
	if (mon != NULL)
		udev_monitor_unref(mon);
	mon_ev = NULL;
	mon = NULL;
	if (hwdb != NULL)
		udev_hwdb_unref(hwdb);
	udev_unref(udev);
	udev = NULL;
	while ((k = TAILQ_FIRST(&blks)) != NULL)
		blk_free(k);
	while ((u = TAILQ_FIRST(&devs)) != NULL) {
		TAILQ_REMOVE(&devs, u, entry);
		free(u);
	}
	ndevs = 0;
	buf_free(&logbuf);
}
