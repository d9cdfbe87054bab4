/*
 * Wake-on-LAN through the lab's own agents.  The collector knows each PC's
 * MACs and addresses (hostnet.c); to wake one it picks up to three online,
 * authenticated agents on the sleeping PC's segment, sends each a wake
 * COMMAND, and writes to the lab log (<log-dir>/lab.log) who asked and
 * through which agents (host.wake), each relay's answer (lab.command),
 * then host.woke with the time it took when the PC's agent connects, or
 * host.wake_failed after --wake-timeout.  With no agent on the segment, a
 * directed broadcast from the collector itself can be asked for instead.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <event2/event.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "collector.h"
#include "hostnet.h"
#include "lab.h"
#include "log.h"
#include "wake.h"
#include "wire.h"
#include "xmalloc.h"

#define WAKE_RELAYS	3
#define WAKE_IFS	16
#define TARGET_EVERY	30	/* seconds between wakes of one PC */
#define GLOBAL_PER_MIN	120	/* wakes a minute, all PCs together */

struct wake {
	TAILQ_ENTRY(wake)	 entry;
	char			 target[HOSTNAME_MAX + 1];
	char			 by[64];
	int64_t			 started;	/* µs */
	struct event		*timer;
};

static TAILQ_HEAD(, wake)	 wakes = TAILQ_HEAD_INITIALIZER(wakes);
static struct event_base	*base;
static int			 timeout_s;
static uint32_t			 next_id = 1;
static time_t			 window;
static int			 in_window;

static struct wake *
wake_find(const char *target)
{
	struct wake	*w;

	TAILQ_FOREACH(w, &wakes, entry)
		if (strcmp(w->target, target) == 0)
			return w;
	return NULL;
}

static void
wake_free(struct wake *w)
{
	TAILQ_REMOVE(&wakes, w, entry);
	event_free(w->timer);
	free(w);
}

static void
wake_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct wake	*w = arg;
	struct record	 r;

	(void)fd;
	(void)ev;
	record_init(&r);
	record_begin(&r, "host.wake_failed");
	record_add_str(&r, "target", w->target);
	record_add_str(&r, "by", w->by);
	record_add_duration(&r, "waited", r.ts_us - w->started);
	lab_emit(&r);
	record_free(&r);
	log_warnx("wake %s: no agent connected within %d s", w->target,
	    timeout_s);
	wake_free(w);
}

void
wake_init(struct event_base *b, int timeout)
{
	base = b;
	timeout_s = timeout;
}

