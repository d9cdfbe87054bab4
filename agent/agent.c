/* SPDX-License-Identifier: ISC */
/*
 * labwatch-agent: reports what happens on a lab PC to the collector, or to
 * standard output with --stdout.
 */
#include <event2/event.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "agent.h"
#include "hostname.h"
#include "lockfile.h"
#include "log.h"
#include "num.h"
#include "priv.h"
#include "service.h"
#include "tls.h"
#include "xmalloc.h"

#define TLS_DIR		"/etc/labwatch/tls/"

static struct event_base	*base;
#define STDOUT_BATCH	65536	/* bytes of records a replay gathers */

static struct agent_conf	 conf = {
	.format = FORMAT_TEXT,
	.heartbeat = 5,
	.reconnect_max = 30,
	.state_dir = "/var/lib/labwatch",
	.spool_max_ll = 256 * 1024 * 1024,
	.ip_filter = "/etc/labwatch/ip.txt",
	.flow_idle = 2,
	.flow_active = 60,
	.stats_interval = 60,
	.tls_ca = TLS_DIR "ca.crt",
	.tls_cert = TLS_DIR "agent.crt",
	.tls_key = TLS_DIR "agent.key",
	.enroll_secret = "/etc/labwatch/enroll.secret",
	.user = "labwatch",
};
static uint64_t			 next_seq = 1;	/* --stdout only */
static struct buf		 outbuf;
static int			 net_on;

/* Writes what outbuf holds to standard output. */
static void
flush_stdout(void)
{
	ssize_t	n;
	size_t	off;

	for (off = 0; off < outbuf.len; off += (size_t)n) {
		n = write(STDOUT_FILENO, outbuf.data + off, outbuf.len - off);
		if (n == -1 && errno == EINTR)
			n = 0;
		else if (n == -1) {
			log_warn("stdout");
			break;
		}
	}
	buf_reset(&outbuf);
}

static void
agent_emit(struct record *r)
{
	r->host = conf.host;
	if (conf.collector != NULL) {
		uplink_send(r);
		return;
	}
	r->seq = next_seq++;
	format_record(&outbuf, r, conf.format);
	/* Replay gathers lines; live, each record leaves at once. */
	if (conf.read_file == NULL || outbuf.len >= STDOUT_BATCH)
		flush_stdout();
}

static struct event	*selftest_ev;
static int64_t		 selftest_start;
static int64_t		 selftest_sent;
static int		 selftest_rate;

/* Emits agent.selftest records at the asked rate, counting from 1. */
static void
selftest_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	tv = { 0, 10000 };
	struct record	r;
	int64_t		due;

	(void)fd;
	(void)ev;
	(void)arg;
	due = (record_now() - selftest_start) * selftest_rate / 1000000;
	record_init(&r);
	while (selftest_sent < due) {
		record_begin(&r, "agent.selftest");
		record_add_int(&r, "n", ++selftest_sent);
		agent_emit(&r);
	}
	record_free(&r);
	evtimer_add(selftest_ev, &tv);
}

static void
selftest_init(struct event_base *b, int rate)
{
	struct timeval	tv = { 0, 10000 };

	selftest_rate = rate;
	selftest_start = record_now();
	selftest_ev = evtimer_new(b, selftest_cb, NULL);
	evtimer_add(selftest_ev, &tv);
}

void
agent_health(struct record *r)
{
	uint64_t	seen, dropped;

	health_add(r, 0);
	if (!net_on)
		return;
	capture_kernel_stats(&seen, &dropped);
	record_add_int(r, "capture_packets", (int64_t)seen);
	record_add_int(r, "capture_dropped", (int64_t)dropped);
}

static void
stopped(void)
{
	flush_stdout();
	event_base_loopexit(base, NULL);
}

/* Replay to a collector: exits once every record is acknowledged. */
static void
replay_wait_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct event	*self = arg;
	struct timeval	 tv = { 0, 20000 };

	(void)fd;
	(void)ev;
	if (uplink_queued() > 0) {
		evtimer_add(self, &tv);
		return;
	}
	event_free(self);
	uplink_shutdown(stopped);
}

static void
agent_replay_done(void)
{
	struct event	*ev;
	struct record	 r;

	record_init(&r);
	record_begin(&r, "agent.stop");
	record_add_str(&r, "reason", "end of capture file");
	agent_emit(&r);
	record_free(&r);
	if (conf.collector != NULL) {
		ev = evtimer_new(base, replay_wait_cb, event_self_cbarg());
		event_active(ev, EV_TIMEOUT, 0);
	} else
		stopped();
}

/* Records waiting for the collector (none on standard output). */
static size_t
agent_backlog(void)
{
	return conf.collector != NULL ? uplink_queued() : 0;
}

static const struct agent_sink	sink = {
	agent_emit, agent_backlog, agent_replay_done,
};

/*
 * The link's TLS context; the host name, when not given, is the one in
 * this PC's certificate, and when given must be named by it (the collector
 * would refuse it anyway; better to say so here, at start).
 */
