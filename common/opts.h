/* SPDX-License-Identifier: ISC */
/*
 * One table of options drives the command line, the configuration file
 * ("key value" lines), --help, -n (the effective configuration) and the
 * option lists of the manual pages, so they cannot drift apart.
 */
#ifndef LABWATCH_OPTS_H
#define LABWATCH_OPTS_H

#include <stddef.h>
#include <stdio.h>

enum opt_type {
	OPT_FLAG,	/* int; no argument; in a file: yes or no */
	OPT_STR,	/* const char * */
	OPT_INT,	/* int in [min, max] */
	OPT_LLONG,	/* long long in [min, max] */
	OPT_CHOICE,	/* int: the index of the word in arg ("text|json") */
	OPT_LIST,	/* struct opt_list: repeatable */
	OPT_ACTION,	/* command line only: --help, --version, --config, -n */
};

#define OPT_CLI		0x01	/* command line only */
#define OPT_FILE	0x02	/* configuration file only */
#define OPT_EMPTY_OK	0x04	/* a string that may be empty */

/* Where a value came from: file and line, or the command line (NULL, 0). */
struct opt_src {
	const char	*file;
	int		 line;
};

struct opt_list {
	const char	**v;
	struct opt_src	*src;
	int		  n;
};

struct opt {
	const char	*name;		/* long option and configuration key */
	int		 short_name;	/* or 0 */
	enum opt_type	 type;
	size_t		 off;		/* offsetof the value in the conf */
	const char	*arg;		/* "HOST:PORT"; for OPT_CHOICE the words */
	long long	 min, max;	/* OPT_INT, OPT_LLONG */
	const char	*def;		/* the default as a file would say it */
	/* The first sentence is the --help line; the whole, the manual's. */
	const char	*help;
	int		 flags;
	/* Further checks of a value: 0, or -1 with *err. */
	int		(*check)(const char *, const char **);
};

/* Actions for OPT_ACTION options: their off field holds one. */
enum opt_action {
	OPT_DO_HELP,
	OPT_DO_VERSION,
	OPT_DO_CONFIG,
	OPT_DO_CHECK,
};

/* The command-line actions of every daemon; deffile is its configuration. */
#define OPTS_ACTIONS(deffile)						\
	{ "config", 0, OPT_ACTION, OPT_DO_CONFIG, "FILE", 0, 0, deffile,	\
	  "Read this configuration file. The default file may be absent; "\
	  "options on the command line override it.", OPT_CLI, NULL },	\
	{ "check", 'n', OPT_ACTION, OPT_DO_CHECK, NULL, 0, 0, NULL,	\
	  "Check the configuration, print the effective one and exit. The "\
	  "exit status is 0 when it is good, 2 when not.", OPT_CLI, NULL },\
	{ "help", 'h', OPT_ACTION, OPT_DO_HELP, NULL, 0, 0, NULL,	\
	  "Print this summary of the options.", OPT_CLI, NULL },		\
	{ "version", 'V', OPT_ACTION, OPT_DO_VERSION, NULL, 0, 0, NULL,	\
	  "Print the version.", OPT_CLI, NULL }

struct opts {
	const char		*prog;		/* "labwatch-agent" */
	const char		*usage;		/* synopsis lines after "usage: " */
	const struct opt	*tab;
	size_t			 n;
	void			*conf;
	const char		*config;	/* the file read, if any */
	int			 check;		/* -n */
	struct opt_src		*src;		/* per option; file NULL: not from one */
	unsigned char		*given;		/* per option: set by file or line */
};

/*
 * Reads the command line and the configuration file (--config FILE, else
 * deffile if it exists) into conf: the file first, then the command line,
 * whose repeatable options replace the file's.  Defaults are conf's initial
 * values.  Prints usage errors as "prog: --opt value: what" and file errors
 * as "file:line: what", then exits 2; --help and --version exit 0.
 */
void	opts_parse(struct opts *, int, char **, const char *deffile);
/* Frees what opts_parse kept about where each value came from. */
void	opts_free(struct opts *);
/* Whether the option was set by the file or the command line. */
int	opts_given(const struct opts *, const char *);
/*
 * A usage error about an option: "file:line: msg" when the file set it,
 * "prog: msg" otherwise.  Exits 2.
 */
void	opts_fail(const struct opts *, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4), noreturn));
/* Writes the effective configuration as the file would say it. */
void	opts_print(const struct opts *, FILE *);
/* Writes --help. */
void	opts_help(const struct opts *, FILE *);
/* Writes the option list of a manual page (mdoc), or of labwatch.conf(5). */
void	opts_man(const struct opt *, size_t, FILE *, int conffile);
/* Writes a configuration file with every option commented, and defaults. */
void	opts_sample(const struct opt *, size_t, FILE *);

/* Checks for opt.check. */
int	opts_check_hostport(const char *, const char **);
int	opts_check_cidr(const char *, const char **);

#endif
