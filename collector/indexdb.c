/* SPDX-License-Identifier: ISC */
/*
 * The index's SQL: opening and migrating the database, indexing a record
 * (the events table, and what it says about hosts, LAN devices, USB
 * devices and sessions), marks (lab.mark records), rebuilding from the
 * logs.  Only the writer thread calls these once it runs.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "addr.h"
#include "buf.h"
#include "format.h"
#include "hostname.h"
#include "indexdb.h"
#include "log.h"
#include "logline.h"
#include "xmalloc.h"

#define BUSY_MS		5000	/* sqlite3_busy_timeout */
#define BUSY_TRIES	12	/* ... times, before a batch is given up */
#define LINE_MAX_BYTES	(1024 * 1024)	/* longer log lines are skipped */

enum stmt {
	S_EVENT,
	S_HOST_SEEN,
	S_HOST_STATE,
	S_HOST_START,
	S_DEV,
	S_DEV_IP,
	S_DEV_HOST,
	S_USB,
	S_USB_HOST,
	S_USB_FS,
	S_SESS_ADD,
	S_SESS_MOUNT,
	S_SESS_FILE,
	S_SESS_REMOVE,
	S_FILE,
	S_MARK_LAN,
	S_MARK_USB,
	S_FORGET_LAN,
	S_FORGET_LAN_IPS,
	S_FORGET_LAN_HOSTS,
	S_FORGET_USB,
	S_FORGET_USB_HOSTS,
	S_COUNT
};

