/*
 * rtnetlink messages about links and addresses, parsed (pure: bytes in,
 * callbacks out).  The kernel writes them, but they are read as any other
 * bytes: every length is checked against what is left.
 */
#ifndef LABWATCH_RTNL_H
#define LABWATCH_RTNL_H

#include <net/if.h>

#include <stddef.h>
#include <stdint.h>

struct rtnl_link {
	int		index;
	unsigned int	flags;		/* IFF_* */
	unsigned short	type;		/* ARPHRD_* */
	char		name[IF_NAMESIZE];	/* "" when the message had none */
	int		gone;		/* RTM_DELLINK */
};

struct rtnl_addr {
	int		index;
	int		family;		/* AF_INET, AF_INET6 */
	uint8_t		addr[16];
	int		prefix;
	int		gone;		/* RTM_DELADDR */
};

struct rtnl_cb {
	void	(*link)(const struct rtnl_link *, void *);
	void	(*addr)(const struct rtnl_addr *, void *);
	void	*arg;
};

/*
 * Parses a buffer of netlink messages (what one recv returned): calls the
 * callbacks for each link and address message.  Returns 1 when it held the
 * end of a dump (NLMSG_DONE), 0 otherwise, -1 when a message is malformed
 * or reports an error (those before it were delivered).
 */
int	rtnl_parse(const uint8_t *, size_t, const struct rtnl_cb *);
/* A link type's name for records: "ether", "tun", "ppp", ... */
const char *rtnl_kind(unsigned short);

#endif
