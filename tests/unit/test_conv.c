/* SPDX-License-Identifier: ISC */
/* Unit tests for the conversation table (agent/conv.c): exact counts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "conv.h"
#include "names.h"

#define S	1000000LL	/* one second in µs */

struct seen {
	int		n, finals;
	struct conv	last;		/* a copy of the last record's conv */
	struct conv	rec[16];
	int		final[16];
};

static void
emit_cb(const struct conv *c, int final, void *arg)
{
	struct seen	*s = arg;

	if (s->n < 16) {
		s->rec[s->n] = *c;
		s->final[s->n] = final;
	}
	s->n++;
	s->finals += final;
	s->last = *c;
}

static struct conv_table *
table(struct seen *s)
{
	struct conv_conf	cc = {
		.idle_us = 2 * S, .active_us = 60 * S, .max_open = 1000,
		.emit = emit_cb, .arg = s,
	};

	memset(s, 0, sizeof(*s));
	return conv_new(&cc);
}

/* A TCP or UDP packet a:sport -> b:dport of ip_len bytes (IPv4). */
static struct pkt
mk(uint8_t proto, uint8_t a, uint16_t sport, uint8_t b, uint16_t dport,
    uint8_t flags, uint32_t len)
{
	struct pkt	pk;

	memset(&pk, 0, sizeof(pk));
	pk.af = 4;
	pk.proto = proto;
	pk.has_ports = 1;
	pk.sport = sport;
	pk.dport = dport;
	pk.tcp_flags = flags;
	pk.ip_len = len;
	memcpy(pk.src, (uint8_t []){ 10, 0, 0, a }, 4);
	memcpy(pk.dst, (uint8_t []){ 10, 0, 0, b }, 4);
	return pk;
}

static void
feed(struct conv_table *t, struct pkt pk, int64_t ts)
{
	enum conv_dir	dir;

	assert_non_null(conv_packet(t, &pk, ts, &dir));
}

/* The key of record i: initiator, responder (last bytes), port. */
static void
assert_key(const struct seen *s, int i, uint8_t ini, uint8_t resp,
    uint16_t rport)
{
	assert_true(i < s->n);
	assert_int_equal(s->rec[i].key.ini[3], ini);
	assert_int_equal(s->rec[i].key.resp[3], resp);
	assert_int_equal(s->rec[i].key.rport, rport);
}

/* Two connections to one server port are one conversation. */
static void
test_connections(void **state)
{
	struct conv_table	*t;
	struct seen		 s;

	(void)state;
	t = table(&s);
	feed(t, mk(6, 1, 40000, 2, 445, TCP_SYN, 60), 0);
	feed(t, mk(6, 2, 445, 1, 40000, TCP_SYN | TCP_ACK, 60), 1000);
	feed(t, mk(6, 1, 40000, 2, 445, TCP_ACK, 1500), 2000);
	feed(t, mk(6, 1, 40001, 2, 445, TCP_SYN, 60), 3000);
	feed(t, mk(6, 2, 445, 1, 40001, TCP_ACK, 40), 4000);
	assert_int_equal(conv_open(t), 1);
	conv_flush(t);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.finals, 1);
	assert_int_equal(s.last.key.ini[3], 1);
	assert_int_equal(s.last.key.resp[3], 2);
	assert_int_equal(s.last.key.rport, 445);
	assert_int_equal(s.last.packets[CONV_OUT], 3);
	assert_int_equal(s.last.bytes[CONV_OUT], 60 + 1500 + 60);
	assert_int_equal(s.last.packets[CONV_IN], 2);
	assert_int_equal(s.last.bytes[CONV_IN], 100);
	assert_int_equal(s.last.nports, 2);
	assert_int_equal(s.last.start, 0);
	assert_int_equal(s.last.end, 4000);
	conv_free(t);
}

