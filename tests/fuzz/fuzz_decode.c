/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the packet path: the first byte picks a link type,
 * the rest is a frame; what decodes goes through the conversation table and
 * the name parsers (SNI, HTTP Host, DNS, QUIC Initial).  Every input is also tried cut at
 * each length, as a small snap length would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "decode.h"
#include "names.h"

static const int dlts[] = {
	DECODE_DLT_EN10MB, DECODE_DLT_RAW, DECODE_DLT_LINUX_SLL,
	DECODE_DLT_LINUX_SLL2, DECODE_DLT_IPV4, DECODE_DLT_IPV6,
};

static void
emit_cb(const struct conv *c, int final, void *arg)
{
	(void)c;
	(void)final;
	(void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conv_table	*t;
	static struct names_cache	*dns;
	struct conv_conf		 cc = { .idle_us = 2000000,
	    .active_us = 60000000, .max_open = 64, .emit = emit_cb };
	struct names_budget		 bud = { .limit = 1 << 16 };
	struct names_stream		*s = NULL, *q = NULL;
	struct pkt			 pk;
	struct conv			*c;
	enum conv_dir			 dir;
	char				 name[NAMES_MAX];
	uint8_t				*copy;
	size_t				 n;
	int				 dlt;

	if (t == NULL) {
		t = conv_new(&cc);
		dns = names_cache_new(64);
	}
	if (size < 1)
		return 0;
	dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	data++;
	size--;
	for (n = size; size <= 256 || n + 64 >= size; n--) {
		copy = malloc(n ? n : 1);
		memcpy(copy, data, n);
		if (decode_packet(dlt, copy, n, size, &pk) == DECODE_OK &&
		    pk.af != 0) {
			if ((c = conv_packet(t, &pk, 0, &dir)) == NULL) {
				free(copy);
				if (n == 0)
					break;
				continue;
			}
			names_dns_response(dns, pk.payload, pk.payload_len);
			names_stream_feed(&s, &bud, pk.tcp_seq, pk.payload,
			    pk.payload_len, name);
			names_quic_feed(&q, &bud, pk.payload, pk.payload_len,
			    name);
		}
		free(copy);
		if (n == 0)
			break;
	}
	names_stream_free(s);
	names_stream_free(q);
	if (bud.used != 0)
		abort();	/* every byte charged is given back */
	names_tls_sni(data, size, name);
	names_http_host(data, size, name);
	return 0;
}
