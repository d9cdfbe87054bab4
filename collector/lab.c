/* SPDX-License-Identifier: ISC */
/*
 * The lab-wide view (see lab.h).  Decisions:
 * - lab.device.new waits LAB_DEVICE_WINDOW seconds after a device's first
 *   net.device, gathering the PCs (and addresses) that report it, then is
 *   written once, unless the device was marked meanwhile; later sightings
 *   go to the index only.  Devices the index remembers (seen before this
 *   start, or marked) are not new.
 * - USB sessions: the agent gives each usb.add a usb_session id and puts
 *   it in every record of the device until usb.remove; the collector
 *   totals them and writes lab.usb.session at usb.remove.
 * - lab.usb.moved: a device_id seen at usb.add on another PC than where it
 *   was last seen; or, when the device_id did not tell (sticks without a
 *   usable serial get a device_id by port), the same filesystem UUID and
 *   label mounted on another PC.  Not for ignored devices.
 * - lab.transfer: the final flow.lan records of one conversation
 *   (community_id) from two PCs within LAB_TRANSFER_WINDOW seconds.
 */
#include <event2/event.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "alert.h"
#include "escape.h"
#include "hash.h"
#include "hostlog.h"
#include "hostname.h"
#include "index.h"
#include "lab.h"
#include "log.h"
#include "xmalloc.h"

#define LAB_BUCKETS	65536
#define LAB_DEVICES_MAX	(1024 * 1024)
#define LAB_STICKS_MAX	(256 * 1024)
#define LAB_SESSIONS_MAX 16384
#define LAB_FLOWS_MAX	(256 * 1024)
#define LAB_PCS_MAX	32	/* PCs named in one lab.device.new */
#define LAB_IPS_MAX	8
#define LAB_SWEEP	30	/* seconds between sweeps of old flows */
#define KEY_MAX		160

/* What every table entry starts with. */
struct hent {
	struct hent	*next;
	char		 key[KEY_MAX];
};

struct htab {
	struct hent	*b[LAB_BUCKETS];
	size_t		 n, max;
	const char	*what;
};

/* A device in its first window: who saw it, at which addresses. */
struct pend {
	struct event	*timer;
	char		 pcs[LAB_PCS_MAX][HOSTNAME_MAX + 1];
	int		 npcs;
	char		 ips[LAB_IPS_MAX][64];
	int		 nips;
	char		 vendor[128];
};

struct dev {
	struct hent	 h;		/* "lan MAC" or "usb DEVICE_ID" */
	enum index_mark	 mark;
	char		*note, *vendor;
	int64_t		 first, last;
	struct pend	*pend;
};

/* Where a stick was last: by "id DEVICE_ID" or "fs UUID LABEL". */
struct stick {
	struct hent	 h;
	char		 pc[HOSTNAME_MAX + 1];
	int64_t		 ts;
};

/* A USB session in progress: "HOST DEVICE_ID". */
struct sess {
	struct hent	 h;
	char		 pc[HOSTNAME_MAX + 1];
	char		 id[64], device_id[64];
	int64_t		 added;
	int64_t		 mounts, fw, bw, fr, br;
	int		 moved;		/* lab.usb.moved written already */
};

/* One end of a LAN conversation: its community_id. */
struct flow {
	struct hent	 h;
	char		 pc[HOSTNAME_MAX + 1];
	char		 proto[16], src[64], dst[64];
	int64_t		 dport, out, in, ts;
};

static struct htab	 devs = { .max = LAB_DEVICES_MAX, .what = "devices" };
static struct htab	 sticks = { .max = LAB_STICKS_MAX, .what = "sticks" };
static struct htab	 sessions = { .max = LAB_SESSIONS_MAX,
			    .what = "USB sessions" };
static struct htab	 flows = { .max = LAB_FLOWS_MAX,
			    .what = "LAN conversations" };
static struct event_base *base;
static struct event	*sweep_ev;
static void		(*hook)(const struct record *, void *);
static void		*hook_arg;

static const char *const mark_names[] = { "new", "known", "ignored",
    "forget" };

