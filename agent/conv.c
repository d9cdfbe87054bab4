/* SPDX-License-Identifier: ISC */
/* The conversation table: a chained hash with two time-ordered lists. */
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "hash.h"
#include "log.h"
#include "names.h"
#include "xmalloc.h"

#define CONV_BUCKETS_MIN	4096
#define FRAG_SLOTS		4096	/* remembered first fragments */
#define FRAG_TTL_US		(30 * 1000000LL)
#define CONV_STEP_US		(10 * 1000000LL)	/* back this far: a step */
#define RECENT_SETS		16384	/* ended keys: 4 ways each, 1 MiB */
#define RECENT_WAYS		4
#define CONV_ALIGN		128	/* the pair of lines a packet touches */
#define CONV_SIZE		((sizeof(struct conv) + CONV_ALIGN - 1) & \
				    ~(size_t)(CONV_ALIGN - 1))

#define IPPROTO_TCP_	6

_Static_assert(sizeof(struct conv_key) == 40, "a conversation key is 5 words");

/* Where the first fragment of a datagram went. */
struct frag_slot {
	int64_t		ts;
	uint32_t	id;
	uint8_t		af, proto, used, dir;
	uint8_t		src[16], dst[16];
	struct conv_key	key;
};

/* An ended conversation's key, as its hash (0: a free slot). */
struct recent {
	uint64_t	hash;
	int64_t		ts;
};

struct conv_table {
	struct conv_conf  conf;
	uint64_t	  seed;		/* of conv_hash: secret (hash.h) */
	struct recent	 *recent;	/* RECENT_SETS * RECENT_WAYS */
	struct conv	**buckets;
	size_t		  nbuckets;	/* a power of two */
	size_t		  count;
	uint64_t	  evicted;	/* ended early: the table was full */
	struct conv	 *ihead, *itail;
	struct conv	 *ahead, *atail;
	int64_t		  clock;
	struct frag_slot *frags;
};

/* 8 bytes at p, whatever their alignment. */
static inline uint64_t
conv_word(const uint8_t *p)
{
	uint64_t	w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static inline uint64_t
conv_mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ h >> 32;
}

uint64_t
conv_key_hash(uint64_t seed, const struct conv_key *k)
{
	uint64_t	h = seed;

	h = conv_mix(h, conv_word(k->ini));
	h = conv_mix(h, conv_word(k->ini + 8));
	h = conv_mix(h, conv_word(k->resp));
	h = conv_mix(h, conv_word(k->resp + 8));
	return conv_mix(h, conv_word(&k->af));
}

static inline uint64_t
conv_hash(const struct conv_table *t, const struct conv_key *k)
{
	return conv_key_hash(t->seed, k);
}

/*
 * Makes the key.  Its words are put together in registers and stored
 * whole, so the word loads that hash and compare it next are served from
 * those stores (a word loaded over narrower stores waits until they reach
 * the cache: that wait was a tenth of --read's time).
 */
