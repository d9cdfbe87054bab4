/*
 * libFuzzer harness for option and address parsing: the first byte picks
 * the parser, the rest is the string (NUL-terminated, as from argv or a
 * file): num_parse, addr_split and addr_parse, hostname_ok,
 * hostpat_check then hostpat_match (pattern, newline, host), and the
 * collector's enroll_parse_hash.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "enroll.h"
#include "fuzzfile.h"
#include "hostname.h"
#include "hostpat.h"
#include "num.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	const char		*err;
	char			*s, *host, a[256], port[ADDR_PORT_MAX];
	unsigned char		 salt[64], hash[64];
	unsigned		 iter;
	size_t			 salt_len, hash_len;
	long long		 v;

	if (size < 1)
		return 0;
	s = fuzzfile_str(data + 1, size - 1);
	switch (data[0] % 5) {
	case 0:
		num_parse(s, -1000000, 1000000, &v, &err);
		num_parse(s, 0, 65535, &v, &err);
		break;
	case 1:
		addr_split(s, a, sizeof(a), port, &err);
		if (addr_parse(s, &ss, &sslen, &err) == 0)
			addr_str((struct sockaddr *)&ss, a, sizeof(a));
		break;
	case 2:
		hostname_ok(data + 1, size - 1);
		break;
	case 3:
		if ((host = strchr(s, '\n')) != NULL)
			*host++ = '\0';
		if (hostpat_check(s, &err) == 0 && host != NULL)
			hostpat_match(s, host, strlen(host));
		break;
	case 4:
		enroll_parse_hash(s, &iter, salt, &salt_len, hash, &hash_len,
		    &err);
		break;
	}
	free(s);
	return 0;
}
