/* SPDX-License-Identifier: ISC */
/* Packet decoding: link, network and transport headers, bounded reads only. */
#include <string.h>

#include "decode.h"
#include "rbuf.h"

#define ETH_IPV4	0x0800
#define ETH_ARP		0x0806
#define ETH_IPV6	0x86dd
#define ETH_VLAN	0x8100
#define ETH_QINQ	0x88a8
#define ETH_QINQ_OLD	0x9100

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_ICMP_		1
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_AH_		51
#define IPPROTO_ICMPV6_		58
#define IPPROTO_DSTOPTS_	60

#define ND_RS	133
#define ND_RA	134
#define ND_NS	135
#define ND_NA	136

int
decode_addr_group(int af, const uint8_t *a)
{
	static const uint8_t	zero[16];

	if (af == 4)
		return (a[0] & 0xf0) == 0xe0 || memcmp(a, "\xff\xff\xff\xff",
		    4) == 0 || memcmp(a, zero, 4) == 0;
	return a[0] == 0xff || memcmp(a, zero, 16) == 0;
}

int
decode_addr_loopback(int af, const uint8_t *a)
{
	static const uint8_t	one[16] = { [15] = 1 };

	if (af == 4)
		return a[0] == 127;
	return memcmp(a, one, 16) == 0;
}

/*
 * ND options: the source or target link-layer address option (types 1, 2)
 * of length one (8 bytes) gives the MAC.  Returns 0 with mac set, else -1.
 */
static int
decode_nd_mac(struct rbuf *rb, uint8_t want, uint8_t mac[6])
{
	const uint8_t	*p;
	uint8_t		 type, len;
	int		 i;

	for (i = 0; i < 16 && rbuf_left(rb) >= 8; i++) {
		if (rbuf_get_u8(rb, &type) == -1 ||
		    rbuf_get_u8(rb, &len) == -1 || len == 0)
			return -1;
		if (type == want && len == 1) {
			if (rbuf_get_ptr(rb, 6, &p) == -1)
				return -1;
			memcpy(mac, p, 6);
			return 0;
		}
		if (rbuf_skip(rb, (size_t)len * 8 - 2) == -1)
			return -1;
	}
	return -1;
}

/* Neighbour discovery (RFC 4861): who says it owns which address. */
static void
decode_nd(struct pkt *pk, const uint8_t *p, size_t len)
{
	static const uint8_t	 zero[16];
	struct rbuf		 rb;
	const uint8_t		*target;
	uint8_t			 type;

	rbuf_init(&rb, p, len);
	if (rbuf_get_u8(&rb, &type) == -1 || rbuf_skip(&rb, 3) == -1)
		return;
	switch (type) {
	case ND_RS:
	case ND_RA:
		if (rbuf_skip(&rb, type == ND_RS ? 4 : 12) == -1 ||
		    memcmp(pk->src, zero, 16) == 0 ||
		    decode_nd_mac(&rb, 1, pk->nb_mac) == -1)
			return;
		memcpy(pk->nb_ip, pk->src, 16);
		break;
	case ND_NS:
		if (rbuf_skip(&rb, 4 + 16) == -1 ||
		    memcmp(pk->src, zero, 16) == 0 ||
		    decode_nd_mac(&rb, 1, pk->nb_mac) == -1)
			return;
		memcpy(pk->nb_ip, pk->src, 16);
		break;
	case ND_NA:
		if (rbuf_skip(&rb, 4) == -1 ||
		    rbuf_get_ptr(&rb, 16, &target) == -1 ||
		    decode_nd_mac(&rb, 2, pk->nb_mac) == -1)
			return;
		memcpy(pk->nb_ip, target, 16);
		break;
	default:
		return;
	}
	pk->nb_af = 6;
}

/*
 * Transport header at the reader, bounded to the IP payload.  Returns
 * DECODE_OK or DECODE_TRUNCATED when the ports or flags are cut off.
 */
