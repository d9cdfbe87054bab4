/* SPDX-License-Identifier: ISC */
/*
 * The control socket: labwatchctl sends one line (hosts, show HOST, reload,
 * revoke HOST, wake, devices, mark, index, reindex, paths) and gets one JSON object back, then the connection
 * closes.  Each request is logged with the uid that asked.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "control.h"
#include "forward.h"
#include "escape.h"
#include "collector.h"
#include "hostnet.h"
#include "hoststat.h"
#include "hostpat.h"
#include "index.h"
#include "lab.h"
#include "log.h"
#include "record.h"
#include "wake.h"

#define CONTROL_TIMEOUT	10	/* seconds for a request and its answer */

static struct evconnlistener	*listener;
static const struct control_conf *cconf;

static void
control_json_str(struct buf *b, const char *key, const char *s)
{
	buf_printf(b, "\"%s\":", key);
	escape_json(b, (const uint8_t *)s, strlen(s));
}

static void
control_error(struct buf *b, const char *msg)
{
	buf_add_str(b, "{\"ok\":false,");
	control_json_str(b, "error", msg);
	buf_add_str(b, "}\n");
}

/* show HOST: the host's state and recent records, oldest first. */
static void
control_show(struct buf *b, const char *host)
{
	const struct hoststat	*h;
	int			 i, k;

	if ((h = hoststat_get(host)) == NULL) {
		control_error(b, "no such host");
		return;
	}
	buf_add_str(b, "{\"ok\":true,");
	control_json_str(b, "host", h->host);
	buf_add_str(b, ",");
	control_json_str(b, "state", hoststat_state(h));
	buf_add_str(b, ",\"records\":[");
	for (i = 0; i < h->nrecent; i++) {
		k = (h->recent_next - h->nrecent + i + HOSTSTAT_RECENT) %
		    HOSTSTAT_RECENT;
		if (i > 0)
			buf_add_str(b, ",");
		escape_json(b, (const uint8_t *)h->recent[k],
		    strlen(h->recent[k]));
	}
	buf_add_str(b, "]}\n");
}

struct wake_ctx {
	struct buf	*b;
	const char	*by;
	const char	*pattern;	/* NULL: every host asleep */
	int		 direct;
	int		 n, failed;
};

/* One host of a wake request: its line in the answer. */
static void
control_wake_one(const char *host, void *arg)
{
	struct wake_ctx	*w = arg;
	char		 msg[512];
	int		 rc;

	if (w->pattern != NULL && !hostpat_match(w->pattern, host,
	    strlen(host)))
		return;
	if (w->pattern == NULL && session_online(host))
		return;
	rc = wake_request(host, w->by, w->direct, msg, sizeof(msg));
	buf_add_str(w->b, w->n++ ? "," : "");
	buf_add_str(w->b, "{");
	control_json_str(w->b, "host", host);
	buf_printf(w->b, ",\"ok\":%s,", rc == 0 ? "true" : "false");
	control_json_str(w->b, "message", msg);
	buf_add_str(w->b, "}");
	w->failed += rc != 0;
}

/*
 * wake [--direct] (--all | HOST-OR-PATTERN ...): each named PC, each PC
 * matching a pattern, or every PC asleep that the collector knows.
 */
static void
control_wake(struct buf *b, const char *by)
{
	struct wake_ctx	 w;
	char		*arg;
	int		 all = 0, named = 0;

	memset(&w, 0, sizeof(w));
	w.b = b;
	w.by = by;
	buf_add_str(b, "{\"ok\":true,\"results\":[");
	while ((arg = strtok(NULL, " ")) != NULL) {
		if (strcmp(arg, "--direct") == 0) {
			w.direct = 1;
			continue;
		}
		if (strcmp(arg, "--all") == 0) {
			all = 1;
			continue;
		}
		named++;
		w.pattern = arg;
		if (strpbrk(arg, "*?[") == NULL)
			control_wake_one(arg, &w);
		else
			hostnet_each_host(control_wake_one, &w);
	}
	if (all) {
		w.pattern = NULL;
		hostnet_each_host(control_wake_one, &w);
	}
	buf_printf(b, "],\"failed\":%d%s}\n", w.failed, !all && !named ?
	    ",\"error\":\"name a host, a pattern or --all\"" : "");
}

static void
control_output_cb(const struct fwd_stat *st, void *arg)
{
	struct buf	*b = arg;

	if (b->data[b->len - 1] == '}')
		buf_add_u8(b, ',');
	buf_add_u8(b, '{');
	control_json_str(b, "name", st->name);
	buf_add_u8(b, ',');
	control_json_str(b, "type", st->type);
	buf_add_u8(b, ',');
	control_json_str(b, "status", st->status);
	buf_printf(b, ",\"connected\":%s,\"queued\":%llu,\"queued_bytes\":"
	    "%llu,\"sent\":%llu,\"delivered\":%llu,\"dropped\":%llu,"
	    "\"rejected\":%llu}", st->connected ? "true" : "false",
	    (unsigned long long)st->queued,
	    (unsigned long long)st->queued_bytes,
	    (unsigned long long)st->sent, (unsigned long long)st->delivered,
	    (unsigned long long)st->dropped, (unsigned long long)st->rejected);
}

