/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's initiator name, as open-iscsi keeps it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "iface.h"

#define INITIATORNAME_FILE "/etc/iscsi/initiatorname.iscsi"

int iface_default_initiatorname(const char *path, char **ret, lb_err *err)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!path)
		path = INITIATORNAME_FILE;
	f = fopen(path, "re");
	if (!f)
		return lb_err_set(err, errno, "cannot read %s: %m", path);
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *s = line, *e;

		while (*s == ' ' || *s == '\t')
			s++;
		if (strncmp(s, "InitiatorName=", 14) != 0)
			continue;
		s += 14;
		for (e = s; *e && *e != '\n' && *e != '\r' && *e != ' ' && *e != '\t'; e++)
			;
		*e = '\0';
		if (!*s)
			break;
		*ret = strdup(s);
		return *ret ? 0 : -ENOMEM;
	}
	return lb_err_set(err, ENOENT, "no InitiatorName= line in %s", path);
}
