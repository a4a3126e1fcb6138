/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz the portal parser (`iface resolve --portal`).  Whatever it accepts
 * must print back (as [IPv6]:PORT or IPv4:PORT) to text it parses again to
 * the same portal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	iface_route_portal p, again;
	char text[IFACE_ROUTE_ADDR_MAX + 16];
	lb_err err = {{0}};
	char *s;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (iface_route_parse_portal(s, &p, &err) == 0) {
		if ((p.family != AF_INET && p.family != AF_INET6) || p.port == 0 ||
		    strlen(p.addr_str) >= sizeof(p.addr_str))
			abort();
		(void)snprintf(text, sizeof(text), p.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
			       p.addr_str, p.port);
		if (iface_route_parse_portal(text, &again, NULL) != 0 || again.family != p.family ||
		    again.port != p.port || memcmp(again.addr, p.addr, sizeof(p.addr)) != 0 ||
		    strcmp(again.addr_str, p.addr_str) != 0)
			abort();
	} else if (!err.msg[0]) {
		abort(); /* every refusal says why */
	}
	free(s);
	return 0;
}
