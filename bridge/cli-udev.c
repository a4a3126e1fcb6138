/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `lunbridge udev KERNEL`: the udev properties of a volume's device, for
 * packaging/udev/60-lunbridge.rules (IMPORT{program}). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "devlink.h"
#include "runtime.h"

static const char udev_help[] =
	"Usage: lunbridge udev DEVICE\n"
	"\n"
	"For the udev rules (60-lunbridge.rules): name the volume whose bridge\n"
	"serves DEVICE (a kernel name such as ublkb0 or nbd0, or /dev/ublkb0) as\n"
	"udev properties:\n"
	"\n"
	"  LUNBRIDGE_NAME=NAME   the volume: /dev/disk/by-lunbridge/NAME\n"
	"  LUNBRIDGE_ID=ID       the LUN's VPD 0x83 designator (naa.6001405...):\n"
	"                        /dev/disk/by-id/lunbridge-ID\n"
	"\n"
	"Bytes of ID outside [A-Za-z0-9._:-] become '_'.  A running bridge wins\n"
	"over the state a dead one left (its device waiting to be taken back).\n"
	"Prints nothing, and exits 0, when no volume serves DEVICE.\n"
	"\n"
	"Runtime state: $LUNBRIDGE_RUN_DIR, else " LB_RUN_DIR_DEFAULT ".\n";

/* The volume serving sysname: 1 and *ret, 0 for none, < 0 on error. */
static int find(const char *dir, const char *sysname, struct lb_devlink_props *ret)
{
	char **names = NULL;
	size_t n = 0;
	lb_err err = {{0}};
	int found = 0;

	if (lb_rt_list_states(dir, &names, &n, &err) < 0) {
		cli_error("%s", err.msg);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *text = NULL;
		struct lb_devlink_props p;
		bool live;

		/* a state file can vanish under us: its volume just detached */
		if (lb_rt_read_state_file(dir, names[i], &text, &err) < 0 ||
		    lb_devlink_match(text, sysname, &p) != 1)
			continue;
		live = lb_rt_live(dir, names[i]);
		if (found == 0 || live) {
			*ret = p;
			found = 1;
		}
		if (live)
			break;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return found;
}

int cli_udev(int argc, char **argv)
{
	struct lb_devlink_props p;
	const char *dev;
	int r;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(udev_help, stdout);
		return CLI_EXIT_OK;
	}
	if (argc != 2)
		return cli_usage_error("udev", argc < 2 ? "which device? Name it: ublkb0, nbd0"
							: "unexpected argument '%s'",
				       argv[2]);
	dev = argv[1];
	if (strncmp(dev, "/dev/", 5) == 0)
		dev += 5;
	if (!lb_devlink_sysname_ok(dev))
		return cli_usage_error("udev", "'%s' is not a block device name", argv[1]);
	r = find(lb_rt_dir(), dev, &p);
	if (r < 0)
		return CLI_EXIT_FAILURE;
	if (r == 1) {
		printf("LUNBRIDGE_NAME=%s\n", p.name);
		if (p.id[0])
			printf("LUNBRIDGE_ID=%s\n", p.id);
	}
	return CLI_EXIT_OK;
}
