/* SPDX-License-Identifier: ISC */
/*
 * The index's queue and writer thread.  The event loop appends each record
 * (its wire encoding) to a buffer of the turn, and once a loop turn hands
 * that buffer to a bounded queue under one lock and one wakeup; the
 * thread (SCHED_IDLE: the loop's leftover CPU) takes up to INDEX_BATCH_MAX
 * records at a time and writes them in one transaction (indexdb.c).  The
 * loop never waits on the database: when the queue is full, a turn's
 * records go to a spill file beside the database (INDEX-spill), which the
 * thread reads back once the queue is empty, and which outlives a restart;
 * only when that too is full (INDEX_SPILL_MAX) are records dropped from the
 * index, counted and logged.  Lab records (host "lab": marks, lab.*
 * events) are few and always queued.
 */
#include <sys/queue.h>

#include <event2/event.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "hostname.h"
#include "index.h"
#include "indexdb.h"
#include "log.h"
#include "wire.h"
#include "xmalloc.h"

#define INDEX_WARN_EVERY	10	/* seconds between "queue full" logs */
#define INDEX_SPILL_MAX		((off_t)1 << 30)	/* bytes */
#define SPILL_HDR		8	/* records, bytes: 4 each, big endian */

enum chunk_kind {
	CHUNK_RECORDS,
	CHUNK_REINDEX,
};

/*
 * The records of one loop turn, back to back: host length (2 bytes, big
 * endian), host, frame length (4 bytes), the RECORD frame.  Or a rebuild.
 */
struct chunk {
	STAILQ_ENTRY(chunk)	 entry;
	enum chunk_kind		 kind;
	int			 n;		/* records */
	int			 must;		/* lab records: never dropped */
	struct buf		 b;
	char			*dir;		/* CHUNK_REINDEX */
};

STAILQ_HEAD(chunkq, chunk);

static struct chunkq	 queue = STAILQ_HEAD_INITIALIZER(queue);
static pthread_mutex_t	 mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cond = PTHREAD_COND_INITIALIZER;
static pthread_t	 thread;
static int		 running, stopping, on;
static struct indexdb	*db;
static struct index_stats st;		/* under mtx */
static struct chunk	*turn[2];	/* this turn's records, lab's */
static struct event	*flush_ev;	/* hands them over, once a turn */
static time_t		 warned;
static uint64_t		 missed_logged;
/* The spill file: written by the loop at spill_wr, read by the thread
 * at spill_rd (both under mtx); empty again once read to the end. */
static int		 spill_fd = -1;
static off_t		 spill_wr, spill_rd;

static void	spill_open(const char *);
static void	chunk_free(struct chunk *);

int
index_open(const char *path, void (*cb)(const struct index_device *, void *),
    void *arg)
{
	if (path == NULL || path[0] == '\0')
		return 0;
	if ((db = indexdb_open(path)) == NULL)
		return -1;
	spill_open(path);
	indexdb_devices(db, cb, arg);
	on = 1;
	st.on = 1;
	return 0;
}

/*
 * Opens the spill file; records a previous run left in it are read back
 * first.  A torn last entry (a crash while writing it) is cut off.
 */
