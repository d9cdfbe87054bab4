/* SPDX-License-Identifier: ISC */
/*
 * optdoc: writes what the option tables document, for scripts/update-options
 * to put in place: the sample configuration files and the option lists of
 * the manual pages.
 *   optdoc sample|man|conf agent|collector
 */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "collector.h"
#include "opts.h"

static const char *const header =
"# /etc/labwatch/%s.conf: the configuration of labwatch-%s; see\n"
"# labwatch.conf(5).  \"key value\" lines; # starts a comment.  Every\n"
"# option is here, commented out, with its default; an option given on the\n"
"# command line overrides the file.  labwatch-%s -n checks this file\n"
"# and prints the configuration in effect.\n";

int
main(int argc, char *argv[])
{
	const struct opt	*tab;
	size_t			 n;

	if (argc != 3 || (strcmp(argv[2], "agent") != 0 &&
	    strcmp(argv[2], "collector") != 0)) {
		fprintf(stderr, "usage: optdoc sample|man|conf "
		    "agent|collector\n");
		return 2;
	}
	if (strcmp(argv[2], "agent") == 0) {
		tab = agent_opts;
		n = agent_nopts;
	} else {
		tab = collector_opts;
		n = collector_nopts;
	}
	if (strcmp(argv[1], "sample") == 0) {
		printf(header, argv[2], argv[2], argv[2]);
		opts_sample(tab, n, stdout);
	} else if (strcmp(argv[1], "man") == 0)
		opts_man(tab, n, stdout, 0);
	else if (strcmp(argv[1], "conf") == 0)
		opts_man(tab, n, stdout, 1);
	else
		return 2;
	return 0;
}
