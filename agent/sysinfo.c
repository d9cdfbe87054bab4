/* SPDX-License-Identifier: ISC */
/* What agent.start says about this machine: kernel and interfaces. */
#include <sys/socket.h>
#include <sys/utsname.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "agent.h"

/* Counts the one bits of a netmask. */
static int
prefix_len(const struct sockaddr *mask)
{
	const uint8_t	*p;
	size_t		 n, i;
	int		 bits = 0;

	if (mask == NULL)
		return -1;
	if (mask->sa_family == AF_INET) {
		p = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)mask)->sin_addr;
		n = 4;
	} else if (mask->sa_family == AF_INET6) {
		p = (const uint8_t *)&((const struct sockaddr_in6 *)
		    (const void *)mask)->sin6_addr;
		n = 16;
	} else
		return -1;
	for (i = 0; i < n; i++)
		bits += __builtin_popcount(p[i]);
	return bits;
}

/* Adds one list item per address: "eth0 192.168.1.10/24". */
static void
add_addresses(struct record *r, const struct ifaddrs *ifa0, int want_mac)
{
	const struct ifaddrs	*ifa;
	char			 a[INET6_ADDRSTRLEN], item[128];
	const void		*src;
	int			 n;

	for (ifa = ifa0; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || (ifa->ifa_flags & IFF_LOOPBACK))
			continue;
		if (want_mac && ifa->ifa_addr->sa_family == AF_PACKET) {
			const struct sockaddr_ll *ll = (const void *)
			    ifa->ifa_addr;

			if (ll->sll_halen != 6)
				continue;
			n = snprintf(item, sizeof(item),
			    "%s %02x:%02x:%02x:%02x:%02x:%02x", ifa->ifa_name,
			    ll->sll_addr[0], ll->sll_addr[1], ll->sll_addr[2],
			    ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
		} else if (!want_mac && (ifa->ifa_addr->sa_family == AF_INET ||
		    ifa->ifa_addr->sa_family == AF_INET6)) {
			if (ifa->ifa_addr->sa_family == AF_INET)
				src = &((const struct sockaddr_in *)(const void *)
				    ifa->ifa_addr)->sin_addr;
			else
				src = &((const struct sockaddr_in6 *)
				    (const void *)ifa->ifa_addr)->sin6_addr;
			inet_ntop(ifa->ifa_addr->sa_family, src, a, sizeof(a));
			n = snprintf(item, sizeof(item), "%s %s/%d",
			    ifa->ifa_name, a, prefix_len(ifa->ifa_netmask));
		} else
			continue;
		if (n > 0 && (size_t)n < sizeof(item))
			record_list_add(r, item, (size_t)n);
	}
}

void
sysinfo_add(struct record *r)
{
	struct utsname	 u;
	struct ifaddrs	*ifa = NULL;

	record_add_str(r, "version", LABWATCH_VERSION);
	if (uname(&u) == 0) {
		record_add_str(r, "kernel", u.release);
		record_add_str(r, "machine", u.machine);
	}
	if (getifaddrs(&ifa) == -1)
		ifa = NULL;
	record_add_list(r, "interfaces");
	add_addresses(r, ifa, 0);
	record_add_list(r, "macs");
	add_addresses(r, ifa, 1);
	if (ifa != NULL)
		freeifaddrs(ifa);
}
