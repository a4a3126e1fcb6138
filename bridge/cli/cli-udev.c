/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `lunbridge udev KERNEL`: the udev properties of a volume's device, for
 * packaging/udev/60-lunbridge.rules (IMPORT{program}). */
#include <stdio.h>
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
	"Bytes of ID outside [A-Za-z0-9._:-] become '_' (at most 200 kept).  A\n"
	"running bridge wins over the state a dead one left; that one counts only\n"
	"while its device still waits to be taken back (an NBD device still bound\n"
	"to the volume, a ublk device still there).\n"
	"Prints nothing, and exits 0, when no volume serves DEVICE.\n"
	"\n"
	"Runtime state: $LUNBRIDGE_RUN_DIR, else " LB_RUN_DIR_DEFAULT ".\n";

int cli_udev(int argc, char **argv)
{
	struct lb_devlink_props p;
	lb_err err = {{0}};
	const char *dev;
	int r;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(udev_help, stdout);
		return CLI_EXIT_OK;
	}
	if (argc < 2)
		return cli_usage_error("udev", "which device? Name it: ublkb0, nbd0");
	if (argc > 2)
		return cli_usage_error("udev", "unexpected argument '%s'", argv[2]);
	dev = argv[1];
	if (strncmp(dev, "/dev/", 5) == 0)
		dev += 5;
	if (!lb_devlink_sysname_ok(dev))
		return cli_usage_error("udev", "'%s' is not a block device name", argv[1]);
	r = lb_devlink_find(lb_runtime_dir(), dev, &p, &err);
	if (r < 0) {
		cli_error("%s", lb_err_msg(&err, r));
		return CLI_EXIT_FAILURE;
	}
	if (r == 1) {
		printf("LUNBRIDGE_NAME=%s\n", p.name);
		if (p.id[0])
			printf("LUNBRIDGE_ID=%s\n", p.id);
	}
	return CLI_EXIT_OK;
}
