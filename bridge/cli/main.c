/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lunbridge: iSCSI LUNs as Linux block devices.  The subcommand dispatcher. */
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "cleanup.h"
#include "cli.h"
#include "config.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"iface", cli_iface, "manage open-iscsi iface records and find their hardware"},
	{"discover", cli_discover, "list the targets a portal serves (SendTargets)"},
	{"luns", cli_luns, "list a target's LUNs: type, vendor, serial, size"},
	{"attach", cli_attach, "serve a LUN as an NBD export or device (one bridge per volume)"},
	{"list", cli_list, "show the running bridges"},
	{"detach", cli_detach, "end a volume's bridge: flush, log out, remove the device"},
	{"volume", cli_volume, "check a configured volume (/etc/lunbridge/volumes/NAME.conf)"},
	{"udev", cli_udev, "for the udev rules: the volume a device serves, as udev properties"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: lunbridge COMMAND [OPTIONS]\n"
		   "\n"
		   "Bring iSCSI LUNs to this host as plain block devices.\n"
		   "\n"
		   "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n"
		   "Options:\n"
		   "  -h, --help     this text\n"
		   "  -V, --version  print the version\n"
		   "\n"
		   "'lunbridge COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("lunbridge %s\n", LUNBRIDGE_VERSION);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);

	cli_error("unknown command '%s'", argv[1]);
	fprintf(stderr, "Try 'lunbridge --help'.\n");
	return CLI_EXIT_USAGE;
}
