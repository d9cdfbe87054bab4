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
#define S	1000000LL	/* one second in µs */

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
	struct names_budget	 bud = { .limit = 1 << 20 };
	struct names_stream	*s = NULL;
	char			 out[NAMES_MAX];
	struct buf		 b;

	(void)state;
	buf_init(&b);
	hello(&b, "split.example.net", 600);
	assert_true(b.len > 520);
	assert_int_equal(names_stream_feed(&s, &bud, 1000, b.data, 260, out),
	    NAME_NONE);
	assert_non_null(s);
	assert_int_equal(names_stream_feed(&s, &bud, 1000, b.data, 260, out),
	    NAME_NONE);
	assert_int_equal(names_stream_feed(&s, &bud, 1260, b.data + 260,
	    260, out),
	    NAME_NONE);
	assert_int_equal(names_stream_feed(&s, &bud, 1520, b.data + 520,
	    b.len - 520, out), NAME_SNI);
	assert_string_equal(out, "split.example.net");
	assert_null(s);
	assert_int_equal(bud.used, 0);
	assert_int_equal(bud.refused, 0);
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

/* The ends of a query 192.168.1.10:41000 -> 192.168.1.1:53. */
static struct names_dns_ends
dns_ends(void)
{
	struct names_dns_ends	e;

	memset(&e, 0, sizeof(e));
	e.af = 4;
	e.cport = 41000;
	e.sport = 53;
	memcpy(e.client, "\xc0\xa8\x01\x0a", 4);
	memcpy(e.server, "\xc0\xa8\x01\x01", 4);
	return e;
}

/*
 * The query dns_cname answers: id 0x1234, RD, WWW.A.test (case differs,
 * as with 0x20 randomisation) A IN.
 */
static const uint8_t dns_query[] = {
	0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	3, 'W', 'W', 'W', 1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
};

/* An answer names addresses only when it answers a query we sent. */
static void
test_dns_solicited(void **state)
{
	struct names_queries	*q = names_queries_new(64);
	struct names_cache	*c = names_cache_new(16);
	struct names_dns_ends	 e = dns_ends(), o;
	const uint8_t		 a[4] = { 203, 0, 113, 9 };
	uint8_t			 msg[sizeof(dns_cname)];
	const char		*name;

	(void)state;
	/* Unsolicited: nothing is read. */
	assert_int_equal(names_dns_answer(q, c, &e, dns_cname,
	    sizeof(dns_cname), 0), -1);
	assert_null(names_cache_lookup(c, 4, a));
	/* An answer is not a query; a query is remembered. */
	assert_int_equal(names_dns_query(q, &e, dns_cname, sizeof(dns_cname),
	    0), -1);
	assert_int_equal(names_dns_query(q, &e, dns_query, sizeof(dns_query),
	    10 * S), 0);
	/* Another id, server, client port, question, or too late: no. */
	memcpy(msg, dns_cname, sizeof(msg));
	msg[1] ^= 1;
	assert_int_equal(names_dns_answer(q, c, &e, msg, sizeof(msg),
	    10 * S + 1), -1);
	o = e;
	o.server[3] = 2;
	assert_int_equal(names_dns_answer(q, c, &o, dns_cname,
	    sizeof(dns_cname), 10 * S + 1), -1);
	o = e;
	o.cport = 41001;
	assert_int_equal(names_dns_answer(q, c, &o, dns_cname,
	    sizeof(dns_cname), 10 * S + 1), -1);
	memcpy(msg, dns_cname, sizeof(msg));
	msg[25] = 28;				/* asked AAAA */
	assert_int_equal(names_dns_answer(q, c, &e, msg, sizeof(msg),
	    10 * S + 1), -1);
	assert_int_equal(names_dns_answer(q, c, &e, dns_cname,
	    sizeof(dns_cname), 10 * S + NAMES_DNS_WINDOW_US + 1), -1);
	assert_null(names_cache_lookup(c, 4, a));
	/* The answer itself, within the window: named, once. */
	assert_int_equal(names_dns_query(q, &e, dns_query, sizeof(dns_query),
	    20 * S), 0);
	assert_int_equal(names_dns_answer(q, c, &e, dns_cname,
	    sizeof(dns_cname), 20 * S + NAMES_DNS_WINDOW_US), 1);
	assert_non_null(name = names_cache_lookup(c, 4, a));
	assert_string_equal(name, "www.a.test");
	assert_int_equal(names_dns_answer(q, c, &e, dns_cname,
	    sizeof(dns_cname), 20 * S + 2), -1);
	names_queries_free(q);
	names_cache_free(c);
}

