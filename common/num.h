/* SPDX-License-Identifier: ISC */
/* The one range-checked number parser for options and configuration. */
#ifndef LABWATCH_NUM_H
#define LABWATCH_NUM_H

/*
 * Parses a whole decimal number in [min, max].  Returns 0, or -1 with *err
 * saying "invalid", "too small" or "too large".
 */
int	num_parse(const char *, long long, long long, long long *,
	    const char **);

/*
 * Parses a command-line option's number in [min, max]; on error says so on
 * stderr, naming the program and --name, and exits 2.
 */
long long num_arg(const char *, const char *, long long, long long);

#endif
