/* SPDX-License-Identifier: ISC */
/*
 * QUIC v1 Initial packets (RFC 9000, 9001): removes the header protection
 * and decrypts the payload with the keys every observer can derive from
 * the Destination Connection ID, so the ClientHello's SNI can be read.
 */
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <string.h>

#include "quic.h"
#include "rbuf.h"

#define QUIC_V1		0x00000001u
#define QUIC_CID_MAX	20
#define QUIC_TAG_LEN	16

static const uint8_t quic_v1_salt[20] = {
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
};

/* Reads a QUIC variable-length integer. */
int
quic_varint(struct rbuf *rb, uint64_t *v)
{
	uint8_t	b;
	int	i, n;

	if (rbuf_get_u8(rb, &b) == -1)
		return -1;
	n = 1 << (b >> 6);
	*v = b & 0x3f;
	for (i = 1; i < n; i++) {
		if (rbuf_get_u8(rb, &b) == -1)
			return -1;
		*v = *v << 8 | b;
	}
	return 0;
}

/* HKDF-Extract (mode EXTRACT_ONLY) or HKDF-Expand-Label (TLS 1.3). */
static int
quic_hkdf(int extract, const uint8_t *key, size_t keylen, const uint8_t *salt,
    size_t saltlen, const char *label, uint8_t *out, size_t outlen)
{
	EVP_PKEY_CTX	*ctx;
	uint8_t		 info[64];
	size_t		 l = label != NULL ? strlen(label) : 0, infolen = 0;
	int		 ok;

	if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL)) == NULL)
		return -1;
	ok = EVP_PKEY_derive_init(ctx) > 0 &&
	    EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) > 0 &&
	    EVP_PKEY_CTX_set1_hkdf_key(ctx, key, (int)keylen) > 0;
	if (ok && extract)
		ok = EVP_PKEY_CTX_hkdf_mode(ctx,
		    EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY) > 0 &&
		    EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, (int)saltlen) > 0;
	else if (ok) {
		/* HkdfLabel: length, "tls13 " label, empty context. */
		info[infolen++] = (uint8_t)(outlen >> 8);
		info[infolen++] = (uint8_t)outlen;
		info[infolen++] = (uint8_t)(6 + l);
		memcpy(info + infolen, "tls13 ", 6);
		memcpy(info + infolen + 6, label, l);
		infolen += 6 + l;
		info[infolen++] = 0;
		ok = EVP_PKEY_CTX_hkdf_mode(ctx,
		    EVP_PKEY_HKDEF_MODE_EXPAND_ONLY) > 0 &&
		    EVP_PKEY_CTX_add1_hkdf_info(ctx, info, (int)infolen) > 0;
	}
	ok = ok && EVP_PKEY_derive(ctx, out, &outlen) > 0;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* AES-128-ECB of one block: the header protection mask. */
static int
quic_hp_mask(const uint8_t hp[16], const uint8_t sample[16], uint8_t mask[16])
{
	EVP_CIPHER_CTX	*ctx;
	int		 n, ok;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, hp, NULL) > 0 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) > 0 &&
	    EVP_EncryptUpdate(ctx, mask, &n, sample, 16) > 0 && n == 16;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int
quic_gcm_open(const uint8_t key[16], const uint8_t nonce[12],
    const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t ctlen,
    const uint8_t *tag, uint8_t *out)
{
	EVP_CIPHER_CTX	*ctx;
	int		 n, ok;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, nonce) > 0 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) > 0 &&
	    EVP_DecryptUpdate(ctx, out, &n, ct, (int)ctlen) > 0 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, QUIC_TAG_LEN,
	    (void *)(uintptr_t)tag) > 0 &&
	    EVP_DecryptFinal_ex(ctx, out + n, &n) > 0;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

int
quic_initial_open(const uint8_t *p, size_t len, size_t *consumed,
    uint8_t out[QUIC_PACKET_MAX], size_t *outlen)
{
	uint8_t		 secret[32], csecret[32], key[16], iv[12], hp[16];
	uint8_t		 mask[16], hdr[64 + 2 * QUIC_CID_MAX], nonce[12];
	const uint8_t	*dcid;
	struct rbuf	 rb;
	uint64_t	 toklen, plen;
	uint32_t	 version, pn = 0;
	uint8_t		 first, dlen, slen;
	size_t		 pnoff, pnlen, i;

	rbuf_init(&rb, p, len);
	if (rbuf_get_u8(&rb, &first) == -1 || (first & 0xc0) != 0xc0 ||
	    (first & 0x30) != 0 ||		/* long header, Initial */
	    rbuf_get_u32(&rb, &version) == -1 || version != QUIC_V1 ||
	    rbuf_get_u8(&rb, &dlen) == -1 || dlen > QUIC_CID_MAX ||
	    rbuf_get_ptr(&rb, dlen, &dcid) == -1 ||
	    rbuf_get_u8(&rb, &slen) == -1 || slen > QUIC_CID_MAX ||
	    rbuf_skip(&rb, slen) == -1 || quic_varint(&rb, &toklen) == -1 ||
	    toklen > rbuf_left(&rb) || rbuf_skip(&rb, (size_t)toklen) == -1 ||
	    quic_varint(&rb, &plen) == -1 || plen > rbuf_left(&rb) ||
	    plen < 4 + 16 + QUIC_TAG_LEN)
		return -1;
	pnoff = rb.off;
	*consumed = pnoff + (size_t)plen;
	if (pnoff + 4 > sizeof(hdr) || plen - 4 > QUIC_PACKET_MAX)
		return -1;
	if (quic_hkdf(1, dcid, dlen, quic_v1_salt, sizeof(quic_v1_salt), NULL,
	    secret, sizeof(secret)) == -1 ||
	    quic_hkdf(0, secret, 32, NULL, 0, "client in", csecret, 32) == -1 ||
	    quic_hkdf(0, csecret, 32, NULL, 0, "quic key", key, 16) == -1 ||
	    quic_hkdf(0, csecret, 32, NULL, 0, "quic iv", iv, 12) == -1 ||
	    quic_hkdf(0, csecret, 32, NULL, 0, "quic hp", hp, 16) == -1 ||
	    quic_hp_mask(hp, p + pnoff + 4, mask) == -1)
		return -1;
	/* Unmask the header into a copy: the capture stays untouched. */
	memcpy(hdr, p, pnoff + 4);
	hdr[0] ^= mask[0] & 0x0f;
	pnlen = (size_t)(hdr[0] & 3) + 1;
	for (i = 0; i < pnlen; i++) {
		hdr[pnoff + i] ^= mask[1 + i];
		pn = pn << 8 | hdr[pnoff + i];
	}
	memcpy(nonce, iv, 12);
	for (i = 0; i < 4; i++)
		nonce[8 + i] ^= (uint8_t)(pn >> (24 - 8 * i));
	*outlen = (size_t)plen - pnlen - QUIC_TAG_LEN;
	if (quic_gcm_open(key, nonce, hdr, pnoff + pnlen, p + pnoff + pnlen,
	    *outlen, p + pnoff + plen - QUIC_TAG_LEN, out) == -1)
		return -1;
	return 0;
}
