/* SPDX-License-Identifier: ISC */
/* Alerts: matching records run a command with the record on stdin. */
#include <sys/queue.h>
#include <sys/wait.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "alertrule.h"
#include "buf.h"
#include "format.h"
#include "log.h"
#include "xmalloc.h"

#define ALERT_QUEUE_MAX	64	/* alerts waiting for a free slot */

struct alert_job {
	TAILQ_ENTRY(alert_job)	 entry;
	int			 rule;
	char			*host;
	struct buf		 json;
	unsigned		 suppressed;
	pid_t			 pid;
	struct event		*timer;
	struct bufferevent	*in;	/* the command's stdin */
};

struct alert_rate {		/* per rule and host */
	int		 rule;
	char		*host;
	time_t		 last;
	unsigned	 suppressed;
};

static struct alert_rule	*rules;
static int			 nrules;
static const struct alert_conf	*aconf;
static struct event_base	*abase;
static struct event		*sigchld_ev;
static TAILQ_HEAD(, alert_job)	 running = TAILQ_HEAD_INITIALIZER(running);
static TAILQ_HEAD(, alert_job)	 queued = TAILQ_HEAD_INITIALIZER(queued);
static int			 nrunning, nqueued;
static struct alert_rate	*rates;
static size_t			 nrates;

static void
alert_job_free(struct alert_job *j)
{
	if (j->timer != NULL)
		event_free(j->timer);
	if (j->in != NULL)
		bufferevent_free(j->in);
	buf_free(&j->json);
	free(j->host);
	free(j);
}

static void
alert_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct alert_job	*j = arg;

	(void)fd;
	(void)ev;
	log_warnx("alert %s for %s: still running after %d s; killed",
	    rules[j->rule].name, j->host, aconf->timeout);
	kill(-j->pid, SIGKILL);
}

static void
alert_in_done_cb(struct bufferevent *bev, void *arg)
{
	struct alert_job	*j = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	bufferevent_free(bev);
	j->in = NULL;
}

static void
alert_in_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct alert_job	*j = arg;

	(void)what;
	bufferevent_free(bev);
	j->in = NULL;
}

/* Starts a job's command: its stdin a pipe, in its own process group. */
static void
alert_start(struct alert_job *j)
{
	const struct alert_rule	*r = &rules[j->rule];
	struct timeval		 tv = { aconf->timeout, 0 };
	char			 supp[32];
	int			 p[2];

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("alert %s: pipe", r->name);
		alert_job_free(j);
		return;
	}
	snprintf(supp, sizeof(supp), "%u", j->suppressed);
	switch (j->pid = fork()) {
	case -1:
		log_warn("alert %s: fork", r->name);
		close(p[0]);
		close(p[1]);
		alert_job_free(j);
		return;
	case 0:
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(p[0], STDIN_FILENO) == -1)
			_exit(127);
		setenv("LABWATCH_ALERT", r->name, 1);
		setenv("LABWATCH_HOST", j->host, 1);
		setenv("LABWATCH_SUPPRESSED", supp, 1);
		execv(r->argv[0], r->argv);
		fprintf(stderr, "labwatch-collector: alert %s: %s: %s\n",
		    r->name, r->argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	evutil_make_socket_nonblocking(p[1]);
	j->in = bufferevent_socket_new(abase, p[1], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(j->in, NULL, alert_in_done_cb, alert_in_event_cb, j);
	bufferevent_write(j->in, j->json.data, j->json.len);
	bufferevent_enable(j->in, EV_WRITE);
	j->timer = evtimer_new(abase, alert_timeout_cb, j);
	evtimer_add(j->timer, &tv);
	TAILQ_INSERT_TAIL(&running, j, entry);
	nrunning++;
	log_info("alert %s for %s: running %s%s%s", r->name, j->host,
	    r->argv[0], j->suppressed ? ", " : "", j->suppressed ?
	    "after holding some back (LABWATCH_SUPPRESSED)" : "");
}

static void
alert_sigchld_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct alert_job	*j;
	pid_t			 pid;
	int			 status;

	(void)fd;
	(void)ev;
	(void)arg;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(j, &running, entry)
			if (j->pid == pid)
				break;
		if (j == NULL)
			continue;
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			log_warnx("alert %s for %s: %s exited with status %d",
			    rules[j->rule].name, j->host,
			    rules[j->rule].argv[0], WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			log_warnx("alert %s for %s: %s killed by signal %d",
			    rules[j->rule].name, j->host,
			    rules[j->rule].argv[0], WTERMSIG(status));
		TAILQ_REMOVE(&running, j, entry);
		nrunning--;
		alert_job_free(j);
	}
	while (nrunning < aconf->max && (j = TAILQ_FIRST(&queued)) != NULL) {
		TAILQ_REMOVE(&queued, j, entry);
		nqueued--;
		alert_start(j);
	}
}

