/* SPDX-License-Identifier: ISC */
/* The dashboard's session cookies and CSRF tokens: see cookie.h. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"

#define MAC_HEX		64
#define NONCE_HEX	16
#define REVOKED_MAX	256

static uint8_t		key[COOKIE_KEY_LEN];

/* Logged-out values: their nonce and expiry. */
static struct revoked {
	long long	until;
	char		nonce[NONCE_HEX + 1];
} revoked[REVOKED_MAX];
static size_t		nrevoked;

void
cookie_set_key(const uint8_t k[COOKIE_KEY_LEN])
{
	memcpy(key, k, COOKIE_KEY_LEN);
}

static void
hex(char *out, const uint8_t *in, size_t n)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* HMAC-SHA256 of a and b with the key, in hex. */
static void
mac2(const char *a, size_t alen, const char *b, char out[MAC_HEX + 1])
{
	uint8_t		 md[EVP_MAX_MD_SIZE];
	unsigned	 mdlen = 0;
	char		 buf[COOKIE_MAX + USER_HASH_MAX + 2];
	int		 n;

	n = snprintf(buf, sizeof(buf), "%.*s\n%s", (int)alen, a, b);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	HMAC(EVP_sha256(), key, COOKIE_KEY_LEN, (const uint8_t *)buf,
	    (size_t)n, md, &mdlen);
	OPENSSL_cleanse(buf, sizeof(buf));
	hex(out, md, 32);
}

void
cookie_make(const struct user *u, time_t now, char *out, size_t size)
{
	uint8_t	nonce[NONCE_HEX / 2];
	char	nhex[NONCE_HEX + 1], mac[MAC_HEX + 1];
	int	n;

	RAND_bytes(nonce, sizeof(nonce));
	hex(nhex, nonce, sizeof(nonce));
	n = snprintf(out, size, "%s:%lld:%s", u->name,
	    (long long)now + COOKIE_SECONDS, nhex);
	mac2(out, (size_t)n, u->hash, mac);
	snprintf(out + n, size - (size_t)n, ":%s", mac);
}

int
cookie_find(const char *hdr, char *out, size_t size)
{
	const char	*p = hdr, *v;
	size_t		 len;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, COOKIE_NAME "=", sizeof(COOKIE_NAME)) == 0) {
			v = p + sizeof(COOKIE_NAME);
			len = strcspn(v, "; ");
			if (len == 0 || len >= size)
				return -1;
			memcpy(out, v, len);
			out[len] = '\0';
			return 0;
		}
		p = strchr(p, ';');
	}
	return -1;
}

/* The value's three colons: 0, or -1 when it is not NAME:EXP:NONCE:MAC. */
static int
cookie_split(const char *v, const char **c1, const char **c2,
    const char **c3)
{
	if ((*c1 = strchr(v, ':')) == NULL || *c1 == v ||
	    *c1 - v > USER_NAME_MAX || (*c2 = strchr(*c1 + 1, ':')) == NULL ||
	    (*c3 = strchr(*c2 + 1, ':')) == NULL ||
	    *c3 - *c2 - 1 != NONCE_HEX || strlen(*c3 + 1) != MAC_HEX)
		return -1;
	return 0;
}

int
cookie_name(const char *v, char name[USER_NAME_MAX + 1])
{
	const char	*c1, *c2, *c3;

	if (cookie_split(v, &c1, &c2, &c3) == -1)
		return -1;
	memcpy(name, v, (size_t)(c1 - v));
	name[c1 - v] = '\0';
	return 0;
}

static int
cookie_revoked(const char *nonce, long long exp)
{
	size_t	i;

	for (i = 0; i < REVOKED_MAX; i++)
		if (revoked[i].until == exp &&
		    strncmp(revoked[i].nonce, nonce, NONCE_HEX) == 0)
			return 1;
	return 0;
}

int
cookie_check(const char *v, const struct user *u, time_t now)
{
	const char	*c1, *c2, *c3;
	char		 mac[MAC_HEX + 1];
	long long	 exp;

	if (cookie_split(v, &c1, &c2, &c3) == -1 ||
	    (size_t)(c1 - v) != strlen(u->name) ||
	    memcmp(v, u->name, (size_t)(c1 - v)) != 0)
		return -1;
	mac2(v, (size_t)(c3 - v), u->hash, mac);
	if (CRYPTO_memcmp(mac, c3 + 1, MAC_HEX) != 0)
		return -1;
	exp = strtoll(c1 + 1, NULL, 10);
	return exp < (long long)now || cookie_revoked(c2 + 1, exp) ? -1 : 0;
}

void
cookie_revoke(const char *v)
{
	const char	*c1, *c2, *c3;
	struct revoked	*r;

	if (cookie_split(v, &c1, &c2, &c3) == -1)
		return;
	r = &revoked[nrevoked++ % REVOKED_MAX];
	r->until = strtoll(c1 + 1, NULL, 10);
	memcpy(r->nonce, c2 + 1, NONCE_HEX);
	r->nonce[NONCE_HEX] = '\0';
}

void
cookie_csrf(const char *v, char out[CSRF_HEX + 1])
{
	char	mac[MAC_HEX + 1];

	mac2("csrf", 4, v, mac);
	memcpy(out, mac, CSRF_HEX);
	out[CSRF_HEX] = '\0';
}
