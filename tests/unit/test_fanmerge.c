/* SPDX-License-Identifier: ISC */
/* Unit tests for the file-event merge table (agent/fanmerge.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fanmerge.h"

#define SEC	1000000

/* What was emitted, in order. */
static struct {
	char	path[64];
	int64_t	count;
	int64_t	size;
	int	pid;
	int	kind;
	const void *owner;
}		out[64];
static int	nout;

static void
emit(const struct fm_entry *e, void *arg)
{
	(void)arg;
	assert_true(nout < 64);
	snprintf(out[nout].path, sizeof(out[nout].path), "%.*s",
	    (int)e->pathlen, e->path);
	out[nout].count = e->count;
	out[nout].size = e->size;
	out[nout].pid = e->pid;
	out[nout].kind = e->kind;
	out[nout].owner = e->owner;
	nout++;
}

static struct fm_entry *
get(struct fanmerge *fm, const void *owner, int kind, int pid,
    const char *path, int64_t now, int *fresh)
{
	return fanmerge_get(fm, owner, kind, pid, path, strlen(path), now,
	    fresh);
}

static int
setup(void **state)
{
	(void)state;
	nout = 0;
	return 0;
}

static void
test_merge_window(void **state)
{
	struct fanmerge	 fm;
	struct fm_entry	*e;
	int		 fresh, w;

	(void)state;
	fanmerge_init(&fm, 16, SEC, emit, NULL);
	e = get(&fm, &w, 0, 10, "/m/a", 0, &fresh);
	assert_int_equal(fresh, 1);
	assert_true(e->count == 1 && e->size == -1 && e->uid == -1);
	e->size = 5;
	/* The same file, process and kind within the window: merged. */
	e = get(&fm, &w, 0, 10, "/m/a", SEC / 2, &fresh);
	assert_int_equal(fresh, 0);
	assert_true(e->count == 2);
	e->size = 9;
	/* Another process, kind or path: entries of their own. */
	get(&fm, &w, 0, 11, "/m/a", SEC / 2, &fresh);
	assert_int_equal(fresh, 1);
	get(&fm, &w, 1, 10, "/m/a", SEC / 2, &fresh);
	assert_int_equal(fresh, 1);
	get(&fm, &w, 0, 10, "/m/a2", SEC / 2, &fresh);
	assert_int_equal(fresh, 1);
	/* Past the window of the first event: a new entry. */
	get(&fm, &w, 0, 10, "/m/a", SEC, &fresh);
	assert_int_equal(fresh, 1);
	assert_true(fanmerge_deadline(&fm) == SEC);
	fanmerge_expire(&fm, SEC - 1);
	assert_int_equal(nout, 0);
	fanmerge_expire(&fm, SEC);
	assert_int_equal(nout, 1);
	assert_string_equal(out[0].path, "/m/a");
	assert_true(out[0].count == 2 && out[0].size == 9 && out[0].pid == 10);
	assert_true(fanmerge_deadline(&fm) == SEC + SEC / 2);
	fanmerge_expire(&fm, SEC + SEC / 2);
	assert_int_equal(nout, 4);
	assert_true(out[1].pid == 11 && out[2].kind == 1);
	assert_string_equal(out[3].path, "/m/a2");
	assert_true(fanmerge_deadline(&fm) == 2 * SEC);
	fanmerge_free(&fm);
	assert_int_equal(nout, 5);
	assert_true(out[4].count == 1);
}

static void
test_bounded_burst(void **state)
{
	struct fanmerge	 fm;
	char		 p[32];
	int		 i, fresh, w, seen[40] = { 0 };

	(void)state;
	fanmerge_init(&fm, 4, SEC, emit, NULL);
	/* 40 files at once into a table of 4: the oldest leave early. */
	for (i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "/m/f%02d", i);
		get(&fm, &w, 0, 10, p, 0, &fresh);
		assert_int_equal(fresh, 1);
		assert_int_equal(nout, i < 4 ? 0 : i - 3);
	}
	assert_int_equal(nout, 36);
	fanmerge_expire(&fm, SEC);
	assert_int_equal(nout, 40);
	/* Every file once, in order. */
	for (i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "/m/f%02d", i);
		assert_string_equal(out[i].path, p);
		seen[i]++;
	}
	for (i = 0; i < 40; i++)
		assert_int_equal(seen[i], 1);
	assert_true(fanmerge_deadline(&fm) == -1);
	fanmerge_free(&fm);
	assert_int_equal(nout, 40);
}

static void
test_drop_owner(void **state)
{
	struct fanmerge	 fm;
	int		 fresh, w1, w2;

	(void)state;
	fanmerge_init(&fm, 8, SEC, emit, NULL);
	get(&fm, &w1, 0, 1, "/a/x", 0, &fresh);
	get(&fm, &w2, 0, 1, "/b/x", 0, &fresh);
	get(&fm, &w1, 1, 1, "/a/y", 0, &fresh);
	/* The same path under another watch is not a repeat. */
	get(&fm, &w2, 0, 1, "/a/x", 0, &fresh);
	assert_int_equal(fresh, 1);
	fanmerge_drop_owner(&fm, &w1);
	assert_int_equal(nout, 2);
	assert_true(out[0].owner == &w1 && out[1].owner == &w1);
	assert_string_equal(out[1].path, "/a/y");
	fanmerge_free(&fm);
	assert_int_equal(nout, 4);
	assert_true(out[2].owner == &w2 && out[3].owner == &w2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_merge_window, setup),
		cmocka_unit_test_setup(test_bounded_burst, setup),
		cmocka_unit_test_setup(test_drop_owner, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
