/* SPDX-License-Identifier: ISC */
/* The agent-collector wire protocol: frame codec, no I/O. */
#include <string.h>

#include "rbuf.h"
#include "wire.h"
#include "xmalloc.h"

/* Smallest payload each type can have; index by type. */
static const uint32_t wire_min_len[WIRE_TYPE_MAX + 1] = {
	[WIRE_HELLO] = 2 + 1 + 8 + 2 + 4,
	[WIRE_WELCOME] = 8 + 4 + 4,
	[WIRE_RECORD] = 8 + 8 + 2 + 1 + 2,
	[WIRE_HEARTBEAT] = 8 + 8 + 2 + 1 + 2,
	[WIRE_ACK] = 8,
	[WIRE_BYE] = 2 + 2,
	[WIRE_ENROLL] = 2 + 1 + 2 + 1 + 2 + 1,
	[WIRE_ENROLLED] = 2 + 1,
	[WIRE_COMMAND] = 4 + 2 + 1 + 2,
	[WIRE_RESULT] = 4 + 2 + 2,
};

/* Largest payload of the types whose fields are all bounded; 0: none. */
static const uint32_t wire_max_len[WIRE_TYPE_MAX + 1] = {
	[WIRE_HELLO] = 2 + WIRE_HOST_MAX + 8 + 2 + WIRE_TEXT_MAX + 4,
	[WIRE_WELCOME] = 8 + 4 + 4,
	[WIRE_ACK] = 8,
	[WIRE_BYE] = 2 + 2 + WIRE_TEXT_MAX,
	[WIRE_ENROLL] = 2 + WIRE_HOST_MAX + 2 + WIRE_SECRET_MAX + 2 +
	    WIRE_CSR_MAX,
	[WIRE_ENROLLED] = 2 + WIRE_CERT_MAX,
	[WIRE_COMMAND] = 4 + 2 + WIRE_CMD_NAME_MAX + 2 +
	    WIRE_CMD_ARGS_MAX * (2 + WIRE_CMD_ARG_MAX),
	[WIRE_RESULT] = 4 + 2 + 2 + WIRE_TEXT_MAX,
};

static const char *wire_names[WIRE_TYPE_MAX + 1] = {
	[WIRE_HELLO] = "HELLO",
	[WIRE_WELCOME] = "WELCOME",
	[WIRE_RECORD] = "RECORD",
	[WIRE_HEARTBEAT] = "HEARTBEAT",
	[WIRE_ACK] = "ACK",
	[WIRE_BYE] = "BYE",
	[WIRE_ENROLL] = "ENROLL",
	[WIRE_ENROLLED] = "ENROLLED",
	[WIRE_COMMAND] = "COMMAND",
	[WIRE_RESULT] = "RESULT",
};

const char *
wire_type_name(uint8_t type)
{
	if (type == 0 || type > WIRE_TYPE_MAX)
		return "unknown";
	return wire_names[type];
}

int
wire_parse_hdr(const uint8_t *p, uint32_t max, struct wire_hdr *h,
    const char **err)
{
	struct rbuf	rb;
	uint16_t	magic;
	uint8_t		version, type;
	uint32_t	len;

	rbuf_init(&rb, p, WIRE_HDR_LEN);
	rbuf_get_u16(&rb, &magic);
	rbuf_get_u8(&rb, &version);
	rbuf_get_u8(&rb, &type);
	rbuf_get_u32(&rb, &len);
	if (magic != WIRE_MAGIC) {
		*err = "bad magic (not a labwatch peer)";
		return -1;
	}
	if (version != WIRE_VERSION) {
		*err = "unknown protocol version";
		return -1;
	}
	if (type == 0 || type > WIRE_TYPE_MAX) {
		*err = "unknown frame type";
		return -1;
	}
	if (len > max || (wire_max_len[type] != 0 &&
	    len > wire_max_len[type])) {
		*err = "frame longer than the maximum";
		return -1;
	}
	if (len < wire_min_len[type]) {
		*err = "frame shorter than its type's minimum";
		return -1;
	}
	h->type = type;
	h->len = len;
	return 0;
}

