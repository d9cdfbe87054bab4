/* SPDX-License-Identifier: ISC */
/*
 * What the USB modules (usb.c, mounts.c, fanwatch.c) share: a USB device's
 * identity as usb.add saw it, and the block devices tied to one.
 */
#ifndef LABWATCH_USB_H
#define LABWATCH_USB_H

#include <sys/types.h>

#include <event2/event.h>

#include "record.h"
#include "usbid.h"

#define USB_STR_MAX	512	/* bytes kept of a string from a device */

struct usb_ident {
	char			syspath[USB_STR_MAX];
	char			port[64];	/* 2-1.4 */
	int			busnum;
	int			devnum;
	char			vendor_id[8];
	char			product_id[8];
	char			bcd_device[8];
	char			speed[16];	/* Mbit/s, as sysfs says */
	char			manufacturer[USB_STR_MAX];
	char			product[USB_STR_MAX];
	char			serial[USB_STR_MAX];
	char			vendor_name[USB_STR_MAX];	/* hwdb */
	char			model_name[USB_STR_MAX];	/* hwdb */
	char			device_id[USBID_LEN + 1];
	char			session[USBID_LEN + 1];	/* usb_session */
	int			id_by_port;	/* device_id includes the port */
	struct usbid_iface	ifaces[USBID_IFACES_MAX];
	int			nifaces;
	int			storage;	/* an interface is class 08 */
};

/* A block device (disk or partition) whose parent chain holds a USB device. */
struct usb_block {
	dev_t			devnum;
	char			devname[256];	/* /dev/sdb1 */
	char			fs_uuid[128];
	char			fs_label[256];
	struct usb_ident	ident;
};

/* usb.c: the USB block device with this number, or NULL. */
const struct usb_block *usb_block_find(dev_t);
/* Sends a record of the USB monitor (mounts.c, fanwatch.c). */
void	usb_emit(struct record *);
/*
 * Adds the identity fields to r: all of them when full, else device_id,
 * vendor_id, product_id and serial; and usb_session, the id of this
 * device's stay (usb.add to usb.remove) on this PC.
 */
void	usb_ident_add(struct record *, const struct usb_ident *, int);

/* mounts.c: watches /proc/self/mountinfo for USB mounts. */
void	mounts_init(struct event_base *);
/* Compares the mount table with what it was; coldplug marks first sight. */
void	mounts_rescan(int);
void	mounts_shutdown(void);

/* fanwatch.c: files written to and read from one USB mount. */
void	fanwatch_init(struct event_base *);
int	fanwatch_add(int, const char *, const struct usb_block *);
void	fanwatch_remove(int);
void	fanwatch_shutdown(void);

#endif
