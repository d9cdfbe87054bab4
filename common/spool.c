/* SPDX-License-Identifier: ISC */
/*
 * The agent's spool: segment files of RECORD frames in the state folder,
 * kept until the collector acknowledges them.  See spool.h.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rbuf.h"
#include "spool.h"
#include "wire.h"
#include "xmalloc.h"

#define SEG_NAME_LEN	20		/* 16 hex digits + ".seg" */
#define SEG_MIN		(16 * 1024)
#define SEG_MAX		(16 * 1024 * 1024)
#define READ_CHUNK	(SPOOL_FRAME_MAX + WIRE_HDR_LEN)
#define REPORT_ROOM	512	/* an agent.dropped record fits */

struct segment {
	uint64_t	first_seq;	/* its name */
	uint64_t	last_seq;	/* first_seq - 1 while empty */
	int64_t		first_ts;
	int64_t		last_ts;
	off_t		size;
	int		fd;
};

/* An agent.dropped record in the spool, and the run it reports. */
struct report {
	uint64_t		seq;
	struct spool_drop	run;
};

struct spool {
	char		*dir;
	int		 dirfd;
	size_t		 max;
	size_t		 seg_max;
	struct segment	*segs;		/* oldest first; the last is active */
	size_t		 nsegs;
	uint64_t	 next_seq;
	uint64_t	 acked;
	size_t		 cur;		/* send cursor: segment ... */
	off_t		 cur_off;	/* ... and offset in it */
	uint64_t	 total;		/* bytes in all segments */
	int		 dirty;
	int		 left[SPOOL_LEFT_MAX];	/* dup()s: segments left */
	size_t		 nleft;			/* ... behind, not synced */
	uint8_t		*chunk;
	struct report	*reports;	/* agent.dropped not yet acked */
	size_t		 nreports;
	struct spool_drop *due;		/* reports to append */
	size_t		 ndue;
	int		 drops_dirty;	/* due or reports changed */
};

static void	spool_load_drops(struct spool *);
static void	spool_save_drops(struct spool *);
static void	spool_free(struct spool *);

/* Reads the seq and ts of the frame whose payload starts at p. */
static int
frame_seq(const uint8_t *p, size_t len, uint64_t *seq, int64_t *ts)
{
	struct rbuf	rb;
	uint64_t	t;

	rbuf_init(&rb, p, len);
	if (rbuf_get_u64(&rb, seq) == -1 || rbuf_get_u64(&rb, &t) == -1)
		return -1;
	*ts = (int64_t)t;
	return 0;
}

/*
 * Walks the frames of s from its start.  With after_seq, stops at the first
 * frame whose seq is above it and returns that frame's offset (and ts);
 * without, checks every frame (RECORD, in sequence from first_seq) and
 * returns the offset where the good frames end.  Either way the walk stops
 * at the first bad or incomplete frame.
 */
static off_t
seg_walk(struct segment *s, const uint64_t *after_seq, int64_t *ts_at)
{
	struct wire_hdr	 h;
	const char	*err;
	uint8_t		 hdr[WIRE_HDR_LEN + 16];
	uint64_t	 seq, expect = s->first_seq;
	int64_t		 ts;
	off_t		 off = 0;
	ssize_t		 n;

	for (;;) {
		n = pread(s->fd, hdr, sizeof(hdr), off);
		if (n < (ssize_t)sizeof(hdr) ||
		    wire_parse_hdr(hdr, WIRE_MAX_FRAME_LIMIT, &h, &err) == -1 ||
		    h.type != WIRE_RECORD || off + WIRE_HDR_LEN + h.len >
		    s->size ||
		    frame_seq(hdr + WIRE_HDR_LEN, 16, &seq, &ts) == -1 ||
		    (after_seq == NULL && seq != expect))
			return off;
		if (after_seq != NULL && seq > *after_seq) {
			if (ts_at != NULL)
				*ts_at = ts;
			return off;
		}
		if (after_seq == NULL) {
			if (expect == s->first_seq)
				s->first_ts = ts;
			s->last_seq = seq;
			s->last_ts = ts;
			expect++;
		}
		off += WIRE_HDR_LEN + h.len;
	}
}

