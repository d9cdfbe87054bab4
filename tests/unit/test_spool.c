/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the spool (common/spool.c) on real files: order,
 * acknowledgement, resend after rewind, restart, a torn tail, overflow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "rbuf.h"
#include "record.h"
#include "spool.h"
#include "wire.h"

static char		 dir[64];
static struct spool	*sp;

/*
 * Appends one record numbered by the spool, with a payload of pad bytes;
 * a report (an agent.dropped record) carries its run in fields first and
 * last, as the agent's does.
 */
static void
append_as(size_t pad, const struct spool_drop *report)
{
	struct record	r;
	struct buf	b;
	char		fill[4096];

	assert_true(pad < sizeof(fill));
	memset(fill, 'x', pad);
	record_init(&r);
	buf_init(&b);
	record_begin(&r, "test.rec");
	r.ts_us = (int64_t)spool_next_seq(sp) * 1000;
	record_add_strn(&r, "pad", fill, pad);
	if (report != NULL) {
		record_add_int(&r, "first", (int64_t)report->first_seq);
		record_add_int(&r, "last", (int64_t)report->last_seq);
	}
	r.seq = spool_next_seq(sp);
	wire_put_record(&b, WIRE_RECORD, &r);
	assert_int_equal(spool_append(sp, b.data, b.len, report), 0);
	buf_free(&b);
	record_free(&r);
}

/* Appends a record, then the reports of whatever it pushed out. */
static size_t
append(size_t pad)
{
	struct spool_drop	d;
	size_t			n = 0;

	append_as(pad, NULL);
	while (spool_due(sp, &d, 1) == 1) {
		assert_true(d.count == d.last_seq - d.first_seq + 1);
		assert_true(d.first_ts == (int64_t)d.first_seq * 1000);
		assert_true(d.last_ts == (int64_t)d.last_seq * 1000);
		append_as(10, &d);
		n++;
	}
	return n;
}

/*
 * Reads everything from the cursor and returns the seqs, in order; with
 * runs, also the runs that report records in it cover (first, last).
 */
static size_t
read_frames(uint64_t *out, size_t max, uint64_t (*runs)[2], size_t *nruns)
{
	struct evbuffer	*eb = evbuffer_new();
	struct wire_hdr	 h;
	struct rbuf	 rb;
	const char	*err;
	uint8_t		*p;
	size_t		 n = 0, len, off = 0;
	uint64_t	 seq = 0;

	while (spool_read(sp, eb, 1 << 20) > 0)
		;
	len = evbuffer_get_length(eb);
	p = evbuffer_pullup(eb, -1);
	while (off < len) {
		assert_int_equal(wire_parse_hdr(p + off, WIRE_MAX_FRAME_LIMIT,
		    &h, &err), 0);
		rbuf_init(&rb, p + off + WIRE_HDR_LEN, h.len);
		assert_int_equal(rbuf_get_u64(&rb, &seq), 0);
		if (n < max)
			out[n] = seq;
		n++;
		if (runs != NULL) {
			struct record		 r;
			const struct field	*f, *l;
			const char		*rerr;

			record_init(&r);
			assert_int_equal(wire_get_record(p + off +
			    WIRE_HDR_LEN, h.len, &r, &rerr), 0);
			if ((f = record_get(&r, "first")) != NULL &&
			    (l = record_get(&r, "last")) != NULL) {
				runs[*nruns][0] = (uint64_t)f->v.i;
				runs[(*nruns)++][1] = (uint64_t)l->v.i;
			}
			record_free(&r);
		}
		off += WIRE_HDR_LEN + h.len;
	}
	evbuffer_free(eb);
	return n;
}