/* Sends the magic packet to the segment's directed broadcast address. */
static int
wake_direct(const struct hostnet_if *i, char *msg, size_t len)
{
	struct sockaddr_in	sin;
	uint8_t			magic[ADDR_WOL_LEN];
	uint32_t		mask = addr_mask4(i->prefix);
	int			fd, one = 1, k, sent = 0;
	static const int	ports[] = { 9, 7 };

	addr_wol_magic(i->mac, magic);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl((i->addr & mask) | ~mask);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) == -1) {
		snprintf(msg, len, "cannot send a broadcast: %s",
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	for (k = 0; k < 2; k++) {
		sin.sin_port = htons(ports[k]);
		sent += sendto(fd, magic, sizeof(magic), 0,
		    (struct sockaddr *)&sin, sizeof(sin)) ==
		    (ssize_t)sizeof(magic);
	}
	close(fd);
	if (sent == 0) {
		snprintf(msg, len, "the directed broadcast failed: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The rate limits: one PC every TARGET_EVERY, all PCs GLOBAL_PER_MIN. */
static const char *
wake_limited(const char *target)
{
	struct wake	*w = wake_find(target);
	time_t		 now = time(NULL);

	if (w != NULL && record_now() - w->started < TARGET_EVERY * 1000000LL)
		return "asked to wake already in the last 30 s";
	if (now - window >= 60) {
		window = now;
		in_window = 0;
	}
	if (in_window >= GLOBAL_PER_MIN)
		return "too many wakes this minute";
	in_window++;
	return NULL;
}

int
wake_request(const char *target, const char *by, int direct, char *msg,
    size_t len)
{
	struct hostnet_if	 ifs[WAKE_IFS];
	struct relay_pick	 pick;
	struct record		 r;
	struct wake		*w;
	struct timeval		 tv;
	const char		*why;
	char			 mac[18], seg[32], a[INET_ADDRSTRLEN];
	const char		*args[2] = { mac, seg };
	struct in_addr		 in;
	uint32_t		 mask;
	int			 n, k, j, sent = 0;

	if (session_online(target)) {
		snprintf(msg, len, "%s is online", target);
		return -1;
	}
	if ((n = hostnet_of(target, ifs, WAKE_IFS)) == 0) {
		snprintf(msg, len, "%s: no MAC known (its agent.start was never "
		    "seen)", target);
		return -1;
	}
	if ((why = wake_limited(target)) != NULL) {
		snprintf(msg, len, "%s: %s", target, why);
		return -1;
	}
	record_init(&r);
	record_begin(&r, "host.wake");
	record_add_str(&r, "target", target);
	record_add_str(&r, "by", by);
	record_add_list(&r, "relays");
	for (k = 0; k < n; k++) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
		    ifs[k].mac[0], ifs[k].mac[1], ifs[k].mac[2], ifs[k].mac[3],
		    ifs[k].mac[4], ifs[k].mac[5]);
		mask = addr_mask4(ifs[k].prefix);
		in.s_addr = htonl(ifs[k].addr & mask);
		inet_ntop(AF_INET, &in, a, sizeof(a));
		snprintf(seg, sizeof(seg), "%s/%d", a, ifs[k].prefix);
		if (direct) {
			if (wake_direct(&ifs[k], msg, len) == 0) {
				record_list_add(&r, "collector", 9);
				sent++;
			}
			continue;
		}
		memset(&pick, 0, sizeof(pick));
		pick.target = target;
		pick.addr = ifs[k].addr;
		pick.prefix = ifs[k].prefix;
		session_pick_relays(&pick, WAKE_RELAYS - sent);
		for (j = 0; j < pick.n; j++) {
			if (session_command(pick.hosts[j], next_id, "wake", 2,
			    args) == -1)
				continue;
			record_list_add(&r, pick.hosts[j],
			    strlen(pick.hosts[j]));
			next_id++;
			sent++;
		}
		if (sent >= WAKE_RELAYS)
			break;
	}
	record_add_str(&r, "mac", mac);
	record_add_str(&r, "segment", seg);
	if (sent == 0) {
		record_free(&r);
		if (!direct)
			snprintf(msg, len, "%s: no online agent on its segment "
			    "(%s); labwatchctl wake --direct sends a directed "
			    "broadcast from the collector instead", target, seg);
		in_window--;
		return -1;
	}
	lab_emit(&r);
	record_free(&r);
	if ((w = wake_find(target)) != NULL)
		wake_free(w);
	w = xcalloc(1, sizeof(*w));
	snprintf(w->target, sizeof(w->target), "%s", target);
	snprintf(w->by, sizeof(w->by), "%s", by);
	w->started = record_now();
	w->timer = evtimer_new(base, wake_timeout_cb, w);
	tv.tv_sec = timeout_s;
	tv.tv_usec = 0;
	evtimer_add(w->timer, &tv);
	TAILQ_INSERT_TAIL(&wakes, w, entry);
	snprintf(msg, len, "%s: magic packet sent through %d %s", target,
	    sent, direct ? "directed broadcast(s)" : "agent(s)");
	log_info("wake %s (asked by %s): %s", target, by, msg);
	return 0;
}

void
wake_connected(const char *host)
{
	struct wake	*w = wake_find(host);
	struct record	 r;

	if (w == NULL)
		return;
	record_init(&r);
	record_begin(&r, "host.woke");
	record_add_str(&r, "target", host);
	record_add_str(&r, "by", w->by);
	record_add_duration(&r, "took", r.ts_us - w->started);
	lab_emit(&r);
	record_free(&r);
	wake_free(w);
}

void
wake_result(const char *relay, const struct wire_result *res)
{
	static const char *names[] = { "ok", "refused", "failed", "unknown" };
	struct record	r;

	record_init(&r);
	record_begin(&r, "lab.command");
	record_add_str(&r, "relay", relay);
	record_add_int(&r, "id", res->id);
	record_add_str(&r, "status", res->status < 4 ? names[res->status] :
	    "?");
	record_add_strn(&r, "detail", res->detail, res->detail_len);
	lab_emit(&r);
	record_free(&r);
}

void
wake_shutdown(void)
{
	struct wake	*w;

	while ((w = TAILQ_FIRST(&wakes)) != NULL)
		wake_free(w);
}
