/* SPDX-License-Identifier: ISC */
/* Socket address parsing and printing for options and log lines. */
#ifndef LABWATCH_ADDR_H
#define LABWATCH_ADDR_H

#include <sys/socket.h>

#include <stdint.h>

#define ADDR_STR_MAX	64	/* "[ipv6%scope]:port" with room */

#define ADDR_HOST_MAX	256
#define ADDR_PORT_MAX	6

/*
 * Splits "HOST:PORT", "[IPV6]:PORT" or ":PORT" into host (possibly empty)
 * and a checked port.  Returns 0, or -1 with *err.
 */
int	addr_split(const char *, char *, size_t, char [ADDR_PORT_MAX],
	    const char **);
#define ADDR_LIST_MAX	8	/* HOST:PORT entries in a list */

struct addr_hostport {
	char	host[ADDR_HOST_MAX];
	char	port[ADDR_PORT_MAX];
};

/*
 * Splits "HOST:PORT,HOST:PORT,..." (1 to max entries, each with a host,
 * none twice) into out.  Returns the number of entries, or -1 with *err
 * (which may point into a static buffer: copy it before the next call).
 */
int	addr_split_list(const char *, struct addr_hostport *, size_t,
	    const char **);
/* Writes "HOST:PORT", or "[HOST]:PORT" for an IPv6 address. */
const char *addr_join(char *, size_t, const char *, const char *);
/*
 * Parses a numeric listening address, ":PORT" meaning all addresses.
 * Returns 0, or -1 with *err.
 */
int	addr_parse(const char *, struct sockaddr_storage *, socklen_t *,
	    const char **);
/*
 * inet_ntop() into a buffer of INET6_ADDRSTRLEN, the same text, with IPv4
 * written here (conversation records carry two addresses each).
 */
const char *addr_ntop(int af, const void *, char *);
/* Writes sa as "a.b.c.d:port" or "[v6]:port". */
const char *addr_str(const struct sockaddr *, char *, size_t);
/* Parses exactly "aa:bb:cc:dd:ee:ff" into mac: 0, or -1. */
int	addr_mac_parse(const char *, uint8_t [6]);
/* Parses "A.B.C.D/N" into addr (host order) and prefix: 0, or -1. */
int	addr_cidr4_parse(const char *, uint32_t *, int *);
/* The mask of an IPv4 prefix length, host order. */
uint32_t addr_mask4(int);
#define ADDR_WOL_LEN	(6 + 16 * 6)
/* The Wake-on-LAN magic packet: 6 x 0xff, then mac 16 times. */
void	addr_wol_magic(const uint8_t [6], uint8_t [ADDR_WOL_LEN]);

#endif