/* Ends a decode: short data or trailing bytes are both errors. */
static int
wire_done(struct rbuf *rb, int short_data, const char **err)
{
	if (short_data) {
		*err = "field runs past the end of the frame";
		return -1;
	}
	if (rbuf_left(rb) != 0) {
		*err = "trailing bytes after the last field";
		return -1;
	}
	return 0;
}

int
wire_get_hello(const uint8_t *p, size_t len, struct wire_hello *h,
    const char **err)
{
	struct rbuf	rb;
	int		bad;

	rbuf_init(&rb, p, len);
	bad = rbuf_get_str16(&rb, &h->host, &h->host_len) == -1 ||
	    rbuf_get_u64(&rb, &h->stream) == -1 ||
	    rbuf_get_str16(&rb, &h->software, &h->software_len) == -1 ||
	    rbuf_get_u32(&rb, &h->caps) == -1;
	if (wire_done(&rb, bad, err) == -1)
		return -1;
	if (h->host_len == 0 || h->host_len > WIRE_HOST_MAX) {
		*err = "host name length out of range";
		return -1;
	}
	if (h->software_len > WIRE_TEXT_MAX) {
		*err = "software version too long";
		return -1;
	}
	return 0;
}

int
wire_get_welcome(const uint8_t *p, size_t len, struct wire_welcome *w,
    const char **err)
{
	struct rbuf	rb;
	int		bad;

	rbuf_init(&rb, p, len);
	bad = rbuf_get_u64(&rb, &w->last_seq) == -1 ||
	    rbuf_get_u32(&rb, &w->heartbeat_ms) == -1 ||
	    rbuf_get_u32(&rb, &w->max_frame) == -1;
	if (wire_done(&rb, bad, err) == -1)
		return -1;
	/* Below it no record fits: the agent would discard every one. */
	if (w->max_frame < WIRE_MIN_FRAME) {
		*err = "max_frame below the minimum";
		return -1;
	}
	return 0;
}

int
wire_get_ack(const uint8_t *p, size_t len, uint64_t *seq, const char **err)
{
	struct rbuf	rb;
	int		bad;

	rbuf_init(&rb, p, len);
	bad = rbuf_get_u64(&rb, seq) == -1;
	return wire_done(&rb, bad, err);
}

int
wire_get_bye(const uint8_t *p, size_t len, struct wire_bye *b,
    const char **err)
{
	struct rbuf	rb;
	int		bad;

	rbuf_init(&rb, p, len);
	bad = rbuf_get_u16(&rb, &b->code) == -1 ||
	    rbuf_get_str16(&rb, &b->reason, &b->reason_len) == -1;
	if (wire_done(&rb, bad, err) == -1)
		return -1;
	if (b->reason_len > WIRE_TEXT_MAX) {
		*err = "reason too long";
		return -1;
	}
	return 0;
}

int
wire_get_enroll(const uint8_t *p, size_t len, struct wire_enroll *e,
    const char **err)
{
	struct rbuf	rb;
	int		bad;

	rbuf_init(&rb, p, len);
	bad = rbuf_get_str16(&rb, &e->host, &e->host_len) == -1 ||
	    rbuf_get_str16(&rb, &e->secret, &e->secret_len) == -1 ||
	    rbuf_get_str16(&rb, &e->csr, &e->csr_len) == -1;
	if (wire_done(&rb, bad, err) == -1)
		return -1;
	if (e->host_len == 0 || e->host_len > WIRE_HOST_MAX) {
		*err = "host name length out of range";
		return -1;
	}
	if (e->secret_len == 0 || e->secret_len > WIRE_SECRET_MAX) {
		*err = "secret length out of range";
		return -1;
	}
	if (e->csr_len == 0 || e->csr_len > WIRE_CSR_MAX) {
		*err = "request length out of range";
		return -1;
	}
	return 0;
}