/* The table of queries is bounded: old queries give way to new ones. */
static void
test_dns_queries_bound(void **state)
{
	struct names_queries	*q = names_queries_new(16);
	struct names_cache	*c = names_cache_new(16);
	struct names_dns_ends	 e = dns_ends();
	int			 i, matched = 0;

	(void)state;
	for (i = 0; i < 1000; i++) {
		e.cport = (uint16_t)(20000 + i);
		assert_int_equal(names_dns_query(q, &e, dns_query,
		    sizeof(dns_query), i), 0);
	}
	for (i = 0; i < 1000; i++) {
		e.cport = (uint16_t)(20000 + i);
		matched += names_dns_answer(q, c, &e, dns_cname,
		    sizeof(dns_cname), 1000) == 1;
	}
	/* At most 16 remembered, and the last one is among them. */
	assert_true(matched > 0 && matched <= 16);
	e.cport = 20999;
	assert_int_equal(names_dns_query(q, &e, dns_query, sizeof(dns_query),
	    2000), 0);
	assert_int_equal(names_dns_answer(q, c, &e, dns_cname,
	    sizeof(dns_cname), 2001), 1);
	names_queries_free(q);
	names_cache_free(c);
}

/*
 * Partial ClientHellos share one budget: a stream takes 1 KiB (plus its
 * small header) to start and doubles as it grows, so 5000 bytes hold
 * four; the others are refused and counted, and every byte comes back
 * when streams end.
 */
static void
test_stream_budget(void **state)
{
	struct names_budget	 bud = { .limit = 5000 };
	struct names_stream	*s[10] = { NULL };
	char			 out[NAMES_MAX];
	struct buf		 b;
	int			 i, held = 0;

	(void)state;
	buf_init(&b);
	hello(&b, "budget.example", 2000);
	for (i = 0; i < 10; i++) {
		assert_int_equal(names_stream_feed(&s[i], &bud, 1, b.data, 100,
		    out), NAME_NONE);
		held += s[i] != NULL;
		assert_true(bud.used <= bud.limit);
	}
	assert_int_equal(held, 4);
	assert_int_equal(bud.refused, 6);
	/* Growing to 2 KiB does not fit beside three others: dropped. */
	assert_non_null(s[0]);
	assert_int_equal(names_stream_feed(&s[0], &bud, 101, b.data + 100,
	    1500, out), NAME_NONE);
	assert_null(s[0]);
	assert_int_equal(bud.refused, 7);
	/* With room again, a whole hello is read from its pieces. */
	for (i = 1; i < 4; i++) {
		names_stream_free(s[i]);
		s[i] = NULL;
	}
	assert_int_equal(bud.used, 0);
	assert_int_equal(names_stream_feed(&s[0], &bud, 1, b.data, 100, out),
	    NAME_NONE);
	assert_int_equal(names_stream_feed(&s[0], &bud, 101, b.data + 100,
	    b.len - 100, out), NAME_SNI);
	assert_string_equal(out, "budget.example");
	assert_null(s[0]);
	for (i = 0; i < 10; i++)
		names_stream_free(s[i]);
	assert_int_equal(bud.used, 0);
	buf_free(&b);
}

struct quic_run {
	struct names_budget	 bud;
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
	if (names_quic_feed(&q->s, &q->bud, copy, pk.payload_len,
	    q->name) == NAME_SNI)
		q->found_at = q->packets;
}

static struct quic_run
quic_replay(const char *file, int corrupt)
{
	char		 err[PCAP_ERRBUF_SIZE];
	struct quic_run	 q;
	pcap_t		*p;

	memset(&q, 0, sizeof(q));
	q.bud.limit = 1 << 20;
	q.corrupt = corrupt;
	if ((p = pcap_open_offline(file, err)) == NULL)
		fail_msg("%s: %s", file, err);
	pcap_dispatch(p, -1, quic_cb, (u_char *)&q);
	pcap_close(p);
	names_stream_free(q.s);
	q.s = NULL;
	if (q.bud.used != 0)
		fail_msg("%zu bytes still charged", q.bud.used);
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
		cmocka_unit_test(test_dns_solicited),
		cmocka_unit_test(test_dns_queries_bound),
		cmocka_unit_test(test_stream_budget),
		cmocka_unit_test(test_quic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
