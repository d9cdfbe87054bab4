/* SPDX-License-Identifier: ISC */
/*
 * The collector's options: command line, collector.conf, --help and the
 * manual's option list all come from this table.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <string.h>

#include "addr.h"
#include "collector.h"
#include "hostname.h"
#include "opts.h"
#include "wire.h"

#define C(f)	offsetof(struct collector_conf, f)

/* --listen: a numeric address and port. */
static int
check_listen(const char *s, const char **err)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	return addr_parse(s, &ss, &len, err);
}

/* --room: a name and at least one seat, each a host name or -. */
static int
check_room(const char *s, const char **err)
{
	const char	*p = s;
	size_t		 len;
	int		 n = 0;

	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		len = strcspn(p, " \t");
		if (!(len == 1 && *p == '-') && !hostname_ok(p, len)) {
			*err = "a room is NAME HOST|- ...: names of 1 to 64 "
			    "letters, digits, . _ -";
			return -1;
		}
		p += len;
		n++;
	}
	if (n < 2) {
		*err = "a room is NAME HOST|- ...: name it and list its PCs";
		return -1;
	}
	return 0;
}

const struct opt collector_opts[] = {
	{ "listen", 'l', OPT_LIST, C(listen), "ADDR:PORT", 0, 0,
	  "0.0.0.0:7514",
	  "Listen on this numeric address. IPv6 addresses go in brackets, "
	  "[::]:7514; at most 8.", 0, check_listen },
	{ "log-dir", 'd', OPT_STR, C(log_dir), "DIR", 0, 0,
	  "/var/log/labwatch",
	  "The folder of the per-host logs, HOST.log. It must exist.",
	  0, NULL },
	{ "format", 'F', OPT_CHOICE, C(format), "text|json", 0, 0, "text",
	  "The log line format. Text lines TS HOST EVENT key=value, or JSON "
	  "Lines; a log folder holds one format, and a collector started "
	  "with the other on it refuses to start.", 0, NULL },
	{ "localtime", 0, OPT_FLAG, C(localtime), NULL, 0, 0, "no",
	  "Write local time with its UTC offset in text lines. UTC is the "
	  "default; JSON lines stay in UTC.", 0, NULL },
	{ "state-dir", 's', OPT_STR, C(state_dir), "DIR", 0, 0,
	  "/var/lib/labwatch-collector",
	  "The last stored record of each host's stream. The file streams is "
	  "kept there; the folder is created if missing.", 0, NULL },
	{ "sync", 0, OPT_CHOICE, C(sync), "always|batch|never", 0, 0, "batch",
	  "When a record counts as stored and is acknowledged. batch writes "
	  "each batch and has a thread fdatasync the logs written since the "
	  "last round; always does the fdatasync of each batch in the event "
	  "loop; never acknowledges once written.", 0, NULL },
	{ "index", 0, OPT_STR, C(index), "FILE|off", 0, 0, "",
	  "The index, an SQLite database (WAL) of hosts, devices, USB "
	  "sessions and every record, written by a thread of its own that "
	  "acknowledgements never wait for. Empty (the default): index.db in "
	  "the state folder; off turns it off. The logs stay the truth: "
	  "labwatchctl reindex rebuilds it from them.", OPT_EMPTY_OK, NULL },
	{ "no-index", 0, OPT_FLAG, C(no_index), NULL, 0, 0, "no",
	  "No index, as index off. Devices are then new to the lab when new "
	  "since the collector started, and marks do not outlive it.", 0,
	  NULL },
	{ "user", 'u', OPT_STR, C(user), "USER", 0, 0, "labwatch",
	  "Started as root, hand the log and state folders to this user and "
	  "run as it once the sockets are open (nobody, with a warning, where "
	  "there is no such user); root keeps root. The user must be able to "
	  "read the TLS files (for a reload) and, with enrolment, write the "
	  "CA folder.", 0, NULL },
	{ "pidfile", 'p', OPT_STR, C(pidfile), "FILE", 0, 0, NULL,
	  "Write the process id here. For those not under systemd.", 0, NULL },
	{ "control", 0, OPT_STR, C(control), "PATH", 0, 0,
	  "/run/labwatch/collector.sock",
	  "The control socket labwatchctl talks to. Mode 0660, group "
	  "labwatch when that group exists; empty turns it off.",
	  OPT_EMPTY_OK, NULL },
	{ "metrics", 0, OPT_STR, C(metrics), "ADDR:PORT", 0, 0, NULL,
	  "Serve Prometheus metrics over HTTP here, at /metrics. Off by "
	  "default; :PORT listens on loopback only.", 0, check_listen },
	{ "http", 0, OPT_STR, C(http), "ADDR:PORT", 0, 0, NULL,
	  "Serve the dashboard here: the page, its JSON API under /api/ and "
	  "its live feed. Off by default; :PORT listens on loopback only, "
	  "over HTTP. On any other address it is HTTPS with the collector's "
	  "certificate (--tls-cert, --tls-key), so not with --insecure.",
	  0, check_listen },
	{ "http-users", 0, OPT_STR, C(http_users), "FILE", 0, 0,
	  "/etc/labwatch/users",
	  "The dashboard's accounts, NAME:ROLE:HASH lines as labwatchctl "
	  "passwd writes them. ROLE is admin (may mark devices) or viewer "
	  "(may look); HASH is yescrypt or bcrypt. Read again when it "
	  "changes and at SIGHUP.", 0, NULL },
	{ "room", 0, OPT_LIST, C(rooms), "NAME HOST|- ...", 0, 0, NULL,
	  "A row of the dashboard's room layout: its name, then the PCs from "
	  "left to right, - for an empty seat, e.g. room front pc01 pc02 - "
	  "pc03. The grid shows rows in the order given, and PCs in no row "
	  "after them.", 0, check_room },
	{ "alert", 0, OPT_LIST, C(alerts),
	  "NAME EVENT [FIELD=GLOB ...] [unknown] -> COMMAND [ARG ...]", 0, 0,
	  NULL,
	  "A rule: records that match run the command. EVENT and each GLOB "
	  "are shell patterns, host=GLOB matches the host, and a list field "
	  "matches when one of its items does; unknown matches only devices "
	  "(mac, else device_id) not marked known. The command, an absolute "
	  "path, runs without a shell with the record as JSON on its standard "
	  "input and LABWATCH_ALERT, LABWATCH_HOST and LABWATCH_SUPPRESSED in "
	  "its environment, e.g. alert sticks usb.add storage=true -> "
	  "/usr/lib/labwatch/notify-pushover, or alert newbox lab.device.new "
	  "unknown -> /usr/lib/labwatch/notify-pushover.", OPT_FILE, NULL },
	{ "forward", 0, OPT_LIST, C(forwards),
	  "NAME syslog tcp://HOST:PORT|tls://HOST:PORT [OPTION VALUE ...], "
	  "or NAME kafka BROKER[,BROKER...] TOPIC [OPTION VALUE ...]", 0,
	  0, NULL,
	  "An output beside the logs: every record written to a host log or "
	  "lab.log goes, through its own queue in the state folder, to a "
	  "syslog server (RFC 5424, octet counting; over TLS verified with "
	  "ca FILE and name SERVER-NAME, optionally presenting cert FILE and "
	  "key FILE) or to a Kafka topic (an idempotent producer, the host "
	  "as key; ca FILE for TLS to the brokers). Options: format json|ecs "
	  "(the message's JSON, default json), queue BYTES (default "
	  "268435456; a full queue drops its oldest records and says so in "
	  "lab.log), pen NUMBER (syslog: the private enterprise number of "
	  "the structured data, default 32473, a placeholder), e.g. forward "
	  "campus syslog tls://relay.example:6514 ca "
	  "/etc/labwatch/relay-ca.crt format ecs, or forward bus kafka "
	  "k1.example:9092,k2.example:9092 labwatch.", 0, NULL },
	{ "alert-timeout", 0, OPT_INT, C(alert_timeout), "SECONDS", 1, 3600,
	  "10", "An alert command still running after this long is killed.",
	  0, NULL },
	{ "alert-max", 0, OPT_INT, C(alert_max), "N", 1, 256, "4",
	  "Alert commands running at once. More wait, up to 64.", 0, NULL },
	{ "alert-interval", 0, OPT_INT, C(alert_interval), "SECONDS", 0,
	  86400, "60", "Each rule runs at most once this often per host. What "
	  "it holds back is counted and passed on to the next run in "
	  "LABWATCH_SUPPRESSED.", 0, NULL },
	{ "insecure", 0, OPT_FLAG, C(insecure), NULL, 0, 0, "no",
	  "Plaintext, no authentication (tests only). Anyone on the network "
	  "can then write any host's log; agents need it too.", 0, NULL },
	{ "tls-ca", 0, OPT_STR, C(tls.ca), "FILE", 0, 0,
	  "/etc/labwatch/tls/ca.crt",
	  "The lab CA agents' certificates must chain to.", 0, NULL },
	{ "tls-cert", 0, OPT_STR, C(tls.cert), "FILE", 0, 0,
	  "/etc/labwatch/tls/collector.crt",
	  "The collector's certificate, with its chain.", 0, NULL },
	{ "tls-key", 0, OPT_STR, C(tls.key), "FILE", 0, 0,
	  "/etc/labwatch/tls/collector.key",
	  "Its private key. Refused when group or others may read it.",
	  0, NULL },
	{ "tls-crl", 0, OPT_STR, C(tls.crl), "FILE", 0, 0,
	  "/etc/labwatch/tls/crl.pem",
	  "Revoked certificates. The default file is read when it exists; "
	  "one given must load. A CRL past its next update still revokes "
	  "what it lists.", 0, NULL },
	{ "enroll-hosts", 0, OPT_STR, C(enroll.hosts), "PATTERNS", 0, 0, "",
	  "Host names that may enrol, e.g. pc[01-40]. Patterns are separated "
	  "by commas or spaces; * and ? match as in the shell, [01-40] a "
	  "number in that range with that many digits. Empty (the default): "
	  "enrolment is off.", OPT_EMPTY_OK, NULL },
	{ "enroll-secret", 0, OPT_STR, C(enroll.secret), "FILE", 0, 0,
	  "/etc/labwatch/enroll.hash",
	  "The hash of the enrolment secret. As labwatch-ca secret writes it: "
	  "pbkdf2-sha256$ITER$SALT$HASH.", 0, NULL },
	{ "enroll-ca", 0, OPT_STR, C(enroll.ca_dir), "DIR", 0, 0,
	  "/etc/labwatch/ca",
	  "The labwatch-ca folder that signs enrolment requests. Its key must "
	  "be readable by the collector; labwatchctl revoke revokes there.",
	  0, NULL },
	{ "max-conns", 0, OPT_INT, C(max_conns), "N", 1, 1000000, "4096",
	  "Most agents connected at once. One more is refused at its HELLO.",
	  0, NULL },
	{ "max-pending", 0, OPT_INT, C(max_pending), "N", 1, 1000000, "256",
	  "Connections before HELLO. More are closed at once.", 0, NULL },
	{ "max-pending-per-addr", 0, OPT_INT, C(max_pending_addr), "N", 1,
	  1000000, "16", "Connections before HELLO from one address.",
	  0, NULL },
	{ "max-frame", 0, OPT_INT, C(max_frame_int), "BYTES", WIRE_MIN_FRAME,
	  WIRE_MAX_FRAME_LIMIT, "65536", "The largest frame payload accepted.",
	  0, NULL },
	{ "handshake-timeout", 0, OPT_INT, C(handshake_timeout), "SECONDS", 1,
	  3600, "10", "Seconds a new connection has to say HELLO. Trickling "
	  "bytes do not extend it.", 0, NULL },
	{ "idle-timeout", 0, OPT_INT, C(idle_timeout), "SECONDS", 3, 86400,
	  "30", "Seconds of silence after which a host is logged offline. Its "
	  "connection is closed; a peer that does not read for this long is "
	  "closed too.", 0, NULL },
	{ "foreground", 'f', OPT_FLAG, C(foreground), NULL, 0, 0, "no",
	  "Stay in the foreground and log to standard error. Otherwise the "
	  "collector becomes a daemon and logs to syslog.", 0, NULL },
	{ "verbose", 'v', OPT_FLAG, C(verbose), NULL, 0, 0, "no",
	  "Log debug messages.", 0, NULL },
	OPTS_ACTIONS("/etc/labwatch/collector.conf"),
};
const size_t collector_nopts = sizeof(collector_opts) /
    sizeof(collector_opts[0]);