static void
seg_name(char name[SEG_NAME_LEN + 1], uint64_t first)
{
	snprintf(name, SEG_NAME_LEN + 1, "%016" PRIx64 ".seg", first);
}

static struct segment *
seg_add(struct spool *sp, uint64_t first, int fd, off_t size)
{
	struct segment	*s;

	sp->segs = xreallocarray(sp->segs, sp->nsegs + 1, sizeof(*sp->segs));
	s = &sp->segs[sp->nsegs++];
	memset(s, 0, sizeof(*s));
	s->first_seq = first;
	s->last_seq = first - 1;
	s->fd = fd;
	s->size = size;
	return s;
}

/* Starts a new, empty active segment for the next record. */
static int
seg_create(struct spool *sp)
{
	char	name[SEG_NAME_LEN + 1];
	int	fd;

	seg_name(name, sp->next_seq);
	fd = openat(sp->dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		log_warn("spool %s/%s", sp->dir, name);
		return -1;
	}
	seg_add(sp, sp->next_seq, fd, 0);
	sp->dirty = 1;
	return 0;
}

/* Removes the oldest segment; the cursor moves with the array. */
static void
seg_remove_oldest(struct spool *sp)
{
	char	name[SEG_NAME_LEN + 1];

	seg_name(name, sp->segs[0].first_seq);
	close(sp->segs[0].fd);
	if (unlinkat(sp->dirfd, name, 0) == -1)
		log_warn("spool: removing %s", name);
	sp->total -= (uint64_t)sp->segs[0].size;
	memmove(&sp->segs[0], &sp->segs[1], (sp->nsegs - 1) * sizeof(*sp->segs));
	sp->nsegs--;
	if (sp->cur > 0)
		sp->cur--;
	else
		sp->cur_off = 0;
	sp->dirty = 1;
}

static int
seg_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Finds, checks and repairs the segments already in the folder. */
static int
spool_scan(struct spool *sp)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		**names = NULL, *end;
	size_t		 n = 0, i;
	uint64_t	 first;
	off_t		 good;
	int		 fd, dfd;

	if ((dfd = dup(sp->dirfd)) == -1 || (d = fdopendir(dfd)) == NULL) {
		log_warn("spool %s", sp->dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != SEG_NAME_LEN ||
		    strcmp(de->d_name + 16, ".seg") != 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), seg_cmp);
	for (i = 0; i < n; i++) {
		first = strtoull(names[i], &end, 16);
		fd = openat(sp->dirfd, names[i], O_RDWR | O_APPEND | O_CLOEXEC |
		    O_NOFOLLOW);
		if (first == 0 || end != names[i] + 16 || fd == -1 ||
		    fstat(fd, &st) == -1) {
			log_warnx("spool %s/%s: not a segment, ignored",
			    sp->dir, names[i]);
			if (fd != -1)
				close(fd);
			free(names[i]);
			continue;
		}
		seg_add(sp, first, fd, st.st_size);
		good = seg_walk(&sp->segs[sp->nsegs - 1], NULL, NULL);
		if (good != st.st_size) {
			log_warnx("spool %s/%s: cut %lld bytes of a torn or bad "
			    "frame at offset %lld", sp->dir, names[i],
			    (long long)(st.st_size - good), (long long)good);
			if (ftruncate(fd, good) == -1)
				log_warn("spool %s/%s: truncate", sp->dir,
				    names[i]);
			sp->segs[sp->nsegs - 1].size = good;
		}
		sp->total += (uint64_t)good;
		free(names[i]);
	}
	free(names);
	return 0;
}

