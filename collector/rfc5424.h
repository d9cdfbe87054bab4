/* SPDX-License-Identifier: ISC */
/*
 * Records as RFC 5424 syslog messages with RFC 6587 octet counting, apart
 * from any I/O (fwd_syslog.c sends them):
 *
 *   LEN SP <134>1 TIMESTAMP HOST labwatch - EVENT
 *       [labwatch-id@PEN host="" stream="" seq=""][labwatch@PEN key="" ...] JSON
 *
 * PRI 134 is local0.info.  MSGID is the event (cut at 32 characters);
 * the identity and every field whose key is an SD-NAME are structured
 * data under the private enterprise number PEN; MSG is the record as
 * JSON, no BOM.
 */
#ifndef LABWATCH_RFC5424_H
#define LABWATCH_RFC5424_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "record.h"

#define RFC5424_PEN_DEFAULT	32473	/* IANA's example number (RFC 5612) */
#define RFC5424_PRI		134	/* local0.info */
#define RFC5424_MSGID_MAX	32
#define RFC5424_SDNAME_MAX	32

/* Whether s is an SD-NAME: 1 to 32 printable ASCII, not = ] " or space. */
int	rfc5424_sd_name_ok(const uint8_t *, size_t);
/*
 * Appends s as an SD-PARAM value (no quotes): \ " ] escaped with a
 * backslash; control characters and bytes that are not UTF-8 as \xNN.
 */
void	rfc5424_sd_value(struct buf *, const uint8_t *, size_t);
/*
 * Appends one framed message: r of host, with identity stream (hex) and
 * seq, under enterprise number pen, msg (msglen bytes) as MSG.
 */
void	rfc5424_frame(struct buf *, const struct record *, const char *,
	    const char *, uint64_t, unsigned long, const char *, size_t);

#endif
