/*
 * Live capture: one packet socket per interface, opened by the privileged
 * parent (priv.h) and read here in batches; interfaces followed through
 * rtnetlink, so one that comes up later (USB tethering, Wi-Fi, a VPN) is
 * captured from then on and one that goes is closed.  Each change is a
 * net.interface record; an interface that should be captured and cannot
 * be, and packets the kernel dropped, make the network monitor degraded.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <event2/event.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "priv.h"
#include "rtnl.h"
#include "xmalloc.h"

#define LIVE_BATCH	64		/* packets per recvmmsg */
#define LIVE_ROUNDS	16		/* recvmmsg calls per wakeup */
#define LIVE_ADDRS	16		/* addresses kept per interface */
#define NL_BUF		(64 * 1024)

struct iface {
	TAILQ_ENTRY(iface)	 entry;
	int			 index;
	char			 name[IF_NAMESIZE];
	unsigned int		 flags;
	unsigned short		 type;
	char			 addrs[LIVE_ADDRS][INET6_ADDRSTRLEN + 4];
	int			 naddrs;
	int			 fd;		/* -1: not captured */
	int			 dlt;
	struct event		*ev;
	char			 why[PRIV_WHY_MAX];	/* why not, if it failed */
	int			 logged;	/* its net.interface state */
	int			 announced;	/* ever logged */
};

static TAILQ_HEAD(, iface)	 ifaces = TAILQ_HEAD_INITIALIZER(ifaces);
static struct event_base	*base;
static const struct agent_conf	*conf;
static int			 nl_fd = -1;
static struct event		*nl_ev;
static uint8_t			*nl_buf;
static uint64_t			 seen, dropped, dropped_reported;
static struct {
	struct mmsghdr	msgs[LIVE_BATCH];
	struct iovec	iov[LIVE_BATCH];
	uint8_t		data[LIVE_BATCH][CAPTURE_SNAPLEN];
	char		ctl[LIVE_BATCH][CMSG_SPACE(sizeof(struct timeval))];
}				*rx;

static void	live_update(void);

static struct iface *
live_find(int index)
{
	struct iface	*i;

	TAILQ_FOREACH(i, &ifaces, entry)
		if (i->index == index)
			return i;
	return NULL;
}

/* Whether --interface names it (or there is no --interface). */
static int
live_listed(const char *name)
{
	int	k;

	if (conf->interfaces == NULL)
		return 1;
	for (k = 0; k < conf->ninterfaces; k++)
		if (strcmp(conf->interfaces[k], name) == 0)
			return 1;
	return 0;
}

/* Up, not loopback, with an address (or named by --interface). */
static int
live_wanted(const struct iface *i)
{
	if (!(i->flags & IFF_UP) || (i->flags & IFF_LOOPBACK) ||
	    !live_listed(i->name))
		return 0;
	return conf->interfaces != NULL || i->naddrs > 0;
}

/* Reads what the socket holds, a batch at a time. */
static void
live_read(struct iface *i)
{
	struct cmsghdr	*cm;
	struct timeval	 tv;
	int64_t		 now = 0;
	int		 n, k, round;

	for (round = 0; round < LIVE_ROUNDS; round++) {
		for (k = 0; k < LIVE_BATCH; k++) {
			rx->iov[k].iov_base = rx->data[k];
			rx->iov[k].iov_len = CAPTURE_SNAPLEN;
			memset(&rx->msgs[k].msg_hdr, 0, sizeof(struct msghdr));
			rx->msgs[k].msg_hdr.msg_iov = &rx->iov[k];
			rx->msgs[k].msg_hdr.msg_iovlen = 1;
			rx->msgs[k].msg_hdr.msg_control = rx->ctl[k];
			rx->msgs[k].msg_hdr.msg_controllen =
			    sizeof(rx->ctl[k]);
		}
		n = recvmmsg(i->fd, rx->msgs, LIVE_BATCH, MSG_TRUNC |
		    MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n == -1 && errno != EAGAIN && errno != EINTR &&
			    errno != ENETDOWN)
				log_warn("%s: reading packets", i->name);
			return;
		}
		for (k = 0; k < n; k++) {
			tv.tv_sec = 0;
			for (cm = CMSG_FIRSTHDR(&rx->msgs[k].msg_hdr);
			    cm != NULL; cm = CMSG_NXTHDR(&rx->msgs[k].msg_hdr,
			    cm))
				if (cm->cmsg_level == SOL_SOCKET &&
				    cm->cmsg_type == SO_TIMESTAMP &&
				    cm->cmsg_len == CMSG_LEN(sizeof(tv)))
					memcpy(&tv, CMSG_DATA(cm), sizeof(tv));
			if (tv.tv_sec == 0 && now == 0)
				now = record_now();
			net_packet(i->dlt, tv.tv_sec != 0 ?
			    (int64_t)tv.tv_sec * 1000000 + tv.tv_usec : now,
			    rx->data[k], rx->msgs[k].msg_len < CAPTURE_SNAPLEN ?
			    rx->msgs[k].msg_len : CAPTURE_SNAPLEN,
			    rx->msgs[k].msg_len);
		}
		if (n < LIVE_BATCH)
			return;
	}
}

