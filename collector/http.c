/* SPDX-License-Identifier: ISC */
/*
 * The dashboard's HTTP side: listening (HTTPS off loopback), request
 * limits, the embedded page, logins, session cookies and CSRF tokens,
 * roles; api.c answers the API, live.c streams.  See http.h.
 *
 * Session cookies and CSRF tokens are cookie.c's, under a key kept in the
 * state folder (http.key); the account and its role are looked up on
 * every request, so a changed or removed account counts at once.  The
 * page gets the CSRF token from POST /api/login or GET /api/session and
 * sends it in X-CSRF-Token with every POST.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "cookie.h"
#include "escape.h"
#include "http.h"
#include "json.h"
#include "lab.h"
#include "live.h"
#include "log.h"
#include "reader.h"
#include "record.h"
#include "users.h"
#include "www.h"
#include "xmalloc.h"

#define HEADERS_MAX	8192		/* bytes of request headers */
#define LOGIN_FAILS	5		/* per address and window ... */
#define LOGIN_WINDOW	60		/* ... of seconds */
#define LOGIN_PENDING	4		/* password checks at once */
#define LIMIT_SLOTS	256		/* addresses remembered */

static struct {
	struct evhttp		*http;
	struct event_base	*base;
	SSL_CTX			*ssl;
	const struct tls_files	*tls;
	int			 pending;	/* logins being checked */
	int			 secure;	/* HTTPS */
} h;

/* Failed logins per address, for the rate limit. */
static struct limit {
	char	addr[64];
	time_t	start;
	int	fails;
} limits[LIMIT_SLOTS];

static struct limit *
limit_get(const char *addr, time_t now)
{
	struct limit	*oldest = &limits[0];
	size_t		 i;

	for (i = 0; i < LIMIT_SLOTS; i++) {
		if (strcmp(limits[i].addr, addr) == 0) {
			if (now - limits[i].start >= LOGIN_WINDOW) {
				limits[i].start = now;
				limits[i].fails = 0;
			}
			return &limits[i];
		}
		if (limits[i].start < oldest->start)
			oldest = &limits[i];
	}
	snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
	oldest->start = now;
	oldest->fails = 0;
	return oldest;
}

int
http_addr_loopback(const char *addr)
{
	char		 host[ADDR_HOST_MAX], port[ADDR_PORT_MAX];
	const char	*err;
	struct in6_addr	 a6;
	struct in_addr	 a4;

	if (addr_split(addr, host, sizeof(host), port, &err) == -1)
		return 0;
	if (host[0] == '\0' || strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&a6);
}

/* The cookie key: read from the state folder, made on first use. */
static int
http_key(const char *state_dir)
{
	uint8_t	key[COOKIE_KEY_LEN];
	char	path[4096];
	int	fd, r = -1;
	ssize_t	n;

	snprintf(path, sizeof(path), "%s/http.key", state_dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, key, sizeof(key));
		close(fd);
		if (n == (ssize_t)sizeof(key)) {
			r = 0;
			goto done;
		}
		log_warnx("%s: short, making a new key", path);
	}
	if (RAND_bytes(key, sizeof(key)) != 1) {
		log_warnx("dashboard: no random bytes for the cookie key");
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 || write(fd, key, sizeof(key)) !=
	    (ssize_t)sizeof(key))
		log_warn("%s", path);
	else
		r = 0;
	if (fd != -1)
		close(fd);
done:
	if (r == 0)
		cookie_set_key(key);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

/*
 * The account a request's cookie names, when the account still exists
 * and the cookie is good for it; the value into cookie.
 */
static int
http_session(struct evhttp_request *req, struct http_who *who,
    char *cookie, size_t size)
{
	const char	*hdr;
	char		 name[USER_NAME_MAX + 1];

	hdr = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Cookie");
	if (hdr == NULL || cookie_find(hdr, cookie, size) == -1 ||
	    cookie_name(cookie, name) == -1)
		return -1;
	users_refresh();
	if (users_find(name, &who->u) == -1)
		return -1;
	return cookie_check(cookie, &who->u, time(NULL));
}

