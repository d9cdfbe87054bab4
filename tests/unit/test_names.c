/* SPDX-License-Identifier: ISC */
/* Unit tests for conversation names (agent/names.c). */
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <pcap/pcap.h>

#include "buf.h"
#include "decode.h"
#include "names.h"

#define PCAPS	"tests/fixtures/pcaps/"

/* A TLS record holding a ClientHello with SNI host and a padding ext. */
static void
hello(struct buf *b, const char *host, size_t pad)
{
	struct buf	h;
	size_t		n = strlen(host), i;

	buf_init(&h);
	buf_add_u16(&h, 0x0303);
	for (i = 0; i < 32; i++)
		buf_add_u8(&h, (uint8_t)i);
	buf_add_u8(&h, 0);			/* session id */
	buf_add_u16(&h, 2);
	buf_add_u16(&h, 0x1301);
	buf_add_u8(&h, 1);
	buf_add_u8(&h, 0);
	buf_add_u16(&h, (uint16_t)(4 + pad + 4 + 5 + n));
	buf_add_u16(&h, 21);			/* padding first */
	buf_add_u16(&h, (uint16_t)pad);
	for (i = 0; i < pad; i++)
		buf_add_u8(&h, 0);
	buf_add_u16(&h, 0);			/* server_name */
	buf_add_u16(&h, (uint16_t)(5 + n));
	buf_add_u16(&h, (uint16_t)(3 + n));
	buf_add_u8(&h, 0);
	buf_add_u16(&h, (uint16_t)n);
	buf_add(&h, host, n);
	buf_add_u8(b, 22);
	buf_add_u16(b, 0x0301);
	buf_add_u16(b, (uint16_t)(4 + h.len));
	buf_add_u8(b, 1);
	buf_add_u8(b, 0);
	buf_add_u16(b, (uint16_t)h.len);
	buf_add(b, h.data, h.len);
	buf_free(&h);
}

static void
test_sni(void **state)
{
	char		out[NAMES_MAX];
	struct buf	b;
	size_t		n;

	(void)state;
	buf_init(&b);
	hello(&b, "www.example.org", 300);
	assert_int_equal(names_tls_sni(b.data, b.len, out), 1);
	assert_string_equal(out, "www.example.org");
	/* Every cut short of the SNI says "more", none reads past. */
	for (n = 0; n < b.len - 1; n++)
		assert_int_equal(names_tls_sni(b.data, n, out), -1);
	b.data[0] = 23;			/* application data: not a hello */
	assert_int_equal(names_tls_sni(b.data, b.len, out), 0);
	buf_free(&b);
}

/* A ClientHello over three in-order segments, with a retransmission. */
static void
test_sni_split(void **state)
{
	struct names_stream	*s = NULL;
	char			 out[NAMES_MAX];
	struct buf		 b;

	(void)state;
	buf_init(&b);
	hello(&b, "split.example.net", 600);
	assert_true(b.len > 520);
	assert_int_equal(names_stream_feed(&s, 1000, b.data, 260, out),
	    NAME_NONE);
	assert_non_null(s);
	assert_int_equal(names_stream_feed(&s, 1000, b.data, 260, out),
	    NAME_NONE);
	assert_int_equal(names_stream_feed(&s, 1260, b.data + 260, 260, out),
	    NAME_NONE);
	assert_int_equal(names_stream_feed(&s, 1520, b.data + 520,
	    b.len - 520, out), NAME_SNI);
	assert_string_equal(out, "split.example.net");
	assert_null(s);
	buf_free(&b);
}

static void
test_http(void **state)
{
	const char	*req = "GET / HTTP/1.1\r\nUser-Agent: x\r\n"
	    "hOsT:  bro.org:8080 \r\n\r\n";
	const char	*nohost = "GET / HTTP/1.0\r\n\r\nHost: late\r\n";
	char		 out[NAMES_MAX];

	(void)state;
	assert_int_equal(names_http_host((const uint8_t *)req, strlen(req),
	    out), 1);
	assert_string_equal(out, "bro.org:8080");
	assert_int_equal(names_http_host((const uint8_t *)nohost,
	    strlen(nohost), out), 0);
	assert_int_equal(names_http_host((const uint8_t *)"SSH-2.0-x\r\n",
	    11, out), 0);
}

