/* SPDX-License-Identifier: ISC */
/*
 * New devices on the LAN: the first time a (MAC, IP) pair shows up in ARP
 * or neighbour discovery, a net.device record.  Known pairs are kept in
 * STATE_DIR/devices, one "MAC IP" a line, so a restart stays quiet.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "buf.h"
#include "escape.h"
#include "hash.h"
#include "log.h"
#include "xmalloc.h"

#define NETDEV_MAX	65536		/* pairs remembered */
#ifndef OUI_PATH		/* the fuzzer reads its own */
#define OUI_PATH	"/usr/share/ieee-data/oui.txt"
#endif
#define OUI_NAME_MAX	96		/* bytes of a vendor's name, NUL too */
#define OUI_MAX		(256 * 1024)	/* entries (32,530 in 2022) */
#define OUI_CHUNK	(64 * 1024)	/* bytes read at a time */

struct netdev {
	uint8_t	used, af, mac[6], ip[16];
};

/* A registry entry: a 24-bit prefix and where its vendor's name is. */
struct oui {
	uint32_t	prefix;
	uint32_t	name;		/* offset in oui_names */
};

static struct netdev	*set;
static size_t		 set_cap, set_count;
static char		*state_path;
static struct oui	*ouis;
static size_t		 nouis;
static struct buf	 oui_names;	/* the names, NUL after each */
static int		 full_warned;
static uint8_t		(*own_macs)[6];	/* this PC's interfaces */
static size_t		 nown_macs;
static int		 own_loaded;

/* Of the pair: af, mac and ip, which follow each other (bytes only). */
static size_t
netdev_hash(const struct netdev *d)
{
	return (size_t)hash_bytes(hash_seed(), &d->af,
	    sizeof(*d) - offsetof(struct netdev, af));
}

/* Adds the pair; returns 1 if it is new, 0 if known or the set is full. */
static int
netdev_add(const struct netdev *d)
{
	struct netdev	*old;
	size_t		 i, j, oldcap;

	if (set_count >= NETDEV_MAX) {
		if (!full_warned++)
			log_warnx("%d devices known: not tracking more",
			    NETDEV_MAX);
		return 0;
	}
	if ((set_count + 1) * 2 > set_cap) {
		old = set;
		oldcap = set_cap;
		set_cap = set_cap ? set_cap * 2 : 256;
		set = xcalloc(set_cap, sizeof(*set));
		set_count = 0;
		for (j = 0; j < oldcap; j++)
			if (old[j].used)
				netdev_add(&old[j]);
		free(old);
	}
	for (i = netdev_hash(d) & (set_cap - 1); set[i].used;
	    i = (i + 1) & (set_cap - 1))
		if (set[i].af == d->af && memcmp(set[i].mac, d->mac, 6) == 0 &&
		    memcmp(set[i].ip, d->ip, 16) == 0)
			return 0;
	set[i] = *d;
	set[i].used = 1;
	set_count++;
	return 1;
}

