/* SPDX-License-Identifier: ISC */
/* One daemon per folder: flock(2) on a lock file naming its holder. */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockfile.h"

int
lockfile_take(const char *dir, const char *what, char *err, size_t errlen)
{
	char	path[4096], pid[32];
	ssize_t	n;
	int	fd, dfd;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	fd = openat(dfd, LOCKFILE_NAME, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK, 0644);
	close(dfd);
	snprintf(path, sizeof(path), "%s/%s", dir, LOCKFILE_NAME);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		lockfile_setpid(fd);
		return fd;
	}
	if (errno != EWOULDBLOCK) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	n = pread(fd, pid, sizeof(pid) - 1, 0);
	pid[n > 0 ? n : 0] = '\0';
	pid[strcspn(pid, "\n")] = '\0';
	snprintf(err, errlen, "%s %s is in use by another %s (pid %s)",
	    what, dir, program_invocation_short_name, pid[0] ? pid : "unknown");
	close(fd);
	return -1;
}

void
lockfile_setpid(int fd)
{
	char	pid[32];
	int	len;

	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)len, 0) != len)
		return;
}
