/* rtnetlink link and address messages, parsed with every length checked. */
#include <sys/socket.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>

#include <string.h>

#include "rtnl.h"

#define RTNL_ATTRS_MAX	256	/* attributes looked at per message */

/* Netlink's 4-byte alignment, overflow-checked against what is left. */
static size_t
rtnl_align(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/*
 * Walks the attributes in [p, p + len): for each of type want (and at most
 * max bytes), copies its payload into out and returns its length; -1 when
 * absent, -2 when an attribute is malformed.
 */
static int
rtnl_attr(const uint8_t *p, size_t len, unsigned short want, void *out,
    size_t max)
{
	struct rtattr	a;
	size_t		alen;
	int		n = 0, found = -1;

	while (len >= sizeof(a) && n++ < RTNL_ATTRS_MAX) {
		memcpy(&a, p, sizeof(a));
		if (a.rta_len < sizeof(a) || a.rta_len > len)
			return -2;
		alen = a.rta_len - sizeof(a);
		if ((a.rta_type & NLA_TYPE_MASK) == want && found == -1 &&
		    alen <= max) {
			memcpy(out, p + sizeof(a), alen);
			found = (int)alen;
		}
		if (rtnl_align(a.rta_len) >= len)
			break;
		p += rtnl_align(a.rta_len);
		len -= rtnl_align(a.rta_len);
	}
	return found;
}

static int
rtnl_link_msg(const struct nlmsghdr *h, const uint8_t *p, size_t len,
    const struct rtnl_cb *cb)
{
	struct ifinfomsg	ifi;
	struct rtnl_link	l;
	char			name[IF_NAMESIZE + 1];
	int			n;

	if (len < sizeof(ifi))
		return -1;
	memcpy(&ifi, p, sizeof(ifi));
	memset(&l, 0, sizeof(l));
	l.index = ifi.ifi_index;
	l.flags = ifi.ifi_flags;
	l.type = ifi.ifi_type;
	l.gone = h->nlmsg_type == RTM_DELLINK;
	memset(name, 0, sizeof(name));
	n = rtnl_attr(p + rtnl_align(sizeof(ifi)), len > rtnl_align(
	    sizeof(ifi)) ? len - rtnl_align(sizeof(ifi)) : 0, IFLA_IFNAME,
	    name, IF_NAMESIZE);
	if (n == -2)
		return -1;
	/* A name is a C string of at most IF_NAMESIZE - 1 characters. */
	if (n > 0 && strnlen(name, (size_t)n) < IF_NAMESIZE)
		memcpy(l.name, name, strnlen(name, (size_t)n));
	if (cb->link != NULL && l.index > 0)
		cb->link(&l, cb->arg);
	return 0;
}

static int
rtnl_addr_msg(const struct nlmsghdr *h, const uint8_t *p, size_t len,
    const struct rtnl_cb *cb)
{
	struct ifaddrmsg	ifa;
	struct rtnl_addr	a;
	size_t			want;
	int			n;

	if (len < sizeof(ifa))
		return -1;
	memcpy(&ifa, p, sizeof(ifa));
	if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6)
		return 0;
	memset(&a, 0, sizeof(a));
	a.index = (int)ifa.ifa_index;
	a.family = ifa.ifa_family;
	a.prefix = ifa.ifa_prefixlen;
	a.gone = h->nlmsg_type == RTM_DELADDR;
	want = ifa.ifa_family == AF_INET ? 4 : 16;
	p += rtnl_align(sizeof(ifa));
	len = len > rtnl_align(sizeof(ifa)) ? len - rtnl_align(sizeof(ifa)) :
	    0;
	/* IFA_LOCAL is the address on point-to-point links, else IFA_ADDRESS. */
	if ((n = rtnl_attr(p, len, IFA_LOCAL, a.addr, sizeof(a.addr))) == -2)
		return -1;
	if (n != (int)want && (n = rtnl_attr(p, len, IFA_ADDRESS, a.addr,
	    sizeof(a.addr))) == -2)
		return -1;
	if (n != (int)want || a.prefix > (int)want * 8)
		return 0;
	if (cb->addr != NULL && a.index > 0)
		cb->addr(&a, cb->arg);
	return 0;
}

int
rtnl_parse(const uint8_t *p, size_t len, const struct rtnl_cb *cb)
{
	struct nlmsghdr	h;
	size_t		body;

	while (len >= sizeof(h)) {
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len)
			return -1;
		body = h.nlmsg_len - sizeof(h);
		switch (h.nlmsg_type) {
		case NLMSG_DONE:
			return 1;
		case NLMSG_ERROR:
			return -1;
		case RTM_NEWLINK:
		case RTM_DELLINK:
			if (rtnl_link_msg(&h, p + sizeof(h), body, cb) == -1)
				return -1;
			break;
		case RTM_NEWADDR:
		case RTM_DELADDR:
			if (rtnl_addr_msg(&h, p + sizeof(h), body, cb) == -1)
				return -1;
			break;
		}
		if (rtnl_align(h.nlmsg_len) >= len)
			break;
		p += rtnl_align(h.nlmsg_len);
		len -= rtnl_align(h.nlmsg_len);
	}
	return 0;
}

const char *
rtnl_kind(unsigned short type)
{
	switch (type) {
	case ARPHRD_ETHER:
		return "ether";
	case ARPHRD_NONE:
		return "tun";
	case ARPHRD_PPP:
		return "ppp";
	case ARPHRD_RAWIP:
		return "rawip";
	case ARPHRD_LOOPBACK:
		return "loopback";
	case ARPHRD_IEEE80211:
	case ARPHRD_IEEE80211_RADIOTAP:
		return "wireless";
	default:
		return "other";
	}
}
