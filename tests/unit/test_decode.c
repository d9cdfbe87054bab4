/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for packet decoding (agent/decode.c): hand-built frames with
 * exact fields, every truncation of them, and real captures from
 * tests/fixtures/pcaps (see its MANIFEST.tsv for where each comes from), each of
 * their packets cut at every length (run under make SANITIZE=1 too).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pcap/pcap.h>

#include "decode.h"

#define PCAPS	"tests/fixtures/pcaps/"

/* Ethernet, 802.1Q 42 then 802.1ad, IPv4 (TL 60), TCP SYN 40000 -> 80. */
static const uint8_t vlan_syn[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x81, 0x00, 0x00, 0x2a, 0x88, 0xa8, 0x00, 0x14, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0, 0,
	192, 168, 1, 10, 198, 51, 100, 7,
	0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0xa0, 0x02, 0xff, 0xff,
	0, 0, 0, 0,
	2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7,
};

/* Raw IPv6, hop-by-hop, fragment (first, M set) then UDP 5000 -> 53. */
static const uint8_t v6_frag[] = {
	0x60, 0, 0, 0, 0x00, 0x20, 0x00, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	0x2c, 0, 1, 4, 0, 0, 0, 0,		/* hop-by-hop, PadN */
	0x11, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef,	/* fragment */
	0x13, 0x88, 0x00, 0x35, 0x00, 0x10, 0, 0,
	1, 2, 3, 4, 5, 6, 7, 8,
};

/* Ethernet broadcast ARP request from 10.0.0.5 (MAC 00:50:56:...). */
static const uint8_t arp_req[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x50, 0x56, 0x01, 0x02, 0x03,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
	0x00, 0x50, 0x56, 0x01, 0x02, 0x03, 10, 0, 0, 5,
	0, 0, 0, 0, 0, 0, 10, 0, 0, 1,
};

static void
test_vlan_tcp(void **state)
{
	struct pkt	pk;

	(void)state;
	assert_int_equal(decode_packet(DECODE_DLT_EN10MB, vlan_syn,
	    sizeof(vlan_syn), sizeof(vlan_syn), &pk), DECODE_OK);
	assert_int_equal(pk.af, 4);
	assert_int_equal(pk.proto, 6);
	assert_int_equal(pk.ip_len, 60);
	assert_int_equal(pk.sport, 40000);
	assert_int_equal(pk.dport, 80);
	assert_int_equal(pk.tcp_flags, TCP_SYN);
	assert_int_equal(pk.frag, FRAG_NONE);
	assert_memory_equal(pk.src, "\xc0\xa8\x01\x0a", 4);
	assert_memory_equal(pk.dst, "\xc6\x33\x64\x07", 4);
	assert_int_equal(pk.payload_len, 0);
	assert_false(pk.l2_group);
}

static void
test_v6_frag(void **state)
{
	struct pkt	pk;

	(void)state;
	assert_int_equal(decode_packet(DECODE_DLT_RAW, v6_frag,
	    sizeof(v6_frag), sizeof(v6_frag), &pk), DECODE_OK);
	assert_int_equal(pk.af, 6);
	assert_int_equal(pk.proto, 17);
	assert_int_equal(pk.ip_len, 40 + 32);
	assert_int_equal(pk.frag, FRAG_FIRST);
	assert_int_equal(pk.frag_id, 0xdeadbeef);
	assert_int_equal(pk.sport, 5000);
	assert_int_equal(pk.dport, 53);
	assert_int_equal(pk.payload_len, 8);
}

static void
test_arp(void **state)
{
	struct pkt	pk;
	uint8_t		bad[sizeof(arp_req)];

	(void)state;
	assert_int_equal(decode_packet(DECODE_DLT_EN10MB, arp_req,
	    sizeof(arp_req), sizeof(arp_req), &pk), DECODE_OK);
	assert_int_equal(pk.af, 0);
	assert_int_equal(pk.nb_af, 4);
	assert_memory_equal(pk.nb_mac, "\x00\x50\x56\x01\x02\x03", 6);
	assert_memory_equal(pk.nb_ip, "\x0a\x00\x00\x05", 4);
	assert_true(pk.l2_group);
	memcpy(bad, arp_req, sizeof(bad));
	bad[18] = 8;		/* hardware address length 8 */
	assert_int_equal(decode_packet(DECODE_DLT_EN10MB, bad, sizeof(bad),
	    sizeof(bad), &pk), DECODE_MALFORMED);
}

