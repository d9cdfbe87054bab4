/*
 * What runs and what does not: each monitor says when it cannot do its
 * job (agent.degraded, with the reason) and when it can again
 * (agent.recovered), once per change, so a blinded agent shows at the
 * collector instead of only on its own stderr.  agent.start lists the
 * monitors running; heartbeats carry the ones degraded.
 */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "log.h"

#define HEALTH_MAX	16
#define REASON_MAX	256

static struct {
	char	monitor[32];
	char	reason[REASON_MAX];	/* "" while it works */
	int	on;			/* started at all */
} mons[HEALTH_MAX];
static int	nmons;
static void	(*sink)(struct record *);

/* One agent.degraded record for slot i. */
static void
health_emit(int i)
{
	struct record	r;

	record_init(&r);
	record_begin(&r, "agent.degraded");
	record_add_str(&r, "monitor", mons[i].monitor);
	record_add_str(&r, "reason", mons[i].reason);
	sink(&r);
	record_free(&r);
}

void
health_init(void (*emit)(struct record *))
{
	int	i;

	sink = emit;
	/* What went wrong before records could be sent. */
	for (i = 0; i < nmons; i++)
		if (mons[i].reason[0] != '\0')
			health_emit(i);
}

/* The slot of monitor, made on first use. */
static int
health_find(const char *monitor)
{
	int	i;

	for (i = 0; i < nmons; i++)
		if (strcmp(mons[i].monitor, monitor) == 0)
			return i;
	if (nmons == HEALTH_MAX)
		fatalx("health: too many monitors");
	snprintf(mons[nmons].monitor, sizeof(mons[nmons].monitor), "%s",
	    monitor);
	return nmons++;
}

void
health_running(const char *monitor)
{
	mons[health_find(monitor)].on = 1;
}

void
health_degraded(const char *monitor, const char *reason)
{
	int	i = health_find(monitor);

	if (strcmp(mons[i].reason, reason) == 0)
		return;
	snprintf(mons[i].reason, sizeof(mons[i].reason), "%s",
	    reason[0] ? reason : "unknown");
	log_warnx("%s degraded: %s", monitor, mons[i].reason);
	if (sink != NULL)
		health_emit(i);
}

void
health_recovered(const char *monitor)
{
	struct record	r;
	int		i = health_find(monitor);

	mons[i].on = 1;
	if (mons[i].reason[0] == '\0')
		return;
	log_info("%s recovered (was: %s)", monitor, mons[i].reason);
	mons[i].reason[0] = '\0';
	if (sink == NULL)
		return;
	record_init(&r);
	record_begin(&r, "agent.recovered");
	record_add_str(&r, "monitor", monitor);
	sink(&r);
	record_free(&r);
}

void
health_add(struct record *r, int start)
{
	char	item[32 + REASON_MAX + 2];
	int	i, n;

	if (start) {
		record_add_list(r, "monitors");
		for (i = 0; i < nmons; i++)
			if (mons[i].on && mons[i].reason[0] == '\0')
				record_list_add(r, mons[i].monitor,
				    strlen(mons[i].monitor));
	}
	for (i = n = 0; i < nmons; i++)
		n += mons[i].reason[0] != '\0';
	if (n == 0 && !start)
		return;
	record_add_list(r, "degraded");
	for (i = 0; i < nmons; i++) {
		if (mons[i].reason[0] == '\0')
			continue;
		snprintf(item, sizeof(item), "%s: %s", mons[i].monitor,
		    mons[i].reason);
		record_list_add(r, item, strlen(item));
	}
}