static void
tls_setup(void)
{
	static char		 cn[HOSTNAME_MAX + 1];
	struct tls_files	 f = { conf.tls_ca, conf.tls_cert, conf.tls_key,
				    NULL };
	char			 err[TLS_ERR_MAX];
	X509			*cert;
	FILE			*fp;

	if ((conf.tls = tls_client_ctx(&f, err, sizeof(err))) == NULL) {
		fprintf(stderr, "labwatch-agent: %s\n(enrol this PC with "
		    "--enroll, make its files with labwatch-ca issue, or run "
		    "with --insecure on both sides for a plaintext test)\n",
		    err);
		exit(2);
	}
	if ((fp = fopen(conf.tls_cert, "re")) == NULL ||
	    (cert = PEM_read_X509(fp, NULL, NULL, NULL)) == NULL)
		fatalx("%s: cannot read the certificate again", conf.tls_cert);
	fclose(fp);
	if (conf.host == NULL && tls_cert_cn(cert, cn, sizeof(cn)) == 0)
		conf.host = cn;
	if (conf.host != NULL &&
	    !tls_cert_names(cert, conf.host, strlen(conf.host))) {
		fprintf(stderr, "labwatch-agent: %s is not a certificate for "
		    "host %s; the collector would refuse it\n", conf.tls_cert,
		    conf.host);
		exit(2);
	}
	X509_free(cert);
}

static void
signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	static int	stopping;
	struct record	r;
	uint64_t	kseen, kdropped;

	(void)ev;
	(void)arg;
	if (sig == SIGHUP) {
		if (net_on)
			net_reload();
		return;
	}
	if (stopping++) {
		log_warnx("signal %d again: stopping now", (int)sig);
		event_base_loopbreak(base);
		return;
	}
	log_info("signal %d: stopping", (int)sig);
	if (selftest_ev != NULL)
		evtimer_del(selftest_ev);
	usb_shutdown();
	if (net_on) {
		/* Every open conversation ends, then the last agent.stats. */
		capture_kernel_stats(&kseen, &kdropped);
		capture_shutdown();
		net_finish();
		net_stats(kseen, kdropped);
	}
	record_init(&r);
	record_begin(&r, "agent.stop");
	record_add_str(&r, "reason", strsignal((int)sig));
	agent_emit(&r);
	record_free(&r);
	if (conf.collector != NULL)
		uplink_shutdown(stopped);
	else
		stopped();
}

/*
 * Reads the options and agent.conf into conf and checks how they go
 * together; a usage error exits 2 before anything is made.  With -n,
 * prints the effective configuration and exits.
 */
static void
agent_options(int argc, char *argv[])
{
	struct opts	 o = {
		.prog = "labwatch-agent",
		.usage = "labwatch-agent (--collector HOST:PORT[,HOST:PORT...] | "
		    "--stdout) [options]\n       labwatch-agent --enroll "
		    "HOST:PORT [options]",
		.tab = agent_opts, .n = agent_nopts, .conf = &conf,
	};
	long long	 port;
	const char	*err;
	int		 i;

	opts_parse(&o, argc, argv, "/etc/labwatch/agent.conf");
	if ((conf.collector != NULL) + conf.to_stdout + (conf.enroll != NULL)
	    != 1)
		opts_fail(&o, conf.collector != NULL ? "collector" : "stdout",
		    "give one of --collector HOST:PORT, --stdout or --enroll "
		    "HOST:PORT");
	if (conf.enroll != NULL && conf.insecure)
		opts_fail(&o, "insecure", "--enroll needs TLS; not with "
		    "--insecure");
	if (conf.read_file != NULL && conf.no_net)
		opts_fail(&o, "no-net", "--read and --no-net do not go "
		    "together");
	if (conf.host != NULL && !hostname_ok(conf.host, strlen(conf.host)))
		opts_fail(&o, "host", "host name \"%s\" is not 1-64 of "
		    "[A-Za-z0-9._-] without a leading dot", conf.host);
	conf.state_dir_set = opts_given(&o, "state-dir");
	conf.ip_filter_set = opts_given(&o, "ip-filter");
	conf.spool_max = (size_t)conf.spool_max_ll;
	conf.flow_idle_us = conf.flow_idle * 1000000LL;
	conf.flow_active_us = conf.flow_active * 1000000LL;
	if (conf.interface_list.n > 0) {
		conf.interfaces = conf.interface_list.v;
		conf.ninterfaces = conf.interface_list.n;
	}
	if (conf.lan_list.n > 0) {
		conf.lan = conf.lan_list.v;
		conf.nlan = conf.lan_list.n;
	}
	conf.ignore_port_set = conf.port_list.n > 0;
	for (i = 0; i < conf.port_list.n; i++)
		if (strcmp(conf.port_list.v[i], "none") != 0 &&
		    num_parse(conf.port_list.v[i], 1, 65535, &port, &err) == 0)
			conf.ignore_port[port / 8] |= (uint8_t)(1 << (port % 8));
	if (o.check) {
		opts_print(&o, stdout);
		exit(0);
	}
	opts_free(&o);
}

