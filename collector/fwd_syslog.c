/* SPDX-License-Identifier: ISC */
/*
 * The syslog output: RFC 5424 messages (rfc5424.c) with octet counting
 * (RFC 6587) over TCP, or over TLS (RFC 5425) verified against the
 * configured CA and name:
 *
 *   forward NAME syslog tcp://HOST:PORT|tls://HOST:PORT [ca FILE]
 *       [name SERVER-NAME] [cert FILE key FILE] [pen NUMBER]
 *
 * Syslog has no acknowledgements, so a record counts as delivered once
 * the downstream's TCP stack has acknowledged all its bytes (the socket's
 * send queue, SIOCOUTQ, no longer holds them).  A record the relay then
 * loses in a crash is lost; anything before is sent again.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>

#include <openssl/err.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "forward.h"
#include "log.h"
#include "num.h"
#include "rfc5424.h"
#include "tls.h"
#include "xmalloc.h"

#define OUT_HIGH	(1024 * 1024)	/* bytes buffered before send says no */
#define CHECK_MS	20		/* how often delivery is looked at */
#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	5000
#define CONNECT_SEC	10

struct sl_conf {
	int		 tls;
	char		 host[ADDR_HOST_MAX];
	char		 port[ADDR_PORT_MAX];
	const char	*name;			/* the server's certificate name */
	struct tls_files files;
	unsigned long	 pen;
};

struct sl_sent {
	uint64_t	qseq;
	uint64_t	end;			/* bytes written when it ends */
};

struct sl {
	struct fwd_output	*out;
	struct event_base	*base;
	struct evdns_base	*dns;
	struct sl_conf		 c;
	SSL_CTX			*ctx;
	struct bufferevent	*bev;
	int			 connected;
	int			 backoff_ms;
	struct event		*retry;
	struct event		*check;
	struct sl_sent		*fifo;		/* sent, not yet delivered */
	size_t			 head, len, cap;
	uint64_t		 added;		/* bytes written to bev */
	struct buf		 msg;
	char			 why[256];	/* the last failure */
};

/* Reads the words after "syslog" into c. */
static int
sl_parse(int argc, char **argv, struct sl_conf *c, const char **err)
{
	const char	*url;
	long long	 v;
	int		 i;

	memset(c, 0, sizeof(*c));
	c->pen = RFC5424_PEN_DEFAULT;
	if (argc < 1) {
		*err = "syslog: expected tcp://HOST:PORT or tls://HOST:PORT";
		return -1;
	}
	url = argv[0];
	if (strncmp(url, "tcp://", 6) == 0)
		url += 6;
	else if (strncmp(url, "tls://", 6) == 0) {
		url += 6;
		c->tls = 1;
	} else {
		*err = "syslog: the URL starts tcp:// or tls://";
		return -1;
	}
	if (addr_split(url, c->host, sizeof(c->host), c->port, err) == -1)
		return -1;
	if (c->host[0] == '\0') {
		*err = "syslog: the URL has no host";
		return -1;
	}
	for (i = 1; i < argc; i += 2) {
		if (i + 1 >= argc) {
			*err = "syslog: an option without its value";
			return -1;
		}
		if (strcmp(argv[i], "ca") == 0)
			c->files.ca = argv[i + 1];
		else if (strcmp(argv[i], "name") == 0)
			c->name = argv[i + 1];
		else if (strcmp(argv[i], "cert") == 0)
			c->files.cert = argv[i + 1];
		else if (strcmp(argv[i], "key") == 0)
			c->files.key = argv[i + 1];
		else if (strcmp(argv[i], "pen") == 0) {
			if (num_parse(argv[i + 1], 1, 4294967295LL, &v,
			    err) == -1) {
				*err = "syslog: pen: a private enterprise "
				    "number";
				return -1;
			}
			c->pen = (unsigned long)v;
		} else {
			*err = "syslog: unknown option (ca, name, cert, key, "
			    "pen, format, queue)";
			return -1;
		}
	}
	if (!c->tls && (c->files.ca != NULL || c->name != NULL ||
	    c->files.cert != NULL || c->files.key != NULL)) {
		*err = "syslog: ca, name, cert and key go with tls:// only";
		return -1;
	}
	if (c->tls && c->files.ca == NULL) {
		*err = "syslog: tls:// needs ca FILE to verify the server";
		return -1;
	}
	if ((c->files.cert == NULL) != (c->files.key == NULL)) {
		*err = "syslog: cert and key go together";
		return -1;
	}
	if (c->name == NULL)
		c->name = c->host;
	return 0;
}