/* Idle more than 2 s ends it; exactly 2 s does not. */
static void
test_idle(void **state)
{
	struct conv_table	*t;
	struct seen		 s;

	(void)state;
	t = table(&s);
	feed(t, mk(17, 1, 5000, 2, 9000, 0, 100), 0);
	feed(t, mk(17, 2, 9000, 1, 5000, 0, 100), 2 * S);
	assert_int_equal(s.n, 0);
	feed(t, mk(17, 1, 5000, 2, 9000, 0, 100), 4 * S + 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.rec[0].packets[CONV_OUT], 1);
	assert_int_equal(s.rec[0].packets[CONV_IN], 1);
	assert_int_equal(s.rec[0].end, 2 * S);
	conv_expire(t, 7 * S);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.rec[1].start, 4 * S + 1);
	assert_int_equal(conv_open(t), 0);
	conv_free(t);
}

/* A first packet from a low port to a high one: the other side began. */
static void
test_port_rule(void **state)
{
	struct conv_table	*t;
	struct seen		 s;

	(void)state;
	t = table(&s);
	feed(t, mk(17, 2, 161, 1, 40000, 0, 80), 0);
	feed(t, mk(17, 1, 40000, 2, 161, 0, 70), 10);
	feed(t, mk(6, 3, 20, 1, 50000, TCP_SYN, 60), 20);	/* active FTP */
	conv_flush(t);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.rec[0].key.ini[3], 1);
	assert_int_equal(s.rec[0].key.rport, 161);
	assert_int_equal(s.rec[0].packets[CONV_OUT], 1);
	assert_int_equal(s.rec[0].bytes[CONV_IN], 80);
	/* The SYN sender is the initiator even from port 20. */
	assert_int_equal(s.rec[1].key.ini[3], 3);
	assert_int_equal(s.rec[1].key.rport, 50000);
	conv_free(t);
}

/* Interim records every active period, cumulative, then the final. */
static void
test_active(void **state)
{
	struct conv_table	*t;
	struct seen		 s;
	int64_t			 ts;

	(void)state;
	t = table(&s);
	for (ts = 0; ts <= 130 * S; ts += S)
		feed(t, mk(6, 1, 40000, 2, 22, TCP_ACK, 100), ts);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.final[0], 0);
	assert_int_equal(s.rec[0].packets[CONV_OUT], 60);
	assert_int_equal(s.rec[1].packets[CONV_OUT], 120);
	conv_flush(t);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.final[2], 1);
	assert_int_equal(s.rec[2].packets[CONV_OUT], 131);
	conv_free(t);
}

/* A later fragment counts to its datagram's conversation when known. */
static void
test_fragments(void **state)
{
	struct conv_table	*t;
	struct seen		 s;
	struct pkt		 first, later, stray;
	enum conv_dir		 dir;

	(void)state;
	t = table(&s);
	first = mk(17, 1, 7000, 2, 7001, 0, 1500);
	first.frag = FRAG_FIRST;
	first.frag_id = 77;
	later = first;
	later.frag = FRAG_LATER;
	later.has_ports = 0;
	later.ip_len = 500;
	stray = later;
	stray.frag_id = 78;
	feed(t, first, 0);
	feed(t, later, 10);
	assert_null(conv_packet(t, &stray, 20, &dir));
	conv_flush(t);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.rec[0].packets[CONV_OUT], 2);
	assert_int_equal(s.rec[0].bytes[CONV_OUT], 2000);
	conv_free(t);
}

