/* SPDX-License-Identifier: ISC */
/*
 * The dashboard's JSON API (GET /api/hosts, /api/devices, /api/usb,
 * /api/usb/sessions, /api/events; POST /api/devices/mark,
 * /api/usb/mark).  Hosts come from memory (hoststat); the rest are
 * queries against the index, run on the reader thread (reader.c) with
 * bound parameters and a row limit, answered from the loop.  Marks go
 * through lab_mark, as labwatchctl's do.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "hostname.h"
#include "hoststat.h"
#include "http.h"
#include "json.h"
#include "lab.h"
#include "log.h"
#include "reader.h"
#include "xmalloc.h"

#define API_LIMIT	100	/* rows when the request says none */
#define API_LIMIT_MAX	1000
#define API_PARAMS	8
#define API_SQL_MAX	1024

static const struct opt_list	*rooms;

struct query {
	struct reader_job	 job;
	struct http_held	 held;
	char			 sql[API_SQL_MAX];
	int			 nparams;
	struct {
		int		 is_int;
		long long	 i;
		char		*s;
	}			 p[API_PARAMS];
	struct buf		 out;
	int			 failed;
};

void
api_init(const struct opt_list *r)
{
	rooms = r;
}

/* GET /api/hosts: every host now, and the room layout. */
void
api_hosts(struct evhttp_request *req, const struct http_who *who)
{
	struct buf	 b;
	char		*line, *word, *save;
	int		 i, nseat;

	(void)who;
	buf_init(&b);
	buf_add_str(&b, "{\"hosts\":");
	hoststat_json(&b, hoststat_today(record_now()));
	buf_add_str(&b, ",\"rooms\":[");
	for (i = 0; rooms != NULL && i < rooms->n; i++) {
		line = xstrdup(rooms->v[i]);
		word = strtok_r(line, " \t", &save);
		buf_add_str(&b, i > 0 ? ",{\"name\":" : "{\"name\":");
		escape_json(&b, (const uint8_t *)word, strlen(word));
		buf_add_str(&b, ",\"seats\":[");
		nseat = 0;
		while ((word = strtok_r(NULL, " \t", &save)) != NULL) {
			if (nseat++ > 0)
				buf_add_str(&b, ",");
			if (strcmp(word, "-") == 0)
				buf_add_str(&b, "null");
			else
				escape_json(&b, (const uint8_t *)word,
				    strlen(word));
		}
		buf_add_str(&b, "]}");
		free(line);
	}
	buf_add_str(&b, "]}");
	http_reply(req, 200, "application/json", &b);
	buf_free(&b);
}