static int
decode_transport(struct pkt *pk, struct rbuf *rb)
{
	uint16_t	doff_flags;
	uint8_t		type;
	size_t		hlen;

	switch (pk->proto) {
	case IPPROTO_TCP_:
		if (rbuf_get_u16(rb, &pk->sport) == -1 ||
		    rbuf_get_u16(rb, &pk->dport) == -1 ||
		    rbuf_get_u32(rb, &pk->tcp_seq) == -1 ||
		    rbuf_skip(rb, 4) == -1 ||
		    rbuf_get_u16(rb, &doff_flags) == -1)
			return DECODE_TRUNCATED;
		pk->has_ports = 1;
		pk->tcp_flags = doff_flags & 0xff;
		hlen = (size_t)(doff_flags >> 12) * 4;
		if (hlen < 20)
			return DECODE_MALFORMED;
		/* Options cut by the snap length leave no payload. */
		if (rbuf_skip(rb, hlen - 14) == -1)
			rb->off = rb->len;
		break;
	case IPPROTO_UDP_:
		if (rbuf_get_u16(rb, &pk->sport) == -1 ||
		    rbuf_get_u16(rb, &pk->dport) == -1 ||
		    rbuf_skip(rb, 4) == -1)
			return DECODE_TRUNCATED;
		pk->has_ports = 1;
		break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		if (rbuf_get_u8(rb, &type) == -1)
			return DECODE_TRUNCATED;
		pk->icmp_type = type;
		if (pk->proto == IPPROTO_ICMPV6_ && type >= ND_RS &&
		    type <= ND_NA)
			decode_nd(pk, rb->data + rb->off - 1,
			    rbuf_left(rb) + 1);
		if (rbuf_get_u8(rb, &pk->icmp_code) == -1)
			break;
		rbuf_skip(rb, rbuf_left(rb) < 2 ? rbuf_left(rb) : 2);
		break;
	default:
		break;
	}
	pk->payload = rb->data + rb->off;
	pk->payload_len = rbuf_left(rb);
	return DECODE_OK;
}

/* Bounds a reader to the first n bytes from its position, if fewer. */
static void
decode_limit(struct rbuf *rb, size_t n)
{
	if (rbuf_left(rb) > n)
		rb->len = rb->off + n;
}

static int
decode_ipv4(struct pkt *pk, struct rbuf *rb, size_t wireleft)
{
	const uint8_t	*a;
	uint16_t	 totlen, id, fragw;
	uint8_t		 vihl, proto;
	size_t		 hlen;

	if (rbuf_get_u8(rb, &vihl) == -1)
		return DECODE_TRUNCATED;
	if (vihl >> 4 != 4)
		return DECODE_MALFORMED;
	hlen = (size_t)(vihl & 0x0f) * 4;
	if (hlen < 20)
		return DECODE_MALFORMED;
	if (rbuf_skip(rb, 1) == -1 || rbuf_get_u16(rb, &totlen) == -1 ||
	    rbuf_get_u16(rb, &id) == -1 || rbuf_get_u16(rb, &fragw) == -1 ||
	    rbuf_skip(rb, 1) == -1 || rbuf_get_u8(rb, &proto) == -1 ||
	    rbuf_skip(rb, 2) == -1)
		return DECODE_TRUNCATED;
	if (rbuf_get_ptr(rb, 4, &a) == -1)
		return DECODE_TRUNCATED;
	memcpy(pk->src, a, 4);
	if (rbuf_get_ptr(rb, 4, &a) == -1)
		return DECODE_TRUNCATED;
	memcpy(pk->dst, a, 4);
	if (rbuf_skip(rb, hlen - 20) == -1)
		return DECODE_TRUNCATED;
	/* Total length 0 is TCP segmentation offload: trust the wire. */
	if (totlen == 0)
		totlen = wireleft > 65535 ? 65535 : (uint16_t)wireleft;
	if (totlen < hlen)
		return DECODE_MALFORMED;
	pk->af = 4;
	pk->proto = proto;
	pk->ip_len = totlen;
	pk->frag_id = id;
	decode_limit(rb, totlen - hlen);
	if ((fragw & 0x1fff) != 0) {
		pk->frag = FRAG_LATER;
		return DECODE_OK;
	}
	if (fragw & 0x2000)
		pk->frag = FRAG_FIRST;
	return decode_transport(pk, rb);
}