/* Many distinct initiator ports, and the table growing. */
static void
test_many(void **state)
{
	struct conv_table	*t;
	struct seen		 s;
	int			 i;

	(void)state;
	t = table(&s);
	for (i = 0; i < 3000; i++)
		feed(t, mk(6, 1, (uint16_t)(1024 + i), 2, 80, TCP_SYN, 60), i);
	for (i = 0; i < 3000; i++)
		feed(t, mk(6, 1, (uint16_t)(1024 + i), 2, 80, TCP_ACK, 40),
		    3000 + i);
	assert_int_equal(conv_open(t), 1);
	for (i = 0; i < 900; i++)
		feed(t, mk(17, 5, 9999, (uint8_t)(i % 250), (uint16_t)(2000 +
		    i), 0, 10), 7000 + i);
	assert_int_equal(conv_open(t), 901);
	assert_int_equal(conv_evicted(t), 0);
	/* max_open 1000: the least recently seen end early, counted. */
	for (i = 0; i < 200; i++)
		feed(t, mk(17, 6, 9999, 1, (uint16_t)(5000 + i), 0, 10),
		    8000 + i);
	assert_int_equal(conv_open(t), 1000);
	assert_int_equal(s.n, 101);
	assert_int_equal(conv_evicted(t), 1101 - 1000);
	assert_int_equal(s.rec[0].nports, 3000);
	assert_int_equal(s.rec[0].packets[CONV_OUT], 6000);
	conv_free(t);
	assert_int_equal(s.n, 1101);
}

/* A clock stepped back an hour does not hold conversations open. */
static void
test_clock_step(void **state)
{
	struct conv_table	*t;
	struct seen		 s;

	(void)state;
	t = table(&s);
	feed(t, mk(17, 1, 5000, 2, 9000, 0, 100), 3600 * S);
	feed(t, mk(17, 1, 5001, 2, 9001, 0, 100), 3600 * S + 1);
	/* One second back is jitter: the clock holds. */
	feed(t, mk(17, 1, 5000, 2, 9000, 0, 100), 3599 * S);
	assert_int_equal(conv_clock(t), 3600 * S + 1);
	/* An hour back is a step: 3 s later both have gone idle. */
	conv_expire(t, 10 * S);
	assert_int_equal(s.n, 0);
	conv_expire(t, 13 * S);
	assert_int_equal(s.n, 2);
	/* In idle order: 9001 (one packet) went quiet first. */
	assert_int_equal(s.rec[0].key.rport, 9001);
	assert_int_equal(s.rec[0].packets[CONV_OUT], 1);
	assert_int_equal(s.rec[1].packets[CONV_OUT], 2);
	assert_int_equal(s.rec[1].end, 10 * S);
	conv_free(t);
}


/*
 * A connection idle 3 s, resumed by the server (high ports both ends):
 * the second record keeps the SYN sender as initiator.
 */
static void
test_resume_keeps_initiator(void **state)
{
	struct conv_table	*t;
	struct seen		 s;

	(void)state;
	t = table(&s);
	feed(t, mk(6, 1, 55408, 2, 9001, TCP_SYN, 60), 0);
	feed(t, mk(6, 2, 9001, 1, 55408, TCP_SYN | TCP_ACK, 60), 1000);
	feed(t, mk(6, 1, 55408, 2, 9001, TCP_ACK, 52), 2000);
	feed(t, mk(6, 2, 9001, 1, 55408, TCP_ACK, 100), 3 * S + 2000);
	feed(t, mk(6, 1, 55408, 2, 9001, TCP_ACK, 52), 3 * S + 3000);
	feed(t, mk(6, 2, 9001, 1, 55408, TCP_ACK, 100), 6 * S + 3000);
	conv_flush(t);
	assert_int_equal(s.n, 3);
	assert_key(&s, 0, 1, 2, 9001);
	assert_key(&s, 1, 1, 2, 9001);
	assert_key(&s, 2, 1, 2, 9001);
	assert_int_equal(s.rec[1].packets[CONV_IN], 1);
	assert_int_equal(s.rec[1].bytes[CONV_IN], 100);
	assert_int_equal(s.rec[1].packets[CONV_OUT], 1);
	assert_int_equal(s.rec[2].packets[CONV_IN], 1);
	assert_int_equal(s.rec[2].packets[CONV_OUT], 0);
	conv_free(t);
}

/*
 * An NFS client on port 880 to 2049: after a pause, neither side's
 * packet is taken for the port rule's (server 880) view.
 */
