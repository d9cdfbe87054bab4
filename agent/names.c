/* SPDX-License-Identifier: ISC */
/* Names for conversations: TLS SNI, HTTP Host, DNS answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "names.h"
#include "quic.h"
#include "rbuf.h"
#include "xmalloc.h"

#define TLS_HANDSHAKE		22
#define TLS_CLIENT_HELLO	1
#define TLS_EXT_SNI		0

#define DNS_A		1
#define DNS_CNAME	5
#define DNS_AAAA	28
#define DNS_CLASS_IN	1
#define DNS_JUMPS_MAX	32
#define DNS_RR_MAX	256
#define DNS_QUERY_WAYS	4
#define NAMES_DNS_KEY	39	/* af, id, two ports, two addresses */

const char *
names_source_str(int s)
{
	switch (s) {
	case NAME_SNI:
		return "sni";
	case NAME_HTTP:
		return "http";
	case NAME_DNS:
		return "dns";
	default:
		return NULL;
	}
}

/* Copies a name of len bytes to out; refuses empty names and NUL bytes. */
static int
names_copy(char out[NAMES_MAX], const uint8_t *p, size_t len)
{
	if (len == 0 || len >= NAMES_MAX || memchr(p, '\0', len) != NULL)
		return 0;
	memcpy(out, p, len);
	out[len] = '\0';
	return 1;
}

/* The ClientHello body after its 4-byte header: find the SNI extension. */
static int
names_hello_body(struct rbuf *rb, char out[NAMES_MAX])
{
	const uint8_t	*name;
	uint16_t	 n16, type, elen, nlen;
	uint8_t		 n8, ntype;
	struct rbuf	 ext, list;

	if (rbuf_skip(rb, 2 + 32) == -1 || rbuf_get_u8(rb, &n8) == -1 ||
	    rbuf_skip(rb, n8) == -1 || rbuf_get_u16(rb, &n16) == -1 ||
	    rbuf_skip(rb, n16) == -1 || rbuf_get_u8(rb, &n8) == -1 ||
	    rbuf_skip(rb, n8) == -1 || rbuf_get_u16(rb, &n16) == -1)
		return 0;
	if (rbuf_left(rb) > n16)
		rb->len = rb->off + n16;
	while (rbuf_left(rb) >= 4) {
		if (rbuf_get_u16(rb, &type) == -1 ||
		    rbuf_get_u16(rb, &elen) == -1 ||
		    rbuf_get_ptr(rb, elen, &name) == -1)
			return 0;
		if (type != TLS_EXT_SNI)
			continue;
		rbuf_init(&ext, name, elen);
		if (rbuf_get_u16(&ext, &n16) == -1 ||
		    rbuf_get_ptr(&ext, n16, &name) == -1)
			return 0;
		rbuf_init(&list, name, n16);
		while (rbuf_left(&list) >= 3) {
			if (rbuf_get_u8(&list, &ntype) == -1 ||
			    rbuf_get_u16(&list, &nlen) == -1 ||
			    rbuf_get_ptr(&list, nlen, &name) == -1)
				return 0;
			if (ntype == 0)
				return names_copy(out, name, nlen);
		}
		return 0;
	}
	return 0;
}

/*
 * A handshake message (have bytes of it so far) that must be a ClientHello:
 * 1 with the SNI in out, 0 without, -1 when more bytes are needed.
 */
static int
names_handshake(const uint8_t *hs, size_t have, char out[NAMES_MAX])
{
	struct rbuf	body;
	uint32_t	hslen;

	if (have < 4)
		return -1;
	if (hs[0] != TLS_CLIENT_HELLO)
		return 0;
	hslen = (uint32_t)hs[1] << 16 | hs[2] << 8 | hs[3];
	if (hslen > NAMES_HELLO_MAX - 4)
		return 0;
	if (have < 4 + hslen)
		return -1;
	rbuf_init(&body, hs + 4, hslen);
	return names_hello_body(&body, out);
}