static void
live_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	live_read(arg);
}

/* Counters of a socket (they reset when read), into the totals. */
static void
live_count(struct iface *i)
{
	struct tpacket_stats	st;
	socklen_t		len = sizeof(st);

	if (i->fd != -1 && getsockopt(i->fd, SOL_PACKET, PACKET_STATISTICS,
	    &st, &len) == 0) {
		seen += st.tp_packets;
		dropped += st.tp_drops;
	}
}

static void
live_close(struct iface *i)
{
	if (i->fd == -1)
		return;
	live_count(i);
	event_free(i->ev);
	close(i->fd);
	i->fd = -1;
	i->ev = NULL;
	log_info("no longer capturing on %s", i->name);
}

/* A net.interface record: what the interface is and whether we see it. */
static void
live_record(struct iface *i, const char *state)
{
	struct record	r;
	int		k;

	record_init(&r);
	record_begin(&r, "net.interface");
	record_add_str(&r, "name", i->name);
	record_add_str(&r, "kind", rtnl_kind(i->type));
	record_add_str(&r, "state", state);
	record_add_list(&r, "addresses");
	for (k = 0; k < i->naddrs; k++)
		record_list_add(&r, i->addrs[k], strlen(i->addrs[k]));
	record_add_bool(&r, "captured", i->fd != -1);
	i->announced = 1;
	if (i->fd == -1 && i->why[0] != '\0')
		record_add_str(&r, "reason", i->why);
	net_emit(&r);
	record_free(&r);
}

/* Opens or closes captures as the interfaces now stand. */
static void
live_update(void)
{
	struct iface	*i;
	char		 why[PRIV_WHY_MAX + IF_NAMESIZE + 64];
	int		 k, failed = 0, missing = 0;

	TAILQ_FOREACH(i, &ifaces, entry) {
		if (live_wanted(i) && i->fd == -1) {
			i->fd = priv_capture(i->name, &i->dlt, i->why,
			    sizeof(i->why));
			if (i->fd != -1) {
				i->why[0] = '\0';
				i->ev = event_new(base, i->fd,
				    EV_READ | EV_PERSIST, live_read_cb, i);
				event_add(i->ev, NULL);
				log_info("capturing on %s", i->name);
			}
			live_record(i, "up");
			i->logged = 1;
		} else if (!live_wanted(i) && i->fd != -1) {
			live_close(i);
			live_record(i, "down");
			i->logged = 0;
		} else if (!live_wanted(i) && i->logged) {
			live_record(i, "down");
			i->logged = 0;
		}
		if (live_wanted(i) && i->fd == -1)
			failed++;
	}
	/* An interface named by --interface that does not exist. */
	for (k = 0; conf->interfaces != NULL && k < conf->ninterfaces; k++) {
		TAILQ_FOREACH(i, &ifaces, entry)
			if (strcmp(i->name, conf->interfaces[k]) == 0)
				break;
		if (i == NULL && missing++ == 0)
			snprintf(why, sizeof(why), "interface %s does not "
			    "exist", conf->interfaces[k]);
	}
	if (failed > 0) {
		TAILQ_FOREACH(i, &ifaces, entry)
			if (live_wanted(i) && i->fd == -1)
				break;
		snprintf(why, sizeof(why), "%s", i->why);
	}
	if (failed > 0 || missing > 0)
		health_degraded("net", why);
	else
		health_recovered("net");
}

static void
live_link(const struct rtnl_link *l, void *arg)
{
	struct iface	*i = live_find(l->index);

	(void)arg;
	if (l->gone) {
		if (i == NULL)
			return;
		live_close(i);
		if (i->announced)
			live_record(i, "gone");
		TAILQ_REMOVE(&ifaces, i, entry);
		free(i);
		return;
	}
	if (i == NULL) {
		if (l->name[0] == '\0')
			return;
		i = xcalloc(1, sizeof(*i));
		i->index = l->index;
		i->fd = -1;
		TAILQ_INSERT_TAIL(&ifaces, i, entry);
	}
	if (l->name[0] != '\0')
		snprintf(i->name, sizeof(i->name), "%s", l->name);
	i->flags = l->flags;
	i->type = l->type;
}

