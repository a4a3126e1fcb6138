/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz the parser of the kernel's RTM_GETROUTE reply.  A datagram it
 * accepts must name a positive ifindex and well-formed addresses.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addr(const char *s)
{
	unsigned char buf[16];

	if (strlen(s) >= IFACE_ROUTE_ADDR_MAX)
		abort();
	if (*s && inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	iface_route r;
	lb_err err = {{0}};
	void *buf;
	int n;

	/* Netlink messages are 4-byte aligned, as recvmsg() into malloc'd
	 * memory gives them. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	n = iface_route_parse_reply(buf, size, &r, &err);
	if (n == 0) {
		if (r.ifindex <= 0 || r.netdev[0] || r.hwaddress[0])
			abort();
		check_addr(r.gateway);
		check_addr(r.source);
	} else if (n > 0 || !err.msg[0]) {
		abort();
	}
	free(buf);
	return 0;
}
