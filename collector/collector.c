/*
 * labwatch-collector: receives records from the agents of a lab and writes
 * one log file per host.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <event2/event.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "enroll.h"
#include "hostlog.h"
#include "hostnet.h"
#include "lockfile.h"
#include "log.h"
#include "num.h"
#include "privdrop.h"
#include "tls.h"
#include "wake.h"
#include "wire.h"

#define DEFAULT_LISTEN	"0.0.0.0:7514"
#define DEFAULT_LOGDIR	"/var/log/labwatch"
#define DEFAULT_STATEDIR "/var/lib/labwatch-collector"
#define MAX_LISTEN	8
#define TLS_DIR		"/etc/labwatch/tls/"
#define ENROLL_DAYS	825	/* as labwatch-ca issues */

static struct event_base	*base;
static struct tls_files		 tls_files = {
	.ca = TLS_DIR "ca.crt",
	.cert = TLS_DIR "collector.crt",
	.key = TLS_DIR "collector.key",
	.crl = TLS_DIR "crl.pem",
};
static int			 crl_given;	/* --tls-crl: it must load */
static int			 insecure;
static int			 wake_timeout = 180;	/* seconds */

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: labwatch-collector [options]\n"
"  -l, --listen ADDR:PORT      listen here (repeatable; [v6]:port for IPv6;\n"
"                              default " DEFAULT_LISTEN ")\n"
"  -d, --log-dir DIR           per-host log files go here (default\n"
"                              " DEFAULT_LOGDIR ")\n"
"  -F, --format text|json      log line format (default text)\n"
"  -s, --state-dir DIR         last stored record per host stream (default\n"
"                              " DEFAULT_STATEDIR ")\n"
"      --sync always|batch|never\n"
"                              when an ACK is sent: after fdatasync of each\n"
"                              batch, after a group fdatasync in a thread\n"
"                              (default), or once written\n"
"  -u, --user USER             run as USER once the sockets are open\n"
"                              (default labwatch, else nobody; root only\n"
"                              when given: --user root)\n"
"      --insecure              plaintext, no authentication (tests only)\n"
"      --tls-ca FILE           agents' certificates must chain to this CA\n"
"                              (default " TLS_DIR "ca.crt)\n"
"      --tls-cert FILE         the collector's certificate (default\n"
"                              " TLS_DIR "collector.crt)\n"
"      --tls-key FILE          its private key, mode 600 (default\n"
"                              " TLS_DIR "collector.key)\n"
"      --tls-crl FILE          revoked certificates (default\n"
"                              " TLS_DIR "crl.pem, if present)\n"
"      --enroll-hosts PATTERNS host names that may enrol, e.g. 'pc[01-40]'\n"
"                              (default none: enrolment off)\n"
"      --enroll-secret FILE    hash of the enrolment secret (default\n"
"                              /etc/labwatch/enroll.hash)\n"
"      --enroll-ca DIR         labwatch-ca folder that signs (default\n"
"                              /etc/labwatch/ca)\n"
"      --max-pending N         connections before HELLO (default 256)\n"
"      --max-pending-per-addr N  ... from one address (default 16)\n"
"  -p, --pidfile FILE          write the process id here (for logrotate)\n"
"      --max-conns N           most agents connected at once (default 4096)\n"
"      --max-frame BYTES       largest frame payload (default 65536)\n"
"      --handshake-timeout S   seconds an agent has to say HELLO (default 10)\n"
"      --idle-timeout S        seconds of silence after which a host is\n"
"                              logged offline (default 30)\n"
"  -f, --foreground            stay in the foreground, log to stderr\n"
"  -v, --verbose               log debug messages\n"
"  -h, --help                  this text\n"
"  -V, --version               print the version\n");
	exit(status);
}

/*
 * Warns about files the collector will need again once it runs as u: the
 * TLS files at SIGHUP, the CA folder at each enrolment.
 */
static void
privdrop_check_files(const struct privdrop_user *u, const char *ca_dir)
{
	const char	*files[] = { tls_files.key, tls_files.cert,
			    tls_files.ca, ca_dir };
	struct stat	 st;
	size_t		 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (insecure && i < 3)
			continue;
		if (files[i] == NULL || stat(files[i], &st) == -1 ||
		    st.st_uid == u->uid || (i > 0 && i < 3 &&
		    (st.st_mode & 004)))
			continue;
		log_warnx("%s belongs to uid %u, not %s: %s", files[i],
		    (unsigned)st.st_uid, u->name, i == 3 ? "enrolment cannot "
		    "sign there (chown -R it)" : "a reload (SIGHUP) cannot "
		    "read it (chown it)");
	}
}