static void
live_addr(const struct rtnl_addr *a, void *arg)
{
	struct iface	*i = live_find(a->index);
	char		 s[INET6_ADDRSTRLEN], item[sizeof(i->addrs[0])];
	int		 k;

	(void)arg;
	if (i == NULL || inet_ntop(a->family, a->addr, s, sizeof(s)) == NULL)
		return;
	snprintf(item, sizeof(item), "%s/%d", s, a->prefix);
	for (k = 0; k < i->naddrs; k++)
		if (strcmp(i->addrs[k], item) == 0)
			break;
	if (a->gone && k < i->naddrs) {
		memmove(i->addrs[k], i->addrs[k + 1],
		    (size_t)(i->naddrs - k - 1) * sizeof(i->addrs[0]));
		i->naddrs--;
	} else if (!a->gone && k == i->naddrs && i->naddrs < LIVE_ADDRS)
		memcpy(i->addrs[i->naddrs++], item, sizeof(item));
}

static const struct rtnl_cb live_cb = { live_link, live_addr, NULL };

static void
live_nl_cb(evutil_socket_t fd, short ev, void *arg)
{
	ssize_t	n;
	int	changed = 0;

	(void)ev;
	(void)arg;
	while ((n = recv(fd, nl_buf, NL_BUF, MSG_DONTWAIT)) > 0) {
		if (rtnl_parse(nl_buf, (size_t)n, &live_cb) == -1)
			log_warnx("rtnetlink: a malformed message; skipped");
		changed = 1;
	}
	if (n == -1 && errno == ENOBUFS) {
		/* Missed changes: ask again for the whole picture. */
		log_warnx("rtnetlink: missed interface changes");
	}
	if (changed)
		live_update();
}

/* Asks for every link or address, and reads the answer to its end. */
static int
live_dump(int type)
{
	struct {
		struct nlmsghdr	h;
		struct rtgenmsg	g;
	}		req;
	ssize_t		n;
	int		rv = 0;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = (unsigned short)type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = (unsigned int)type;
	req.g.rtgen_family = AF_UNSPEC;
	if (send(nl_fd, &req, sizeof(req), 0) == -1)
		return -1;
	while (rv == 0 && (n = recv(nl_fd, nl_buf, NL_BUF, 0)) > 0)
		rv = rtnl_parse(nl_buf, (size_t)n, &live_cb);
	return rv == 1 ? 0 : -1;
}

int
live_init(struct event_base *b, const struct agent_conf *c)
{
	struct sockaddr_nl	sa;

	base = b;
	conf = c;
	rx = xcalloc(1, sizeof(*rx));
	nl_buf = xmalloc(NL_BUF);
	if ((nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1) {
		log_warn("rtnetlink");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (bind(nl_fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    live_dump(RTM_GETLINK) == -1 || live_dump(RTM_GETADDR) == -1) {
		log_warn("rtnetlink: listing interfaces");
		return -1;
	}
	nl_ev = event_new(base, nl_fd, EV_READ | EV_PERSIST, live_nl_cb, NULL);
	event_add(nl_ev, NULL);
	live_update();
	return 0;
}

void
live_drain(void)
{
	struct iface	*i;

	TAILQ_FOREACH(i, &ifaces, entry)
		if (i->fd != -1)
			live_read(i);
}

void
live_stats(uint64_t *s, uint64_t *d)
{
	struct iface	*i;

	TAILQ_FOREACH(i, &ifaces, entry)
		live_count(i);
	*s = seen;
	*d = dropped;
}

void
live_health(void)
{
	uint64_t	s, d;

	live_stats(&s, &d);
	/* Packets lost since the last look: the monitor is not whole. */
	if (d > dropped_reported)
		health_degraded("net-drops", "the kernel is dropping packets");
	else
		health_recovered("net-drops");
	dropped_reported = d;
}

void
live_shutdown(void)
{
	struct iface	*i;

	while ((i = TAILQ_FIRST(&ifaces)) != NULL) {
		live_close(i);
		TAILQ_REMOVE(&ifaces, i, entry);
		free(i);
	}
	if (nl_ev != NULL)
		event_free(nl_ev);
	if (nl_fd != -1)
		close(nl_fd);
	nl_ev = NULL;
	nl_fd = -1;
	free(rx);
	free(nl_buf);
	rx = NULL;
	nl_buf = NULL;
}