static int
sl_check(int argc, char **argv, const char **err)
{
	struct sl_conf	c;

	return sl_parse(argc, argv, &c, err);
}

/* Reports every record whose bytes the downstream's TCP has. */
static void
sl_delivered(struct sl *s)
{
	struct timeval	 tv = { 0, CHECK_MS * 1000 };
	uint64_t	 written, done;
	int		 outq = 0;

	if (s->bev == NULL || s->len == 0)
		return;
	written = s->added - evbuffer_get_length(bufferevent_get_output(s->bev));
	if (ioctl(bufferevent_getfd(s->bev), SIOCOUTQ, &outq) == -1)
		outq = 1;
	/* TLS adds bytes of its own: only an empty queue is certain. */
	if (!s->c.tls)
		done = written - (uint64_t)outq;
	else
		done = outq == 0 ? written : 0;
	while (s->len > 0 && s->fifo[s->head].end <= done) {
		fwd_delivered(s->out, s->fifo[s->head].qseq);
		s->head = (s->head + 1) % s->cap;
		s->len--;
	}
	if (s->len > 0 && !evtimer_pending(s->check, NULL))
		evtimer_add(s->check, &tv);
}

static void
sl_check_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	sl_delivered(arg);
}

static void	sl_connect(struct sl *);

static void
sl_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	sl_connect(arg);
}

/* Why the connection failed: DNS, TLS or the socket. */
static void
sl_error(struct sl *s, short what)
{
	unsigned long	 e;
	SSL		*ssl;

	if (bufferevent_socket_get_dns_error(s->bev))
		snprintf(s->why, sizeof(s->why), "%s", evutil_gai_strerror(
		    bufferevent_socket_get_dns_error(s->bev)));
	else if (s->c.tls && (ssl = bufferevent_openssl_get_ssl(s->bev)) !=
	    NULL && (((e = bufferevent_get_openssl_error(s->bev)) != 0 &&
	    ERR_GET_LIB(e) != 0) || SSL_get_verify_result(ssl) != X509_V_OK)) {
		snprintf(s->why, sizeof(s->why), "TLS: %s",
		    tls_handshake_error(ssl, e));
		while (bufferevent_get_openssl_error(s->bev) != 0)
			;
	} else if (what & BEV_EVENT_EOF)
		snprintf(s->why, sizeof(s->why), "closed by the server");
	else if (what & BEV_EVENT_TIMEOUT)
		snprintf(s->why, sizeof(s->why), "timed out");
	else
		snprintf(s->why, sizeof(s->why), "%s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* Drops the connection; the queue sends what is not delivered again. */
static void
sl_down(struct sl *s)
{
	struct timeval	tv;
	char		what[ADDR_HOST_MAX + 300];

	if (s->bev != NULL) {
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	s->connected = 0;
	s->len = s->head = 0;
	evtimer_del(s->check);
	snprintf(what, sizeof(what), "syslog %s:%s: %s", s->c.host, s->c.port,
	    s->why);
	fwd_failed(s->out, what);
	tv.tv_sec = s->backoff_ms / 1000;
	tv.tv_usec = (s->backoff_ms % 1000) * 1000;
	evtimer_add(s->retry, &tv);
	s->backoff_ms *= 2;
	if (s->backoff_ms > BACKOFF_MAX_MS)
		s->backoff_ms = BACKOFF_MAX_MS;
}

static void
sl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sl	*s = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		s->connected = 1;
		s->backoff_ms = BACKOFF_MIN_MS;
		/* No more timeouts: a quiet output is normal. */
		bufferevent_set_timeouts(s->bev, NULL, NULL);
		log_info("forward %s: connected to %s:%s%s", fwd_name(s->out),
		    s->c.host, s->c.port, s->c.tls ? " (TLS)" : "");
		fwd_ready(s->out);
		return;
	}
	sl_error(s, what);
	sl_down(s);
}

/* A syslog server says nothing; whatever comes is dropped. */
static void
sl_read_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_drain(bufferevent_get_input(bev),
	    evbuffer_get_length(bufferevent_get_input(bev)));
}

static void
sl_write_cb(struct bufferevent *bev, void *arg)
{
	struct sl	*s = arg;

	(void)bev;
	sl_delivered(s);
	if (s->connected)
		fwd_ready(s->out);
}

