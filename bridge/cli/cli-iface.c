/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `lunbridge iface list|show|new|update|delete`: records, as iscsiadm -m iface. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "cleanup.h"
#include "cli.h"

static void warn_unusable(const iface_rec *r)
{
	lb_err err = {{0}};
	int rc = iface_rec_validate(r, IFACE_VALIDATE_USE, &err);

	if (rc < 0)
		fprintf(stderr, "lunbridge: note: iface '%s' is not usable yet: %s\n",
			iface_rec_name(r), lb_err_msg(&err, rc));
}

int cli_iface_list(int argc, char **argv)
{
	static const char help[] =
		"Usage: lunbridge iface list [--json]\n"
		"\n"
		"One line per iface record, as 'iscsiadm -m iface' prints them:\n"
		"NAME TRANSPORT,HWADDRESS,IPADDRESS,NET_IFACENAME,INITIATORNAME\n"
		"\n" CLI_IFACE_COMMON_HELP;
	_cleanup_(iface_store_freep) iface_store *s = NULL;
	_cleanup_(iface_list_freep) iface_list *l = NULL;
	cli_iface_opts o = {.cmd = "iface list"};
	lb_err err = {{0}};
	int rc;

	rc = cli_iface_parse_opts(argc, argv, "j", help, &o);
	if (rc >= 0)
		return rc;
	rc = cli_open_store(o.dir, &s);
	if (rc)
		return rc;
	rc = iface_store_list(s, &l, &err);
	if (rc < 0) {
		cli_error("%s", lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}
	for (size_t i = 0; i < l->nbad; i++)
		fprintf(stderr, "lunbridge: warning: ignored %s/%s\n", iface_store_dir(s),
			l->bad[i]);

	if (o.json) {
		json_object *root = json_object_new_object();
		json_object *arr = json_object_new_array();
		json_object *bad = json_object_new_array();

		for (size_t i = 0; i < l->n; i++)
			json_object_array_add(arr, cli_iface_rec_json(l->recs[i]));
		for (size_t i = 0; i < l->nbad; i++)
			json_object_array_add(bad, json_object_new_string(l->bad[i]));
		json_object_object_add(root, "dir", json_object_new_string(iface_store_dir(s)));
		json_object_object_add(root, "ifaces", arr);
		json_object_object_add(root, "ignored", bad);
		cli_print_json(root);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < l->n; i++)
		(void)iface_rec_write_summary(l->recs[i], stdout);
	return CLI_EXIT_OK;
}

static int load_or_fail(iface_store *s, const char *name, iface_rec **ret)
{
	lb_err err = {{0}};
	int rc = iface_store_load(s, name, ret, &err);

	if (rc < 0) {
		cli_error("iface '%s': %s", name, lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

int cli_iface_show(int argc, char **argv)
{
	static const char help[] =
		"Usage: lunbridge iface show -I NAME [--json]\n"
		"\n"
		"Print one record in the form 'iscsiadm -m iface -I NAME' prints.\n"
		"\n"
		"  -I, --interface NAME  the record\n" CLI_IFACE_COMMON_HELP;
	_cleanup_(iface_store_freep) iface_store *s = NULL;
	_cleanup_(iface_rec_freep) iface_rec *r = NULL;
	cli_iface_opts o = {.cmd = "iface show"};
	int rc;

	rc = cli_iface_parse_opts(argc, argv, "Ij", help, &o);
	if (rc >= 0)
		return rc;
	rc = cli_open_store(o.dir, &s);
	if (!rc)
		rc = load_or_fail(s, o.name, &r);
	if (rc)
		return rc;
	if (o.json)
		cli_print_json(cli_iface_rec_json(r));
	else
		(void)iface_rec_write(r, IFACE_FORMAT_SHOW, stdout);
	return CLI_EXIT_OK;
}

int cli_iface_new(int argc, char **argv)
{
	static const char help[] =
		"Usage: lunbridge iface new -I NAME\n"
		"\n"
		"Create a tcp record named NAME, as 'iscsiadm -m iface -I NAME --op new'.\n"
		"Bind it with 'lunbridge iface update'.\n"
		"\n"
		"  -I, --interface NAME  the new record (1 to 64 characters)\n"
		"      --iface-dir DIR   record directory (default: $LUNBRIDGE_IFACE_DIR, else\n"
		"                        the one open-iscsi uses)\n"
		"  -h, --help            this text\n";
	_cleanup_(iface_store_freep) iface_store *s = NULL;
	_cleanup_(iface_rec_freep) iface_rec *r = NULL;
	cli_iface_opts o = {.cmd = "iface new"};
	lb_err err = {{0}};
	int rc;

	rc = cli_iface_parse_opts(argc, argv, "I", help, &o);
	if (rc >= 0)
		return rc;
	rc = cli_open_store(o.dir, &s);
	if (rc)
		return rc;
	rc = iface_rec_new(o.name, &r, &err);
	if (rc >= 0)
		rc = iface_rec_set(r, IFACE_KEY_TRANSPORT, "tcp", &err);
	if (rc >= 0)
		rc = iface_store_create(s, r, &err);
	if (rc < 0) {
		cli_error("iface '%s': %s", o.name, lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}
	printf("New interface %s added\n", o.name);
	return CLI_EXIT_OK;
}

int cli_iface_update(int argc, char **argv)
{
	static const char help[] =
		"Usage: lunbridge iface update -I NAME -n iface.KEY -v VALUE\n"
		"\n"
		"Set one key of a record, as 'iscsiadm -m iface -I NAME --op update'.\n"
		"-v '' (or -v '<empty>') clears the key.  Nothing is written unless the\n"
		"record is valid afterwards.\n"
		"\n"
		"  -I, --interface NAME  the record\n"
		"  -n, --name iface.KEY  the key, e.g. iface.net_ifacename\n"
		"  -v, --value VALUE     its new value\n"
		"      --iface-dir DIR   record directory (default: $LUNBRIDGE_IFACE_DIR, else\n"
		"                        the one open-iscsi uses)\n"
		"  -h, --help            this text\n";
	_cleanup_(iface_store_freep) iface_store *s = NULL;
	_cleanup_(iface_rec_freep) iface_rec *r = NULL;
	cli_iface_opts o = {.cmd = "iface update"};
	lb_err err = {{0}};
	int rc;

	rc = cli_iface_parse_opts(argc, argv, "Inv", help, &o);
	if (rc >= 0)
		return rc;
	rc = cli_open_store(o.dir, &s);
	if (rc)
		return rc;
	rc = iface_store_update(s, o.name, o.key, o.value, &err);
	if (rc < 0) {
		cli_error("iface '%s': %s", o.name, lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}
	printf("%s updated.\n", o.name);
	if (iface_store_load(s, o.name, &r, NULL) >= 0)
		warn_unusable(r);
	return CLI_EXIT_OK;
}

int cli_iface_delete(int argc, char **argv)
{
	static const char help[] =
		"Usage: lunbridge iface delete -I NAME\n"
		"\n"
		"Delete a record, as 'iscsiadm -m iface -I NAME --op delete'.\n"
		"\n"
		"  -I, --interface NAME  the record\n"
		"      --iface-dir DIR   record directory (default: $LUNBRIDGE_IFACE_DIR, else\n"
		"                        the one open-iscsi uses)\n"
		"  -h, --help            this text\n";
	_cleanup_(iface_store_freep) iface_store *s = NULL;
	cli_iface_opts o = {.cmd = "iface delete"};
	lb_err err = {{0}};
	int rc;

	rc = cli_iface_parse_opts(argc, argv, "I", help, &o);
	if (rc >= 0)
		return rc;
	rc = cli_open_store(o.dir, &s);
	if (rc)
		return rc;
	rc = iface_store_delete(s, o.name, &err);
	if (rc < 0) {
		cli_error("iface '%s': %s", o.name, lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}
	printf("%s deleted.\n", o.name);
	return CLI_EXIT_OK;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} subcommands[] = {
	{"list", cli_iface_list, "list records, as 'iscsiadm -m iface'"},
	{"show", cli_iface_show, "print one record"},
	{"new", cli_iface_new, "create a tcp record"},
	{"update", cli_iface_update, "set one key of a record"},
	{"delete", cli_iface_delete, "delete a record"},
	{"generate", cli_iface_generate, "create records for the offload ports present"},
	{"check", cli_iface_check, "verify the hardware behind a record"},
	{"resolve", cli_iface_resolve, "pick the iface the route to a portal leaves by"},
};

static void iface_usage(FILE *f)
{
	fprintf(f, "Usage: lunbridge iface SUBCOMMAND [OPTIONS]\n"
		   "\n"
		   "Manage open-iscsi iface records: the same files and forms as\n"
		   "'iscsiadm -m iface', in the directory open-iscsi uses.\n"
		   "\n"
		   "Subcommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(f, "  %-9s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\n'lunbridge iface SUBCOMMAND --help' describes each.\n");
}

int cli_iface(int argc, char **argv)
{
	if (argc < 2) {
		iface_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		iface_usage(stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1);
	return cli_usage_error("iface", "unknown iface subcommand '%s'", argv[1]);
}
