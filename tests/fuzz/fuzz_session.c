/*
 * libFuzzer harness for the collector's session state machine (collector/
 * session.c with the real host logs, state, host statistics, wake and
 * alert modules): the input is the byte stream of one plaintext agent
 * connection (HELLO, RECORD, HEARTBEAT, RESULT, BYE, ENROLL...), written
 * over a socketpair in chunks while the event loop runs, then the agent
 * end is shut and the loop runs until the collector has let go.  What the
 * modules remember (streams, host statistics) carries over between inputs,
 * as in a collector that serves many connections.
 *
 * Aborts when an invariant breaks: the collector's answer is not WELCOME,
 * ACK and BYE frames in a valid order (nothing after a BYE, ENROLLED never
 * on plaintext); a host log line is not one text line for that log's host;
 * anything but the log and state folders appears in the temporary folder,
 * or a log folder entry is not a host's log.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "collector.h"
#include "format.h"
#include "hostlog.h"
#include "hostname.h"
#include "hostnet.h"
#include "lab.h"
#include "wake.h"
#include "wire.h"

#include "fuzzfile.h"
#include "fuzzlink.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHUNK		1024	/* bytes written between loop turns */
#define TURNS_MAX	100000	/* loop turns before the session must be gone */
#define CLEAR_EVERY	256	/* inputs between emptyings of the log folder */

static struct event_base	*base;
static struct collector_conf	 conf = {
	.max_frame = WIRE_MAX_FRAME,
	.max_conns = 8,
	.max_pending = 8,
	.max_pending_addr = 8,
	.handshake_timeout = 10,
	.idle_timeout = 30,
	.format = FORMAT_TEXT,
	.sync = SYNC_NEVER,
};
static char	log_dir[96], state_dir[96];

/* What the collector said so far on this connection. */
struct answer {
	uint8_t		buf[WIRE_HDR_LEN + WIRE_CERT_MAX + 2];
	size_t		len;
	int		frames, bye;
};

static void
nothing_cb(void)
{
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	snprintf(log_dir, sizeof(log_dir), "%s/log", fuzzfile_folder());
	snprintf(state_dir, sizeof(state_dir), "%s/state", fuzzfile_folder());
	if (mkdir(log_dir, 0700) == -1)
		abort();
	conf.log_dir = log_dir;
	conf.state_dir = state_dir;
	if ((base = event_base_new()) == NULL ||
	    hostlog_init(base, log_dir, state_dir, conf.format, conf.sync,
	    session_durable, session_resume_all) == -1)
		abort();
	hostnet_init(state_dir);
	wake_init(base, 60);
	lab_init(base);
	session_init(&conf);
	session_set_tls(NULL);
	return 0;
}

/*
 * Takes the collector's frames out of a->buf as they complete and checks
 * them: WELCOME first if at all, then ACKs, a BYE last.
 */
static void
answer_check(void *arg)
{
	struct answer	*a = arg;
	struct wire_hdr	 h;
	struct wire_welcome w;
	struct wire_bye	 bye;
	const char	*err;
	uint64_t	 seq;
	size_t		 n;

	while (a->len >= WIRE_HDR_LEN) {
		if (a->bye)
			abort();	/* a frame after BYE */
		if (wire_parse_hdr(a->buf, WIRE_MAX_FRAME, &h, &err) == -1)
			abort();
		n = WIRE_HDR_LEN + h.len;
		if (a->len < n)
			return;
		switch (h.type) {
		case WIRE_WELCOME:
			if (a->frames != 0 || wire_get_welcome(a->buf +
			    WIRE_HDR_LEN, h.len, &w, &err) == -1)
				abort();
			break;
		case WIRE_ACK:
			if (a->frames == 0 || wire_get_ack(a->buf +
			    WIRE_HDR_LEN, h.len, &seq, &err) == -1)
				abort();
			break;
		case WIRE_BYE:
			if (wire_get_bye(a->buf + WIRE_HDR_LEN, h.len, &bye,
			    &err) == -1)
				abort();
			a->bye = 1;
			break;
		default:
			abort();	/* ENROLLED on plaintext, or worse */
		}
		a->frames++;
		memmove(a->buf, a->buf + n, a->len - n);
		a->len -= n;
	}
}