static int
netdev_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int	b[6];
	int		i, n;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3],
	    &b[4], &b[5], &n) != 6 || s[n] != '\0')
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* Reads the known pairs; a bad line is reported and skipped. */
static void
netdev_load(void)
{
	struct netdev	 d;
	FILE		*f;
	char		 line[256], mac[64], ip[INET6_ADDRSTRLEN + 1];
	size_t		 lineno = 0;

	if ((f = fopen(state_path, "re")) == NULL) {
		if (errno != ENOENT)
			log_warn("%s", state_path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		memset(&d, 0, sizeof(d));
		if (sscanf(line, "%63s %46s", mac, ip) != 2 ||
		    netdev_parse_mac(mac, d.mac) == -1) {
			log_warnx("%s:%zu: expected MAC IP", state_path,
			    lineno);
			continue;
		}
		if (inet_pton(AF_INET, ip, d.ip) == 1)
			d.af = 4;
		else if (inet_pton(AF_INET6, ip, d.ip) == 1)
			d.af = 6;
		else {
			log_warnx("%s:%zu: %s: not an IP address", state_path,
			    lineno, ip);
			continue;
		}
		netdev_add(&d);
	}
	fclose(f);
}

static int
oui_cmp(const void *a, const void *b)
{
	const struct oui	*x = a, *y = b;

	return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}

/*
 * One line of the IEEE registry (len bytes, no newline): for an entry,
 * "XX-XX-XX   (hex)\t\tVendor", its prefix and the vendor's name (to the
 * line's end or a CR).  Returns 0 for any other line.
 */
static int
oui_line(const char *s, size_t len, uint32_t *prefix, const char **name,
    size_t *nlen)
{
	const char	*cr;
	uint32_t	 v = 0;
	size_t		 i;
	int		 d;

	if (len < 8 || s[2] != '-' || s[5] != '-')
		return 0;
	for (i = 0; i < 8; i++) {
		if (i == 2 || i == 5)
			continue;
		if ((d = hex_digit((unsigned char)s[i])) < 0)
			return 0;
		v = v << 4 | (uint32_t)d;
	}
	for (; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (len - i < 5 || memcmp(s + i, "(hex)", 5) != 0)
		return 0;
	for (i += 5; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if ((cr = memchr(s + i, '\r', len - i)) != NULL)
		len = (size_t)(cr - s);
	if (len == i)
		return 0;
	*prefix = v;
	*name = s + i;
	*nlen = len - i < OUI_NAME_MAX - 1 ? len - i : OUI_NAME_MAX - 1;
	return 1;
}

/* Puts an entry line into the table; other lines are let go. */
static void
oui_take(const char *line, size_t len, size_t *cap)
{
	const char	*name;
	size_t		 nlen;
	uint32_t	 prefix;

	if (nouis >= OUI_MAX || !oui_line(line, len, &prefix, &name, &nlen))
		return;
	if (nouis == *cap) {
		*cap = *cap ? *cap * 2 : 4096;
		ouis = xreallocarray(ouis, *cap, sizeof(*ouis));
	}
	ouis[nouis].prefix = prefix;
	ouis[nouis++].name = (uint32_t)oui_names.len;
	buf_add(&oui_names, name, nlen);
	buf_add_u8(&oui_names, '\0');
}

/*
 * The vendor names of the IEEE registry, by prefix: read a chunk at a
 * time (a line longer than a chunk is no entry, and is skipped).
 */
static void
oui_load(void)
{
	const char	*nl;
	char		*chunk;
	size_t		 have = 0, used, cap = 0;
	ssize_t		 n;
	int		 fd, skip = 0;

	if ((fd = open(OUI_PATH, O_RDONLY | O_CLOEXEC)) == -1) {
		log_debug("%s: %s: no vendor names", OUI_PATH,
		    strerror(errno));
		return;
	}
	chunk = xmalloc(OUI_CHUNK);
	buf_init(&oui_names);
	while ((n = read(fd, chunk + have, OUI_CHUNK - have)) > 0) {
		have += (size_t)n;
		for (used = 0; (nl = memchr(chunk + used, '\n', have - used)) !=
		    NULL; used = (size_t)(nl - chunk) + 1) {
			if (!skip)
				oui_take(chunk + used, (size_t)(nl - chunk) -
				    used, &cap);
			skip = 0;
		}
		if (used == 0 && have == OUI_CHUNK) {
			skip = 1;
			used = have;
		}
		memmove(chunk, chunk + used, have - used);
		have -= used;
	}
	if (n == -1)
		log_warn("%s", OUI_PATH);
	else if (have > 0 && !skip)
		oui_take(chunk, have, &cap);
	free(chunk);
	close(fd);
	qsort(ouis, nouis, sizeof(*ouis), oui_cmp);
}

static const char *
oui_vendor(const uint8_t mac[6])
{
	struct oui	 key, *o;

	if (nouis == 0 || (mac[0] & 0x02))	/* locally administered */
		return NULL;
	key.prefix = (uint32_t)mac[0] << 16 | mac[1] << 8 | mac[2];
	o = bsearch(&key, ouis, nouis, sizeof(*ouis), oui_cmp);
	return o != NULL ? (const char *)oui_names.data + o->name : NULL;
}

void
netdev_init(const char *state_dir, int persist)
{
	if (persist && state_dir != NULL) {
		if (mkdir(state_dir, 0750) == -1 && errno != EEXIST)
			log_warn("%s", state_dir);
		xasprintf(&state_path, "%s/%s", state_dir, NETDEV_FILE);
		netdev_load();
	}
	oui_load();
}

/* Is mac one of this PC's own interfaces? (Read once, live only.) */
static int
netdev_own(const uint8_t mac[6])
{
	struct ifaddrs		*ifa0, *ifa;
	const struct sockaddr_ll *ll;
	size_t			 i;

	if (!own_loaded && getifaddrs(&ifa0) == 0) {
		for (ifa = ifa0; ifa != NULL; ifa = ifa->ifa_next) {
			if (ifa->ifa_addr == NULL ||
			    ifa->ifa_addr->sa_family != AF_PACKET)
				continue;
			ll = (const void *)ifa->ifa_addr;
			if (ll->sll_halen != 6)
				continue;
			own_macs = xreallocarray(own_macs, nown_macs + 1,
			    sizeof(*own_macs));
			memcpy(own_macs[nown_macs++], ll->sll_addr, 6);
		}
		freeifaddrs(ifa0);
		own_loaded = 1;
	}
	for (i = 0; i < nown_macs; i++)
		if (memcmp(own_macs[i], mac, 6) == 0)
			return 1;
	return 0;
}

void
netdev_seen(int af, const uint8_t mac[6], const uint8_t *ip, int64_t ts,
    int replay)
{
	struct netdev	 d;
	struct record	 r;
	const char	*vendor;
	char		 m[18], a[INET6_ADDRSTRLEN];
	FILE		*f;

	/* The PC itself is not a new device on its network. */
	if (!replay && netdev_own(mac))
		return;
	memset(&d, 0, sizeof(d));
	d.af = (uint8_t)af;
	memcpy(d.mac, mac, 6);
	memcpy(d.ip, ip, af == 4 ? 4 : 16);
	if (!netdev_add(&d))
		return;
	snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
	    mac[1], mac[2], mac[3], mac[4], mac[5]);
	inet_ntop(af == 4 ? AF_INET : AF_INET6, d.ip, a, sizeof(a));
	if (state_path != NULL) {
		if ((f = fopen(state_path, "ae")) == NULL)
			log_warn("%s", state_path);
		else {
			fprintf(f, "%s %s\n", m, a);
			if (fclose(f) == EOF)
				log_warn("%s", state_path);
		}
	}
	record_init(&r);
	record_begin(&r, "net.device");
	if (replay)
		r.ts_us = ts;
	record_add_str(&r, "mac", m);
	record_add_str(&r, "ip", a);
	if ((vendor = oui_vendor(mac)) != NULL)
		record_add_str(&r, "vendor", vendor);
	net_emit(&r);
	record_free(&r);
}

void
netdev_shutdown(void)
{
	free(set);
	set = NULL;
	set_cap = set_count = 0;
	free(state_path);
	state_path = NULL;
	free(ouis);
	ouis = NULL;
	nouis = 0;
	buf_free(&oui_names);
	free(own_macs);
	own_macs = NULL;
	nown_macs = 0;
	own_loaded = 0;
}