int
wire_get_command(const uint8_t *p, size_t len, struct wire_command *c,
    const char **err)
{
	struct rbuf	rb;
	uint16_t	i;
	int		bad;

	rbuf_init(&rb, p, len);
	bad = rbuf_get_u32(&rb, &c->id) == -1 ||
	    rbuf_get_str16(&rb, &c->name, &c->name_len) == -1 ||
	    rbuf_get_u16(&rb, &c->nargs) == -1;
	if (!bad && c->nargs > WIRE_CMD_ARGS_MAX) {
		*err = "too many command arguments";
		return -1;
	}
	for (i = 0; !bad && i < c->nargs; i++)
		bad = rbuf_get_str16(&rb, &c->args[i], &c->arg_len[i]) == -1;
	if (wire_done(&rb, bad, err) == -1)
		return -1;
	if (c->name_len == 0 || c->name_len > WIRE_CMD_NAME_MAX) {
		*err = "command name length out of range";
		return -1;
	}
	for (i = 0; i < c->nargs; i++)
		if (c->arg_len[i] > WIRE_CMD_ARG_MAX) {
			*err = "command argument too long";
			return -1;
		}
	return 0;
}

int
wire_get_result(const uint8_t *p, size_t len, struct wire_result *r,
    const char **err)
{
	struct rbuf	rb;
	int		bad;

	rbuf_init(&rb, p, len);
	bad = rbuf_get_u32(&rb, &r->id) == -1 ||
	    rbuf_get_u16(&rb, &r->status) == -1 ||
	    rbuf_get_str16(&rb, &r->detail, &r->detail_len) == -1;
	if (wire_done(&rb, bad, err) == -1)
		return -1;
	if (r->detail_len > WIRE_TEXT_MAX) {
		*err = "result detail too long";
		return -1;
	}
	return 0;
}

int
wire_get_enrolled(const uint8_t *p, size_t len, const uint8_t **pem,
    uint16_t *pem_len, const char **err)
{
	struct rbuf	rb;
	int		bad;

	rbuf_init(&rb, p, len);
	bad = rbuf_get_str16(&rb, pem, pem_len) == -1;
	if (wire_done(&rb, bad, err) == -1)
		return -1;
	if (*pem_len == 0 || *pem_len > WIRE_CERT_MAX) {
		*err = "certificate length out of range";
		return -1;
	}
	return 0;
}

/* Turns a string read in place into a span relative to base. */
static struct span
wire_span(const uint8_t *base, const uint8_t *s, uint16_t len)
{
	struct span	sp = { (uint32_t)(s - base), len };

	return sp;
}

static int
key_seen(const struct record *r, const uint8_t *k, uint16_t klen)
{
	uint32_t	i;

	for (i = 0; i < r->nfields; i++)
		if (r->fields[i].key.len == klen &&
		    memcmp(r->ext + r->fields[i].key.off, k, klen) == 0)
			return 1;
	return 0;
}

/* Reads one field's value of the given type into f. */
static int
wire_get_value(struct rbuf *rb, struct record *r, struct field *f,
    const char **err)
{
	const uint8_t	*s;
	uint64_t	 u;
	uint16_t	 slen, n, i;
	uint8_t		 b;

	switch (f->type) {
	case FIELD_STR:
		if (rbuf_get_str16(rb, &s, &slen) == -1)
			goto short_data;
		f->v.str = wire_span(rb->data, s, slen);
		return 0;
	case FIELD_INT:
	case FIELD_TIME:
	case FIELD_DURATION:
		if (rbuf_get_u64(rb, &u) == -1)
			goto short_data;
		f->v.i = (int64_t)u;
		return 0;
	case FIELD_BOOL:
		if (rbuf_get_u8(rb, &b) == -1)
			goto short_data;
		if (b > 1) {
			*err = "boolean is neither 0 nor 1";
			return -1;
		}
		f->v.b = b;
		return 0;
	case FIELD_LIST:
		if (rbuf_get_u16(rb, &n) == -1)
			goto short_data;
		if (n > RECORD_ITEMS_MAX - r->nitems) {
			*err = "too many list items";
			return -1;
		}
		/* Each item takes at least its 2-byte length. */
		if ((size_t)n * 2 > rbuf_left(rb))
			goto short_data;
		if (r->nitems + n > r->items_cap) {
			r->items_cap = r->nitems + n > 64 ?
			    r->nitems + n : 64;
			r->items = xreallocarray(r->items, r->items_cap,
			    sizeof(*r->items));
		}
		f->v.list.first = r->nitems;
		f->v.list.n = n;
		for (i = 0; i < n; i++) {
			if (rbuf_get_str16(rb, &s, &slen) == -1)
				goto short_data;
			r->items[r->nitems++] = wire_span(rb->data, s, slen);
		}
		return 0;
	default:
		*err = "unknown field type";
		return -1;
	}
short_data:
	*err = "field runs past the end of the frame";
	return -1;
}