static int
decode_ipv6(struct pkt *pk, struct rbuf *rb)
{
	const uint8_t	*a;
	uint32_t	 vtf, id;
	uint16_t	 plen, offw;
	uint8_t		 nh, next, elen;
	int		 i;

	if (rbuf_get_u32(rb, &vtf) == -1)
		return DECODE_TRUNCATED;
	if (vtf >> 28 != 6)
		return DECODE_MALFORMED;
	if (rbuf_get_u16(rb, &plen) == -1 || rbuf_get_u8(rb, &nh) == -1 ||
	    rbuf_skip(rb, 1) == -1)
		return DECODE_TRUNCATED;
	if (rbuf_get_ptr(rb, 16, &a) == -1)
		return DECODE_TRUNCATED;
	memcpy(pk->src, a, 16);
	if (rbuf_get_ptr(rb, 16, &a) == -1)
		return DECODE_TRUNCATED;
	memcpy(pk->dst, a, 16);
	pk->af = 6;
	/*
	 * Payload length 0: a jumbogram or offload.  Its length is what was
	 * captured after the header, never a wire length the file claims.
	 */
	if (plen == 0)
		pk->ip_len = 40 + (rbuf_left(rb) > UINT32_MAX - 40 ?
		    UINT32_MAX - 40 : (uint32_t)rbuf_left(rb));
	else {
		pk->ip_len = 40 + (uint32_t)plen;
		decode_limit(rb, plen);
	}
	for (i = 0; i < DECODE_EXTHDR_MAX; i++) {
		switch (nh) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
		case IPPROTO_AH_:
			if (rbuf_get_u8(rb, &next) == -1 ||
			    rbuf_get_u8(rb, &elen) == -1)
				return DECODE_TRUNCATED;
			/* AH counts 4-byte words minus 2; others 8 minus 1. */
			if (rbuf_skip(rb, nh == IPPROTO_AH_ ?
			    (size_t)elen * 4 + 6 : (size_t)elen * 8 + 6) == -1)
				return DECODE_TRUNCATED;
			nh = next;
			continue;
		case IPPROTO_FRAGMENT_:
			if (rbuf_get_u8(rb, &next) == -1 ||
			    rbuf_skip(rb, 1) == -1 ||
			    rbuf_get_u16(rb, &offw) == -1 ||
			    rbuf_get_u32(rb, &id) == -1)
				return DECODE_TRUNCATED;
			pk->frag_id = id;
			pk->proto = next;
			if ((offw & 0xfff8) != 0) {
				pk->frag = FRAG_LATER;
				return DECODE_OK;
			}
			if (offw & 1)
				pk->frag = FRAG_FIRST;
			nh = next;
			continue;
		default:
			pk->proto = nh;
			return decode_transport(pk, rb);
		}
	}
	return DECODE_MALFORMED;
}

static int
decode_arp(struct pkt *pk, struct rbuf *rb)
{
	const uint8_t	*sha, *spa;
	uint16_t	 htype, ptype;
	uint8_t		 hlen, plen;

	if (rbuf_get_u16(rb, &htype) == -1 || rbuf_get_u16(rb, &ptype) == -1 ||
	    rbuf_get_u8(rb, &hlen) == -1 || rbuf_get_u8(rb, &plen) == -1 ||
	    rbuf_skip(rb, 2) == -1)
		return DECODE_TRUNCATED;
	if (htype != 1 || ptype != ETH_IPV4 || hlen != 6 || plen != 4)
		return DECODE_MALFORMED;
	if (rbuf_get_ptr(rb, 6, &sha) == -1 || rbuf_get_ptr(rb, 4, &spa) == -1 ||
	    rbuf_skip(rb, 10) == -1)
		return DECODE_TRUNCATED;
	/* 0.0.0.0 is a probe (RFC 5227): no address claimed yet. */
	if (memcmp(spa, "\0\0\0\0", 4) != 0) {
		pk->nb_af = 4;
		memcpy(pk->nb_mac, sha, 6);
		memcpy(pk->nb_ip, spa, 4);
	}
	return DECODE_OK;
}

