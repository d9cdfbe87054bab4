/* SPDX-License-Identifier: ISC */
/*
 * --enroll: this PC gets its certificate from the collector.  The key is
 * made here and never leaves the PC; the collector sees a certificate
 * request, the PC's name and the lab's enrolment secret, over TLS to a
 * collector verified against the lab CA.  A one-shot command: plain
 * blocking I/O with deadlines, no event loop.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netdb.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "agent.h"
#include "buf.h"
#include "escape.h"
#include "log.h"
#include "tls.h"
#include "wire.h"

#define ENROLL_TIMEOUT	30	/* seconds for each network step */

/* Reads the secret: the file's first line, which must be private. */
static int
enroll_secret(const char *path, char *buf, size_t size)
{
	char	err[TLS_ERR_MAX];
	FILE	*f;

	if (tls_key_private(path, err, sizeof(err)) == -1) {
		log_warnx("--enroll-secret %s", err);
		return -1;
	}
	if ((f = fopen(path, "re")) == NULL) {
		log_warn("--enroll-secret %s", path);
		return -1;
	}
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0' || strlen(buf) > WIRE_SECRET_MAX) {
		log_warnx("--enroll-secret %s: expected the secret on the "
		    "first line (1 to %d bytes)", path, WIRE_SECRET_MAX);
		return -1;
	}
	return 0;
}

/* A new P-256 key and a request for host signed with it (DER in der). */
static EVP_PKEY *
enroll_csr(const char *host, struct buf *der)
{
	EVP_PKEY	*key;
	X509_REQ	*req;
	X509_NAME	*name;
	unsigned char	*p = NULL;
	int		 len = -1;

	if ((key = EVP_EC_gen("P-256")) == NULL)
		return NULL;
	if ((req = X509_REQ_new()) != NULL &&
	    (name = X509_REQ_get_subject_name(req)) != NULL &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)host, -1, -1, 0) == 1 &&
	    X509_REQ_set_pubkey(req, key) == 1 &&
	    X509_REQ_sign(req, key, EVP_sha256()) > 0)
		len = i2d_X509_REQ(req, &p);
	X509_REQ_free(req);
	if (len <= 0 || len > WIRE_CSR_MAX) {
		OPENSSL_free(p);
		EVP_PKEY_free(key);
		return NULL;
	}
	buf_add(der, p, (size_t)len);
	OPENSSL_free(p);
	return key;
}

