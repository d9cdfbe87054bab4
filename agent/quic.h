/* SPDX-License-Identifier: ISC */
/* QUIC v1 Initial packets: what an observer can decrypt.  No I/O. */
#ifndef LABWATCH_QUIC_H
#define LABWATCH_QUIC_H

#include <stddef.h>
#include <stdint.h>

#define QUIC_PACKET_MAX	4096	/* payload bytes of one Initial packet */

struct rbuf;

/* Reads a QUIC variable-length integer (RFC 9000, 16). */
int	quic_varint(struct rbuf *, uint64_t *);

/*
 * Opens the client Initial packet at the start of p (a UDP payload may
 * hold several coalesced packets): checks the long header, derives the
 * Initial keys from the Destination Connection ID, removes the header
 * protection and decrypts with AES-128-GCM.  Returns 0 with the frames in
 * out and *outlen, *consumed set to the packet's length; -1 when it is not
 * a QUIC v1 Initial or does not authenticate.
 */
int	quic_initial_open(const uint8_t *p, size_t len, size_t *consumed,
	    uint8_t out[QUIC_PACKET_MAX], size_t *outlen);

#endif
