/* SPDX-License-Identifier: ISC */
/*
 * The option table at work: command line, configuration file, --help, -n
 * and the manual pages' option lists.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "cidr.h"
#include "conffile.h"
#include "num.h"
#include "opts.h"
#include "readfile.h"
#include "xmalloc.h"

#define HELP_COL	30	/* where --help's text starts */
#define HELP_WIDTH	79

struct pending {		/* a command-line option, applied last */
	size_t		 i;
	const char	*arg;
};

static void *
opts_ptr(const struct opts *o, const struct opt *t)
{
	return (char *)o->conf + t->off;
}

static const struct opt *
opts_find(const struct opts *o, const char *name, size_t *idx)
{
	size_t	i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->tab[i].name, name) == 0) {
			if (idx != NULL)
				*idx = i;
			return &o->tab[i];
		}
	return NULL;
}

/* The index of word in "a|b|c", or -1. */
static int
opts_choice(const char *words, const char *word)
{
	size_t	len = strlen(word);
	int	i = 0;

	for (;;) {
		if (strncmp(words, word, len) == 0 &&
		    (words[len] == '|' || words[len] == '\0') && len > 0)
			return i;
		if ((words = strchr(words, '|')) == NULL)
			return -1;
		words++;
		i++;
	}
}

/* Writes the word at index i of "a|b|c". */
static void
opts_choice_word(FILE *f, const char *words, int i)
{
	while (i-- > 0 && (words = strchr(words, '|')) != NULL)
		words++;
	if (words != NULL)
		fprintf(f, "%.*s", (int)strcspn(words, "|"), words);
}

/*
 * Sets option i from value (NULL: a flag on the command line).  Returns 0,
 * or -1 with *err (which may point into ebuf).
 */
static int
opts_set(struct opts *o, size_t i, const char *value, struct opt_src src,
    int replace_list, char *ebuf, size_t elen, const char **err)
{
	const struct opt	*t = &o->tab[i];
	struct opt_list		*l;
	long long		 v;
	int			 c;

	if (value != NULL && value[0] == '\0' && t->type != OPT_FLAG &&
	    !(t->flags & OPT_EMPTY_OK)) {
		*err = "needs a value";
		return -1;
	}
	if (t->check != NULL && value != NULL && t->check(value, err) == -1)
		return -1;
	switch (t->type) {
	case OPT_FLAG:
		if (value == NULL || strcmp(value, "yes") == 0 ||
		    value[0] == '\0')
			*(int *)opts_ptr(o, t) = 1;
		else if (strcmp(value, "no") == 0)
			*(int *)opts_ptr(o, t) = 0;
		else {
			*err = "use yes or no";
			return -1;
		}
		break;
	case OPT_STR:
		/* A copy the file made, replaced: kept nowhere else. */
		if (o->given[i] && o->src[i].file != NULL)
			free(*(char **)opts_ptr(o, t));
		*(const char **)opts_ptr(o, t) = value;
		break;
	case OPT_INT:
	case OPT_LLONG:
		if (num_parse(value, t->min, t->max, &v, err) == -1) {
			snprintf(ebuf, elen, "%s (%lld to %lld)", *err, t->min,
			    t->max);
			*err = ebuf;
			return -1;
		}
		if (t->type == OPT_INT)
			*(int *)opts_ptr(o, t) = (int)v;
		else
			*(long long *)opts_ptr(o, t) = v;
		break;
	case OPT_CHOICE:
		if ((c = opts_choice(t->arg, value)) == -1) {
			snprintf(ebuf, elen, "use one of %s", t->arg);
			*err = ebuf;
			return -1;
		}
		*(int *)opts_ptr(o, t) = c;
		break;
	case OPT_LIST:
		l = opts_ptr(o, t);
		for (; replace_list && l->n > 0; l->n--)
			if (l->src[l->n - 1].file != NULL)
				free((char *)(uintptr_t)l->v[l->n - 1]);
		l->v = xreallocarray(l->v, (size_t)l->n + 1, sizeof(*l->v));
		l->src = xreallocarray(l->src, (size_t)l->n + 1,
		    sizeof(*l->src));
		l->v[l->n] = value;
		l->src[l->n++] = src;
		break;
	case OPT_ACTION:
		*err = "only on the command line";
		return -1;
	}
	o->src[i] = src;
	o->given[i] = 1;
	return 0;
}