static void
http_peer(struct evhttp_request *req, char *out, size_t size)
{
	char		*addr = NULL;
	ev_uint16_t	 port = 0;

	evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr,
	    &port);
	snprintf(out, size, "%s", addr != NULL ? addr : "?");
}

/* Headers every answer carries. */
static void
http_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq	*hdr = evhttp_request_get_output_headers(req);

	evhttp_add_header(hdr, "Content-Type", type);
	evhttp_add_header(hdr, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(hdr, "Referrer-Policy", "no-referrer");
	evhttp_add_header(hdr, "X-Frame-Options", "DENY");
	evhttp_add_header(hdr, "Content-Security-Policy",
	    "default-src 'self'; frame-ancestors 'none'; form-action 'self'");
	if (h.secure)
		evhttp_add_header(hdr, "Strict-Transport-Security",
		    "max-age=31536000");
}

static const char *
http_reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

void
http_reply(struct evhttp_request *req, int code, const char *type,
    const struct buf *b)
{
	struct evbuffer	*out = evbuffer_new();

	http_headers(req, type);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	evbuffer_add(out, b->data, b->len);
	evhttp_send_reply(req, code, http_reason(code), out);
	evbuffer_free(out);
}

void
http_reply_error(struct evhttp_request *req, int code, const char *msg)
{
	struct buf	b;

	buf_init(&b);
	buf_add_str(&b, "{\"error\":");
	escape_json(&b, (const uint8_t *)msg, strlen(msg));
	buf_add_str(&b, "}");
	http_reply(req, code, "application/json", &b);
	buf_free(&b);
}

static void
http_held_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_held	*held = arg;

	(void)evcon;
	held->gone = 1;
}

void
http_hold(struct http_held *held, struct evhttp_request *req)
{
	held->req = req;
	held->evcon = evhttp_request_get_connection(req);
	held->gone = 0;
	evhttp_connection_set_closecb(held->evcon, http_held_close_cb, held);
}

struct evhttp_request *
http_release(struct http_held *held)
{
	if (held->gone) {
		/*
		 * The client went: libevent left the unanswered request to
		 * us, without its connection.
		 */
		if (evhttp_request_get_connection(held->req) == NULL)
			evhttp_request_free(held->req);
		return NULL;
	}
	evhttp_connection_set_closecb(held->evcon, NULL, NULL);
	return held->req;
}

const char *
http_param(const struct evkeyvalq *q, const char *key)
{
	return evhttp_find_header(q, key);
}

void
http_log_change(const struct http_who *who, const char *action,
    const char *target)
{
	log_info("dashboard: %s (%s, from %s): %s %s", who->u.name,
	    users_role_name(who->u.role), who->peer, action, target);
}

/* Every lab record goes to the live feed too. */
static void
http_lab_cb(const struct record *r, void *arg)
{
	(void)arg;
	live_lab(r);
}

static void
http_log_login(const char *user, const char *peer, const char *result)
{
	struct record	r;

	if (strcmp(result, "ok") == 0)
		log_info("dashboard: login %s from %s", user, peer);
	else
		log_warnx("dashboard: login %s from %s: %s", user, peer,
		    result);
	record_init(&r);
	record_begin(&r, "dashboard.login");
	record_add_str(&r, "user", user);
	record_add_str(&r, "peer", peer);
	record_add_str(&r, "result", result);
	lab_emit(&r);
	record_free(&r);
}

/* The body of a POST as a JSON object: 0, or -1 answered. */
static int
http_body(struct evhttp_request *req, struct json_obj *o)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 len = evbuffer_get_length(in);
	const char	*err, *type;
	char		*body;
	int		 r;

	type = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	if (type == NULL || strncmp(type, "application/json", 16) != 0) {
		http_reply_error(req, 415, "send application/json");
		return -1;
	}
	if (len > JSON_MAX_IN) {
		http_reply_error(req, 413, "body too large");
		return -1;
	}
	body = (char *)evbuffer_pullup(in, (ev_ssize_t)len);
	if ((r = json_parse(o, body != NULL ? body : "", len, &err)) == -1)
		http_reply_error(req, 400, err);
	return r;
}