int
main(int argc, char *argv[])
{
	struct event	*sigs[4];
	int		 signos[4] = { SIGHUP, SIGTERM, SIGINT, 0 };
	char		 hostbuf[256], reset[256], err[TLS_ERR_MAX];
	struct record	 r;
	int		 lock = -1;
	int		 i, to_stdout, foreground, verbose;

	agent_options(argc, argv);
	to_stdout = conf.to_stdout;
	foreground = conf.foreground;
	verbose = conf.verbose;
	if (conf.collector != NULL && !conf.insecure)
		tls_setup();
	if (conf.host == NULL) {
		if (gethostname(hostbuf, sizeof(hostbuf)) == -1)
			fatal("gethostname");
		hostbuf[sizeof(hostbuf) - 1] = '\0';
		conf.host = hostbuf;
	}
	if (!hostname_ok(conf.host, strlen(conf.host))) {
		fprintf(stderr, "labwatch-agent: host name \"%s\" is not "
		    "1-64 of [A-Za-z0-9._-] without a leading dot; use "
		    "--host\n", conf.host);
		exit(2);
	}

	log_init("labwatch-agent", foreground || to_stdout ||
	    conf.enroll != NULL, verbose);
	signal(SIGPIPE, SIG_IGN);
	if (conf.enroll != NULL)
		exit(enroll_run(&conf));
	if (conf.read_file != NULL && conf.no_net) {
		fprintf(stderr, "labwatch-agent: --read and --no-net do not go "
		    "together\n");
		exit(2);
	}
	if (!conf.no_net && conf.ip_filter_set &&
	    access(conf.ip_filter, R_OK) == -1) {
		fprintf(stderr, "labwatch-agent: --ip-filter %s: %s\n",
		    conf.ip_filter, strerror(errno));
		exit(2);
	}
	/* Files named on the command line are opened before root is given
	 * up: the worker may not be able to reach them. */
	if (conf.read_file != NULL && (conf.read_fd = open(conf.read_file,
	    O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "labwatch-agent: --read %s: %s\n",
		    conf.read_file, strerror(errno));
		exit(2);
	}
	if (conf.collector != NULL) {
		if ((lock = statedir_open(conf.state_dir, conf.host, reset,
		    sizeof(reset), err, sizeof(err))) == -1) {
			fprintf(stderr, "labwatch-agent: %s\n", err);
			exit(1);
		}
		conf.state_fresh = reset[0] != '\0';
	}
	buf_init(&outbuf);
	if (!foreground && !to_stdout) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		if (lock != -1)
			lockfile_setpid(lock);
	}
	if (!conf.no_net) {
		if (net_init(&conf, conf.read_file != NULL, &sink) == -1) {
			if (conf.read_file != NULL)
				exit(1);
			health_degraded("net", "cannot set up the network "
			    "monitor");
		} else
			net_on = 1;
	}
	if (conf.pidfile != NULL)
		service_pidfile(conf.pidfile);
	if (priv_start(&conf, conf.user) == -1)
		exit(1);
	if ((base = event_base_new()) == NULL)
		fatalx("cannot make the event base");
	if (conf.collector != NULL)
		uplink_init(base, &conf);
	for (i = 0; signos[i] != 0; i++) {
		sigs[i] = evsignal_new(base, signos[i], signal_cb, NULL);
		evsignal_add(sigs[i], NULL);
	}
	priv_signals_ready();

	record_init(&r);
	record_begin(&r, "agent.start");
	sysinfo_add(&r);
	if (conf.collector != NULL)
		record_add_bool(&r, "tls", conf.tls != NULL);
	record_add_bool(&r, "privsep", priv_separated());
	if (!conf.no_usb) {
		health_running("usb");
		health_running("files");
	}
	if (net_on)
		health_running("net");
	health_add(&r, 1);
	agent_emit(&r);
	if (conf.state_fresh) {
		log_warnx("%s: %s; starting afresh", conf.state_dir, reset);
		record_begin(&r, "agent.state_reset");
		record_add_str(&r, "reason", reset);
		agent_emit(&r);
	}
	record_free(&r);
	health_init(agent_emit);
	if (conf.selftest_rate > 0)
		selftest_init(base, conf.selftest_rate);
	if (!conf.no_usb)
		usb_init(base, &conf, &sink);
	if (net_on && capture_init(base, &conf, &sink) == -1) {
		if (conf.read_file != NULL)
			exit(1);
		health_degraded("net", "cannot capture");
	}

	service_ready(base);
	event_base_dispatch(base);
	service_stopping();

	usb_shutdown();
	if (net_on) {
		capture_shutdown();
		net_shutdown();
	}
	free(conf.interfaces);
	free(conf.lan);

	for (i = 0; signos[i] != 0; i++)
		event_free(sigs[i]);
	buf_free(&outbuf);
	log_info("stopped");
	return 0;
}
