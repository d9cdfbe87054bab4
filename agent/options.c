/* SPDX-License-Identifier: ISC */
/*
 * The agent's options: command line, agent.conf, --help and the manual's
 * option list all come from this table.
 */
#include <stddef.h>
#include <string.h>

#include "addr.h"
#include "agent.h"
#include "num.h"
#include "opts.h"

#define C(f)	offsetof(struct agent_conf, f)

/* --ignore-port: a port number or "none". */
static int
check_port(const char *s, const char **err)
{
	long long	v;

	if (strcmp(s, "none") == 0)
		return 0;
	return num_parse(s, 1, 65535, &v, err);
}

/* --collector: one HOST:PORT or a list of them, in order of preference. */
static int
check_collectors(const char *s, const char **err)
{
	struct addr_hostport	list[ADDR_LIST_MAX];

	return addr_split_list(s, list, ADDR_LIST_MAX, err) == -1 ? -1 : 0;
}

/* --enroll: exactly one collector; its certificate serves every one. */
static int
check_enroll(const char *s, const char **err)
{
	if (strchr(s, ',') != NULL) {
		*err = "enrol with one collector, not a list (the certificate "
		    "it signs serves every collector of the same lab CA)";
		return -1;
	}
	return opts_check_hostport(s, err);
}