static void
conv_key_make(struct conv_key *k, const struct pkt *pk, int reverse,
    uint16_t rport)
{
	const uint8_t	*ini = reverse ? pk->dst : pk->src;
	const uint8_t	*resp = reverse ? pk->src : pk->dst;
	uint64_t	 w0, w1, w2, w3, w4;

	w0 = conv_word(ini);
	w1 = conv_word(ini + 8);
	w2 = conv_word(resp);
	w3 = conv_word(resp + 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w4 = (uint64_t)pk->af | (uint64_t)pk->proto << 8 |
	    (uint64_t)rport << 16;
#else
	w4 = (uint64_t)pk->af << 56 | (uint64_t)pk->proto << 48 |
	    (uint64_t)rport << 32;
#endif
	memcpy(k->ini, &w0, 8);
	memcpy(k->ini + 8, &w1, 8);
	memcpy(k->resp, &w2, 8);
	memcpy(k->resp + 8, &w3, 8);
	memcpy(&k->af, &w4, 8);
}

struct conv_table *
conv_new(const struct conv_conf *conf)
{
	struct conv_table	*t;

	t = xcalloc(1, sizeof(*t));
	t->conf = *conf;
	t->seed = conf->seed != 0 ? conf->seed : hash_seed();
	t->nbuckets = CONV_BUCKETS_MIN;
	t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
	t->frags = xcalloc(FRAG_SLOTS, sizeof(*t->frags));
	t->recent = xcalloc(RECENT_SETS * RECENT_WAYS, sizeof(*t->recent));
	t->clock = INT64_MIN;
	return t;
}

static int
conv_key_eq(const struct conv_key *a, const struct conv_key *b)
{
	const uint8_t	*x = (const uint8_t *)a, *y = (const uint8_t *)b;

	return ((conv_word(x) ^ conv_word(y)) |
	    (conv_word(x + 8) ^ conv_word(y + 8)) |
	    (conv_word(x + 16) ^ conv_word(y + 16)) |
	    (conv_word(x + 24) ^ conv_word(y + 24)) |
	    (conv_word(x + 32) ^ conv_word(y + 32))) == 0;
}

static struct conv *
conv_find(struct conv_table *t, const struct conv_key *k)
{
	struct conv	*c;

	for (c = t->buckets[conv_hash(t, k) & (t->nbuckets - 1)]; c != NULL;
	    c = c->hnext)
		if (conv_key_eq(&c->key, k))
			return c;
	return NULL;
}

static void
conv_grow(struct conv_table *t)
{
	struct conv	**nb, *c, *next;
	size_t		  i, n = t->nbuckets * 2, h;

	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < t->nbuckets; i++)
		for (c = t->buckets[i]; c != NULL; c = next) {
			next = c->hnext;
			h = conv_hash(t, &c->key) & (n - 1);
			c->hnext = nb[h];
			nb[h] = c;
		}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
}

/* Intrusive list helpers for the idle (i) and active (a) orders. */
#define LIST_UNLINK(t, c, P, N, H, T) do {				\
	if ((c)->P != NULL) (c)->P->N = (c)->N; else (t)->H = (c)->N;	\
	if ((c)->N != NULL) (c)->N->P = (c)->P; else (t)->T = (c)->P;	\
	(c)->P = (c)->N = NULL;						\
} while (0)
#define LIST_APPEND(t, c, P, N, H, T) do {				\
	(c)->P = (t)->T; (c)->N = NULL;					\
	if ((t)->T != NULL) (t)->T->N = (c); else (t)->H = (c);		\
	(t)->T = (c);							\
} while (0)

/* Remembers an ended key, replacing the oldest of its set. */
static void
recent_put(struct conv_table *t, const struct conv_key *k, int64_t ts)
{
	uint64_t	 h = conv_hash(t, k) | 1;
	struct recent	*set, *old;
	int		 i;

	set = &t->recent[(h >> 40 & (RECENT_SETS - 1)) * RECENT_WAYS];
	old = &set[0];
	for (i = 0; i < RECENT_WAYS; i++) {
		if (set[i].hash == h) {
			old = &set[i];
			break;
		}
		if (set[i].ts < old->ts)
			old = &set[i];
	}
	old->hash = h;
	old->ts = ts;
}

/* When a conversation with this key ended, if within CONV_RECENT_US. */
static int64_t
recent_get(const struct conv_table *t, const struct conv_key *k, int64_t now)
{
	uint64_t		 h = conv_hash(t, k) | 1;
	const struct recent	*set;
	int			 i;

	set = &t->recent[(h >> 40 & (RECENT_SETS - 1)) * RECENT_WAYS];
	for (i = 0; i < RECENT_WAYS; i++)
		if (set[i].hash == h && now - set[i].ts <= CONV_RECENT_US)
			return set[i].ts;
	return INT64_MIN;
}

static void
conv_names_free(struct conv_names *n)
{
	uint32_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		free(n->name[i]);
	free(n->seen);
	free(n);
}

static void
conv_remove(struct conv_table *t, struct conv *c)
{
	struct conv	**pp;

	for (pp = &t->buckets[conv_hash(t, &c->key) & (t->nbuckets - 1)];
	    *pp != c; pp = &(*pp)->hnext)
		;
	*pp = c->hnext;
	LIST_UNLINK(t, c, iprev, inext, ihead, itail);
	LIST_UNLINK(t, c, aprev, anext, ahead, atail);
	t->count--;
	names_stream_free(c->stream);
	free(c->ports);
	conv_names_free(c->names);
	free(c->dns);
	free(c);
}

