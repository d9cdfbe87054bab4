/* SPDX-License-Identifier: ISC */
/*
 * TLS contexts for the agent-collector link (OpenSSL): mutual
 * authentication against the lab CA, TLS 1.2 at least, a CRL where given,
 * and the checks on the files they come from.  No I/O on connections here:
 * libevent's OpenSSL bufferevents carry the bytes.
 */
#ifndef LABWATCH_TLS_H
#define LABWATCH_TLS_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stddef.h>

#define TLS_ERR_MAX	512

struct tls_files {
	const char	*ca;		/* the lab CA certificate(s), PEM */
	const char	*cert;		/* our certificate (chain), or NULL */
	const char	*key;		/* our private key, or NULL */
	const char	*crl;		/* revocation list, PEM, or NULL */
};

/*
 * Checks that a private key file is a regular file no one but its owner
 * may read or write; fills err with what is wrong and how to fix it.
 */
int	 tls_key_private(const char *, char *, size_t);
/*
 * The collector's context: its certificate and key, the CA agents must
 * chain to, the CRL; asks every peer for a certificate but lets one
 * without in (enrolment), so the session decides.  NULL with err set.
 */
SSL_CTX	*tls_server_ctx(const struct tls_files *, char *, size_t);
/*
 * The agent's context: verifies the collector against the CA; presents
 * cert and key when given.  NULL with err set.
 */
SSL_CTX	*tls_client_ctx(const struct tls_files *, char *, size_t);
/* Makes ssl check that the peer's certificate names host (DNS or IP). */
int	 tls_expect_host(SSL *, const char *);
/*
 * Whether cert names host exactly, byte for byte: the subject's CN or one
 * of its DNS subjectAltNames.
 */
int	 tls_cert_names(X509 *, const char *, size_t);
/* The subject's CN into buf (escaped by the caller); -1 when none. */
int	 tls_cert_cn(X509 *, char *, size_t);
/* The certificate's serial number in hex into buf. */
void	 tls_cert_serial(X509 *, char *, size_t);
/*
 * Verifies a peer's certificate (and the chain it sent) again against
 * ctx's trust store and CRL, as at a handshake: -1 with *why when it no
 * longer passes (revoked, expired, another CA).
 */
int	 tls_reverify(SSL_CTX *, X509 *, STACK_OF(X509) *, const char **);
/* Why the last OpenSSL call failed, as text; empties the error queue. */
const char *tls_error(void);
/* Why a handshake on ssl failed: the verification result or the error. */
const char *tls_handshake_error(SSL *, unsigned long);

#endif