static uint32_t
ht_hash(const char *k)
{
	return (uint32_t)(hash_str(hash_seed(), k) % LAB_BUCKETS);
}

static void *
ht_find(struct htab *t, const char *key)
{
	struct hent	*e;

	for (e = t->b[ht_hash(key)]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* A new zeroed entry of size bytes under key, or NULL when full. */
static void *
ht_add(struct htab *t, const char *key, size_t size)
{
	struct hent	*e;
	uint32_t	 i;

	if (t->n >= t->max) {
		log_warnx("lab: more than %zu %s; %s not followed", t->max,
		    t->what, key);
		return NULL;
	}
	e = xcalloc(1, size);
	snprintf(e->key, sizeof(e->key), "%s", key);
	i = ht_hash(key);
	e->next = t->b[i];
	t->b[i] = e;
	t->n++;
	return e;
}

/* Unlinks e (the caller frees it). */
static void
ht_del(struct htab *t, struct hent *e)
{
	struct hent	**pp;

	for (pp = &t->b[ht_hash(e->key)]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			t->n--;
			return;
		}
}

static void
dev_free(struct dev *d)
{
	if (d->pend != NULL) {
		event_free(d->pend->timer);
		free(d->pend);
	}
	free(d->note);
	free(d->vendor);
	free(d);
}

static void
ht_clear(struct htab *t, int is_dev)
{
	struct hent	*e, *next;
	size_t		 i;

	for (i = 0; i < LAB_BUCKETS; i++) {
		for (e = t->b[i]; e != NULL; e = next) {
			next = e->next;
			if (is_dev)
				dev_free((struct dev *)e);
			else
				free(e);
		}
		t->b[i] = NULL;
	}
	t->n = 0;
}

void
lab_emit(struct record *r)
{
	struct hostlog	*hl;

	r->host = LAB_HOST;
	if ((hl = hostlog_get(LAB_HOST)) == NULL)
		log_warn("%s.log", LAB_HOST);
	else {
		hostlog_append(hl, 0, r);
		hostlog_flush(hl);
		hostlog_put(hl);
	}
	index_record(LAB_HOST, r);
	alert_record(LAB_HOST, r);
	if (hook != NULL)
		hook(r, hook_arg);
}

void
lab_hook(void (*cb)(const struct record *, void *), void *arg)
{
	hook = cb;
	hook_arg = arg;
}

static void
dev_key(char *key, enum index_kind kind, const char *id)
{
	snprintf(key, KEY_MAX, "%s %s", kind == INDEX_USB ? "usb" : "lan", id);
}

void
lab_device_load(const struct index_device *d, void *arg)
{
	struct dev	*e;
	char		 key[KEY_MAX];

	(void)arg;
	dev_key(key, d->kind, d->id);
	if (ht_find(&devs, key) != NULL ||
	    (e = ht_add(&devs, key, sizeof(*e))) == NULL)
		return;
	e->mark = d->mark;
	e->first = d->first_seen;
	e->last = d->last_seen;
	if (d->note[0] != '\0')
		e->note = xstrdup(d->note);
}

/* The window of a new device ended: lab.device.new unless marked. */
static void
lab_window_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct dev	*d = arg;
	struct pend	*p = d->pend;
	struct record	 r;
	int		 i;

	(void)fd;
	(void)ev;
	if (d->mark == INDEX_NEW) {
		record_init(&r);
		record_begin(&r, "lab.device.new");
		record_add_str(&r, "mac", d->h.key + 4);
		if (p->vendor[0] != '\0')
			record_add_str(&r, "vendor", p->vendor);
		record_add_list(&r, "ips");
		for (i = 0; i < p->nips; i++)
			record_list_add(&r, p->ips[i], strlen(p->ips[i]));
		record_add_list(&r, "pcs");
		for (i = 0; i < p->npcs; i++)
			record_list_add(&r, p->pcs[i], strlen(p->pcs[i]));
		record_add_time(&r, "first_seen", d->first);
		lab_emit(&r);
		record_free(&r);
	}
	event_free(p->timer);
	free(p);
	d->pend = NULL;
}

/* Adds s to a small set of strings unless it is there or the set is full. */
#define SET_ADD(set, n, max, s) do {					\
	int	 i_;							\
	for (i_ = 0; i_ < (n); i_++)					\
		if (strcmp((set)[i_], (s)) == 0)			\
			break;						\
	if (i_ == (n) && (n) < (max))					\
		snprintf((set)[(n)++], sizeof((set)[0]), "%s", (s));	\
} while (0)

