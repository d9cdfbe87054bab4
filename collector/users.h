/* SPDX-License-Identifier: ISC */
/*
 * The dashboard's accounts (--http-users FILE): one "NAME:ROLE:HASH" line
 * each, ROLE admin or viewer, HASH a crypt(3) hash (yescrypt "$y$" as
 * labwatchctl passwd writes it, or bcrypt "$2b$"); # comments and blank
 * lines.  A bad line is skipped with a warning naming it.  The file is
 * read again when it changes (users_refresh) and at SIGHUP; one that is
 * gone or cannot be read leaves no account.
 */
#ifndef LABWATCH_USERS_H
#define LABWATCH_USERS_H

#include <stddef.h>

#define USER_NAME_MAX	32
#define USER_HASH_MAX	160

enum user_role {
	ROLE_VIEWER,
	ROLE_ADMIN,
};

struct user {
	char		name[USER_NAME_MAX + 1];
	enum user_role	role;
	char		hash[USER_HASH_MAX + 1];
};

/* Parses one line: 1 a user, 0 a comment or blank, -1 with *err. */
int	users_parse_line(const char *, struct user *, const char **);
/* Whether a name is one labwatchctl passwd accepts. */
int	users_name_ok(const char *, size_t);
/* Reads path (logging what is wrong): the number of accounts, or -1. */
int	users_load(const char *);
/* Reads the file again when its size, time or inode changed. */
void	users_refresh(void);
/* Reads it again now (SIGHUP). */
void	users_reload(void);
/* A copy of the account name into *u: 0, or -1 when there is none. */
int	users_find(const char *, struct user *);
/*
 * Whether password matches hash (crypt_r, slow on purpose: call it off
 * the event loop).  A NULL hash burns the same time and says no.
 */
int	users_verify(const char *, const char *);
const char *users_role_name(enum user_role);
void	users_free(void);

#endif