int
names_tls_sni(const uint8_t *p, size_t len, char out[NAMES_MAX])
{
	static uint8_t	 hs[NAMES_HELLO_MAX];
	const uint8_t	*frag = NULL;
	struct rbuf	 rb;
	uint32_t	 hslen = 0;
	size_t		 have = 0, take;
	uint16_t	 rlen, ver;
	uint8_t		 type;

	rbuf_init(&rb, p, len);
	/* Gather handshake bytes from consecutive handshake records. */
	while (rbuf_left(&rb) > 0) {
		if (rbuf_get_u8(&rb, &type) == -1 ||
		    rbuf_get_u16(&rb, &ver) == -1 ||
		    rbuf_get_u16(&rb, &rlen) == -1)
			return -1;
		if (type != TLS_HANDSHAKE || ver >> 8 != 3 || rlen == 0)
			return 0;
		take = rlen < rbuf_left(&rb) ? rlen : rbuf_left(&rb);
		if (take > sizeof(hs) - have)
			return 0;
		rbuf_get_ptr(&rb, take, &frag);
		memcpy(hs + have, frag, take);
		have += take;
		if (hslen == 0 && have >= 4) {
			if (hs[0] != TLS_CLIENT_HELLO)
				return 0;
			hslen = (uint32_t)hs[1] << 16 | hs[2] << 8 | hs[3];
			if (hslen > sizeof(hs) - 4)
				return 0;
		}
		if (hslen != 0 && have >= 4 + hslen)
			break;
	}
	return names_handshake(hs, have, out);
}

int
names_http_host(const uint8_t *p, size_t len, char out[NAMES_MAX])
{
	static const char *const methods[] = { "GET ", "POST ", "HEAD ",
	    "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", NULL };
	const uint8_t	*line, *eol, *end = p + len, *v, *ve;
	size_t		 i, n;

	for (i = 0; methods[i] != NULL; i++) {
		n = strlen(methods[i]);
		if (len >= n && memcmp(p, methods[i], n) == 0)
			break;
	}
	if (methods[i] == NULL)
		return 0;
	if ((eol = memchr(p, '\n', len)) == NULL)
		return 0;
	for (line = eol + 1; line < end; line = eol + 1) {
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			return 0;
		n = (size_t)(eol - line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n == 0)
			return 0;	/* end of the headers */
		if (n < 5 || strncasecmp((const char *)line, "host:", 5) != 0)
			continue;
		for (v = line + 5, ve = line + n; v < ve &&
		    (*v == ' ' || *v == '\t'); v++)
			;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		return names_copy(out, v, (size_t)(ve - v));
	}
	return 0;
}

#define NAMES_TCP_MAX	(NAMES_HELLO_MAX + 5 * 16)	/* with record headers */
#define NAMES_STREAM_MIN 1024		/* a stream's first allocation */

struct names_stream {
	struct names_budget	*budget;
	uint8_t			*data;
	uint8_t			*filled;	/* QUIC: a bit per data byte */
	uint32_t		 cap;		/* bytes of data */
	uint32_t		 len;	/* TCP: bytes; QUIC: contiguous prefix */
	uint32_t		 next_seq;
};

/* What a stream of cap bytes costs its budget. */
static size_t
names_stream_cost(const struct names_stream *s, size_t cap, int quic)
{
	return sizeof(*s) + cap + (quic ? cap / 8 : 0);
}

void
names_stream_free(struct names_stream *s)
{
	if (s == NULL)
		return;
	s->budget->used -= names_stream_cost(s, s->cap, s->filled != NULL);
	free(s->data);
	free(s->filled);
	free(s);
}

/*
 * Makes *sp hold at least need bytes (need <= max), growing it by
 * doubling from NAMES_STREAM_MIN.  When the budget cannot take the
 * growth the stream is dropped, counted, and -1 returned.
 */
static int
names_stream_reserve(struct names_stream **sp, struct names_budget *b,
    size_t need, int quic, size_t max)
{
	struct names_stream	*s = *sp;
	size_t			 cap, was = 0, cost, bits = 0;

	if (s != NULL) {
		if (s->cap >= need)
			return 0;
		quic |= s->filled != NULL;
		was = names_stream_cost(s, s->cap, s->filled != NULL);
		bits = s->filled != NULL ? s->cap / 8 : 0;
	}
	for (cap = s != NULL ? s->cap : NAMES_STREAM_MIN; cap < need;
	    cap *= 2)
		;
	if (cap > max)
		cap = max;
	cost = names_stream_cost(s, cap, quic);
	if (b->used - was + cost > b->limit) {
		names_stream_free(s);
		*sp = NULL;
		b->refused++;
		return -1;
	}
	if (s == NULL) {
		s = *sp = xcalloc(1, sizeof(*s));
		s->budget = b;
	}
	s->data = xreallocarray(s->data, cap, 1);
	if (quic) {
		s->filled = xreallocarray(s->filled, cap / 8, 1);
		memset(s->filled + bits, 0, cap / 8 - bits);
	}
	s->cap = (uint32_t)cap;
	b->used = b->used - was + cost;
	return 0;
}

