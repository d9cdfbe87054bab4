/* SPDX-License-Identifier: ISC */
/* Dropping root for good once what needs it is open. */
#ifndef LABWATCH_PRIVDROP_H
#define LABWATCH_PRIVDROP_H

#include <sys/types.h>

#define PRIVDROP_NAME_MAX	64

struct privdrop_user {
	char	name[PRIVDROP_NAME_MAX];
	uid_t	uid;
	gid_t	gid;
};

/*
 * Looks up user, falling back to nobody (with a warning) when it does not
 * exist: 0, or -1 when neither does.
 */
int	privdrop_lookup(const char *, struct privdrop_user *);
/*
 * Gives dir and every entry directly in it to the user (symlinks are not
 * followed): 0, or -1 having logged what failed.
 */
int	privdrop_chown_dir(const char *, const struct privdrop_user *);
/*
 * Becomes the user (groups, gid, uid, no new privileges).  Fatal when it
 * cannot: a daemon told to drop root must not go on as root.
 */
void	privdrop(const struct privdrop_user *);

#endif
