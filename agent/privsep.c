/*
 * Privilege separation: the privileged parent, and the worker's side of
 * its requests (priv.h says what each may do).
 */
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <net/ethernet.h>
#include <net/if.h>

#include <event2/event.h>
#include <libudev.h>
#include <pcap/pcap.h>

#include <errno.h>
#include <ifaddrs.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "agent.h"
#include "log.h"
#include "mountinfo.h"
#include "priv.h"
#include "privdrop.h"
#include "sandbox.h"
#include "xmalloc.h"

#define PRIV_TIMEOUT_MS	5000
#define CAPTURE_RCVBUF	(32 * 1024 * 1024)
#define MOUNTINFO_MAX	(4 * 1024 * 1024)
#define ETH_P_WOL	0x0842

enum priv_type {
	PRIV_CAPTURE = 1,
	PRIV_FANOTIFY = 2,
	PRIV_WAKE = 3,
};

struct priv_req {
	uint32_t	type;
	int32_t		mount_id;
	char		name[PATH_MAX];	/* interface or mount point */
	uint8_t		mac[6];		/* wake: the sleeping PC */
	uint8_t		pad[2];
};

struct priv_rep {
	int32_t		ok;		/* a descriptor comes with it */
	int32_t		dlt;
	char		why[PRIV_WHY_MAX];
};

static const struct agent_conf	*pconf;
static int			 priv_fd = -1;	/* the worker's end */
static pid_t			 worker_pid;
static struct event		*req_ev;	/* the parent's request socket */

int
priv_separated(void)
{
	return priv_fd != -1;
}

void
priv_signals_ready(void)
{
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

char *
priv_capture_filter(const struct agent_conf *conf)
{
	struct buf	 b;
	char		*s;
	int		 port, n = 0;

	buf_init(&b);
	buf_add_str(&b, "(ip or ip6 or arp or (vlan and (ip or ip6 or arp)))");
	for (port = 1; port < 65536; port++) {
		/* DNS answers carry names: they must reach us. */
		if (port == 53 || !(conf->ignore_port[port / 8] &
		    (1 << (port % 8))))
			continue;
		buf_printf(&b, "%s%d", n++ ? " or " : " and not (udp and "
		    "(port ", port);
		if (n >= 64)
			break;
	}
	if (n > 0)
		buf_add_str(&b, "))");
	buf_add_u8(&b, '\0');
	s = xstrdup((const char *)b.data);
	buf_free(&b);
	return s;
}

/* The pcap link type of an interface's packets on a SOCK_RAW socket. */
static int
priv_dlt(int fd, const char *name, char *why, size_t len)
{
	struct ifreq	ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1) {
		snprintf(why, len, "%s: %s", name, strerror(errno));
		return -1;
	}
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
		return DLT_EN10MB;
	case ARPHRD_NONE:	/* tun: VPNs */
	case ARPHRD_PPP:
	case ARPHRD_RAWIP:
		return DLT_RAW;
	case ARPHRD_LOOPBACK:
		snprintf(why, len, "%s: loopback is not captured", name);
		return -1;
	default:
		snprintf(why, len, "%s: link type %u not understood", name,
		    ifr.ifr_hwaddr.sa_family);
		return -1;
	}
}

