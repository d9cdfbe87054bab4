/* SPDX-License-Identifier: ISC */
/*
 * Host name patterns for allowlists such as --enroll-hosts: "pc[01-40]",
 * "lab2-*".  A list is patterns separated by commas or spaces.
 */
#ifndef LABWATCH_HOSTPAT_H
#define LABWATCH_HOSTPAT_H

#include <stddef.h>

/*
 * Whether name (len bytes) matches one pattern of the list.  In a pattern
 * '*' stands for any run of characters, '?' for one, "[A-B]" for a decimal
 * number from A to B (written with as many digits as A when A has leading
 * zeros: "[01-40]" matches 01 to 40, not 1); anything else for itself,
 * case and all.  A malformed bracket matches nothing.
 */
int	hostpat_match(const char *, const char *, size_t);
/* Checks a list: 0, or -1 with *err on a malformed pattern. */
int	hostpat_check(const char *, const char **);

#endif
