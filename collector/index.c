/* SPDX-License-Identifier: ISC */
/*
 * The index's queue and writer thread.  The event loop copies each record
 * (as its wire encoding) onto a bounded queue and signals; the thread takes
 * up to INDEX_BATCH_MAX at a time and writes them in one transaction
 * (indexdb.c).  The loop never waits on the database: a full queue drops
 * the record from the index, counted and logged.  Lab records (host "lab":
 * marks, lab.* events) are few and always queued.
 */
#include <sys/queue.h>

#include <pthread.h>
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

/* Writes a batch of items in one transaction; frees them. */
static void
index_write(struct itemq *batch)
{
	struct item	*it;
	struct record	 r;
	const char	*err;
	uint64_t	 n = 0;

	record_init(&r);
	indexdb_begin(db);
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
	struct itemq	 batch;
	struct item	*it;
	int		 n;

	(void)arg;
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
		index_write(&batch);
	}
	return NULL;
}

int
index_start(void)
{
	int	rc;

	if (!on)
		return 0;
	if ((rc = pthread_create(&thread, NULL, index_main, NULL)) != 0) {
		log_warnx("index: cannot start its thread: %s", strerror(rc));
		return -1;
	}
	running = 1;
	return 0;
}

/* Queues an item; 0, or -1 when the queue is full (and bound says so). */
static int
index_push(struct item *it, int bound)
{
	pthread_mutex_lock(&mtx);
	if (bound && st.depth >= INDEX_QUEUE_MAX) {
		st.missed++;
		pthread_mutex_unlock(&mtx);
		return -1;
	}
	STAILQ_INSERT_TAIL(&queue, it, entry);
	st.depth++;
	st.queued += it->kind == ITEM_RECORD;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&mtx);
	return 0;
}

void
index_record(const char *host, const struct record *r)
{
	struct item	*it;
	time_t		 now;
	uint64_t	 missed;

	if (!on)
		return;
	buf_reset(&enc);
	wire_put_record(&enc, WIRE_RECORD, r);
	it = xmalloc(sizeof(*it) + enc.len - WIRE_HDR_LEN);
	it->kind = ITEM_RECORD;
	it->host = xstrdup(host);
	it->len = enc.len - WIRE_HDR_LEN;
	memcpy(it->data, enc.data + WIRE_HDR_LEN, it->len);
	if (index_push(it, strcmp(host, "lab") != 0) == 0)
		return;
	free(it->host);
	free(it);
	now = time(NULL);
	if (now - warned < INDEX_WARN_EVERY)
		return;
	pthread_mutex_lock(&mtx);
	missed = st.missed;
	pthread_mutex_unlock(&mtx);
	log_warnx("index: queue full (%d records), %llu record(s) not indexed "
	    "(%llu in all; the logs have them: labwatchctl reindex)",
	    INDEX_QUEUE_MAX, (unsigned long long)(missed - missed_logged),
	    (unsigned long long)missed);
	missed_logged = missed;
	warned = now;
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
	index_push(it, 0);
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
	struct item	*it;

	if (!on)
		return;
	if (running) {
		pthread_mutex_lock(&mtx);
		stopping = 1;
		pthread_cond_signal(&cond);
		pthread_mutex_unlock(&mtx);
		pthread_join(thread, NULL);
		running = 0;
	}
	while ((it = STAILQ_FIRST(&queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&queue, entry);
		free(it->host);
		free(it);
	}
	indexdb_close(db);
	db = NULL;
	buf_free(&enc);
	on = 0;
}