int
wire_get_record(const uint8_t *p, size_t len, struct record *r,
    const char **err)
{
	struct rbuf	 rb;
	struct field	*f;
	const uint8_t	*s;
	uint64_t	 ts;
	uint16_t	 slen, nfields, i;

	record_reset(r);
	r->ext = p;
	rbuf_init(&rb, p, len);
	if (rbuf_get_u64(&rb, &r->seq) == -1 ||
	    rbuf_get_u64(&rb, &ts) == -1 ||
	    rbuf_get_str16(&rb, &s, &slen) == -1 ||
	    rbuf_get_u16(&rb, &nfields) == -1)
		return wire_done(&rb, 1, err);
	r->ts_us = (int64_t)ts;
	if (!record_event_ok(s, slen)) {
		*err = "bad event name";
		return -1;
	}
	r->event = wire_span(p, s, slen);
	if (nfields > RECORD_FIELDS_MAX) {
		*err = "too many fields";
		return -1;
	}
	if (nfields > r->fields_cap) {
		r->fields_cap = nfields > 32 ? nfields : 32;
		r->fields = xreallocarray(r->fields, r->fields_cap,
		    sizeof(*r->fields));
	}
	for (i = 0; i < nfields; i++) {
		f = &r->fields[i];
		if (rbuf_get_u8(&rb, &f->type) == -1 ||
		    rbuf_get_str16(&rb, &s, &slen) == -1)
			return wire_done(&rb, 1, err);
		if (!record_key_ok(s, slen)) {
			*err = "bad or reserved field key";
			return -1;
		}
		if (key_seen(r, s, slen)) {
			*err = "duplicate field key";
			return -1;
		}
		f->key = wire_span(p, s, slen);
		if (wire_get_value(&rb, r, f, err) == -1)
			return -1;
		r->nfields++;
	}
	return wire_done(&rb, 0, err);
}

/* Starts a frame of type; returns where its header begins. */
static size_t
frame_begin(struct buf *b, uint8_t type)
{
	size_t	off = b->len;

	buf_add_u16(b, WIRE_MAGIC);
	buf_add_u8(b, WIRE_VERSION);
	buf_add_u8(b, type);
	buf_add_u32(b, 0);
	return off;
}

/* Fills in the length of the frame that begins at off. */
static void
frame_end(struct buf *b, size_t off)
{
	buf_set_u32(b, off + 4, (uint32_t)(b->len - off - WIRE_HDR_LEN));
}

static void
put_str16(struct buf *b, const void *s, size_t len)
{
	if (len > UINT16_MAX)
		len = UINT16_MAX;
	buf_add_u16(b, (uint16_t)len);
	buf_add(b, s, len);
}

void
wire_put_hello(struct buf *b, const char *host, uint64_t stream,
    const char *software, uint32_t caps)
{
	size_t	off = frame_begin(b, WIRE_HELLO);

	put_str16(b, host, strlen(host));
	buf_add_u64(b, stream);
	put_str16(b, software, strlen(software));
	buf_add_u32(b, caps);
	frame_end(b, off);
}