/* Reads what the collector wrote: 0 at its end of the connection. */
static int
answer_read(int fd, struct answer *a)
{
	return fuzzlink_read(fd, a->buf, sizeof(a->buf), &a->len,
	    answer_check, a);
}

/*
 * One host log line in text format: a UTC timestamp, the log's host, an
 * event; no control bytes (a newline inside a record would make two).
 */
static void
line_check(const char *host, const char *p, size_t len)
{
	size_t	hl = strlen(host), i;

	if (len < FORMAT_TS_LEN + 2 + hl + 1 || p[FORMAT_TS_LEN - 1] != 'Z' ||
	    p[FORMAT_TS_LEN] != ' ' ||
	    memcmp(p + FORMAT_TS_LEN + 1, host, hl) != 0 ||
	    p[FORMAT_TS_LEN + 1 + hl] != ' ')
		abort();
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			abort();
}

/* Checks every line of one host's log. */
static void
log_check(const char *name)
{
	struct stat	 st;
	char		 path[512], host[HOSTNAME_MAX + 1], *data, *p, *nl;
	size_t		 len = strlen(name) - 4, size;
	FILE		*f;

	if (len == 0 || len > HOSTNAME_MAX || !hostname_ok(name, len))
		abort();
	memcpy(host, name, len);
	host[len] = '\0';
	snprintf(path, sizeof(path), "%s/%s", log_dir, name);
	if ((f = fopen(path, "r")) == NULL || fstat(fileno(f), &st) == -1)
		abort();
	size = (size_t)st.st_size;
	if ((data = malloc(size + 1)) == NULL ||
	    fread(data, 1, size, f) != size)
		abort();
	fclose(f);
	if (size > 0 && data[size - 1] != '\n')
		abort();
	for (p = data; p < data + size; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(data + size - p));
		line_check(host, p, (size_t)(nl - p));
	}
	free(data);
}

/*
 * Checks the temporary folder: only log/ and state/ in it, only host logs
 * in log/; and the lines of every log.  Empties log/ when asked to.
 */
static void
folders_check(int clear)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 len;
	char		 path[512];

	if ((d = opendir(fuzzfile_folder())) == NULL)
		abort();
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, "log") != 0 &&
		    strcmp(de->d_name, "state") != 0)
			abort();
	closedir(d);
	if ((d = opendir(log_dir)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    strcmp(de->d_name, "..") == 0))
			continue;
		len = strlen(de->d_name);
		if (de->d_type != DT_REG || len <= 4 ||
		    strcmp(de->d_name + len - 4, ".log") != 0)
			abort();
		log_check(de->d_name);
		if (clear) {
			snprintf(path, sizeof(path), "%s/%s", log_dir,
			    de->d_name);
			unlink(path);
		}
	}
	closedir(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned		 inputs;
	static struct answer	 a;
	struct sockaddr_in	 sin;
	size_t			 off = 0, n;
	ssize_t			 w;
	int			 sv[2], turns = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		abort();
	memset(&a, 0, sizeof(a));
	session_accept(base, sv[1], (struct sockaddr *)&sin);
	/* The agent's bytes, a chunk per loop turn; the answer read. */
	while (off < size) {
		n = size - off < CHUNK ? size - off : CHUNK;
		w = write(sv[0], data + off, n);
		if (w > 0)
			off += (size_t)w;
		else if (w == -1 && errno != EAGAIN)
			break;		/* the collector closed */
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (answer_read(sv[0], &a) == 0)
			break;
		if (++turns > TURNS_MAX)
			abort();	/* neither reads nor closes */
	}
	/* The agent is done: the collector must let go of the session. */
	shutdown(sv[0], SHUT_WR);
	for (;;) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (answer_read(sv[0], &a) == 0)
			break;
		if (++turns > TURNS_MAX)
			abort();
	}
	close(sv[0]);
	folders_check(++inputs % CLEAR_EVERY == 0);
	return 0;
}
