/* SPDX-License-Identifier: ISC */
/* Logging: stderr in the foreground, syslog otherwise. */
#ifndef LABWATCH_LOG_H
#define LABWATCH_LOG_H

#include <stdarg.h>

/* Starts logging as ident; foreground sends to stderr, else to syslog. */
void	log_init(const char *ident, int foreground, int verbose);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