struct file_ctx {
	struct opts	*o;
	const char	*path;
};

static void
opts_file_err(int line, const char *msg, void *arg)
{
	struct file_ctx	*fc = arg;

	fprintf(stderr, "%s:%d: %s\n", fc->path, line, msg);
}

static int
opts_file_cb(const char *key, const char *value, int line, void *arg)
{
	struct file_ctx		*fc = arg;
	const struct opt	*t;
	struct opt_src		 src = { fc->path, line };
	char			 ebuf[128];
	const char		*err;
	char			*dup;
	size_t			 i;

	if ((t = opts_find(fc->o, key, &i)) == NULL ||
	    (t->flags & OPT_CLI) || t->type == OPT_ACTION) {
		fprintf(stderr, "%s:%d: unknown option %s\n", fc->path, line,
		    key);
		return -1;
	}
	if (opts_set(fc->o, i, dup = xstrdup(value), src, 0, ebuf,
	    sizeof(ebuf), &err) == -1) {
		fprintf(stderr, "%s:%d: %s%s%s: %s\n", fc->path, line, key,
		    value[0] != '\0' ? " " : "", value, err);
		free(dup);	/* a refused value is kept nowhere */
		return -1;
	}
	/* Only strings and lists keep the text; numbers and words are read. */
	if (t->type != OPT_STR && t->type != OPT_LIST)
		free(dup);
	return 0;
}

