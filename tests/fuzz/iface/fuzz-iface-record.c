/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz the iface record parser, and everything that reads a parsed record. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iface.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *render(const iface_rec *r, iface_format fmt, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f || iface_rec_write(r, fmt, f) < 0)
		abort();
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	iface_rec *r = NULL, *again = NULL;
	char *first, *second;
	size_t len1, len2;

	if (iface_rec_parse("fuzz", (const char *)data, size, &r, NULL) < 0)
		return 0;
	(void)iface_rec_validate(r, IFACE_VALIDATE_USE, NULL);
	(void)iface_rec_binding(r);
	free(render(r, IFACE_FORMAT_SHOW, &len1));

	/* What we write must read back to the same record. */
	first = render(r, IFACE_FORMAT_FILE, &len1);
	if (iface_rec_parse("fuzz", first, len1, &again, NULL) < 0)
		abort();
	second = render(again, IFACE_FORMAT_FILE, &len2);
	if (len1 != len2 || memcmp(first, second, len1) != 0)
		abort();
	free(first);
	free(second);
	iface_rec_free(again);
	iface_rec_free(r);
	return 0;
}
