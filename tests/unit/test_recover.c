/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for reading host logs back at start (collector/recover.c) and
 * the collector's state file (collector/state.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "recover.h"
#include "state.h"

static void
scan(const char *text, struct recover *rc)
{
	memset(rc, 0, sizeof(*rc));
	recover_scan(text, strlen(text), rc);
}

static void
test_text_connect_then_records(void **state)
{
	struct recover	rc;

	(void)state;
	scan("2026-11-22T04:25:24.589150Z pc01 host.connect "
	    "peer=10.0.0.11:3431 stream=00000000000000ab resume_after=7\n"
	    "2026-11-22T04:25:24.600000Z pc01 agent.start seq=8 version=1\n"
	    "2026-11-22T04:25:24.700000Z pc01 usb.add seq=9 port=1-1\n"
	    "2026-11-22T04:25:25.000000Z pc01 host.disconnect "
	    "peer=10.0.0.11:3431 reason=closed records=2 duration=1.0\n", &rc);
	assert_true(rc.have_stream);
	assert_true(rc.stream == 0xab);
	assert_true(rc.last_seq == 9);
}

/* Whether the log ends inside a session the collector never closed. */
static void
test_open_session(void **state)
{
	struct recover	rc;

	(void)state;
	scan("T pc01 host.connect peer=a:1 stream=00000000000000ab "
	    "resume_after=0\n"
	    "T pc01 usb.add seq=1 port=1-1\n", &rc);
	assert_int_equal(rc.open, 1);
	scan("T pc01 host.connect peer=a:1 stream=00000000000000ab "
	    "resume_after=0\n"
	    "T pc01 host.disconnect peer=a:1 reason=closed\n", &rc);
	assert_int_equal(rc.open, 0);
	scan("T pc01 host.connect peer=a:1 stream=00000000000000ab "
	    "resume_after=0\n"
	    "T pc01 host.offline peer=a:1 reason=timeout\n"
	    "T pc01 host.connect peer=a:2 stream=00000000000000ab "
	    "resume_after=3\n", &rc);
	assert_int_equal(rc.open, 1);
	/* An agent's field that only mentions an end does not end it. */
	scan("T pc01 host.connect peer=a:1 stream=00000000000000ab "
	    "resume_after=0\n"
	    "T pc01 test.x seq=1 x=\" host.disconnect \"\n", &rc);
	assert_int_equal(rc.open, 1);
	scan("{\"ts\":\"T\",\"host\":\"pc01\",\"event\":\"host.connect\","
	    "\"stream\":\"00000000000000ab\",\"resume_after\":0}\n"
	    "{\"ts\":\"T\",\"host\":\"pc01\",\"event\":\"host.disconnect\","
	    "\"reason\":\"closed\"}\n", &rc);
	assert_int_equal(rc.open, 0);
}

static void
test_text_new_stream_resets(void **state)
{
	struct recover	rc;

	(void)state;
	scan("T pc01 host.connect peer=a:1 stream=00000000000000ab "
	    "resume_after=0\n"
	    "T pc01 x.y seq=500\n"
	    "T pc01 host.connect peer=a:2 stream=00000000000000cd "
	    "resume_after=3\n", &rc);
	assert_true(rc.stream == 0xcd);
	/* Only what the new stream says counts. */
	assert_true(rc.last_seq == 3);
}

static void
test_json(void **state)
{
	struct recover	rc;

	(void)state;
	scan("{\"ts\":\"2026-11-22T04:25:24.589150Z\",\"host\":\"pc01\","
	    "\"event\":\"host.connect\",\"peer\":\"10.0.0.11:3431\","
	    "\"stream\":\"00000000000000ef\",\"resume_after\":41}\n"
	    "{\"ts\":\"2026-11-22T04:25:24.600000Z\",\"host\":\"pc01\","
	    "\"seq\":42,\"event\":\"agent.start\"}\n"
	    "{\"ts\":\"2026-11-22T04:25:24.700000Z\",\"host\":\"pc01\","
	    "\"seq\":43,\"event\":\"usb.add\"}\n", &rc);
	assert_true(rc.have_stream);
	assert_true(rc.stream == 0xef);
	assert_true(rc.last_seq == 43);
}

/* Strings an agent controls cannot pass for the collector's fields. */
static void
test_hostile_strings_ignored(void **state)
{
	struct recover	rc;

	(void)state;
	scan("T pc01 host.connect peer=a:1 stream=00000000000000ab "
	    "resume_after=5\n"
	    "T pc01 x.y seq=6 s=\" host.connect stream=ffffffffffffffff "
	    "resume_after=99999\" t=\"seq=77777\"\n"
	    "T pc01 host.disconnect peer=a:1 reason=agent-stop detail=\" "
	    "host.connect stream=1111111111111111 resume_after=5000\"\n"
	    "{\"ts\":\"T\",\"host\":\"pc01\",\"event\":\"host.disconnect\","
	    "\"detail\":\",\\\"event\\\":\\\"host.connect\\\",\\\"stream"
	    "\\\":\\\"2222222222222222\\\"\"}\n", &rc);
	assert_true(rc.stream == 0xab);
	assert_true(rc.last_seq == 6);
}

