/* SPDX-License-Identifier: ISC */
/* The merge table of fanwatch.c, pure: repeats within a window, bounded. */
#include <stdlib.h>
#include <string.h>

#include "fanmerge.h"
#include "usbid.h"
#include "xmalloc.h"

void
fanmerge_init(struct fanmerge *fm, size_t max, int64_t window_us,
    void (*emit)(const struct fm_entry *, void *), void *arg)
{
	size_t	i;

	memset(fm, 0, sizeof(*fm));
	TAILQ_INIT(&fm->order);
	fm->nbuckets = max > 0 ? max : 1;
	fm->buckets = xcalloc(fm->nbuckets, sizeof(*fm->buckets));
	for (i = 0; i < fm->nbuckets; i++)
		LIST_INIT(&fm->buckets[i]);
	fm->max = max > 0 ? max : 1;
	fm->window_us = window_us;
	fm->emit = emit;
	fm->arg = arg;
}

/* Emits e and frees it. */
static void
entry_out(struct fanmerge *fm, struct fm_entry *e)
{
	fm->emit(e, fm->arg);
	TAILQ_REMOVE(&fm->order, e, order);
	LIST_REMOVE(e, hash);
	fm->n--;
	free(e);
}

void
fanmerge_free(struct fanmerge *fm)
{
	struct fm_entry	*e;

	while ((e = TAILQ_FIRST(&fm->order)) != NULL)
		entry_out(fm, e);
	free(fm->buckets);
	fm->buckets = NULL;
}

struct fm_entry *
fanmerge_get(struct fanmerge *fm, const void *owner, int kind, int pid,
    const char *path, size_t len, int64_t now, int *fresh)
{
	struct fm_entry	*e;
	size_t		 b;

	b = (size_t)((usbid_hash(path, len) ^ (uint64_t)pid * 31 ^
	    (uint64_t)kind) % fm->nbuckets);
	LIST_FOREACH(e, &fm->buckets[b], hash) {
		if (e->owner == owner && e->kind == kind && e->pid == pid &&
		    e->pathlen == len && memcmp(e->path, path, len) == 0 &&
		    now - e->first_us < fm->window_us) {
			e->count++;
			*fresh = 0;
			return e;
		}
	}
	if (fm->n >= fm->max)
		entry_out(fm, TAILQ_FIRST(&fm->order));
	e = xcalloc(1, sizeof(*e) + len);
	e->owner = owner;
	e->kind = kind;
	e->pid = pid;
	e->uid = -1;
	e->first_us = now;
	e->size = -1;
	e->count = 1;
	memcpy(e->path, path, len);
	e->pathlen = len;
	LIST_INSERT_HEAD(&fm->buckets[b], e, hash);
	TAILQ_INSERT_TAIL(&fm->order, e, order);
	fm->n++;
	*fresh = 1;
	return e;
}

void
fanmerge_expire(struct fanmerge *fm, int64_t now)
{
	struct fm_entry	*e;

	while ((e = TAILQ_FIRST(&fm->order)) != NULL &&
	    e->first_us + fm->window_us <= now)
		entry_out(fm, e);
}

void
fanmerge_drop_owner(struct fanmerge *fm, const void *owner)
{
	struct fm_entry	*e, *next;

	for (e = TAILQ_FIRST(&fm->order); e != NULL; e = next) {
		next = TAILQ_NEXT(e, order);
		if (e->owner == owner)
			entry_out(fm, e);
	}
}

int64_t
fanmerge_deadline(const struct fanmerge *fm)
{
	const struct fm_entry	*e = TAILQ_FIRST(&fm->order);

	return e != NULL ? e->first_us + fm->window_us : -1;
}