static int
control_word(const char *w, const char *const *words, int n)
{
	int	i;

	for (i = 0; w != NULL && i < n; i++)
		if (strcmp(w, words[i]) == 0)
			return i;
	return -1;
}

/* devices lan|usb all|new|known|ignored */
static void
control_devices(struct buf *b)
{
	static const char *const kinds[] = { "lan", "usb" };
	static const char *const marks[] = { "new", "known", "ignored",
	    "all" };
	int	kind = control_word(strtok(NULL, " "), kinds, 2);
	int	mark = control_word(strtok(NULL, " "), marks, 4);

	if (kind == -1 || mark == -1 || strtok(NULL, " ") != NULL) {
		control_error(b, "devices lan|usb all|new|known|ignored");
		return;
	}
	buf_add_str(b, "{\"ok\":true,\"devices\":");
	lab_devices_json(b, kind == 1 ? INDEX_USB : INDEX_LAN,
	    mark == 3 ? -1 : mark);
	buf_add_str(b, "}\n");
}

/* mark lan|usb known|ignored|new|forget ID [NOTE ...] */
static void
control_mark(struct buf *b, const char *by)
{
	static const char *const kinds[] = { "lan", "usb" };
	static const char *const marks[] = { "new", "known", "ignored",
	    "forget" };
	int		 kind = control_word(strtok(NULL, " "), kinds, 2);
	int		 mark = control_word(strtok(NULL, " "), marks, 4);
	const char	*id = strtok(NULL, " "), *note = strtok(NULL, "");
	char		 msg[256];

	if (kind == -1 || mark == -1 || id == NULL) {
		control_error(b, "mark lan|usb known|ignored|new|forget ID "
		    "[NOTE]");
		return;
	}
	if (lab_mark(kind == 1 ? INDEX_USB : INDEX_LAN, id,
	    (enum index_mark)mark, note, by, msg, sizeof(msg)) == -1) {
		control_error(b, msg);
		return;
	}
	buf_add_str(b, "{\"ok\":true,");
	control_json_str(b, "message", msg);
	buf_add_str(b, "}\n");
}

/* index: the index's figures; reindex: a rebuild from the logs. */
static void
control_index(struct buf *b, int rebuild)
{
	struct index_stats	st;
	char			msg[256];

	if (rebuild) {
		if (index_reindex(collector_log_dir(), msg, sizeof(msg)) == -1)
			control_error(b, msg);
		else {
			buf_add_str(b, "{\"ok\":true,");
			control_json_str(b, "message", msg);
			buf_add_str(b, "}\n");
		}
		return;
	}
	index_stats(&st);
	buf_printf(b, "{\"ok\":true,\"on\":%s,\"queued\":%llu,"
	    "\"indexed\":%llu,\"missed\":%llu,\"batches\":%llu,"
	    "\"depth\":%d,\"spilled\":%llu,\"reindexing\":%s,"
	    "\"reindexed\":%llu,",
	    st.on ? "true" : "false", (unsigned long long)st.queued,
	    (unsigned long long)st.indexed, (unsigned long long)st.missed,
	    (unsigned long long)st.batches, st.depth,
	    (unsigned long long)st.spilled,
	    st.reindexing ? "true" : "false",
	    (unsigned long long)st.reindexed);
	control_json_str(b, "reindex_message", st.reindex_msg);
	buf_add_str(b, "}\n");
}