const struct opt agent_opts[] = {
	{ "collector", 'c', OPT_STR, C(collector), "HOST:PORT[,HOST:PORT...]",
	  0, 0, NULL,
	  "Send records to this collector, or to the first of a list that "
	  "answers. A name is resolved at each connect; IPv6 addresses go in "
	  "brackets, [2001:db8::1]:7514. A list of up to 8, separated by "
	  "commas, is in order of preference: when a collector cannot be "
	  "reached (connect, TLS, silence or a BYE that sends the agent "
	  "away) the agent goes on to the next, and while on a later one it "
	  "probes the first (from 2 seconds, doubling up to --reconnect-max) "
	  "and comes back to it once it answers HELLO with WELCOME; an "
	  "agent.collector record marks each switch. Every collector's "
	  "certificate must chain to --tls-ca.", 0, check_collectors },
	{ "stdout", 's', OPT_FLAG, C(to_stdout), NULL, 0, 0, "no",
	  "Print records on standard output instead (standalone mode).",
	  0, NULL },
	{ "host", 0, OPT_STR, C(host), "NAME", 0, 0, NULL,
	  "This PC's name in the logs. 1 to 64 characters of [A-Za-z0-9._-], "
	  "not starting with a dot; by default the name in this PC's "
	  "certificate, else the machine's host name.", 0, NULL },
	{ "insecure", 0, OPT_FLAG, C(insecure), NULL, 0, 0, "no",
	  "Plaintext link without authentication (tests). The collector must "
	  "run with it too.", 0, NULL },
	{ "tls-ca", 0, OPT_STR, C(tls_ca), "FILE", 0, 0,
	  "/etc/labwatch/tls/ca.crt",
	  "The lab CA the collector's certificate must chain to.", 0, NULL },
	{ "tls-cert", 0, OPT_STR, C(tls_cert), "FILE", 0, 0,
	  "/etc/labwatch/tls/agent.crt", "This PC's certificate.", 0, NULL },
	{ "tls-key", 0, OPT_STR, C(tls_key), "FILE", 0, 0,
	  "/etc/labwatch/tls/agent.key",
	  "Its private key. Refused when group or others may read it.",
	  0, NULL },
	{ "enroll", 0, OPT_STR, C(enroll), "HOST:PORT", 0, 0, NULL,
	  "Make this PC's key, have the collector there sign it, store both "
	  "at --tls-key and --tls-cert, and exit. The key never leaves the "
	  "PC; the exit status is 0, or 1 when refused (with the collector's "
	  "reason). One collector, not a list: the certificate it signs is "
	  "good for every collector of the same lab CA, so a PC whose "
	  "--collector names several enrols with any one of them.",
	  OPT_CLI, check_enroll },
	{ "enroll-secret", 0, OPT_STR, C(enroll_secret), "FILE", 0, 0,
	  "/etc/labwatch/enroll.secret",
	  "The lab's enrolment secret, on the first line of a file of mode "
	  "600.", 0, NULL },
	{ "user", 'u', OPT_STR, C(user), "USER", 0, 0, "labwatch",
	  "The user the unprivileged worker runs as when the agent starts as "
	  "root (nobody, with a warning, where there is no such user). The "
	  "privileged parent keeps root only to open capture sockets and "
	  "fanotify groups for it, and to send Wake-on-LAN frames.", 0, NULL },
	{ "format", 'F', OPT_CHOICE, C(format), "text|json", 0, 0, "text",
	  "The format of --stdout lines.", 0, NULL },
	{ "heartbeat", 0, OPT_INT, C(heartbeat), "SECONDS", 1, 3600, "5",
	  "Seconds between heartbeats. Shorter if the collector's idle "
	  "timeout asks for it.", 0, NULL },
	{ "reconnect-max", 0, OPT_INT, C(reconnect_max), "SECONDS", 1, 3600,
	  "30", "The longest wait between reconnects. The wait starts at half "
	  "a second and doubles, with jitter.", 0, NULL },
	{ "state-dir", 0, OPT_STR, C(state_dir), "DIR", 0, 0,
	  "/var/lib/labwatch",
	  "Stream id, spool and known devices. What the agent keeps across "
	  "restarts: the stream id, the records not yet acknowledged and the "
	  "network devices already announced; created if missing.", 0, NULL },
	{ "spool-max", 0, OPT_LLONG, C(spool_max_ll), "BYTES", 65536,
	  1LL << 40, "268435456",
	  "Records kept for the collector. When the spool is full the oldest "
	  "go, and an agent.dropped record says which.", 0, NULL },
	{ "selftest-rate", 0, OPT_INT, C(selftest_rate), "N", 0, 1000000,
	  "0", "Emit N agent.selftest records a second, to test a pipeline "
	  "end to end. They are numbered from 1 in the field n; 0 is off.",
	  0, NULL },
	{ "no-usb", 0, OPT_FLAG, C(no_usb), NULL, 0, 0, "no",
	  "Do not report USB devices, mounts and files.", 0, NULL },
	{ "no-net", 0, OPT_FLAG, C(no_net), NULL, 0, 0, "no",
	  "Do not capture packets.", 0, NULL },
	{ "interface", 'i', OPT_LIST, C(interface_list), "NAME", 0, 0,
	  "every interface that is up",
	  "Capture on this interface. By default on every interface that is "
	  "up, has an address and is not loopback.", 0, NULL },
	{ "read", 'r', OPT_STR, C(read_file), "FILE", 0, 0, NULL,
	  "Replay a capture file (pcap, pcapng), then exit. Ethernet, "
	  "802.1Q/QinQ, Linux cooked v1 and v2 and raw IP are read as fast "
	  "as they can be, with the packets' timestamps as the clock; every "
	  "open conversation ends at the end of the file. With --collector "
	  "the agent exits once the collector has acknowledged every record.",
	  OPT_CLI, NULL },
	{ "lan", 0, OPT_LIST, C(lan_list), "CIDR", 0, 0,
	  "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 169.254.0.0/16 fc00::/7 "
	  "fe80::/10",
	  "A LAN range. Given, the list replaces the defaults; a conversation "
	  "between two LAN addresses is flow.lan, any other flow.internet.",
	  0, opts_check_cidr },
	{ "ignore-port", 0, OPT_LIST, C(port_list), "PORT|none", 0, 0,
	  "53 67 68 123 137 138 1900 5353 5355",
	  "A service port whose conversations are not logged. Given, the list "
	  "replaces the defaults; none ignores no port. DNS answers are still "
	  "read for names.", 0, check_port },
	{ "ip-filter", 0, OPT_STR, C(ip_filter), "FILE", 0, 0,
	  "/etc/labwatch/ip.txt",
	  "Internet ranges not logged. One CIDR a line with an optional "
	  "label; # starts a comment; a bad line is reported as file:line and "
	  "skipped. The default file may be absent; SIGHUP reloads it.",
	  0, NULL },
	{ "flow-idle", 0, OPT_INT, C(flow_idle), "SECONDS", 1, 3600, "2",
	  "A conversation ends after this many seconds without a packet.",
	  0, NULL },
	{ "flow-active", 0, OPT_INT, C(flow_active), "SECONDS", 1, 86400,
	  "60", "Interim records of a long conversation every this many "
	  "seconds. They have final false and the totals so far.", 0, NULL },
	{ "stats", 0, OPT_INT, C(stats_interval), "SECONDS", 1, 86400, "60",
	  "Seconds between agent.stats records. One more comes when the agent "
	  "stops.", 0, NULL },
	{ "pidfile", 0, OPT_STR, C(pidfile), "FILE", 0, 0, NULL,
	  "Write the process id here. For those not under systemd.", 0, NULL },
	{ "foreground", 'f', OPT_FLAG, C(foreground), NULL, 0, 0, "no",
	  "Stay in the foreground and log to standard error. Otherwise the "
	  "agent becomes a daemon and logs to syslog; --stdout implies it.",
	  0, NULL },
	{ "verbose", 'v', OPT_FLAG, C(verbose), NULL, 0, 0, "no",
	  "Log debug messages.", 0, NULL },
	OPTS_ACTIONS("/etc/labwatch/agent.conf"),
};
const size_t agent_nopts = sizeof(agent_opts) / sizeof(agent_opts[0]);
