/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `lunbridge list`: the volumes this host's bridges serve. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "runtime.h"

static const char list_help[] =
	"Usage: lunbridge list [--json]\n"
	"\n"
	"Show every running bridge: name, state, engine, iface, portal, target,\n"
	"LUN, iSCSI sessions held, I/O counters, and its export or device.\n"
	"\n"
	"Options:\n"
	"      --json    print JSON (an array; one object per volume)\n"
	"  -h, --help    this text\n"
	"\n"
	"Runtime state: $LUNBRIDGE_RUN_DIR, else " LB_RUN_DIR_DEFAULT ".\n";

/* A live volume's status, from the bridge itself, else from its state
 * file (a bridge starting up, or one that does not answer). */
static json_object *volume_status(const char *dir, const char *name)
{
	_cleanup_free_ char *text = NULL;
	json_object *o;
	lb_err err = {{0}};

	if (lb_runtime_request(dir, name, "status", 2000, &text, &err) == 0) {
		o = json_tokener_parse(text);
		if (o && json_object_is_type(o, json_type_object))
			return o;
		json_object_put(o);
	}
	free(text);
	text = NULL;
	o = NULL;
	if (lb_runtime_read_state(dir, name, &text, &err) == 0)
		o = json_tokener_parse(text);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "state", json_object_new_string("starting"));
		return o;
	}
	json_object_object_add(o, "state", json_object_new_string("unresponsive"));
	return o;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

static uint64_t stat_u64(json_object *o, const char *k)
{
	json_object *st, *v;

	if (!json_object_object_get_ex(o, "stats", &st) || !json_object_object_get_ex(st, k, &v))
		return 0;
	return json_object_get_uint64(v);
}

#define NCOLS 11

/* Columns as wide as their widest cell; the export or device last. */
static void print_table(json_object *arr)
{
	/* SESS: the iSCSI sessions the volume holds (its first, one per
	 * NBD client or ublk queue, one per path; 0: the kernel's) */
	static const char *const head[NCOLS] = {"NAME",	  "STATE",  "ENGINE", "IFACE",
						"PORTAL", "TARGET", "LUN",    "SESS",
						"READS",  "WRITES", "EXPORT"};
	size_t n = json_object_array_length(arr), width[NCOLS];
	char(*cells)[NCOLS][320] = calloc(n + 1, sizeof(*cells));

	if (!cells) {
		cli_error("out of memory");
		return;
	}
	for (int c = 0; c < NCOLS; c++) {
		snprintf(cells[0][c], sizeof(cells[0][c]), "%s", head[c]);
		width[c] = strlen(head[c]);
	}
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *dev = str(o, "device");
		char(*row)[320] = cells[i + 1];

		snprintf(row[0], 320, "%s", str(o, "name"));
		snprintf(row[1], 320, "%s", str(o, "state"));
		snprintf(row[2], 320, "%s", str(o, "engine"));
		/* multipath: "multipath 2/2 paths, round-robin" (list --json has
		 * each path) */
		if (strcmp(str(o, "paths"), "-") != 0)
			snprintf(row[2], 320, "%s %s/%s paths, %s", str(o, "engine"),
				 str(o, "paths_up"), str(o, "paths"), str(o, "path_policy"));
		snprintf(row[3], 320, "%s", str(o, "iface"));
		snprintf(row[4], 320, "%s", str(o, "portal"));
		snprintf(row[5], 320, "%s", str(o, "target"));
		snprintf(row[6], 320, "%s", str(o, "lun"));
		snprintf(row[7], 320, "%" PRIu64, stat_u64(o, "sessions"));
		snprintf(row[8], 320, "%" PRIu64, stat_u64(o, "reads"));
		snprintf(row[9], 320, "%" PRIu64, stat_u64(o, "writes"));
		snprintf(row[10], 320, "%s", strcmp(dev, "-") ? dev : str(o, "export"));
		for (int c = 0; c < NCOLS; c++)
			if (strlen(row[c]) > width[c])
				width[c] = strlen(row[c]);
	}
	for (size_t i = 0; i <= n; i++)
		for (int c = 0; c < NCOLS; c++)
			if (c == NCOLS - 1)
				printf("%s\n", cells[i][c]);
			else
				printf("%-*s  ", (int)width[c], cells[i][c]);
	free(cells);
}

int cli_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = lb_runtime_dir();
	bool json = false;
	char **names = NULL;
	size_t n = 0;
	lb_err err = {{0}};
	json_object *arr;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			fputs(list_help, stdout);
			return CLI_EXIT_OK;
		} else {
			return cli_usage_error("list", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("list", "unexpected argument '%s'", argv[optind]);
	r = lb_runtime_list(dir, &names, &n, &err);
	if (r < 0) {
		cli_error("%s", lb_err_msg(&err, r));
		return CLI_EXIT_FAILURE;
	}
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object_array_add(arr, volume_status(dir, names[i]));
		free(names[i]);
	}
	free(names);
	if (json) {
		cli_print_json(arr);
		return CLI_EXIT_OK;
	}
	print_table(arr);
	json_object_put(arr);
	return CLI_EXIT_OK;
}
