/* SPDX-License-Identifier: ISC */
/* Per-address log and failure limits in a small fixed table. */
#include <string.h>

#include "addr.h"
#include "peerlimit.h"

#define SLOTS	256

struct slot {
	char		addr[ADDR_STR_MAX];
	time_t		seen;
	time_t		logged;		/* 0: never */
	unsigned	held;		/* log lines held back */
	time_t		window;		/* start of the failure window */
	unsigned	fails;
};

static struct slot	slots[SLOTS];

/* The slot of addr, made (in the least recently seen one) if new. */
static struct slot *
peerlimit_slot(const char *addr, time_t now)
{
	struct slot	*s, *old = &slots[0];

	for (s = slots; s < slots + SLOTS; s++) {
		if (s->seen != 0 && strcmp(s->addr, addr) == 0) {
			s->seen = now;
			return s;
		}
		if (s->seen < old->seen)
			old = s;
	}
	memset(old, 0, sizeof(*old));
	strncpy(old->addr, addr, sizeof(old->addr) - 1);
	old->seen = now;
	return old;
}

int
peerlimit_may_log(const char *addr, time_t now, unsigned *suppressed)
{
	struct slot	*s = peerlimit_slot(addr, now);

	if (s->logged != 0 && now - s->logged < PEERLIMIT_LOG_EVERY) {
		s->held++;
		return 0;
	}
	*suppressed = s->held;
	s->held = 0;
	s->logged = now;
	return 1;
}

void
peerlimit_fail(const char *addr, time_t now)
{
	struct slot	*s = peerlimit_slot(addr, now);

	if (now - s->window >= PEERLIMIT_WINDOW) {
		s->window = now;
		s->fails = 0;
	}
	s->fails++;
}

int
peerlimit_blocked(const char *addr, time_t now)
{
	struct slot	*s = peerlimit_slot(addr, now);

	return now - s->window < PEERLIMIT_WINDOW &&
	    s->fails >= PEERLIMIT_FAILS;
}
