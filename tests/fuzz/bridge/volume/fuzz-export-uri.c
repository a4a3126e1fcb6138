/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz the `attach --export` parser.  Whatever it accepts must keep the
 * limits, format to printable canonical text that fits
 * LB_EXPORT_FORMAT_MAX (and reports -ENOSPC one byte short), and parse
 * back to the same export; every refusal says why.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export-uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct lb_export *a, const struct lb_export *b)
{
	return a->kind == b->kind && !strcmp(a->name, b->name) &&
	       !strcmp(a->socket_path, b->socket_path) && !strcmp(a->host, b->host) &&
	       a->port == b->port && a->index == b->index;
}

static void check_fields(const struct lb_export *e)
{
	if (strnlen(e->name, sizeof(e->name)) > LB_EXPORT_NAME_MAX ||
	    strnlen(e->socket_path, sizeof(e->socket_path)) > LB_EXPORT_SOCKET_MAX ||
	    strnlen(e->host, sizeof(e->host)) >= sizeof(e->host) || e->index < -1 ||
	    e->index > LB_EXPORT_INDEX_MAX)
		abort();
	switch (e->kind) {
	case LB_EXPORT_NBD_UNIX:
		if (!e->socket_path[0] || e->host[0] || e->port || e->index != -1)
			abort();
		break;
	case LB_EXPORT_NBD_TCP:
		if (!e->host[0] || e->socket_path[0] || !e->port || e->index != -1)
			abort();
		break;
	case LB_EXPORT_NBD_KERNEL:
	case LB_EXPORT_UBLK:
		if (e->name[0] || e->socket_path[0] || e->host[0] || e->port)
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[LB_EXPORT_FORMAT_MAX], again_text[LB_EXPORT_FORMAT_MAX];
	struct lb_export e, again;
	lb_err err = {{0}};
	size_t len;
	char *s;

	if (size > 2 * LB_EXPORT_TEXT_MAX)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (lb_export_parse(s, &e, &err) != 0) {
		if (!err.msg[0])
			abort(); /* every refusal says why */
		free(s);
		return 0;
	}
	check_fields(&e);
	if (lb_export_format(&e, text, sizeof(text)) != 0)
		abort();
	len = strlen(text);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] <= ' ' || (unsigned char)text[i] >= 0x7f)
			abort(); /* printable ASCII, one word */
	if (lb_export_format(&e, again_text, len) != -ENOSPC)
		abort();
	if (lb_export_parse(text, &again, NULL) != 0 || !same(&e, &again))
		abort();
	if (lb_export_format(&again, again_text, sizeof(again_text)) != 0 ||
	    strcmp(text, again_text) != 0)
		abort(); /* canonical: formatting is a fixed point */
	free(s);
	return 0;
}
