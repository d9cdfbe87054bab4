/* SPDX-License-Identifier: ISC */
/*
 * The lab-wide view, in the event loop: records that concern the whole lab
 * go to <log-dir>/lab.log (host "lab"), the index and whoever hooked them
 * (the dashboard).  From the agents' records it makes lab.device.new (a
 * device new to the lab, after a short window that gathers the PCs that
 * saw it), lab.usb.session (a USB session's totals at usb.remove),
 * lab.usb.moved (a stick seen on a second PC) and lab.transfer (one LAN
 * conversation seen by the agents at both ends); it keeps the known and
 * ignored marks.
 */
#ifndef LABWATCH_LAB_H
#define LABWATCH_LAB_H

#include <event2/event.h>

#include "buf.h"
#include "index.h"
#include "record.h"

#define LAB_HOST		"lab"	/* the lab log: <log-dir>/lab.log */
#define LAB_DEVICE_WINDOW	3	/* seconds gathering a device's PCs */
#define LAB_TRANSFER_WINDOW	120	/* seconds the two ends may differ */

void	lab_init(struct event_base *);
/* Writes a lab record (its host becomes "lab") to lab.log and the index. */
void	lab_emit(struct record *);
/* Called with every lab record after lab_emit wrote it (NULL: none). */
void	lab_hook(void (*)(const struct record *, void *), void *);
/* A record stored for host (from session.c, next to alert_record). */
void	lab_record(const char *, const struct record *);
/* A device row from the index at start (index_open's callback). */
void	lab_device_load(const struct index_device *, void *);
/*
 * Marks a device (labwatchctl known/ignore/forget, the dashboard): 0, or
 * -1 with why in msg (a bad MAC, no such device to forget).  who: "uid 0".
 */
int	lab_mark(enum index_kind, const char *, enum index_mark, const char *,
	    const char *, char *, size_t);
/*
 * Appends the devices of kind as a JSON array; filter: -1 all, else only
 * those with that mark.
 */
void	lab_devices_json(struct buf *, enum index_kind, int);
/* Whether the device (MAC or device_id) is marked known. */
int	lab_known(const char *);
void	lab_shutdown(void);

#endif