/* Runs in the reader thread: the rows as a JSON array of objects. */
static void
query_run(struct reader_job *job, sqlite3 *db)
{
	struct query	*q = (struct query *)job;
	sqlite3_stmt	*st;
	const uint8_t	*txt;
	int		 i, n, rc, rows = 0;

	if (db == NULL) {
		q->failed = 503;
		buf_add_str(&q->out, "the index is not available");
		return;
	}
	if (sqlite3_prepare_v2(db, q->sql, -1, &st, NULL) != SQLITE_OK) {
		q->failed = 500;
		buf_add_str(&q->out, sqlite3_errmsg(db));
		return;
	}
	for (i = 0; i < q->nparams; i++)
		if (q->p[i].is_int)
			sqlite3_bind_int64(st, i + 1, q->p[i].i);
		else
			sqlite3_bind_text(st, i + 1, q->p[i].s, -1,
			    SQLITE_STATIC);
	buf_add_str(&q->out, "[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		buf_add_str(&q->out, rows++ > 0 ? ",{" : "{");
		n = sqlite3_column_count(st);
		for (i = 0; i < n; i++) {
			buf_printf(&q->out, "%s\"%s\":", i > 0 ? "," : "",
			    sqlite3_column_name(st, i));
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER:
				buf_add_sdec(&q->out,
				    sqlite3_column_int64(st, i));
				break;
			case SQLITE_NULL:
				buf_add_str(&q->out, "null");
				break;
			default:
				txt = sqlite3_column_text(st, i);
				escape_json(&q->out, txt != NULL ? txt :
				    (const uint8_t *)"", (size_t)
				    sqlite3_column_bytes(st, i));
			}
		}
		buf_add_str(&q->out, "}");
	}
	buf_add_str(&q->out, "]");
	if (rc != SQLITE_DONE) {
		q->failed = rc == SQLITE_INTERRUPT ? 504 : 500;
		buf_reset(&q->out);
		buf_add_str(&q->out, rc == SQLITE_INTERRUPT ?
		    "the query took too long: narrow it" :
		    sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
}

static void
query_free(struct query *q)
{
	int	i;

	for (i = 0; i < q->nparams; i++)
		free(q->p[i].s);
	buf_free(&q->out);
	free(q);
}

static void
query_done(struct reader_job *job, int cancelled)
{
	struct query		*q = (struct query *)job;
	struct evhttp_request	*req;

	req = http_release(&q->held);
	if (cancelled)
		req = NULL;		/* evhttp_free frees it */
	if (req != NULL && q->failed) {
		buf_add(&q->out, "", 1);
		log_warnx("dashboard: %s: %s", q->sql, (char *)q->out.data);
		http_reply_error(req, q->failed, (char *)q->out.data);
	} else if (req != NULL)
		http_reply(req, 200, "application/json", &q->out);
	query_free(q);
}

static void
query_str(struct query *q, const char *s)
{
	q->p[q->nparams].is_int = 0;
	q->p[q->nparams++].s = xstrdup(s);
}

static void
query_int(struct query *q, long long v)
{
	q->p[q->nparams].is_int = 1;
	q->p[q->nparams++].i = v;
}

static void
query_sql(struct query *q, const char *s)
{
	strncat(q->sql, s, sizeof(q->sql) - strlen(q->sql) - 1);
}

/*
 * A time parameter: microseconds since the epoch, or UTC as
 * 2026-11-29, 2026-11-29T10:00 or 2026-11-29T10:00:00 (a Z may follow).
 */
static int
api_time(const char *s, long long *us)
{
	struct tm	 tm;
	const char	*end;
	char		*e;

	if (s[0] != '\0' && strspn(s, "0123456789") == strlen(s)) {
		*us = strtoll(s, &e, 10);
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*end == 'T' || *end == ' ') {
		if ((end = strptime(end + 1, "%H:%M", &tm)) == NULL)
			return -1;
		if (*end == ':' && (end = strptime(end + 1, "%S", &tm)) ==
		    NULL)
			return -1;
	}
	if (*end == 'Z')
		end++;
	if (*end != '\0')
		return -1;
	*us = (long long)timegm(&tm) * 1000000LL;
	return 0;
}

/* The limit parameter, bounded. */
static int
api_limit(const struct evkeyvalq *p)
{
	const char	*s = http_param(p, "limit");
	long		 n;

	if (s == NULL)
		return API_LIMIT;
	n = strtol(s, NULL, 10);
	return n < 1 ? 1 : n > API_LIMIT_MAX ? API_LIMIT_MAX : (int)n;
}

/* A mark filter: "" none, else the mark's name; -1 when bad. */
static int
api_mark_filter(struct query *q, const struct evkeyvalq *p, const char *col)
{
	const char	*m = http_param(p, "mark");

	if (m == NULL || m[0] == '\0')
		return 0;
	if (strcmp(m, "new") != 0 && strcmp(m, "known") != 0 &&
	    strcmp(m, "ignored") != 0)
		return -1;
	query_sql(q, " WHERE ");
	query_sql(q, col);
	query_sql(q, " = ?");
	query_str(q, m);
	return 0;
}

/* GET /api/events: the index's events, newest first. */
static const char *
api_events(struct query *q, const struct evkeyvalq *p)
{
	const char	*host = http_param(p, "host"),
			*type = http_param(p, "type"),
			*from = http_param(p, "from"),
			*to = http_param(p, "to"),
			*text = http_param(p, "q");
	long long	 t;
	struct buf	 phrase;
	const char	*c;

	if (text != NULL && text[0] != '\0') {
		/*
		 * CROSS JOIN: the text first, then each match by its id;
		 * left to itself SQLite may walk a host's every event.
		 */
		query_sql(q, "SELECT e.id, e.ts, e.host, e.event, e.line "
		    "FROM events_fts f CROSS JOIN events e ON e.id = f.rowid "
		    "WHERE events_fts MATCH ?");
		/* One phrase: the user's words, never FTS syntax. */
		buf_init(&phrase);
		buf_add_str(&phrase, "\"");
		for (c = text; *c != '\0'; c++)
			buf_add(&phrase, c, *c == '"' ? 0 : 1);
		buf_add_str(&phrase, "\"");
		buf_add(&phrase, "", 1);
		query_str(q, (char *)phrase.data);
		buf_free(&phrase);
	} else
		query_sql(q, "SELECT e.id, e.ts, e.host, e.event, e.line "
		    "FROM events e WHERE 1");
	if (host != NULL && host[0] != '\0') {
		if (!hostname_ok(host, strlen(host)))
			return "bad host";
		query_sql(q, " AND e.host = ?");
		query_str(q, host);
	}
	if (type != NULL && type[0] != '\0') {
		if (strlen(type) > RECORD_EVENT_MAX)
			return "bad type";
		/* usb.* matches a family. */
		query_sql(q, strchr(type, '*') != NULL ?
		    " AND e.event GLOB ?" : " AND e.event = ?");
		query_str(q, type);
	}
	if (from != NULL && from[0] != '\0') {
		if (api_time(from, &t) == -1)
			return "bad from (2026-11-29T10:00:00Z or µs)";
		query_sql(q, " AND e.ts >= ?");
		query_int(q, t);
	}
	if (to != NULL && to[0] != '\0') {
		if (api_time(to, &t) == -1)
			return "bad to (2026-11-29T10:00:00Z or µs)";
		query_sql(q, " AND e.ts < ?");
		query_int(q, t);
	}
	query_sql(q, " ORDER BY e.ts DESC LIMIT ?");
	query_int(q, api_limit(p));
	return NULL;
}

/* GET /api/devices[?mark=new|known|ignored]: LAN devices, newest first. */
static const char *
api_devices(struct query *q, const struct evkeyvalq *p)
{
	query_sql(q, "SELECT d.mac, d.vendor, d.first_seen, d.last_seen, "
	    "d.mark, d.note, d.marked_by, "
	    "(SELECT group_concat(ip, ' ') FROM device_ips i "
	    "WHERE i.mac = d.mac) AS ips, "
	    "(SELECT group_concat(host, ' ') FROM device_hosts h "
	    "WHERE h.mac = d.mac) AS hosts FROM devices d");
	if (api_mark_filter(q, p, "d.mark") == -1)
		return "bad mark (new, known or ignored)";
	query_sql(q, " ORDER BY d.first_seen DESC LIMIT ?");
	query_int(q, api_limit(p));
	return NULL;
}

/* GET /api/usb: USB devices, where they were seen, what was copied. */
static const char *
api_usb(struct query *q, const struct evkeyvalq *p)
{
	query_sql(q, "SELECT u.device_id, u.vendor_name, u.model_name, "
	    "u.manufacturer, u.product, u.serial, u.fs_uuid, u.fs_label, "
	    "u.first_seen, u.last_seen, u.mark, u.note, "
	    "(SELECT group_concat(host, ' ') FROM usb_device_hosts h "
	    "WHERE h.device_id = u.device_id) AS hosts, "
	    "(SELECT count(*) FROM usb_sessions s "
	    "WHERE s.device_id = u.device_id) AS sessions, "
	    "(SELECT sum(files_written) FROM usb_sessions s "
	    "WHERE s.device_id = u.device_id) AS files_written, "
	    "(SELECT sum(bytes_written) FROM usb_sessions s "
	    "WHERE s.device_id = u.device_id) AS bytes_written "
	    "FROM usb_devices u");
	if (api_mark_filter(q, p, "u.mark") == -1)
		return "bad mark (new, known or ignored)";
	query_sql(q, " ORDER BY u.last_seen DESC LIMIT ?");
	query_int(q, api_limit(p));
	return NULL;
}

/* GET /api/usb/files?device_id=ID: a stick's sessions' files. */
static const char *
api_usb_files(struct query *q, const struct evkeyvalq *p)
{
	const char	*id = http_param(p, "device_id");

	if (id == NULL || id[0] == '\0' || strlen(id) > 128)
		return "device_id needed";
	query_sql(q, "SELECT f.host, f.session, f.ts, f.direction, f.path, "
	    "f.size, f.count, f.comm FROM usb_files f WHERE f.device_id = ? "
	    "ORDER BY f.ts DESC LIMIT ?");
	query_str(q, id);
	query_int(q, api_limit(p));
	return NULL;
}

/* GET /api/usb/sessions?device_id=ID: a stick's sessions, PC by PC. */
static const char *
api_usb_sessions(struct query *q, const struct evkeyvalq *p)
{
	const char	*id = http_param(p, "device_id");

	if (id == NULL || id[0] == '\0' || strlen(id) > 128)
		return "device_id needed";
	query_sql(q, "SELECT s.host, s.session, s.added, s.removed, "
	    "s.mounts, s.fs_uuid, s.fs_label, s.files_written, "
	    "s.bytes_written, s.files_read, s.bytes_read FROM usb_sessions s "
	    "WHERE s.device_id = ? ORDER BY s.added DESC LIMIT ?");
	query_str(q, id);
	query_int(q, api_limit(p));
	return NULL;
}

void
api_query(struct evhttp_request *req, const struct http_who *who,
    const char *path)
{
	static const struct {
		const char	*path;
		const char	*(*build)(struct query *,
				    const struct evkeyvalq *);
	} routes[] = {
		{ "/api/events", api_events },
		{ "/api/devices", api_devices },
		{ "/api/usb", api_usb },
		{ "/api/usb/sessions", api_usb_sessions },
		{ "/api/usb/files", api_usb_files },
	};
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq	 params;
	struct query		*q;
	const char		*err = NULL, *qs;
	size_t			 i;

	(void)who;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(routes[i].path, path) == 0)
			break;
	if (i == sizeof(routes) / sizeof(routes[0])) {
		http_reply_error(req, 404, "no such API");
		return;
	}
	TAILQ_INIT(&params);
	qs = evhttp_uri_get_query(uri);
	if (evhttp_parse_query_str(qs != NULL ? qs : "", &params) == -1) {
		http_reply_error(req, 400, "bad query string");
		return;
	}
	q = xcalloc(1, sizeof(*q));
	buf_init(&q->out);
	err = routes[i].build(q, &params);
	evhttp_clear_headers(&params);
	if (err != NULL) {
		query_free(q);
		http_reply_error(req, 400, err);
		return;
	}
	q->job.run = query_run;
	q->job.done = query_done;
	if (reader_submit(&q->job) == -1) {
		query_free(q);
		http_reply_error(req, 503, "busy: try again");
		return;
	}
	http_hold(&q->held, req);
}

/* POST /api/devices/mark, /api/usb/mark: {"id", "mark", "note"}. */
void
api_mark(struct evhttp_request *req, const struct http_who *who,
    const char *path, const char *body, size_t len)
{
	static struct json_obj	 o;
	enum index_kind		 kind;
	enum index_mark		 mark;
	const char		*err, *id, *m, *note;
	char			 by[128], msg[256];
	struct buf		 b;

	if (strcmp(path, "/api/devices/mark") == 0)
		kind = INDEX_LAN;
	else if (strcmp(path, "/api/usb/mark") == 0)
		kind = INDEX_USB;
	else {
		http_reply_error(req, 404, "no such API");
		return;
	}
	if (json_parse(&o, body != NULL ? body : "", len, &err) == -1) {
		http_reply_error(req, 400, err);
		return;
	}
	id = json_str(&o, "id");
	m = json_str(&o, "mark");
	note = json_str(&o, "note");
	if (id == NULL || m == NULL) {
		http_reply_error(req, 400, "send {\"id\": ..., \"mark\": "
		    "\"known\"|\"ignored\"|\"new\"|\"forget\", \"note\": ...}");
		return;
	}
	if (strcmp(m, "known") == 0)
		mark = INDEX_KNOWN;
	else if (strcmp(m, "ignored") == 0)
		mark = INDEX_IGNORED;
	else if (strcmp(m, "new") == 0)
		mark = INDEX_NEW;
	else if (strcmp(m, "forget") == 0)
		mark = INDEX_FORGET;
	else {
		http_reply_error(req, 400, "bad mark (known, ignored, new or "
		    "forget)");
		return;
	}
	if (note != NULL && strlen(note) > INDEX_NOTE_MAX) {
		http_reply_error(req, 400, "note too long");
		return;
	}
	snprintf(by, sizeof(by), "dashboard %s", who->u.name);
	if (lab_mark(kind, id, mark, note != NULL ? note : "", by, msg,
	    sizeof(msg)) == -1) {
		http_reply_error(req, 400, msg);
		return;
	}
	http_log_change(who, m, id);
	buf_init(&b);
	buf_add_str(&b, "{\"id\":");
	escape_json(&b, (const uint8_t *)id, strlen(id));
	buf_add_str(&b, ",\"mark\":");
	escape_json(&b, (const uint8_t *)m, strlen(m));
	buf_add_str(&b, "}");
	http_reply(req, 200, "application/json", &b);
	buf_free(&b);
}

void
api_shutdown(void)
{
	rooms = NULL;
}
