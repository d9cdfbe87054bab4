/*
 * libFuzzer harness for the in-memory pcap reader (agent/pcapfile.c):
 * any bytes as a file; every record it hands out is read to its last
 * captured byte, so a bound gone wrong shows under ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pcapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcapfile	 f;
	const uint8_t	*rec;
	int64_t		 ts;
	uint32_t	 caplen, wirelen, i;
	uint8_t		*copy;
	volatile uint8_t sum = 0;

	/* A copy of exactly size bytes: ASan sees one past the end. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (pcapfile_open(&f, copy, size) == 0)
		while (pcapfile_next(&f, &ts, &rec, &caplen, &wirelen) ==
		    PCAPFILE_OK)
			for (i = 0; i < caplen; i++)
				sum += rec[i];
	free(copy);
	return 0;
}