static size_t
read_seqs(uint64_t *out, size_t max)
{
	return read_frames(out, max, NULL, NULL);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/lwtest-spool-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void
test_order_ack_rewind(void **state)
{
	uint64_t		stream, seqs[64];
	size_t			i, n;

	(void)state;
	assert_non_null(sp = spool_open(dir, 1 << 20, 0, &stream));
	assert_true(spool_next_seq(sp) == 1);
	for (i = 0; i < 10; i++)
		assert_int_equal(append(100), 0);
	assert_true(spool_records(sp) == 10);
	n = read_seqs(seqs, 64);
	assert_int_equal(n, 10);
	for (i = 0; i < n; i++)
		assert_true(seqs[i] == i + 1);
	/* Nothing more to read until something is appended. */
	assert_int_equal(read_seqs(seqs, 64), 0);
	spool_ack(sp, 4);
	assert_true(spool_records(sp) == 6);
	/* The collector has up to 6: resend from 7. */
	spool_rewind(sp, 6);
	n = read_seqs(seqs, 64);
	assert_int_equal(n, 4);
	assert_true(seqs[0] == 7 && seqs[3] == 10);
	spool_close(sp);
}

/*
 * Two collectors: what A acknowledged is not sent to B, even when B has
 * never seen the stream (WELCOME 0); what neither has goes to B; the
 * last record handed out is known, so a switch can wait for its ACK.
 */
static void
test_rewind_after_other_collector(void **state)
{
	uint64_t	stream, seqs[64];
	size_t		i;

	(void)state;
	assert_non_null(sp = spool_open(dir, 1 << 20, 0, &stream));
	for (i = 0; i < 10; i++)
		append(100);
	assert_true(read_seqs(seqs, 64) == 10);
	assert_true(spool_sent(sp) == 10);
	spool_ack(sp, 4);			/* A stored 1..4, then went away */
	spool_rewind(sp, 0);		/* B: never saw the stream */
	assert_true(spool_sent(sp) == 4);
	assert_int_equal(read_seqs(seqs, 64), 6);
	assert_true(seqs[0] == 5 && seqs[5] == 10);
	assert_true(spool_sent(sp) == 10);
	spool_ack(sp, 8);			/* B stored 5..8 */
	spool_rewind(sp, 4);		/* A is back, with 1..4 */
	assert_int_equal(read_seqs(seqs, 64), 2);
	assert_true(seqs[0] == 9 && seqs[1] == 10);
	spool_rewind(sp, 9);		/* a collector ahead of the ACKs */
	assert_int_equal(read_seqs(seqs, 64), 1);
	assert_true(seqs[0] == 10);
	spool_close(sp);
}

static void
test_restart_keeps_stream_and_cuts_torn_tail(void **state)
{
	struct dirent		*de;
	uint64_t		 stream, stream2, seqs[64];
	char			 path[512];
	DIR			*d;
	int			 fd;

	(void)state;
	assert_non_null(sp = spool_open(dir, 1 << 20, 0, &stream));
	append(50);
	append(50);
	append(50);
	spool_close(sp);
	/* A crash in the middle of writing a fourth frame. */
	d = opendir(dir);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".seg") != NULL)
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
	closedir(d);
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) != -1);
	assert_int_equal(write(fd, "\x4c\x57\x01\x03\x00\x00\x01", 7), 7);
	close(fd);

	assert_non_null(sp = spool_open(dir, 1 << 20, 0, &stream2));
	assert_true(stream2 == stream);
	assert_true(spool_next_seq(sp) == 4);
	spool_rewind(sp, 1);
	assert_int_equal(read_seqs(seqs, 64), 2);
	assert_true(seqs[0] == 2 && seqs[1] == 3);
	append(50);
	assert_int_equal(read_seqs(seqs, 64), 1);
	assert_true(seqs[0] == 4);
	spool_close(sp);
}

/*
 * A state folder that is not ours (cloned from another PC) is opened
 * fresh: nothing of it is sent, the stream is new, numbers start at 1.
 * A new stream for what is spooled keeps the records and their numbers.
 */
static void
test_fresh_and_restream(void **state)
{
	uint64_t	stream, stream2, stream3, seqs[64];

	(void)state;
	assert_non_null(sp = spool_open(dir, 1 << 20, 0, &stream));
	append(50);
	append(50);
	spool_close(sp);
	assert_non_null(sp = spool_open(dir, 1 << 20, 1, &stream2));
	assert_true(stream2 != stream);
	assert_true(spool_next_seq(sp) == 1);
	assert_true(spool_records(sp) == 0);
	spool_rewind(sp, 0);
	assert_int_equal(read_seqs(seqs, 64), 0);
	append(50);
	append(50);
	assert_int_equal(spool_restream(sp, &stream3), 0);
	assert_true(stream3 != stream2);
	spool_rewind(sp, 0);
	assert_int_equal(read_seqs(seqs, 64), 2);
	assert_true(seqs[0] == 1 && seqs[1] == 2);
	spool_close(sp);
	/* The new id is the one a restart finds. */
	assert_non_null(sp = spool_open(dir, 1 << 20, 0, &stream));
	assert_true(stream == stream3);
	assert_true(spool_next_seq(sp) == 3);
	spool_close(sp);
}

/*
 * A spool that overflows drops the oldest, and the reports left in it
 * account for every missing number exactly once, even when earlier reports
 * were themselves pushed out (the collector away all along).
 */
