/* SPDX-License-Identifier: ISC */
/*
 * Packet decoding: captured bytes to a parsed packet, no I/O, no state.
 * Every header is read through the bounded reader; nothing past the captured
 * length is ever touched.
 */
#ifndef LABWATCH_DECODE_H
#define LABWATCH_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Link types (the pcap DLT values decode_packet understands). */
#define DECODE_DLT_EN10MB	1
#define DECODE_DLT_RAW		12
#define DECODE_DLT_RAW_ALT	101	/* LINKTYPE_RAW as some files say it */
#define DECODE_DLT_LINUX_SLL	113
#define DECODE_DLT_IPV4		228
#define DECODE_DLT_IPV6		229
#define DECODE_DLT_LINUX_SLL2	276

#define DECODE_VLAN_MAX		4	/* stacked 802.1Q/802.1ad tags */
#define DECODE_EXTHDR_MAX	8	/* IPv6 extension headers walked */

enum decode_frag {
	FRAG_NONE = 0,
	FRAG_FIRST,		/* offset 0, more fragments follow */
	FRAG_LATER,		/* offset > 0: no transport header */
};

/* decode_packet's verdicts besides 0. */
enum decode_err {
	DECODE_OK = 0,
	DECODE_OTHER,		/* well formed but nothing of ours (STP...) */
	DECODE_TRUNCATED,	/* captured bytes end inside a header */
	DECODE_MALFORMED,	/* a header contradicts itself */
};

#define TCP_FIN	0x01
#define TCP_SYN	0x02
#define TCP_RST	0x04
#define TCP_ACK	0x10

struct pkt {
	/* Link layer. */
	uint8_t		 l2_group;	/* sent to broadcast or multicast */
	uint8_t		 has_src_mac;
	uint8_t		 src_mac[6];

	/* IP; af is 0 when the packet is not IP. */
	uint8_t		 af;		/* 4 or 6 */
	uint8_t		 proto;		/* transport protocol number */
	uint8_t		 frag;		/* enum decode_frag */
	uint8_t		 has_ports;
	uint8_t		 tcp_flags;
	uint8_t		 icmp_type;
	uint8_t		 icmp_code;	/* 0 when cut off */
	uint16_t	 sport, dport;
	uint32_t	 frag_id;
	uint32_t	 ip_len;	/* IP bytes, from the IP header */
	uint32_t	 tcp_seq;
	uint8_t		 src[16], dst[16];	/* IPv4 in the first 4 */
	const uint8_t	*payload;	/* transport payload, captured part */
	size_t		 payload_len;

	/* A neighbour announcing itself (ARP, IPv6 ND). */
	uint8_t		 nb_af;		/* 0: none */
	uint8_t		 nb_mac[6];
	uint8_t		 nb_ip[16];
};

/*
 * Decodes one captured frame of link type dlt: caplen bytes at p, wirelen
 * bytes on the wire.  Understands Ethernet with up to DECODE_VLAN_MAX VLAN
 * tags, Linux cooked v1 and v2, raw IP; IPv4 with options, IPv6 with up to
 * DECODE_EXTHDR_MAX extension headers, fragments of both; TCP, UDP, ICMP,
 * ICMPv6 and neighbour discovery; ARP.  Returns DECODE_OK with *pk filled,
 * or another enum decode_err.
 */
int	decode_packet(int dlt, const uint8_t *p, size_t caplen, size_t wirelen,
	    struct pkt *pk);

/* Is the IP address (af 4 or 6) multicast, broadcast or unspecified? */
int	decode_addr_group(int af, const uint8_t *);
/* Is the IP address loopback? */
int	decode_addr_loopback(int af, const uint8_t *);

#endif