/* www.a.test CNAME b.test CNAME c.test A 203.0.113.9, compressed. */
static const uint8_t dns_cname[] = {
	0x12, 0x34, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0,
	3, 'w', 'w', 'w', 1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
	0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4,
	1, 'b', 0xc0, 18,				/* b.test */
	0xc0, 40, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4,
	1, 'c', 0xc0, 18,				/* c.test */
	0xc0, 56, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 9,
};

static void
test_dns(void **state)
{
	struct names_cache	*c = names_cache_new(16);
	uint8_t			 msg[sizeof(dns_cname)], a[4] = { 203, 0,
	    113, 9 };
	const char		*name;
	size_t			 n;

	(void)state;
	assert_int_equal(names_dns_response(c, dns_cname, sizeof(dns_cname)),
	    1);
	assert_non_null(name = names_cache_lookup(c, 4, a));
	assert_string_equal(name, "www.a.test");
	/* Truncated anywhere: never more than the one address. */
	for (n = 0; n < sizeof(dns_cname); n++)
		assert_true(names_dns_response(c, dns_cname, n) <= 0);
	/* A pointer to itself loops: refused, bounded. */
	memcpy(msg, dns_cname, sizeof(msg));
	msg[12] = 0xc0;
	msg[13] = 12;
	assert_int_equal(names_dns_response(c, msg, sizeof(msg)), -1);
	names_cache_free(c);
}

/* The cache holds at most its size; the oldest go first. */
static void
test_cache_bound(void **state)
{
	struct names_cache	*c = names_cache_new(16);
	uint8_t			 msg[sizeof(dns_cname)], a[4] = { 203, 0,
	    113, 0 };
	int			 i, found = 0;

	(void)state;
	memcpy(msg, dns_cname, sizeof(msg));
	for (i = 0; i < 40; i++) {
		msg[sizeof(msg) - 1] = (uint8_t)i;
		assert_int_equal(names_dns_response(c, msg, sizeof(msg)), 1);
	}
	for (i = 0; i < 40; i++) {
		a[3] = (uint8_t)i;
		if (names_cache_lookup(c, 4, a) != NULL) {
			found++;
			assert_true(i >= 24);
		}
	}
	assert_int_equal(found, 16);
	names_cache_free(c);
}

struct quic_run {
	struct names_stream	*s;
	int			 packets, found_at, corrupt;
	char			 name[NAMES_MAX];
};

static void
quic_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *p)
{
	struct quic_run	*q = (struct quic_run *)(void *)user;
	struct pkt	 pk;
	uint8_t		 copy[2048];

	if (q->found_at || decode_packet(DECODE_DLT_EN10MB, p, h->caplen,
	    h->len, &pk) != DECODE_OK || pk.proto != 17 || pk.dport != 443 ||
	    pk.payload_len == 0 || pk.payload_len > sizeof(copy))
		return;
	q->packets++;
	memcpy(copy, pk.payload, pk.payload_len);
	if (q->corrupt)
		copy[100] ^= 1;		/* inside the ciphertext: GCM fails */
	if (names_quic_feed(&q->s, copy, pk.payload_len, q->name) == NAME_SNI)
		q->found_at = q->packets;
}

static struct quic_run
quic_replay(const char *file, int corrupt)
{
	char		 err[PCAP_ERRBUF_SIZE];
	struct quic_run	 q;
	pcap_t		*p;

	memset(&q, 0, sizeof(q));
	q.corrupt = corrupt;
	if ((p = pcap_open_offline(file, err)) == NULL)
		fail_msg("%s: %s", file, err);
	pcap_dispatch(p, -1, quic_cb, (u_char *)&q);
	pcap_close(p);
	names_stream_free(q.s);
	return q;
}

/* QUIC Initial decrypted: the SNI tshark shows in the .names.txt. */
static void
test_quic(void **state)
{
	struct quic_run	q;

	(void)state;
	q = quic_replay(PCAPS "zeek_quic-curl-http3-google.pcap", 0);
	assert_int_equal(q.found_at, 1);
	assert_string_equal(q.name, "www.google.de");
	q = quic_replay(PCAPS "sv_quic-tls-ipv6-cloudflare.pcap", 0);
	assert_true(q.found_at >= 1);
	assert_string_equal(q.name, "cloudflare-quic.com");
	q = quic_replay(PCAPS "zeek_quic-curl-http3-google.pcap", 1);
	assert_int_equal(q.found_at, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni),
		cmocka_unit_test(test_sni_split),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_cache_bound),
		cmocka_unit_test(test_quic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
