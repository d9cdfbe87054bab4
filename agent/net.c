/* SPDX-License-Identifier: ISC */
/*
 * The network monitor's middle: decoded packets go to the conversation
 * table, DNS answers to the name cache, neighbours to netdev.c; ended
 * conversations become flow.lan / flow.internet records.
 */
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "agent.h"
#include "cidr.h"
#include "communityid.h"
#include "conv.h"
#include "decode.h"
#include "log.h"
#include "names.h"
#include "xmalloc.h"

#define NAMES_CACHE_ENTRIES	8192
#define DNS_QUERIES		1024	/* outstanding DNS queries remembered */
#define REASSEMBLY_BUDGET	(4 << 20)	/* all partial ClientHellos */
#define CONV_OPEN_MAX		(1 << 20)
#define FILTERED_MAX		1024
#define QUIC_TRIES		16	/* Initials tried per connection */

#define IPPROTO_ICMP_		1
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define IPPROTO_ICMPV6_		58

static const char *const lan_default[] = {
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
	"fc00::/7", "fe80::/10", NULL,
};

static const uint16_t ignore_default[] = {
	53, 67, 68, 123, 137, 138, 1900, 5353, 5355, 0,
};

static const struct agent_conf	*conf;
static const struct agent_sink	*sink;
static int			 replay;
static struct conv_table	*convs;
static struct names_cache	*dns;
static struct names_queries	*queries;
static struct names_budget	 reassembly = { .limit = REASSEMBLY_BUDGET };
static struct cidr_set		*lan;
static struct cidr_set		*filter;
static struct record		 flow_rec;	/* reused: its memory stays */
static uint8_t			 ignore[65536 / 8];

static struct {
	uint64_t	packets;	/* handed to net_packet */
	uint64_t	bad;		/* truncated or malformed */
	uint64_t	unplaced;	/* later fragments of unknown datagrams */
	uint64_t	dns_ignored;	/* answers to no query of ours */
} st;

/* Conversations not logged because of ip.txt, per label. */
static struct {
	char		*label;
	uint64_t	 count;
}				 filtered[FILTERED_MAX];
static int			 nfiltered;

static void
net_count_filtered(const char *label)
{
	int	i;

	for (i = 0; i < nfiltered; i++)
		if (strcmp(filtered[i].label, label) == 0)
			break;
	if (i == nfiltered) {
		if (nfiltered == FILTERED_MAX)
			i = FILTERED_MAX - 1;	/* the last one takes the rest */
		else
			filtered[nfiltered++].label = xstrdup(label);
	}
	filtered[i].count++;
}

static const char *
net_proto_str(uint8_t proto, char buf[4])
{
	switch (proto) {
	case IPPROTO_TCP_:
		return "tcp";
	case IPPROTO_UDP_:
		return "udp";
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		return "icmp";
	default:
		snprintf(buf, 4, "%u", proto);
		return buf;
	}
}

/* The remote end of a conversation: the one outside the LAN. */
static const uint8_t *
net_remote(const struct conv_key *k, int *ini_lan, int *resp_lan)
{
	*ini_lan = cidr_lookup(lan, k->af, k->ini) >= 0;
	*resp_lan = cidr_lookup(lan, k->af, k->resp) >= 0;
	return *ini_lan || !*resp_lan ? k->resp : k->ini;
}

/*
 * The conversation's Community ID: its first connection's for TCP and
 * UDP, its first packet's type and code for ICMP.
 */
static void
net_community_id(const struct conv *c, char out[COMMUNITYID_MAX])
{
	const struct conv_key	*k = &c->key;
	int			 in = c->first_dir == CONV_IN;

	if (k->proto == IPPROTO_ICMP_ || k->proto == IPPROTO_ICMPV6_)
		communityid_v1(0, k->af, k->proto, in ? k->resp : k->ini,
		    in ? k->ini : k->resp, c->icmp_type, c->icmp_code, out);
	else
		communityid_v1(0, k->af, k->proto, k->ini, k->resp, c->port0,
		    k->rport, out);
}

/*
 * name (the first), name_source, names (every distinct one: those seen
 * in the packets in order, then the DNS name of the responder) and
 * names_more (distinct names beyond CONV_NAMES_MAX).
 */
