/* SPDX-License-Identifier: ISC */
/* The dashboard's reader thread: see reader.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "reader.h"
#include "xmalloc.h"

TAILQ_HEAD(reader_jobs, reader_job);

static struct {
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct reader_jobs	 queue, done;
	int			 nqueued;
	int			 stop, running;
	int			 notify[2];	/* thread -> loop */
	struct event		*ev;
	char			*dbpath;
	sqlite3			*db;		/* the thread's */
	struct timespec		 deadline;	/* of the query under way */
} rd = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.notify = { -1, -1 },
};

/* SQLite's progress handler: non-zero stops a query past its time. */
static int
reader_progress(void *arg)
{
	struct timespec	now;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > rd.deadline.tv_sec ||
	    (now.tv_sec == rd.deadline.tv_sec &&
	    now.tv_nsec > rd.deadline.tv_nsec);
}

/* The read-only connection, opened when the index exists. */
static sqlite3 *
reader_db(void)
{
	static time_t	warned;
	time_t		now;

	if (rd.db != NULL || rd.dbpath == NULL)
		return rd.db;
	if (sqlite3_open_v2(rd.dbpath, &rd.db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		now = time(NULL);
		if (now - warned > 60) {
			log_warnx("dashboard: index %s: %s", rd.dbpath,
			    sqlite3_errmsg(rd.db));
			warned = now;
		}
		sqlite3_close(rd.db);
		rd.db = NULL;
		return NULL;
	}
	sqlite3_busy_timeout(rd.db, 1000);
	sqlite3_progress_handler(rd.db, 1000, reader_progress, NULL);
	return rd.db;
}

static void *
reader_main(void *arg)
{
	struct reader_job	*job;
	char			 c = 0;

	(void)arg;
	pthread_mutex_lock(&rd.lock);
	for (;;) {
		while (TAILQ_EMPTY(&rd.queue) && !rd.stop)
			pthread_cond_wait(&rd.cond, &rd.lock);
		if (rd.stop)
			break;
		job = TAILQ_FIRST(&rd.queue);
		TAILQ_REMOVE(&rd.queue, job, entry);
		pthread_mutex_unlock(&rd.lock);
		clock_gettime(CLOCK_MONOTONIC, &rd.deadline);
		rd.deadline.tv_nsec += (READER_QUERY_MS % 1000) * 1000000L;
		rd.deadline.tv_sec += READER_QUERY_MS / 1000 +
		    rd.deadline.tv_nsec / 1000000000L;
		rd.deadline.tv_nsec %= 1000000000L;
		job->run(job, reader_db());
		pthread_mutex_lock(&rd.lock);
		TAILQ_INSERT_TAIL(&rd.done, job, entry);
		while (write(rd.notify[1], &c, 1) == -1 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&rd.lock);
	if (rd.db != NULL)
		sqlite3_close(rd.db);
	rd.db = NULL;
	return NULL;
}

static void
reader_notify_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct reader_jobs	 done = TAILQ_HEAD_INITIALIZER(done);
	struct reader_job	*job;
	char			 c[64];

	(void)ev;
	(void)arg;
	while (read(fd, c, sizeof(c)) > 0)
		;
	pthread_mutex_lock(&rd.lock);
	TAILQ_CONCAT(&done, &rd.done, entry);
	pthread_mutex_unlock(&rd.lock);
	while ((job = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, job, entry);
		rd.nqueued--;
		job->done(job, 0);
	}
}

int
reader_init(struct event_base *base, const char *dbpath)
{
	TAILQ_INIT(&rd.queue);
	TAILQ_INIT(&rd.done);
	rd.dbpath = dbpath != NULL ? xstrdup(dbpath) : NULL;
	if (pipe2(rd.notify, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("dashboard: pipe");
		return -1;
	}
	rd.ev = event_new(base, rd.notify[0], EV_READ | EV_PERSIST,
	    reader_notify_cb, NULL);
	event_add(rd.ev, NULL);
	if ((errno = pthread_create(&rd.thread, NULL, reader_main,
	    NULL)) != 0) {
		log_warn("dashboard: reader thread");
		return -1;
	}
	rd.running = 1;
	return 0;
}

int
reader_submit(struct reader_job *job)
{
	if (!rd.running || rd.nqueued >= READER_QUEUE_MAX)
		return -1;
	rd.nqueued++;
	pthread_mutex_lock(&rd.lock);
	TAILQ_INSERT_TAIL(&rd.queue, job, entry);
	pthread_cond_signal(&rd.cond);
	pthread_mutex_unlock(&rd.lock);
	return 0;
}

void
reader_shutdown(void)
{
	struct reader_job	*job;

	if (rd.running) {
		pthread_mutex_lock(&rd.lock);
		rd.stop = 1;
		pthread_cond_signal(&rd.cond);
		pthread_mutex_unlock(&rd.lock);
		pthread_join(rd.thread, NULL);
		rd.running = 0;
	}
	TAILQ_CONCAT(&rd.done, &rd.queue, entry);
	while ((job = TAILQ_FIRST(&rd.done)) != NULL) {
		TAILQ_REMOVE(&rd.done, job, entry);
		rd.nqueued--;
		job->done(job, 1);
	}
	if (rd.ev != NULL)
		event_free(rd.ev);
	rd.ev = NULL;
	if (rd.notify[0] != -1) {
		close(rd.notify[0]);
		close(rd.notify[1]);
	}
	rd.notify[0] = rd.notify[1] = -1;
	free(rd.dbpath);
	rd.dbpath = NULL;
}