/* net.device: a (MAC, IP) pair one PC saw. */
static void
lab_net_device(const char *host, const struct record *r)
{
	struct timeval	 tv = { LAB_DEVICE_WINDOW, 0 };
	struct dev	*d;
	char		 mac[32], ip[64], vendor[128], key[KEY_MAX];
	uint8_t		 m[6];

	record_get_str(r, "mac", mac, sizeof(mac));
	record_get_str(r, "ip", ip, sizeof(ip));
	record_get_str(r, "vendor", vendor, sizeof(vendor));
	if (addr_mac_parse(mac, m) == -1)
		return;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
	    m[2], m[3], m[4], m[5]);
	dev_key(key, INDEX_LAN, mac);
	if ((d = ht_find(&devs, key)) == NULL) {
		if ((d = ht_add(&devs, key, sizeof(*d))) == NULL)
			return;
		d->first = r->ts_us;
		d->pend = xcalloc(1, sizeof(*d->pend));
		d->pend->timer = evtimer_new(base, lab_window_cb, d);
		evtimer_add(d->pend->timer, &tv);
	}
	if (d->first == 0)	/* marked before it was ever seen */
		d->first = r->ts_us;
	d->last = r->ts_us;
	if (vendor[0] != '\0' && d->vendor == NULL)
		d->vendor = xstrdup(vendor);
	if (d->pend == NULL)
		return;
	SET_ADD(d->pend->pcs, d->pend->npcs, LAB_PCS_MAX, host);
	if (ip[0] != '\0')
		SET_ADD(d->pend->ips, d->pend->nips, LAB_IPS_MAX, ip);
	if (vendor[0] != '\0' && d->pend->vendor[0] == '\0')
		snprintf(d->pend->vendor, sizeof(d->pend->vendor), "%s",
		    vendor);
}

/*
 * The stick under key was on another PC before: lab.usb.moved (by says
 * how it was told; NULL: not written, one was already).  Then it is on
 * host since r's time.  1 when it wrote one.
 */
static int
lab_stick(const char *key, const char *host, const struct record *r,
    const char *by)
{
	struct stick	*s;
	struct record	 m;
	char		 v[512];
	int		 moved = 0;
	static const char *const keys[] = { "device_id", "vendor_id",
	    "product_id", "serial", "fs_uuid", "fs_label" };
	size_t		 i;

	if ((s = ht_find(&sticks, key)) == NULL) {
		if ((s = ht_add(&sticks, key, sizeof(*s))) == NULL)
			return 0;
	} else if (strcmp(s->pc, host) != 0 && by != NULL) {
		record_init(&m);
		record_begin(&m, "lab.usb.moved");
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (record_get_str(r, keys[i], v, sizeof(v))[0] != '\0')
				record_add_str(&m, keys[i], v);
		record_add_str(&m, "by", by);
		record_add_str(&m, "from_pc", s->pc);
		record_add_time(&m, "from_time", s->ts);
		record_add_str(&m, "to_pc", host);
		record_add_time(&m, "to_time", r->ts_us);
		lab_emit(&m);
		record_free(&m);
		moved = 1;
	}
	snprintf(s->pc, sizeof(s->pc), "%s", host);
	s->ts = r->ts_us;
	return moved;
}

/* The end of a USB session: its totals to the lab log. */
static void
lab_session_end(struct sess *s, const struct record *r)
{
	struct record	m;

	record_init(&m);
	record_begin(&m, "lab.usb.session");
	record_add_str(&m, "pc", s->pc);
	record_add_str(&m, "usb_session", s->id);
	record_add_str(&m, "device_id", s->device_id);
	if (s->added != 0)
		record_add_time(&m, "added", s->added);
	record_add_time(&m, "removed", r->ts_us);
	if (s->added != 0)
		record_add_duration(&m, "duration", r->ts_us - s->added);
	record_add_int(&m, "mounts", s->mounts);
	record_add_int(&m, "files_written", s->fw);
	record_add_int(&m, "bytes_written", s->bw);
	record_add_int(&m, "files_read", s->fr);
	record_add_int(&m, "bytes_read", s->br);
	lab_emit(&m);
	record_free(&m);
}

