/* SPDX-License-Identifier: ISC */
/* Making host logs durable off the event loop: see syncer.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "log.h"
#include "state.h"
#include "syncer.h"

static struct {
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct sync_job		*job;		/* handed to the thread */
	struct sync_job		*job_done;	/* the round under way */
	int			 busy;
	int			 stop;
	int			 statefd;	/* the state folder */
	int			 notify[2];	/* thread -> loop */
	struct event		*ev;
	void			(*done)(struct sync_job *);
} sy;

/*
 * Beyond this many logs in a round, one syncfs(2) per filesystem beats an
 * fdatasync per log: each fdatasync is a journal commit of its own, and
 * 5,000 of them made acknowledgements seconds late in a lab of 5,000 PCs.
 */
#define SYNCFS_MIN	16

/* syncfs on the filesystem of each log not synced yet; a failure there
 * counts for every log of that filesystem. */
static void
syncer_syncfs(struct sync_job *job)
{
	struct stat	 st, other;
	size_t		 i, j;
	int		 err;

	for (i = 0; i < job->nfds; i++)
		job->failed[i] = -1;
	for (i = 0; i < job->nfds; i++) {
		if (job->failed[i] != -1)
			continue;
		if (fstat(job->fds[i], &st) == -1) {
			job->failed[i] = fdatasync(job->fds[i]) == -1 ?
			    errno : 0;
			continue;
		}
		err = syncfs(job->fds[i]) == -1 ? errno : 0;
		for (j = i; j < job->nfds; j++)
			if (job->failed[j] == -1 &&
			    fstat(job->fds[j], &other) == 0 &&
			    other.st_dev == st.st_dev)
				job->failed[j] = err;
	}
}

void
syncer_run(struct sync_job *job)
{
	size_t	i;

	if (job->nfds >= SYNCFS_MIN)
		syncer_syncfs(job);
	else
		for (i = 0; i < job->nfds; i++)
			job->failed[i] = fdatasync(job->fds[i]) == -1 ?
			    errno : 0;
	for (i = 0; i < job->nfds; i++)
		close(job->fds[i]);
	job->state_failed = state_write(sy.statefd, job->state.data,
	    job->state.len) == -1 ? errno : 0;
}

static void *
syncer_main(void *arg)
{
	struct sync_job	*job;
	char		 c = 0;

	(void)arg;
	pthread_mutex_lock(&sy.lock);
	for (;;) {
		while (sy.job == NULL && !sy.stop)
			pthread_cond_wait(&sy.cond, &sy.lock);
		if (sy.job == NULL)
			break;
		job = sy.job;
		sy.job = NULL;
		pthread_mutex_unlock(&sy.lock);
		syncer_run(job);
		while (write(sy.notify[1], &c, 1) == -1 && errno == EINTR)
			;
		pthread_mutex_lock(&sy.lock);
	}
	pthread_mutex_unlock(&sy.lock);
	return NULL;
}

static void
syncer_notify_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sync_job	*job;
	char		 c;

	(void)ev;
	(void)arg;
	if (read(fd, &c, 1) != 1)
		return;
	job = sy.job_done;
	sy.busy = 0;
	sy.done(job);
}

void
syncer_init(struct event_base *base, int statefd,
    void (*done)(struct sync_job *))
{
	sy.statefd = statefd;
	sy.done = done;
	if (pipe2(sy.notify, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe");
	pthread_mutex_init(&sy.lock, NULL);
	pthread_cond_init(&sy.cond, NULL);
	sy.ev = event_new(base, sy.notify[0], EV_READ | EV_PERSIST,
	    syncer_notify_cb, NULL);
	event_add(sy.ev, NULL);
	if (pthread_create(&sy.thread, NULL, syncer_main, NULL) != 0)
		fatalx("cannot start the sync thread");
}

int
syncer_busy(void)
{
	return sy.busy;
}

void
syncer_start(struct sync_job *job)
{
	pthread_mutex_lock(&sy.lock);
	sy.job = job;
	sy.job_done = job;
	sy.busy = 1;
	pthread_cond_signal(&sy.cond);
	pthread_mutex_unlock(&sy.lock);
}

void
syncer_shutdown(void)
{
	char	c;

	pthread_mutex_lock(&sy.lock);
	sy.stop = 1;
	pthread_cond_signal(&sy.cond);
	pthread_mutex_unlock(&sy.lock);
	pthread_join(sy.thread, NULL);
	/* A round that ended after the loop did: finish it here. */
	if (sy.busy && read(sy.notify[0], &c, 1) == 1) {
		sy.busy = 0;
		sy.done(sy.job_done);
	}
	event_free(sy.ev);
	close(sy.notify[0]);
	close(sy.notify[1]);
}
