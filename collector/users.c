/* SPDX-License-Identifier: ISC */
/* The dashboard's accounts: see users.h. */
#include <sys/stat.h>

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "log.h"
#include "users.h"
#include "xmalloc.h"

/* What an unknown name is checked against, so it takes as long. */
#define DUMMY_HASH \
	"$y$j9T$mGSynI4UZNIf.ybLL8sit1$F5n/kRPipe" \
	"5owW7Cxf.C2864Hgl.kH0fwv03dp9zL02"

static struct {
	char		*path;
	struct user	*v;
	int		 n;
	struct stat	 st;		/* of the file last read */
	time_t		 checked;
} us;

int
users_name_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > USER_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-' || (s[i] == '.' && i > 0)))
			return 0;
	return 1;
}

int
users_parse_line(const char *line, struct user *u, const char **err)
{
	const char	*c1, *c2, *end;
	size_t		 len;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '#' || *line == '\0' || *line == '\n')
		return 0;
	end = line + strcspn(line, "\r\n");
	if ((c1 = memchr(line, ':', (size_t)(end - line))) == NULL ||
	    (c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1))) == NULL) {
		*err = "not NAME:ROLE:HASH";
		return -1;
	}
	if (!users_name_ok(line, (size_t)(c1 - line))) {
		*err = "bad name (letters, digits, . _ -, at most 32)";
		return -1;
	}
	memcpy(u->name, line, (size_t)(c1 - line));
	u->name[c1 - line] = '\0';
	len = (size_t)(c2 - c1 - 1);
	if (len == 5 && memcmp(c1 + 1, "admin", 5) == 0)
		u->role = ROLE_ADMIN;
	else if (len == 6 && memcmp(c1 + 1, "viewer", 6) == 0)
		u->role = ROLE_VIEWER;
	else {
		*err = "bad role (admin or viewer)";
		return -1;
	}
	len = (size_t)(end - c2 - 1);
	if (len < 13 || len > USER_HASH_MAX || c2[1] != '$' ||
	    memchr(c2 + 1, ':', len) != NULL ||
	    memchr(c2 + 1, ' ', len) != NULL) {
		*err = "bad hash (a crypt(3) hash: $y$... or $2b$...)";
		return -1;
	}
	memcpy(u->hash, c2 + 1, len);
	u->hash[len] = '\0';
	return 1;
}

static int
users_read(void)
{
	FILE		*f;
	char		 line[512];
	struct user	 u, *v = NULL;
	const char	*err;
	int		 n = 0, lineno = 0, r;

	if ((f = fopen(us.path, "r")) == NULL) {
		/* Fail closed: a file we cannot read lets nobody in. */
		log_warn("--http-users %s: nobody can log in", us.path);
		free(us.v);
		us.v = NULL;
		us.n = 0;
		memset(&us.st, 0, sizeof(us.st));
		return -1;
	}
	if (fstat(fileno(f), &us.st) == 0 && (us.st.st_mode & 004))
		log_warnx("%s: others may read the password hashes (chmod "
		    "o-r it)", us.path);
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			log_warnx("%s:%d: line too long, skipped", us.path,
			    lineno);
			while (fgets(line, sizeof(line), f) != NULL &&
			    strchr(line, '\n') == NULL)
				;
			continue;
		}
		if ((r = users_parse_line(line, &u, &err)) == -1)
			log_warnx("%s:%d: %s, skipped", us.path, lineno, err);
		if (r != 1)
			continue;
		v = xreallocarray(v, (size_t)n + 1, sizeof(*v));
		v[n++] = u;
	}
	fclose(f);
	free(us.v);
	us.v = v;
	us.n = n;
	return n;
}

int
users_load(const char *path)
{
	free(us.path);
	us.path = xstrdup(path);
	return users_read();
}

void
users_reload(void)
{
	int	n;

	if (us.path != NULL && (n = users_read()) >= 0)
		log_info("%s: %d account%s", us.path, n, n == 1 ? "" : "s");
}

void
users_refresh(void)
{
	struct stat	st;
	time_t		now = time(NULL);

	if (us.path == NULL || now == us.checked)
		return;
	us.checked = now;
	if (stat(us.path, &st) == -1) {
		if (us.n > 0)
			log_warn("%s: no accounts any more", us.path);
		free(us.v);
		us.v = NULL;
		us.n = 0;
		memset(&us.st, 0, sizeof(us.st));
		return;
	}
	if (st.st_ino != us.st.st_ino || st.st_size != us.st.st_size ||
	    st.st_mtim.tv_sec != us.st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != us.st.st_mtim.tv_nsec)
		users_reload();
}

int
users_find(const char *name, struct user *u)
{
	int	i;

	for (i = 0; i < us.n; i++)
		if (strcmp(us.v[i].name, name) == 0) {
			*u = us.v[i];
			return 0;
		}
	return -1;
}

int
users_verify(const char *hash, const char *password)
{
	struct crypt_data	*cd = xcalloc(1, sizeof(*cd));
	const char		*h;
	int			 ok;

	h = crypt_r(password, hash != NULL ? hash : DUMMY_HASH, cd);
	ok = hash != NULL && h != NULL && h[0] == '$' &&
	    strlen(h) == strlen(hash) &&
	    CRYPTO_memcmp(h, hash, strlen(hash)) == 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}

const char *
users_role_name(enum user_role r)
{
	return r == ROLE_ADMIN ? "admin" : "viewer";
}

void
users_free(void)
{
	free(us.v);
	free(us.path);
	memset(&us, 0, sizeof(us));
}
