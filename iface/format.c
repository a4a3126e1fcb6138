/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing records in iscsiadm's text forms. */
#include <errno.h>
#include <stdio.h>

#include "iface-internal.h"

#define EMPTY "<empty>"

static int put(FILE *f, const char *key, const char *value)
{
	return fprintf(f, "%s = %s\n", key, value) < 0 ? -EIO : 0;
}

int iface_rec_write(const iface_rec *r, iface_format fmt, FILE *f)
{
	int rc;

	if (fprintf(f, "# BEGIN RECORD %s\n", IFACE_RECORD_VERSION) < 0)
		return -EIO;
	for (size_t i = 0; i < iface_nkeys; i++) {
		const char *v = i == 0 ? r->name : r->values[i];

		if (!v && iface_keys[i].type == IFACE_VAL_INT)
			v = "0";
		if (!v && fmt == IFACE_FORMAT_FILE)
			continue;
		rc = put(f, iface_keys[i].name, v ? v : EMPTY);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < r->nextra; i++) {
		rc = put(f, r->extra[i].key, r->extra[i].value);
		if (rc < 0)
			return rc;
	}
	if (fprintf(f, "# END RECORD\n") < 0)
		return -EIO;
	return 0;
}

static const char *or_empty(const char *s)
{
	return s ? s : EMPTY;
}

int iface_rec_write_summary(const iface_rec *r, FILE *f)
{
	if (fprintf(f, "%s %s,%s,%s,%s,%s\n", r->name, or_empty(iface_rec_transport(r)),
		    or_empty(iface_rec_hwaddress(r)), or_empty(iface_rec_ipaddress(r)),
		    or_empty(iface_rec_netdev(r)), or_empty(iface_rec_initiatorname(r))) < 0)
		return -EIO;
	return 0;
}
