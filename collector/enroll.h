/* SPDX-License-Identifier: ISC */
/*
 * Enrolment: a lab PC sends its name, the lab's enrolment secret and a
 * certificate request over TLS; the collector signs it with the lab CA
 * (a folder made by labwatch-ca) when the secret matches, the name is on
 * the allowlist and not enrolled already.
 */
#ifndef LABWATCH_ENROLL_H
#define LABWATCH_ENROLL_H

#include <stddef.h>

#include "buf.h"
#include "wire.h"

struct enroll_conf {
	const char	*hosts;		/* allowlist patterns; NULL/"": off */
	const char	*secret;	/* file with the secret's hash */
	const char	*ca_dir;	/* labwatch-ca folder: key, database */
	int		 days;		/* validity of what is signed */
};

/* Loads the hash and checks the CA folder: 0, or -1 with err. */
int	enroll_init(const struct enroll_conf *, char *, size_t);
/*
 * Decides on one request from address addr: 0 with the signed certificate
 * (PEM) in pem, or -1 with why (for the peer; the log says more).
 */
int	enroll_request(const char *, const struct wire_enroll *, struct buf *,
	    char *, size_t);
/*
 * Parses a hash line "pbkdf2-sha256$ITER$SALT_HEX$HASH_HEX": 0, or -1
 * with *err.  salt and hash get up to 64 bytes each.
 */
int	enroll_parse_hash(const char *, unsigned *, unsigned char *, size_t *,
	    unsigned char *, size_t *, const char **);
void	enroll_shutdown(void);

#endif