static void
conv_end(struct conv_table *t, struct conv *c)
{
	t->conf.emit(c, 1, t->conf.arg);
	recent_put(t, &c->key, c->end);
	conv_remove(t, c);
}

static struct conv *
conv_create(struct conv_table *t, const struct conv_key *k, int64_t ts,
    const struct pkt *pk, enum conv_dir dir)
{
	struct conv	*c;
	size_t		 h;

	if (t->count >= t->conf.max_open && t->ihead != NULL) {
		conv_end(t, t->ihead);
		t->evicted++;
	}
	if (t->count >= t->nbuckets)
		conv_grow(t);
	if ((c = aligned_alloc(CONV_ALIGN, CONV_SIZE)) == NULL)
		fatal("conversation");
	memset(c, 0, sizeof(*c));
	c->key = *k;
	c->start = c->end = ts;
	c->interim_at = ts + t->conf.active_us;
	c->first_dir = (uint8_t)dir;
	c->icmp_type = pk->icmp_type;
	c->icmp_code = pk->icmp_code;
	h = conv_hash(t, k) & (t->nbuckets - 1);
	c->hnext = t->buckets[h];
	t->buckets[h] = c;
	LIST_APPEND(t, c, iprev, inext, ihead, itail);
	LIST_APPEND(t, c, aprev, anext, ahead, atail);
	t->count++;
	return c;
}

/* Puts port + 1 (0 marks a free slot) into an open-addressed set. */
static int
conv_port_put(uint32_t *set, uint32_t cap, uint32_t v)
{
	uint32_t	i;

	for (i = v & (cap - 1); set[i] != 0; i = (i + 1) & (cap - 1))
		if (set[i] == v)
			return 0;
	set[i] = v;
	return 1;
}

/* Adds an initiator port to the conversation's set of distinct ports. */
static void
conv_add_port(struct conv *c, uint16_t port)
{
	uint32_t	*old, j, oldcap;

	if (c->nports == 0) {
		c->port0 = port;
		c->nports = 1;
		return;
	}
	if (c->ports_cap == 0) {
		if (port == c->port0)
			return;
		c->ports_cap = 16;
		c->ports = xcalloc(c->ports_cap, sizeof(*c->ports));
		conv_port_put(c->ports, c->ports_cap, (uint32_t)c->port0 + 1);
	}
	if ((c->nports + 1) * 2 > c->ports_cap) {
		old = c->ports;
		oldcap = c->ports_cap;
		c->ports_cap *= 2;
		c->ports = xcalloc(c->ports_cap, sizeof(*c->ports));
		for (j = 0; j < oldcap; j++)
			if (old[j] != 0)
				conv_port_put(c->ports, c->ports_cap, old[j]);
		free(old);
	}
	c->nports += (uint32_t)conv_port_put(c->ports, c->ports_cap,
	    (uint32_t)port + 1);
}

/*
 * The clock stepped back (a capture merged from several, the wall clock set
 * back): conversations would wait for the old time.  Brings their times
 * down to now, keeping both lists in order.
 */
static void
conv_clock_step(struct conv_table *t, int64_t now)
{
	struct conv	*c;

	for (c = t->ihead; c != NULL; c = c->inext) {
		if (c->end > now)
			c->end = now;
		if (c->start > now)
			c->start = now;
	}
	for (c = t->ahead; c != NULL; c = c->anext)
		if (c->interim_at > now + t->conf.active_us)
			c->interim_at = now + t->conf.active_us;
	t->clock = now;
}

void
conv_expire(struct conv_table *t, int64_t now)
{
	struct conv	*c;

	if (now > t->clock)
		t->clock = now;
	else if (now < t->clock - CONV_STEP_US)
		conv_clock_step(t, now);
	now = t->clock;
	while ((c = t->ihead) != NULL && now - c->end > t->conf.idle_us)
		conv_end(t, c);
	while ((c = t->ahead) != NULL && now >= c->interim_at) {
		t->conf.emit(c, 0, t->conf.arg);
		c->interim_at = now + t->conf.active_us;
		LIST_UNLINK(t, c, aprev, anext, ahead, atail);
		LIST_APPEND(t, c, aprev, anext, ahead, atail);
	}
}

