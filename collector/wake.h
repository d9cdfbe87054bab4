/* Wake-on-LAN through agents on the sleeping PC's segment. */
#ifndef LABWATCH_WAKE_H
#define LABWATCH_WAKE_H

#include <event2/event.h>

#include <stddef.h>

#include "wire.h"

void	wake_init(struct event_base *, int);
/*
 * Wakes target, asked by who (for the log): 0 with what was done in msg,
 * or -1 with why not.  direct: the collector broadcasts itself.
 */
int	wake_request(const char *, const char *, int, char *, size_t);
/* A host's agent connected: a wake of it succeeded. */
void	wake_connected(const char *);
/* A relay's RESULT. */
void	wake_result(const char *, const struct wire_result *);
void	wake_shutdown(void);

#endif
