/*
 * Unit tests for the in-memory pcap reader (agent/pcapfile.c): hand-built
 * files in each magic and byte order, records cut short or too long, and
 * every classic capture in tests/fixtures/pcaps read side by side with
 * libpcap (the independent reader), record by record.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pcap/pcap.h>

#include "buf.h"
#include "pcapfile.h"

#define PCAPS	"tests/fixtures/pcaps/"

static void
put32(struct buf *b, uint32_t v, int swapped)
{
	if (swapped)
		v = __builtin_bswap32(v);
	buf_add(b, &v, 4);
}

/* A file header: magic, version 2.4, snap length, link type. */
static void
header(struct buf *b, uint32_t magic, int swapped, uint32_t snap,
    uint32_t lt)
{
	uint16_t	v[2] = { 2, 4 };

	put32(b, magic, swapped);
	if (swapped) {
		v[0] = __builtin_bswap16(v[0]);
		v[1] = __builtin_bswap16(v[1]);
	}
	buf_add(b, v, 4);
	put32(b, 0, swapped);
	put32(b, 0, swapped);
	put32(b, snap, swapped);
	put32(b, lt, swapped);
}

static void
record(struct buf *b, int swapped, uint32_t sec, uint32_t frac,
    uint32_t incl, uint32_t orig, uint8_t fill)
{
	uint32_t	i;

	put32(b, sec, swapped);
	put32(b, frac, swapped);
	put32(b, incl, swapped);
	put32(b, orig, swapped);
	for (i = 0; i < incl; i++)
		buf_add_u8(b, fill);
}

/* Both magics in both byte orders: the same records come out. */
static void
test_magics(void **state)
{
	static const uint32_t	 magics[] = { 0xa1b2c3d4, 0xa1b23c4d };
	struct pcapfile		 f;
	struct buf		 b;
	const uint8_t		*data;
	int64_t			 ts;
	uint32_t		 caplen, wirelen;
	int			 m, sw;

	(void)state;
	for (m = 0; m < 2; m++)
		for (sw = 0; sw < 2; sw++) {
			buf_init(&b);
			header(&b, magics[m], sw, 65535, 0x10000001);
			record(&b, sw, 1700000000, m ? 123456789 : 123456, 60,
			    1514, 0xab);
			record(&b, sw, 1700000001, 0, 0, 0, 0);
			/* 2040-01-01: seconds past 2^31 stay positive. */
			record(&b, sw, 2208988800U, 0, 0, 0, 0);
			assert_int_equal(pcapfile_open(&f, b.data, b.len), 0);
			assert_int_equal(f.swapped, sw);
			assert_int_equal(f.nsec, m);
			/* The FCS bits above the link type are cleared. */
			assert_int_equal(f.linktype, 1);
			assert_int_equal(pcapfile_next(&f, &ts, &data, &caplen,
			    &wirelen), PCAPFILE_OK);
			/* Nanoseconds are cut to microseconds, as libpcap. */
			assert_int_equal(ts, 1700000000123456LL);
			assert_int_equal(caplen, 60);
			assert_int_equal(wirelen, 1514);
			assert_ptr_equal(data, b.data + 24 + 16);
			assert_int_equal(data[59], 0xab);
			assert_int_equal(pcapfile_next(&f, &ts, &data, &caplen,
			    &wirelen), PCAPFILE_OK);
			assert_int_equal(caplen, 0);
			assert_int_equal(ts, 1700000001000000LL);
			assert_int_equal(pcapfile_next(&f, &ts, &data, &caplen,
			    &wirelen), PCAPFILE_OK);
			assert_int_equal(ts, 2208988800000000LL);
			assert_int_equal(pcapfile_next(&f, &ts, &data, &caplen,
			    &wirelen), PCAPFILE_END);
			buf_free(&b);
		}
}

/* What is not a classic pcap 2.4 file is left to libpcap. */
static void
test_not_pcap(void **state)
{
	static const uint8_t	 ng[24] = { 0x0a, 0x0d, 0x0d, 0x0a };
	struct pcapfile		 f;
	struct buf		 b;

	(void)state;
	assert_int_equal(pcapfile_open(&f, ng, sizeof(ng)), -1);
	buf_init(&b);
	header(&b, 0xa1b2c3d4, 0, 65535, 1);
	assert_int_equal(pcapfile_open(&f, b.data, 23), -1);
	b.data[4] = 3;				/* version 3.4 */
	assert_int_equal(pcapfile_open(&f, b.data, b.len), -1);
	b.data[4] = 2;
	b.data[0] = 0x34;			/* the modified format */
	assert_int_equal(pcapfile_open(&f, b.data, b.len), -1);
	buf_free(&b);
}