static struct frag_slot *
frag_slot(struct conv_table *t, const struct pkt *pk)
{
	uint64_t	h = (pk->frag_id ^ t->seed) * 0x9e3779b97f4a7c15ULL;

	h ^= (uint64_t)pk->src[pk->af == 4 ? 3 : 15] << 8 |
	    pk->dst[pk->af == 4 ? 3 : 15];
	h *= 0xff51afd7ed558ccdULL;
	return &t->frags[(h >> 32) & (FRAG_SLOTS - 1)];
}

static int
frag_match(const struct frag_slot *f, const struct pkt *pk, int64_t now)
{
	return f->used && f->id == pk->frag_id && f->af == pk->af &&
	    f->proto == pk->proto && now - f->ts <= FRAG_TTL_US &&
	    memcmp(f->src, pk->src, 16) == 0 &&
	    memcmp(f->dst, pk->dst, 16) == 0;
}

/*
 * A packet without SYN that no open conversation takes: a key that ended
 * recently keeps its initiator (the later one when both did); else the
 * port rule: from a port below 1024 to one above, the receiver began;
 * else the sender.  Leaves the key in *k; returns the direction.
 */
static enum conv_dir
conv_decide(struct conv_table *t, const struct pkt *pk, int64_t ts,
    struct conv_key *k)
{
	struct conv_key	fwd;
	uint16_t	sport = pk->has_ports ? pk->sport : 0;
	uint16_t	dport = pk->has_ports ? pk->dport : 0;
	int64_t		in, out;

	conv_key_make(k, pk, 1, sport);
	conv_key_make(&fwd, pk, 0, dport);
	in = recent_get(t, k, ts);
	out = recent_get(t, &fwd, ts);
	if (in != INT64_MIN && in >= out)
		return CONV_IN;
	if (out == INT64_MIN && sport < 1024 && dport >= 1024)
		return CONV_IN;
	*k = fwd;
	return CONV_OUT;
}

struct conv *
conv_packet(struct conv_table *t, const struct pkt *pk, int64_t ts,
    enum conv_dir *dir)
{
	struct frag_slot	*f;
	struct conv_key		 k;
	struct conv		*c;
	uint16_t		 sport = 0, dport = 0;

	conv_expire(t, ts);
	ts = t->clock;
	if (pk->frag == FRAG_LATER) {
		f = frag_slot(t, pk);
		if (!frag_match(f, pk, ts) || (c = conv_find(t, &f->key)) ==
		    NULL)
			return NULL;
		*dir = f->dir;
		goto count;
	}
	if (pk->has_ports) {
		sport = pk->sport;
		dport = pk->dport;
	}
	if (pk->proto == IPPROTO_TCP_ && (pk->tcp_flags & TCP_SYN)) {
		/* A SYN decides: its sender began, a SYN-ACK's receiver. */
		if (pk->tcp_flags & TCP_ACK) {
			conv_key_make(&k, pk, 1, sport);
			*dir = CONV_IN;
		} else {
			conv_key_make(&k, pk, 0, dport);
			*dir = CONV_OUT;
		}
		if ((c = conv_find(t, &k)) == NULL)
			c = conv_create(t, &k, ts, pk, *dir);
	} else if (sport < dport && (conv_key_make(&k, pk, 1, sport),
	    c = conv_find(t, &k)) != NULL)
		*dir = CONV_IN;		/* servers mostly have the low port */
	else if ((conv_key_make(&k, pk, 0, dport), c = conv_find(t, &k)) !=
	    NULL)
		*dir = CONV_OUT;
	else if ((conv_key_make(&k, pk, 1, sport), sport >= dport) &&
	    (c = conv_find(t, &k)) != NULL)
		*dir = CONV_IN;
	else
		c = conv_create(t, &k, ts, pk, *dir = conv_decide(t, pk, ts,
		    &k));
	conv_add_port(c, *dir == CONV_OUT ? sport : dport);
	if (pk->frag == FRAG_FIRST) {
		f = frag_slot(t, pk);
		f->used = 1;
		f->ts = ts;
		f->id = pk->frag_id;
		f->af = pk->af;
		f->proto = pk->proto;
		f->dir = (uint8_t)*dir;
		memcpy(f->src, pk->src, 16);
		memcpy(f->dst, pk->dst, 16);
		f->key = c->key;
	}
count:
	c->packets[*dir]++;
	c->bytes[*dir] += pk->ip_len;
	c->end = ts;
	if (t->itail != c) {
		LIST_UNLINK(t, c, iprev, inext, ihead, itail);
		LIST_APPEND(t, c, iprev, inext, ihead, itail);
	}
	return c;
}

