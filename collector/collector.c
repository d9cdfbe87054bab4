/* SPDX-License-Identifier: ISC */
/*
 * labwatch-collector: receives records from the agents of a lab and writes
 * one log file per host.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <event2/event.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "alertrule.h"
#include "collector.h"
#include "control.h"
#include "enroll.h"
#include "forward.h"
#include "hostlog.h"
#include "hostnet.h"
#include "hoststat.h"
#include "http.h"
#include "index.h"
#include "lab.h"
#include "lockfile.h"
#include "metrics.h"
#include "log.h"
#include "privdrop.h"
#include "service.h"
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
static struct collector_conf	 conf = {
	.max_frame_int = WIRE_MAX_FRAME,
	.max_conns = 4096,
	.max_pending = 256,
	.max_pending_addr = 16,
	.handshake_timeout = 10,
	.idle_timeout = 30,
	.format = FORMAT_TEXT,
	.sync = SYNC_BATCH,
	.log_dir = DEFAULT_LOGDIR,
	.state_dir = DEFAULT_STATEDIR,
	.user = "labwatch",
	.http_users = "/etc/labwatch/users",
	.control = "/run/labwatch/collector.sock",
	.index = "",
	.alert_timeout = 10,
	.alert_max = 4,
	.alert_interval = 60,
	.tls = {
		.ca = TLS_DIR "ca.crt",
		.cert = TLS_DIR "collector.crt",
		.key = TLS_DIR "collector.key",
		.crl = TLS_DIR "crl.pem",
	},
	.enroll = {
		.hosts = "",
		.secret = "/etc/labwatch/enroll.hash",
		.ca_dir = "/etc/labwatch/ca",
		.days = ENROLL_DAYS,
	},
};
static int			 crl_given;	/* --tls-crl: it must load */
static int			 wake_timeout = 180;	/* seconds */
static int			 control_given;	/* --control: it must work */
static struct alert_conf	 alerts;
static char			 index_path[4096];

/*
 * Opens the index (in the daemon, still root: the state folder's parents
 * may be closed to the user) and gives its files to the user, who writes
 * them from then on.  Whether it is on.
 */
static int
index_setup(const struct privdrop_user *u)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-spill" };
	char	 f[sizeof(index_path) + 8];
	size_t	 i;

	if (conf.no_index || strcmp(conf.index, "off") == 0)
		return 0;
	if (conf.index[0] != '\0')
		snprintf(index_path, sizeof(index_path), "%s", conf.index);
	else
		snprintf(index_path, sizeof(index_path), "%s/index.db",
		    conf.state_dir);
	if (index_open(index_path, lab_device_load, NULL) == -1) {
		log_warnx("index %s: not used; the logs are written as ever "
		    "(--no-index to say so)", index_path);
		return 0;
	}
	for (i = 0; u != NULL && i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(f, sizeof(f), "%s%s", index_path, ext[i]);
		if (chown(f, u->uid, u->gid) == -1 && errno != ENOENT)
			log_warn("index: chown %s", f);
	}
	return 1;
}

const char *
collector_log_dir(void)
{
	return conf.log_dir;
}

/*
 * Warns about files the collector will need again once it runs as u: the
 * TLS files at SIGHUP, the CA folder at each enrolment.
 */
