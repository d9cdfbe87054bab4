/*
 * For harnesses that play one end of a connection: reading what the other
 * end wrote into a frame buffer that a check takes whole frames out of.
 */
#ifndef LABWATCH_FUZZLINK_H
#define LABWATCH_FUZZLINK_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Reads all fd has into buf (*len bytes held, size in all), calling check
 * after each read; aborts when buf fills (a frame too large for its type).
 * Returns 0 once the other end closed, 1 while it is open.
 */
static int
fuzzlink_read(int fd, uint8_t *buf, size_t size, size_t *len,
    void (*check)(void *), void *arg)
{
	ssize_t	n;

	for (;;) {
		n = read(fd, buf + *len, size - *len);
		if (n == 0)
			return 0;
		if (n == -1)
			return errno == EAGAIN ? 1 : 0;
		*len += (size_t)n;
		check(arg);
		if (*len == size)
			abort();
	}
}

#endif
