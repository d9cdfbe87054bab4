/*
 * A reader of classic pcap files held in memory (an mmap'd file): the
 * 24-byte file header, then records one by one, each bounded by the bytes
 * there are.  Pure, no I/O: --read maps the file and hands it over, so
 * packets are decoded where the page cache has them, with no copy.
 * pcapng and the rarer variants are left to libpcap.
 */
#ifndef LABWATCH_PCAPFILE_H
#define LABWATCH_PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define PCAPFILE_HDR		24
#define PCAPFILE_REC_HDR	16
#define PCAPFILE_SNAP_MAX	262144	/* libpcap's largest record */
#define PCAPFILE_AHEAD		8	/* records the scout runs ahead */
#define PCAPFILE_FOLLOW		64	/* lengths the scout remembers */

struct pcapfile {
	const uint8_t	*p;
	size_t		 len, off;
	size_t		 scout;		/* a record ahead, its lines fetched */
	int		 lead;		/* records from off to scout */
	uint32_t	 last;		/* the length the scout read last */
	struct {			/* the lengths that came after one */
		uint32_t len, after[2];
	}		 follow[PCAPFILE_FOLLOW];
	int		 swapped;	/* written on the other byte order */
	int		 nsec;		/* nanosecond timestamps */
	uint32_t	 snaplen;	/* records are cut to this */
	uint32_t	 linktype;	/* LINKTYPE_ value, FCS bits cleared */
};

enum pcapfile_rv {
	PCAPFILE_END = 0,	/* no more records */
	PCAPFILE_OK = 1,	/* a record */
	PCAPFILE_BAD = -1,	/* a record cut short or impossible */
};

/*
 * Reads the file header of len bytes at p: magic (microsecond or
 * nanosecond, either byte order), version 2.4, snap length, link type.
 * Returns 0 with *f ready, or -1 when it is not such a file (pcapng,
 * another version, too short): for libpcap to try.
 */
int	pcapfile_open(struct pcapfile *f, const uint8_t *p, size_t len);

/*
 * The next record: its time in microseconds since the epoch (nanoseconds
 * cut), its captured bytes (at most the snap length, as libpcap gives
 * them) and its length on the wire.  Returns PCAPFILE_OK, PCAPFILE_END
 * after the last whole record, or PCAPFILE_BAD (and stays there) when a
 * record is cut short or claims more than PCAPFILE_SNAP_MAX bytes.
 */
int	pcapfile_next(struct pcapfile *f, int64_t *ts_us, const uint8_t **data,
	    uint32_t *caplen, uint32_t *wirelen);

#endif
