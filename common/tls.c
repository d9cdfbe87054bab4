/* SPDX-License-Identifier: ISC */
/* TLS contexts for the agent-collector link. */
#include <sys/stat.h>

#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tls.h"

/* TLS 1.2 suites when 1.3 is not there: forward secret, AEAD only. */
#define TLS12_CIPHERS	"ECDHE+AESGCM:ECDHE+CHACHA20"

const char *
tls_error(void)
{
	static char	text[256];
	unsigned long	e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last == 0)
		return "unknown TLS error";
	ERR_error_string_n(last, text, sizeof(text));
	return text;
}

const char *
tls_handshake_error(SSL *ssl, unsigned long err)
{
	static char	text[256];
	long		v;

	if (ssl != NULL && (v = SSL_get_verify_result(ssl)) != X509_V_OK)
		return X509_verify_cert_error_string(v);
	if (err == 0)
		return tls_error();
	ERR_error_string_n(err, text, sizeof(text));
	ERR_clear_error();
	return text;
}

int
tls_key_private(const char *path, char *err, size_t errlen)
{
	struct stat	st;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: the private key is open to group "
		    "or others (mode %04o); refusing it: chmod 600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

/*
 * An out-of-date CRL still revokes what it lists: a stale list must not
 * lock every agent out of the lab's monitor.  Everything else stands.
 */
static int
tls_verify_cb(int ok, X509_STORE_CTX *sctx)
{
	if (!ok && X509_STORE_CTX_get_error(sctx) == X509_V_ERR_CRL_HAS_EXPIRED)
		return 1;
	return ok;
}

/* What both ends share: versions, suites, the CA, our own pair. */
static SSL_CTX *
tls_ctx(const SSL_METHOD *method, const struct tls_files *f, char *err,
    size_t errlen)
{
	SSL_CTX	*ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(method)) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", tls_error());
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		snprintf(err, errlen, "cipher list: %s", tls_error());
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, f->ca, NULL) != 1) {
		snprintf(err, errlen, "CA file %s: %s", f->ca, tls_error());
		goto fail;
	}
	if (f->cert == NULL)
		return ctx;
	if (SSL_CTX_use_certificate_chain_file(ctx, f->cert) != 1) {
		snprintf(err, errlen, "certificate %s: %s", f->cert,
		    tls_error());
		goto fail;
	}
	if (tls_key_private(f->key, err, errlen) == -1)
		goto fail;
	if (SSL_CTX_use_PrivateKey_file(ctx, f->key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "key %s: %s", f->key, tls_error());
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "key %s does not belong to %s", f->key,
		    f->cert);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_server_ctx(const struct tls_files *f, char *err, size_t errlen)
{
	STACK_OF(X509_NAME)	*names;
	X509_LOOKUP		*lu;
	SSL_CTX			*ctx;

	if ((ctx = tls_ctx(TLS_server_method(), f, err, errlen)) == NULL)
		return NULL;
	/* Tell agents which CA to pick their certificate from. */
	if ((names = SSL_load_client_CA_file(f->ca)) != NULL)
		SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tls_verify_cb);
	SSL_CTX_set_verify_depth(ctx, 4);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"labwatch",
	    8);
	if (f->crl != NULL) {
		lu = X509_STORE_add_lookup(SSL_CTX_get_cert_store(ctx),
		    X509_LOOKUP_file());
		if (lu == NULL || X509_load_crl_file(lu, f->crl,
		    X509_FILETYPE_PEM) <= 0) {
			snprintf(err, errlen, "CRL %s: %s", f->crl,
			    tls_error());
			SSL_CTX_free(ctx);
			return NULL;
		}
		X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx),
		    X509_V_FLAG_CRL_CHECK);
	}
	return ctx;
}

SSL_CTX *
tls_client_ctx(const struct tls_files *f, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = tls_ctx(TLS_client_method(), f, err, errlen)) == NULL)
		return NULL;
	SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	return ctx;
}

int
tls_expect_host(SSL *ssl, const char *host)
{
	unsigned char	addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) == 1 ? 0 : -1;
	if (SSL_set_tlsext_host_name(ssl, host) != 1 ||
	    SSL_set1_host(ssl, host) != 1)
		return -1;
	return 0;
}

/* Whether the ASN.1 string holds exactly host. */
static int
tls_asn1_is(const ASN1_STRING *s, const char *host, size_t len)
{
	return s != NULL && (size_t)ASN1_STRING_length(s) == len &&
	    memcmp(ASN1_STRING_get0_data(s), host, len) == 0;
}

int
tls_cert_names(X509 *cert, const char *host, size_t len)
{
	GENERAL_NAMES		*sans;
	const GENERAL_NAME	*gn;
	X509_NAME		*subj = X509_get_subject_name(cert);
	int			 i, found = 0;

	for (i = -1; !found && (i = X509_NAME_get_index_by_NID(subj,
	    NID_commonName, i)) != -1;)
		found = tls_asn1_is(X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, i)), host, len);
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; !found && i < sk_GENERAL_NAME_num(sans); i++) {
		gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type == GEN_DNS)
			found = tls_asn1_is(gn->d.dNSName, host, len);
	}
	GENERAL_NAMES_free(sans);
	return found;
}

int
tls_cert_cn(X509 *cert, char *buf, size_t size)
{
	X509_NAME	*subj = X509_get_subject_name(cert);
	ASN1_STRING	*s;
	int		 i, len;

	if ((i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) == -1)
		return -1;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
	len = ASN1_STRING_length(s);
	if (len < 0 || (size_t)len >= size)
		return -1;
	memcpy(buf, ASN1_STRING_get0_data(s), (size_t)len);
	buf[len] = '\0';
	return strlen(buf) == (size_t)len ? 0 : -1;
}

void
tls_cert_serial(X509 *cert, char *buf, size_t size)
{
	BIGNUM	*bn;
	char	*hex;

	buf[0] = '\0';
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) ==
	    NULL)
		return;
	if ((hex = BN_bn2hex(bn)) != NULL) {
		snprintf(buf, size, "%s", hex);
		OPENSSL_free(hex);
	}
	BN_free(bn);
}

int
tls_reverify(SSL_CTX *ctx, X509 *cert, STACK_OF(X509) *chain,
    const char **why)
{
	X509_STORE_CTX	*sctx;
	int		 ok;

	if ((sctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(ctx), cert,
	    chain) != 1) {
		X509_STORE_CTX_free(sctx);
		*why = "cannot check the certificate";
		return -1;
	}
	X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_SSL_CLIENT);
	X509_STORE_CTX_set_verify_cb(sctx, tls_verify_cb);
	ok = X509_verify_cert(sctx) == 1;
	if (!ok)
		*why = X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(sctx));
	X509_STORE_CTX_free(sctx);
	return ok ? 0 : -1;
}