static void
net_add_names(struct record *r, const struct conv *c)
{
	const struct conv_names	*n = c->names;
	uint32_t		 i, listed = n != NULL ? n->n : 0;
	uint32_t		 more = n != NULL ? n->more : 0;
	int			 dnsnew;

	dnsnew = c->dns != NULL && !conv_name_seen(c, c->dns);
	if (listed == 0 && !dnsnew)
		return;
	record_add_str(r, "name", listed > 0 ? n->name[0] : c->dns);
	record_add_str(r, "name_source", names_source_str(listed > 0 ?
	    n->source[0] : NAME_DNS));
	record_add_list(r, "names");
	for (i = 0; i < listed; i++)
		record_list_add(r, n->name[i], strlen(n->name[i]));
	if (dnsnew && listed < CONV_NAMES_MAX)
		record_list_add(r, c->dns, strlen(c->dns));
	else if (dnsnew && n->n + n->nseen < CONV_NAMES_SEEN_MAX)
		more++;
	if (more > 0)
		record_add_int(r, "names_more", more);
}

static void
net_emit_cb(const struct conv *c, int final, void *arg)
{
	const struct conv_key	*k = &c->key;
	const uint8_t		*remote;
	char			 a[INET6_ADDRSTRLEN], pbuf[4];
	char			 cid[COMMUNITYID_MAX];
	int			 af = k->af == 4 ? AF_INET : AF_INET6;
	int			 ini_lan, resp_lan, label;
	struct record		*r = &flow_rec;

	(void)arg;
	remote = net_remote(k, &ini_lan, &resp_lan);
	if ((!ini_lan || !resp_lan) && filter != NULL &&
	    (label = cidr_lookup(filter, k->af, remote)) >= 0) {
		if (final)
			net_count_filtered(cidr_label_name(filter, label));
		return;
	}
	record_begin(r, ini_lan && resp_lan ? "flow.lan" : "flow.internet");
	if (replay)
		r->ts_us = final ? c->end : conv_clock(convs);
	record_add_str(r, "proto", net_proto_str(k->proto, pbuf));
	record_add_str(r, "src", addr_ntop(af, k->ini, a));
	record_add_str(r, "dst", addr_ntop(af, k->resp, a));
	record_add_int(r, "dport", k->rport);
	/* The most telling fields first: where to, then how much. */
	if (!ini_lan || !resp_lan)
		net_add_names(r, c);
	net_community_id(c, cid);
	record_add_str(r, "community_id", cid);
	record_add_int(r, "packets_out", (int64_t)c->packets[CONV_OUT]);
	record_add_int(r, "bytes_out", (int64_t)c->bytes[CONV_OUT]);
	record_add_int(r, "packets_in", (int64_t)c->packets[CONV_IN]);
	record_add_int(r, "bytes_in", (int64_t)c->bytes[CONV_IN]);
	record_add_int(r, "connections", c->nports);
	record_add_time(r, "start", c->start);
	record_add_time(r, "end", c->end);
	record_add_duration(r, "duration", c->end - c->start);
	record_add_bool(r, "final", final);
	net_emit(r);
}

/* Builds a prefix set from CIDR strings; a bad one is fatal at start. */
static struct cidr_set *
net_lan_set(const char *const *cidrs, int n)
{
	struct cidr_set	*s = cidr_new();
	const char	*err;
	uint8_t		 addr[16];
	int		 i, af, plen;

	for (i = 0; i < n; i++) {
		if (cidr_parse(cidrs[i], &af, addr, &plen, &err) == -1)
			fatalx("--lan %s: %s", cidrs[i], err);
		cidr_add(s, af, addr, plen, cidr_label(s, "lan"));
	}
	return s;
}

/* Loads ip.txt into a new set; NULL when it cannot be read at all. */
static struct cidr_set *
net_load_filter(void)
{
	struct cidr_set	*s = cidr_new();
	int		 bad;

	if (!conf->ip_filter_set && access(conf->ip_filter, F_OK) == -1) {
		log_debug("%s: absent, no filter", conf->ip_filter);
		cidr_free(s);
		return NULL;
	}
	if ((bad = cidr_load(s, conf->ip_filter, "unlabeled")) == -1) {
		cidr_free(s);
		return NULL;
	}
	log_info("%s: %zu prefixes%s", conf->ip_filter, cidr_count(s),
	    bad ? ", bad lines skipped" : "");
	return s;
}

void
net_emit(struct record *r)
{
	sink->emit(r);
}

int
net_init(const struct agent_conf *c, int is_replay,
    const struct agent_sink *s)
{
	sink = s;
	struct conv_conf	cc;
	int			i;

	conf = c;
	replay = is_replay;
	if (conf->lan != NULL)
		lan = net_lan_set(conf->lan, conf->nlan);
	else
		lan = net_lan_set(lan_default,
		    (int)(sizeof(lan_default) / sizeof(lan_default[0])) - 1);
	if (conf->ignore_port_set)
		memcpy(ignore, conf->ignore_port, sizeof(ignore));
	else
		for (i = 0; ignore_default[i] != 0; i++)
			ignore[ignore_default[i] / 8] |=
			    1 << (ignore_default[i] % 8);
	if ((filter = net_load_filter()) == NULL && conf->ip_filter_set)
		return -1;
	dns = names_cache_new(NAMES_CACHE_ENTRIES);
	queries = names_queries_new(DNS_QUERIES);
	memset(&cc, 0, sizeof(cc));
	cc.idle_us = conf->flow_idle_us;
	cc.active_us = conf->flow_active_us;
	cc.max_open = CONV_OPEN_MAX;
	cc.emit = net_emit_cb;
	convs = conv_new(&cc);
	netdev_init(conf->state_dir, !replay || conf->state_dir_set);
	return 0;
}