/* A packet socket on name, bound, with the kernel filter attached. */
static int
priv_do_capture(const char *name, int *dlt, char *why, size_t len)
{
	struct sockaddr_ll	 sll;
	struct bpf_program	 prog;
	struct sock_fprog	 fprog;
	pcap_t			*dead;
	char			*filter;
	int			 fd, one = 1, size = CAPTURE_RCVBUF, i, listed;
	unsigned int		 index;

	if (pconf->interfaces != NULL) {
		for (i = 0, listed = 0; i < pconf->ninterfaces; i++)
			listed |= strcmp(pconf->interfaces[i], name) == 0;
		if (!listed) {
			snprintf(why, len, "%s: not one of --interface", name);
			return -1;
		}
	}
	if (strlen(name) >= IFNAMSIZ || (index = if_nametoindex(name)) == 0) {
		snprintf(why, len, "%s: no such interface", name);
		return -1;
	}
	if ((fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    htons(ETH_P_ALL))) == -1) {
		snprintf(why, len, "%s: capture needs root (CAP_NET_RAW): %s",
		    name, strerror(errno));
		return -1;
	}
	if ((*dlt = priv_dlt(fd, name, why, len)) == -1)
		goto fail;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)index;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		snprintf(why, len, "%s: bind: %s", name, strerror(errno));
		goto fail;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof(one));
	filter = priv_capture_filter(pconf);
	if ((dead = pcap_open_dead(*dlt, CAPTURE_SNAPLEN)) == NULL ||
	    pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == -1) {
		snprintf(why, len, "%s: cannot compile the filter", name);
		free(filter);
		if (dead != NULL)
			pcap_close(dead);
		goto fail;
	}
	pcap_close(dead);
	free(filter);
	fprog.len = (unsigned short)prog.bf_len;
	fprog.filter = (struct sock_filter *)(void *)prog.bf_insns;
	i = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog,
	    sizeof(fprog));
	pcap_freecode(&prog);
	if (i == -1) {
		snprintf(why, len, "%s: filter: %s", name, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * Whether mount_id is mounted at mountpoint (as this process sees it) from
 * a block device whose udev parents include a USB device.
 */
static int
priv_usb_mount(int mount_id, const char *mountpoint, char *why, size_t len)
{
	struct mountinfo	*mi;
	struct udev		*udev;
	struct udev_device	*d;
	char			*text, *p, *nl;
	ssize_t			 n;
	size_t			 got = 0;
	int			 fd, found = 0, usb = 0;

	if ((fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, len, "mountinfo: %s", strerror(errno));
		return 0;
	}
	text = xmalloc(MOUNTINFO_MAX + 1);
	while (got < MOUNTINFO_MAX &&
	    (n = read(fd, text + got, MOUNTINFO_MAX - got)) > 0)
		got += (size_t)n;
	close(fd);
	text[got] = '\0';
	mi = xmalloc(sizeof(*mi));
	for (p = text; !found && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		found = mountinfo_parse(p, (size_t)(nl - p), mi) == 0 &&
		    mi->id == mount_id &&
		    strcmp(mi->mountpoint, mountpoint) == 0;
		if (*nl == '\0')
			break;
	}
	free(text);
	if (!found) {
		snprintf(why, len, "mount %d at %s: no such mount", mount_id,
		    mountpoint);
		free(mi);
		return 0;
	}
	if ((udev = udev_new()) != NULL &&
	    (d = udev_device_new_from_devnum(udev, 'b',
	    makedev(mi->major, mi->minor))) != NULL) {
		usb = udev_device_get_parent_with_subsystem_devtype(d, "usb",
		    "usb_device") != NULL;
		udev_device_unref(d);
	}
	udev_unref(udev);
	if (!usb)
		snprintf(why, len, "mount %d at %s: not a USB block device "
		    "(%u:%u)", mount_id, mountpoint, mi->major, mi->minor);
	free(mi);
	return usb;
}

static int
priv_do_fanotify(int mount_id, const char *mountpoint, char *why,
    size_t len)
{
	int	fd;

	if (!priv_usb_mount(mount_id, mountpoint, why, len))
		return -1;
	fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK |
	    FAN_UNLIMITED_QUEUE, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (fd == -1) {
		snprintf(why, len, "fanotify needs root (CAP_SYS_ADMIN): %s",
		    strerror(errno));
		return -1;
	}
	if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
	    FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE, AT_FDCWD, mountpoint) == -1) {
		snprintf(why, len, "fanotify_mark %s: %s", mountpoint,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Wakes mac from interface name: the magic packet as UDP broadcasts to
 * ports 9 and 7 on each of the interface's IPv4 broadcast addresses, and
 * as an Ethernet frame of type 0x0842 to ff:ff:ff:ff:ff:ff.  0, or -1
 * with why; the parent chooses the addresses, the worker only the
 * interface and the MAC.
 */
static int
priv_do_wake(const char *name, const uint8_t mac[6], char *why, size_t len)
{
	struct ifaddrs		*ifa, *a;
	struct sockaddr_ll	 sll;
	struct sockaddr_in	 sin, mask;
	uint8_t			 magic[ADDR_WOL_LEN];
	unsigned int		 index;
	int			 fd, one = 1, sent = 0, i;
	static const int	 ports[] = { 9, 7 };

	if (strlen(name) >= IFNAMSIZ || (index = if_nametoindex(name)) == 0) {
		snprintf(why, len, "%s: no such interface", name);
		return -1;
	}
	if ((mac[0] & 1) != 0) {
		snprintf(why, len, "not a unicast MAC address");
		return -1;
	}
	addr_wol_magic(mac, magic);
	if (getifaddrs(&ifa) == -1) {
		snprintf(why, len, "getifaddrs: %s", strerror(errno));
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) == 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name,
	    (socklen_t)strlen(name)) == 0) {
		for (a = ifa; a != NULL; a = a->ifa_next) {
			if (a->ifa_addr == NULL || strcmp(a->ifa_name, name) ||
			    a->ifa_addr->sa_family != AF_INET ||
			    a->ifa_netmask == NULL ||
			    !(a->ifa_flags & IFF_BROADCAST))
				continue;
			/* From address and mask: "brd" may not be set. */
			memcpy(&sin, a->ifa_addr, sizeof(sin));
			memcpy(&mask, a->ifa_netmask, sizeof(mask));
			sin.sin_addr.s_addr |= ~mask.sin_addr.s_addr;
			for (i = 0; i < 2; i++) {
				sin.sin_port = htons(ports[i]);
				sent += sendto(fd, magic, sizeof(magic), 0,
				    (struct sockaddr *)&sin, sizeof(sin)) ==
				    (ssize_t)sizeof(magic);
			}
		}
	}
	if (fd != -1)
		close(fd);
	freeifaddrs(ifa);
	if ((fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC,
	    htons(ETH_P_WOL))) != -1) {
		memset(&sll, 0, sizeof(sll));
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = htons(ETH_P_WOL);
		sll.sll_ifindex = (int)index;
		sll.sll_halen = 6;
		memset(sll.sll_addr, 0xff, 6);
		sent += sendto(fd, magic, sizeof(magic), 0,
		    (struct sockaddr *)&sll, sizeof(sll)) ==
		    (ssize_t)sizeof(magic);
		close(fd);
	}
	if (sent == 0) {
		snprintf(why, len, "%s: nothing could be sent: %s", name,
		    strerror(errno));
		return -1;
	}
	snprintf(why, len, "%d magic packets sent on %s", sent, name);
	return 0;
}