/* Records longer than the snap length are cut to it; impossible ones
 * and cut ones stop the reading for good. */
static void
test_bounds(void **state)
{
	struct pcapfile		 f;
	struct buf		 b;
	const uint8_t		*data;
	int64_t			 ts;
	uint32_t		 caplen, wirelen;
	size_t			 cut;

	(void)state;
	buf_init(&b);
	header(&b, 0xa1b2c3d4, 0, 100, 1);
	record(&b, 0, 1, 2, 150, 150, 1);
	record(&b, 0, 1, 3, 10, 10, 2);
	assert_int_equal(pcapfile_open(&f, b.data, b.len), 0);
	assert_int_equal(pcapfile_next(&f, &ts, &data, &caplen, &wirelen),
	    PCAPFILE_OK);
	assert_int_equal(caplen, 100);
	assert_int_equal(wirelen, 150);
	assert_int_equal(pcapfile_next(&f, &ts, &data, &caplen, &wirelen),
	    PCAPFILE_OK);
	assert_int_equal(data[0], 2);		/* the whole 150 skipped */
	/* Every cut of the last record: bad, and it stays bad. */
	for (cut = 1; cut < 16 + 10; cut++) {
		assert_int_equal(pcapfile_open(&f, b.data, b.len - cut), 0);
		assert_int_equal(pcapfile_next(&f, &ts, &data, &caplen,
		    &wirelen), PCAPFILE_OK);
		assert_int_equal(pcapfile_next(&f, &ts, &data, &caplen,
		    &wirelen), PCAPFILE_BAD);
		assert_int_equal(pcapfile_next(&f, &ts, &data, &caplen,
		    &wirelen), PCAPFILE_BAD);
	}
	buf_free(&b);
	/* A claim beyond 262144 bytes is refused even when present. */
	buf_init(&b);
	header(&b, 0xa1b2c3d4, 0, 0, 1);
	record(&b, 0, 1, 0, PCAPFILE_SNAP_MAX + 1, 70000, 0);
	assert_int_equal(pcapfile_open(&f, b.data, b.len), 0);
	assert_int_equal(f.snaplen, PCAPFILE_SNAP_MAX);
	assert_int_equal(pcapfile_next(&f, &ts, &data, &caplen, &wirelen),
	    PCAPFILE_BAD);
	buf_free(&b);
}

/* Reads a whole file into memory. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE	*fp;
	uint8_t	*p;
	long	 n;

	assert_non_null(fp = fopen(path, "rb"));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	assert_non_null(p = malloc((size_t)n + 1));
	assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return p;
}

/* Every classic capture: the same records as libpcap gives. */
static void
test_fixtures_match_libpcap(void **state)
{
	struct pcap_pkthdr	*h;
	struct pcapfile		 f;
	struct dirent		*de;
	const u_char		*lp;
	const uint8_t		*data;
	DIR			*d;
	pcap_t			*p;
	char			 path[512], err[PCAP_ERRBUF_SIZE];
	uint8_t			*mem;
	size_t			 len, n;
	int64_t			 ts;
	uint32_t		 caplen, wirelen;
	int			 files = 0;

	(void)state;
	assert_non_null(d = opendir(PCAPS));
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 5, ".pcap") != 0)
			continue;
		snprintf(path, sizeof(path), "%s%s", PCAPS, de->d_name);
		mem = slurp(path, &len);
		assert_int_equal(pcapfile_open(&f, mem, len), 0);
		p = pcap_open_offline_with_tstamp_precision(path,
		    PCAP_TSTAMP_PRECISION_MICRO, err);
		assert_non_null(p);
		/* Ethernet, Linux cooked v1 and v2: LINKTYPE is the DLT. */
		assert_int_equal(f.linktype, pcap_datalink(p));
		n = 0;
		while (pcap_next_ex(p, &h, &lp) == 1) {
			assert_int_equal(pcapfile_next(&f, &ts, &data, &caplen,
			    &wirelen), PCAPFILE_OK);
			assert_int_equal(ts, (int64_t)h->ts.tv_sec * 1000000 +
			    h->ts.tv_usec);
			assert_int_equal(caplen, h->caplen);
			assert_int_equal(wirelen, h->len);
			assert_memory_equal(data, lp, caplen);
			n++;
		}
		assert_int_equal(pcapfile_next(&f, &ts, &data, &caplen,
		    &wirelen), PCAPFILE_END);
		assert_true(n > 0);
		pcap_close(p);
		free(mem);
		files++;
	}
	closedir(d);
	assert_true(files >= 30);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_magics),
		cmocka_unit_test(test_not_pcap),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_fixtures_match_libpcap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
