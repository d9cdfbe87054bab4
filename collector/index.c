/* SPDX-License-Identifier: ISC */
/*
 * The index's queue and writer thread.  The event loop copies each record
 * (as its wire encoding) onto a list of its own, and once a loop turn
 * hands that list to a bounded queue under one lock and one wakeup; the
 * thread (SCHED_IDLE: the loop's leftover CPU) takes up to INDEX_BATCH_MAX
 * records at a time and writes them in one transaction (indexdb.c).  The
 * loop never waits on the database: a full queue drops the record from the
 * index, counted and logged.  Lab records (host "lab": marks, lab.*
 * events) are few and always queued.
 */
#include <sys/queue.h>

#include <event2/event.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "index.h"
#include "indexdb.h"
#include "log.h"
#include "wire.h"
#include "xmalloc.h"

#define INDEX_WARN_EVERY	10	/* seconds between "queue full" logs */

enum item_kind {
	ITEM_RECORD,
	ITEM_REINDEX,
};

struct item {
	STAILQ_ENTRY(item)	 entry;
	enum item_kind		 kind;
	char			*host;		/* or the log folder */
	size_t			 len;
	uint8_t			 data[];	/* the RECORD payload */
};

STAILQ_HEAD(itemq, item);

static struct itemq	 queue = STAILQ_HEAD_INITIALIZER(queue);
static pthread_mutex_t	 mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cond = PTHREAD_COND_INITIALIZER;
static pthread_t	 thread;
static int		 running, stopping, on;
static struct indexdb	*db;
static struct index_stats st;		/* under mtx */
static struct buf	 enc;		/* the loop's encoding buffer */
static struct itemq	 local = STAILQ_HEAD_INITIALIZER(local);
static int		 nlocal;	/* items in local */
static struct event	*flush_ev;	/* hands local over, once a turn */
static time_t		 warned;
static uint64_t		 missed_logged;

int
index_open(const char *path, void (*cb)(const struct index_device *, void *),
    void *arg)
{
	if (path == NULL || path[0] == '\0')
		return 0;
	if ((db = indexdb_open(path)) == NULL)
		return -1;
	indexdb_devices(db, cb, arg);
	on = 1;
	st.on = 1;
	buf_init(&enc);
	return 0;
}

/* Frees the items, counting them as missed; how many. */
static uint64_t
index_drop(struct itemq *q)
{
	struct item	*it;
	uint64_t	 n = 0;

	while ((it = STAILQ_FIRST(q)) != NULL) {
		STAILQ_REMOVE_HEAD(q, entry);
		n += it->kind == ITEM_RECORD;
		free(it->host);
		free(it);
	}
	return n;
}

/* Writes a batch of items in one transaction; frees them.  -1: not. */
static int
index_write(struct itemq *batch)
{
	struct item	*it;
	struct record	 r;
	const char	*err;
	uint64_t	 n = 0;

	if (indexdb_begin(db) == -1) {
		n = index_drop(batch);
		pthread_mutex_lock(&mtx);
		st.missed += n;
		pthread_mutex_unlock(&mtx);
		return -1;
	}
	record_init(&r);
	while ((it = STAILQ_FIRST(batch)) != NULL) {
		STAILQ_REMOVE_HEAD(batch, entry);
		if (wire_get_record(it->data, it->len, &r, &err) == 0) {
			r.host = it->host;
			indexdb_apply(db, it->host, &r);
			n++;
		} else
			log_warnx("index: %s: cannot decode a record: %s",
			    it->host, err);
		free(it->host);
		free(it);
	}
	indexdb_commit(db);
	record_free(&r);
	pthread_mutex_lock(&mtx);
	st.indexed += n;
	st.batches++;
	pthread_mutex_unlock(&mtx);
	return 0;
}

static void
index_rebuild(const char *dir)
{
	char		msg[sizeof(st.reindex_msg)];
	uint64_t	n = 0;

	indexdb_reindex(db, dir, &n, msg, sizeof(msg));
	log_info("index: %s", msg);
	pthread_mutex_lock(&mtx);
	st.reindexing = 0;
	st.reindexed = n;
	snprintf(st.reindex_msg, sizeof(st.reindex_msg), "%s", msg);
	pthread_mutex_unlock(&mtx);
}

static void *
index_main(void *arg)
{
	struct sched_param sp = { 0 };
	struct itemq	 batch;
	struct item	*it;
	int		 n;

	(void)arg;
	/* CPU left over by the event loop: acknowledgements come first, a
	 * full queue is the index's loss, counted. */
	if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0)
		log_debug("index: no SCHED_IDLE for its thread");
	for (;;) {
		STAILQ_INIT(&batch);
		pthread_mutex_lock(&mtx);
		while (STAILQ_EMPTY(&queue) && !stopping)
			pthread_cond_wait(&cond, &mtx);
		if (STAILQ_EMPTY(&queue) && stopping) {
			pthread_mutex_unlock(&mtx);
			break;
		}
		/* A rebuild runs alone, records queued before it first. */
		it = STAILQ_FIRST(&queue);
		if (it->kind == ITEM_REINDEX) {
			STAILQ_REMOVE_HEAD(&queue, entry);
			st.depth--;
			pthread_mutex_unlock(&mtx);
			index_rebuild(it->host);
			free(it->host);
			free(it);
			continue;
		}
		for (n = 0; n < INDEX_BATCH_MAX &&
		    (it = STAILQ_FIRST(&queue)) != NULL &&
		    it->kind == ITEM_RECORD; n++) {
			STAILQ_REMOVE_HEAD(&queue, entry);
			STAILQ_INSERT_TAIL(&batch, it, entry);
		}
		st.depth -= n;
		pthread_mutex_unlock(&mtx);
		if (index_write(&batch) == -1) {
			/* Stopping, the database still locked: the rest
			 * stays in the logs only. */
			pthread_mutex_lock(&mtx);
			if (stopping) {
				st.missed += index_drop(&queue);
				st.depth = 0;
			}
			pthread_mutex_unlock(&mtx);
		}
	}
	return NULL;
}

