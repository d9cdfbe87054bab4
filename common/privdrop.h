/* SPDX-License-Identifier: ISC */
/* Dropping root for good once what needs it is open. */
#ifndef LABWATCH_PRIVDROP_H
#define LABWATCH_PRIVDROP_H

/*
 * Becomes user (groups, gid, uid, no new privileges).  Fatal when it cannot:
 * a daemon told to drop root must not go on as root.
 */
void	privdrop(const char *);

#endif
