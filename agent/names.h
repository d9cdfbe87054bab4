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

/* Reassembles a ClientHello split over in-order TCP segments. */
struct names_stream;

/*
 * Feeds the initiator's TCP payload at sequence number seq.  *sp starts
 * NULL; a stream is made when a ClientHello is cut short.  Returns the
 * enum names_source found (with out set) or NAME_NONE.
 */
int	names_stream_feed(struct names_stream **sp, uint32_t seq,
	    const uint8_t *, size_t, char out[NAMES_MAX]);
void	names_stream_free(struct names_stream *);
/*
 * Feeds a client's UDP payload: QUIC v1 Initial packets are decrypted and
 * their CRYPTO frames gathered (a ClientHello may span several).  Returns
 * NAME_SNI (with out set) once the ClientHello is whole, else NAME_NONE.
 */
int	names_quic_feed(struct names_stream **sp, const uint8_t *, size_t,
	    char out[NAMES_MAX]);

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

#endif