/* The answer to a login or GET /api/session. */
static void
http_session_reply(struct evhttp_request *req, const struct user *u,
    const char *cookie)
{
	char		csrf[CSRF_HEX + 1];
	struct buf	b;

	cookie_csrf(cookie, csrf);
	buf_init(&b);
	buf_add_str(&b, "{\"user\":");
	escape_json(&b, (const uint8_t *)u->name, strlen(u->name));
	buf_printf(&b, ",\"role\":\"%s\",\"csrf\":\"%s\"}",
	    users_role_name(u->role), csrf);
	http_reply(req, 200, "application/json", &b);
	buf_free(&b);
}

struct login {
	struct reader_job	 job;
	struct http_held	 held;
	struct user		 u;
	int			 known, ok;
	char			 password[JSON_MAX_IN + 1];
	char			 peer[64];
};

static void
login_run(struct reader_job *job, sqlite3 *db)
{
	struct login	*l = (struct login *)job;

	(void)db;
	l->ok = users_verify(l->known ? l->u.hash : NULL, l->password);
}

static void
login_done(struct reader_job *job, int cancelled)
{
	struct login		*l = (struct login *)job;
	struct evhttp_request	*req;
	char			 cookie[256], hdr[400];

	h.pending--;
	req = http_release(&l->held);
	if (cancelled)
		req = NULL;		/* evhttp_free frees it */
	if (!cancelled) {
		if (!l->ok)
			limit_get(l->peer, time(NULL))->fails++;
		http_log_login(l->u.name, l->peer, l->ok ? "ok" :
		    l->known ? "bad password" : "no such account");
	}
	if (req != NULL && !l->ok)
		http_reply_error(req, 401, "wrong name or password");
	else if (req != NULL) {
		cookie_make(&l->u, time(NULL), cookie, sizeof(cookie));
		snprintf(hdr, sizeof(hdr), COOKIE_NAME "=%s; Path=/; Max-Age="
		    "%d; HttpOnly; Secure; SameSite=Strict", cookie,
		    COOKIE_SECONDS);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Set-Cookie", hdr);
		http_session_reply(req, &l->u, cookie);
	}
	OPENSSL_cleanse(l->password, sizeof(l->password));
	free(l);
}

static void
http_login(struct evhttp_request *req)
{
	static struct json_obj	 o;
	struct login		*l;
	struct limit		*lim;
	const char		*user, *pw;
	char			 peer[64];

	http_peer(req, peer, sizeof(peer));
	lim = limit_get(peer, time(NULL));
	if (lim->fails >= LOGIN_FAILS) {
		/* Logged once a window: a flood writes one line. */
		if (lim->fails++ == LOGIN_FAILS)
			http_log_login("-", peer, "rate limited");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "60");
		http_reply_error(req, 429, "too many failed logins: wait a "
		    "minute");
		return;
	}
	if (http_body(req, &o) == -1)
		return;
	user = json_str(&o, "user");
	pw = json_str(&o, "password");
	if (user == NULL || pw == NULL) {
		http_reply_error(req, 400, "send {\"user\": ..., "
		    "\"password\": ...}");
		return;
	}
	if (!users_name_ok(user, strlen(user))) {
		lim->fails++;
		http_log_login("-", peer, "bad name");
		http_reply_error(req, 401, "wrong name or password");
		return;
	}
	if (h.pending >= LOGIN_PENDING) {
		http_reply_error(req, 503, "busy: try again");
		return;
	}
	l = xcalloc(1, sizeof(*l));
	users_refresh();
	l->known = users_find(user, &l->u) == 0;
	snprintf(l->u.name, sizeof(l->u.name), "%s", user);
	snprintf(l->password, sizeof(l->password), "%s", pw);
	snprintf(l->peer, sizeof(l->peer), "%s", peer);
	l->job.run = login_run;
	l->job.done = login_done;
	if (reader_submit(&l->job) == -1) {
		free(l);
		http_reply_error(req, 503, "busy: try again");
		return;
	}
	h.pending++;
	http_hold(&l->held, req);
}

