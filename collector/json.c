/* SPDX-License-Identifier: ISC */
/* The dashboard's bounded JSON object parser: see json.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "json.h"

struct json_in {
	const char	*p, *end;
	char		*out, *out_end;		/* into store */
	const char	*err;
};

static void
json_ws(struct json_in *in)
{
	while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' ||
	    *in->p == '\n' || *in->p == '\r'))
		in->p++;
}

static int
json_fail(struct json_in *in, const char *why)
{
	if (in->err == NULL)
		in->err = why;
	return -1;
}

static int
json_hex4(struct json_in *in, uint32_t *v)
{
	if (in->end - in->p < 4)
		return json_fail(in, "truncated \\u escape");
	if (hex4(in->p, v) == -1)
		return json_fail(in, "bad \\u escape");
	in->p += 4;
	return 0;
}

static int
json_put(struct json_in *in, const void *s, size_t n)
{
	if ((size_t)(in->out_end - in->out) < n)
		return json_fail(in, "too long");
	memcpy(in->out, s, n);
	in->out += n;
	return 0;
}

/* Appends code point cp as UTF-8. */
static int
json_put_cp(struct json_in *in, uint32_t cp)
{
	uint8_t	u[4];

	return json_put(in, u, utf8_put(u, cp));
}

static int
json_escape(struct json_in *in)
{
	uint32_t	cp, lo;
	char		c;

	if (in->p >= in->end)
		return json_fail(in, "truncated escape");
	switch ((c = *in->p++)) {
	case '"': case '\\': case '/':
		return json_put(in, &c, 1);
	case 'b': return json_put(in, "\b", 1);
	case 'f': return json_put(in, "\f", 1);
	case 'n': return json_put(in, "\n", 1);
	case 'r': return json_put(in, "\r", 1);
	case 't': return json_put(in, "\t", 1);
	case 'u':
		break;
	default:
		return json_fail(in, "bad escape");
	}
	if (json_hex4(in, &cp) == -1)
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return json_fail(in, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (in->end - in->p < 2 || in->p[0] != '\\' || in->p[1] != 'u')
			return json_fail(in, "lone high surrogate");
		in->p += 2;
		if (json_hex4(in, &lo) == -1)
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return json_fail(in, "lone high surrogate");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return json_fail(in, "NUL in a string");
	return json_put_cp(in, cp);
}

/* A string at in->p (on its quote): decoded into store, *s and *len. */
static int
json_string(struct json_in *in, const char **s, size_t *len)
{
	char		*start = in->out;
	uint32_t	 cp;
	size_t		 n;

	if (in->p >= in->end || *in->p != '"')
		return json_fail(in, "expected a string");
	in->p++;
	for (;;) {
		if (in->p >= in->end)
			return json_fail(in, "unterminated string");
		if (*in->p == '"')
			break;
		if (*in->p == '\\') {
			in->p++;
			if (json_escape(in) == -1)
				return -1;
			continue;
		}
		if ((unsigned char)*in->p < 0x20)
			return json_fail(in, "control character in a string");
		n = utf8_decode((const uint8_t *)in->p,
		    (size_t)(in->end - in->p), &cp);
		if (n == 0)
			return json_fail(in, "invalid UTF-8");
		if (json_put(in, in->p, n) == -1)
			return -1;
		in->p += n;
	}
	in->p++;
	*len = (size_t)(in->out - start);
	if (json_put(in, "", 1) == -1)
		return -1;
	*s = start;
	return 0;
}

/* A number as JSON spells it (no leading zeros, no hex, no inf). */
static int
json_number(struct json_in *in, double *v)
{
	const char	*s = in->p;
	char		 tmp[64], *end;
	size_t		 n;

	if (in->p < in->end && *in->p == '-')
		in->p++;
	if (in->p >= in->end || *in->p < '0' || *in->p > '9')
		return json_fail(in, "bad number");
	if (*in->p == '0' && in->p + 1 < in->end && in->p[1] >= '0' &&
	    in->p[1] <= '9')
		return json_fail(in, "bad number");
	while (in->p < in->end && ((*in->p >= '0' && *in->p <= '9') ||
	    *in->p == '.' || *in->p == 'e' || *in->p == 'E' ||
	    *in->p == '+' || *in->p == '-'))
		in->p++;
	n = (size_t)(in->p - s);
	if (n >= sizeof(tmp))
		return json_fail(in, "number too long");
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*v = strtod(tmp, &end);
	if (*end != '\0' || tmp[n - 1] == '.' || strstr(tmp, ".e") != NULL ||
	    strstr(tmp, ".E") != NULL)
		return json_fail(in, "bad number");
	return 0;
}

static int
json_word(struct json_in *in, const char *w)
{
	size_t	n = strlen(w);

	if ((size_t)(in->end - in->p) < n || memcmp(in->p, w, n) != 0)
		return json_fail(in, "bad value");
	in->p += n;
	return 0;
}

static int
json_value(struct json_in *in, struct json_field *f)
{
	if (in->p >= in->end)
		return json_fail(in, "truncated");
	switch (*in->p) {
	case '"':
		f->type = JSON_STR;
		return json_string(in, &f->str, &f->len);
	case '{':
	case '[':
		return json_fail(in, "nested values are not accepted");
	case 't':
		f->type = JSON_BOOL;
		f->b = 1;
		return json_word(in, "true");
	case 'f':
		f->type = JSON_BOOL;
		f->b = 0;
		return json_word(in, "false");
	case 'n':
		f->type = JSON_NULL;
		return json_word(in, "null");
	default:
		f->type = JSON_NUM;
		return json_number(in, &f->num);
	}
}

int
json_parse(struct json_obj *o, const char *s, size_t len, const char **err)
{
	struct json_in		 in = { s, s + len, o->store,
				    o->store + sizeof(o->store), NULL };
	struct json_field	*f;
	const char		*key;
	size_t			 klen;

	o->n = 0;
	if (len > JSON_MAX_IN) {
		*err = "body too large";
		return -1;
	}
	json_ws(&in);
	if (in.p >= in.end || *in.p != '{') {
		*err = "expected an object";
		return -1;
	}
	in.p++;
	json_ws(&in);
	if (in.p < in.end && *in.p == '}')
		in.p++;
	else
		for (;;) {
			if (o->n == JSON_MAX_FIELDS) {
				*err = "too many members";
				return -1;
			}
			f = &o->f[o->n];
			json_ws(&in);
			if (json_string(&in, &key, &klen) == -1)
				goto bad;
			if (klen > JSON_KEY_MAX || klen == 0) {
				*err = "bad key";
				return -1;
			}
			if (json_get(o, key) != NULL) {
				*err = "duplicate key";
				return -1;
			}
			memcpy(f->key, key, klen + 1);
			in.out = (char *)(uintptr_t)key;  /* the key's room back */
			json_ws(&in);
			if (in.p >= in.end || *in.p++ != ':') {
				*err = "expected ':'";
				return -1;
			}
			json_ws(&in);
			if (json_value(&in, f) == -1)
				goto bad;
			o->n++;
			json_ws(&in);
			if (in.p < in.end && *in.p == ',') {
				in.p++;
				continue;
			}
			if (in.p < in.end && *in.p == '}') {
				in.p++;
				break;
			}
			*err = "expected ',' or '}'";
			return -1;
		}
	json_ws(&in);
	if (in.p != in.end) {
		*err = "trailing bytes";
		return -1;
	}
	return 0;
bad:
	*err = in.err != NULL ? in.err : "bad JSON";
	return -1;
}

const struct json_field *
json_get(const struct json_obj *o, const char *key)
{
	int	i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->f[i].key, key) == 0)
			return &o->f[i];
	return NULL;
}

const char *
json_str(const struct json_obj *o, const char *key)
{
	const struct json_field	*f = json_get(o, key);

	return f != NULL && f->type == JSON_STR ? f->str : NULL;
}