static void
privdrop_check_files(const struct privdrop_user *u, const char *ca_dir)
{
	const char	*files[] = { conf.tls.key, conf.tls.cert,
			    conf.tls.ca, ca_dir };
	struct stat	 st;
	size_t		 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (conf.insecure && i < 3)
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
	struct tls_files	f = conf.tls;

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

/* SIGHUP or labwatchctl reload: logs reopened, TLS files reloaded. */
static void
collector_reload(void)
{
	hostlog_reopen_all();
	if (!conf.insecure)
		tls_reload();
	http_reload();
}

static void
signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct timeval	tv = { 1, 0 };

	(void)ev;
	(void)arg;
	if (sig == SIGHUP) {
		collector_reload();
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	listener_shutdown();
	session_shutdown();
	/* A second for the goodbyes to leave. */
	event_base_loopexit(base, &tv);
}

/*
 * Reads the options and collector.conf into conf and checks how they go
 * together; a usage error exits 2 before anything is made.  With -n,
 * prints the effective configuration and exits.
 */
static void
collector_options(int argc, char *argv[])
{
	const char	*err;
	int		 i, bad = 0;
	struct opts	o = {
		.prog = "labwatch-collector",
		.usage = "labwatch-collector [options]",
		.tab = collector_opts, .n = collector_nopts, .conf = &conf,
	};

	opts_parse(&o, argc, argv, "/etc/labwatch/collector.conf");
	if (conf.listen.n > MAX_LISTEN)
		opts_fail(&o, "listen", "at most %d listen addresses",
		    MAX_LISTEN);
	if (conf.insecure && conf.enroll.hosts[0] != '\0')
		opts_fail(&o, "enroll-hosts", "--enroll-hosts needs TLS; not "
		    "with --insecure");
	conf.max_frame = (uint32_t)conf.max_frame_int;
	alerts.rules = &conf.alerts;
	alerts.timeout = conf.alert_timeout;
	alerts.max = conf.alert_max;
	alerts.interval = conf.alert_interval;
	if (alert_init(&alerts) == -1)
		exit(2);
	for (i = 0; i < conf.forwards.n; i++) {
		if (forward_check(conf.forwards.v[i], &err) == 0)
			continue;
		if (conf.forwards.src[i].file != NULL)
			fprintf(stderr, "%s:%d: forward: %s\n",
			    conf.forwards.src[i].file,
			    conf.forwards.src[i].line, err);
		else
			fprintf(stderr, "labwatch-collector: forward %s: %s\n",
			    conf.forwards.v[i], err);
		bad = 1;
	}
	if (bad)
		exit(2);
	crl_given = opts_given(&o, "tls-crl");
	control_given = opts_given(&o, "control");
	if (o.check) {
		opts_print(&o, stdout);
		exit(0);
	}
	opts_free(&o);
}

int
main(int argc, char *argv[])
{
	const char	*listen_default = DEFAULT_LISTEN;
	struct control_conf ctl;
	struct http_conf hc;
	struct privdrop_user u;
	int		 drop;
	char		 err[TLS_ERR_MAX];
	SSL_CTX		*ctx = NULL;
	struct rlimit	 rl;
	struct event	*sigs[4];
	int		 signos[4] = { SIGHUP, SIGTERM, SIGINT, 0 };
	int		 i, lock_state, lock_logs, index_on;

	collector_options(argc, argv);
	if (conf.listen.n == 0) {
		conf.listen.v = &listen_default;
		conf.listen.n = 1;
	}

	log_init("labwatch-collector", 1, conf.verbose);
	signal(SIGPIPE, SIG_IGN);
	/* A lab is many connections: take every descriptor we may. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit(RLIMIT_NOFILE)");
	}
	if (!conf.insecure && (ctx = tls_load(err, sizeof(err))) == NULL) {
		fprintf(stderr, "labwatch-collector: %s\n(make the files with "
		    "labwatch-ca, or run with --insecure on both sides for a "
		    "plaintext test)\n", err);
		exit(2);
	}
	if (enroll_init(&conf.enroll, err, sizeof(err)) == -1) {
		fprintf(stderr, "labwatch-collector: %s\n", err);
		exit(2);
	}
	if (mkdir(conf.state_dir, 0700) == -1 && errno != EEXIST)
		fatal("state folder %s", conf.state_dir);
	/* The folders become the user's: it writes them from now on. */
	drop = geteuid() == 0 && strcmp(conf.user, "root") != 0;
	if (drop && (privdrop_lookup(conf.user, &u) == -1 ||
	    privdrop_chown_dir(conf.state_dir, &u) == -1 ||
	    privdrop_chown_dir(conf.log_dir, &u) == -1))
		exit(1);
	if (drop)
		privdrop_check_files(&u, conf.enroll.hosts != NULL &&
		    conf.enroll.hosts[0] != '\0' ? conf.enroll.ca_dir : NULL);
	else if (geteuid() == 0)
		log_warnx("running as root (--user root)");
	if ((lock_state = lockfile_take(conf.state_dir, "state folder", err,
	    sizeof(err))) == -1 || (lock_logs = lockfile_take(conf.log_dir,
	    "log folder", err, sizeof(err))) == -1) {
		fprintf(stderr, "labwatch-collector: %s\n", err);
		exit(1);
	}
	/* The queues, before anything is written; then the user's. */
	if (forward_open(conf.state_dir, conf.forwards.v,
	    conf.forwards.n) == -1 || (drop && forward_chown(&u) == -1))
		exit(1);
	if ((base = event_base_new()) == NULL)
		fatalx("cannot make the event base");
	session_init(&conf);
	session_set_tls(ctx);
	if (conf.insecure)
		log_warnx("--insecure: agents are neither authenticated nor "
		    "encrypted; anyone on the network can write any PC's log");
	format_set_localtime(conf.localtime);
	if (hostlog_init(base, conf.log_dir, conf.state_dir, conf.format,
	    conf.sync,
	    session_durable, session_resume_all) == -1)
		exit(1);
	hostlog_each_host(hoststat_known);
	hostnet_init(conf.state_dir);
	wake_init(base, wake_timeout);
	lab_init(base);
	for (i = 0; i < conf.listen.n; i++)
		if (listener_add(base, conf.listen.v[i]) == -1)
			exit(1);
	ctl.path = conf.control;
	ctl.enroll_ca = conf.enroll.ca_dir;
	ctl.tls_crl = conf.tls.crl;
	ctl.reload = collector_reload;
	if (conf.control[0] != '\0' && control_init(base, &ctl) == -1 &&
	    control_given)
		exit(1);
	if (conf.metrics != NULL && metrics_init(base, conf.metrics) == -1)
		exit(1);
	if (conf.http != NULL) {
		hc.addr = conf.http;
		hc.users = conf.http_users;
		hc.rooms = &conf.rooms;
		hc.state_dir = conf.state_dir;
		hc.tls = conf.insecure ? NULL : &conf.tls;
		if (http_init(base, &hc) == -1)
			exit(1);
	}
	alert_attach(base);
	if (!conf.foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("labwatch-collector", 0, conf.verbose);
		event_reinit(base);
		lockfile_setpid(lock_state);
		lockfile_setpid(lock_logs);
	}
	if (conf.pidfile != NULL)
		service_pidfile(conf.pidfile);
	/* Still root: outputs may read CA files and keys only root may. */
	if (forward_start(base) == -1)
		fatalx("cannot start forwarding");
	index_on = index_setup(drop ? &u : NULL);
	if (drop)
		privdrop(&u);
	if (index_on && index_start(base) == -1)
		index_shutdown();	/* off: the loop goes on without it */
	/* The dashboard's reader thread: after daemon(3), on the index. */
	if (conf.http != NULL && http_start(index_on ? index_path : NULL) ==
	    -1)
		exit(1);
	alertrule_known(lab_known);
	for (i = 0; signos[i] != 0; i++) {
		sigs[i] = evsignal_new(base, signos[i], signal_cb, NULL);
		evsignal_add(sigs[i], NULL);
	}
	log_info("labwatch-collector %s started, logs in %s (%s)",
	    LABWATCH_VERSION, conf.log_dir, conf.format == FORMAT_JSON ? "json" :
	    "text");
	service_ready(base);
	event_base_dispatch(base);
	service_stopping();

	session_free_all();
	session_set_tls(NULL);
	control_shutdown();
	metrics_shutdown();
	http_shutdown();
	alert_shutdown();
	listener_shutdown();
	wake_shutdown();
	index_shutdown();
	lab_shutdown();
	hostlog_shutdown();
	forward_shutdown();
	hostnet_shutdown();
	hoststat_free();
	enroll_shutdown();
	for (i = 0; signos[i] != 0; i++)
		event_free(sigs[i]);
	event_base_free(base);
	log_info("stopped");
	return 0;
}