static void
http_logout(struct evhttp_request *req, const struct http_who *who,
    const char *cookie)
{
	struct buf	b;

	cookie_revoke(cookie);
	log_info("dashboard: logout %s from %s", who->u.name, who->peer);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Set-Cookie", COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; "
	    "Secure; SameSite=Strict");
	buf_init(&b);
	buf_add_str(&b, "{}");
	http_reply(req, 200, "application/json", &b);
	buf_free(&b);
}

static void
http_static(struct evhttp_request *req, const char *path)
{
	const struct www_file	*f;
	struct buf		 b;

	if ((f = www_find(path)) == NULL) {
		http_reply_error(req, 404, "no such page");
		return;
	}
	b.data = (uint8_t *)(uintptr_t)f->data;
	b.len = (size_t)(f->end - f->data);
	http_reply(req, 200, f->type, &b);
}

/* An API request past the login: its method, role and token checked. */
static void
http_api(struct evhttp_request *req, const char *path, int post,
    const struct evhttp_uri *uri)
{
	struct http_who	 who;
	char		 cookie[COOKIE_MAX], csrf[CSRF_HEX + 1];
	const char	*tok;
	struct evbuffer	*in;

	memset(&who, 0, sizeof(who));
	http_peer(req, who.peer, sizeof(who.peer));
	if (http_session(req, &who, cookie, sizeof(cookie)) == -1) {
		http_reply_error(req, 401, "log in first");
		return;
	}
	if (post) {
		tok = evhttp_find_header(evhttp_request_get_input_headers(req),
		    "X-CSRF-Token");
		cookie_csrf(cookie, csrf);
		if (tok == NULL || strlen(tok) != CSRF_HEX ||
		    CRYPTO_memcmp(tok, csrf, CSRF_HEX) != 0) {
			log_warnx("dashboard: %s from %s: POST %s without a "
			    "valid CSRF token, refused", who.u.name, who.peer,
			    path);
			http_reply_error(req, 403, "missing or wrong CSRF "
			    "token");
			return;
		}
		if (strcmp(path, "/api/logout") == 0) {
			http_logout(req, &who, cookie);
			return;
		}
		if (who.u.role != ROLE_ADMIN) {
			log_warnx("dashboard: %s (viewer) from %s: POST %s "
			    "refused", who.u.name, who.peer, path);
			http_reply_error(req, 403, "viewers cannot change "
			    "anything");
			return;
		}
		in = evhttp_request_get_input_buffer(req);
		if (evbuffer_get_length(in) > JSON_MAX_IN) {
			http_reply_error(req, 413, "body too large");
			return;
		}
		api_mark(req, &who, path, (const char *)evbuffer_pullup(in,
		    -1), evbuffer_get_length(in));
		return;
	}
	if (strcmp(path, "/api/session") == 0)
		http_session_reply(req, &who.u, cookie);
	else if (strcmp(path, "/api/hosts") == 0)
		api_hosts(req, &who);
	else if (strcmp(path, "/api/live") == 0) {
		struct evkeyvalq	q;

		TAILQ_INIT(&q);
		evhttp_parse_query_str(evhttp_uri_get_query(uri) != NULL ?
		    evhttp_uri_get_query(uri) : "", &q);
		live_open(req, http_param(&q, "host"));
		evhttp_clear_headers(&q);
	} else
		api_query(req, &who, path);
}

static void
http_cb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri != NULL ?
				    evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	int			 post = cmd == EVHTTP_REQ_POST;

	(void)arg;
	if (path == NULL || path[0] != '/') {
		http_reply_error(req, 400, "bad request");
		return;
	}
	if (strcmp(path, "/api/login") == 0) {
		if (!post)
			http_reply_error(req, 405, "POST only");
		else
			http_login(req);
		return;
	}
	if (strncmp(path, "/api/", 5) == 0) {
		http_api(req, path, post, uri);
		return;
	}
	if (post) {
		http_reply_error(req, 405, "GET only");
		return;
	}
	http_static(req, path);
}