static void
sl_connect(struct sl *s)
{
	struct timeval	 tv = { CONNECT_SEC, 0 };
	SSL		*ssl;

	if (s->c.tls) {
		if ((ssl = SSL_new(s->ctx)) == NULL ||
		    tls_expect_host(ssl, s->c.name) == -1)
			fatalx("SSL_new: %s", tls_error());
		s->bev = bufferevent_openssl_socket_new(s->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (s->bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	} else
		s->bev = bufferevent_socket_new(s->base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL)
		fatalx("bufferevent_socket_new");
	bufferevent_setcb(s->bev, sl_read_cb, sl_write_cb, sl_event_cb, s);
	bufferevent_setwatermark(s->bev, EV_WRITE, OUT_HIGH / 2, 0);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect_hostname(s->bev, s->dns, AF_UNSPEC,
	    s->c.host, atoi(s->c.port)) == -1) {
		snprintf(s->why, sizeof(s->why), "cannot connect");
		sl_down(s);
	}
}

static void *
sl_open(struct fwd_output *out, struct event_base *base, int argc,
    char **argv)
{
	struct sl	*s;
	const char	*err;
	char		 e[TLS_ERR_MAX];

	s = xcalloc(1, sizeof(*s));
	if (sl_parse(argc, argv, &s->c, &err) == -1) {
		log_warnx("forward %s: %s", fwd_name(out), err);
		free(s);
		return NULL;
	}
	if (s->c.tls && (s->ctx = tls_client_ctx(&s->c.files, e,
	    sizeof(e))) == NULL) {
		log_warnx("forward %s: %s", fwd_name(out), e);
		free(s);
		return NULL;
	}
	s->out = out;
	s->base = base;
	s->backoff_ms = BACKOFF_MIN_MS;
	buf_init(&s->msg);
	s->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (s->dns == NULL)
		s->dns = evdns_base_new(base, 0);
	s->retry = evtimer_new(base, sl_retry_cb, s);
	s->check = evtimer_new(base, sl_check_cb, s);
	snprintf(s->why, sizeof(s->why), "connecting");
	sl_connect(s);
	return s;
}

static int
sl_send(void *arg, const struct fwd_record *fr)
{
	struct sl	*s = arg;
	char		 stream[17];

	if (!s->connected || evbuffer_get_length(bufferevent_get_output(
	    s->bev)) >= OUT_HIGH)
		return -1;
	snprintf(stream, sizeof(stream), "%016" PRIx64, fr->stream);
	buf_reset(&s->msg);
	rfc5424_frame(&s->msg, fr->rec, fr->host, stream, fr->seq, s->c.pen,
	    fr->payload, fr->payload_len);
	if (bufferevent_write(s->bev, s->msg.data, s->msg.len) == -1)
		return -1;
	s->added += s->msg.len;
	if (s->len == s->cap) {
		/* Grow the ring, keeping its order. */
		struct sl_sent	*n = xcalloc(s->cap ? s->cap * 2 : 256,
				    sizeof(*n));
		size_t		 i;

		for (i = 0; i < s->len; i++)
			n[i] = s->fifo[(s->head + i) % s->cap];
		free(s->fifo);
		s->fifo = n;
		s->head = 0;
		s->cap = s->cap ? s->cap * 2 : 256;
	}
	s->fifo[(s->head + s->len) % s->cap].qseq = fr->qseq;
	s->fifo[(s->head + s->len) % s->cap].end = s->added;
	s->len++;
	if (!evtimer_pending(s->check, NULL))
		sl_delivered(s);
	return 0;
}

static void
sl_close(void *arg)
{
	struct sl	*s = arg;

	if (s->bev != NULL)
		bufferevent_free(s->bev);
	event_free(s->retry);
	event_free(s->check);
	evdns_base_free(s->dns, 0);
	if (s->ctx != NULL)
		SSL_CTX_free(s->ctx);
	buf_free(&s->msg);
	free(s->fifo);
	free(s);
}

static void
sl_status(void *arg, struct buf *b)
{
	struct sl	*s = arg;

	if (s->connected)
		buf_printf(b, "connected to %s:%s%s", s->c.host, s->c.port,
		    s->c.tls ? " (TLS)" : "");
	else
		buf_printf(b, "%s:%s: %s", s->c.host, s->c.port, s->why);
}

const struct fwd_driver fwd_syslog_driver = {
	.type = "syslog",
	.check = sl_check,
	.open = sl_open,
	.send = sl_send,
	.close = sl_close,
	.status = sl_status,
};
