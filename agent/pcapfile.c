/* Classic pcap files in memory: the header and bounded records. */
#include <string.h>

#include "pcapfile.h"

#define MAGIC_US	0xa1b2c3d4U
#define MAGIC_NS	0xa1b23c4dU
#define LINKTYPE_MASK	0x03ffffffU	/* above: FCS length and flag */

static uint32_t
pf_u32(const uint8_t *p, int swapped)
{
	uint32_t	v;

	memcpy(&v, p, 4);
	return swapped ? __builtin_bswap32(v) : v;
}

int
pcapfile_open(struct pcapfile *f, const uint8_t *p, size_t len)
{
	uint32_t	magic;
	uint16_t	major, minor;

	memset(f, 0, sizeof(*f));
	if (len < PCAPFILE_HDR)
		return -1;
	memcpy(&magic, p, 4);
	if (magic == MAGIC_US || magic == MAGIC_NS)
		f->swapped = 0;
	else if (__builtin_bswap32(magic) == MAGIC_US ||
	    __builtin_bswap32(magic) == MAGIC_NS)
		f->swapped = 1;
	else
		return -1;
	f->nsec = pf_u32(p, f->swapped) == MAGIC_NS;
	memcpy(&major, p + 4, 2);
	memcpy(&minor, p + 6, 2);
	if (f->swapped) {
		major = __builtin_bswap16(major);
		minor = __builtin_bswap16(minor);
	}
	if (major != 2 || minor != 4)
		return -1;
	f->snaplen = pf_u32(p + 16, f->swapped);
	if (f->snaplen == 0 || f->snaplen > PCAPFILE_SNAP_MAX)
		f->snaplen = PCAPFILE_SNAP_MAX;
	f->linktype = pf_u32(p + 20, f->swapped) & LINKTYPE_MASK;
	f->p = p;
	f->len = len;
	f->off = f->scout = PCAPFILE_HDR;
	return 0;
}

/* Fetches the line at off into the cache, if in the file. */
static void
pcapfile_fetch(const struct pcapfile *f, size_t off)
{
	if (off < f->len)
		__builtin_prefetch(f->p + off);
}

/*
 * Two lengths that may come after a record of len bytes: the last two
 * that did (or len again, for a length not seen before).
 */
static void
pcapfile_after(const struct pcapfile *f, uint32_t len, uint32_t out[2])
{
	unsigned int	i = (len * 0x9e3779b1U) >> 26;

	if (f->follow[i].len == len) {
		out[0] = f->follow[i].after[0];
		out[1] = f->follow[i].after[1];
	} else
		out[0] = out[1] = len;
}

/* Remembers that a record of len bytes followed one of f->last. */
static void
pcapfile_learn(struct pcapfile *f, uint32_t len)
{
	unsigned int	i = (f->last * 0x9e3779b1U) >> 26;

	if (f->follow[i].len != f->last) {
		f->follow[i].len = f->last;
		f->follow[i].after[0] = f->follow[i].after[1] = len;
	} else if (f->follow[i].after[0] != len) {
		f->follow[i].after[1] = f->follow[i].after[0];
		f->follow[i].after[0] = len;
	}
	f->last = len;
}

/*
 * The scout walks PCAPFILE_AHEAD records ahead of the reader, fetching
 * each record's header and first bytes into the cache.  The headers are a
 * chain (each one's length says where the next begins) that the hardware
 * cannot foresee, and one step ahead is less than memory takes: so the
 * scout also guesses where the two records after the next begin, from the
 * lengths that came after the same lengths before (packets mostly repeat
 * a few patterns of sizes: full segments and ACKs), and fetches there.
 * A wrong guess costs a fetch.  Bounded like the reader; it stops where a
 * record is cut short, and the reader finds that out for itself.
 * Returns 0 when it cannot go on.
 */
static int
pcapfile_scout(struct pcapfile *f)
{
	uint32_t	incl, a[2], b[2];
	size_t		s, n;
	int		i, j;

	if (f->scout >= f->len || f->len - f->scout < PCAPFILE_REC_HDR)
		return 0;
	incl = pf_u32(f->p + f->scout + 8, f->swapped);
	if (incl > PCAPFILE_SNAP_MAX ||
	    f->len - f->scout - PCAPFILE_REC_HDR < incl) {
		f->scout = f->len;
		return 0;
	}
	pcapfile_learn(f, incl);
	s = f->scout += PCAPFILE_REC_HDR + (size_t)incl;
	/* Its header, link, IP and transport headers: three lines at most. */
	pcapfile_fetch(f, s);
	pcapfile_fetch(f, s + 64);
	pcapfile_fetch(f, s + 127);
	/* Where the next two may begin: only their lengths are needed. */
	pcapfile_after(f, incl, a);
	for (i = 0; i < 2 && (i == 0 || a[1] != a[0]); i++) {
		n = s + PCAPFILE_REC_HDR + a[i];
		pcapfile_fetch(f, n + 8);
		pcapfile_after(f, a[i], b);
		for (j = 0; j < 2 && (j == 0 || b[1] != b[0]); j++)
			pcapfile_fetch(f, n + PCAPFILE_REC_HDR + b[j] + 8);
	}
	return 1;
}

int
pcapfile_next(struct pcapfile *f, int64_t *ts_us, const uint8_t **data,
    uint32_t *caplen, uint32_t *wirelen)
{
	const uint8_t	*h;
	uint32_t	 sec, frac, incl;

	if (f->off == f->len)
		return PCAPFILE_END;
	if (f->off > f->len || f->len - f->off < PCAPFILE_REC_HDR)
		goto bad;
	h = f->p + f->off;
	sec = pf_u32(h, f->swapped);
	frac = pf_u32(h + 4, f->swapped);
	incl = pf_u32(h + 8, f->swapped);
	if (incl > PCAPFILE_SNAP_MAX ||
	    f->len - f->off - PCAPFILE_REC_HDR < incl)
		goto bad;
	*ts_us = (int64_t)sec * 1000000 + (f->nsec ? frac / 1000 : frac);
	*data = h + PCAPFILE_REC_HDR;
	*caplen = incl < f->snaplen ? incl : f->snaplen;
	*wirelen = pf_u32(h + 12, f->swapped);
	f->off += PCAPFILE_REC_HDR + (size_t)incl;
	if (f->lead > 0)
		f->lead--;
	else
		f->scout = f->off;
	while (f->lead < PCAPFILE_AHEAD && pcapfile_scout(f))
		f->lead++;
	return PCAPFILE_OK;
bad:
	f->off = f->len + 1;	/* stays bad */
	return PCAPFILE_BAD;
}