/* Loads certificate, key, CA and CRL into a new context. */
static SSL_CTX *
tls_load(char *err, size_t errlen)
{
	struct tls_files	f = tls_files;

	if (!crl_given && access(f.crl, F_OK) == -1)
		f.crl = NULL;
	return tls_server_ctx(&f, err, errlen);
}

/* SIGHUP: new files for new handshakes; revoked agents are cut. */
static void
tls_reload(void)
{
	char	 err[TLS_ERR_MAX];
	SSL_CTX	*ctx;

	if ((ctx = tls_load(err, sizeof(err))) == NULL) {
		log_warnx("TLS reload failed, keeping the old files: %s", err);
		return;
	}
	session_set_tls(ctx);
	log_info("TLS certificate, key, CA and CRL reloaded");
}

static void
signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct timeval	tv = { 1, 0 };

	(void)ev;
	(void)arg;
	if (sig == SIGHUP) {
		hostlog_reopen_all();
		if (!insecure)
			tls_reload();
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	listener_shutdown();
	session_shutdown();
	/* A second for the goodbyes to leave. */
	event_base_loopexit(base, &tv);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "log-dir", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'F' },
		{ "user", required_argument, NULL, 'u' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "sync", required_argument, NULL, 5 },
		{ "max-conns", required_argument, NULL, 1 },
		{ "insecure", no_argument, NULL, 6 },
		{ "tls-ca", required_argument, NULL, 7 },
		{ "tls-cert", required_argument, NULL, 8 },
		{ "tls-key", required_argument, NULL, 9 },
		{ "tls-crl", required_argument, NULL, 10 },
		{ "enroll-hosts", required_argument, NULL, 11 },
		{ "enroll-secret", required_argument, NULL, 12 },
		{ "enroll-ca", required_argument, NULL, 13 },
		{ "max-pending", required_argument, NULL, 14 },
		{ "max-pending-per-addr", required_argument, NULL, 15 },
		{ "max-frame", required_argument, NULL, 2 },
		{ "handshake-timeout", required_argument, NULL, 3 },
		{ "idle-timeout", required_argument, NULL, 4 },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct collector_conf	 conf = {
		.max_frame = WIRE_MAX_FRAME,
		.max_conns = 4096,
		.max_pending = 256,
		.max_pending_addr = 16,
		.handshake_timeout = 10,
		.idle_timeout = 30,
		.format = FORMAT_TEXT,
		.sync = SYNC_BATCH,
	};
	const char	*listen[MAX_LISTEN], *logdir = DEFAULT_LOGDIR;
	const char	*user = "labwatch", *statedir = DEFAULT_STATEDIR;
	struct privdrop_user u;
	int		 drop;
	const char	*pidfile = NULL;
	struct enroll_conf econf = {
		.secret = "/etc/labwatch/enroll.hash",
		.ca_dir = "/etc/labwatch/ca",
		.days = ENROLL_DAYS,
	};
	char		 err[TLS_ERR_MAX];
	SSL_CTX		*ctx = NULL;
	struct rlimit	 rl;
	FILE		*pf;
	struct event	*sigs[4];
	int		 signos[4] = { SIGHUP, SIGTERM, SIGINT, 0 };
	int		 ch, i, nlisten = 0, foreground = 0, verbose = 0;
	int		 lock_state, lock_logs;

	while ((ch = getopt_long(argc, argv, "l:d:F:u:s:p:fvhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'l':
			if (nlisten == MAX_LISTEN) {
				fprintf(stderr, "labwatch-collector: at most "
				    "%d --listen\n", MAX_LISTEN);
				exit(2);
			}
			listen[nlisten++] = optarg;
			break;
		case 'd':
			logdir = optarg;
			break;
		case 'F':
			if (format_parse(optarg, &conf.format) == -1) {
				fprintf(stderr, "labwatch-collector: --format "
				    "%s: use text or json\n", optarg);
				exit(2);
			}
			break;
		case 'u':
			user = optarg;
			break;
		case 's':
			statedir = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 5:
			if (hostlog_sync_parse(optarg, &conf.sync) == -1) {
				fprintf(stderr, "labwatch-collector: --sync %s: "
				    "use always, batch or never\n", optarg);
				exit(2);
			}
			break;
		case 6:
			insecure = 1;
			break;
		case 7:
			tls_files.ca = optarg;
			break;
		case 8:
			tls_files.cert = optarg;
			break;
		case 9:
			tls_files.key = optarg;
			break;
		case 10:
			tls_files.crl = optarg;
			crl_given = 1;
			break;
		case 11:
			econf.hosts = optarg;
			break;
		case 12:
			econf.secret = optarg;
			break;
		case 13:
			econf.ca_dir = optarg;
			break;
		case 14:
			conf.max_pending = (int)num_arg("max-pending", optarg, 1,
			    1000000);
			break;
		case 15:
			conf.max_pending_addr = (int)num_arg(
			    "max-pending-per-addr", optarg, 1, 1000000);
			break;
		case 1:
			conf.max_conns = (int)num_arg("max-conns", optarg, 1,
			    1000000);
			break;
		case 2:
			conf.max_frame = (uint32_t)num_arg("max-frame", optarg,
			    1024, WIRE_MAX_FRAME_LIMIT);
			break;
		case 3:
			conf.handshake_timeout = (int)num_arg(
			    "handshake-timeout", optarg, 1, 3600);
			break;
		case 4:
			conf.idle_timeout = (int)num_arg("idle-timeout",
			    optarg, 3, 86400);
			break;
		case 'f':
			foreground = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("labwatch-collector %s\n", LABWATCH_VERSION);
			exit(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (nlisten == 0)
		listen[nlisten++] = DEFAULT_LISTEN;

	log_init("labwatch-collector", 1, verbose);
	signal(SIGPIPE, SIG_IGN);
	/* A lab is many connections: take every descriptor we may. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit(RLIMIT_NOFILE)");
	}
	if (!insecure && (ctx = tls_load(err, sizeof(err))) == NULL) {
		fprintf(stderr, "labwatch-collector: %s\n(make the files with "
		    "labwatch-ca, or run with --insecure on both sides for a "
		    "plaintext test)\n", err);
		exit(2);
	}
	if (insecure && econf.hosts != NULL && econf.hosts[0] != '\0') {
		fprintf(stderr, "labwatch-collector: --enroll-hosts needs TLS; "
		    "not with --insecure\n");
		exit(2);
	}
	if (enroll_init(&econf, err, sizeof(err)) == -1) {
		fprintf(stderr, "labwatch-collector: %s\n", err);
		exit(2);
	}
	if (mkdir(statedir, 0700) == -1 && errno != EEXIST)
		fatal("state folder %s", statedir);
	/* The folders become the user's: it writes them from now on. */
	drop = geteuid() == 0 && strcmp(user, "root") != 0;
	if (drop && (privdrop_lookup(user, &u) == -1 ||
	    privdrop_chown_dir(statedir, &u) == -1 ||
	    privdrop_chown_dir(logdir, &u) == -1))
		exit(1);
	if (drop)
		privdrop_check_files(&u, econf.hosts != NULL &&
		    econf.hosts[0] != '\0' ? econf.ca_dir : NULL);
	else if (geteuid() == 0)
		log_warnx("running as root (--user root)");
	if ((lock_state = lockfile_take(statedir, "state folder", err,
	    sizeof(err))) == -1 || (lock_logs = lockfile_take(logdir,
	    "log folder", err, sizeof(err))) == -1) {
		fprintf(stderr, "labwatch-collector: %s\n", err);
		exit(1);
	}
	if ((base = event_base_new()) == NULL)
		fatalx("cannot make the event base");
	session_init(&conf);
	session_set_tls(ctx);
	if (insecure)
		log_warnx("--insecure: agents are neither authenticated nor "
		    "encrypted; anyone on the network can write any PC's log");
	if (hostlog_init(base, logdir, statedir, conf.format, conf.sync,
	    session_durable, session_resume_all) == -1)
		exit(1);
	hostnet_init(statedir);
	wake_init(base, wake_timeout);
	for (i = 0; i < nlisten; i++)
		if (listener_add(base, listen[i]) == -1)
			exit(1);
	if (!foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("labwatch-collector", 0, verbose);
		event_reinit(base);
		lockfile_setpid(lock_state);
		lockfile_setpid(lock_logs);
	}
	if (pidfile != NULL) {
		if ((pf = fopen(pidfile, "w")) == NULL)
			fatal("%s", pidfile);
		fprintf(pf, "%ld\n", (long)getpid());
		fclose(pf);
	}
	if (drop)
		privdrop(&u);
	for (i = 0; signos[i] != 0; i++) {
		sigs[i] = evsignal_new(base, signos[i], signal_cb, NULL);
		evsignal_add(sigs[i], NULL);
	}
	log_info("labwatch-collector %s started, logs in %s (%s)",
	    LABWATCH_VERSION, logdir, conf.format == FORMAT_JSON ? "json" :
	    "text");
	event_base_dispatch(base);
	/* Already stopping: a second request must not cut the cleanup. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);

	session_free_all();
	session_set_tls(NULL);
	listener_shutdown();
	wake_shutdown();
	hostlog_shutdown();
	hostnet_shutdown();
	enroll_shutdown();
	for (i = 0; signos[i] != 0; i++)
		event_free(sigs[i]);
	event_base_free(base);
	log_info("stopped");
	return 0;
}
