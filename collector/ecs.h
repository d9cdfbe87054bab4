/* SPDX-License-Identifier: ISC */
/*
 * Records as Elastic Common Schema documents (format ecs), apart from any
 * I/O.  The mapping is in the README ("Forwarding") and
 * labwatch-collector(8): what ECS has a field for goes there, the rest
 * under labwatch.*.
 */
#ifndef LABWATCH_ECS_H
#define LABWATCH_ECS_H

#include <stdint.h>

#include "buf.h"
#include "record.h"

#define ECS_VERSION	"8.11.0"

/*
 * Appends r of host as one ECS JSON object (no newline); id is its
 * identity "HOST/STREAM/SEQ", stream (hex) and seq its parts.
 */
void	ecs_record(struct buf *, const struct record *, const char *,
	    const char *, const char *, uint64_t);

#endif