/* usb.add, usb.mount, usb.write, usb.read, usb.remove. */
static void
lab_usb(const char *host, const char *ev, const struct record *r)
{
	struct sess	*s;
	struct dev	*d;
	char		 did[64], id[64], key[KEY_MAX], uuid[128], label[256];
	int		 ignored;

	record_get_str(r, "device_id", did, sizeof(did));
	if (did[0] == '\0')
		return;
	record_get_str(r, "usb_session", id, sizeof(id));
	/*
	 * One session per device and PC: a usb.add with another id (the
	 * agent restarted, its usb.remove never came) starts it afresh, so
	 * sessions never pile up.  Agents before usb_session: no id.
	 */
	snprintf(key, sizeof(key), "%s %s", host, did);
	s = ht_find(&sessions, key);
	if (s != NULL && strcmp(ev, "usb.add") == 0 && strcmp(s->id, id) != 0)
		memset((char *)s + sizeof(s->h), 0, sizeof(*s) - sizeof(s->h));
	else if (s == NULL && strcmp(ev, "usb.remove") != 0)
		s = ht_add(&sessions, key, sizeof(*s));
	if (s != NULL && s->pc[0] == '\0') {
		snprintf(s->pc, sizeof(s->pc), "%s", host);
		snprintf(s->id, sizeof(s->id), "%s", id);
		snprintf(s->device_id, sizeof(s->device_id), "%s", did);
	}
	dev_key(key, INDEX_USB, did);
	d = ht_find(&devs, key);
	ignored = d != NULL && d->mark == INDEX_IGNORED;
	if (strcmp(ev, "usb.add") == 0) {
		if (d == NULL && (d = ht_add(&devs, key, sizeof(*d))) != NULL)
			d->first = r->ts_us;
		if (d != NULL)
			d->last = r->ts_us;
		if (s != NULL)
			s->added = r->ts_us;
		snprintf(key, sizeof(key), "id %s", did);
		if (!ignored && lab_stick(key, host, r, "device_id") &&
		    s != NULL)
			s->moved = 1;
	} else if (strcmp(ev, "usb.mount") == 0) {
		if (s != NULL)
			s->mounts++;
		record_get_str(r, "fs_uuid", uuid, sizeof(uuid));
		record_get_str(r, "fs_label", label, sizeof(label));
		if (uuid[0] == '\0' || ignored)
			return;
		snprintf(key, sizeof(key), "fs %.64s %.80s", uuid, label);
		/* Once per session: the device_id may have told already. */
		if (s != NULL && s->moved) {
			lab_stick(key, host, r, NULL);
			return;
		}
		if (lab_stick(key, host, r, "filesystem") && s != NULL)
			s->moved = 1;
	} else if (s != NULL && strcmp(ev, "usb.write") == 0) {
		s->fw++;
		s->bw += record_get_int(r, "size", 0) > 0 ?
		    record_get_int(r, "size", 0) : 0;
	} else if (s != NULL && strcmp(ev, "usb.read") == 0) {
		s->fr++;
		s->br += record_get_int(r, "size", 0) > 0 ?
		    record_get_int(r, "size", 0) : 0;
	} else if (s != NULL && strcmp(ev, "usb.remove") == 0) {
		lab_session_end(s, r);
		ht_del(&sessions, &s->h);
		free(s);
	}
}