/* A TCP connection to HOST:PORT with deadlines on every read and write. */
static int
enroll_connect(const char *host, const char *port)
{
	struct addrinfo	 hints, *res, *ai;
	struct timeval	 tv = { ENROLL_TIMEOUT, 0 };
	int		 fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_warnx("%s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		log_warn("cannot connect to %s:%s", host, port);
	freeaddrinfo(res);
	return fd;
}

/* Reads exactly len bytes from ssl. */
static int
enroll_read(SSL *ssl, void *p, size_t len)
{
	size_t	got;

	while (len > 0) {
		if (SSL_read_ex(ssl, p, len, &got) != 1)
			return -1;
		p = (uint8_t *)p + got;
		len -= got;
	}
	return 0;
}

/*
 * Sends ENROLL and reads the answer: 0 with the certificate (PEM) in pem,
 * or -1 having said why.
 */
static int
enroll_exchange(SSL *ssl, const struct wire_enroll *e, struct buf *pem)
{
	struct wire_hdr	 h;
	struct wire_bye	 bye;
	struct buf	 b, esc;
	const uint8_t	*p;
	uint16_t	 plen;
	uint8_t		 hdr[WIRE_HDR_LEN], *payload;
	const char	*err;
	int		 rc = -1;

	buf_init(&b);
	wire_put_enroll(&b, e);
	if (SSL_write(ssl, b.data, (int)b.len) != (int)b.len) {
		log_warnx("sending the request: %s", tls_error());
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	if (enroll_read(ssl, hdr, sizeof(hdr)) == -1) {
		log_warnx("the collector closed the link without an answer");
		return -1;
	}
	if (wire_parse_hdr(hdr, WIRE_MAX_FRAME, &h, &err) == -1) {
		log_warnx("the collector's answer: %s", err);
		return -1;
	}
	payload = malloc(h.len ? h.len : 1);
	if (payload == NULL || enroll_read(ssl, payload, h.len) == -1)
		log_warnx("the collector's answer is cut short");
	else if (h.type == WIRE_ENROLLED &&
	    wire_get_enrolled(payload, h.len, &p, &plen, &err) == 0) {
		buf_add(pem, p, plen);
		rc = 0;
	} else if (h.type == WIRE_BYE &&
	    wire_get_bye(payload, h.len, &bye, &err) == 0) {
		buf_init(&esc);
		log_warnx("the collector refused: %s", escape_cstr(&esc,
		    bye.reason, bye.reason_len));
		buf_free(&esc);
	} else
		log_warnx("the collector answered with an unexpected %s",
		    wire_type_name(h.type));
	free(payload);
	return rc;
}

/*
 * Checks what came back: our key's certificate, for host, from the lab CA
 * (the context's trust store), for use as a client.
 */
static X509 *
enroll_check(SSL_CTX *ctx, const struct buf *pem, EVP_PKEY *key,
    const char *host)
{
	X509_STORE_CTX	*sctx;
	X509		*cert;
	BIO		*bio;
	int		 ok = 0;

	if ((bio = BIO_new_mem_buf(pem->data, (int)pem->len)) == NULL)
		return NULL;
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (cert == NULL) {
		log_warnx("the collector sent no certificate");
		return NULL;
	}
	if (X509_check_private_key(cert, key) != 1)
		log_warnx("the certificate is not for this PC's key");
	else if (!tls_cert_names(cert, host, strlen(host)))
		log_warnx("the certificate does not name %s", host);
	else if ((sctx = X509_STORE_CTX_new()) != NULL) {
		if (X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(ctx),
		    cert, NULL) == 1) {
			X509_STORE_CTX_set_purpose(sctx,
			    X509_PURPOSE_SSL_CLIENT);
			if (!(ok = X509_verify_cert(sctx) == 1))
				log_warnx("the certificate does not check "
				    "against the lab CA: %s",
				    X509_verify_cert_error_string(
				    X509_STORE_CTX_get_error(sctx)));
		}
		X509_STORE_CTX_free(sctx);
	}
	if (!ok) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* Writes path through path.tmp with mode; renamed by the caller. */
static int
enroll_write_tmp(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert)
{
	char	tmp[4096];
	FILE	*f;
	int	fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, mode)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("%s", tmp);
		if (fd != -1)
			close(fd);
		return -1;
	}
	ok = key != NULL ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL,
	    NULL) == 1 : PEM_write_X509(f, cert) == 1;
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0 || !ok) {
		log_warnx("%s: cannot write it", tmp);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Moves path.tmp over path. */
static int
enroll_commit(const char *path)
{
	char	tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (rename(tmp, path) == -1) {
		log_warn("%s", path);
		return -1;
	}
	return 0;
}

int
enroll_run(const struct agent_conf *conf)
{
	struct tls_files	 f = { conf->tls_ca, NULL, NULL, NULL };
	struct wire_enroll	 e;
	struct buf		 der, pem;
	char			 host[ADDR_HOST_MAX], port[ADDR_PORT_MAX];
	char			 secret[WIRE_SECRET_MAX + 2], err[TLS_ERR_MAX];
	const char		*aerr;
	EVP_PKEY		*key = NULL;
	X509			*cert = NULL;
	SSL_CTX			*ctx;
	SSL			*ssl = NULL;
	int			 fd = -1, rc = 1;

	if (addr_split(conf->enroll, host, sizeof(host), port, &aerr) == -1 ||
	    host[0] == '\0') {
		fprintf(stderr, "labwatch-agent: --enroll %s: %s\n",
		    conf->enroll, host[0] == '\0' ? "no host" : aerr);
		return 2;
	}
	if (enroll_secret(conf->enroll_secret, secret, sizeof(secret)) == -1)
		return 2;
	if ((ctx = tls_client_ctx(&f, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return 2;
	}
	buf_init(&der);
	buf_init(&pem);
	if ((key = enroll_csr(conf->host, &der)) == NULL) {
		log_warnx("cannot make a key and request: %s", tls_error());
		goto done;
	}
	if ((fd = enroll_connect(host, port)) == -1)
		goto done;
	if ((ssl = SSL_new(ctx)) == NULL || tls_expect_host(ssl, host) == -1 ||
	    SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
		log_warnx("TLS with %s:%s: %s", host, port,
		    tls_handshake_error(ssl, ERR_peek_last_error()));
		goto done;
	}
	e.host = (const uint8_t *)conf->host;
	e.host_len = (uint16_t)strlen(conf->host);
	e.secret = (const uint8_t *)secret;
	e.secret_len = (uint16_t)strlen(secret);
	e.csr = der.data;
	e.csr_len = (uint16_t)der.len;
	if (enroll_exchange(ssl, &e, &pem) == -1 ||
	    (cert = enroll_check(ctx, &pem, key, conf->host)) == NULL)
		goto done;
	/* The key first: a certificate without its key is no use. */
	if (enroll_write_tmp(conf->tls_key, 0600, key, NULL) == -1 ||
	    enroll_write_tmp(conf->tls_cert, 0644, NULL, cert) == -1 ||
	    enroll_commit(conf->tls_key) == -1 ||
	    enroll_commit(conf->tls_cert) == -1)
		goto done;
	log_info("enrolled as %s: certificate in %s, key in %s", conf->host,
	    conf->tls_cert, conf->tls_key);
	rc = 0;
done:
	explicit_bzero(secret, sizeof(secret));
	if (ssl != NULL) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (fd != -1)
		close(fd);
	SSL_CTX_free(ctx);
	X509_free(cert);
	EVP_PKEY_free(key);
	buf_free(&der);
	buf_free(&pem);
	return rc;
}
