/* SPDX-License-Identifier: ISC */
/* Dropping root for good once what needs it is open. */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"

int
privdrop_lookup(const char *user, struct privdrop_user *u)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL) {
		if ((pw = getpwnam("nobody")) == NULL) {
			log_warnx("no user %s, and no user nobody", user);
			return -1;
		}
		log_warnx("no user %s; running as nobody (make the system "
		    "user %s)", user, user);
	}
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

int
privdrop_chown_dir(const char *dir, const struct privdrop_user *u)
{
	struct dirent	*de;
	DIR		*d;
	int		 dfd, ok = 1;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1 || fchown(dfd, u->uid, u->gid) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		log_warn("%s: handing it to %s", dir, u->name);
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    fchownat(dfd, de->d_name, u->uid, u->gid,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			log_warn("%s/%s: handing it to %s", dir, de->d_name,
			    u->name);
			ok = 0;
		}
	closedir(d);
	return ok ? 0 : -1;
}

void
privdrop(const struct privdrop_user *u)
{
	if (setgroups(1, &u->gid) == -1 ||
	    setresgid(u->gid, u->gid, u->gid) == -1 ||
	    setresuid(u->uid, u->uid, u->uid) == -1)
		fatal("cannot drop privileges to %s", u->name);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
	log_debug("running as %s (uid %u)", u->name, (unsigned)u->uid);
}
