/* SPDX-License-Identifier: ISC */
/*
 * Names for internet conversations: the TLS ClientHello SNI (over TCP, or
 * in QUIC Initial packets), the HTTP/1.x Host header, and a bounded cache of DNS answers (address to the name that
 * was asked for).  Pure parsers over untrusted bytes; no I/O.
 */
#ifndef LABWATCH_NAMES_H
#define LABWATCH_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define NAMES_MAX		256	/* bytes of a name with its NUL */
#define NAMES_HELLO_MAX		16384	/* ClientHello bytes reassembled */
#define NAMES_CNAME_MAX		16	/* CNAMEs followed in one answer */

enum names_source {
	NAME_NONE = 0,
	NAME_DNS,
	NAME_HTTP,
	NAME_SNI,
};

/* "sni", "http", "dns" or NULL. */
const char *names_source_str(int);

/*
 * Reads the SNI host name from the start of a TLS client stream: one or
 * more handshake records holding a ClientHello.  Returns 1 with the name in
 * out, 0 when there is none (not TLS, no SNI, malformed), -1 when the bytes
 * end before the ClientHello does.
 */
int	names_tls_sni(const uint8_t *, size_t, char out[NAMES_MAX]);

/*
 * Reads the Host header of an HTTP/1.x request at the start of p.  Returns
 * 1 with the host (as written, port included) in out, else 0.
 */
int	names_http_host(const uint8_t *, size_t, char out[NAMES_MAX]);

/*
 * The memory every partial ClientHello (TCP or QUIC) may take together.
 * A stream is charged for what it holds, grown as its bytes come; one the
 * budget cannot take is dropped and counted in refused (the conversation
 * then goes unnamed by that hello).
 */
struct names_budget {
	size_t		limit;		/* bytes */
	size_t		used;
	uint64_t	refused;	/* streams dropped for want of room */
};

/* Reassembles a ClientHello split over in-order TCP segments. */
struct names_stream;

/*
 * Feeds the initiator's TCP payload at sequence number seq.  *sp starts
 * NULL; a stream is made (charged to budget) when a ClientHello is cut
 * short.  Returns the enum names_source found (with out set) or
 * NAME_NONE.
 */
int	names_stream_feed(struct names_stream **sp, struct names_budget *,
	    uint32_t seq, const uint8_t *, size_t, char out[NAMES_MAX]);
/* Frees a stream (NULL is fine), giving its bytes back to its budget. */
void	names_stream_free(struct names_stream *);
/*
 * Feeds a client's UDP payload: QUIC v1 Initial packets are decrypted and
 * their CRYPTO frames gathered (a ClientHello may span several).  Returns
 * NAME_SNI (with out set) once the ClientHello is whole, else NAME_NONE.
 */
int	names_quic_feed(struct names_stream **sp, struct names_budget *,
	    const uint8_t *, size_t, char out[NAMES_MAX]);

/* A bounded cache of DNS answers. */
struct names_cache;

struct names_cache *names_cache_new(size_t entries);
void	names_cache_free(struct names_cache *);
/*
 * Reads one DNS response message (no TCP length prefix) and remembers each
 * A/AAAA address under the queried name, following CNAMEs back.  Returns
 * the number of addresses remembered, or -1 when the message is malformed
 * (addresses before the fault are kept).
 */
int	names_dns_response(struct names_cache *, const uint8_t *, size_t);
/* The name last seen for the address (af 4 or 6), or NULL. */
const char *names_cache_lookup(const struct names_cache *, int af,
	    const uint8_t *);

/*
 * DNS answers count only when they answer a query this PC sent: the
 * queries seen going out are remembered (a bounded table, the oldest of
 * a set replaced) and an answer names addresses only when it comes from
 * the server the query went to, to the port it came from, with its
 * transaction id and its question (name, type, class), within
 * NAMES_DNS_WINDOW_US.  Each query is answered once.
 */
#define NAMES_DNS_WINDOW_US	(5 * 1000000LL)

/* The two ends of a DNS exchange, as the query went. */
struct names_dns_ends {
	uint8_t		af;		/* 4 or 6 */
	uint16_t	cport, sport;	/* the client's and server's ports */
	uint8_t		client[16], server[16];
};

struct names_queries;

struct names_queries *names_queries_new(size_t entries);
void	names_queries_free(struct names_queries *);
/*
 * Remembers a DNS query message (QR 0, standard query, one question)
 * sent at ts (µs).  Returns 0, or -1 when the bytes are no such query.
 */
int	names_dns_query(struct names_queries *, const struct names_dns_ends *,
	    const uint8_t *, size_t, int64_t ts);
/*
 * A DNS response seen at ts, the ends given as its query went: when it
 * answers a remembered query, forgets that query and reads the answer
 * into the cache (names_dns_response).  Returns the addresses
 * remembered (those before a fault when it is malformed), or -1 when it
 * answers no query (then nothing is read).
 */
int	names_dns_answer(struct names_queries *, struct names_cache *,
	    const struct names_dns_ends *, const uint8_t *, size_t, int64_t ts);

#endif
