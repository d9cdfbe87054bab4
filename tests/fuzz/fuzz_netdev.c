/*
 * libFuzzer harness for agent/netdev.c's files: the input's first two
 * bytes give the length of a devices file (the known MAC/IP pairs), the
 * rest is the OUI list (built with OUI_PATH read from LW_FUZZ_OUI); then
 * a device made from the input is seen, which looks its vendor up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "fuzzfile.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What netdev_seen emits goes nowhere. */
void
net_emit(struct record *r)
{
	(void)r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		path[256];
	uint8_t		mac[6] = { 0 }, ip[16] = { 10, 0, 0, 1 };
	size_t		n;

	if (fuzzfile_split(&data, &size, &n) == -1)
		return 0;
	fuzzfile_write(NETDEV_FILE, data, n, path);
	fuzzfile_write("oui.txt", data + n, size - n, path);
	setenv("LW_FUZZ_OUI", path, 1);
	netdev_init(fuzzfile_folder(), 1);
	memcpy(mac, data, size < 6 ? size : 6);
	mac[0] &= 0xfc;
	netdev_seen(4, mac, ip, 0, 1);
	netdev_shutdown();
	return 0;
}