void
wire_put_command(struct buf *b, uint32_t id, const char *name, int nargs,
    const char *const *args)
{
	size_t	off = frame_begin(b, WIRE_COMMAND);
	size_t	len;
	int	i;

	buf_add_u32(b, id);
	put_str16(b, name, strlen(name));
	buf_add_u16(b, (uint16_t)nargs);
	for (i = 0; i < nargs; i++) {
		len = strlen(args[i]);
		put_str16(b, args[i], len > WIRE_CMD_ARG_MAX ?
		    WIRE_CMD_ARG_MAX : len);
	}
	frame_end(b, off);
}

void
wire_put_result(struct buf *b, uint32_t id, uint16_t status,
    const char *detail)
{
	size_t	off = frame_begin(b, WIRE_RESULT);
	size_t	len = strlen(detail);

	buf_add_u32(b, id);
	buf_add_u16(b, status);
	put_str16(b, detail, len > WIRE_TEXT_MAX ? WIRE_TEXT_MAX : len);
	frame_end(b, off);
}

void
wire_put_welcome(struct buf *b, const struct wire_welcome *w)
{
	size_t	off = frame_begin(b, WIRE_WELCOME);

	buf_add_u64(b, w->last_seq);
	buf_add_u32(b, w->heartbeat_ms);
	buf_add_u32(b, w->max_frame);
	frame_end(b, off);
}

void
wire_put_record(struct buf *b, uint8_t type, const struct record *r)
{
	const uint8_t	*base = record_bytes(r);
	const struct field *f;
	const struct span *it;
	size_t		 off = frame_begin(b, type);
	uint32_t	 i, j;

	buf_add_u64(b, r->seq);
	buf_add_u64(b, (uint64_t)r->ts_us);
	put_str16(b, base + r->event.off, r->event.len);
	buf_add_u16(b, (uint16_t)r->nfields);
	for (i = 0; i < r->nfields; i++) {
		f = &r->fields[i];
		buf_add_u8(b, f->type);
		put_str16(b, base + f->key.off, f->key.len);
		switch (f->type) {
		case FIELD_STR:
			put_str16(b, base + f->v.str.off, f->v.str.len);
			break;
		case FIELD_INT:
		case FIELD_TIME:
		case FIELD_DURATION:
			buf_add_u64(b, (uint64_t)f->v.i);
			break;
		case FIELD_BOOL:
			buf_add_u8(b, (uint8_t)f->v.b);
			break;
		case FIELD_LIST:
			buf_add_u16(b, (uint16_t)f->v.list.n);
			for (j = 0; j < f->v.list.n; j++) {
				it = &r->items[f->v.list.first + j];
				put_str16(b, base + it->off, it->len);
			}
			break;
		}
	}
	frame_end(b, off);
}

void
wire_put_ack(struct buf *b, uint64_t seq)
{
	size_t	off = frame_begin(b, WIRE_ACK);

	buf_add_u64(b, seq);
	frame_end(b, off);
}

void
wire_put_bye(struct buf *b, uint16_t code, const char *reason)
{
	size_t	off = frame_begin(b, WIRE_BYE);
	size_t	len = strlen(reason);

	buf_add_u16(b, code);
	put_str16(b, reason, len > WIRE_TEXT_MAX ? WIRE_TEXT_MAX : len);
	frame_end(b, off);
}

void
wire_put_enroll(struct buf *b, const struct wire_enroll *e)
{
	size_t	off = frame_begin(b, WIRE_ENROLL);

	put_str16(b, e->host, e->host_len);
	put_str16(b, e->secret, e->secret_len);
	put_str16(b, e->csr, e->csr_len);
	frame_end(b, off);
}

void
wire_put_enrolled(struct buf *b, const void *pem, size_t len)
{
	size_t	off = frame_begin(b, WIRE_ENROLLED);

	put_str16(b, pem, len);
	frame_end(b, off);
}
