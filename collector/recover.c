/* SPDX-License-Identifier: ISC */
/* Reading a host's log back at start: torn last line, stream, last seq. */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "recover.h"
#include "xmalloc.h"

/* Reads the decimal or hex number at p (up to end) into *v. */
static int
recover_num(const char *p, const char *end, int base, uint64_t *v)
{
	uint64_t	n = 0;
	int		d, digits = 0;

	for (; p < end; p++, digits++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			break;
		if (n > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		n = n * (uint64_t)base + (uint64_t)d;
	}
	if (digits == 0)
		return -1;
	*v = n;
	return 0;
}

/* Finds key in [p, end) and returns where its value starts, or NULL. */
static const char *
recover_after(const char *p, const char *end, const char *key)
{
	size_t	klen = strlen(key);

	for (; p + klen <= end; p++)
		if (memcmp(p, key, klen) == 0)
			return p + klen;
	return NULL;
}

/* Whether the event at q is the collector's end of a session. */
static int
recover_ends(const char *q, const char *end, int json)
{
	static const char *ends[2][2] = {
		{ " host.disconnect ", " host.offline " },
		{ ",\"event\":\"host.disconnect\",",
		  ",\"event\":\"host.offline\"," },
	};
	size_t	i, n;

	for (i = 0; i < 2; i++) {
		n = strlen(ends[json][i]);
		if ((size_t)(end - q) >= n && memcmp(q, ends[json][i], n) == 0)
			return 1;
	}
	return 0;
}

/*
 * One line.  The collector writes the fields this looks for at known
 * places (ts, host and event are checked names; host.connect is its own
 * record), so no agent-supplied string can pass for them.
 */
static void
recover_line(const char *p, const char *end, struct recover *rc)
{
	const char	*q, *ev;
	uint64_t	 v;
	int		 json = *p == '{';

	/* Past the timestamp and the host. */
	if (json) {
		if ((q = recover_after(p, end, "\",\"host\":\"")) == NULL ||
		    (q = memchr(q, '"', (size_t)(end - q))) == NULL)
			return;
		q++;
		if (end - q > 7 && memcmp(q, ",\"seq\":", 7) == 0) {
			q += 6;
			goto seq;
		}
		if (recover_ends(q, end, 1)) {
			rc->open = 0;
			return;
		}
		ev = ",\"event\":\"host.connect\",";
	} else {
		if ((q = memchr(p, ' ', (size_t)(end - p))) == NULL ||
		    (q = memchr(q + 1, ' ', (size_t)(end - q - 1))) == NULL)
			return;
		if (recover_ends(q, end, 0)) {
			rc->open = 0;
			return;
		}
		ev = " host.connect ";
		/* TS HOST EVENT seq=N: the fourth word. */
		if ((size_t)(end - q) < strlen(ev) ||
		    memcmp(q, ev, strlen(ev)) != 0) {
			if ((q = memchr(q + 1, ' ', (size_t)(end - q - 1))) !=
			    NULL && end - q > 5 && memcmp(q + 1, "seq=", 4) == 0)
				goto seq;
			return;
		}
	}
	/* The event must be host.connect, right here. */
	if ((size_t)(end - q) < strlen(ev) || memcmp(q, ev, strlen(ev)) != 0)
		return;
	q += strlen(ev);
	if ((q = recover_after(q, end, json ? "\"stream\":\"" : "stream=")) ==
	    NULL || recover_num(q, end, 16, &v) == -1)
		return;
	rc->have_stream = 1;
	rc->open = 1;
	rc->stream = v;
	rc->last_seq = 0;
	if ((q = recover_after(q, end, json ? "\"resume_after\":" :
	    "resume_after=")) != NULL && recover_num(q, end, 10, &v) == 0)
		rc->last_seq = v;
	return;
seq:
	/* q is at the character before the number. */
	if (recover_num(q + 1 + (json ? 0 : 4), end, 10, &v) == 0 &&
	    v > rc->last_seq)
		rc->last_seq = v;
}

void
recover_scan(const char *buf, size_t len, struct recover *rc)
{
	const char	*p = buf, *end = buf + len, *nl;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (nl > p)
			recover_line(p, nl, rc);
		p = nl + 1;
	}
}

long long
recover_log(int fd, const char *name, struct recover *rc)
{
	struct stat	 st;
	char		*buf;
	size_t		 len, skip = 0;
	ssize_t		 n;
	off_t		 from;
	long long	 cut = 0;

	if (fstat(fd, &st) == -1)
		return -1;
	if (st.st_size == 0)
		return 0;
	len = st.st_size > RECOVER_TAIL ? RECOVER_TAIL : (size_t)st.st_size;
	from = st.st_size - (off_t)len;
	buf = xmalloc(len);
	if ((n = pread(fd, buf, len, from)) != (ssize_t)len) {
		free(buf);
		errno = n == -1 ? errno : EIO;
		return -1;
	}
	/* A window that starts inside a line starts after it. */
	if (from > 0) {
		char *nl = memchr(buf, '\n', len);

		skip = nl != NULL ? (size_t)(nl - buf) + 1 : len;
	}
	while (len > skip && buf[len - 1] != '\n') {
		len--;
		cut++;
	}
	if (cut > 0) {
		if (len == skip && from > 0) {
			/* No newline in the window: the line is huge. */
			log_warnx("%s: last line is longer than %d bytes and "
			    "has no end; left alone", name, RECOVER_TAIL);
			cut = 0;
		} else if (ftruncate(fd, from + (off_t)len) == -1) {
			free(buf);
			return -1;
		} else
			log_warnx("%s: cut a torn last line of %lld bytes",
			    name, cut);
	}
	recover_scan(buf + skip, len - skip, rc);
	free(buf);
	return cut;
}