static const char *const sql[S_COUNT] = {
	[S_EVENT] = "INSERT OR IGNORE INTO events (ts, host, event, seq, line) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_HOST_SEEN] = "INSERT INTO hosts (host, first_seen, last_seen, "
	    "last_event) VALUES (?1, ?2, ?2, ?3) ON CONFLICT (host) DO UPDATE "
	    "SET first_seen = min(coalesce(first_seen, ?2), ?2), "
	    "last_event = CASE WHEN ?2 >= coalesce(last_seen, 0) THEN ?3 "
	    "ELSE last_event END, last_seen = max(coalesce(last_seen, 0), ?2)",
	[S_HOST_STATE] = "UPDATE hosts SET state = ?2, "
	    "peer = coalesce(?3, peer), identity = coalesce(?4, identity) "
	    "WHERE host = ?1",
	[S_HOST_START] = "UPDATE hosts SET addresses = ?2, macs = ?3, "
	    "version = ?4 WHERE host = ?1",
	[S_DEV] = "INSERT INTO devices (mac, vendor, first_seen, last_seen) "
	    "VALUES (?1, nullif(?2, ''), ?3, ?3) ON CONFLICT (mac) DO UPDATE "
	    "SET vendor = coalesce(nullif(?2, ''), vendor), first_seen = "
	    "CASE WHEN first_seen = 0 THEN ?3 ELSE min(first_seen, ?3) END, "
	    "last_seen = max(last_seen, ?3)",
	[S_DEV_IP] = "INSERT INTO device_ips VALUES (?1, ?2, ?3, ?3) "
	    "ON CONFLICT DO UPDATE SET first_seen = min(first_seen, ?3), "
	    "last_seen = max(last_seen, ?3)",
	[S_DEV_HOST] = "INSERT INTO device_hosts VALUES (?1, ?2, ?3, ?3) "
	    "ON CONFLICT DO UPDATE SET first_seen = min(first_seen, ?3), "
	    "last_seen = max(last_seen, ?3)",
	[S_USB] = "INSERT INTO usb_devices (device_id, vendor_id, product_id, "
	    "manufacturer, product, serial, vendor_name, model_name, "
	    "first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "nullif(?7, ''), nullif(?8, ''), ?9, ?9) "
	    "ON CONFLICT (device_id) DO UPDATE SET vendor_id = ?2, "
	    "product_id = ?3, manufacturer = ?4, product = ?5, serial = ?6, "
	    "vendor_name = coalesce(nullif(?7, ''), vendor_name), "
	    "model_name = coalesce(nullif(?8, ''), model_name), first_seen = "
	    "CASE WHEN first_seen = 0 THEN ?9 ELSE min(first_seen, ?9) END, "
	    "last_seen = max(last_seen, ?9)",
	[S_USB_HOST] = "INSERT INTO usb_device_hosts VALUES (?1, ?2, ?3, ?3) "
	    "ON CONFLICT DO UPDATE SET first_seen = min(first_seen, ?3), "
	    "last_seen = max(last_seen, ?3)",
	[S_USB_FS] = "UPDATE usb_devices SET fs_uuid = nullif(?2, ''), "
	    "fs_label = nullif(?3, '') WHERE device_id = ?1",
	[S_SESS_ADD] = "INSERT INTO usb_sessions (session, host, device_id, "
	    "added) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET "
	    "device_id = ?3, added = ?4",
	[S_SESS_MOUNT] = "INSERT INTO usb_sessions (session, host, device_id, "
	    "mounts, fs_uuid, fs_label) VALUES (?1, ?2, ?3, 1, nullif(?4, ''), "
	    "nullif(?5, '')) ON CONFLICT DO UPDATE SET mounts = mounts + 1, "
	    "fs_uuid = nullif(?4, ''), fs_label = nullif(?5, '')",
	[S_SESS_FILE] = "INSERT INTO usb_sessions (session, host, device_id, "
	    "files_written, bytes_written, files_read, bytes_read) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO UPDATE SET "
	    "files_written = files_written + ?4, "
	    "bytes_written = bytes_written + ?5, "
	    "files_read = files_read + ?6, bytes_read = bytes_read + ?7",
	[S_SESS_REMOVE] = "INSERT INTO usb_sessions (session, host, device_id, "
	    "removed) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET "
	    "removed = ?4",
	[S_FILE] = "INSERT INTO usb_files (host, session, device_id, ts, "
	    "direction, path, size, count, uid, comm) VALUES (?1, "
	    "nullif(?2, ''), ?3, ?4, ?5, ?6, ?7, ?8, ?9, nullif(?10, ''))",
	[S_MARK_LAN] = "INSERT INTO devices (mac, first_seen, last_seen, mark, "
	    "note, marked_by, marked_at) VALUES (?1, 0, 0, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (mac) DO UPDATE SET mark = ?2, note = ?3, "
	    "marked_by = ?4, marked_at = ?5",
	[S_MARK_USB] = "INSERT INTO usb_devices (device_id, first_seen, "
	    "last_seen, mark, note, marked_by, marked_at) VALUES (?1, 0, 0, ?2, "
	    "?3, ?4, ?5) ON CONFLICT (device_id) DO UPDATE SET mark = ?2, "
	    "note = ?3, marked_by = ?4, marked_at = ?5",
	[S_FORGET_LAN] = "DELETE FROM devices WHERE mac = ?1",
	[S_FORGET_LAN_IPS] = "DELETE FROM device_ips WHERE mac = ?1",
	[S_FORGET_LAN_HOSTS] = "DELETE FROM device_hosts WHERE mac = ?1",
	[S_FORGET_USB] = "DELETE FROM usb_devices WHERE device_id = ?1",
	[S_FORGET_USB_HOSTS] = "DELETE FROM usb_device_hosts WHERE "
	    "device_id = ?1",
};

#define SEEN_SLOTS	(2 * INDEX_BATCH_MAX)	/* hosts in one batch, x2 */

/* A host's first and last record in this batch: hosts is written once. */
struct seen {
	char		host[HOSTNAME_MAX + 1];
	char		event[RECORD_EVENT_MAX + 1];
	int64_t		first, last;
};

struct indexdb {
	struct seen	 seen[SEEN_SLOTS];
	int		 nseen;
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*st[S_COUNT];
	struct buf	 line;
	int		 in_tx;
	int		 tries;		/* BEGIN attempts (atomic) */
};