/* An HTTPS connection: the collector's certificate, no client's asked. */
static struct bufferevent *
http_bevcb(struct event_base *base, void *arg)
{
	SSL	*ssl;

	(void)arg;
	if ((ssl = SSL_new(h.ssl)) == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static SSL_CTX *
http_tls_ctx(void)
{
	char	 err[TLS_ERR_MAX];
	SSL_CTX	*ctx;

	if ((ctx = tls_server_ctx(h.tls, err, sizeof(err))) == NULL) {
		log_warnx("dashboard: %s", err);
		return NULL;
	}
	/* Browsers have no lab certificate to show: ask for none. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

int
http_init(struct event_base *base, const struct http_conf *c)
{
	char		 host[ADDR_HOST_MAX], port[ADDR_PORT_MAX];
	const char	*err, *bind_host;
	struct evhttp_bound_socket *bound;
	evutil_socket_t	 fd;
	int		 n, one = 1;

	h.base = base;
	h.tls = c->tls;
	if (addr_split(c->addr, host, sizeof(host), port, &err) == -1) {
		log_warnx("--http %s: %s", c->addr, err);
		return -1;
	}
	bind_host = host[0] != '\0' ? host : "127.0.0.1";
	if (!http_addr_loopback(c->addr)) {
		if (c->tls == NULL) {
			log_warnx("--http %s: off loopback the dashboard "
			    "needs HTTPS, and --insecure has no certificate",
			    c->addr);
			return -1;
		}
		if ((h.ssl = http_tls_ctx()) == NULL)
			return -1;
		h.secure = 1;
	}
	if (c->users == NULL) {
		log_warnx("--http needs --http-users: nobody could log in");
		return -1;
	}
	if ((n = users_load(c->users)) == -1)
		return -1;
	if (n == 0)
		log_warnx("%s: no accounts yet (labwatchctl passwd NAME)",
		    c->users);
	if (http_key(c->state_dir) == -1)
		return -1;
	api_init(c->rooms);
	live_init(base);
	lab_hook(http_lab_cb, NULL);
	if ((h.http = evhttp_new(base)) == NULL)
		return -1;
	evhttp_set_allowed_methods(h.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_timeout(h.http, 10);
	evhttp_set_max_headers_size(h.http, HEADERS_MAX);
	evhttp_set_max_body_size(h.http, JSON_MAX_IN);
	evhttp_set_gencb(h.http, http_cb, NULL);
	if (h.ssl != NULL)
		evhttp_set_bevcb(h.http, http_bevcb, NULL);
	if ((bound = evhttp_bind_socket_with_handle(h.http, bind_host,
	    (uint16_t)atoi(port))) == NULL) {
		log_warn("--http %s", c->addr);
		return -1;
	}
	/*
	 * Answers leave in more than one write: without this, delayed ACKs
	 * hold each keep-alive answer 40 ms.  Accepted sockets inherit it.
	 */
	fd = evhttp_bound_socket_get_fd(bound);
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_warn("--http: TCP_NODELAY");
	log_info("dashboard on %s://%s%s%s:%s/", h.secure ? "https" : "http",
	    strchr(bind_host, ':') != NULL ? "[" : "", bind_host,
	    strchr(bind_host, ':') != NULL ? "]" : "", port);
	return 0;
}

int
http_start(const char *index)
{
	return reader_init(h.base, index);
}

void
http_reload(void)
{
	SSL_CTX	*ctx;

	if (h.http == NULL)
		return;
	users_reload();
	if (h.ssl != NULL && (ctx = http_tls_ctx()) != NULL) {
		SSL_CTX_free(h.ssl);
		h.ssl = ctx;
	}
}

void
http_shutdown(void)
{
	reader_shutdown();
	lab_hook(NULL, NULL);
	live_shutdown();
	if (h.http != NULL)
		evhttp_free(h.http);
	h.http = NULL;
	api_shutdown();
	users_free();
	if (h.ssl != NULL)
		SSL_CTX_free(h.ssl);
	h.ssl = NULL;
}
