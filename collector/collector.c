/*
 * labwatch-collector: receives records from the agents of a lab and writes
 * one log file per host.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <event2/event.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "hostlog.h"
#include "log.h"
#include "num.h"
#include "privdrop.h"
#include "wire.h"

#define DEFAULT_LISTEN	"0.0.0.0:7514"
#define DEFAULT_LOGDIR	"/var/log/labwatch"
#define DEFAULT_STATEDIR "/var/lib/labwatch-collector"
#define MAX_LISTEN	8

static struct event_base	*base;

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
"  -u, --user USER             drop root to USER once the sockets are open\n"
"  -p, --pidfile FILE          write the process id here (for logrotate)\n"
"      --max-conns N           most agent connections at once (default 4096)\n"
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

static void
signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct timeval	tv = { 1, 0 };

	(void)ev;
	(void)arg;
	if (sig == SIGHUP) {
		hostlog_reopen_all();
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
		.handshake_timeout = 10,
		.idle_timeout = 30,
		.format = FORMAT_TEXT,
		.sync = SYNC_BATCH,
	};
	const char	*listen[MAX_LISTEN], *logdir = DEFAULT_LOGDIR;
	const char	*user = NULL, *statedir = DEFAULT_STATEDIR;
	const char	*pidfile = NULL;
	struct rlimit	 rl;
	FILE		*pf;
	struct event	*sigs[4];
	int		 signos[4] = { SIGHUP, SIGTERM, SIGINT, 0 };
	int		 ch, i, nlisten = 0, foreground = 0, verbose = 0;

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
	if ((base = event_base_new()) == NULL)
		fatalx("cannot make the event base");
	session_init(&conf);
	if (hostlog_init(base, logdir, statedir, conf.format, conf.sync,
	    session_durable, session_resume_all) == -1)
		exit(1);
	for (i = 0; i < nlisten; i++)
		if (listener_add(base, listen[i]) == -1)
			exit(1);
	if (!foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("labwatch-collector", 0, verbose);
		event_reinit(base);
	}
	if (pidfile != NULL) {
		if ((pf = fopen(pidfile, "w")) == NULL)
			fatal("%s", pidfile);
		fprintf(pf, "%ld\n", (long)getpid());
		fclose(pf);
	}
	if (user != NULL)
		privdrop(user);
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
	listener_shutdown();
	hostlog_shutdown();
	for (i = 0; signos[i] != 0; i++)
		event_free(sigs[i]);
	event_base_free(base);
	log_info("stopped");
	return 0;
}