static void	bind_text(sqlite3_stmt *, int, const char *);
static int	indexdb_run(struct indexdb *, enum stmt);

/* Runs SQL without results: 0, or -1 (logged). */
static int
indexdb_exec(struct indexdb *x, const char *s)
{
	char	*err = NULL;

	if (sqlite3_exec(x->db, s, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	log_warnx("index %s: %s", x->path, err != NULL ? err : "?");
	sqlite3_free(err);
	return -1;
}

/* Applies the migrations the file lacks, one transaction each. */
static int
indexdb_migrate(struct indexdb *x)
{
	sqlite3_stmt	*q;
	char		 s[128];
	int		 v = 0;

	if (sqlite3_prepare_v2(x->db, "PRAGMA user_version", -1, &q, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (v > index_nmigrations) {
		log_warnx("index %s: schema version %d is newer than this "
		    "collector's (%d); move the file away or run a newer "
		    "collector", x->path, v, index_nmigrations);
		return -1;
	}
	for (; v < index_nmigrations; v++) {
		snprintf(s, sizeof(s), "UPDATE migrations SET applied = %lld "
		    "WHERE version = %d; PRAGMA user_version = %d; COMMIT",
		    (long long)record_now(), v + 1, v + 1);
		if (indexdb_exec(x, "BEGIN IMMEDIATE") == -1)
			return -1;
		if (indexdb_exec(x, index_migrations[v]) == -1 ||
		    indexdb_exec(x, s) == -1) {
			indexdb_exec(x, "ROLLBACK");
			return -1;
		}
		log_info("index %s: schema version %d", x->path, v + 1);
	}
	return 0;
}

struct indexdb *
indexdb_open(const char *path)
{
	struct indexdb	*x = xcalloc(1, sizeof(*x));
	int		 i;

	x->path = xstrdup(path);
	x->tries = BUSY_TRIES;
	buf_init(&x->line);
	if (sqlite3_open_v2(path, &x->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		log_warnx("index %s: %s", path, x->db != NULL ?
		    sqlite3_errmsg(x->db) : "cannot open");
		goto bad;
	}
	sqlite3_busy_timeout(x->db, BUSY_MS);
	/* The logs are the truth: a crash may lose the index's last batch,
	 * never its consistency (WAL, synchronous NORMAL). */
	if (indexdb_exec(x, "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF; "
	    "PRAGMA cache_size = -16384") == -1 ||
	    indexdb_migrate(x) == -1)
		goto bad;
	for (i = 0; i < S_COUNT; i++)
		if (sqlite3_prepare_v3(x->db, sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &x->st[i], NULL) != SQLITE_OK) {
			log_warnx("index %s: %s", path, sqlite3_errmsg(x->db));
			goto bad;
		}
	return x;
bad:
	indexdb_close(x);
	return NULL;
}

void
indexdb_close(struct indexdb *x)
{
	int	i;

	if (x == NULL)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(x->st[i]);
	sqlite3_close(x->db);
	buf_free(&x->line);
	free(x->path);
	free(x);
}

static enum index_mark
indexdb_mark_of(const char *s)
{
	if (strcmp(s, "known") == 0)
		return INDEX_KNOWN;
	if (strcmp(s, "ignored") == 0)
		return INDEX_IGNORED;
	if (strcmp(s, "forget") == 0)
		return INDEX_FORGET;
	return INDEX_NEW;
}

void
indexdb_devices(struct indexdb *x,
    void (*cb)(const struct index_device *, void *), void *arg)
{
	struct index_device	 d;
	sqlite3_stmt		*q;
	const unsigned char	*s;

	if (sqlite3_prepare_v2(x->db, "SELECT 0, mac, mark, note, first_seen, "
	    "last_seen FROM devices UNION ALL SELECT 1, device_id, mark, note, "
	    "first_seen, last_seen FROM usb_devices", -1, &q, NULL) !=
	    SQLITE_OK) {
		log_warnx("index %s: %s", x->path, sqlite3_errmsg(x->db));
		return;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		d.kind = sqlite3_column_int(q, 0) ? INDEX_USB : INDEX_LAN;
		if ((s = sqlite3_column_text(q, 1)) == NULL)
			continue;
		snprintf(d.id, sizeof(d.id), "%s", (const char *)s);
		if ((s = sqlite3_column_text(q, 2)) != NULL)
			d.mark = indexdb_mark_of((const char *)s);
		if ((s = sqlite3_column_text(q, 3)) != NULL)
			snprintf(d.note, sizeof(d.note), "%s", (const char *)s);
		d.first_seen = sqlite3_column_int64(q, 4);
		d.last_seen = sqlite3_column_int64(q, 5);
		cb(&d, arg);
	}
	sqlite3_finalize(q);
}

int
indexdb_begin(struct indexdb *x)
{
	int	i, rc;

	for (i = 0; i < __atomic_load_n(&x->tries, __ATOMIC_RELAXED); i++) {
		rc = sqlite3_exec(x->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK) {
			x->in_tx = 1;
			return 0;
		}
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		log_warnx("index %s: locked by another writer; waiting",
		    x->path);
	}
	log_warnx("index %s: cannot begin: %s; this batch is not indexed",
	    x->path, sqlite3_errmsg(x->db));
	x->in_tx = 0;
	return -1;
}

/* Writes what the batch saw of each host. */
static void
indexdb_seen_flush(struct indexdb *x)
{
	sqlite3_stmt	*q = x->st[S_HOST_SEEN];
	struct seen	*h;
	int		 i;

	for (i = 0; i < SEEN_SLOTS && x->nseen > 0; i++) {
		h = &x->seen[i];
		if (h->host[0] == '\0')
			continue;
		bind_text(q, 1, h->host);
		sqlite3_bind_int64(q, 2, h->first);
		bind_text(q, 3, h->event);
		indexdb_run(x, S_HOST_SEEN);
		if (h->last != h->first) {
			bind_text(q, 1, h->host);
			sqlite3_bind_int64(q, 2, h->last);
			bind_text(q, 3, h->event);
			indexdb_run(x, S_HOST_SEEN);
		}
		h->host[0] = '\0';
		x->nseen--;
	}
	x->nseen = 0;
}

/* Notes a record of host at ts (event ev) for indexdb_seen_flush. */
static void
indexdb_seen_note(struct indexdb *x, const char *host, int64_t ts,
    const char *ev)
{
	uint32_t	 h = 2166136261u;
	const char	*p;
	struct seen	*e;

	for (p = host; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (;; h++) {
		e = &x->seen[h % SEEN_SLOTS];
		if (e->host[0] == '\0') {
			snprintf(e->host, sizeof(e->host), "%s", host);
			e->first = e->last = ts;
			snprintf(e->event, sizeof(e->event), "%s", ev);
			x->nseen++;
			return;
		}
		if (strcmp(e->host, host) == 0)
			break;
	}
	if (ts < e->first)
		e->first = ts;
	if (ts >= e->last) {
		e->last = ts;
		snprintf(e->event, sizeof(e->event), "%s", ev);
	}
}

void
indexdb_hurry(struct indexdb *x)
{
	__atomic_store_n(&x->tries, 1, __ATOMIC_RELAXED);
}

void
indexdb_commit(struct indexdb *x)
{
	if (!x->in_tx)
		return;
	indexdb_seen_flush(x);
	if (sqlite3_exec(x->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("index %s: commit: %s", x->path,
		    sqlite3_errmsg(x->db));
		sqlite3_exec(x->db, "ROLLBACK", NULL, NULL, NULL);
	}
	x->in_tx = 0;
}

/* Binds text, or NULL for NULL. */
static void
bind_text(sqlite3_stmt *q, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(q, i);
	else
		sqlite3_bind_text(q, i, s, -1, SQLITE_TRANSIENT);
}

/* Steps a bound statement and resets it; whether it changed a row. */
static int
indexdb_run(struct indexdb *x, enum stmt i)
{
	sqlite3_stmt	*q = x->st[i];
	int		 rc = sqlite3_step(q), changed;

	changed = rc == SQLITE_DONE && sqlite3_changes(x->db) > 0;
	if (rc != SQLITE_DONE)
		log_warnx("index %s: %s", x->path, sqlite3_errmsg(x->db));
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return changed;
}

/* Runs statement i with up to 10 text arguments (NULL: SQL NULL). */
static int
indexdb_text(struct indexdb *x, enum stmt i, int n, const char *const *a)
{
	int	k;

	for (k = 0; k < n; k++)
		bind_text(x->st[i], k + 1, a[k]);
	return indexdb_run(x, i);
}

/* Runs a "seen" upsert: (key, host or address, time). */
static void
indexdb_seen(struct indexdb *x, enum stmt i, const char *a, const char *b,
    int64_t ts)
{
	bind_text(x->st[i], 1, a);
	bind_text(x->st[i], 2, b);
	sqlite3_bind_int64(x->st[i], 3, ts);
	indexdb_run(x, i);
}

/* The items of a list field joined by newlines ("" when missing). */
static const char *
indexdb_lines(const struct record *r, const char *key, struct buf *b)
{
	const struct field	*f = record_get(r, key);
	const struct span	*sp;
	uint32_t		 i;
	char			 v[RECORD_STR_MAX + 1];

	buf_reset(b);
	if (f != NULL && f->type == FIELD_LIST)
		for (i = 0; i < f->v.list.n; i++) {
			sp = &r->items[f->v.list.first + i];
			if (i > 0)
				buf_add_u8(b, '\n');
			buf_add(b, record_bytes(r) + sp->off, sp->len);
		}
	else if (f != NULL)
		buf_add_str(b, record_get_str(r, key, v, sizeof(v)));
	buf_add_u8(b, '\0');
	return (const char *)b->data;
}

/* The next of v[] filled with field k. */
#define F(k)	(n++, record_get_str(r, (k), v[n - 1], sizeof(v[n - 1])))

/* host.connect, host.disconnect, host.offline, agent.start. */
static void
indexdb_host(struct indexdb *x, const char *host, const char *ev,
    const struct record *r)
{
	char		 peer[128], id[256], ver[128];
	struct buf	 a, m;
	sqlite3_stmt	*q;

	if (strcmp(ev, "agent.start") == 0) {
		buf_init(&a);
		buf_init(&m);
		q = x->st[S_HOST_START];
		bind_text(q, 1, host);
		bind_text(q, 2, indexdb_lines(r, "interfaces", &a));
		bind_text(q, 3, indexdb_lines(r, "macs", &m));
		bind_text(q, 4, record_get_str(r, "version", ver, sizeof(ver)));
		indexdb_run(x, S_HOST_START);
		buf_free(&a);
		buf_free(&m);
		return;
	}
	q = x->st[S_HOST_STATE];
	bind_text(q, 1, host);
	bind_text(q, 2, strcmp(ev, "host.connect") == 0 ? "online" :
	    "offline");
	record_get_str(r, "peer", peer, sizeof(peer));
	bind_text(q, 3, peer[0] != '\0' ? peer : NULL);
	record_get_str(r, "identity", id, sizeof(id));
	bind_text(q, 4, id[0] != '\0' ? id : NULL);
	indexdb_run(x, S_HOST_STATE);
}

/* net.device: the device, its address, the PC that saw it. */
static void
indexdb_device(struct indexdb *x, const char *host, const struct record *r)
{
	char		 mac[32], ip[64], vendor[256];
	sqlite3_stmt	*q;
	uint8_t		 m[6];

	/* One spelling of a MAC, as lab.c writes it. */
	if (addr_mac_parse(record_get_str(r, "mac", mac, sizeof(mac)), m) ==
	    -1)
		return;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
	    m[2], m[3], m[4], m[5]);
	record_get_str(r, "ip", ip, sizeof(ip));
	record_get_str(r, "vendor", vendor, sizeof(vendor));
	q = x->st[S_DEV];
	bind_text(q, 1, mac);
	bind_text(q, 2, vendor);
	sqlite3_bind_int64(q, 3, r->ts_us);
	indexdb_run(x, S_DEV);
	if (ip[0] != '\0')
		indexdb_seen(x, S_DEV_IP, mac, ip, r->ts_us);
	indexdb_seen(x, S_DEV_HOST, mac, host, r->ts_us);
}

/* usb.*: the device, the PC it was on, its session's totals. */
static void
indexdb_usb(struct indexdb *x, const char *host, const char *ev,
    const struct record *r)
{
	char		 v[8][512], did[64], sess[64], path[4096], comm[64];
	const char	*a[8];
	sqlite3_stmt	*q;
	int		 n = 0, w, k;
	int64_t		 size = -1, count;

	record_get_str(r, "device_id", did, sizeof(did));
	record_get_str(r, "usb_session", sess, sizeof(sess));
	if (did[0] == '\0')
		return;
	if (strcmp(ev, "usb.add") == 0) {
		a[0] = did;
		a[1] = F("vendor_id");
		a[2] = F("product_id");
		a[3] = F("manufacturer");
		a[4] = F("product");
		a[5] = F("serial");
		a[6] = F("vendor_name");
		a[7] = F("model_name");
		for (k = 0; k < 8; k++)
			bind_text(x->st[S_USB], k + 1, a[k]);
		sqlite3_bind_int64(x->st[S_USB], 9, r->ts_us);
		indexdb_run(x, S_USB);
	}
	indexdb_seen(x, S_USB_HOST, did, host, r->ts_us);
	if (strcmp(ev, "usb.mount") == 0) {
		a[0] = did;
		a[1] = F("fs_uuid");
		a[2] = F("fs_label");
		indexdb_text(x, S_USB_FS, 3, a);
	}
	w = strcmp(ev, "usb.write") == 0;
	if (w || strcmp(ev, "usb.read") == 0) {
		size = record_get_int(r, "size", -1);
		count = record_get_int(r, "count", 1);
		q = x->st[S_FILE];
		bind_text(q, 1, host);
		bind_text(q, 2, sess);
		bind_text(q, 3, did);
		sqlite3_bind_int64(q, 4, r->ts_us);
		bind_text(q, 5, w ? "write" : "read");
		bind_text(q, 6, record_get_str(r, "path", path, sizeof(path)));
		if (size >= 0)
			sqlite3_bind_int64(q, 7, size);
		sqlite3_bind_int64(q, 8, count);
		if (record_get(r, "uid") != NULL)
			sqlite3_bind_int64(q, 9, record_get_int(r, "uid", 0));
		bind_text(q, 10, record_get_str(r, "comm", comm, sizeof(comm)));
		indexdb_run(x, S_FILE);
	}
	if (sess[0] == '\0')
		return;		/* an agent before usb_session */
	if (strcmp(ev, "usb.add") == 0 || strcmp(ev, "usb.remove") == 0) {
		q = x->st[ev[4] == 'a' ? S_SESS_ADD : S_SESS_REMOVE];
		bind_text(q, 1, sess);
		bind_text(q, 2, host);
		bind_text(q, 3, did);
		sqlite3_bind_int64(q, 4, r->ts_us);
		indexdb_run(x, ev[4] == 'a' ? S_SESS_ADD : S_SESS_REMOVE);
	} else if (strcmp(ev, "usb.mount") == 0) {
		n = 0;
		a[0] = sess;
		a[1] = host;
		a[2] = did;
		a[3] = F("fs_uuid");
		a[4] = F("fs_label");
		indexdb_text(x, S_SESS_MOUNT, 5, a);
	} else if (w || strcmp(ev, "usb.read") == 0) {
		q = x->st[S_SESS_FILE];
		bind_text(q, 1, sess);
		bind_text(q, 2, host);
		bind_text(q, 3, did);
		sqlite3_bind_int64(q, w ? 4 : 6, 1);
		sqlite3_bind_int64(q, w ? 6 : 4, 0);
		sqlite3_bind_int64(q, w ? 5 : 7, size > 0 ? size : 0);
		sqlite3_bind_int64(q, w ? 7 : 5, 0);
		indexdb_run(x, S_SESS_FILE);
	}
}

/* lab.mark: known, ignored, new (the mark dropped) or forget. */
static void
indexdb_mark(struct indexdb *x, const struct record *r)
{
	char		 kind[8], id[128], mark[16], note[INDEX_NOTE_MAX + 1];
	char		 by[64];
	int		 usb;
	sqlite3_stmt	*q;

	record_get_str(r, "kind", kind, sizeof(kind));
	record_get_str(r, "id", id, sizeof(id));
	record_get_str(r, "mark", mark, sizeof(mark));
	record_get_str(r, "note", note, sizeof(note));
	record_get_str(r, "by", by, sizeof(by));
	usb = strcmp(kind, "usb") == 0;
	if (id[0] == '\0')
		return;
	if (strcmp(mark, "forget") == 0) {
		bind_text(x->st[usb ? S_FORGET_USB : S_FORGET_LAN], 1, id);
		indexdb_run(x, usb ? S_FORGET_USB : S_FORGET_LAN);
		bind_text(x->st[usb ? S_FORGET_USB_HOSTS : S_FORGET_LAN_HOSTS],
		    1, id);
		indexdb_run(x, usb ? S_FORGET_USB_HOSTS : S_FORGET_LAN_HOSTS);
		if (!usb) {
			bind_text(x->st[S_FORGET_LAN_IPS], 1, id);
			indexdb_run(x, S_FORGET_LAN_IPS);
		}
		return;
	}
	q = x->st[usb ? S_MARK_USB : S_MARK_LAN];
	bind_text(q, 1, id);
	bind_text(q, 2, indexdb_mark_of(mark) == INDEX_KNOWN ? "known" :
	    indexdb_mark_of(mark) == INDEX_IGNORED ? "ignored" : "new");
	bind_text(q, 3, note[0] != '\0' ? note : NULL);
	bind_text(q, 4, by);
	sqlite3_bind_int64(q, 5, r->ts_us);
	indexdb_run(x, usb ? S_MARK_USB : S_MARK_LAN);
}

void
indexdb_apply(struct indexdb *x, const char *host, const struct record *r)
{
	sqlite3_stmt	*q = x->st[S_EVENT];
	char		 ev[RECORD_EVENT_MAX + 1];
	const char	*sp;

	if (!x->in_tx)
		return;
	snprintf(ev, sizeof(ev), "%.*s", (int)r->event.len,
	    (const char *)record_bytes(r) + r->event.off);
	buf_reset(&x->line);
	format_record(&x->line, r, FORMAT_TEXT);
	/* The line without its time (a column of its own), nor newline. */
	sp = memchr(x->line.data, ' ', x->line.len);
	sqlite3_bind_int64(q, 1, r->ts_us);
	bind_text(q, 2, host);
	bind_text(q, 3, ev);
	sqlite3_bind_int64(q, 4, (int64_t)r->seq);
	if (sp != NULL)
		sqlite3_bind_text(q, 5, sp + 1, (int)(x->line.len - 2 -
		    (size_t)(sp - (const char *)x->line.data)),
		    SQLITE_TRANSIENT);
	else
		sqlite3_bind_text(q, 5, "", 0, SQLITE_STATIC);
	/* Seen before (a rebuild, a resent batch): nothing more to add. */
	if (!indexdb_run(x, S_EVENT))
		return;
	if (strcmp(host, "lab") == 0) {
		if (strcmp(ev, "lab.mark") == 0)
			indexdb_mark(x, r);
		return;
	}
	/* Before the host's own row is changed (indexdb_host). */
	if (strncmp(ev, "host.", 5) == 0 || strcmp(ev, "agent.start") == 0) {
		bind_text(x->st[S_HOST_SEEN], 1, host);
		sqlite3_bind_int64(x->st[S_HOST_SEEN], 2, r->ts_us);
		bind_text(x->st[S_HOST_SEEN], 3, ev);
		indexdb_run(x, S_HOST_SEEN);
	} else
		indexdb_seen_note(x, host, r->ts_us, ev);
	if (strncmp(ev, "host.", 5) == 0 || strcmp(ev, "agent.start") == 0)
		indexdb_host(x, host, ev, r);
	else if (strcmp(ev, "net.device") == 0)
		indexdb_device(x, host, r);
	else if (strncmp(ev, "usb.", 4) == 0)
		indexdb_usb(x, host, ev, r);
}

/* Reads one log file into the index, a batch a transaction. */
static void
indexdb_read_log(struct indexdb *x, const char *path, const char *host,
    uint64_t *n, uint64_t *bad)
{
	FILE		*f;
	char		*line = NULL;
	const char	*err;
	size_t		 cap = 0;
	ssize_t		 len;
	struct record	 r;
	char		 lhost[256];
	uint64_t	 k = 0;

	if ((f = fopen(path, "re")) == NULL) {
		log_warn("index: %s", path);
		return;
	}
	record_init(&r);
	indexdb_begin(x);
	while ((len = getline(&line, &cap, f)) != -1) {
		if (len > LINE_MAX_BYTES || logline_parse(line, (size_t)len,
		    &r, lhost, sizeof(lhost), &err) == -1) {
			(*bad)++;
			continue;
		}
		r.host = host;
		indexdb_apply(x, host, &r);
		(*n)++;
		if (++k % INDEX_BATCH_MAX == 0) {
			indexdb_commit(x);
			indexdb_begin(x);
		}
	}
	indexdb_commit(x);
	record_free(&r);
	free(line);
	fclose(f);
}

/* Whether name is HOST.log or HOST.log.N; host gets HOST. */
static int
indexdb_log_name(const char *name, char *host, size_t size)
{
	const char	*dot = strstr(name, ".log");
	const char	*p;

	if (dot == NULL || dot == name || (size_t)(dot - name) >= size)
		return 0;
	p = dot + 4;
	if (*p == '.') {
		if (*++p == '\0')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != '\0')
		return 0;
	snprintf(host, size, "%.*s", (int)(dot - name), name);
	return 1;
}

int
indexdb_reindex(struct indexdb *x, const char *dir, uint64_t *n, char *msg,
    size_t len)
{
	DIR		*d;
	struct dirent	*e;
	char		 host[256], path[4096];
	uint64_t	 bad = 0;
	int		 files = 0;

	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		snprintf(msg, len, "rebuild failed: %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	/* Marks live on in the device rows; everything else comes back. */
	if (indexdb_exec(x, "BEGIN IMMEDIATE; "
	    "INSERT INTO events_fts (events_fts) VALUES ('delete-all'); "
	    "DELETE FROM events; DELETE FROM hosts; DELETE FROM device_ips; "
	    "DELETE FROM device_hosts; DELETE FROM usb_device_hosts; "
	    "DELETE FROM usb_sessions; DELETE FROM usb_files; "
	    "DELETE FROM devices WHERE mark = 'new'; "
	    "UPDATE devices SET first_seen = 0, last_seen = 0; "
	    "DELETE FROM usb_devices WHERE mark = 'new'; "
	    "UPDATE usb_devices SET first_seen = 0, last_seen = 0; "
	    "COMMIT") == -1) {
		indexdb_exec(x, "ROLLBACK");
		closedir(d);
		snprintf(msg, len, "rebuild failed: cannot empty the index");
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!indexdb_log_name(e->d_name, host, sizeof(host)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		indexdb_read_log(x, path, host, n, &bad);
		files++;
	}
	closedir(d);
	snprintf(msg, len, "rebuilt from %d log(s) in %s: %llu records, %llu "
	    "line(s) skipped", files, dir, (unsigned long long)*n,
	    (unsigned long long)bad);
	return 0;
}