int
names_stream_feed(struct names_stream **sp, struct names_budget *b,
    uint32_t seq, const uint8_t *p, size_t len, char out[NAMES_MAX])
{
	struct names_stream	*s = *sp;
	int			 rv;

	if (len == 0)
		return NAME_NONE;
	if (s != NULL && seq == s->next_seq && len <= NAMES_TCP_MAX - s->len) {
		if (names_stream_reserve(sp, b, s->len + len, 0,
		    NAMES_TCP_MAX) == -1)
			return NAME_NONE;
		s = *sp;
		memcpy(s->data + s->len, p, len);
		s->len += (uint32_t)len;
		s->next_seq = seq + (uint32_t)len;
		if ((rv = names_tls_sni(s->data, s->len, out)) == -1)
			return NAME_NONE;
		names_stream_free(s);
		*sp = NULL;
		return rv == 1 ? NAME_SNI : NAME_NONE;
	}
	/* A new stream start: another connection of the conversation. */
	if ((rv = names_tls_sni(p, len, out)) == 1)
		return NAME_SNI;
	if (rv == -1 && len <= NAMES_HELLO_MAX) {
		if (s != NULL)
			s->len = 0;
		if (names_stream_reserve(sp, b, len, 0, NAMES_TCP_MAX) == -1)
			return NAME_NONE;
		s = *sp;
		memcpy(s->data, p, len);
		s->len = (uint32_t)len;
		s->next_seq = seq + (uint32_t)len;
		return NAME_NONE;
	}
	if (names_http_host(p, len, out))
		return NAME_HTTP;
	return NAME_NONE;
}

/* The frames of a decrypted Initial: CRYPTO data into the stream. */
static int
names_quic_frames(struct names_stream **sp, struct names_budget *b,
    const uint8_t *p, size_t len)
{
	struct names_stream	*s;
	const uint8_t	*data;
	struct rbuf	 rb;
	uint64_t	 type, off, n, v, ranges, i;

	rbuf_init(&rb, p, len);
	while (rbuf_left(&rb) > 0) {
		if (quic_varint(&rb, &type) == -1)
			return -1;
		switch (type) {
		case 0x00:		/* PADDING */
		case 0x01:		/* PING */
			break;
		case 0x02:		/* ACK */
		case 0x03:
			if (quic_varint(&rb, &v) == -1 ||
			    quic_varint(&rb, &v) == -1 ||
			    quic_varint(&rb, &ranges) == -1 ||
			    quic_varint(&rb, &v) == -1 || ranges > len)
				return -1;
			for (i = 0; i < ranges * 2 + (type == 3 ? 3 : 0); i++)
				if (quic_varint(&rb, &v) == -1)
					return -1;
			break;
		case 0x06:		/* CRYPTO */
			if (quic_varint(&rb, &off) == -1 ||
			    quic_varint(&rb, &n) == -1 || n > rbuf_left(&rb) ||
			    rbuf_get_ptr(&rb, (size_t)n, &data) == -1)
				return -1;
			if (off > NAMES_HELLO_MAX || n > NAMES_HELLO_MAX - off ||
			    n == 0)
				continue;
			if (names_stream_reserve(sp, b, (size_t)(off + n), 1,
			    NAMES_HELLO_MAX) == -1)
				return -1;
			s = *sp;
			memcpy(s->data + off, data, (size_t)n);
			for (i = off; i < off + n; i++)
				s->filled[i / 8] |= (uint8_t)(1 << (i % 8));
			break;
		default:		/* nothing else belongs before the hello */
			return -1;
		}
	}
	return 0;
}

int
names_quic_feed(struct names_stream **sp, struct names_budget *b,
    const uint8_t *p, size_t len, char out[NAMES_MAX])
{
	static uint8_t		 plain[QUIC_PACKET_MAX];
	struct names_stream	*s;
	size_t			 off = 0, used, plen;
	int			 rv;

	while (off < len && quic_initial_open(p + off, len - off, &used,
	    plain, &plen) == 0) {
		off += used;
		if (names_quic_frames(sp, b, plain, plen) == -1)
			break;
	}
	if ((s = *sp) == NULL || s->filled == NULL)
		return NAME_NONE;
	while (s->len < s->cap && s->filled[s->len / 8] & 1 << (s->len % 8))
		s->len++;
	if ((rv = names_handshake(s->data, s->len, out)) == -1)
		return NAME_NONE;
	names_stream_free(s);
	*sp = NULL;
	return rv == 1 ? NAME_SNI : NAME_NONE;
}

