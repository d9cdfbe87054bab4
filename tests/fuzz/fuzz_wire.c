/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the wire codec: the input is a stream of frames as
 * a collector would read it.  Each payload is decoded from a copy of exactly
 * its size, so a read past its end is caught.  A decoded RECORD or HEARTBEAT
 * must format as exactly one line in both formats and encode back to the
 * same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "format.h"
#include "record.h"
#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Aborts unless b holds one newline, at its end, and no other control. */
static void
check_line(const struct buf *b)
{
	size_t	i;

	if (b->len == 0 || b->data[b->len - 1] != '\n')
		abort();
	for (i = 0; i + 1 < b->len; i++)
		if (b->data[i] < 0x20 || b->data[i] == 0x7f)
			abort();
}

static void
check_record(const struct record *r, uint8_t type, const uint8_t *p,
    size_t len, struct buf *out)
{
	buf_reset(out);
	format_record(out, r, FORMAT_TEXT);
	check_line(out);
	buf_reset(out);
	format_record(out, r, FORMAT_JSON);
	check_line(out);
	buf_reset(out);
	wire_put_record(out, type, r);
	if (out->len != WIRE_HDR_LEN + len ||
	    memcmp(out->data + WIRE_HDR_LEN, p, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			 host[WIRE_HOST_MAX + 1] = "pc-01";
	struct wire_hello	 hello;
	struct wire_welcome	 welcome;
	struct wire_bye		 bye;
	struct wire_enroll	 enroll;
	struct wire_hdr		 h;
	const uint8_t		*pem;
	uint16_t		 pem_len;
	struct record		 r;
	struct buf		 out;
	const char		*err;
	uint8_t			*p;
	uint64_t		 seq;
	size_t			 off = 0;

	record_init(&r);
	buf_init(&out);
	while (size - off >= WIRE_HDR_LEN) {
		if (wire_parse_hdr(data + off, WIRE_MAX_FRAME, &h, &err) == -1)
			break;
		off += WIRE_HDR_LEN;
		if (h.len > size - off)
			break;
		if ((p = malloc(h.len)) == NULL)
			abort();
		memcpy(p, data + off, h.len);
		off += h.len;
		switch (h.type) {
		case WIRE_HELLO:
			if (wire_get_hello(p, h.len, &hello, &err) == 0) {
				memcpy(host, hello.host, hello.host_len);
				host[hello.host_len] = '\0';
			}
			break;
		case WIRE_WELCOME:
			wire_get_welcome(p, h.len, &welcome, &err);
			break;
		case WIRE_ACK:
			wire_get_ack(p, h.len, &seq, &err);
			break;
		case WIRE_BYE:
			wire_get_bye(p, h.len, &bye, &err);
			break;
		case WIRE_ENROLL:
			/* Decoded fields lie inside the payload. */
			if (wire_get_enroll(p, h.len, &enroll, &err) == 0 &&
			    (enroll.csr + enroll.csr_len > p + h.len ||
			    enroll.host_len > WIRE_HOST_MAX))
				abort();
			break;
		case WIRE_ENROLLED:
			if (wire_get_enrolled(p, h.len, &pem, &pem_len, &err) ==
			    0 && pem + pem_len > p + h.len)
				abort();
			break;
		case WIRE_RECORD:
		case WIRE_HEARTBEAT:
			if (wire_get_record(p, h.len, &r, &err) == 0) {
				r.host = host;
				check_record(&r, h.type, p, h.len, &out);
			}
			break;
		default:
			abort();
		}
		free(p);
	}
	buf_free(&out);
	record_free(&r);
	return 0;
}
