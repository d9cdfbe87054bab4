/*
 * libFuzzer harness for collector/json.c: the input as an API request
 * body, then every member looked up again.
 */
#include <stdint.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_obj	 o;
	const char		*err;
	int			 i;

	if (json_parse(&o, (const char *)data, size, &err) == 0)
		for (i = 0; i < o.n; i++)
			if (json_get(&o, o.f[i].key) != &o.f[i] ||
			    (o.f[i].type == JSON_STR &&
			    strlen(o.f[i].str) != o.f[i].len))
				__builtin_trap();
	return 0;
}