static void
spill_open(const char *dbpath)
{
	struct buf	 path;
	uint8_t		 h[SPILL_HDR];
	off_t		 end, off = 0;
	uint32_t	 len;

	buf_init(&path);
	buf_printf(&path, "%s-spill", dbpath);
	spill_fd = open((char *)path.data, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (spill_fd == -1)
		log_warn("index: %s (a full queue drops records)",
		    (char *)path.data);
	buf_free(&path);
	if (spill_fd == -1 || (end = lseek(spill_fd, 0, SEEK_END)) == -1)
		return;
	while (end - off >= SPILL_HDR && pread(spill_fd, h, SPILL_HDR, off) ==
	    SPILL_HDR) {
		len = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 |
		    (uint32_t)h[6] << 8 | h[7];
		if (end - off - SPILL_HDR < (off_t)len)
			break;
		off += SPILL_HDR + (off_t)len;
		st.spilled += (uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 |
		    (uint64_t)h[2] << 8 | h[3];
	}
	st.queued = st.spilled;
	if (off != end && ftruncate(spill_fd, off) == -1)
		log_warn("index: cutting the spill file's torn end");
	spill_wr = off;
	if (off > 0)
		log_info("index: %lld bytes of records a previous run could "
		    "not index yet; indexing them first", (long long)off);
}

/* Loop side, under mtx: a turn's records to the spill file; -1: full. */
static int
spill_put(const struct chunk *c)
{
	uint8_t	h[SPILL_HDR];
	ssize_t	n;

	if (spill_fd == -1 || spill_wr + SPILL_HDR + (off_t)c->b.len >
	    INDEX_SPILL_MAX)
		return -1;
	h[0] = (uint8_t)(c->n >> 24);
	h[1] = (uint8_t)(c->n >> 16);
	h[2] = (uint8_t)(c->n >> 8);
	h[3] = (uint8_t)c->n;
	h[4] = (uint8_t)(c->b.len >> 24);
	h[5] = (uint8_t)(c->b.len >> 16);
	h[6] = (uint8_t)(c->b.len >> 8);
	h[7] = (uint8_t)c->b.len;
	if (pwrite(spill_fd, h, SPILL_HDR, spill_wr) != SPILL_HDR ||
	    (n = pwrite(spill_fd, c->b.data, c->b.len, spill_wr +
	    SPILL_HDR)) < 0 || (size_t)n != c->b.len) {
		log_warn("index: writing the spill file");
		return -1;
	}
	spill_wr += SPILL_HDR + (off_t)c->b.len;
	return 0;
}

/*
 * Thread side, under mtx: the next spilled turn as a chunk, or NULL when
 * all is read; the file is emptied once its last turn is taken.  Reads
 * with mtx released.
 */
static struct chunk *
spill_take(void)
{
	struct chunk	*c;
	uint8_t		 h[SPILL_HDR];
	off_t		 at = spill_rd;
	uint32_t	 len;

	if (spill_fd == -1 || spill_rd >= spill_wr)
		return NULL;
	pthread_mutex_unlock(&mtx);
	c = NULL;
	if (pread(spill_fd, h, SPILL_HDR, at) == SPILL_HDR) {
		len = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 |
		    (uint32_t)h[6] << 8 | h[7];
		c = xcalloc(1, sizeof(*c));
		c->kind = CHUNK_RECORDS;
		c->n = (int)((uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
		    (uint32_t)h[2] << 8 | h[3]);
		buf_init(&c->b);
		buf_reserve(&c->b, len);
		if (pread(spill_fd, c->b.data, len, at + SPILL_HDR) !=
		    (ssize_t)len) {
			chunk_free(c);
			c = NULL;
		} else
			c->b.len = len;
	}
	pthread_mutex_lock(&mtx);
	if (c == NULL) {
		log_warnx("index: the spill file cannot be read back; "
		    "dropping it (labwatchctl reindex)");
		st.missed += st.spilled;
		st.spilled = 0;
		if (ftruncate(spill_fd, 0) == -1)
			log_warn("index: emptying the spill file");
		spill_wr = spill_rd = 0;
		return NULL;
	}
	spill_rd = at + SPILL_HDR + (off_t)len;
	st.spilled -= (uint64_t)c->n;
	if (spill_rd >= spill_wr) {
		/* All read (and in memory): the file starts afresh. */
		if (ftruncate(spill_fd, 0) == -1)
			log_warn("index: emptying the spill file");
		spill_wr = spill_rd = 0;
	}
	return c;
}

static void
chunk_free(struct chunk *c)
{
	buf_free(&c->b);
	free(c->dir);
	free(c);
}

/* Frees the chunks; how many records they held. */
static uint64_t
index_drop(struct chunkq *q)
{
	struct chunk	*c;
	uint64_t	 n = 0;

	while ((c = STAILQ_FIRST(q)) != NULL) {
		STAILQ_REMOVE_HEAD(q, entry);
		n += (uint64_t)c->n;
		chunk_free(c);
	}
	return n;
}

/* Applies the records of a chunk; how many decoded. */
static uint64_t
index_apply(const struct chunk *c, struct record *r)
{
	const uint8_t	*p = c->b.data, *end = p + c->b.len;
	char		 host[HOSTNAME_MAX + 1];
	const char	*err;
	size_t		 hlen, flen;
	uint64_t	 n = 0;

	while (end - p >= 6) {
		hlen = (size_t)p[0] << 8 | p[1];
		if (hlen > HOSTNAME_MAX || (size_t)(end - p) < 6 + hlen)
			break;
		memcpy(host, p + 2, hlen);
		host[hlen] = '\0';
		p += 2 + hlen;
		flen = (size_t)p[0] << 24 | (size_t)p[1] << 16 |
		    (size_t)p[2] << 8 | p[3];
		p += 4;
		if (flen < WIRE_HDR_LEN || (size_t)(end - p) < flen)
			break;
		if (wire_get_record(p + WIRE_HDR_LEN, flen - WIRE_HDR_LEN, r,
		    &err) == 0) {
			r->host = host;
			indexdb_apply(db, host, r);
			n++;
		} else
			log_warnx("index: %s: cannot decode a record: %s",
			    host, err);
		p += flen;
	}
	return n;
}

/* Writes chunks of records in one transaction; frees them.  -1: not. */
static int
index_write(struct chunkq *batch)
{
	struct chunk	*c;
	struct record	 r;
	uint64_t	 n = 0;

	if (indexdb_begin(db) == -1) {
		n = index_drop(batch);
		pthread_mutex_lock(&mtx);
		st.missed += n;
		pthread_mutex_unlock(&mtx);
		return -1;
	}
	record_init(&r);
	while ((c = STAILQ_FIRST(batch)) != NULL) {
		STAILQ_REMOVE_HEAD(batch, entry);
		n += index_apply(c, &r);
		chunk_free(c);
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
	struct chunkq	 batch;
	struct chunk	*c;
	int		 n;

	(void)arg;
	/* CPU left over by the event loop: acknowledgements come first, a
	 * full queue is the index's loss, counted. */
	if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0)
		log_debug("index: no SCHED_IDLE for its thread");
	for (;;) {
		STAILQ_INIT(&batch);
		pthread_mutex_lock(&mtx);
		while (STAILQ_EMPTY(&queue) && spill_rd >= spill_wr &&
		    !stopping)
			pthread_cond_wait(&cond, &mtx);
		if (STAILQ_EMPTY(&queue) && stopping) {
			/* What is spilled waits for the next start. */
			pthread_mutex_unlock(&mtx);
			break;
		}
		if (STAILQ_EMPTY(&queue)) {
			/* The queue read, the spill (newer records) next. */
			for (n = 0; n < INDEX_BATCH_MAX &&
			    (c = spill_take()) != NULL; n += c->n)
				STAILQ_INSERT_TAIL(&batch, c, entry);
			pthread_mutex_unlock(&mtx);
			if (!STAILQ_EMPTY(&batch))
				index_write(&batch);
			continue;
		}
		/* A rebuild runs alone, records queued before it first. */
		c = STAILQ_FIRST(&queue);
		if (c->kind == CHUNK_REINDEX) {
			STAILQ_REMOVE_HEAD(&queue, entry);
			pthread_mutex_unlock(&mtx);
			index_rebuild(c->dir);
			chunk_free(c);
			continue;
		}
		/* Whole turns, up to about INDEX_BATCH_MAX records. */
		for (n = 0; n < INDEX_BATCH_MAX &&
		    (c = STAILQ_FIRST(&queue)) != NULL &&
		    c->kind == CHUNK_RECORDS; n += c->n) {
			STAILQ_REMOVE_HEAD(&queue, entry);
			STAILQ_INSERT_TAIL(&batch, c, entry);
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

/* Logs the records not indexed, at most every INDEX_WARN_EVERY seconds. */
static void
index_warn(uint64_t missed)
{
	time_t	now = time(NULL);

	if (now - warned < INDEX_WARN_EVERY || missed == missed_logged)
		return;
	log_warnx("index: queue and spill file full, %llu record(s) not "
	    "indexed (%llu in all; the logs have them: labwatchctl reindex)",
	    (unsigned long long)(missed - missed_logged),
	    (unsigned long long)missed);
	missed_logged = missed;
	warned = now;
}

/*
 * End of a loop turn: its records go to the thread under one lock and one
 * wakeup, or, when the queue is full, to the spill file, or when that is
 * full too, are dropped (not lab records).
 */
static void
index_flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct chunk	*c, *drop = NULL;
	uint64_t	 missed;
	int		 i, signal = 0;

	(void)fd;
	(void)ev;
	(void)arg;
	pthread_mutex_lock(&mtx);
	for (i = 0; i < 2; i++) {
		if ((c = turn[i]) == NULL)
			continue;
		turn[i] = NULL;
		/* Once spilling, the spill until it is read: in order. */
		if (!c->must && (spill_rd < spill_wr ||
		    st.depth + c->n > INDEX_QUEUE_MAX)) {
			if (spill_put(c) == 0) {
				st.spilled += (uint64_t)c->n;
				st.queued += (uint64_t)c->n;
				signal = 1;
			} else
				st.missed += (uint64_t)c->n;
			drop = c;
			continue;
		}
		STAILQ_INSERT_TAIL(&queue, c, entry);
		st.depth += c->n;
		st.queued += (uint64_t)c->n;
		signal = 1;
	}
	if (signal)
		pthread_cond_signal(&cond);
	missed = st.missed;
	pthread_mutex_unlock(&mtx);
	if (drop != NULL)
		chunk_free(drop);
	index_warn(missed);
}

void
index_record(const char *host, const struct record *r)
{
	struct chunk	*c;
	size_t		 hlen = strlen(host), off;
	int		 must = strcmp(host, "lab") == 0;

	if (!on || flush_ev == NULL || hlen > HOSTNAME_MAX)
		return;
	if ((c = turn[must]) == NULL) {
		c = turn[must] = xcalloc(1, sizeof(*c));
		c->kind = CHUNK_RECORDS;
		c->must = must;
		buf_init(&c->b);
		if (turn[!must] == NULL)
			event_active(flush_ev, EV_TIMEOUT, 1);
	}
	buf_add_u16(&c->b, (uint16_t)hlen);
	buf_add(&c->b, host, hlen);
	off = c->b.len;
	buf_add_u32(&c->b, 0);
	wire_put_record(&c->b, WIRE_RECORD, r);
	buf_set_u32(&c->b, off, (uint32_t)(c->b.len - off - 4));
	c->n++;
}

int
index_reindex(const char *dir, char *msg, size_t len)
{
	struct chunk	*c;

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
	c = xcalloc(1, sizeof(*c));
	c->kind = CHUNK_REINDEX;
	c->dir = xstrdup(dir);
	buf_init(&c->b);
	index_flush_cb(-1, 0, NULL);	/* what came before it, first */
	pthread_mutex_lock(&mtx);
	STAILQ_INSERT_TAIL(&queue, c, entry);
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&mtx);
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
	indexdb_close(db);
	db = NULL;
	if (spill_fd != -1)
		close(spill_fd);
	spill_fd = -1;
	on = 0;
}