static void index_flush_cb(evutil_socket_t, short, void *);

int
index_start(struct event_base *base)
{
	int	rc;

	if (!on)
		return 0;
	if ((flush_ev = event_new(base, -1, 0, index_flush_cb, NULL)) == NULL)
		return -1;
	if ((rc = pthread_create(&thread, NULL, index_main, NULL)) != 0) {
		log_warnx("index: cannot start its thread: %s", strerror(rc));
		return -1;
	}
	running = 1;
	return 0;
}

/* Queues an item for the thread, past the bound when it is a must. */
static void
index_push(struct item *it)
{
	pthread_mutex_lock(&mtx);
	STAILQ_INSERT_TAIL(&queue, it, entry);
	st.depth++;
	st.queued += it->kind == ITEM_RECORD;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&mtx);
}

/* Logs the records not indexed, at most every INDEX_WARN_EVERY seconds. */
static void
index_warn(uint64_t missed)
{
	time_t	now = time(NULL);

	if (now - warned < INDEX_WARN_EVERY || missed == missed_logged)
		return;
	log_warnx("index: queue full (%d records), %llu record(s) not indexed "
	    "(%llu in all; the logs have them: labwatchctl reindex)",
	    INDEX_QUEUE_MAX, (unsigned long long)(missed - missed_logged),
	    (unsigned long long)missed);
	missed_logged = missed;
	warned = now;
}

/*
 * End of a loop turn: the records of the turn go to the thread under one
 * lock and one wakeup; what does not fit is dropped (not lab records).
 */
static void
index_flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct itemq	 drop = STAILQ_HEAD_INITIALIZER(drop);
	struct item	*it;
	uint64_t	 missed;
	int		 n = 0;

	(void)fd;
	(void)ev;
	(void)arg;
	pthread_mutex_lock(&mtx);
	while ((it = STAILQ_FIRST(&local)) != NULL) {
		STAILQ_REMOVE_HEAD(&local, entry);
		if (st.depth >= INDEX_QUEUE_MAX && strcmp(it->host, "lab") != 0) {
			st.missed++;
			STAILQ_INSERT_TAIL(&drop, it, entry);
			continue;
		}
		STAILQ_INSERT_TAIL(&queue, it, entry);
		st.depth++;
		st.queued++;
		n++;
	}
	nlocal = 0;
	if (n > 0)
		pthread_cond_signal(&cond);
	missed = st.missed;
	pthread_mutex_unlock(&mtx);
	while ((it = STAILQ_FIRST(&drop)) != NULL) {
		STAILQ_REMOVE_HEAD(&drop, entry);
		free(it->host);
		free(it);
	}
	index_warn(missed);
}

void
index_record(const char *host, const struct record *r)
{
	struct item	*it;

	if (!on || flush_ev == NULL)
		return;
	buf_reset(&enc);
	wire_put_record(&enc, WIRE_RECORD, r);
	it = xmalloc(sizeof(*it) + enc.len - WIRE_HDR_LEN);
	it->kind = ITEM_RECORD;
	it->host = xstrdup(host);
	it->len = enc.len - WIRE_HDR_LEN;
	memcpy(it->data, enc.data + WIRE_HDR_LEN, it->len);
	STAILQ_INSERT_TAIL(&local, it, entry);
	if (nlocal++ == 0)
		event_active(flush_ev, EV_TIMEOUT, 1);
}

int
index_reindex(const char *dir, char *msg, size_t len)
{
	struct item	*it;

	if (!on || !running) {
		snprintf(msg, len, "the index is off (--no-index)");
		return -1;
	}
	pthread_mutex_lock(&mtx);
	if (st.reindexing) {
		pthread_mutex_unlock(&mtx);
		snprintf(msg, len, "a rebuild runs already");
		return -1;
	}
	st.reindexing = 1;
	st.reindex_msg[0] = '\0';
	pthread_mutex_unlock(&mtx);
	it = xmalloc(sizeof(*it));
	it->kind = ITEM_REINDEX;
	it->host = xstrdup(dir);
	it->len = 0;
	index_flush_cb(-1, 0, NULL);	/* what came before it, first */
	index_push(it);
	snprintf(msg, len, "rebuilding the index from %s", dir);
	return 0;
}

void
index_stats(struct index_stats *out)
{
	pthread_mutex_lock(&mtx);
	*out = st;
	pthread_mutex_unlock(&mtx);
}

void
index_shutdown(void)
{
	if (!on)
		return;
	if (flush_ev != NULL) {
		index_flush_cb(-1, 0, NULL);
		event_free(flush_ev);
		flush_ev = NULL;
	}
	if (running) {
		indexdb_hurry(db);
		pthread_mutex_lock(&mtx);
		stopping = 1;
		pthread_cond_signal(&cond);
		pthread_mutex_unlock(&mtx);
		pthread_join(thread, NULL);
		running = 0;
	}
	index_drop(&queue);
	index_drop(&local);
	indexdb_close(db);
	db = NULL;
	buf_free(&enc);
	on = 0;
}