/*
 * Raw IPv6 with payload length 0 (a jumbogram, or offload) and a UDP
 * header, 48 bytes captured of a claimed 4 GB: the IP length is what was
 * captured (40 + 8), never the wire length.
 */
static void
test_v6_jumbo(void **state)
{
	uint8_t		p[48];
	struct pkt	pk;

	(void)state;
	memcpy(p, v6_frag, 40);
	p[4] = p[5] = 0;		/* payload length 0 */
	p[6] = 17;			/* UDP next */
	memcpy(p + 40, "\x13\x88\x00\x35\x00\x00\x00\x00", 8);
	assert_int_equal(decode_packet(DECODE_DLT_RAW, p, sizeof(p),
	    (size_t)UINT32_MAX + 1000, &pk), DECODE_OK);
	assert_int_equal(pk.af, 6);
	assert_int_equal(pk.proto, 17);
	assert_int_equal(pk.ip_len, 48);
	assert_int_equal(pk.payload_len, 0);
	assert_int_equal(decode_packet(DECODE_DLT_RAW, p, 44, 9000, &pk),
	    DECODE_TRUNCATED);
}

/* Every cut of a frame decodes without reading past it (ASan checks). */
static void
test_every_snaplen(void **state)
{
	const struct {
		const uint8_t	*p;
		size_t		 len;
		int		 dlt;
		size_t		 need;	/* shortest length that decodes */
	} f[] = {
		{ vlan_syn, sizeof(vlan_syn), DECODE_DLT_EN10MB, 22 + 20 + 14 },
		{ v6_frag, sizeof(v6_frag), DECODE_DLT_RAW, 40 + 16 + 8 },
		{ arp_req, sizeof(arp_req), DECODE_DLT_EN10MB, 14 + 28 },
	};
	struct pkt	 pk;
	uint8_t		*copy;
	size_t		 i, n;
	int		 rv;

	(void)state;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		for (n = 0; n <= f[i].len; n++) {
			/* An exact-size heap copy: overreads are caught. */
			copy = malloc(n ? n : 1);
			memcpy(copy, f[i].p, n);
			rv = decode_packet(f[i].dlt, copy, n, f[i].len, &pk);
			if (n < f[i].need)
				assert_int_equal(rv, DECODE_TRUNCATED);
			else {
				assert_int_equal(rv, DECODE_OK);
				/* Bytes come from the header, not caplen. */
				if (pk.af != 0)
					assert_int_equal(pk.ip_len,
					    f[i].p == vlan_syn ? 60 : 72);
			}
			free(copy);
		}
}

struct tally {
	int	ok, other, bad, tcp, udp, icmp, frags, nb, group;
};

static void
count_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *p)
{
	struct tally	*t = (struct tally *)(void *)user;
	struct pkt	 pk;
	int		 rv;

	rv = decode_packet(DECODE_DLT_EN10MB, p, h->caplen, h->len, &pk);
	if (rv == DECODE_OK) {
		t->ok++;
		t->tcp += pk.proto == 6 && pk.af;
		t->udp += pk.proto == 17 && pk.af;
		t->icmp += (pk.proto == 1 || pk.proto == 58) && pk.af;
		t->frags += pk.frag != FRAG_NONE;
		t->nb += pk.nb_af != 0;
		t->group += pk.l2_group;
	} else if (rv == DECODE_OTHER)
		t->other++;
	else
		t->bad++;
}

static struct tally
replay(const char *name)
{
	char		 err[PCAP_ERRBUF_SIZE];
	struct tally	 t;
	pcap_t		*p;

	memset(&t, 0, sizeof(t));
	p = pcap_open_offline(name, err);
	if (p == NULL)
		fail_msg("%s: %s", name, err);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	assert_int_equal(pcap_dispatch(p, -1, count_cb, (u_char *)&t) >= 0, 1);
	pcap_close(p);
	return t;
}

