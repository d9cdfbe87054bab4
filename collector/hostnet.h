/* Each PC's interfaces, MACs and IPv4 addresses, learnt from agent.start. */
#ifndef LABWATCH_HOSTNET_H
#define LABWATCH_HOSTNET_H

#include <stdint.h>

#include "hostname.h"
#include "record.h"

struct hostnet_if {
	char		host[HOSTNAME_MAX + 1];
	char		iface[32];
	uint8_t		mac[6];
	uint32_t	addr;		/* IPv4, host order */
	int		prefix;
};

/* Loads what the state folder keeps (and keeps it open for saving). */
void	hostnet_init(const char *);
/* Learns host's interfaces from its agent.start record; saves. */
void	hostnet_learn(const char *, const struct record *);
/* Up to max entries of host into out; how many. */
int	hostnet_of(const char *, struct hostnet_if *, int);
/* Whether host has an address on the segment addr/prefix. */
int	hostnet_on_segment(const char *, uint32_t, int);
/* Calls cb once for each host with an entry. */
void	hostnet_each_host(void (*)(const char *, void *), void *);
void	hostnet_shutdown(void);

#endif
