/* Community ID v1: SHA-1 over the ordered flow tuple, base64. */
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <string.h>

#include "communityid.h"

#define CID_ICMP	1
#define CID_TCP		6
#define CID_UDP		17
#define CID_ICMPV6	58
#define CID_SCTP	132

/*
 * The ICMP types that have a counterpart (request and reply): the flow's
 * ports are (type, counterpart) and it is two-way.  -1: one-way.
 */
static int
cid_icmp_counterpart(uint8_t proto, uint16_t type)
{
	static const uint8_t v4[][2] = {
		{ 8, 0 }, { 0, 8 }, { 13, 14 }, { 14, 13 }, { 15, 16 },
		{ 16, 15 }, { 10, 9 }, { 17, 18 }, { 18, 17 },
	};
	static const uint8_t v6[][2] = {
		{ 128, 129 }, { 129, 128 }, { 133, 134 }, { 134, 133 },
		{ 135, 136 }, { 136, 135 }, { 130, 131 }, { 131, 130 },
		{ 139, 140 }, { 140, 139 }, { 144, 145 }, { 145, 144 },
	};
	size_t	i;

	if (proto == CID_ICMP) {
		for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
			if (v4[i][0] == type)
				return v4[i][1];
	} else
		for (i = 0; i < sizeof(v6) / sizeof(v6[0]); i++)
			if (v6[i][0] == type)
				return v6[i][1];
	return -1;
}

/*
 * SHA-1 with the digest fetched once and one context reused: SHA1()
 * fetches the algorithm anew on every call, which cost more than the
 * hash of 40 bytes.  SHA1() stays the fallback.
 */
static void
cid_sha1(const uint8_t *in, size_t n, uint8_t md[SHA_DIGEST_LENGTH])
{
	static EVP_MD		*sha1;
	static EVP_MD_CTX	*ctx;

	if (sha1 == NULL)
		sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	if (ctx == NULL)
		ctx = EVP_MD_CTX_new();
	if (sha1 == NULL || ctx == NULL ||
	    EVP_DigestInit_ex2(ctx, sha1, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, in, n) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, NULL) != 1)
		SHA1(in, n, md);
}

int
communityid_v1(uint16_t seed, int af, uint8_t proto, const uint8_t *saddr,
    const uint8_t *daddr, uint16_t sport, uint16_t dport,
    char out[COMMUNITYID_MAX])
{
	uint8_t		 in[2 + 16 + 16 + 4 + 4], md[SHA_DIGEST_LENGTH];
	const uint8_t	*a = saddr, *b = daddr;
	uint16_t	 pa, pb = dport;
	size_t		 alen, n = 0;
	int		 ports, one_way = 0, cp, cmp;

	if (af != 4 && af != 6)
		return -1;
	alen = af == 4 ? 4 : 16;
	ports = proto == CID_TCP || proto == CID_UDP || proto == CID_SCTP ||
	    proto == CID_ICMP || proto == CID_ICMPV6;
	if (proto == CID_ICMP || proto == CID_ICMPV6) {
		if ((cp = cid_icmp_counterpart(proto, sport)) >= 0)
			pb = (uint16_t)cp;
		else
			one_way = 1;
	}
	if (!ports)
		sport = pb = 0;
	pa = sport;
	cmp = memcmp(a, b, alen);
	if (!one_way && (cmp > 0 || (cmp == 0 && pa > pb))) {
		a = daddr;
		b = saddr;
		pa = pb;
		pb = sport;
	}
	in[n++] = (uint8_t)(seed >> 8);
	in[n++] = (uint8_t)seed;
	memcpy(in + n, a, alen);
	n += alen;
	memcpy(in + n, b, alen);
	n += alen;
	in[n++] = proto;
	in[n++] = 0;
	if (ports) {
		in[n++] = (uint8_t)(pa >> 8);
		in[n++] = (uint8_t)pa;
		in[n++] = (uint8_t)(pb >> 8);
		in[n++] = (uint8_t)pb;
	}
	cid_sha1(in, n, md);
	memcpy(out, "1:", 2);
	EVP_EncodeBlock((unsigned char *)out + 2, md, sizeof(md));
	return 0;
}