/* Reads the configuration file; exits 2 on any error in it. */
static void
opts_load(struct opts *o, const char *path, int must_exist)
{
	struct file_ctx	 fc = { o, path };
	size_t		 len;
	char		*text;

	if ((text = readfile(path, CONFFILE_MAX, &len)) == NULL) {
		if (errno == ENOENT && !must_exist)
			return;
		fprintf(stderr, "%s: %s: %s\n", o->prog, path,
		    errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		exit(2);
	}
	o->config = path;
	if (conffile_parse(text, len, opts_file_cb, opts_file_err, &fc) > 0)
		exit(2);
	free(text);
}

static void __attribute__((noreturn))
opts_usage_exit(const struct opts *o)
{
	fprintf(stderr, "usage: %s\n(%s --help for the options)\n", o->usage,
	    o->prog);
	exit(2);
}

void
opts_free(struct opts *o)
{
	free(o->src);
	free(o->given);
	o->src = NULL;
	o->given = NULL;
}

void
opts_parse(struct opts *o, int argc, char **argv, const char *deffile)
{
	struct option		*lo;
	struct pending		*pend;
	struct opt_src		 cli = { NULL, 0 };
	const struct opt	*t;
	const char		*config = NULL, *err;
	char			 shorts[128], ebuf[128];
	size_t			 i, nlo = 0, ns = 0, npend = 0;
	unsigned char		*replaced;
	int			 ch, idx;

	o->src = xcalloc(o->n, sizeof(*o->src));
	o->given = xcalloc(o->n, 1);
	replaced = xcalloc(o->n, 1);
	lo = xcalloc(o->n + 1, sizeof(*lo));
	pend = xcalloc((size_t)argc + 1, sizeof(*pend));
	shorts[ns++] = ':';
	for (i = 0; i < o->n; i++) {
		t = &o->tab[i];
		if (t->flags & OPT_FILE)
			continue;
		lo[nlo].name = t->name;
		lo[nlo].has_arg = t->type == OPT_FLAG || (t->type ==
		    OPT_ACTION && t->arg == NULL) ? no_argument :
		    required_argument;
		lo[nlo].val = 256 + (int)i;
		nlo++;
		if (t->short_name != 0 && ns + 3 < sizeof(shorts)) {
			shorts[ns++] = (char)t->short_name;
			if (lo[nlo - 1].has_arg == required_argument)
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = '\0';
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shorts, lo, &idx)) != -1) {
		if (ch == '?' || ch == ':') {
			if (optopt != 0 && optopt < 256)
				fprintf(stderr, "%s: -%c: %s\n", o->prog,
				    optopt, ch == ':' ? "needs a value" :
				    "unknown option");
			else
				fprintf(stderr, "%s: %s: %s\n", o->prog,
				    argv[optind - 1], ch == ':' ?
				    "needs a value" : "unknown option");
			opts_usage_exit(o);
		}
		if (ch < 256) {
			for (i = 0; i < o->n; i++)
				if (o->tab[i].short_name == ch &&
				    !(o->tab[i].flags & OPT_FILE))
					break;
		} else
			i = (size_t)(ch - 256);
		t = &o->tab[i];
		if (t->type == OPT_ACTION) {
			switch ((enum opt_action)t->off) {
			case OPT_DO_HELP:
				opts_help(o, stdout);
				exit(0);
			case OPT_DO_VERSION:
				printf("%s %s\n", o->prog, LABWATCH_VERSION);
				exit(0);
			case OPT_DO_CONFIG:
				config = optarg;
				break;
			case OPT_DO_CHECK:
				o->check = 1;
				break;
			}
			continue;
		}
		pend[npend].i = i;
		pend[npend++].arg = t->type == OPT_FLAG ? NULL : optarg;
	}
	if (optind != argc) {
		fprintf(stderr, "%s: %s: unexpected argument\n", o->prog,
		    argv[optind]);
		opts_usage_exit(o);
	}
	if (config != NULL)
		opts_load(o, config, 1);
	else if (deffile != NULL)
		opts_load(o, deffile, 0);
	for (i = 0; i < npend; i++) {
		t = &o->tab[pend[i].i];
		if (opts_set(o, pend[i].i, pend[i].arg, cli,
		    !replaced[pend[i].i], ebuf, sizeof(ebuf), &err) == -1) {
			fprintf(stderr, "%s: --%s%s%s: %s\n", o->prog,
			    t->name, pend[i].arg != NULL &&
			    pend[i].arg[0] != '\0' ? " " : "",
			    pend[i].arg != NULL ? pend[i].arg : "", err);
			exit(2);
		}
		replaced[pend[i].i] = 1;
	}
	free(pend);
	free(lo);
	free(replaced);
}

int
opts_given(const struct opts *o, const char *name)
{
	size_t	i;

	return opts_find(o, name, &i) != NULL && o->given[i];
}

