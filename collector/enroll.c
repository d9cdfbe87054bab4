/* SPDX-License-Identifier: ISC */
/*
 * Enrolment on the collector.  The secret is kept only as a salted
 * PBKDF2 hash and compared in constant time; failures from an address are
 * counted and, past a few a minute, that address is turned away for a
 * while.  What is signed follows labwatch-ca's conventions and lands in
 * its database, so `labwatch-ca list` and `revoke` see enrolled PCs too.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "enroll.h"
#include "hostname.h"
#include "hostpat.h"
#include "log.h"
#include "peerlimit.h"
#include "tls.h"

#define FILE_MAX	(4 * 1024 * 1024)	/* index.txt and friends */
#define HASH_PREFIX	"pbkdf2-sha256$"
#define ITER_MAX	10000000

static struct {
	const char	*hosts;
	int		 days;
	int		 dirfd;
	const char	*dir;
	unsigned	 iter;
	unsigned char	 salt[64], hash[64];
	size_t		 salt_len, hash_len;
	X509		*ca;
	EVP_PKEY	*key;
} en = { .dirfd = -1 };

/* Hex digits to bytes: 0, or -1. */
static int
enroll_unhex(const char *p, size_t n, unsigned char *out, size_t max,
    size_t *len)
{
	size_t	i;
	int	hi, lo;

	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		hi = OPENSSL_hexchar2int((unsigned char)p[2 * i]);
		lo = OPENSSL_hexchar2int((unsigned char)p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

int
enroll_parse_hash(const char *line, unsigned *iter, unsigned char *salt,
    size_t *salt_len, unsigned char *hash, size_t *hash_len, const char **err)
{
	const char	*p, *d1, *d2, *end;
	unsigned long	 n = 0;

	*err = "expected pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX";
	if (strncmp(line, HASH_PREFIX, strlen(HASH_PREFIX)) != 0)
		return -1;
	p = line + strlen(HASH_PREFIX);
	if ((d1 = strchr(p, '$')) == NULL || d1 == p ||
	    (d2 = strchr(d1 + 1, '$')) == NULL)
		return -1;
	for (; p < d1; p++) {
		if (*p < '0' || *p > '9' || n > ITER_MAX)
			return -1;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	if (n < 1000 || n > ITER_MAX) {
		*err = "iterations must be from 1000 to 10000000";
		return -1;
	}
	/* The hash runs to the end, or to one final newline. */
	end = d2 + 1 + strcspn(d2 + 1, "\n");
	if (enroll_unhex(d1 + 1, (size_t)(d2 - d1 - 1), salt, 64,
	    salt_len) == -1 || enroll_unhex(d2 + 1, (size_t)(end - d2 - 1),
	    hash, 64, hash_len) == -1 || *hash_len < 16 ||
	    end[*end == '\n'] != '\0')
		return -1;
	*iter = (unsigned)n;
	return 0;
}

/* Reads a small file (relative to dirfd) into a NUL-terminated buf. */
static int
enroll_slurp(int dirfd, const char *name, struct buf *b)
{
	char	chunk[8192];
	ssize_t	n;
	int	fd;

	buf_reset(b);
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (b->len + (size_t)n > FILE_MAX) {
			errno = EFBIG;
			n = -1;
			break;
		}
		buf_add(b, chunk, (size_t)n);
	}
	close(fd);
	buf_add_u8(b, 0);
	b->len--;
	return n == -1 ? -1 : 0;
}

/* Replaces dir/name with len bytes: tmp, fsync, rename. */
static int
enroll_replace(const char *name, const void *p, size_t len, mode_t mode)
{
	char	tmp[256];
	int	fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if ((fd = openat(en.dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, mode)) == -1)
		return -1;
	ok = write(fd, p, len) == (ssize_t)len && fsync(fd) == 0;
	close(fd);
	if (!ok || renameat(en.dirfd, tmp, en.dirfd, name) == -1) {
		unlinkat(en.dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

/* Reads the key (key set) or the certificate (cert set) in PEM at path. */
static int
enroll_read_pem(const char *path, EVP_PKEY **key, X509 **cert, char *err,
    size_t errlen)
{
	FILE	*f;
	int	 ok;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (key != NULL)
		ok = (*key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) != NULL;
	else
		ok = (*cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL;
	fclose(f);
	if (!ok)
		snprintf(err, errlen, "%s: %s", path, tls_error());
	return ok ? 0 : -1;
}

int
enroll_init(const struct enroll_conf *c, char *err, size_t errlen)
{
	struct buf	 b;
	char		 path[4096];
	const char	*why;

	en.hosts = c->hosts;
	en.days = c->days;
	if (c->hosts == NULL || c->hosts[0] == '\0')
		return 0;
	if (hostpat_check(c->hosts, &why) == -1) {
		snprintf(err, errlen, "--enroll-hosts %s: %s", c->hosts, why);
		return -1;
	}
	buf_init(&b);
	if (enroll_slurp(AT_FDCWD, c->secret, &b) == -1) {
		snprintf(err, errlen, "--enroll-secret %s: %s", c->secret,
		    strerror(errno));
		buf_free(&b);
		return -1;
	}
	if (enroll_parse_hash((const char *)b.data, &en.iter, en.salt,
	    &en.salt_len, en.hash, &en.hash_len, &why) == -1) {
		snprintf(err, errlen, "--enroll-secret %s: %s (make it with "
		    "labwatch-ca secret; it holds the hash, not the secret)",
		    c->secret, why);
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	en.dir = c->ca_dir;
	if ((en.dirfd = open(c->ca_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "--enroll-ca %s: %s", c->ca_dir,
		    strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/ca.key", c->ca_dir);
	if (tls_key_private(path, err, errlen) == -1 ||
	    enroll_read_pem(path, &en.key, NULL, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/ca.crt", c->ca_dir);
	if (enroll_read_pem(path, NULL, &en.ca, err, errlen) == -1)
		return -1;
	if (X509_check_private_key(en.ca, en.key) != 1) {
		snprintf(err, errlen, "%s/ca.key does not belong to ca.crt",
		    c->ca_dir);
		return -1;
	}
	log_info("enrolment on for %s, signing with %s", c->hosts, c->ca_dir);
	return 0;
}

/* Whether secret hashes to the stored hash (constant time). */
static int
enroll_secret_ok(const uint8_t *secret, size_t len)
{
	unsigned char	out[64];

	if (PKCS5_PBKDF2_HMAC((const char *)secret, (int)len, en.salt,
	    (int)en.salt_len, (int)en.iter, EVP_sha256(), (int)en.hash_len,
	    out) != 1)
		return 0;
	return CRYPTO_memcmp(out, en.hash, en.hash_len) == 0;
}

/*
 * Whether the CA database lists a valid, unexpired certificate whose
 * subject is /OU=host/CN=host.
 */
static int
enroll_enrolled(const char *host, int *err)
{
	struct buf	 b;
	char		*line, *next, *f[6], *save;
	char		 cn[HOSTNAME_MAX + 16];
	ASN1_TIME	*t;
	size_t		 n;
	int		 found = 0;

	buf_init(&b);
	*err = enroll_slurp(en.dirfd, "index.txt", &b) == -1;
	snprintf(cn, sizeof(cn), "/OU=host/CN=%s", host);
	t = ASN1_TIME_new();
	for (line = (char *)b.data; !*err && !found && line != NULL &&
	    *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		for (n = 0; n < 6; n++)
			f[n] = strsep(&line, "\t");
		save = f[5];
		if (save == NULL || strcmp(f[0], "V") != 0)
			continue;
		if (strcmp(save, cn) != 0)
			continue;
		/* Still valid, or expired (then a new one may be made). */
		found = ASN1_TIME_set_string(t, f[1]) == 1 &&
		    ASN1_TIME_cmp_time_t(t, time(NULL)) > 0;
	}
	ASN1_TIME_free(t);
	buf_free(&b);
	return found;
}

/* Adds extension nid=value to cert, in the context of the CA. */
static int
enroll_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx(&ctx, en.ca, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* Takes the next serial number from the database (and moves it on). */
static BIGNUM *
enroll_serial(void)
{
	struct buf	 b;
	BIGNUM		*bn = NULL;
	char		*hex = NULL;

	buf_init(&b);
	if (enroll_slurp(en.dirfd, "serial", &b) == 0) {
		b.data[strcspn((char *)b.data, "\r\n")] = '\0';
		if (BN_hex2bn(&bn, (char *)b.data) == 0)
			bn = NULL;
	}
	buf_reset(&b);
	if (bn != NULL && BN_add_word(bn, 1) == 1 &&
	    (hex = BN_bn2hex(bn)) != NULL) {
		buf_printf(&b, "%s%s\n", strlen(hex) % 2 ? "0" : "", hex);
		if (enroll_replace("serial", b.data, b.len, 0644) == -1 ||
		    BN_sub_word(bn, 1) != 1) {
			BN_free(bn);
			bn = NULL;
		}
	}
	OPENSSL_free(hex);
	buf_free(&b);
	return bn;
}

/* Builds and signs the PC's certificate for the request's key. */
static X509 *
enroll_sign(const char *host, EVP_PKEY *pub, BIGNUM *serial)
{
	X509		*cert;
	X509_NAME	*name;
	char		 san[HOSTNAME_MAX + 8];
	int		 ok;

	if ((cert = X509_new()) == NULL)
		return NULL;
	name = X509_NAME_new();
	ok = X509_set_version(cert, 2) == 1 &&
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) != NULL &&
	    X509_set_issuer_name(cert, X509_get_subject_name(en.ca)) == 1 &&
	    name != NULL &&
	    X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
	    (const unsigned char *)"host", -1, -1, 0) == 1 &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)host, -1, -1, 0) == 1 &&
	    X509_set_subject_name(cert, name) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(cert), -300) != NULL &&
	    X509_time_adj_ex(X509_getm_notAfter(cert), en.days, 0, NULL) !=
	    NULL &&
	    X509_set_pubkey(cert, pub) == 1;
	X509_NAME_free(name);
	snprintf(san, sizeof(san), "DNS:%s", host);
	if (!ok || enroll_ext(cert, NID_basic_constraints,
	    "critical,CA:FALSE") == -1 ||
	    enroll_ext(cert, NID_key_usage, "critical,digitalSignature") ==
	    -1 || enroll_ext(cert, NID_ext_key_usage, "clientAuth") == -1 ||
	    enroll_ext(cert, NID_subject_alt_name, san) == -1 ||
	    enroll_ext(cert, NID_subject_key_identifier, "hash") == -1 ||
	    enroll_ext(cert, NID_authority_key_identifier, "keyid") == -1 ||
	    X509_sign(cert, en.key, EVP_PKEY_get_id(en.key) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256()) == 0) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* Files the signed certificate in the database, as `openssl ca` does. */
static int
enroll_record(const char *host, X509 *cert, const char *serial,
    struct buf *pem)
{
	const ASN1_TIME	*na = X509_get0_notAfter(cert);
	struct buf	 line;
	char		 name[HOSTNAME_MAX + 32], dn[512];
	int		 fd, ok;

	snprintf(name, sizeof(name), "certs/%s.pem", serial);
	if (enroll_replace(name, pem->data, pem->len, 0644) == -1)
		return -1;
	snprintf(name, sizeof(name), "hosts/%s.crt", host);
	if (enroll_replace(name, pem->data, pem->len, 0644) == -1)
		return -1;
	X509_NAME_oneline(X509_get_subject_name(cert), dn, sizeof(dn));
	buf_init(&line);
	buf_printf(&line, "V\t%.*s\t\t%s\tunknown\t%s\n",
	    ASN1_STRING_length(na), (const char *)ASN1_STRING_get0_data(na),
	    serial, dn);
	if ((fd = openat(en.dirfd, "index.txt", O_WRONLY | O_APPEND |
	    O_CLOEXEC | O_NOFOLLOW)) == -1) {
		buf_free(&line);
		return -1;
	}
	ok = write(fd, line.data, line.len) == (ssize_t)line.len &&
	    fsync(fd) == 0;
	close(fd);
	buf_free(&line);
	return ok ? 0 : -1;
}

/* Refuses with why, and counts the failure against addr. */
static int
enroll_refuse(const char *addr, const char *host, char *why, size_t len,
    const char *msg)
{
	peerlimit_fail(addr, time(NULL));
	log_warnx("enrolment of %s from %s refused: %s", host, addr, msg);
	snprintf(why, len, "%s", msg);
	return -1;
}

static int	enroll_locked(const char *, const char *,
		    const struct wire_enroll *, struct buf *, char *, size_t);

int
enroll_request(const char *addr, const struct wire_enroll *e,
    struct buf *pem, char *why, size_t len)
{
	char	host[HOSTNAME_MAX + 1];
	int	lock, rc;

	if (!hostname_ok(e->host, e->host_len)) {
		snprintf(why, len, "not a host name");
		peerlimit_fail(addr, time(NULL));
		log_warnx("enrolment from %s refused: not a host name", addr);
		return -1;
	}
	memcpy(host, e->host, e->host_len);
	host[e->host_len] = '\0';
	if (en.hosts == NULL || en.hosts[0] == '\0')
		return enroll_refuse(addr, host, why, len,
		    "enrolment is off on this collector");
	if (peerlimit_blocked(addr, time(NULL))) {
		snprintf(why, len, "too many failed attempts; wait a minute");
		log_warnx("enrolment of %s from %s refused: too many failed "
		    "attempts", host, addr);
		return -1;
	}
	if (!enroll_secret_ok(e->secret, e->secret_len))
		return enroll_refuse(addr, host, why, len, "wrong secret");
	if (!hostpat_match(en.hosts, host, e->host_len))
		return enroll_refuse(addr, host, why, len,
		    "name not on the enrolment allowlist");
	/* labwatch-ca takes the same lock: one writer of the database. */
	if ((lock = openat(en.dirfd, "ca.lock", O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1 || flock(lock, LOCK_EX) == -1) {
		log_warn("%s/ca.lock", en.dir);
		if (lock != -1)
			close(lock);
		snprintf(why, len, "the collector cannot sign now");
		return -1;
	}
	rc = enroll_locked(addr, host, e, pem, why, len);
	close(lock);
	return rc;
}

/* The rest of a request, with the CA database locked. */
static int
enroll_locked(const char *addr, const char *host, const struct wire_enroll *e,
    struct buf *pem, char *why, size_t len)
{
	const unsigned char	*p = e->csr;
	char			 serial[80];
	X509_REQ		*req = NULL;
	EVP_PKEY		*pub;
	X509			*cert = NULL;
	BIO			*bio;
	BIGNUM			*bn;
	BUF_MEM			*mem;
	int			 err, rc = -1;

	if (enroll_enrolled(host, &err) || err)
		return enroll_refuse(addr, host, why, len, err ?
		    "cannot read the CA database" :
		    "already enrolled: an admin must revoke it first");
	if ((req = d2i_X509_REQ(NULL, &p, e->csr_len)) == NULL ||
	    p != e->csr + e->csr_len || (pub = X509_REQ_get0_pubkey(req)) ==
	    NULL || X509_REQ_verify(req, pub) != 1) {
		X509_REQ_free(req);
		ERR_clear_error();
		return enroll_refuse(addr, host, why, len,
		    "bad certificate request");
	}
	if (EVP_PKEY_get_id(pub) != EVP_PKEY_EC &&
	    EVP_PKEY_get_id(pub) != EVP_PKEY_ED25519 &&
	    (EVP_PKEY_get_id(pub) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bits(pub) < 2048)) {
		X509_REQ_free(req);
		return enroll_refuse(addr, host, why, len,
		    "key type not accepted (P-256, Ed25519 or RSA 2048+)");
	}
	errno = 0;
	if ((bn = enroll_serial()) != NULL)
		cert = enroll_sign(host, pub, bn);
	X509_REQ_free(req);
	bio = BIO_new(BIO_s_mem());
	if (cert != NULL && bio != NULL && PEM_write_bio_X509(bio, cert) == 1) {
		BIO_get_mem_ptr(bio, &mem);
		buf_add(pem, mem->data, mem->length);
		tls_cert_serial(cert, serial, sizeof(serial));
		if (enroll_record(host, cert, serial, pem) == 0)
			rc = 0;
	}
	BIO_free(bio);
	X509_free(cert);
	BN_free(bn);
	if (rc == -1) {
		log_warnx("enrolment of %s from %s: cannot sign or store the "
		    "certificate in %s: %s", host, addr, en.dir, errno ?
		    strerror(errno) : tls_error());
		snprintf(why, len, "the collector cannot sign now");
		buf_reset(pem);
		return -1;
	}
	log_info("enrolled %s from %s: certificate serial %s", host, addr,
	    serial);
	return 0;
}

void
enroll_shutdown(void)
{
	X509_free(en.ca);
	EVP_PKEY_free(en.key);
	if (en.dirfd != -1)
		close(en.dirfd);
	en.ca = NULL;
	en.key = NULL;
	en.dirfd = -1;
}
