/*
 * Community ID v1 (github.com/corelight/community-id-spec): the flow hash
 * Zeek, Suricata and Elastic put on a flow, so one flow can be found in
 * each of them.  Pure; SHA-1 from libcrypto.
 */
#ifndef LABWATCH_COMMUNITYID_H
#define LABWATCH_COMMUNITYID_H

#include <stdint.h>

#define COMMUNITYID_MAX	32	/* "1:" + 28 base64 characters + NUL */

/*
 * Writes the Community ID of one flow (af 4 or 6) to out.  For TCP, UDP
 * and SCTP sport and dport are the ports; for ICMP and ICMPv6 they are the
 * type and the code of one packet of the flow; other protocols hash no
 * ports.  Either direction of a flow gives the same ID (but one-way ICMP
 * types, as the specification says).  Returns 0, or -1 for a bad af.
 */
int	communityid_v1(uint16_t seed, int af, uint8_t proto,
	    const uint8_t *saddr, const uint8_t *daddr, uint16_t sport,
	    uint16_t dport, char out[COMMUNITYID_MAX]);

#endif