void
net_reload(void)
{
	struct cidr_set	*s;

	if ((s = net_load_filter()) == NULL) {
		log_warnx("%s: keeping the filter loaded before",
		    conf->ip_filter);
		return;
	}
	cidr_free(filter);
	filter = s;
}

static int
net_ignored_port(uint16_t port)
{
	return ignore[port / 8] & (1 << (port % 8));
}

/*
 * The agent's own links to collectors, which are not transfers: the link
 * (slot 0) and a probe of the preferred collector (slot 1).
 */
static struct uplink_peer {
	uint8_t		af;		/* 0: not connected */
	uint8_t		ip[16];
	uint16_t	port;
} uplink_peers[2];

void
net_exclude_peer(int slot, const struct sockaddr *sa)
{
	struct uplink_peer	*u = &uplink_peers[slot != 0];

	memset(u, 0, sizeof(*u));
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		u->af = 4;
		memcpy(u->ip, &sin->sin_addr, 4);
		u->port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		u->af = 6;
		memcpy(u->ip, &sin6->sin6_addr, 16);
		u->port = ntohs(sin6->sin6_port);
	}
}

/* Is this packet on a link to a collector? */
static int
net_is_uplink(const struct pkt *pk)
{
	const struct uplink_peer	*u;
	size_t				 len = pk->af == 4 ? 4 : 16, i;

	if (pk->proto != IPPROTO_TCP_ || !pk->has_ports)
		return 0;
	for (i = 0; i < 2; i++) {
		u = &uplink_peers[i];
		if (u->af != 0 && pk->af == u->af &&
		    ((pk->dport == u->port && memcmp(pk->dst, u->ip, len) ==
		    0) || (pk->sport == u->port && memcmp(pk->src, u->ip,
		    len) == 0)))
			return 1;
	}
	return 0;
}

/*
 * DNS over UDP or in one TCP segment: queries going out are remembered;
 * an answer feeds the name cache only when it answers one of them and
 * was sent to one host (never to a broadcast or multicast address).
 */
static void
net_dns(const struct pkt *pk, int64_t ts)
{
	struct names_dns_ends	 e;
	const uint8_t		*msg = pk->payload;
	size_t			 len = pk->payload_len;
	int			 answer;

	if (pk->proto == IPPROTO_TCP_) {
		if (len <= 2)
			return;
		msg += 2;
		len -= 2;
	} else if (pk->proto != IPPROTO_UDP_)
		return;
	if (len < 3)
		return;
	answer = (msg[2] & 0x80) != 0;
	if ((answer ? pk->sport : pk->dport) != 53)
		return;
	memset(&e, 0, sizeof(e));
	e.af = pk->af;
	e.cport = answer ? pk->dport : pk->sport;
	e.sport = 53;
	memcpy(e.client, answer ? pk->dst : pk->src, 16);
	memcpy(e.server, answer ? pk->src : pk->dst, 16);
	if (pk->l2_group || decode_addr_group(pk->af, pk->dst)) {
		if (answer)
			st.dns_ignored++;
		return;
	}
	if (!answer)
		names_dns_query(queries, &e, msg, len, ts);
	else if (names_dns_answer(queries, dns, &e, msg, len, ts) == -1)
		st.dns_ignored++;
}

/* A new conversation with the internet: the DNS name its responder had. */
static void
net_conv_start(struct conv *c)
{
	const uint8_t	*remote;
	const char	*name;
	int		 ini_lan, resp_lan;

	remote = net_remote(&c->key, &ini_lan, &resp_lan);
	if ((!ini_lan || !resp_lan) &&
	    (name = names_cache_lookup(dns, c->key.af, remote)) != NULL)
		conv_set_dns(c, name);
}

/*
 * The initiator's payload: a TLS ClientHello (possibly continued from
 * the last segment), an HTTP request, or a QUIC Initial.  Each new
 * connection brings its own; a conversation lists every distinct name.
 */