/* The same HTTP flow untagged, in VLAN 42 and in QinQ: 42 TCP frames. */
static void
test_capture_vlan(void **state)
{
	struct tally	t = replay(PCAPS "zeek_vlan-collisions.pcap");

	(void)state;
	assert_int_equal(t.ok, 42);
	assert_int_equal(t.tcp, 42);
	assert_int_equal(t.bad, 0);
}

/* Six ARP frames with bogus address lengths: all refused. */
static void
test_capture_arp_malformed(void **state)
{
	struct tally	t = replay(PCAPS "zeek_arp-malformed.pcap");

	(void)state;
	assert_int_equal(t.bad, 6);
	assert_int_equal(t.ok, 0);
}

/* ICMP echo in two IPv4 fragments plus the reply. */
static void
test_capture_frags(void **state)
{
	struct tally	t = replay(PCAPS "sv_ipv4frags-icmp.pcap");

	(void)state;
	assert_int_equal(t.ok, 3);
	assert_int_equal(t.frags, 2);
}

/* 18 echo requests behind Destination Options, 18 replies, one RA. */
static void
test_capture_dstopts(void **state)
{
	struct tally	t = replay(PCAPS "sv_ipv6-covert-dstopts.pcap");

	(void)state;
	assert_int_equal(t.ok, 37);
	assert_int_equal(t.icmp, 37);
	assert_int_equal(t.nb, 1);
}

struct cuts {
	int	dlt;
	long	decodes;
};

/* Every packet cut at every length up to 256 bytes, and whole. */
static void
cuts_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *p)
{
	struct cuts	*c = (struct cuts *)(void *)user;
	struct pkt	 pk;
	uint8_t		*copy;
	size_t		 n;
	int		 rv;

	for (n = 0; n <= h->caplen; n = n < 256 ? n + 1 : h->caplen) {
		copy = malloc(n ? n : 1);
		memcpy(copy, p, n);
		rv = decode_packet(c->dlt, copy, n, h->len, &pk);
		assert_true(rv >= DECODE_OK && rv <= DECODE_MALFORMED);
		if (rv == DECODE_OK && pk.payload_len > 0)
			assert_true(pk.payload >= copy &&
			    pk.payload + pk.payload_len <= copy + n);
		free(copy);
		c->decodes++;
		if (n == h->caplen)
			break;
	}
}

static void
test_capture_every_cut(void **state)
{
	static const char *const files[] = {
		"ndpi_badpackets-dns.pcap", "ndpi_dns-fragmented-v4v6.pcap",
		"ndpi_malformed-dns.pcap", "sv_http-arp-linux-sll.pcap",
		"sv_ipv6-covert-dstopts.pcap", "td_ipv6-routing-header.pcap",
		"zeek_arp-malformed.pcap", "zeek_dns-edns-ecs.pcap",
		"zeek_linux-sll2.pcap", "zeek_tcp-truncated-snap68.pcap",
		"zeek_tls13-chrome-kyber-bigCH.pcap", "zeek_vlan-collisions.pcap",
		"zeek_nfs3-write.pcap", NULL,
	};
	char		 err[PCAP_ERRBUF_SIZE], path[256];
	struct cuts	 c;
	pcap_t		*p;
	int		 i;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (i = 0; files[i] != NULL; i++) {
		snprintf(path, sizeof(path), PCAPS "%s", files[i]);
		if ((p = pcap_open_offline(path, err)) == NULL)
			fail_msg("%s: %s", path, err);
		c.dlt = pcap_datalink(p);
		assert_true(pcap_dispatch(p, -1, cuts_cb, (u_char *)&c) >= 0);
		pcap_close(p);
	}
	assert_true(c.decodes > 100000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vlan_tcp),
		cmocka_unit_test(test_v6_frag),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_v6_jumbo),
		cmocka_unit_test(test_every_snaplen),
		cmocka_unit_test(test_capture_vlan),
		cmocka_unit_test(test_capture_arp_malformed),
		cmocka_unit_test(test_capture_frags),
		cmocka_unit_test(test_capture_dstopts),
		cmocka_unit_test(test_capture_every_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