/* After the link header: the network layer named by an ethertype. */
static int
decode_ethertype(struct pkt *pk, struct rbuf *rb, uint16_t type,
    size_t wirelen)
{
	size_t	wireleft;
	int	i;

	for (i = 0; type == ETH_VLAN || type == ETH_QINQ ||
	    type == ETH_QINQ_OLD; i++) {
		if (i == DECODE_VLAN_MAX)
			return DECODE_MALFORMED;
		if (rbuf_skip(rb, 2) == -1 || rbuf_get_u16(rb, &type) == -1)
			return DECODE_TRUNCATED;
	}
	wireleft = wirelen > rb->off ? wirelen - rb->off : 0;
	switch (type) {
	case ETH_IPV4:
		return decode_ipv4(pk, rb, wireleft);
	case ETH_IPV6:
		return decode_ipv6(pk, rb);
	case ETH_ARP:
		return decode_arp(pk, rb);
	default:
		return DECODE_OTHER;
	}
}

int
decode_packet(int dlt, const uint8_t *p, size_t caplen, size_t wirelen,
    struct pkt *pk)
{
	struct rbuf	 rb;
	const uint8_t	*dmac, *smac, *addr;
	uint16_t	 type, pkttype, halen;
	uint8_t		 v, pt8, hl8;

	memset(pk, 0, sizeof(*pk));
	if (wirelen < caplen)
		wirelen = caplen;
	rbuf_init(&rb, p, caplen);
	switch (dlt) {
	case DECODE_DLT_EN10MB:
		if (rbuf_get_ptr(&rb, 6, &dmac) == -1 ||
		    rbuf_get_ptr(&rb, 6, &smac) == -1 ||
		    rbuf_get_u16(&rb, &type) == -1)
			return DECODE_TRUNCATED;
		pk->l2_group = dmac[0] & 1;
		pk->has_src_mac = 1;
		memcpy(pk->src_mac, smac, 6);
		if (type < 0x0600)	/* 802.3 length: LLC, STP... */
			return DECODE_OTHER;
		return decode_ethertype(pk, &rb, type, wirelen);
	case DECODE_DLT_LINUX_SLL:
		if (rbuf_get_u16(&rb, &pkttype) == -1 ||
		    rbuf_skip(&rb, 2) == -1 ||
		    rbuf_get_u16(&rb, &halen) == -1 ||
		    rbuf_get_ptr(&rb, 8, &addr) == -1 ||
		    rbuf_get_u16(&rb, &type) == -1)
			return DECODE_TRUNCATED;
		pk->l2_group = pkttype == 1 || pkttype == 2;
		if (halen == 6) {
			pk->has_src_mac = 1;
			memcpy(pk->src_mac, addr, 6);
		}
		return decode_ethertype(pk, &rb, type, wirelen);
	case DECODE_DLT_LINUX_SLL2:
		if (rbuf_get_u16(&rb, &type) == -1 ||
		    rbuf_skip(&rb, 2 + 4 + 2) == -1 ||
		    rbuf_get_u8(&rb, &pt8) == -1 ||
		    rbuf_get_u8(&rb, &hl8) == -1 ||
		    rbuf_get_ptr(&rb, 8, &addr) == -1)
			return DECODE_TRUNCATED;
		pk->l2_group = pt8 == 1 || pt8 == 2;
		if (hl8 == 6) {
			pk->has_src_mac = 1;
			memcpy(pk->src_mac, addr, 6);
		}
		return decode_ethertype(pk, &rb, type, wirelen);
	case DECODE_DLT_RAW:
	case DECODE_DLT_RAW_ALT:
	case DECODE_DLT_IPV4:
	case DECODE_DLT_IPV6:
		if (caplen < 1)
			return DECODE_TRUNCATED;
		v = p[0] >> 4;
		if (v == 4 && dlt != DECODE_DLT_IPV6)
			return decode_ipv4(pk, &rb, wirelen);
		if (v == 6 && dlt != DECODE_DLT_IPV4)
			return decode_ipv6(pk, &rb);
		return DECODE_MALFORMED;
	default:
		return DECODE_OTHER;
	}
}