/* Runs one command line from uid; the answer goes to b. */
static void
control_run(char *line, struct buf *b, long uid)
{
	const struct hoststat	*h;
	char			*cmd, *arg, by[32];

	cmd = strtok(line, " ");
	snprintf(by, sizeof(by), "uid %ld", uid);
	if (cmd != NULL && strcmp(cmd, "wake") == 0) {
		control_wake(b, by);
		return;
	}
	if (cmd != NULL && strcmp(cmd, "mark") == 0) {
		control_mark(b, by);
		return;
	}
	if (cmd != NULL && strcmp(cmd, "devices") == 0) {
		control_devices(b);
		return;
	}
	arg = strtok(NULL, " ");
	if (cmd == NULL) {
		control_error(b, "empty command");
	} else if (strcmp(cmd, "hosts") == 0 && arg == NULL) {
		buf_add_str(b, "{\"ok\":true,\"hosts\":");
		hoststat_json(b, hoststat_today(record_now()));
		buf_add_str(b, "}\n");
	} else if (strcmp(cmd, "show") == 0 && arg != NULL) {
		control_show(b, arg);
	} else if (strcmp(cmd, "reload") == 0 && arg == NULL) {
		cconf->reload();
		buf_add_str(b, "{\"ok\":true}\n");
	} else if (strcmp(cmd, "revoke") == 0 && arg != NULL) {
		/* labwatchctl revoked it in the CA: new CRL, cut the link. */
		cconf->reload();
		h = hoststat_get(arg);
		buf_printf(b, "{\"ok\":true,\"connected\":%s}\n",
		    h != NULL && h->connected ? "true" : "false");
	} else if (strcmp(cmd, "outputs") == 0 && arg == NULL) {
		buf_add_str(b, "{\"ok\":true,\"outputs\":[");
		forward_each(control_output_cb, b);
		buf_add_str(b, "]}\n");
	} else if (strcmp(cmd, "index") == 0 && arg == NULL) {
		control_index(b, 0);
	} else if (strcmp(cmd, "reindex") == 0 && arg == NULL) {
		control_index(b, 1);
	} else if (strcmp(cmd, "paths") == 0 && arg == NULL) {
		buf_add_str(b, "{\"ok\":true,");
		control_json_str(b, "enroll_ca", cconf->enroll_ca);
		buf_add_str(b, ",");
		control_json_str(b, "tls_crl", cconf->tls_crl);
		buf_add_str(b, "}\n");
	} else
		control_error(b, "unknown command; use hosts, show HOST, "
		    "reload, revoke HOST, wake HOST..., outputs, devices, mark, "
		    "index, reindex or paths");
}

static void
control_done_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void
control_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	struct buf	 out, esc;
	size_t		 n;
	char		*line;

	(void)arg;
	if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) == NULL) {
		if (evbuffer_get_length(in) > CONTROL_LINE_MAX)
			bufferevent_free(bev);
		return;
	}
	if (getsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_PEERCRED,
	    &cred, &len) == -1)
		cred.uid = (uid_t)-1;
	buf_init(&esc);
	log_info("control: uid %ld asks: %s", (long)(int)cred.uid,
	    escape_cstr(&esc, line, n));
	buf_free(&esc);
	buf_init(&out);
	if (n > CONTROL_LINE_MAX || memchr(line, '\0', n) != NULL)
		control_error(&out, "bad request");
	else
		control_run(line, &out, (long)(int)cred.uid);
	free(line);
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, control_done_cb, control_event_cb, NULL);
	bufferevent_write(bev, out.data, out.len);
	buf_free(&out);
}

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct timeval		 tv = { CONTROL_TIMEOUT, 0 };
	struct bufferevent	*bev;

	(void)sa;
	(void)salen;
	(void)arg;
	bev = bufferevent_socket_new(evconnlistener_get_base(l), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, control_read_cb, NULL, control_event_cb, NULL);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_setwatermark(bev, EV_READ, 0, CONTROL_LINE_MAX + 2);
	bufferevent_enable(bev, EV_READ);
}

/* Whether a collector answers on the socket path already. */
static int
control_in_use(const struct sockaddr_un *sun)
{
	int	fd, rv;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	rv = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return rv;
}

int
control_init(struct event_base *base, const struct control_conf *c)
{
	struct sockaddr_un	 sun;
	struct group		*gr;
	char			 dir[sizeof(sun.sun_path)];
	mode_t			 old;

	cconf = c;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(c->path) >= sizeof(sun.sun_path)) {
		log_warnx("control socket %s: path too long", c->path);
		return -1;
	}
	strcpy(sun.sun_path, c->path);
	strcpy(dir, c->path);
	if (mkdir(dirname(dir), 0755) == -1 && errno != EEXIST) {
		log_warn("control socket folder %s", dir);
		return -1;
	}
	if (control_in_use(&sun)) {
		log_warnx("control socket %s: another collector answers there",
		    c->path);
		return -1;
	}
	unlink(c->path);
	old = umask(0117);
	listener = evconnlistener_new_bind(base, control_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (listener == NULL) {
		log_warn("control socket %s", c->path);
		return -1;
	}
	if ((gr = getgrnam("labwatch")) != NULL &&
	    chown(c->path, (uid_t)-1, gr->gr_gid) == -1)
		log_warn("control socket %s: chown", c->path);
	if (chmod(c->path, 0660) == -1)
		log_warn("control socket %s: chmod", c->path);
	log_info("control socket %s", c->path);
	return 0;
}

void
control_shutdown(void)
{
	if (listener == NULL)
		return;
	evconnlistener_free(listener);
	listener = NULL;
	if (unlink(cconf->path) == -1 && errno != ENOENT)
		log_debug("control socket %s: %s", cconf->path,
		    strerror(errno));
}
