/* SPDX-License-Identifier: ISC */
/*
 * The control socket labwatchctl talks to: one command a connection, a
 * line in, one JSON object out.
 */
#ifndef LABWATCH_CONTROL_H
#define LABWATCH_CONTROL_H

#include <event2/event.h>

#define CONTROL_LINE_MAX	512

struct control_conf {
	const char	*path;		/* the socket */
	const char	*enroll_ca;	/* for labwatchctl revoke */
	const char	*tls_crl;
	void		(*reload)(void);	/* as SIGHUP */
};

/*
 * Makes the socket (mode 0660, group labwatch when there is one), its
 * folder if missing.  -1 (logged) when it cannot, or another collector
 * answers on it.
 */
int	control_init(struct event_base *, const struct control_conf *);
void	control_shutdown(void);

#endif