void
conv_flush(struct conv_table *t)
{
	while (t->ihead != NULL)
		conv_end(t, t->ihead);
}

void
conv_free(struct conv_table *t)
{
	if (t == NULL)
		return;
	conv_flush(t);
	free(t->buckets);
	free(t->frags);
	free(t->recent);
	free(t);
}

size_t
conv_open(const struct conv_table *t)
{
	return t->count;
}

uint64_t
conv_evicted(const struct conv_table *t)
{
	return t->evicted;
}

int64_t
conv_clock(const struct conv_table *t)
{
	return t->clock;
}

size_t
conv_chain_max(const struct conv_table *t)
{
	const struct conv	*c;
	size_t			 i, n, max = 0;

	for (i = 0; i < t->nbuckets; i++) {
		for (n = 0, c = t->buckets[i]; c != NULL; c = c->hnext)
			n++;
		if (n > max)
			max = n;
	}
	return max;
}

/* The seeded hash (names come from the network), never 0 (a free slot). */
static uint64_t
conv_name_hash(const char *s)
{
	return hash_str(hash_seed(), s) | 1;
}

/* Finds h in the open-addressed set; returns its slot or a free one. */
static uint64_t *
conv_seen_slot(uint64_t *set, uint32_t cap, uint64_t h)
{
	uint32_t	i;

	for (i = (uint32_t)h & (cap - 1); set[i] != 0 && set[i] != h;
	    i = (i + 1) & (cap - 1))
		;
	return &set[i];
}

int
conv_name_seen(const struct conv *c, const char *name)
{
	const struct conv_names	*n = c->names;
	uint32_t		 i;

	if (n == NULL)
		return 0;
	for (i = 0; i < n->n; i++)
		if (strcmp(n->name[i], name) == 0)
			return 1;
	return n->seen != NULL &&
	    *conv_seen_slot(n->seen, n->seen_cap, conv_name_hash(name)) != 0;
}

int
conv_name_add(struct conv *c, const char *name, int src)
{
	struct conv_names	*n;
	uint64_t		*old, *slot, h;
	uint32_t		 j, oldcap;

	if (conv_name_seen(c, name))
		return 0;
	if ((n = c->names) == NULL)
		n = c->names = xcalloc(1, sizeof(*n));
	if (n->n < CONV_NAMES_MAX) {
		n->source[n->n] = (uint8_t)src;
		n->name[n->n++] = xstrdup(name);
		return 1;
	}
	/* Beyond the list: counted once each, while they can be told apart. */
	if (n->n + n->nseen >= CONV_NAMES_SEEN_MAX)
		return 0;
	if ((n->nseen + 1) * 2 > n->seen_cap) {
		old = n->seen;
		oldcap = n->seen_cap;
		n->seen_cap = oldcap == 0 ? 16 : oldcap * 2;
		n->seen = xcalloc(n->seen_cap, sizeof(*n->seen));
		for (j = 0; j < oldcap; j++)
			if (old[j] != 0)
				*conv_seen_slot(n->seen, n->seen_cap,
				    old[j]) = old[j];
		free(old);
	}
	h = conv_name_hash(name);
	slot = conv_seen_slot(n->seen, n->seen_cap, h);
	*slot = h;
	n->nseen++;
	n->more++;
	return 1;
}

void
conv_set_dns(struct conv *c, const char *name)
{
	if (c->dns == NULL)
		c->dns = xstrdup(name);
}
