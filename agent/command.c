/*
 * Commands from the collector (COMMAND frames, PROTOCOL.md): a small fixed
 * set, each checked here before anything is done.  Only over an
 * authenticated TLS link: a command can make this PC send frames on its
 * network.  Each command and its result is also an agent.command record.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "agent.h"
#include "log.h"
#include "priv.h"
#include "wire.h"

/* A command argument as a C string, or -1 when it does not fit. */
static int
command_arg(const struct wire_command *c, int i, char *buf, size_t size)
{
	if (c->arg_len[i] >= size || memchr(c->args[i], '\0',
	    c->arg_len[i]) != NULL)
		return -1;
	memcpy(buf, c->args[i], c->arg_len[i]);
	buf[c->arg_len[i]] = '\0';
	return 0;
}

/* The interface with an IPv4 address in net/mask, into ifname. */
static int
command_iface(uint32_t net, uint32_t mask, char ifname[IF_NAMESIZE])
{
	struct ifaddrs	*ifa, *a;
	uint32_t	 addr;
	int		 found = -1;

	if (getifaddrs(&ifa) == -1)
		return -1;
	for (a = ifa; a != NULL && found == -1; a = a->ifa_next) {
		if (a->ifa_addr == NULL || a->ifa_addr->sa_family != AF_INET ||
		    (a->ifa_flags & IFF_LOOPBACK) || !(a->ifa_flags & IFF_UP))
			continue;
		addr = ntohl(((struct sockaddr_in *)(void *)
		    a->ifa_addr)->sin_addr.s_addr);
		if ((addr & mask) == net) {
			snprintf(ifname, IF_NAMESIZE, "%s", a->ifa_name);
			found = 0;
		}
	}
	freeifaddrs(ifa);
	return found;
}

/* wake MAC A.B.C.D/N: the magic packet on this PC's interface there. */
static uint16_t
command_wake(const struct wire_command *c, char *detail, size_t len)
{
	char		ifname[IF_NAMESIZE], a[32], b[32];
	uint8_t		mac[6];
	uint32_t	net, mask;
	int		prefix;

	if (c->nargs != 2 || command_arg(c, 0, a, sizeof(a)) == -1 ||
	    command_arg(c, 1, b, sizeof(b)) == -1 ||
	    addr_mac_parse(a, mac) == -1 ||
	    addr_cidr4_parse(b, &net, &prefix) == -1 ||
	    prefix < 8 || prefix > 30) {
		snprintf(detail, len, "usage: wake MAC A.B.C.D/N");
		return RESULT_REFUSED;
	}
	mask = addr_mask4(prefix);
	net &= mask;
	if (command_iface(net, mask, ifname) == -1) {
		snprintf(detail, len, "no interface of this PC is on that "
		    "segment");
		return RESULT_FAILED;
	}
	return priv_wake(ifname, mac, detail, len) == 0 ? RESULT_OK :
	    RESULT_FAILED;
}

uint16_t
command_run(const struct wire_command *c, int secure, char *detail,
    size_t len)
{
	if (!secure) {
		snprintf(detail, len, "commands only over authenticated TLS");
		return RESULT_REFUSED;
	}
	if (c->name_len == 4 && memcmp(c->name, "wake", 4) == 0)
		return command_wake(c, detail, len);
	snprintf(detail, len, "unknown command");
	return RESULT_UNKNOWN;
}

void
command_record(struct record *r, const struct wire_command *c,
    uint16_t status, const char *detail)
{
	static const char *names[] = { "ok", "refused", "failed", "unknown" };
	uint16_t	i;

	record_begin(r, "agent.command");
	record_add_int(r, "id", c->id);
	record_add_strn(r, "name", c->name, c->name_len);
	record_add_list(r, "args");
	for (i = 0; i < c->nargs; i++)
		record_list_add(r, c->args[i], c->arg_len[i]);
	record_add_str(r, "status", status < 4 ? names[status] : "?");
	record_add_str(r, "detail", detail);
}
