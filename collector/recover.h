/* SPDX-License-Identifier: ISC */
/*
 * What a host's log says about its stream, read back at start: the stream
 * of the last host.connect and the highest sequence number stored after it.
 * Together with the state file this keeps a collector killed between
 * writing a log and saving its state from storing records twice.
 */
#ifndef LABWATCH_RECOVER_H
#define LABWATCH_RECOVER_H

#include <stddef.h>
#include <stdint.h>

#define RECOVER_TAIL	(1024 * 1024)	/* bytes of a log read back */

struct recover {
	int		have_stream;
	uint64_t	stream;
	uint64_t	last_seq;
	int		open;	/* a host.connect with no end after it */
};

/*
 * Scans whole lines (text or JSON, as the collector writes them) in order,
 * updating *rc: a host.connect line sets the stream and its resume_after
 * and opens a session, host.disconnect and host.offline close it, a record
 * line with a seq raises last_seq.  Lines it does not recognise
 * are passed over.
 */
void	recover_scan(const char *, size_t, struct recover *);
/*
 * Cuts a torn last line (no newline at the end: the collector died while
 * writing it, so it was never acknowledged) off the open log fd and scans
 * the last RECOVER_TAIL bytes.  Returns the bytes cut, or -1 on an error.
 */
long long recover_log(int, const char *, struct recover *);

#endif
