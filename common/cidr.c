/* SPDX-License-Identifier: ISC */
/* Prefix sets: a binary trie per address family over one node array. */
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "log.h"
#include "num.h"
#include "xmalloc.h"

struct cidr_node {
	uint32_t	child[2];	/* 0: none (node 0 is never a child) */
	int32_t		label;		/* -1: no prefix ends here */
};

struct cidr_set {
	struct cidr_node *nodes;	/* 0: IPv4 root, 1: IPv6 root */
	size_t		  nnodes, cap;
	size_t		  count;
	char		 *labels[CIDR_LABELS_MAX];
	int		  nlabels;
	int		  last_label;
};

struct cidr_set *
cidr_new(void)
{
	struct cidr_set	*s;

	s = xcalloc(1, sizeof(*s));
	s->cap = 1024;
	s->nodes = xcalloc(s->cap, sizeof(*s->nodes));
	s->nnodes = 2;
	s->nodes[0].label = s->nodes[1].label = -1;
	s->last_label = -1;
	return s;
}

void
cidr_free(struct cidr_set *s)
{
	int	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nlabels; i++)
		free(s->labels[i]);
	free(s->nodes);
	free(s);
}

int
cidr_parse(const char *str, int *af, uint8_t addr[16], int *plen,
    const char **err)
{
	char		 a[INET6_ADDRSTRLEN + 1];
	const char	*slash;
	long long	 n;
	size_t		 len, maxlen;
	int		 i, bits;

	slash = strchr(str, '/');
	len = slash != NULL ? (size_t)(slash - str) : strlen(str);
	if (len == 0 || len >= sizeof(a)) {
		*err = "not an IPv4 or IPv6 address";
		return -1;
	}
	memcpy(a, str, len);
	a[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, a, addr) == 1) {
		*af = 4;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, a, addr) == 1) {
		*af = 6;
		maxlen = 128;
	} else {
		*err = "not an IPv4 or IPv6 address";
		return -1;
	}
	if (slash == NULL)
		n = (long long)maxlen;
	else if (num_parse(slash + 1, 0, (long long)maxlen, &n, err) == -1) {
		*err = *af == 4 ? "prefix length must be 0 to 32" :
		    "prefix length must be 0 to 128";
		return -1;
	}
	bits = (int)n;
	for (i = bits; i < (int)maxlen; i++)
		if (addr[i / 8] & (0x80 >> (i % 8))) {
			*err = "host bits set after the prefix length";
			return -1;
		}
	*plen = bits;
	return 0;
}

void
cidr_add(struct cidr_set *s, int af, const uint8_t *addr, int plen, int label)
{
	uint32_t	n = af == 4 ? 0 : 1;
	int		i, bit;

	for (i = 0; i < plen; i++) {
		bit = addr[i / 8] >> (7 - i % 8) & 1;
		if (s->nodes[n].child[bit] == 0) {
			if (s->nnodes == s->cap) {
				s->nodes = xreallocarray(s->nodes, s->cap * 2,
				    sizeof(*s->nodes));
				s->cap *= 2;
			}
			s->nodes[s->nnodes].child[0] = 0;
			s->nodes[s->nnodes].child[1] = 0;
			s->nodes[s->nnodes].label = -1;
			s->nodes[n].child[bit] = (uint32_t)s->nnodes++;
		}
		n = s->nodes[n].child[bit];
	}
	s->nodes[n].label = label;
	s->count++;
}

int
cidr_label(struct cidr_set *s, const char *name)
{
	int	i;

	if (s->last_label >= 0 && strcmp(s->labels[s->last_label], name) == 0)
		return s->last_label;
	for (i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i], name) == 0)
			return s->last_label = i;
	if (s->nlabels == CIDR_LABELS_MAX - 1)
		name = "other";
	for (i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i], name) == 0)
			return s->last_label = i;
	s->labels[s->nlabels] = xstrdup(name);
	return s->last_label = s->nlabels++;
}

const char *
cidr_label_name(const struct cidr_set *s, int i)
{
	return i >= 0 && i < s->nlabels ? s->labels[i] : "";
}

int
cidr_lookup(const struct cidr_set *s, int af, const uint8_t *addr)
{
	uint32_t	n = af == 4 ? 0 : 1;
	int		i, bits = af == 4 ? 32 : 128, best;

	best = s->nodes[n].label;
	for (i = 0; i < bits; i++) {
		n = s->nodes[n].child[addr[i / 8] >> (7 - i % 8) & 1];
		if (n == 0)
			break;
		if (s->nodes[n].label >= 0)
			best = s->nodes[n].label;
	}
	return best;
}

size_t
cidr_count(const struct cidr_set *s)
{
	return s->count;
}

int
cidr_load(struct cidr_set *s, const char *path, const char *deflabel)
{
	FILE		*f;
	char		 line[CIDR_LINE_MAX + 2], *p, *tok, *label, *save;
	const char	*err;
	uint8_t		 addr[16];
	size_t		 lineno = 0, len;
	int		 af, plen, bad = 0, c;

	if ((f = fopen(path, "re")) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			while ((c = getc(f)) != EOF && c != '\n')
				;
			log_warnx("%s:%zu: line longer than %d bytes", path,
			    lineno, CIDR_LINE_MAX);
			bad++;
			continue;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		if ((tok = strtok_r(line, " \t\r", &save)) == NULL)
			continue;
		label = strtok_r(NULL, " \t\r", &save);
		if (label != NULL && strtok_r(NULL, " \t\r", &save) != NULL) {
			log_warnx("%s:%zu: expected CIDR [LABEL]", path,
			    lineno);
			bad++;
			continue;
		}
		if (cidr_parse(tok, &af, addr, &plen, &err) == -1) {
			log_warnx("%s:%zu: %s: %s", path, lineno, tok, err);
			bad++;
			continue;
		}
		cidr_add(s, af, addr, plen,
		    cidr_label(s, label != NULL ? label : deflabel));
	}
	if (ferror(f)) {
		log_warn("%s", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return bad;
}