static void
net_names(struct conv *c, const struct pkt *pk)
{
	char		name[NAMES_MAX];
	int		src;
	uint32_t	budget;

	if (pk->proto == IPPROTO_TCP_) {
		/* Only a handshake record or a method starts anything. */
		if (c->stream == NULL && pk->payload[0] != 0x16 &&
		    (pk->payload[0] < 'A' || pk->payload[0] > 'Z'))
			return;
		src = names_stream_feed(&c->stream, &reassembly, pk->tcp_seq,
		    pk->payload, pk->payload_len, name);
	} else if (pk->proto == IPPROTO_UDP_ &&
	    (pk->payload[0] & 0xc0) == 0xc0) {
		/* A bounded number of Initials per connection. */
		budget = QUIC_TRIES * (c->nports < CONV_NAMES_MAX ?
		    c->nports : CONV_NAMES_MAX);
		if (c->quic_tries >= budget)
			return;
		c->quic_tries++;
		src = names_quic_feed(&c->stream, &reassembly, pk->payload,
		    pk->payload_len, name);
	} else
		return;
	if (src != NAME_NONE)
		conv_name_add(c, name, src);
}

void
net_packet(int dlt, int64_t ts, const uint8_t *p, size_t caplen,
    size_t wirelen)
{
	struct pkt	 pk;
	struct conv	*c;
	enum conv_dir	 dir;
	int		 rv;

	st.packets++;
	rv = decode_packet(dlt, p, caplen, wirelen, &pk);
	if (rv == DECODE_TRUNCATED || rv == DECODE_MALFORMED) {
		st.bad++;
		return;
	}
	if (pk.nb_af != 0 && lan != NULL &&
	    cidr_lookup(lan, pk.nb_af, pk.nb_ip) >= 0)
		netdev_seen(pk.nb_af, pk.nb_mac, pk.nb_ip, ts, replay);
	if (rv != DECODE_OK || pk.af == 0) {
		conv_expire(convs, ts);
		return;
	}
	if (pk.has_ports && (pk.sport == 53 || pk.dport == 53))
		net_dns(&pk, ts);
	if (decode_addr_loopback(pk.af, pk.src) ||
	    decode_addr_loopback(pk.af, pk.dst) || pk.l2_group ||
	    decode_addr_group(pk.af, pk.dst) ||
	    (pk.proto == IPPROTO_ICMPV6_ && pk.icmp_type >= 133 &&
	    pk.icmp_type <= 137) ||
	    (pk.has_ports && (net_ignored_port(pk.sport) ||
	    net_ignored_port(pk.dport))) || net_is_uplink(&pk)) {
		conv_expire(convs, ts);
		return;
	}
	if ((c = conv_packet(convs, &pk, ts, &dir)) == NULL) {
		st.unplaced++;
		return;
	}
	if (c->packets[CONV_OUT] + c->packets[CONV_IN] == 1)
		net_conv_start(c);
	if (dir == CONV_OUT && pk.payload_len > 0)
		net_names(c, &pk);
}

void
net_tick(int64_t now)
{
	conv_expire(convs, now);
}

void
net_stats(uint64_t kseen, uint64_t kdropped)
{
	struct record	r;
	char		item[CIDR_LINE_MAX + 32];
	int		i, n;

	record_init(&r);
	record_begin(&r, "agent.stats");
	if (replay)
		r.ts_us = conv_clock(convs);
	record_add_int(&r, "packets", (int64_t)st.packets);
	if (!replay) {
		record_add_int(&r, "kernel_packets", (int64_t)kseen);
		record_add_int(&r, "dropped", (int64_t)kdropped);
	} else
		record_add_int(&r, "dropped", 0);
	record_add_int(&r, "malformed", (int64_t)st.bad);
	record_add_int(&r, "fragments_unplaced", (int64_t)st.unplaced);
	record_add_int(&r, "conversations", (int64_t)conv_open(convs));
	record_add_int(&r, "evicted", (int64_t)conv_evicted(convs));
	record_add_int(&r, "reassembly_refused", (int64_t)reassembly.refused);
	record_add_int(&r, "dns_ignored", (int64_t)st.dns_ignored);
	record_add_list(&r, "filtered");
	for (i = 0; i < nfiltered; i++) {
		n = snprintf(item, sizeof(item), "%s %" PRIu64,
		    filtered[i].label, filtered[i].count);
		record_list_add(&r, item, (size_t)n < sizeof(item) ?
		    (size_t)n : sizeof(item) - 1);
	}
	net_emit(&r);
	record_free(&r);
}

void
net_finish(void)
{
	if (convs != NULL)
		conv_flush(convs);
}

void
net_shutdown(void)
{
	int	i;

	if (convs == NULL)
		return;
	conv_free(convs);
	convs = NULL;
	record_free(&flow_rec);
	names_cache_free(dns);
	names_queries_free(queries);
	cidr_free(lan);
	cidr_free(filter);
	for (i = 0; i < nfiltered; i++)
		free(filtered[i].label);
	nfiltered = 0;
	netdev_shutdown();
}