/*
 * Reads a possibly compressed DNS name at *off of the message into out
 * (dotted, no final dot).  Bounded by DNS_JUMPS_MAX pointers, 63-byte
 * labels and NAMES_MAX - 1 bytes.  Moves *off past the name in place.
 */
static int
dns_name(const uint8_t *msg, size_t len, size_t *off, char out[NAMES_MAX])
{
	size_t	pos = *off, n = 0, jumps = 0;
	int	jumped = 0;
	uint8_t	l;

	for (;;) {
		if (pos >= len)
			return -1;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++jumps > DNS_JUMPS_MAX)
				return -1;
			if (!jumped)
				*off = pos + 2;
			jumped = 1;
			pos = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			continue;
		}
		if (l & 0xc0)
			return -1;
		if (l == 0)
			break;
		if (pos + 1 + l > len || n + l + 1 >= NAMES_MAX)
			return -1;
		if (n > 0)
			out[n++] = '.';
		memcpy(out + n, msg + pos + 1, l);
		n += l;
		pos += 1 + (size_t)l;
	}
	if (!jumped)
		*off = pos + 1;
	if (memchr(out, '\0', n) != NULL)
		return -1;
	out[n] = '\0';
	return 0;
}

struct names_entry {
	int32_t		next;		/* chain, -1 ends */
	uint8_t		af;		/* 0: free */
	uint8_t		addr[16];
	char		name[NAMES_MAX];
};

struct names_cache {
	struct names_entry	*e;
	int32_t			*buckets;
	size_t			 n, nbuckets, victim;
};

struct names_cache *
names_cache_new(size_t entries)
{
	struct names_cache	*c;
	size_t			 i;

	c = xcalloc(1, sizeof(*c));
	c->n = entries < 16 ? 16 : entries;
	for (c->nbuckets = 16; c->nbuckets < c->n * 2; c->nbuckets *= 2)
		;
	c->e = xcalloc(c->n, sizeof(*c->e));
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	for (i = 0; i < c->nbuckets; i++)
		c->buckets[i] = -1;
	return c;
}

void
names_cache_free(struct names_cache *c)
{
	if (c == NULL)
		return;
	free(c->e);
	free(c->buckets);
	free(c);
}

static size_t
names_hash(const struct names_cache *c, int af, const uint8_t *a)
{
	return (size_t)hash_bytes(hash_seed(), a, af == 4 ? 4 : 16) &
	    (c->nbuckets - 1);
}

static struct names_entry *
names_find(const struct names_cache *c, int af, const uint8_t *a16)
{
	int32_t	i;

	for (i = c->buckets[names_hash(c, af, a16)]; i != -1; i = c->e[i].next)
		if (c->e[i].af == af && memcmp(c->e[i].addr, a16, 16) == 0)
			return &c->e[i];
	return NULL;
}

const char *
names_cache_lookup(const struct names_cache *c, int af, const uint8_t *a)
{
	uint8_t			 a16[16] = { 0 };
	struct names_entry	*e;

	memcpy(a16, a, af == 4 ? 4 : 16);
	return (e = names_find(c, af, a16)) != NULL ? e->name : NULL;
}

