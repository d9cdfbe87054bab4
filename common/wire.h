/* SPDX-License-Identifier: ISC */
/*
 * The agent-collector wire protocol: length-prefixed frames, no I/O here.
 * common/PROTOCOL.md is the reference; keep the two in step.
 */
#ifndef LABWATCH_WIRE_H
#define LABWATCH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "record.h"

#define WIRE_MAGIC		0x4c57	/* "LW" */
#define WIRE_VERSION		1
#define WIRE_HDR_LEN		8
#define WIRE_MAX_FRAME		65536	/* default payload limit */
#define WIRE_MAX_FRAME_LIMIT	(16 * 1024 * 1024)
#define WIRE_MIN_FRAME		1024	/* the least payload limit (WELCOME) */
#define WIRE_HOST_MAX		64
#define WIRE_TEXT_MAX		256	/* software versions, reasons */
#define WIRE_SECRET_MAX		256	/* enrolment secret */
#define WIRE_CSR_MAX		4096	/* enrolment request, DER */
#define WIRE_CERT_MAX		16384	/* signed certificate chain, PEM */

enum wire_type {
	WIRE_HELLO = 1,		/* agent: who I am, which stream */
	WIRE_WELCOME = 2,	/* collector: accepted, last stored seq */
	WIRE_RECORD = 3,	/* agent: one record */
	WIRE_HEARTBEAT = 4,	/* agent: alive, with health fields */
	WIRE_ACK = 5,		/* collector: all records <= seq stored */
	WIRE_BYE = 6,		/* either: closing, with a reason */
	WIRE_ENROLL = 7,	/* agent: a name, the secret, a CSR */
	WIRE_ENROLLED = 8,	/* collector: the signed certificate */
	WIRE_COMMAND = 9,	/* collector: do this (caps WIRE_CAP_COMMANDS) */
	WIRE_RESULT = 10,	/* agent: how a command went */
};
#define WIRE_TYPE_MAX	WIRE_RESULT

/* HELLO capability bits. */
#define WIRE_CAP_COMMANDS	0x1	/* takes COMMAND, answers RESULT */

#define WIRE_CMD_NAME_MAX	32
#define WIRE_CMD_ARGS_MAX	8
#define WIRE_CMD_ARG_MAX	256

enum wire_result_status {
	RESULT_OK = 0,
	RESULT_REFUSED = 1,	/* not allowed (plaintext link, bad argument) */
	RESULT_FAILED = 2,	/* tried, did not work */
	RESULT_UNKNOWN = 3,	/* no such command */
};

enum wire_bye_code {
	BYE_SHUTDOWN = 1,	/* the sender is stopping */
	BYE_PROTOCOL = 2,	/* the peer broke the protocol */
	BYE_BAD_HOST = 3,	/* HELLO named a host that is not allowed */
	BYE_BUSY = 4,		/* too many connections */
	BYE_TIMEOUT = 5,	/* nothing heard in time */
	BYE_STORAGE = 6,	/* the collector cannot store records now */
	BYE_ENROLL = 7,		/* enrolment refused */
	BYE_STREAM = 8,		/* the stream belongs to another host */
};

struct wire_hdr {
	uint8_t		type;
	uint32_t	len;		/* payload bytes after the header */
};

struct wire_hello {
	const uint8_t	*host;		/* in place, not NUL-terminated */
	uint16_t	 host_len;
	uint64_t	 stream;	/* agent's stream id */
	const uint8_t	*software;
	uint16_t	 software_len;
	uint32_t	 caps;		/* capability bits, 0 for now */
};

struct wire_welcome {
	uint64_t	last_seq;	/* last record stored of this stream */
	uint32_t	heartbeat_ms;	/* the collector's idle timeout */
	uint32_t	max_frame;	/* largest payload it accepts */
};

struct wire_enroll {
	const uint8_t	*host;
	uint16_t	 host_len;
	const uint8_t	*secret;
	uint16_t	 secret_len;
	const uint8_t	*csr;		/* DER */
	uint16_t	 csr_len;
};

struct wire_command {
	uint32_t	 id;
	const uint8_t	*name;
	uint16_t	 name_len;
	uint16_t	 nargs;
	const uint8_t	*args[WIRE_CMD_ARGS_MAX];
	uint16_t	 arg_len[WIRE_CMD_ARGS_MAX];
};

struct wire_result {
	uint32_t	 id;
	uint16_t	 status;
	const uint8_t	*detail;
	uint16_t	 detail_len;
};

struct wire_bye {
	uint16_t	 code;
	const uint8_t	*reason;
	uint16_t	 reason_len;
};

/*
 * Checks the WIRE_HDR_LEN bytes of a frame header: magic, version, a known
 * type, a length at most max (and at most what the type's fields can fill)
 * and at least the type's minimum.  Fills *h and
 * returns 0, or returns -1 and points *err at a reason.
 */
int	wire_parse_hdr(const uint8_t *, uint32_t, struct wire_hdr *,
	    const char **);
/* Returns a type's name for logs ("HELLO"), or "unknown". */
const char *wire_type_name(uint8_t);

/*
 * Payload decoders: each reads exactly the payload through a bounded reader
 * and rejects fields that run past it or trailing bytes.  Strings point into
 * the payload.  They return 0, or -1 with *err set.
 */
int	wire_get_hello(const uint8_t *, size_t, struct wire_hello *,
	    const char **);
int	wire_get_welcome(const uint8_t *, size_t, struct wire_welcome *,
	    const char **);
int	wire_get_ack(const uint8_t *, size_t, uint64_t *, const char **);
int	wire_get_bye(const uint8_t *, size_t, struct wire_bye *, const char **);
int	wire_get_enroll(const uint8_t *, size_t, struct wire_enroll *,
	    const char **);
int	wire_get_command(const uint8_t *, size_t, struct wire_command *,
	    const char **);
int	wire_get_result(const uint8_t *, size_t, struct wire_result *,
	    const char **);
/* ENROLLED: the certificate chain in PEM, pointing into the payload. */
int	wire_get_enrolled(const uint8_t *, size_t, const uint8_t **,
	    uint16_t *, const char **);
/*
 * Decodes a RECORD or HEARTBEAT payload into r, whose spans then point into
 * the payload: it must outlive r's use.  Checks the event name and every key
 * (syntax, reserved names, duplicates), field types and counts.
 */
int	wire_get_record(const uint8_t *, size_t, struct record *,
	    const char **);

/* Frame encoders: each appends one whole frame to b. */
void	wire_put_hello(struct buf *, const char *, uint64_t, const char *,
	    uint32_t);
/* COMMAND: id, name and nargs NUL-terminated arguments. */
void	wire_put_command(struct buf *, uint32_t, const char *, int,
	    const char *const *);
void	wire_put_result(struct buf *, uint32_t, uint16_t, const char *);
void	wire_put_welcome(struct buf *, const struct wire_welcome *);
void	wire_put_record(struct buf *, uint8_t, const struct record *);
void	wire_put_ack(struct buf *, uint64_t);
void	wire_put_bye(struct buf *, uint16_t, const char *);
void	wire_put_enroll(struct buf *, const struct wire_enroll *);
void	wire_put_enrolled(struct buf *, const void *, size_t);

#endif
