/* SPDX-License-Identifier: ISC */
/*
 * The merge table of fanwatch.c, pure: file events of one kind, by one
 * process, on one path, within a window of the first are one entry with a
 * count.  At most max entries are held; when full, the oldest is emitted
 * early, so memory stays bounded and every file is still emitted once.
 * Times are passed in, so tests need no clock.
 */
#ifndef LABWATCH_FANMERGE_H
#define LABWATCH_FANMERGE_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

struct fm_entry {
	TAILQ_ENTRY(fm_entry)	 order;		/* oldest first */
	LIST_ENTRY(fm_entry)	 hash;
	const void		*owner;		/* the watch it came from */
	int			 kind;
	int			 pid;
	int			 uid;		/* filled in by the caller */
	int64_t			 first_us;
	int64_t			 size;
	int64_t			 count;
	char			 comm[32];
	size_t			 pathlen;
	char			 path[];
};

struct fanmerge {
	TAILQ_HEAD(, fm_entry)	 order;
	LIST_HEAD(, fm_entry)	*buckets;
	size_t			 nbuckets;
	size_t			 n;
	size_t			 max;
	int64_t			 window_us;
	/* Called with each entry that leaves; the table frees it after. */
	void			(*emit)(const struct fm_entry *, void *);
	void			*arg;
};

void	fanmerge_init(struct fanmerge *, size_t, int64_t,
	    void (*)(const struct fm_entry *, void *), void *);
/* Emits every entry and frees the table. */
void	fanmerge_free(struct fanmerge *);

/*
 * Returns the entry for (owner, kind, pid, path) whose window holds now,
 * its count raised; or a new entry (count 1, size -1, uid -1, *fresh set)
 * after emitting the oldest when the table is full.
 */
struct fm_entry *fanmerge_get(struct fanmerge *, const void *, int, int,
	    const char *, size_t, int64_t, int *);
/* Emits the entries whose window has ended by now. */
void	fanmerge_expire(struct fanmerge *, int64_t);
/* Emits every entry of owner. */
void	fanmerge_drop_owner(struct fanmerge *, const void *);
/* When the oldest entry's window ends; -1 when the table is empty. */
int64_t	fanmerge_deadline(const struct fanmerge *);

#endif
