/* SPDX-License-Identifier: ISC */
/*
 * Alert rules, apart from any I/O:
 *   alert NAME EVENT [FIELD=GLOB ...] -> COMMAND [ARG ...]
 * EVENT and each GLOB are shell patterns (fnmatch); FIELD host is the
 * record's host.  A record matches when its event matches and every
 * condition has a field whose value (true/false, a number, a string, or
 * any item of a list) matches.  The word unknown among the conditions
 * matches only records whose device (mac, else device_id) is not marked
 * known.
 */
#ifndef LABWATCH_ALERTRULE_H
#define LABWATCH_ALERTRULE_H

#include "record.h"

#define ALERT_WORDS_MAX		32	/* conditions, or arguments */
#define ALERT_NAME_MAX		64

struct alert_rule {
	char	 name[ALERT_NAME_MAX + 1];
	char	*event;
	char	*field[ALERT_WORDS_MAX], *glob[ALERT_WORDS_MAX];
	int	 nconds;
	int	 unknown;	/* only devices not marked known */
	char	*argv[ALERT_WORDS_MAX + 1];	/* NULL-terminated */
	int	 argc;
	char	*words;		/* the line, cut into the strings above */
};

/*
 * Parses a rule (the value of an alert line).  The command must be an
 * absolute path.  Returns 0, or -1 with *err.
 */
int	alertrule_parse(const char *, struct alert_rule *, const char **);
void	alertrule_free(struct alert_rule *);
/* How unknown asks whether a MAC or device_id is marked known. */
void	alertrule_known(int (*)(const char *));
/* Whether the record of host matches the rule. */
int	alertrule_match(const struct alert_rule *, const char *,
	    const struct record *);

#endif
