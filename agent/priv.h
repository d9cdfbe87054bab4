/*
 * Privilege separation (OpenBSD style).  Started as root, the agent forks:
 * a small privileged parent keeps root and does only what needs it, on
 * request; the worker drops to an unprivileged user with no capabilities,
 * PR_SET_NO_NEW_PRIVS and a seccomp filter, and does everything else:
 * every byte from the network, USB devices, the kernel's file events and
 * the collector is parsed there.  Either exits when the other does.
 *
 * Requests go over a SOCK_SEQPACKET socketpair as fixed-size messages; the
 * answer carries a descriptor (SCM_RIGHTS).  The parent checks each one: a
 * capture socket only on an interface that exists and is not loopback
 * (and is one of --interface, when given), with the parent's own kernel
 * filter; a fanotify group only on a mount it sees itself in its
 * mountinfo, backed by a USB block device.
 *
 * Without root (a test, a user's run) there is no parent: the same
 * requests are tried in the process itself, and fail as the kernel says.
 */
#ifndef LABWATCH_PRIV_H
#define LABWATCH_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"

#define PRIV_WHY_MAX	256

/*
 * Forks when running as root: returns in the worker, running as user (or
 * nobody when user does not exist) with the state folder handed over;
 * the parent never returns.  Returns -1 (having said why) on failure.
 * Not root: returns 0 and nothing changes.
 */
int	priv_start(const struct agent_conf *, const char *);
/*
 * Stop signals are held from the fork until each process has its
 * handlers: then it calls this (a stop that came meanwhile is handled).
 */
void	priv_signals_ready(void);
/* Whether this process is a worker with a parent behind it. */
int	priv_separated(void);
/*
 * A packet socket on interface name, bound and filtered, with its link
 * type (a pcap DLT) in *dlt: the descriptor, or -1 with why.
 */
int	priv_capture(const char *, int *, char *, size_t);
/*
 * A fanotify group marked for closes on the whole file system mounted
 * as mount_id at
 * mountpoint: the descriptor, or -1 with why.
 */
int	priv_fanotify(int, const char *, char *, size_t);
/*
 * Wake-on-LAN: the parent sends the magic packet for mac on interface
 * ifname (UDP broadcasts to ports 9 and 7 on its IPv4 broadcast
 * addresses, an Ethernet frame of type 0x0842).  0 with what was sent in
 * why, or -1 with why not.
 */
int	priv_wake(const char *, const uint8_t [6], char *, size_t);
/* The kernel filter expression for captures: IP, ARP, minus noise. */
char	*priv_capture_filter(const struct agent_conf *);

#endif