/* flow.lan: one end of a LAN conversation; both ends make lab.transfer. */
static void
lab_flow(const char *host, const struct record *r)
{
	struct flow	*f;
	struct record	 m;
	char		 cid[KEY_MAX];

	if (record_get_int(r, "final", 1) == 0)
		return;
	record_get_str(r, "community_id", cid, sizeof(cid));
	if (cid[0] == '\0')
		return;
	if ((f = ht_find(&flows, cid)) != NULL && strcmp(f->pc, host) != 0 &&
	    r->ts_us - f->ts <= LAB_TRANSFER_WINDOW * 1000000LL &&
	    f->ts - r->ts_us <= LAB_TRANSFER_WINDOW * 1000000LL) {
		record_init(&m);
		record_begin(&m, "lab.transfer");
		record_add_str(&m, "community_id", cid);
		record_add_str(&m, "proto", f->proto);
		record_add_str(&m, "src", f->src);
		record_add_str(&m, "dst", f->dst);
		record_add_int(&m, "dport", f->dport);
		record_add_str(&m, "pc_a", f->pc);
		record_add_int(&m, "bytes_out_a", f->out);
		record_add_int(&m, "bytes_in_a", f->in);
		record_add_str(&m, "pc_b", host);
		record_add_int(&m, "bytes_out_b",
		    record_get_int(r, "bytes_out", 0));
		record_add_int(&m, "bytes_in_b",
		    record_get_int(r, "bytes_in", 0));
		lab_emit(&m);
		record_free(&m);
		ht_del(&flows, &f->h);
		free(f);
		return;
	}
	if (f == NULL && (f = ht_add(&flows, cid, sizeof(*f))) == NULL)
		return;
	snprintf(f->pc, sizeof(f->pc), "%s", host);
	record_get_str(r, "proto", f->proto, sizeof(f->proto));
	record_get_str(r, "src", f->src, sizeof(f->src));
	record_get_str(r, "dst", f->dst, sizeof(f->dst));
	f->dport = record_get_int(r, "dport", 0);
	f->out = record_get_int(r, "bytes_out", 0);
	f->in = record_get_int(r, "bytes_in", 0);
	f->ts = r->ts_us;
}

/* Drops conversation ends nobody matched in time. */
static void
lab_sweep_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct hent	*e, *next;
	int64_t		 old = record_now() - LAB_TRANSFER_WINDOW * 2000000LL;
	size_t		 i;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < LAB_BUCKETS; i++)
		for (e = flows.b[i]; e != NULL; e = next) {
			next = e->next;
			if (((struct flow *)e)->ts < old) {
				ht_del(&flows, e);
				free(e);
			}
		}
}

void
lab_record(const char *host, const struct record *r)
{
	const char	*ev = (const char *)record_bytes(r) + r->event.off;
	char		 name[RECORD_EVENT_MAX + 1];

	if (r->event.len < 7 || (memcmp(ev, "net.", 4) != 0 &&
	    memcmp(ev, "usb.", 4) != 0 && memcmp(ev, "flow.", 5) != 0))
		return;
	snprintf(name, sizeof(name), "%.*s", (int)r->event.len, ev);
	if (strcmp(name, "net.device") == 0)
		lab_net_device(host, r);
	else if (strcmp(name, "flow.lan") == 0)
		lab_flow(host, r);
	else if (strncmp(name, "usb.", 4) == 0)
		lab_usb(host, name, r);
}

/* A MAC in lower case, or a device_id: 0, or -1. */
static int
lab_id(enum index_kind kind, const char *in, char *out, size_t size)
{
	uint8_t	m[6];
	size_t	i, n = strlen(in);

	if (kind == INDEX_LAN) {
		if (addr_mac_parse(in, m) == -1)
			return -1;
		snprintf(out, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0],
		    m[1], m[2], m[3], m[4], m[5]);
		return 0;
	}
	if (n == 0 || n >= size || n > 64)
		return -1;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)in[i]) && !strchr(":._-", in[i]))
			return -1;
	memcpy(out, in, n + 1);
	return 0;
}

