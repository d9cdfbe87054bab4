/* SPDX-License-Identifier: ISC */
/* The configuration file's syntax: "key value" lines and "#" comments. */
#include <string.h>

#include "conffile.h"

/* Whether the line is one key and a value; fills key and value. */
static const char *
conffile_line(char *line, char *key, const char **value)
{
	char	*p = line, *end, *hash;
	size_t	 klen;

	for (end = line; *end != '\0'; end++)
		if ((unsigned char)*end < 0x20 && *end != '\t')
			return "control byte in the line";
		else if (*end == 0x7f)
			return "control byte in the line";
	/* A comment: at the start, or after white space. */
	for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++)
		if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
			*hash = '\0';
			end = hash;
			break;
		}
	while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		key[0] = '\0';
		return NULL;
	}
	klen = strcspn(p, " \t");
	if (klen > CONFFILE_KEY_MAX)
		return "key too long";
	if (strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-") < klen)
		return "a key is lower-case letters, digits and -";
	memcpy(key, p, klen);
	key[klen] = '\0';
	p += klen;
	while (*p == ' ' || *p == '\t')
		p++;
	*value = p;
	return NULL;
}

int
conffile_parse(const char *text, size_t len,
    int (*cb)(const char *, const char *, int, void *),
    void (*err)(int, const char *, void *), void *arg)
{
	char		 line[CONFFILE_LINE_MAX + 1];
	char		 key[CONFFILE_KEY_MAX + 1];
	const char	*nl, *why, *value;
	size_t		 off = 0, n;
	int		 lineno = 0, errors = 0;

	while (off < len) {
		lineno++;
		nl = memchr(text + off, '\n', len - off);
		n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		if (n > CONFFILE_LINE_MAX)
			why = "line too long";
		else if (memchr(text + off, '\0', n) != NULL)
			why = "NUL byte in the line";
		else {
			memcpy(line, text + off, n);
			line[n] = '\0';
			if ((why = conffile_line(line, key, &value)) == NULL &&
			    key[0] != '\0' && cb(key, value, lineno, arg) == -1)
				errors++;
		}
		if (why != NULL) {
			err(lineno, why, arg);
			errors++;
		}
		off += n + 1;
	}
	return errors;
}