int
spool_restream(struct spool *sp, uint64_t *stream)
{
	char	buf[32];
	int	fd;

	if (getrandom(stream, sizeof(*stream), 0) != sizeof(*stream))
		fatal("getrandom");
	snprintf(buf, sizeof(buf), "%016" PRIx64 "\n", *stream);
	if ((fd = openat(sp->dirfd, "stream.tmp", O_WRONLY | O_CREAT |
	    O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1 ||
	    write(fd, buf, 17) != 17 || fsync(fd) == -1 || close(fd) == -1 ||
	    renameat(sp->dirfd, "stream.tmp", sp->dirfd, "stream") == -1 ||
	    fsync(sp->dirfd) == -1) {
		log_warn("spool %s/stream", sp->dir);
		return -1;
	}
	return 0;
}

/*
 * Reads the stream id, or makes a new one when there is no spool yet or
 * fresh says the folder's history is not ours.
 */
static int
spool_stream(struct spool *sp, uint64_t *stream, int fresh)
{
	char	 buf[32], *end;
	ssize_t	 n;
	int	 fd;

	if (!fresh && sp->nsegs > 0 &&
	    (fd = openat(sp->dirfd, "stream", O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n == 17 && buf[16] == '\n') {
			buf[16] = '\0';
			*stream = strtoull(buf, &end, 16);
			if (end == buf + 16)
				return 0;
		}
		log_warnx("spool %s/stream is damaged; starting a new stream",
		    sp->dir);
	}
	/* A new stream: segments of an unknown one are worthless. */
	while (sp->nsegs > 0)
		seg_remove_oldest(sp);
	if (fresh && unlinkat(sp->dirfd, "drops", 0) == -1 && errno != ENOENT)
		log_warn("spool %s/drops", sp->dir);
	if (spool_restream(sp, stream) == -1)
		return -1;
	sp->next_seq = 1;
	return 0;
}

struct spool *
spool_open(const char *dir, size_t max, int fresh, uint64_t *stream)
{
	struct spool	*sp;
	struct segment	*last;

	sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(dir);
	sp->dirfd = -1;
	sp->max = max;
	sp->seg_max = max / 8;
	if (sp->seg_max < SEG_MIN)
		sp->seg_max = SEG_MIN;
	if (sp->seg_max > SEG_MAX)
		sp->seg_max = SEG_MAX;
	sp->chunk = xmalloc(READ_CHUNK);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("state folder %s", dir);
		goto fail;
	}
	if ((sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_warn("state folder %s", dir);
		goto fail;
	}
	if (spool_scan(sp) == -1 || spool_stream(sp, stream, fresh) == -1)
		goto fail;
	if (sp->nsegs > 0) {
		last = &sp->segs[sp->nsegs - 1];
		sp->next_seq = last->last_seq + 1;
		sp->acked = sp->segs[0].first_seq - 1;
	}
	if (sp->nsegs == 0 && seg_create(sp) == -1)
		goto fail;
	spool_load_drops(sp);
	spool_sync(sp);
	log_info("spool %s: stream %016" PRIx64 ", %" PRIu64 " records "
	    "waiting, next is %" PRIu64, dir, *stream, spool_records(sp),
	    sp->next_seq);
	return sp;
fail:
	spool_free(sp);
	return NULL;
}

uint64_t
spool_next_seq(struct spool *sp)
{
	return sp->next_seq;
}

uint64_t
spool_records(struct spool *sp)
{
	return sp->next_seq - 1 - sp->acked;
}

uint64_t
spool_bytes(struct spool *sp)
{
	return sp->total;
}

static void
due_add(struct spool *sp, const struct spool_drop *d)
{
	sp->due = xreallocarray(sp->due, sp->ndue + 1, sizeof(*sp->due));
	sp->due[sp->ndue++] = *d;
	sp->drops_dirty = 1;
}

/*
 * Drops the oldest segment to make room.  Its unacknowledged records make
 * a run to report (joined to the run before it); an agent.dropped record
 * in it takes its report with it, so that run is reported again.
 */
static void
spool_drop_oldest(struct spool *sp)
{
	struct segment	*s = &sp->segs[0];
	struct spool_drop *run;
	uint64_t	 from;
	int64_t		 ts = s->first_ts;
	size_t		 i;

	if (s->last_seq > sp->acked) {
		from = s->first_seq > sp->acked ? s->first_seq : sp->acked + 1;
		if (from != s->first_seq)
			seg_walk(s, &sp->acked, &ts);
		run = sp->ndue > 0 ? &sp->due[sp->ndue - 1] : NULL;
		if (run == NULL || run->last_seq + 1 != from) {
			struct spool_drop d = { 0, from, from - 1, ts, ts };

			due_add(sp, &d);
			run = &sp->due[sp->ndue - 1];
		}
		run->count += s->last_seq - from + 1;
		run->last_seq = s->last_seq;
		run->last_ts = s->last_ts;
		sp->acked = s->last_seq;
	}
	for (i = 0; i < sp->nreports; ) {
		if (sp->reports[i].seq > s->last_seq) {
			i++;
			continue;
		}
		if (sp->reports[i].seq >= s->first_seq)
			due_add(sp, &sp->reports[i].run);
		sp->reports[i] = sp->reports[--sp->nreports];
		sp->drops_dirty = 1;
	}
	seg_remove_oldest(sp);
}

size_t
spool_due(struct spool *sp, struct spool_drop *out, size_t max)
{
	size_t	n = sp->ndue < max ? sp->ndue : max;

	if (n == 0)
		return 0;
	memcpy(out, sp->due, n * sizeof(*out));
	memmove(sp->due, sp->due + n, (sp->ndue - n) * sizeof(*sp->due));
	sp->ndue -= n;
	sp->drops_dirty = 1;
	return n;
}

size_t
spool_ndue(struct spool *sp)
{
	return sp->ndue;
}

void
spool_due_trim(struct spool *sp, uint64_t stored)
{
	struct spool_drop	*d;
	size_t			 i;

	for (i = 0; i < sp->ndue; ) {
		d = &sp->due[i];
		if (d->last_seq <= stored) {
			memmove(d, d + 1, (sp->ndue - i - 1) * sizeof(*d));
			sp->ndue--;
			sp->drops_dirty = 1;
			continue;
		}
		if (d->first_seq <= stored) {
			d->first_seq = stored + 1;
			d->count = d->last_seq - d->first_seq + 1;
			sp->drops_dirty = 1;
		}
		i++;
	}
}

/*
 * Keeps the runs still to report, and the reports not yet acknowledged,
 * in the state folder ("drops"), so a restart forgets no loss.  Lines:
 * "D first last first_ts last_ts" and "R seq first last first_ts last_ts".
 */
static void
spool_save_drops(struct spool *sp)
{
	struct buf	 b;
	size_t		 i;
	int		 fd;

	if (!sp->drops_dirty)
		return;
	sp->drops_dirty = 0;
	buf_init(&b);
	for (i = 0; i < sp->ndue; i++)
		buf_printf(&b, "D %" PRIu64 " %" PRIu64 " %" PRId64 " %"
		    PRId64 "\n", sp->due[i].first_seq, sp->due[i].last_seq,
		    sp->due[i].first_ts, sp->due[i].last_ts);
	for (i = 0; i < sp->nreports; i++)
		buf_printf(&b, "R %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64
		    " %" PRId64 "\n", sp->reports[i].seq,
		    sp->reports[i].run.first_seq, sp->reports[i].run.last_seq,
		    sp->reports[i].run.first_ts, sp->reports[i].run.last_ts);
	fd = openat(sp->dirfd, "drops.tmp", O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1 || (b.len > 0 && write(fd, b.data, b.len) !=
	    (ssize_t)b.len) || fsync(fd) == -1 || close(fd) == -1 ||
	    renameat(sp->dirfd, "drops.tmp", sp->dirfd, "drops") == -1) {
		log_warn("spool %s/drops", sp->dir);
		sp->drops_dirty = 1;
	}
	buf_free(&b);
}

static void
spool_load_drops(struct spool *sp)
{
	struct spool_drop	 d;
	FILE			*f;
	char			 line[256];
	uint64_t		 seq;
	int			 fd, lineno = 0;

	if ((fd = openat(sp->dirfd, "drops", O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1 || (f = fdopen(fd, "r")) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		memset(&d, 0, sizeof(d));
		if (sscanf(line, "D %" SCNu64 " %" SCNu64 " %" SCNd64 " %"
		    SCNd64, &d.first_seq, &d.last_seq, &d.first_ts,
		    &d.last_ts) == 4 && d.first_seq <= d.last_seq) {
			d.count = d.last_seq - d.first_seq + 1;
			due_add(sp, &d);
		} else if (sscanf(line, "R %" SCNu64 " %" SCNu64 " %" SCNu64
		    " %" SCNd64 " %" SCNd64, &seq, &d.first_seq, &d.last_seq,
		    &d.first_ts, &d.last_ts) == 5 &&
		    d.first_seq <= d.last_seq) {
			d.count = d.last_seq - d.first_seq + 1;
			sp->reports = xreallocarray(sp->reports, sp->nreports + 1,
			    sizeof(*sp->reports));
			sp->reports[sp->nreports].seq = seq;
			sp->reports[sp->nreports++].run = d;
		} else
			log_warnx("spool %s/drops:%d: bad line, ignored",
			    sp->dir, lineno);
	}
	fclose(f);
}

/*
 * Keeps a dup() of a segment with writes not yet synced, that the next
 * spool_sync or spool_sync_fds takes; too many, and the oldest is synced
 * here.
 */
static void
spool_leave(struct spool *sp, int fd)
{
	int	dfd;

	if (sp->nleft == SPOOL_LEFT_MAX) {
		if (fdatasync(sp->left[0]) == -1)
			log_warn("spool %s: fdatasync", sp->dir);
		close(sp->left[0]);
		memmove(sp->left, sp->left + 1, --sp->nleft * sizeof(int));
	}
	if ((dfd = dup(fd)) == -1) {
		if (fdatasync(fd) == -1)
			log_warn("spool %s: fdatasync", sp->dir);
		return;
	}
	sp->left[sp->nleft++] = dfd;
}

int
spool_append(struct spool *sp, const uint8_t *frame, size_t len,
    const struct spool_drop *report)
{
	struct segment	*s;
	uint64_t	 seq;
	int64_t		 ts;
	size_t		 off;
	ssize_t		 n;

	if (frame_seq(frame + WIRE_HDR_LEN, len - WIRE_HDR_LEN, &seq, &ts) ==
	    -1 || seq != sp->next_seq)
		fatalx("spool_append: frame out of sequence");
	s = &sp->segs[sp->nsegs - 1];
	if (s->size > 0 && (size_t)s->size + len > sp->seg_max) {
		/* The segment left behind is synced with the next round. */
		if (sp->dirty)
			spool_leave(sp, s->fd);
		if (seg_create(sp) == -1)
			return -1;
		s = &sp->segs[sp->nsegs - 1];
	}
	/*
	 * A report goes in the room kept for it; anything else makes room
	 * for itself and for the reports of what it pushes out.
	 */
	while (report == NULL && sp->nsegs > 1 &&
	    sp->total + len + REPORT_ROOM * (sp->ndue + 1) > sp->max)
		spool_drop_oldest(sp);
	s = &sp->segs[sp->nsegs - 1];
	for (off = 0; off < len; off += (size_t)n) {
		if ((n = write(s->fd, frame + off, len - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			log_warn("spool %s: record %" PRIu64 " lost", sp->dir,
			    seq);
			/* No torn frame left behind. */
			if (ftruncate(s->fd, s->size) == -1)
				log_warn("spool: truncate");
			return -1;
		}
	}
	if (s->last_seq < s->first_seq)
		s->first_ts = ts;
	s->last_seq = seq;
	s->last_ts = ts;
	s->size += (off_t)len;
	sp->total += len;
	sp->next_seq++;
	sp->dirty = 1;
	if (report != NULL) {
		sp->reports = xreallocarray(sp->reports, sp->nreports + 1,
		    sizeof(*sp->reports));
		sp->reports[sp->nreports].seq = seq;
		sp->reports[sp->nreports++].run = *report;
		sp->drops_dirty = 1;
	}
	spool_save_drops(sp);
	return 0;
}

void
spool_ack(struct spool *sp, uint64_t seq)
{
	size_t	i;

	if (seq >= sp->next_seq)
		seq = sp->next_seq - 1;
	if (seq <= sp->acked)
		return;
	sp->acked = seq;
	while (sp->nsegs > 1 && sp->segs[0].last_seq <= sp->acked)
		seg_remove_oldest(sp);
	for (i = 0; i < sp->nreports; )
		if (sp->reports[i].seq <= seq) {
			sp->reports[i] = sp->reports[--sp->nreports];
			sp->drops_dirty = 1;
		} else
			i++;
	spool_save_drops(sp);
}

void
spool_rewind(struct spool *sp, uint64_t after)
{
	size_t	i;

	for (i = 0; i < sp->nsegs - 1; i++)
		if (sp->segs[i].last_seq > after)
			break;
	sp->cur = i;
	sp->cur_off = seg_walk(&sp->segs[i], &after, NULL);
}

size_t
spool_read(struct spool *sp, struct evbuffer *out, size_t max)
{
	struct segment	*s;
	struct wire_hdr	 h;
	const char	*err;
	size_t		 added = 0, used;
	ssize_t		 n;

	while (added < max) {
		s = &sp->segs[sp->cur];
		if (sp->cur_off >= s->size) {
			if (sp->cur + 1 >= sp->nsegs)
				break;
			sp->cur++;
			sp->cur_off = 0;
			continue;
		}
		n = pread(s->fd, sp->chunk, READ_CHUNK, sp->cur_off);
		if (n <= 0) {
			log_warn("spool: reading segment %016" PRIx64,
			    s->first_seq);
			break;
		}
		for (used = 0; used + WIRE_HDR_LEN <= (size_t)n; ) {
			if (wire_parse_hdr(sp->chunk + used, SPOOL_FRAME_MAX,
			    &h, &err) == -1)
				break;
			if (used + WIRE_HDR_LEN + h.len > (size_t)n)
				break;
			used += WIRE_HDR_LEN + h.len;
		}
		if (used == 0) {
			/* Checked when written and at start: the disk lies. */
			log_warnx("spool: segment %016" PRIx64 " damaged at "
			    "%lld; skipping the rest of it", s->first_seq,
			    (long long)sp->cur_off);
			sp->cur_off = s->size;
			continue;
		}
		evbuffer_add(out, sp->chunk, used);
		sp->cur_off += (off_t)used;
		added += used;
	}
	return added;
}

void
spool_sync(struct spool *sp)
{
	size_t	i;

	for (i = 0; i < sp->nleft; i++) {
		if (fdatasync(sp->left[i]) == -1)
			log_warn("spool %s: fdatasync", sp->dir);
		close(sp->left[i]);
	}
	sp->nleft = 0;
	if (!sp->dirty)
		return;
	if (fdatasync(sp->segs[sp->nsegs - 1].fd) == -1)
		log_warn("spool: fdatasync");
	if (fsync(sp->dirfd) == -1)
		log_warn("spool: fsync of %s", sp->dir);
	sp->dirty = 0;
}

/* Closes and frees without syncing. */
static void
spool_free(struct spool *sp)
{
	while (sp->nleft > 0)
		close(sp->left[--sp->nleft]);
	while (sp->nsegs > 0) {
		close(sp->segs[sp->nsegs - 1].fd);
		sp->nsegs--;
	}
	free(sp->segs);
	free(sp->chunk);
	free(sp->reports);
	free(sp->due);
	if (sp->dirfd != -1)
		close(sp->dirfd);
	free(sp->dir);
	free(sp);
}

size_t
spool_sync_fds(struct spool *sp, int fds[SPOOL_SYNC_FDS])
{
	size_t	n = sp->nleft;

	memcpy(fds, sp->left, n * sizeof(int));
	sp->nleft = 0;
	if (!sp->dirty)
		return n;
	if ((fds[n] = dup(sp->segs[sp->nsegs - 1].fd)) == -1) {
		log_warn("spool %s: dup", sp->dir);
		return n;
	}
	if ((fds[n + 1] = dup(sp->dirfd)) == -1) {
		log_warn("spool %s: dup", sp->dir);
		close(fds[n]);
		return n;
	}
	sp->dirty = 0;
	return n + 2;
}

void
spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	spool_sync(sp);
	spool_save_drops(sp);
	spool_free(sp);
}
