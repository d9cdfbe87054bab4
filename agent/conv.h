/* SPDX-License-Identifier: ISC */
/*
 * The conversation table: packets in, conversation records out.  A
 * conversation is (protocol, initiator, responder, responder port); it ends
 * after idle_us without a packet and reports an interim record every
 * active_us while it runs.  The initiator is the SYN sender; a
 * conversation that resumes after its idle end keeps the initiator it had
 * (the keys of ended conversations are remembered for CONV_RECENT_US);
 * only a conversation never seen, without a SYN, is decided by its ports.
 * No I/O: time comes with each packet.
 */
#ifndef LABWATCH_CONV_H
#define LABWATCH_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* Hashed and compared as five 8-byte words: no padding, pad is zero. */
struct conv_key {
	uint8_t		ini[16];	/* initiator address */
	uint8_t		resp[16];	/* responder address */
	uint8_t		af;		/* 4 or 6 */
	uint8_t		proto;
	uint16_t	rport;		/* responder port, 0 without ports */
	uint8_t		pad[4];
};

enum conv_dir {
	CONV_OUT = 0,			/* initiator to responder */
	CONV_IN = 1,
};

struct names_stream;

#define CONV_NAMES_MAX		16	/* names listed per conversation */
#define CONV_NAMES_SEEN_MAX	256	/* distinct names told apart */
#define CONV_RECENT_US		(300 * 1000000LL)	/* ended keys kept */

/* The distinct names seen in a conversation, in order. */
struct conv_names {
	uint32_t	 n;			/* listed in name[] */
	uint32_t	 more;			/* distinct names beyond */
	uint8_t		 source[CONV_NAMES_MAX];	/* enum names_source */
	char		*name[CONV_NAMES_MAX];	/* owned */
	uint32_t	 nseen, seen_cap;	/* hashes of those beyond */
	uint64_t	*seen;
};

/*
 * What a packet touches comes first, in two cache lines (the table
 * allocates on 128-byte boundaries): the key and chain, the last packet's
 * time and idle order, the counters, the port set.
 */
struct conv {
	struct conv_key	 key;
	struct conv	*hnext;			/* hash chain */
	int64_t		 end;			/* last packet, µs */
	struct conv	*iprev, *inext;		/* by last packet */
	uint64_t	 packets[2], bytes[2];	/* by enum conv_dir */
	uint32_t	 nports;		/* distinct initiator ports */
	uint32_t	 ports_cap;		/* slots in ports, 0: inline */
	uint16_t	 port0;
	uint8_t		 first_dir;		/* the first packet's */
	uint8_t		 icmp_type, icmp_code;	/* ... for ICMP */
	uint16_t	 quic_tries;		/* Initials tried (net.c) */
	struct names_stream *stream;		/* TLS reassembly, or NULL */
	int64_t		 start;			/* first packet, µs */
	int64_t		 interim_at;		/* next interim record */
	struct conv	*aprev, *anext;		/* by next interim */
	uint32_t	*ports;			/* open-addressed set */
	struct conv_names *names;		/* or NULL */
	char		*dns;			/* DNS name at start, or NULL */
};

/* Called for every record: final 0 for an interim record, 1 at the end. */
typedef void (*conv_emit_fn)(const struct conv *, int final, void *arg);

struct conv_conf {
	int64_t		 idle_us;
	int64_t		 active_us;
	size_t		 max_open;	/* the oldest ends early beyond this */
	conv_emit_fn	 emit;
	void		*arg;
	uint64_t	 seed;		/* of the table's hash; 0: hash_seed() */
};

struct conv_table;

struct conv_table *conv_new(const struct conv_conf *);
/* Ends every open conversation (emitting them) and frees the table. */
void	conv_free(struct conv_table *);
/*
 * Counts one decoded IP packet seen at ts (µs).  Ends what went idle first.
 * Returns its conversation and sets *dir, or NULL when the packet cannot
 * be placed (a later fragment of an unknown datagram).
 */
struct conv *conv_packet(struct conv_table *, const struct pkt *, int64_t ts,
	    enum conv_dir *dir);
/*
 * Adds a name seen in the conversation (enum names_source src).  Returns
 * 1 when it is new to the conversation, 0 when already seen.
 */
int	conv_name_add(struct conv *, const char *, int src);
/* Has the conversation seen this name (listed or beyond)? */
int	conv_name_seen(const struct conv *, const char *);
/* Remembers the DNS name of the responder (copied), once. */
void	conv_set_dns(struct conv *, const char *);
/* Ends idle conversations and emits due interim records at time now. */
void	conv_expire(struct conv_table *, int64_t now);
/* Ends every open conversation now. */
void	conv_flush(struct conv_table *);
/* Open conversations. */
size_t	conv_open(const struct conv_table *);
/* Conversations ended early because the table held max_open. */
uint64_t conv_evicted(const struct conv_table *);
/* The latest time the table has seen. */
int64_t	conv_clock(const struct conv_table *);
/*
 * The table's hash of a key under a seed.  Unseeded, anyone could compute
 * keys that share a chain and make every packet walk all of them; the
 * seed is secret, drawn at random.  Tests use it to build such keys.
 */
uint64_t conv_key_hash(uint64_t seed, const struct conv_key *);
/* The longest hash chain (tests: what a flood of such keys achieved). */
size_t	conv_chain_max(const struct conv_table *);

#endif