/* The parent: one request, checked and done; the answer with its fd. */
static void
priv_serve(int sock)
{
	struct priv_req	 req;
	struct priv_rep	 rep;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	char		 cbuf[CMSG_SPACE(sizeof(int))];
	ssize_t		 n;
	int		 fd = -1;

	n = recv(sock, &req, sizeof(req), 0);
	if (n == 0 || (n == -1 && errno != EINTR && errno != EAGAIN)) {
		/* The worker is gone: so are we, once it is reaped. */
		event_del(req_ev);
		return;
	}
	if (n == -1)
		return;
	memset(&rep, 0, sizeof(rep));
	if (n != (ssize_t)sizeof(req) ||
	    memchr(req.name, '\0', sizeof(req.name)) == NULL)
		snprintf(rep.why, sizeof(rep.why), "malformed request");
	else if (req.type == PRIV_CAPTURE)
		fd = priv_do_capture(req.name, &rep.dlt, rep.why,
		    sizeof(rep.why));
	else if (req.type == PRIV_FANOTIFY)
		fd = priv_do_fanotify(req.mount_id, req.name, rep.why,
		    sizeof(rep.why));
	else if (req.type == PRIV_WAKE) {
		rep.dlt = priv_do_wake(req.name, req.mac, rep.why,
		    sizeof(rep.why));
		log_info("wake: %s", rep.why);
	}
	else
		snprintf(rep.why, sizeof(rep.why), "unknown request %u",
		    req.type);
	if (fd == -1 && req.type != PRIV_WAKE)
		log_warnx("refused the worker: %s", rep.why);
	rep.ok = fd != -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &rep;
	iov.iov_len = sizeof(rep);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1) {
		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) == -1)
		log_warn("answering the worker");
	if (fd != -1)
		close(fd);
}

static void
priv_req_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	priv_serve(fd);
}

/* Signals for the agent go to the worker; its end is the parent's. */
static void
priv_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct event_base	*base = arg;
	int			 status;

	(void)ev;
	if (sig != SIGCHLD) {
		kill(worker_pid, (int)sig);
		return;
	}
	if (waitpid(worker_pid, &status, WNOHANG) != worker_pid)
		return;
	if (WIFSIGNALED(status))
		log_warnx("the worker was killed by signal %d; stopping",
		    WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_warnx("the worker exited with status %d; stopping",
		    WEXITSTATUS(status));
	event_base_loopbreak(base);
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/* The privileged parent's loop: requests and signals, until the end. */
static void __attribute__((noreturn))
priv_parent(int sock)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct event_base	*base;
	struct event		*ev;
	size_t			 i;

	if ((base = event_base_new()) == NULL)
		fatalx("cannot make the event base");
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ev = evsignal_new(base, sigs[i], priv_signal_cb, base);
		evsignal_add(ev, NULL);
	}
	req_ev = event_new(base, sock, EV_READ | EV_PERSIST, priv_req_cb,
	    NULL);
	event_add(req_ev, NULL);
	priv_signals_ready();
	event_base_dispatch(base);
	log_warnx("the privileged parent's loop ended before the worker");
	exit(1);
}

