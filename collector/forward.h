/* SPDX-License-Identifier: ISC */
/*
 * Forwarding: every record the collector writes to a host log or lab.log
 * also goes to each configured output, through that output's own queue on
 * disk (<state-dir>/forward/NAME/, the agent spool's design), so a slow or
 * absent downstream never blocks the loop nor delays an agent's ACK:
 *
 *   forward NAME TYPE ARG... [format json|ecs] [queue BYTES] [OPTION VALUE]...
 *
 * forward.c owns the queues and parses NAME, TYPE, "format" and "queue";
 * an output type (fwd_syslog.c, fwd_kafka.c) is a struct fwd_driver that
 * parses the rest of its line, talks to its downstream and tells the queue
 * which records are delivered.  Delivery is at least once: after a crash or
 * a lost connection the records not yet reported delivered are sent again,
 * each with the same identity (host, stream, seq), so a downstream can drop
 * the duplicates.
 */
#ifndef LABWATCH_FORWARD_H
#define LABWATCH_FORWARD_H

#include <event2/event.h>

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define FWD_NAME_MAX	32	/* [a-z0-9_-], the queue's folder name */
#define FWD_ARGS_MAX	32	/* words after TYPE */

enum fwd_format {
	FWD_JSON,	/* the collector's JSON line, plus "record_id" */
	FWD_ECS,	/* Elastic Common Schema JSON (ecs.c) */
};

/* One record as the queue hands it to an output; valid during send only. */
struct fwd_record {
	uint64_t	 qseq;		/* the queue's number: for fwd_delivered */
	const char	*host;		/* the PC, or "lab"; the Kafka key */
	uint64_t	 stream;	/* identity: (host, stream, seq) */
	uint64_t	 seq;
	const char	*id;		/* "HOST/STREAM/SEQ", stream in hex */
	const struct record *rec;	/* decoded: event, ts_us, fields */
	const char	*payload;	/* rec in the output's format, JSON, */
	size_t		 payload_len;	/* ... one object, no newline */
};

/* The queue's side of an output, opaque to drivers. */
struct fwd_output;

struct fwd_driver {
	const char	*type;		/* the word after NAME: "syslog" */
	/*
	 * Checks the words after TYPE ("format" and "queue" and their values
	 * already taken out) without side effects: for the configuration
	 * test and before open.  0, or -1 with *err (static or a constant).
	 */
	int	 (*check)(int, char **, const char **);
	/*
	 * Starts the output (connects in the background, never blocking):
	 * returns the driver's state, or NULL after logging why (the
	 * collector then exits).  out is what the driver passes to the
	 * fwd_* calls below.  Called once the event base is set up (after
	 * daemon()), still as root so it can read files only root may (CA,
	 * keys), just before the collector drops its privileges: open
	 * files and make threads here, never later.
	 */
	void	*(*open)(struct fwd_output *, struct event_base *, int,
		    char **);
	/*
	 * Takes one record to deliver: 0 when taken (it must copy what it
	 * keeps), -1 when it cannot take more now (not connected, its
	 * buffers are full); the queue then waits for fwd_ready.  Records
	 * come in queue order.
	 */
	int	 (*send)(void *, const struct fwd_record *);
	/* Stops: frees everything; records not delivered stay queued. */
	void	 (*close)(void *);
	/* Appends a short status ("connected to HOST:PORT"), or NULL. */
	void	 (*status)(void *, struct buf *);
};

/*
 * From a driver, in the loop.  fwd_delivered: the downstream has this
 * record (in any order; the queue forgets a record once it and every
 * record before it are delivered).  fwd_rejected: the downstream refused
 * it for good; it is counted, logged with reason and not sent again.
 * fwd_ready: send may be called again.  fwd_failed: the link broke; every
 * record taken but not delivered will be sent again, in order, starting
 * with the next send after fwd_ready.
 */
void	fwd_delivered(struct fwd_output *, uint64_t);
void	fwd_rejected(struct fwd_output *, uint64_t, const char *);
void	fwd_ready(struct fwd_output *);
void	fwd_failed(struct fwd_output *, const char *);
/* The output's NAME, for a driver's logs. */
const char *fwd_name(const struct fwd_output *);

/* The drivers (fwd_syslog.c, fwd_kafka.c). */
extern const struct fwd_driver fwd_syslog_driver;
extern const struct fwd_driver fwd_kafka_driver;

/*
 * The collector's side (forward.c).  forward_check parses one forward
 * line (the value after "forward"; a NAME seen before is an error);
 * forward_open opens every queue (as root, with the state folder
 * locked), forward_chown hands the queues to the collector's user,
 * forward_start opens the outputs (see open above); forward_record enqueues a record just written to host's log
 * (stream: the agent's stream, 0 for the collector's own records);
 * forward_sync_fds gives dup()s of what must be fdatasync'ed before an
 * ACK (the caller closes them), forward_sync syncs here;
 * forward_shutdown closes everything.
 */
int	forward_check(const char *, const char **);
int	forward_open(const char *, const char *const *, int);
struct privdrop_user;
int	forward_chown(const struct privdrop_user *);
int	forward_start(struct event_base *);
void	forward_record(const char *, uint64_t, const struct record *);
size_t	forward_sync_fds(int **);
void	forward_sync(void);
void	forward_shutdown(void);

/* What metrics and labwatchctl status show of each output. */
struct fwd_stat {
	const char	*name, *type, *status;
	uint64_t	 queued, queued_bytes;
	uint64_t	 sent, delivered, rejected, dropped, lost;
	int		 connected;
};
void	forward_each(void (*)(const struct fwd_stat *, void *), void *);

#endif
