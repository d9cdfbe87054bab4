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
	f->off = PCAPFILE_HDR;
	return 0;
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
	/* The next record's header and first bytes, while this one is used. */
	if (f->len - f->off >= 128) {
		__builtin_prefetch(f->p + f->off);
		__builtin_prefetch(f->p + f->off + 64);
	}
	return PCAPFILE_OK;
bad:
	f->off = f->len + 1;	/* stays bad */
	return PCAPFILE_BAD;
}