int
priv_start(const struct agent_conf *conf, const char *user)
{
	struct privdrop_user	u;
	sigset_t		set;
	int			sv[2];

	pconf = conf;
	if (geteuid() != 0)
		return 0;
	if (privdrop_lookup(user, &u) == -1)
		return -1;
	if (u.uid == 0) {
		log_warnx("the worker's user %s is root; refusing", u.name);
		return -1;
	}
	if (conf->state_dir != NULL && (conf->collector != NULL ||
	    conf->state_dir_set) && privdrop_chown_dir(conf->state_dir,
	    &u) == -1)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("socketpair");
		return -1;
	}
	/*
	 * Held until each side has its handlers (priv_signals_ready()):
	 * SIGCHLD too, or a worker that dies at once goes unnoticed and
	 * the parent waits for ever beside a zombie.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	switch ((worker_pid = fork())) {
	case -1:
		log_warn("fork");
		return -1;
	case 0:
		break;
	default:
		close(sv[1]);
		priv_parent(sv[0]);
	}
	close(sv[0]);
	priv_fd = sv[1];
	privdrop(&u);
	/*
	 * The parent gone (killed: it does nothing that can fail), the
	 * worker goes too, at once, as if killed with it; the service
	 * manager restarts the agent.  After privdrop(), which clears it.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() == 1)
		fatalx("the privileged parent is gone");
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer's exit check traces this process (test builds). */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	if (sandbox_enter() == -1)
		fatalx("cannot install the seccomp filter");
	log_debug("worker sandboxed");
	return 0;
}

/* The worker: one request to the parent and its answer. */
static int
priv_call(struct priv_req *req, int *dlt, char *why, size_t len)
{
	struct priv_rep	 rep;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	struct pollfd	 pfd = { priv_fd, POLLIN, 0 };
	char		 cbuf[CMSG_SPACE(sizeof(int))];
	ssize_t		 n;
	int		 fd = -1;

	if (send(priv_fd, req, sizeof(*req), MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(*req) || poll(&pfd, 1, PRIV_TIMEOUT_MS) != 1) {
		snprintf(why, len, "the privileged parent does not answer");
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &rep;
	iov.iov_len = sizeof(rep);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	if ((n = recvmsg(priv_fd, &msg, MSG_CMSG_CLOEXEC)) !=
	    (ssize_t)sizeof(rep)) {
		snprintf(why, len, "the privileged parent's answer is "
		    "malformed");
		return -1;
	}
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	rep.why[sizeof(rep.why) - 1] = '\0';
	if (req->type == PRIV_WAKE) {
		snprintf(why, len, "%s", rep.why);
		return rep.dlt;
	}
	if (!rep.ok || fd == -1) {
		if (fd != -1)
			close(fd);
		snprintf(why, len, "%s", rep.why[0] ? rep.why : "refused");
		return -1;
	}
	if (dlt != NULL)
		*dlt = rep.dlt;
	return fd;
}

/* A request's fixed part. */
static void
priv_req_init(struct priv_req *req, uint32_t type, int mount_id,
    const char *name)
{
	memset(req, 0, sizeof(*req));
	req->type = type;
	req->mount_id = mount_id;
	snprintf(req->name, sizeof(req->name), "%s", name);
}

int
priv_capture(const char *name, int *dlt, char *why, size_t len)
{
	struct priv_req	req;

	if (strlen(name) >= IFNAMSIZ) {
		snprintf(why, len, "%s: no such interface", name);
		return -1;
	}
	if (!priv_separated())
		return priv_do_capture(name, dlt, why, len);
	priv_req_init(&req, PRIV_CAPTURE, 0, name);
	return priv_call(&req, dlt, why, len);
}

int
priv_wake(const char *ifname, const uint8_t mac[6], char *why, size_t len)
{
	struct priv_req	req;

	if (!priv_separated())
		return priv_do_wake(ifname, mac, why, len);
	priv_req_init(&req, PRIV_WAKE, 0, ifname);
	memcpy(req.mac, mac, 6);
	return priv_call(&req, NULL, why, len);
}

int
priv_fanotify(int mount_id, const char *mountpoint, char *why, size_t len)
{
	struct priv_req	req;

	if (strlen(mountpoint) >= PATH_MAX) {
		snprintf(why, len, "mount point too long");
		return -1;
	}
	if (!priv_separated())
		return priv_do_fanotify(mount_id, mountpoint, why, len);
	priv_req_init(&req, PRIV_FANOTIFY, mount_id, mountpoint);
	return priv_call(&req, NULL, why, len);
}
