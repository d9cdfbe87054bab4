/* SPDX-License-Identifier: ISC */
/* Alert rules: parsing and matching, no I/O. */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertrule.h"
#include "hostname.h"
#include "xmalloc.h"

static int	(*is_known)(const char *);

void
alertrule_known(int (*fn)(const char *))
{
	is_known = fn;
}

int
alertrule_parse(const char *line, struct alert_rule *r, const char **err)
{
	char	*w, *save = NULL, *eq;
	int	 arrow = 0, n = 0;

	memset(r, 0, sizeof(*r));
	r->words = xstrdup(line);
	for (w = strtok_r(r->words, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save), n++) {
		if (n == 0) {
			if (strlen(w) > ALERT_NAME_MAX ||
			    !hostname_ok(w, strlen(w))) {
				*err = "a rule's name is 1-64 of [A-Za-z0-9._-]";
				goto bad;
			}
			strcpy(r->name, w);
		} else if (n == 1 && strcmp(w, "->") != 0)
			r->event = w;
		else if (strcmp(w, "->") == 0 && !arrow)
			arrow = 1;
		else if (arrow) {
			if (r->argc == ALERT_WORDS_MAX) {
				*err = "too many arguments";
				goto bad;
			}
			r->argv[r->argc++] = w;
		} else if (strcmp(w, "unknown") == 0) {
			r->unknown = 1;
		} else {
			if ((eq = strchr(w, '=')) == NULL || eq == w) {
				*err = "a condition is FIELD=GLOB";
				goto bad;
			}
			if (r->nconds == ALERT_WORDS_MAX) {
				*err = "too many conditions";
				goto bad;
			}
			*eq = '\0';
			r->field[r->nconds] = w;
			r->glob[r->nconds++] = eq + 1;
		}
	}
	if (r->event == NULL) {
		*err = "expected NAME EVENT [FIELD=GLOB ...] [unknown] -> "
		    "COMMAND [ARG ...]";
		goto bad;
	}
	if (r->argc == 0) {
		*err = "no command after ->";
		goto bad;
	}
	if (r->argv[0][0] != '/') {
		*err = "the command must be an absolute path (no shell runs it)";
		goto bad;
	}
	return 0;
bad:
	alertrule_free(r);
	return -1;
}

void
alertrule_free(struct alert_rule *r)
{
	free(r->words);
	r->words = NULL;
}

/* Whether a field's value (any item of a list) matches glob. */
static int
alertrule_field(const struct record *rec, const struct field *f,
    const char *glob)
{
	const uint8_t	*base = record_bytes(rec);
	char		 v[RECORD_STR_MAX + 1];
	const struct span *sp;
	uint32_t	 i;

	switch (f->type) {
	case FIELD_STR:
		snprintf(v, sizeof(v), "%.*s", (int)f->v.str.len,
		    (const char *)base + f->v.str.off);
		break;
	case FIELD_BOOL:
		snprintf(v, sizeof(v), "%s", f->v.b ? "true" : "false");
		break;
	case FIELD_LIST:
		for (i = 0; i < f->v.list.n; i++) {
			sp = &rec->items[f->v.list.first + i];
			snprintf(v, sizeof(v), "%.*s", (int)sp->len,
			    (const char *)base + sp->off);
			if (fnmatch(glob, v, 0) == 0)
				return 1;
		}
		return 0;
	default:
		snprintf(v, sizeof(v), "%" PRId64, f->v.i);
		break;
	}
	return fnmatch(glob, v, 0) == 0;
}

int
alertrule_match(const struct alert_rule *r, const char *host,
    const struct record *rec)
{
	const struct field	*f;
	char			 ev[RECORD_EVENT_MAX + 1];
	int			 i;

	snprintf(ev, sizeof(ev), "%.*s", (int)rec->event.len,
	    (const char *)record_bytes(rec) + rec->event.off);
	if (fnmatch(r->event, ev, 0) != 0)
		return 0;
	for (i = 0; i < r->nconds; i++) {
		if (strcmp(r->field[i], "host") == 0) {
			if (fnmatch(r->glob[i], host, 0) != 0)
				return 0;
			continue;
		}
		if ((f = record_get(rec, r->field[i])) == NULL ||
		    !alertrule_field(rec, f, r->glob[i]))
			return 0;
	}
	if (r->unknown) {
		char	id[RECORD_STR_MAX + 1];

		if (record_get_str(rec, "mac", id, sizeof(id))[0] == '\0' &&
		    record_get_str(rec, "device_id", id, sizeof(id))[0] == '\0')
			return 0;
		if (is_known != NULL && is_known(id))
			return 0;
	}
	return 1;
}