void
opts_fail(const struct opts *o, const char *name, const char *fmt, ...)
{
	va_list	ap;
	size_t	i;

	if (name != NULL && opts_find(o, name, &i) != NULL &&
	    o->src[i].file != NULL)
		fprintf(stderr, "%s:%d: ", o->src[i].file, o->src[i].line);
	else
		fprintf(stderr, "%s: ", o->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

void
opts_print(const struct opts *o, FILE *f)
{
	const struct opt	*t;
	const struct opt_list	*l;
	const char		*s;
	size_t			 i;
	int			 j;

	fprintf(f, "# %s: the effective configuration (%s)\n", o->prog,
	    o->config != NULL ? o->config : "no file");
	for (i = 0; i < o->n; i++) {
		t = &o->tab[i];
		if ((t->flags & OPT_CLI) || t->type == OPT_ACTION)
			continue;
		switch (t->type) {
		case OPT_FLAG:
			fprintf(f, "%s %s\n", t->name,
			    *(int *)opts_ptr(o, t) ? "yes" : "no");
			break;
		case OPT_STR:
			s = *(const char **)opts_ptr(o, t);
			if (s == NULL)
				fprintf(f, "# %s (not set)\n", t->name);
			else if (s[0] == '\0')
				fprintf(f, "%s\n", t->name);
			else
				fprintf(f, "%s %s\n", t->name, s);
			break;
		case OPT_INT:
			fprintf(f, "%s %d\n", t->name, *(int *)opts_ptr(o, t));
			break;
		case OPT_LLONG:
			fprintf(f, "%s %lld\n", t->name,
			    *(long long *)opts_ptr(o, t));
			break;
		case OPT_CHOICE:
			fprintf(f, "%s ", t->name);
			opts_choice_word(f, t->arg, *(int *)opts_ptr(o, t));
			fputc('\n', f);
			break;
		case OPT_LIST:
			l = opts_ptr(o, t);
			for (j = 0; j < l->n; j++)
				fprintf(f, "%s %s\n", t->name, l->v[j]);
			if (l->n == 0)
				fprintf(f, "# %s (default: %s)\n", t->name,
				    t->def != NULL ? t->def : "none");
			break;
		case OPT_ACTION:
			break;
		}
	}
}

/*
 * Writes s wrapped at HELP_WIDTH, continuation lines at column col after
 * prefix.
 */
static void
opts_wrap(FILE *f, const char *prefix, const char *s, size_t len, size_t col,
    size_t at)
{
	size_t	w;

	while (len > 0) {
		while (len > 0 && *s == ' ') {
			s++;
			len--;
		}
		w = 0;
		while (w < len && s[w] != ' ')
			w++;
		if (at > col && at + 1 + w > HELP_WIDTH) {
			fprintf(f, "\n%s%*s", prefix, (int)(col -
			    strlen(prefix)), "");
			at = col;
		} else if (at > col) {
			fputc(' ', f);
			at++;
		}
		fprintf(f, "%.*s", (int)w, s);
		at += w;
		s += w;
		len -= w;
	}
	fputc('\n', f);
}

/* The length of the first sentence of the help, without its stop. */
static size_t
opts_first_sentence(const char *help)
{
	const char	*p;

	for (p = help; (p = strchr(p, '.')) != NULL; p++)
		if (p[1] == ' ' || p[1] == '\0')
			return (size_t)(p - help);
	return strlen(help);
}

void
opts_help(const struct opts *o, FILE *f)
{
	const struct opt	*t;
	char			 left[128], text[512];
	size_t			 i;
	int			 n;

	fprintf(f, "usage: %s\n", o->usage);
	for (i = 0; i < o->n; i++) {
		t = &o->tab[i];
		if (t->flags & OPT_FILE)
			continue;
		n = snprintf(left, sizeof(left), "  %c%c%s--%s%s%s",
		    t->short_name ? '-' : ' ', t->short_name ? t->short_name :
		    ' ', t->short_name ? ", " : "  ", t->name,
		    t->arg != NULL ? " " : "", t->arg != NULL ? t->arg : "");
		fputs(left, f);
		if ((size_t)n + 2 > HELP_COL) {
			fprintf(f, "\n%*s", HELP_COL, "");
			n = HELP_COL;
		} else {
			fprintf(f, "%*s", HELP_COL - n, "");
			n = HELP_COL;
		}
		if (t->def != NULL && t->def[0] != '\0' &&
		    t->type != OPT_FLAG)
			snprintf(text, sizeof(text), "%.*s (default %s)",
			    (int)opts_first_sentence(t->help), t->help, t->def);
		else
			snprintf(text, sizeof(text), "%.*s",
			    (int)opts_first_sentence(t->help), t->help);
		opts_wrap(f, "", text, strlen(text), HELP_COL, (size_t)n);
	}
	fprintf(f, "Options are also \"key value\" lines of the "
	    "configuration file: labwatch.conf(5).\n");
}

/* Writes text for mdoc: a sentence a line, backslashes and dots escaped. */
static void
opts_man_text(FILE *f, const char *s)
{
	int	start = 1;
	char	prev = '\0';

	for (; *s != '\0'; prev = *s++) {
		if (start && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		start = 0;
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == ' ' && prev == '.' &&
		    s[1] >= 'A' && s[1] <= 'Z') {
			fputc('\n', f);
			start = 1;
		} else
			fputc(*s, f);
	}
	fputc('\n', f);
}

/* Writes an option's argument: Ar words, Cm for choices. */
static void
opts_man_arg(FILE *f, const struct opt *t)
{
	const char	*p;

	if (t->arg == NULL)
		return;
	if (t->type != OPT_CHOICE) {
		fprintf(f, " Ar %s", t->arg);
		return;
	}
	for (p = t->arg;; p++) {
		fprintf(f, " Cm %.*s", (int)strcspn(p, "|"), p);
		if ((p = strchr(p, '|')) == NULL)
			break;
		fputs(" |", f);
	}
}

void
opts_man(const struct opt *tab, size_t n, FILE *f, int conffile)
{
	const struct opt	*t;
	size_t			 i;

	fputs(".Bl -tag -width Ds\n", f);
	for (i = 0; i < n; i++) {
		t = &tab[i];
		if (conffile && ((t->flags & OPT_CLI) ||
		    t->type == OPT_ACTION))
			continue;
		if (!conffile && (t->flags & OPT_FILE))
			continue;
		if (conffile)
			fprintf(f, ".It Ic %s", t->name);
		else if (t->short_name != 0)
			fprintf(f, ".It Fl %c , Fl \\-%s", t->short_name,
			    t->name);
		else
			fprintf(f, ".It Fl \\-%s", t->name);
		opts_man_arg(f, t);
		if (conffile && t->type == OPT_FLAG)
			fputs(" Cm yes | no", f);
		fputc('\n', f);
		opts_man_text(f, t->help);
		if (t->type == OPT_INT || t->type == OPT_LLONG)
			fprintf(f, "From %lld to %lld.\n", t->min, t->max);
		if (t->type == OPT_LIST)
			fprintf(f, "%s\n", conffile ? "May be given on several "
			    "lines." : "May be given several times.");
		if (t->def != NULL && t->def[0] != '\0') {
			fputs("Default:\n", f);
			opts_man_text(f, t->def);
		}
		if (!conffile && (t->flags & OPT_CLI))
			fputs("Not in the configuration file.\n", f);
	}
	fputs(".El\n", f);
}

/* A list's default words, one commented line each. */
static void
opts_sample_words(FILE *f, const char *name, const char *words)
{
	size_t	len;

	while (*words != '\0') {
		len = strcspn(words, " ");
		fprintf(f, "#%s %.*s\n", name, (int)len, words);
		words += len;
		words += strspn(words, " ");
	}
}

void
opts_sample(const struct opt *tab, size_t n, FILE *f)
{
	const struct opt	*t;
	size_t			 i;

	for (i = 0; i < n; i++) {
		t = &tab[i];
		if ((t->flags & OPT_CLI) || t->type == OPT_ACTION)
			continue;
		fputs("\n# ", f);
		opts_wrap(f, "# ", t->help, strlen(t->help), 2, 2);
		if (t->type == OPT_LIST && t->def != NULL && t->check != NULL)
			opts_sample_words(f, t->name, t->def);
		else if (t->type == OPT_LIST && t->def != NULL)
			fprintf(f, "# (default: %s)\n#%s %s\n", t->def,
			    t->name, t->arg);
		else if (t->def != NULL && t->def[0] != '\0')
			fprintf(f, "#%s %s\n", t->name, t->def);
		else
			fprintf(f, "#%s%s%s\n", t->name, t->arg ? " " : "",
			    t->arg ? t->arg : "");
	}
}

int
opts_check_hostport(const char *s, const char **err)
{
	char	host[ADDR_HOST_MAX], port[ADDR_PORT_MAX];

	if (addr_split(s, host, sizeof(host), port, err) == -1)
		return -1;
	if (host[0] == '\0') {
		*err = "the host is missing (HOST:PORT)";
		return -1;
	}
	return 0;
}

int
opts_check_cidr(const char *s, const char **err)
{
	uint8_t	addr[16];
	int	af, plen;

	return cidr_parse(s, &af, addr, &plen, err);
}