static void
test_overflow_accounts_for_drops(void **state)
{
	static uint64_t		seqs[20000], runs[2000][2];
	static unsigned char	covered[20000];
	uint64_t		stream, first, last;
	size_t			i, j, n, nruns = 0, reports = 0;

	(void)state;
	assert_non_null(sp = spool_open(dir, 65536, 0, &stream));
	for (i = 0; i < 5000; i++)
		reports += append(200 + i % 300);
	assert_true(reports > 1);
	assert_true(spool_bytes(sp) <= 65536 + 512);
	spool_rewind(sp, 0);
	n = read_frames(seqs, 20000, runs, &nruns);
	last = spool_next_seq(sp) - 1;
	/* Present numbers, in order; reports mark their runs. */
	for (i = 0; i < n; i++) {
		assert_true(i == 0 || seqs[i] > seqs[i - 1]);
		covered[seqs[i]] = 1;
	}
	for (i = 0; i < nruns; i++)
		for (j = runs[i][0]; j <= runs[i][1]; j++) {
			/* Missing, and reported once. */
			assert_int_equal(covered[j], 0);
			covered[j] = 2;
		}
	first = 1;
	for (j = first; j <= last; j++)
		if (covered[j] == 0)
			fail_msg("seq %zu is missing and no report has it",
			    (size_t)j);
	spool_close(sp);
}

/* After the collector took some, drops start after what it has. */
static void
test_overflow_after_ack(void **state)
{
	struct spool_drop	d;
	uint64_t		stream;
	size_t			i;

	(void)state;
	assert_non_null(sp = spool_open(dir, 65536, 0, &stream));
	for (i = 0; i < 100; i++)
		append_as(200, NULL);
	spool_ack(sp, 100);
	for (i = 0; i < 2000; i++) {
		append_as(200, NULL);
		if (spool_due(sp, &d, 1) == 1)
			break;
	}
	assert_true(d.first_seq == 101);
	assert_true(d.count == d.last_seq - 100);
	spool_close(sp);
}

/*
 * Runs to report survive a restart, and what the collector says it has
 * is taken out of them.
 */
static void
test_due_survives_restart_and_trims(void **state)
{
	struct spool_drop	d, before;
	uint64_t		stream;
	size_t			i;

	(void)state;
	assert_non_null(sp = spool_open(dir, 65536, 0, &stream));
	for (i = 0; i < 2000 && spool_ndue(sp) == 0; i++)
		append_as(200, NULL);
	assert_int_equal(spool_ndue(sp), 1);
	assert_int_equal(spool_due(sp, &before, 1), 1);
	/* Put it back the way the agent would find it after a crash. */
	spool_close(sp);
	assert_non_null(sp = spool_open(dir, 65536, 0, &stream));
	/* Taken by spool_due before the close: not due again. */
	assert_int_equal(spool_ndue(sp), 0);
	for (i = 0; i < 4000 && spool_ndue(sp) == 0; i++)
		append_as(200, NULL);
	assert_int_equal(spool_ndue(sp), 1);
	spool_close(sp);
	assert_non_null(sp = spool_open(dir, 65536, 0, &stream));
	assert_int_equal(spool_ndue(sp), 1);
	/* The collector had the first three of the run. */
	spool_due_trim(sp, before.last_seq + 3);
	assert_int_equal(spool_due(sp, &d, 1), 1);
	assert_true(d.first_seq == before.last_seq + 4);
	assert_true(d.count == d.last_seq - d.first_seq + 1);
	spool_close(sp);
}

/* Acknowledged segments are removed from the disk. */
static void
test_ack_removes_segments(void **state)
{
	struct dirent		*de;
	uint64_t		 stream;
	size_t			 i, segs = 0;
	DIR			*d;

	(void)state;
	assert_non_null(sp = spool_open(dir, 1 << 20, 0, &stream));
	for (i = 0; i < 3000; i++)
		append(200);
	spool_ack(sp, 3000);
	assert_true(spool_records(sp) == 0);
	d = opendir(dir);
	while ((de = readdir(d)) != NULL)
		segs += strstr(de->d_name, ".seg") != NULL;
	closedir(d);
	/* Only the active segment stays. */
	assert_int_equal(segs, 1);
	assert_true(spool_bytes(sp) < (1 << 20) / 8 + 300);
	spool_close(sp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rewind_after_other_collector,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_ack_rewind, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_keeps_stream_and_cuts_torn_tail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_overflow_accounts_for_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow_after_ack,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_due_survives_restart_and_trims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_removes_segments,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_and_restream,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
