/*
 * What the collector knows of each PC's network: its interfaces, MACs and
 * IPv4 addresses, as its agent.start said, kept in the state folder
 * (hostnet: "HOST IFACE MAC ADDR/PREFIX" lines) so a PC asleep since the
 * collector's last start can still be woken.
 */
#include <sys/queue.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "hostname.h"
#include "hostnet.h"
#include "log.h"
#include "xmalloc.h"

#define HOSTNET_FILE	"hostnet"
#define HOSTNET_MAX	65536		/* entries kept */
#define LINE_MAX_LEN	256

struct entry {
	TAILQ_ENTRY(entry)	 link;
	struct hostnet_if	 i;
};

static TAILQ_HEAD(, entry)	 entries = TAILQ_HEAD_INITIALIZER(entries);
static int			 nentries;
static int			 dirfd = -1;

/* Adds or refreshes one (host, iface) entry. */
static void
hostnet_put(const struct hostnet_if *i)
{
	struct entry	*e;

	TAILQ_FOREACH(e, &entries, link)
		if (strcmp(e->i.host, i->host) == 0 &&
		    strcmp(e->i.iface, i->iface) == 0 &&
		    e->i.addr == i->addr) {
			e->i = *i;
			return;
		}
	if (nentries == HOSTNET_MAX) {
		e = TAILQ_FIRST(&entries);
		TAILQ_REMOVE(&entries, e, link);
		free(e);
		nentries--;
	}
	e = xcalloc(1, sizeof(*e));
	e->i = *i;
	TAILQ_INSERT_TAIL(&entries, e, link);
	nentries++;
}

/* Parses one line of the file: 0, or -1 (the line is skipped). */
static int
hostnet_line(char *line, struct hostnet_if *i)
{
	char	*host, *iface, *mac, *cidr, *save;

	if ((host = strtok_r(line, " \n", &save)) == NULL ||
	    (iface = strtok_r(NULL, " \n", &save)) == NULL ||
	    (mac = strtok_r(NULL, " \n", &save)) == NULL ||
	    (cidr = strtok_r(NULL, " \n", &save)) == NULL ||
	    strtok_r(NULL, " \n", &save) != NULL ||
	    !hostname_ok(host, strlen(host)) ||
	    strlen(iface) >= sizeof(i->iface) ||
	    addr_mac_parse(mac, i->mac) == -1 ||
	    addr_cidr4_parse(cidr, &i->addr, &i->prefix) == -1)
		return -1;
	snprintf(i->host, sizeof(i->host), "%s", host);
	snprintf(i->iface, sizeof(i->iface), "%s", iface);
	return 0;
}

