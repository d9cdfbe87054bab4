/* SPDX-License-Identifier: ISC */
/*
 * One daemon per folder: an exclusive flock(2) on a lock file inside it,
 * held for the life of the process, with the holder's process id written
 * in it so that a second instance can say who is in the way.
 */
#ifndef LABWATCH_LOCKFILE_H
#define LABWATCH_LOCKFILE_H

#include <stddef.h>

#define LOCKFILE_NAME	".labwatch.lock"

/*
 * Locks dir, a "log folder" or "state folder" as what says (the lock file is LOCKFILE_NAME inside it): the descriptor, or
 * -1 with err saying why (naming the holder's pid when another process
 * holds it).  The lock is kept across fork(2), so daemon(3) keeps it.
 */
int	lockfile_take(const char *, const char *, char *, size_t);
/* Writes this process's id into the lock file (after daemon(3)). */
void	lockfile_setpid(int);

#endif
