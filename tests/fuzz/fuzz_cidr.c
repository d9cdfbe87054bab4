/*
 * libFuzzer harness for common/cidr.c: the input as an ip.txt file
 * (cidr_load), each of its lines as a --lan value (cidr_parse), and
 * lookups of addresses taken from the input in what was loaded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "fuzzfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cidr_set	*s;
	const char	*err;
	char		 path[256], *text, *line, *next;
	uint8_t		 addr[16], probe[16] = { 0 };
	int		 af, plen;

	fuzzfile_write("ip.txt", data, size, path);
	s = cidr_new();
	cidr_load(s, path, "unlabeled");
	text = fuzzfile_str(data, size);
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (cidr_parse(line, &af, addr, &plen, &err) == 0)
			cidr_add(s, af, addr, plen, cidr_label(s, "lan"));
	}
	memcpy(probe, data, size < 16 ? size : 16);
	cidr_lookup(s, 4, probe);
	cidr_lookup(s, 6, probe);
	cidr_count(s);
	free(text);
	cidr_free(s);
	return 0;
}
