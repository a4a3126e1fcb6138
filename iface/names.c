/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Record names, MAC and IP address syntax. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "iface.h"

int iface_name_check(const char *name, lb_err *err)
{
	size_t n;

	if (!name || !*name)
		return lb_err_set(err, EINVAL, "an iface name cannot be empty");
	n = strlen(name);
	if (n > IFACE_NAME_MAX)
		return lb_err_set(err, EINVAL, "iface name is %zu characters, the limit is %d", n,
				  IFACE_NAME_MAX);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || name[0] == '.')
		return lb_err_set(err, EINVAL, "iface name '%s' cannot start with '.'", name);
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '/' || c <= ' ' || c >= 0x7f)
			return lb_err_set(err, EINVAL,
					  "iface name '%s' contains '%c'; use letters, digits and "
					  "punctuation other than '/'",
					  name, c > ' ' && c < 0x7f ? c : '?');
	}
	return 0;
}

bool iface_name_is_builtin(const char *name)
{
	return name && (strcmp(name, "default") == 0 || strcmp(name, "iser") == 0);
}

bool iface_mac_valid(const char *mac)
{
	if (!mac || strlen(mac) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (mac[i] != ':')
				return false;
		} else if (!isxdigit((unsigned char)mac[i])) {
			return false;
		}
	}
	return true;
}

bool iface_mac_equal(const char *a, const char *b)
{
	return iface_mac_valid(a) && iface_mac_valid(b) && strcasecmp(a, b) == 0;
}

bool iface_ip_valid(const char *ip)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (!ip || !*ip)
		return false;
	return inet_pton(AF_INET, ip, buf) == 1 || inet_pton(AF_INET6, ip, buf) == 1;
}
