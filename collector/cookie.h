/* SPDX-License-Identifier: ISC */
/*
 * The dashboard's session cookies and CSRF tokens.  A cookie's value is
 * NAME:EXPIRY:NONCE:MAC, the MAC an HMAC-SHA256 under a key the caller
 * sets (http.c keeps it in the state folder, so sessions outlive a
 * restart) over NAME:EXPIRY:NONCE and the account's password hash, so a
 * new password ends the old sessions.  The CSRF token is an HMAC of the
 * cookie.  Logged-out cookies are remembered in memory until they expire.
 * No I/O.
 */
#ifndef LABWATCH_COOKIE_H
#define LABWATCH_COOKIE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "users.h"

#define COOKIE_NAME	"labwatch_session"
#define COOKIE_SECONDS	(12 * 3600)	/* a session's life */
#define COOKIE_KEY_LEN	32
#define COOKIE_MAX	256		/* bytes of a value */
#define CSRF_HEX	32

void	cookie_set_key(const uint8_t [COOKIE_KEY_LEN]);
/* A new session's cookie value for u, from now on. */
void	cookie_make(const struct user *, time_t, char *, size_t);
/* Our cookie's value in a Cookie header into out: 0, or -1. */
int	cookie_find(const char *, char *, size_t);
/* The account name a value claims, into name: 0, or -1 when malformed. */
int	cookie_name(const char *, char [USER_NAME_MAX + 1]);
/*
 * Whether a value is good for u at now: its MAC holds (with u's password
 * hash), it has not expired, it was not logged out.  0, or -1.
 */
int	cookie_check(const char *, const struct user *, time_t);
/* Refuses the value from now on (a logout). */
void	cookie_revoke(const char *);
/* The CSRF token that goes with a value. */
void	cookie_csrf(const char *, char [CSRF_HEX + 1]);

#endif