void
hostnet_init(const char *statedir)
{
	struct hostnet_if	 i;
	char			 line[LINE_MAX_LEN];
	FILE			*f;
	int			 fd, n = 0;

	if ((dirfd = open(statedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		log_warn("state folder %s", statedir);
		return;
	}
	if ((fd = openat(dirfd, HOSTNET_FILE, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1 || (f = fdopen(fd, "r")) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		if (hostnet_line(line, &i) == 0)
			hostnet_put(&i);
		else
			log_warnx("%s:%d: bad line; skipped", HOSTNET_FILE, n);
	}
	fclose(f);
}

/* Writes the file anew: tmp, then rename. */
static void
hostnet_save(void)
{
	struct entry	*e;
	char		 a[INET_ADDRSTRLEN];
	struct in_addr	 in;
	FILE		*f;
	int		 fd;

	if (dirfd == -1 || (fd = openat(dirfd, HOSTNET_FILE ".tmp",
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL) {
		log_warn("saving %s", HOSTNET_FILE);
		return;
	}
	TAILQ_FOREACH(e, &entries, link) {
		in.s_addr = htonl(e->i.addr);
		inet_ntop(AF_INET, &in, a, sizeof(a));
		fprintf(f, "%s %s %02x:%02x:%02x:%02x:%02x:%02x %s/%d\n",
		    e->i.host, e->i.iface, e->i.mac[0], e->i.mac[1],
		    e->i.mac[2], e->i.mac[3], e->i.mac[4], e->i.mac[5], a,
		    e->i.prefix);
	}
	if (fclose(f) != 0 || renameat(dirfd, HOSTNET_FILE ".tmp", dirfd,
	    HOSTNET_FILE) == -1)
		log_warn("saving %s", HOSTNET_FILE);
}

/* The list field key of r as C strings, at most max of them. */
static int
hostnet_items(const struct record *r, const char *key, char (*out)[64],
    int max)
{
	const struct field	*f = record_get(r, key);
	const struct span	*s;
	uint32_t		 k;
	int			 n = 0;

	if (f == NULL || f->type != FIELD_LIST)
		return 0;
	for (k = 0; k < f->v.list.n && n < max; k++) {
		s = &r->items[f->v.list.first + k];
		if (s->len == 0 || s->len >= 64)
			continue;
		memcpy(out[n], record_bytes(r) + s->off, s->len);
		out[n][s->len] = '\0';
		n++;
	}
	return n;
}

void
hostnet_learn(const char *host, const struct record *r)
{
	struct hostnet_if	 i;
	char			 ifs[32][64], macs[32][64];
	char			*sp, *m;
	int			 nif, nmac, a, b, changed = 0;

	nif = hostnet_items(r, "interfaces", ifs, 32);
	nmac = hostnet_items(r, "macs", macs, 32);
	for (a = 0; a < nif; a++) {
		/* "IFACE ADDR/PREFIX" with the MAC from "IFACE MAC". */
		if ((sp = strchr(ifs[a], ' ')) == NULL)
			continue;
		*sp++ = '\0';
		memset(&i, 0, sizeof(i));
		if (addr_cidr4_parse(sp, &i.addr, &i.prefix) == -1 ||
		    strlen(ifs[a]) >= sizeof(i.iface))
			continue;
		for (b = 0; b < nmac; b++) {
			if ((m = strchr(macs[b], ' ')) == NULL ||
			    (size_t)(m - macs[b]) != strlen(ifs[a]) ||
			    memcmp(macs[b], ifs[a], strlen(ifs[a])) != 0)
				continue;
			if (addr_mac_parse(m + 1, i.mac) == 0)
				break;
		}
		if (b == nmac)
			continue;
		snprintf(i.host, sizeof(i.host), "%s", host);
		snprintf(i.iface, sizeof(i.iface), "%s", ifs[a]);
		hostnet_put(&i);
		changed = 1;
	}
	if (changed)
		hostnet_save();
}

int
hostnet_of(const char *host, struct hostnet_if *out, int max)
{
	struct entry	*e;
	int		 n = 0;

	TAILQ_FOREACH(e, &entries, link)
		if (strcmp(e->i.host, host) == 0 && n < max)
			out[n++] = e->i;
	return n;
}

int
hostnet_on_segment(const char *host, uint32_t addr, int prefix)
{
	struct entry	*e;
	uint32_t	 mask = addr_mask4(prefix);

	TAILQ_FOREACH(e, &entries, link)
		if (strcmp(e->i.host, host) == 0 && e->i.prefix == prefix &&
		    (e->i.addr & mask) == (addr & mask))
			return 1;
	return 0;
}

void
hostnet_each_host(void (*cb)(const char *, void *), void *arg)
{
	struct entry	*e, *f;

	TAILQ_FOREACH(e, &entries, link) {
		/* Each host once: at its first entry. */
		TAILQ_FOREACH(f, &entries, link)
			if (f == e || strcmp(f->i.host, e->i.host) == 0)
				break;
		if (f == e)
			cb(e->i.host, arg);
	}
}

void
hostnet_shutdown(void)
{
	struct entry	*e;

	while ((e = TAILQ_FIRST(&entries)) != NULL) {
		TAILQ_REMOVE(&entries, e, link);
		free(e);
	}
	nentries = 0;
	if (dirfd != -1)
		close(dirfd);
	dirfd = -1;
}