static void
names_cache_put(struct names_cache *c, int af, const uint8_t *a,
    const char *name)
{
	uint8_t			 a16[16] = { 0 };
	struct names_entry	*e;
	int32_t			*pp;
	size_t			 h;

	memcpy(a16, a, af == 4 ? 4 : 16);
	if ((e = names_find(c, af, a16)) == NULL) {
		/* Reuse the oldest slot, unlinking it from its chain. */
		e = &c->e[c->victim];
		if (e->af != 0) {
			for (pp = &c->buckets[names_hash(c, e->af, e->addr)];
			    *pp != (int32_t)c->victim; pp = &c->e[*pp].next)
				;
			*pp = e->next;
		}
		h = names_hash(c, af, a16);
		e->next = c->buckets[h];
		c->buckets[h] = (int32_t)c->victim;
		e->af = (uint8_t)af;
		memcpy(e->addr, a16, 16);
		c->victim = (c->victim + 1) % c->n;
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
}

int
names_dns_response(struct names_cache *c, const uint8_t *msg, size_t len)
{
	char		 owner[NAMES_MAX], target[NAMES_MAX];
	char		 cn_owner[NAMES_CNAME_MAX][NAMES_MAX];
	char		 cn_target[NAMES_CNAME_MAX][NAMES_MAX];
	const uint8_t	*rdata;
	struct rbuf	 rb;
	uint16_t	 flags, qd, an, type, class, rdlen;
	size_t		 off, cn = 0, i, j;
	int		 found = 0;

	rbuf_init(&rb, msg, len);
	if (rbuf_skip(&rb, 2) == -1 || rbuf_get_u16(&rb, &flags) == -1 ||
	    rbuf_get_u16(&rb, &qd) == -1 || rbuf_get_u16(&rb, &an) == -1 ||
	    rbuf_skip(&rb, 4) == -1)
		return -1;
	if (!(flags & 0x8000) || (flags >> 11 & 0xf) != 0 || qd > 4 ||
	    an > DNS_RR_MAX)
		return -1;
	off = rb.off;
	for (i = 0; i < qd; i++) {
		if (dns_name(msg, len, &off, owner) == -1 || off + 4 > len)
			return -1;
		off += 4;
	}
	for (i = 0; i < an; i++) {
		if (dns_name(msg, len, &off, owner) == -1)
			return found ? found : -1;
		rbuf_init(&rb, msg, len);
		rb.off = off;
		if (rbuf_get_u16(&rb, &type) == -1 ||
		    rbuf_get_u16(&rb, &class) == -1 || rbuf_skip(&rb, 4) == -1 ||
		    rbuf_get_u16(&rb, &rdlen) == -1 ||
		    rbuf_get_ptr(&rb, rdlen, &rdata) == -1)
			return found ? found : -1;
		off = rb.off;
		if (class != DNS_CLASS_IN)
			continue;
		if (type == DNS_CNAME && cn < NAMES_CNAME_MAX) {
			size_t	roff = (size_t)(rdata - msg);

			if (dns_name(msg, len, &roff, target) == -1)
				continue;
			snprintf(cn_owner[cn], NAMES_MAX, "%s", owner);
			snprintf(cn_target[cn], NAMES_MAX, "%s", target);
			cn++;
			continue;
		}
		if (!((type == DNS_A && rdlen == 4) ||
		    (type == DNS_AAAA && rdlen == 16)))
			continue;
		/* Walk CNAMEs back towards the name that was asked. */
		for (j = 0; j < NAMES_CNAME_MAX; j++) {
			size_t	k;

			for (k = 0; k < cn; k++)
				if (strcasecmp(cn_target[k], owner) == 0 &&
				    strcasecmp(cn_owner[k], owner) != 0)
					break;
			if (k == cn)
				break;
			snprintf(owner, sizeof(owner), "%s", cn_owner[k]);
		}
		if (owner[0] == '\0')
			continue;
		names_cache_put(c, type == DNS_A ? 4 : 6, rdata, owner);
		found++;
	}
	return found;
}

/* A remembered query: where it went, its id, its question. */
struct names_query {
	int64_t		ts;
	uint64_t	question;	/* 0: a free slot */
	uint8_t		key[NAMES_DNS_KEY];
};

struct names_queries {
	struct names_query	*q;
	size_t			 nsets;	/* a power of two, DNS_QUERY_WAYS each */
};

struct names_queries *
names_queries_new(size_t entries)
{
	struct names_queries	*t;

	t = xcalloc(1, sizeof(*t));
	for (t->nsets = 1; t->nsets * DNS_QUERY_WAYS < entries; t->nsets *= 2)
		;
	t->q = xcalloc(t->nsets * DNS_QUERY_WAYS, sizeof(*t->q));
	return t;
}

void
names_queries_free(struct names_queries *t)
{
	if (t == NULL)
		return;
	free(t->q);
	free(t);
}

/* The ends and id as bytes: what a query and its answer share. */
static void
dns_key(const struct names_dns_ends *e, uint16_t id,
    uint8_t key[NAMES_DNS_KEY])
{
	key[0] = e->af;
	key[1] = (uint8_t)(id >> 8);
	key[2] = (uint8_t)id;
	key[3] = (uint8_t)(e->cport >> 8);
	key[4] = (uint8_t)e->cport;
	key[5] = (uint8_t)(e->sport >> 8);
	key[6] = (uint8_t)e->sport;
	memcpy(key + 7, e->client, 16);
	memcpy(key + 23, e->server, 16);
}

/* FNV-1a over n bytes, continuing h. */
static uint64_t
dns_fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n-- > 0)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

