/* SPDX-License-Identifier: ISC */
/*
 * The index's schema, one migration a version: index_migrations[i] takes
 * a database at PRAGMA user_version i to i + 1, in one transaction, and
 * records itself in the migrations table.  Never edit a migration that
 * shipped: append one.
 *
 * Times are microseconds since the epoch, UTC (as in the records).  MACs
 * are lower case aa:bb:cc:dd:ee:ff.  A mark is 'new', 'known' or
 * 'ignored'.
 */
#include "index.h"

const char *const index_migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE migrations ("
	"  version INTEGER PRIMARY KEY,"
	"  applied INTEGER NOT NULL,"		/* µs */
	"  what TEXT NOT NULL);"

	/* Each PC: from host.connect/disconnect/offline, agent.start. */
	"CREATE TABLE hosts ("
	"  host TEXT PRIMARY KEY,"
	"  state TEXT NOT NULL DEFAULT 'offline',"	/* online, offline */
	"  peer TEXT,"				/* address:port of the link */
	"  addresses TEXT,"			/* 'IFACE ADDR/PREFIX' lines */
	"  macs TEXT,"				/* 'IFACE MAC' lines */
	"  version TEXT,"			/* the agent's */
	"  identity TEXT,"			/* its TLS certificate's */
	"  first_seen INTEGER,"
	"  last_seen INTEGER,"
	"  last_event TEXT);"

	/* LAN devices (net.device): one row a MAC. */
	"CREATE TABLE devices ("
	"  mac TEXT PRIMARY KEY,"
	"  vendor TEXT,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  mark TEXT NOT NULL DEFAULT 'new'"
	"    CHECK (mark IN ('new', 'known', 'ignored')),"
	"  note TEXT,"
	"  marked_by TEXT,"
	"  marked_at INTEGER);"
	"CREATE TABLE device_ips ("
	"  mac TEXT NOT NULL,"
	"  ip TEXT NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  PRIMARY KEY (mac, ip)) WITHOUT ROWID;"
	/* Which PCs saw it. */
	"CREATE TABLE device_hosts ("
	"  mac TEXT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  PRIMARY KEY (mac, host)) WITHOUT ROWID;"

	/* USB devices (usb.add): one row a device_id. */
	"CREATE TABLE usb_devices ("
	"  device_id TEXT PRIMARY KEY,"
	"  vendor_id TEXT,"
	"  product_id TEXT,"
	"  manufacturer TEXT,"
	"  product TEXT,"
	"  serial TEXT,"
	"  vendor_name TEXT,"
	"  model_name TEXT,"
	"  fs_uuid TEXT,"			/* the last mount's */
	"  fs_label TEXT,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  mark TEXT NOT NULL DEFAULT 'new'"
	"    CHECK (mark IN ('new', 'known', 'ignored')),"
	"  note TEXT,"
	"  marked_by TEXT,"
	"  marked_at INTEGER);"
	"CREATE TABLE usb_device_hosts ("
	"  device_id TEXT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  PRIMARY KEY (device_id, host)) WITHOUT ROWID;"

	/*
	 * USB sessions: usb.add to usb.remove of one device on one PC, the
	 * agent's usb_session id in every record between.
	 */
	"CREATE TABLE usb_sessions ("
	"  session TEXT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  device_id TEXT,"
	"  added INTEGER,"			/* usb.add */
	"  removed INTEGER,"			/* usb.remove; NULL: in */
	"  mounts INTEGER NOT NULL DEFAULT 0,"
	"  fs_uuid TEXT,"
	"  fs_label TEXT,"
	"  files_written INTEGER NOT NULL DEFAULT 0,"
	"  bytes_written INTEGER NOT NULL DEFAULT 0,"
	"  files_read INTEGER NOT NULL DEFAULT 0,"
	"  bytes_read INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (host, session));"
	"CREATE INDEX usb_sessions_device ON usb_sessions (device_id, added);"
	/* What was copied: usb.write and usb.read of a session. */
	"CREATE TABLE usb_files ("
	"  host TEXT NOT NULL,"
	"  session TEXT,"
	"  device_id TEXT,"
	"  ts INTEGER NOT NULL,"
	"  direction TEXT NOT NULL CHECK (direction IN ('write', 'read')),"
	"  path TEXT NOT NULL,"
	"  size INTEGER,"			/* writes */
	"  count INTEGER NOT NULL DEFAULT 1,"
	"  uid INTEGER,"
	"  comm TEXT);"
	"CREATE INDEX usb_files_session ON usb_files (host, session);"
	"CREATE INDEX usb_files_device ON usb_files (device_id, ts);"

	/*
	 * Every record of every log (host 'lab' for lab.log), for search by
	 * host, event, time range and text.  line: the record as its text
	 * log line without its time; events_fts indexes it (external
	 * content, by rowid; rows are never deleted but by a rebuild).
	 */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  host TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  seq INTEGER NOT NULL DEFAULT 0,"	/* 0: the collector's */
	"  line TEXT NOT NULL);"
	"CREATE UNIQUE INDEX events_host_ts ON events (host, ts, event, seq);"
	"CREATE INDEX events_ts ON events (ts);"
	"CREATE INDEX events_event_ts ON events (event, ts);"
	"CREATE VIRTUAL TABLE events_fts USING fts5 (line, "
	"  content = 'events', content_rowid = 'id');"
	"CREATE TRIGGER events_ai AFTER INSERT ON events BEGIN"
	"  INSERT INTO events_fts (rowid, line) VALUES (new.id, new.line);"
	"  END;"
	"INSERT INTO migrations VALUES (1, 0, 'hosts, devices, usb, events');",
};

const int index_nmigrations = sizeof(index_migrations) /
    sizeof(index_migrations[0]);