static void
test_partial_and_garbage_lines(void **state)
{
	struct recover	rc;

	(void)state;
	scan("\n\nnonsense\n{\"broken\n"
	    "T pc01 x.y seq=\n"
	    "T pc01 x.y seq=99999999999999999999999\n"
	    "T pc01 x.y seq=12\n"
	    "T pc01 x.y seq=13", &rc);	/* no newline: not a line yet */
	assert_false(rc.have_stream);
	assert_true(rc.last_seq == 12);
}

static int
temp_log(const char *content)
{
	char	path[] = "/tmp/lwtest-recover-XXXXXX";
	int	fd;

	assert_true((fd = mkstemp(path)) != -1);
	unlink(path);
	assert_true(write(fd, content, strlen(content)) ==
	    (ssize_t)strlen(content));
	return fd;
}

static void
test_torn_last_line_cut(void **state)
{
	struct recover	 rc;
	const char	*good = "T pc01 host.connect peer=a:1 "
			    "stream=0000000000000001 resume_after=0\n"
			    "T pc01 x.y seq=1\n";
	int		 fd;

	(void)state;
	fd = temp_log("T pc01 host.connect peer=a:1 stream=0000000000000001 "
	    "resume_after=0\nT pc01 x.y seq=1\nT pc01 x.y seq=2 half");
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(recover_log(fd, "test.log", &rc),
	    (long long)strlen("T pc01 x.y seq=2 half"));
	assert_true(lseek(fd, 0, SEEK_END) == (off_t)strlen(good));
	assert_true(rc.last_seq == 1);
	/* A whole log is left as it is. */
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(recover_log(fd, "test.log", &rc), 0);
	assert_true(lseek(fd, 0, SEEK_END) == (off_t)strlen(good));
	close(fd);
}

/* Only the tail is read back; a window that starts mid-line skips it. */
static void
test_long_log_tail(void **state)
{
	struct recover	 rc;
	char		 line[64];
	size_t		 i, n;
	int		 fd;

	(void)state;
	fd = temp_log("T pc01 host.connect peer=a:1 stream=0000000000000009 "
	    "resume_after=0\n");
	/* Enough lines that the connect falls outside the window. */
	for (i = 1; i <= 60000; i++) {
		n = (size_t)snprintf(line, sizeof(line), "T pc01 x.y seq=%zu "
		    "pad=xxxxxxxxx\n", i);
		assert_true(write(fd, line, n) == (ssize_t)n);
	}
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(recover_log(fd, "test.log", &rc), 0);
	assert_false(rc.have_stream);
	assert_true(rc.last_seq == 60000);
	close(fd);
}

struct seen {
	int		n;
	char		host[8][70];
	uint64_t	stream[8];
	uint64_t	seq[8];
};

static void
seen_cb(const char *host, uint64_t stream, uint64_t seq, void *arg)
{
	struct seen	*s = arg;

	snprintf(s->host[s->n], sizeof(s->host[0]), "%s", host);
	s->stream[s->n] = stream;
	s->seq[s->n++] = seq;
}

static void
test_state_round_trip_and_bad_lines(void **state)
{
	char		 dir[] = "/tmp/lwtest-state-XXXXXX";
	const char	*content =
	    "pc01 00000000000000ab 17\n"
	    "../etc 00000000000000ab 1\n"		/* bad host */
	    "pc02 xyz 1\n"				/* bad stream */
	    "pc03 00000000000000ab -1\n"		/* bad seq */
	    "pc04 00000000000000ab 1 extra\n"		/* too many words */
	    "pc05 ffffffffffffffff 18446744073709551615\n";
	struct seen	 s;
	int		 dfd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true((dfd = open(dir, O_RDONLY | O_DIRECTORY)) != -1);
	memset(&s, 0, sizeof(s));
	/* No file yet: nothing, and no error. */
	assert_int_equal(state_load(dfd, dir, seen_cb, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(state_write(dfd, content, strlen(content)), 0);
	assert_int_equal(state_load(dfd, dir, seen_cb, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.host[0], "pc01");
	assert_true(s.stream[0] == 0xab && s.seq[0] == 17);
	assert_string_equal(s.host[1], "pc05");
	assert_true(s.stream[1] == UINT64_MAX && s.seq[1] == UINT64_MAX);
	unlinkat(dfd, STATE_FILE, 0);
	close(dfd);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_connect_then_records),
		cmocka_unit_test(test_text_new_stream_resets),
		cmocka_unit_test(test_open_session),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_hostile_strings_ignored),
		cmocka_unit_test(test_partial_and_garbage_lines),
		cmocka_unit_test(test_torn_last_line_cut),
		cmocka_unit_test(test_long_log_tail),
		cmocka_unit_test(test_state_round_trip_and_bad_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
