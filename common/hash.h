/* SPDX-License-Identifier: ISC */
/*
 * Hashing for tables whose keys come from the network (addresses, MACs,
 * names), seeded with a secret drawn once per process: with a hash anyone
 * can compute, crafted keys would all share one chain and turn every
 * lookup into a walk of the whole table.
 */
#ifndef LABWATCH_HASH_H
#define LABWATCH_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The process's secret seed, never 0 (drawn at the first call). */
uint64_t hash_seed(void);
/*
 * A hash of len bytes under seed: FNV-1a started from the seed, then mixed
 * so that every bit of it, the low ones tables use first, depends on
 * every bit of the seed.
 */
uint64_t hash_bytes(uint64_t seed, const void *, size_t len);
/* The same of a NUL-terminated string. */
uint64_t hash_str(uint64_t seed, const char *);

#endif