static void
test_resume_low_client_port(void **state)
{
	struct conv_table	*t;
	struct seen		 s;

	(void)state;
	t = table(&s);
	feed(t, mk(6, 26, 880, 61, 2049, TCP_SYN, 60), 0);
	feed(t, mk(6, 61, 2049, 26, 880, TCP_SYN | TCP_ACK, 60), 100);
	feed(t, mk(6, 61, 2049, 26, 880, TCP_ACK, 200), 2 * S + 700000);
	feed(t, mk(6, 26, 880, 61, 2049, TCP_ACK, 300), 5 * S);
	conv_flush(t);
	assert_int_equal(s.n, 3);
	assert_key(&s, 0, 26, 61, 2049);
	assert_key(&s, 1, 26, 61, 2049);
	assert_int_equal(s.rec[1].bytes[CONV_IN], 200);
	assert_key(&s, 2, 26, 61, 2049);
	assert_int_equal(s.rec[2].bytes[CONV_OUT], 300);
	conv_free(t);
}

/* Without the SYN, a SYN-ACK names its receiver the initiator. */
static void
test_syn_ack_decides(void **state)
{
	struct conv_table	*t;
	struct seen		 s;

	(void)state;
	t = table(&s);
	feed(t, mk(6, 2, 5000, 1, 40000, TCP_SYN | TCP_ACK, 60), 0);
	feed(t, mk(6, 1, 40000, 2, 5000, TCP_ACK, 52), 10);
	conv_flush(t);
	assert_int_equal(s.n, 1);
	assert_key(&s, 0, 1, 2, 5000);
	assert_int_equal(s.rec[0].packets[CONV_IN], 1);
	assert_int_equal(s.rec[0].packets[CONV_OUT], 1);
	conv_free(t);
}

/*
 * UDP: the first sender began; resumed by the other side after the idle
 * end, it is still the initiator, until the memory runs out.
 */
static void
test_udp_memory(void **state)
{
	struct conv_table	*t;
	struct seen		 s;

	(void)state;
	t = table(&s);
	feed(t, mk(17, 1, 5000, 2, 6000, 0, 100), 0);
	feed(t, mk(17, 2, 6000, 1, 5000, 0, 100), 3 * S);
	feed(t, mk(17, 2, 6000, 1, 5000, 0, 100), 6 * S);
	/* Remembered from its end (6 s) for CONV_RECENT_US, not longer. */
	feed(t, mk(17, 2, 6000, 1, 5000, 0, 100), 6 * S + CONV_RECENT_US +
	    S);
	conv_flush(t);
	assert_int_equal(s.n, 4);
	assert_key(&s, 0, 1, 2, 6000);
	assert_key(&s, 1, 1, 2, 6000);
	assert_int_equal(s.rec[1].packets[CONV_IN], 1);
	assert_key(&s, 2, 1, 2, 6000);
	assert_key(&s, 3, 2, 1, 5000);
	assert_int_equal(s.rec[3].packets[CONV_OUT], 1);
	conv_free(t);
}

/* The port rule still decides for a conversation never seen. */
static void
test_port_rule_only_new(void **state)
{
	struct conv_table	*t;
	struct seen		 s;

	(void)state;
	t = table(&s);
	/* First seen mid-stream from the client's low port: the rule. */
	feed(t, mk(6, 26, 880, 61, 2049, TCP_ACK, 100), 0);
	/* Another pair, begun with a SYN from 700 to 3000, then a pause. */
	feed(t, mk(6, 5, 700, 6, 3000, TCP_SYN, 60), 10);
	feed(t, mk(6, 5, 700, 6, 3000, TCP_ACK, 60), 5 * S);
	conv_flush(t);
	assert_int_equal(s.n, 3);
	assert_key(&s, 0, 61, 26, 880);
	assert_key(&s, 1, 5, 6, 3000);
	assert_key(&s, 2, 5, 6, 3000);
	conv_free(t);
}