int
lab_mark(enum index_kind kind, const char *in, enum index_mark mark,
    const char *note, const char *who, char *msg, size_t len)
{
	struct dev	*d;
	struct record	 r;
	char		 id[80], key[KEY_MAX];

	if (lab_id(kind, in, id, sizeof(id)) == -1) {
		snprintf(msg, len, "%s: not a %s", in, kind == INDEX_LAN ?
		    "MAC (aa:bb:cc:dd:ee:ff)" : "USB device_id");
		return -1;
	}
	if (note != NULL && strlen(note) > INDEX_NOTE_MAX) {
		snprintf(msg, len, "a note is at most %d bytes",
		    INDEX_NOTE_MAX);
		return -1;
	}
	dev_key(key, kind, id);
	d = ht_find(&devs, key);
	if (mark == INDEX_FORGET) {
		if (d == NULL) {
			snprintf(msg, len, "%s: no such device", id);
			return -1;
		}
		ht_del(&devs, &d->h);
		dev_free(d);
	} else {
		if (d == NULL && (d = ht_add(&devs, key, sizeof(*d))) == NULL) {
			snprintf(msg, len, "too many devices");
			return -1;
		}
		d->mark = mark;
		free(d->note);
		d->note = note != NULL && note[0] != '\0' ? xstrdup(note) :
		    NULL;
	}
	record_init(&r);
	record_begin(&r, "lab.mark");
	record_add_str(&r, "kind", kind == INDEX_USB ? "usb" : "lan");
	record_add_str(&r, "id", id);
	record_add_str(&r, "mark", mark_names[mark]);
	if (note != NULL && note[0] != '\0')
		record_add_str(&r, "note", note);
	record_add_str(&r, "by", who);
	lab_emit(&r);
	record_free(&r);
	snprintf(msg, len, "%s %s", id, mark == INDEX_FORGET ? "forgotten" :
	    mark_names[mark]);
	log_info("lab: %s (by %s)", msg, who);
	return 0;
}

void
lab_devices_json(struct buf *b, enum index_kind kind, int filter)
{
	const char	*prefix = kind == INDEX_USB ? "usb " : "lan ";
	struct hent	*e;
	struct dev	*d;
	size_t		 i;
	int		 n = 0;

	buf_add_u8(b, '[');
	for (i = 0; i < LAB_BUCKETS; i++)
		for (e = devs.b[i]; e != NULL; e = e->next) {
			d = (struct dev *)e;
			if (strncmp(e->key, prefix, 4) != 0 ||
			    (filter >= 0 && (int)d->mark != filter))
				continue;
			buf_add_str(b, n++ ? ",{\"id\":" : "{\"id\":");
			escape_json(b, (const uint8_t *)e->key + 4,
			    strlen(e->key + 4));
			buf_printf(b, ",\"mark\":\"%s\",\"note\":",
			    mark_names[d->mark]);
			if (d->note != NULL)
				escape_json(b, (const uint8_t *)d->note,
				    strlen(d->note));
			else
				buf_add_str(b, "null");
			buf_add_str(b, ",\"vendor\":");
			if (d->vendor != NULL)
				escape_json(b, (const uint8_t *)d->vendor,
				    strlen(d->vendor));
			else
				buf_add_str(b, "null");
			buf_printf(b, ",\"first_seen\":%lld,\"last_seen\":%lld}",
			    (long long)d->first, (long long)d->last);
		}
	buf_add_u8(b, ']');
}

int
lab_known(const char *id)
{
	struct dev	*d;
	char		 key[KEY_MAX], norm[80];

	if (lab_id(INDEX_LAN, id, norm, sizeof(norm)) == 0) {
		dev_key(key, INDEX_LAN, norm);
		if ((d = ht_find(&devs, key)) != NULL)
			return d->mark == INDEX_KNOWN;
	}
	dev_key(key, INDEX_USB, id);
	return (d = ht_find(&devs, key)) != NULL && d->mark == INDEX_KNOWN;
}

void
lab_init(struct event_base *b)
{
	struct timeval	tv = { LAB_SWEEP, 0 };

	base = b;
	sweep_ev = event_new(base, -1, EV_PERSIST, lab_sweep_cb, NULL);
	event_add(sweep_ev, &tv);
}

void
lab_shutdown(void)
{
	if (sweep_ev != NULL)
		event_free(sweep_ev);
	sweep_ev = NULL;
	ht_clear(&devs, 1);
	ht_clear(&sticks, 0);
	ht_clear(&sessions, 0);
	ht_clear(&flows, 0);
}
