/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the subcommands: error lines, the record directory, JSON. */
#include <stdarg.h>
#include <stdio.h>

#include "cleanup.h"
#include "cli.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("lunbridge: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("lunbridge: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'lunbridge %s --help'.\n", cmd);
	return CLI_EXIT_USAGE;
}

int cli_open_store(const char *dir, iface_store **ret)
{
	lb_err err = {{0}};
	int rc = iface_store_open(dir, ret, &err);

	if (rc < 0) {
		cli_error("iface directory: %s", lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

void cli_print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int add_key(const char *key, const char *value, void *arg)
{
	json_object *o = arg;

	json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
	return 0;
}

json_object *cli_iface_rec_json(const iface_rec *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(iface_rec_name(r)));
	json_object_object_add(o, "builtin",
			       json_object_new_boolean(iface_name_is_builtin(iface_rec_name(r))));
	(void)iface_rec_foreach(r, add_key, o);
	return o;
}