/*
 * The header and the one question of a DNS message: its id, flags and a
 * hash of the question (name in lower case, type, class), never 0.
 * Returns 0, or -1 unless there is exactly one readable question.
 */
static int
dns_question(const uint8_t *msg, size_t len, uint16_t *id, uint16_t *flags,
    uint64_t *question)
{
	char		name[NAMES_MAX];
	struct rbuf	rb;
	uint16_t	qd;
	size_t		off = 12, i;
	uint64_t	h = 0xcbf29ce484222325ULL;
	uint8_t		c;

	rbuf_init(&rb, msg, len);
	if (rbuf_get_u16(&rb, id) == -1 || rbuf_get_u16(&rb, flags) == -1 ||
	    rbuf_get_u16(&rb, &qd) == -1 || rbuf_skip(&rb, 6) == -1 ||
	    qd != 1 || dns_name(msg, len, &off, name) == -1 || off + 4 > len)
		return -1;
	for (i = 0; name[i] != '\0'; i++) {
		c = (uint8_t)name[i];
		c = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
		h = dns_fnv(h, &c, 1);
	}
	h = dns_fnv(h, (const uint8_t *)"", 1);
	*question = dns_fnv(h, msg + off, 4) | 1;
	return 0;
}

/* The set of DNS_QUERY_WAYS slots a key goes to. */
static struct names_query *
dns_set(const struct names_queries *t, const uint8_t key[NAMES_DNS_KEY])
{
	uint64_t	h = hash_bytes(hash_seed(), key, NAMES_DNS_KEY);

	return &t->q[(h & (t->nsets - 1)) * DNS_QUERY_WAYS];
}

int
names_dns_query(struct names_queries *t, const struct names_dns_ends *e,
    const uint8_t *msg, size_t len, int64_t ts)
{
	struct names_query	*set, *slot;
	uint8_t			 key[NAMES_DNS_KEY];
	uint64_t		 question;
	uint16_t		 id, flags;
	int			 i;

	if (dns_question(msg, len, &id, &flags, &question) == -1 ||
	    (flags & 0x8000) || (flags >> 11 & 0xf) != 0)
		return -1;
	dns_key(e, id, key);
	set = dns_set(t, key);
	/* The same id again from the same port replaces; else a free slot,
	 * else the oldest. */
	slot = NULL;
	for (i = 0; i < DNS_QUERY_WAYS; i++) {
		if (set[i].question == 0) {
			if (slot == NULL || slot->question != 0)
				slot = &set[i];
		} else if (memcmp(set[i].key, key, NAMES_DNS_KEY) == 0) {
			slot = &set[i];
			break;
		} else if (slot == NULL || (slot->question != 0 &&
		    set[i].ts < slot->ts))
			slot = &set[i];
	}
	slot->ts = ts;
	slot->question = question;
	memcpy(slot->key, key, NAMES_DNS_KEY);
	return 0;
}

int
names_dns_answer(struct names_queries *t, struct names_cache *c,
    const struct names_dns_ends *e, const uint8_t *msg, size_t len,
    int64_t ts)
{
	struct names_query	*set;
	uint8_t			 key[NAMES_DNS_KEY];
	uint64_t		 question;
	uint16_t		 id, flags;
	int			 i;

	if (dns_question(msg, len, &id, &flags, &question) == -1 ||
	    !(flags & 0x8000))
		return -1;
	dns_key(e, id, key);
	set = dns_set(t, key);
	for (i = 0; i < DNS_QUERY_WAYS; i++)
		if (set[i].question == question &&
		    memcmp(set[i].key, key, NAMES_DNS_KEY) == 0 &&
		    ts >= set[i].ts && ts - set[i].ts <= NAMES_DNS_WINDOW_US)
			break;
	if (i == DNS_QUERY_WAYS)
		return -1;
	set[i].question = 0;
	return (i = names_dns_response(c, msg, len)) > 0 ? i : 0;
}
