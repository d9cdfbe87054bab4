/*
 * For harnesses of parsers that read files: a private temporary folder
 * made once per process, and writing the fuzz input into a file there.
 */
#ifndef LABWATCH_FUZZFILE_H
#define LABWATCH_FUZZFILE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The folder (made on first use, removed at exit by fuzzfile_clean). */
static char fuzzfile_dir[64];

static void
fuzzfile_clean(void)
{
	char	cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzzfile_dir);
	if (fuzzfile_dir[0] != '\0' && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fuzzfile_dir);
}

static const char *
fuzzfile_folder(void)
{
	if (fuzzfile_dir[0] == '\0') {
		snprintf(fuzzfile_dir, sizeof(fuzzfile_dir),
		    "/tmp/lwfuzz-XXXXXX");
		if (mkdtemp(fuzzfile_dir) == NULL)
			abort();
		atexit(fuzzfile_clean);
	}
	return fuzzfile_dir;
}

/* Writes len bytes as folder/name (replacing it); path gets the path. */
static void
fuzzfile_write(const char *name, const void *p, size_t len,
    char path[256])
{
	int	fd;

	snprintf(path, 256, "%s/%s", fuzzfile_folder(), name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    (len > 0 && write(fd, p, len) != (ssize_t)len) || close(fd) == -1)
		abort();
}

/* A NUL-terminated copy of the input (ASan sees past its end). */
static char *
fuzzfile_str(const uint8_t *p, size_t len)
{
	char	*s = malloc(len + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/*
 * Splits an input in two: its first two bytes give the length of the
 * first part (cut to what there is), which starts at *p; the second
 * starts at *p + *n and runs *size - *n bytes.  -1 when under 2 bytes.
 */
static int
fuzzfile_split(const uint8_t **p, size_t *size, size_t *n)
{
	if (*size < 2)
		return -1;
	*n = (size_t)(*p)[0] << 8 | (*p)[1];
	*p += 2;
	*size -= 2;
	if (*n > *size)
		*n = *size;
	return 0;
}

#endif