/* The rate entry of rule and host, made on first use. */
static struct alert_rate *
alert_rate(int rule, const char *host)
{
	size_t	i;

	for (i = 0; i < nrates; i++)
		if (rates[i].rule == rule && strcmp(rates[i].host, host) == 0)
			return &rates[i];
	rates = xreallocarray(rates, nrates + 1, sizeof(*rates));
	rates[nrates].rule = rule;
	rates[nrates].host = xstrdup(host);
	rates[nrates].last = 0;
	rates[nrates].suppressed = 0;
	return &rates[nrates++];
}

void
alert_record(const char *host, const struct record *r)
{
	struct alert_rate	*rate;
	struct alert_job	*j;
	time_t			 now;
	int			 i;

	if (abase == NULL)
		return;
	for (i = 0; i < nrules; i++) {
		if (!alertrule_match(&rules[i], host, r))
			continue;
		now = time(NULL);
		rate = alert_rate(i, host);
		if (rate->last != 0 && now - rate->last < aconf->interval) {
			rate->suppressed++;
			log_debug("alert %s for %s: held back (%u so far)",
			    rules[i].name, host, rate->suppressed);
			continue;
		}
		j = xcalloc(1, sizeof(*j));
		j->rule = i;
		j->host = xstrdup(host);
		j->suppressed = rate->suppressed;
		buf_init(&j->json);
		format_record(&j->json, r, FORMAT_JSON);
		rate->last = now;
		rate->suppressed = 0;
		if (nrunning < aconf->max)
			alert_start(j);
		else if (nqueued < ALERT_QUEUE_MAX) {
			TAILQ_INSERT_TAIL(&queued, j, entry);
			nqueued++;
		} else {
			log_warnx("alert %s for %s: %d commands wait already; "
			    "dropped", rules[i].name, host, nqueued);
			alert_job_free(j);
		}
	}
}

int
alert_init(const struct alert_conf *c)
{
	const char	*err;
	int		 i, bad = 0;

	aconf = c;
	rules = xcalloc((size_t)c->rules->n + 1, sizeof(*rules));
	for (i = 0; i < c->rules->n; i++) {
		if (alertrule_parse(c->rules->v[i], &rules[nrules], &err) ==
		    0) {
			nrules++;
			continue;
		}
		if (c->rules->src[i].file != NULL)
			fprintf(stderr, "%s:%d: alert: %s\n",
			    c->rules->src[i].file, c->rules->src[i].line, err);
		else
			fprintf(stderr, "labwatch-collector: alert %s: %s\n",
			    c->rules->v[i], err);
		bad = 1;
	}
	return bad ? -1 : 0;
}

void
alert_attach(struct event_base *base)
{
	if (nrules == 0)
		return;
	abase = base;
	sigchld_ev = evsignal_new(base, SIGCHLD, alert_sigchld_cb, NULL);
	evsignal_add(sigchld_ev, NULL);
}

void
alert_shutdown(void)
{
	struct alert_job	*j;
	size_t			 i;
	int			 k;

	while ((j = TAILQ_FIRST(&queued)) != NULL) {
		TAILQ_REMOVE(&queued, j, entry);
		alert_job_free(j);
	}
	while ((j = TAILQ_FIRST(&running)) != NULL) {
		TAILQ_REMOVE(&running, j, entry);
		kill(-j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
		alert_job_free(j);
	}
	if (sigchld_ev != NULL)
		event_free(sigchld_ev);
	sigchld_ev = NULL;
	for (k = 0; k < nrules; k++)
		alertrule_free(&rules[k]);
	free(rules);
	rules = NULL;
	nrules = 0;
	for (i = 0; i < nrates; i++)
		free(rates[i].host);
	free(rates);
	rates = NULL;
	nrates = 0;
}
