/* SPDX-License-Identifier: ISC */
/*
 * The agent's state folder: one agent at a time (a lock naming its pid),
 * and only for the PC it was made on.  A folder copied with a master image
 * onto forty PCs would otherwise make each of them replay the master's
 * stream under its own name: the folder records the host name and the
 * machine id it belongs to, and a mismatch starts it afresh.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "lockfile.h"
#include "log.h"

#define IDENTITY_FILE	"identity"
#define MACHINE_ID	"/etc/machine-id"
#define IDENTITY_MAX	256

/* Reads up to size-1 bytes of a small file (at dirfd) into buf. */
static ssize_t
statedir_read(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t	n;
	int	fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* "host NAME\nmachine ID\n": who this folder is for. */
static void
statedir_identity(const char *host, char *buf, size_t size)
{
	char	id[64];

	if (statedir_read(AT_FDCWD, MACHINE_ID, id, sizeof(id)) <= 0)
		id[0] = '\0';
	id[strcspn(id, "\r\n")] = '\0';
	snprintf(buf, size, "host %s\nmachine %s\n", host, id[0] ? id :
	    "unknown");
}

int
statedir_open(const char *dir, const char *host, char *reset, size_t rlen,
    char *err, size_t elen)
{
	char	want[IDENTITY_MAX], have[IDENTITY_MAX];
	char	ohost[65], omachine[64];
	int	dirfd, fd, lock;
	ssize_t	len;

	reset[0] = '\0';
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, elen, "state folder %s: %s", dir, strerror(errno));
		return -1;
	}
	if ((lock = lockfile_take(dir, "state folder", err, elen)) == -1)
		return -1;
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, elen, "state folder %s: %s", dir, strerror(errno));
		return -1;
	}
	statedir_identity(host, want, sizeof(want));
	len = statedir_read(dirfd, IDENTITY_FILE, have, sizeof(have));
	if (len > 0 && strcmp(have, want) != 0) {
		if (sscanf(have, "host %64s machine %63s", ohost, omachine) != 2)
			snprintf(reset, rlen, "state folder has no valid "
			    "identity");
		else if (strcmp(ohost, host) != 0)
			snprintf(reset, rlen, "state folder made for host %s",
			    ohost);
		else
			snprintf(reset, rlen, "state folder made for machine "
			    "%s", omachine);
		if (unlinkat(dirfd, NETDEV_FILE, 0) == -1 && errno != ENOENT)
			log_warn("%s/%s", dir, NETDEV_FILE);
	}
	if (len <= 0 || reset[0] != '\0') {
		fd = openat(dirfd, IDENTITY_FILE ".tmp", O_WRONLY | O_CREAT |
		    O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1 || write(fd, want, strlen(want)) !=
		    (ssize_t)strlen(want) || fsync(fd) == -1 ||
		    renameat(dirfd, IDENTITY_FILE ".tmp", dirfd,
		    IDENTITY_FILE) == -1) {
			snprintf(err, elen, "%s/%s: %s", dir, IDENTITY_FILE,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			close(dirfd);
			return -1;
		}
		close(fd);
	}
	close(dirfd);
	return lock;
}
