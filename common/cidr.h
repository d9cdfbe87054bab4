/* SPDX-License-Identifier: ISC */
/*
 * Sets of IPv4 and IPv6 prefixes with a label each, in a binary trie: a
 * lookup walks at most 32 or 128 nodes whatever the size of the set.
 */
#ifndef LABWATCH_CIDR_H
#define LABWATCH_CIDR_H

#include <stddef.h>
#include <stdint.h>

#define CIDR_LABELS_MAX	1024	/* distinct labels; more share "other" */
#define CIDR_LINE_MAX	1024	/* bytes in one line of a file */

struct cidr_set;

struct cidr_set *cidr_new(void);
void	cidr_free(struct cidr_set *);

/*
 * Parses "ADDR/LEN" or a bare address (a host prefix), IPv4 or IPv6, with
 * the host bits zero.  Returns 0 with *af (4 or 6), addr and *plen set, or
 * -1 with *err.
 */
int	cidr_parse(const char *, int *af, uint8_t addr[16], int *plen,
	    const char **err);
/* Adds a prefix with a label index (from cidr_label). */
void	cidr_add(struct cidr_set *, int af, const uint8_t *, int plen,
	    int label);
/* Returns the index of a label, adding it if new. */
int	cidr_label(struct cidr_set *, const char *);
/* The label with that index. */
const char *cidr_label_name(const struct cidr_set *, int);
/* The label of the longest prefix holding the address, or -1. */
int	cidr_lookup(const struct cidr_set *, int af, const uint8_t *);
/* Number of prefixes added. */
size_t	cidr_count(const struct cidr_set *);

/*
 * Loads a file of "CIDR [LABEL]" lines, with # comments and blank lines;
 * a prefix without a label gets deflabel.  Each bad line is logged as
 * "file:line: what is wrong" and skipped.  Returns the number of bad
 * lines, or -1 (logged) when the file cannot be read.
 */
int	cidr_load(struct cidr_set *, const char *path, const char *deflabel);

#endif
