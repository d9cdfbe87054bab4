/* SPDX-License-Identifier: ISC */
/* Socket address parsing and printing for options and log lines. */
#include <netinet/in.h>
#include <arpa/inet.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "num.h"

int
addr_split(const char *s, char *host, size_t hostlen, char port[ADDR_PORT_MAX],
    const char **err)
{
	const char	*colon, *p;
	long long	 n;
	size_t		 len;

	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL) {
			*err = "expected [IPV6]:PORT";
			return -1;
		}
		len = (size_t)(colon - s - 1);
		p = colon + 2;
		s++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			*err = "the port is missing (HOST:PORT)";
			return -1;
		}
		len = (size_t)(colon - s);
		p = colon + 1;
		if (memchr(s, ':', len) != NULL) {
			*err = "IPv6 addresses go in brackets: [ADDR]:PORT";
			return -1;
		}
	}
	if (len >= hostlen) {
		*err = "host too long";
		return -1;
	}
	if (num_parse(p, 1, 65535, &n, err) == -1) {
		*err = "port must be a number from 1 to 65535";
		return -1;
	}
	memcpy(host, s, len);
	host[len] = '\0';
	snprintf(port, ADDR_PORT_MAX, "%lld", n);
	return 0;
}

const char *
addr_join(char *out, size_t len, const char *host, const char *port)
{
	snprintf(out, len, strchr(host, ':') != NULL ? "[%s]:%s" : "%s:%s",
	    host, port);
	return out;
}

int
addr_split_list(const char *s, struct addr_hostport *out, size_t max,
    const char **err)
{
	static char	 msg[128];
	char		 item[ADDR_HOST_MAX + ADDR_PORT_MAX + 4];
	const char	*comma, *why;
	size_t		 n = 0, len, i;
	int		 list = strchr(s, ',') != NULL;

	for (;; s = comma + 1) {
		comma = strchr(s, ',');
		len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		why = NULL;
		if (len == 0)
			why = "empty entry (HOST:PORT,HOST:PORT)";
		else if (n == max)
			why = "too many entries";
		else if (len >= sizeof(item))
			why = "host too long";
		else {
			memcpy(item, s, len);
			item[len] = '\0';
			if (addr_split(item, out[n].host, sizeof(out[n].host),
			    out[n].port, &why) == 0 && out[n].host[0] == '\0')
				why = "the host is missing (HOST:PORT)";
		}
		for (i = 0; why == NULL && i < n; i++)
			if (strcmp(out[i].host, out[n].host) == 0 &&
			    strcmp(out[i].port, out[n].port) == 0)
				why = "named twice";
		if (why != NULL) {
			if (n == max)
				snprintf(msg, sizeof(msg), "more than %zu "
				    "entries", max);
			else if (list)
				snprintf(msg, sizeof(msg), "entry %zu: %s",
				    n + 1, why);
			else
				snprintf(msg, sizeof(msg), "%s", why);
			*err = msg;
			return -1;
		}
		n++;
		if (comma == NULL)
			return (int)n;
	}
}

int
addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *sslen,
    const char **err)
{
	struct addrinfo	 hints, *res;
	char		 host[ADDR_HOST_MAX], port[ADDR_PORT_MAX];

	if (addr_split(s, host, sizeof(host), port, err) == -1)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST | AI_PASSIVE;
	if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0) {
		*err = "not a numeric IPv4 or IPv6 address";
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

const char *
addr_ntop(int af, const void *a, char *out)
{
	const uint8_t	*b = a;
	char		*p = out;
	int		 i;

	if (af != AF_INET)
		return inet_ntop(af, a, out, INET6_ADDRSTRLEN);
	for (i = 0; i < 4; i++) {
		if (b[i] >= 100)
			*p++ = (char)('0' + b[i] / 100);
		if (b[i] >= 10)
			*p++ = (char)('0' + b[i] / 10 % 10);
		*p++ = (char)('0' + b[i] % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	return out;
}

const char *
addr_str(const struct sockaddr *sa, char *out, size_t outlen)
{
	char		h[INET6_ADDRSTRLEN];
	uint16_t	port;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, h, sizeof(h));
		port = ntohs(sin->sin_port);
		snprintf(out, outlen, "%s:%u", h, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, h, sizeof(h));
		port = ntohs(sin6->sin6_port);
		snprintf(out, outlen, "[%s]:%u", h, port);
	} else
		snprintf(out, outlen, "(family %d)", sa->sa_family);
	return out;
}

int
addr_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned int	b[6];
	char		end;
	int		i;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0],
	    &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		/* sscanf would take " 1", "+1" or "-1" for a byte. */
		if (s[i * 3] == ' ' || s[i * 3] == '+' || s[i * 3] == '-')
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

int
addr_cidr4_parse(const char *s, uint32_t *addr, int *prefix)
{
	char		buf[32], *slash, *end;
	struct in_addr	a;
	long		n;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	if ((slash = strchr(buf, '/')) == NULL)
		return -1;
	*slash++ = '\0';
	n = strtol(slash, &end, 10);
	if (*slash == '\0' || *end != '\0' || n < 0 || n > 32 ||
	    inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*addr = ntohl(a.s_addr);
	*prefix = (int)n;
	return 0;
}

uint32_t
addr_mask4(int prefix)
{
	return prefix <= 0 ? 0 : (uint32_t)(0xffffffffULL << (32 - prefix));
}

void
addr_wol_magic(const uint8_t mac[6], uint8_t out[ADDR_WOL_LEN])
{
	int	i;

	memset(out, 0xff, 6);
	for (i = 0; i < 16; i++)
		memcpy(out + 6 + i * 6, mac, 6);
}