/* Names: distinct, in order, 16 listed, the rest counted (bounded). */
static void
test_names(void **state)
{
	struct conv_table	*t;
	struct seen		 s;
	struct conv		*c;
	struct pkt		 pk = mk(6, 1, 40000, 2, 443, TCP_SYN, 60);
	enum conv_dir		 dir;
	char			 name[32];
	int			 i;

	(void)state;
	t = table(&s);
	assert_non_null(c = conv_packet(t, &pk, 0, &dir));
	assert_null(c->names);
	assert_int_equal(conv_name_add(c, "a.example", NAME_SNI), 1);
	assert_int_equal(conv_name_add(c, "b.example", NAME_HTTP), 1);
	assert_int_equal(conv_name_add(c, "a.example", NAME_SNI), 0);
	assert_int_equal(c->names->n, 2);
	assert_string_equal(c->names->name[1], "b.example");
	assert_int_equal(c->names->source[1], NAME_HTTP);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		conv_name_add(c, name, NAME_SNI);
		conv_name_add(c, name, NAME_SNI);
	}
	assert_int_equal(c->names->n, CONV_NAMES_MAX);
	assert_string_equal(c->names->name[15], "n13.example");
	/* 302 distinct: 16 listed, 240 more told apart, then no more. */
	assert_int_equal(c->names->more, CONV_NAMES_SEEN_MAX - CONV_NAMES_MAX);
	assert_true(conv_name_seen(c, "n100.example"));
	assert_false(conv_name_seen(c, "other.example"));
	conv_set_dns(c, "d.example");
	conv_set_dns(c, "e.example");
	assert_string_equal(c->dns, "d.example");
	conv_free(t);
	assert_int_equal(s.n, 1);
}

/*
 * Keys built to share one chain under a seed (what anyone could do against
 * a hash without one) do share it in a table with that seed, and spread
 * in a table with another seed or a random one: a flood of them costs a
 * lookup a few steps, not one step per conversation in the table.
 */
static void
test_hash_seed(void **state)
{
	const uint64_t		 seed = 0x5eed5eed5eed5eedULL;
	struct conv_conf	 cc = {
		.idle_us = 2 * S, .active_us = 60 * S, .max_open = 1000,
		.emit = emit_cb,
	};
	struct conv_table	*t[3];
	struct conv_key		 k;
	struct pkt		 pk[64];
	struct seen		 s;
	uint32_t		 a;
	int			 i, n;

	(void)state;
	/* 64 sources to 10.0.0.1:53 in bucket 0 of 4096 under the seed. */
	memset(&k, 0, sizeof(k));
	k.af = 4;
	k.proto = 17;
	k.rport = 53;
	memcpy(k.resp, (uint8_t []){ 10, 0, 0, 1 }, 4);
	for (a = 0, n = 0; n < 64; a++) {
		memcpy(k.ini, (uint8_t []){ 172, (uint8_t)(a >> 16),
		    (uint8_t)(a >> 8), (uint8_t)a }, 4);
		if ((conv_key_hash(seed, &k) & 4095) != 0)
			continue;
		pk[n] = mk(17, 1, 40000, 1, 53, 0, 60);
		memcpy(pk[n].src, k.ini, 4);
		n++;
	}
	for (i = 0; i < 3; i++) {
		memset(&s, 0, sizeof(s));
		cc.arg = &s;
		cc.seed = i == 0 ? seed : i == 1 ? seed + 1 : 0;
		t[i] = conv_new(&cc);
		for (n = 0; n < 64; n++)
			feed(t[i], pk[n], S);
		assert_int_equal(conv_open(t[i]), 64);
	}
	assert_int_equal(conv_chain_max(t[0]), 64);
	assert_true(conv_chain_max(t[1]) <= 4);
	assert_true(conv_chain_max(t[2]) <= 4);
	for (i = 0; i < 3; i++)
		conv_free(t[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connections),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_port_rule),
		cmocka_unit_test(test_active),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_clock_step),
		cmocka_unit_test(test_resume_keeps_initiator),
		cmocka_unit_test(test_resume_low_client_port),
		cmocka_unit_test(test_syn_ack_decides),
		cmocka_unit_test(test_udp_memory),
		cmocka_unit_test(test_port_rule_only_new),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_hash_seed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
