/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `lunbridge luns`: the LUN inventory of one target. */
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-session.h"
#include "cli.h"
#include "inventory.h"

static const char luns_help[] =
	"Usage: lunbridge luns -p IP[:PORT] -T IQN [-I IFACE] [CHAP options] [--json]\n"
	"\n"
	"Log in to a target and list its LUNs: number, device type, vendor and\n"
	"product, serial number, size in bytes and logical block size.\n"
	"\n"
	"Options:\n"
	"  -T, --targetname IQN        the target\n" CLI_SESSION_HELP
	"      --json                  print JSON, with the VPD details\n"
	"  -h, --help                  this text\n";

static json_object *lun_json(const struct iscsi_lun_info *l)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "lun", json_object_new_int64(l->lun));
	json_object_object_add(o, "type",
			       json_object_new_string(scsi_device_type_name(l->inq.device_type)));
	json_object_object_add(o, "vendor", json_object_new_string(l->inq.vendor));
	json_object_object_add(o, "product", json_object_new_string(l->inq.product));
	json_object_object_add(o, "revision", json_object_new_string(l->inq.revision));
	json_object_object_add(o, "serial", json_object_new_string(l->serial));
	json_object_object_add(o, "id", l->devid[0] ? json_object_new_string(l->devid) : NULL);
	if (l->has_capacity) {
		json_object_object_add(o, "size", json_object_new_int64((int64_t)l->size_bytes));
		json_object_object_add(o, "logical_block_size",
				       json_object_new_int64(l->cap.block_size));
		json_object_object_add(o, "physical_block_size",
				       json_object_new_int64(l->cap.physical_block_size));
	} else {
		json_object_object_add(o, "size", NULL);
		json_object_object_add(o, "logical_block_size", NULL);
		json_object_object_add(o, "physical_block_size", NULL);
	}
	json_object_object_add(o, "max_transfer", json_object_new_int64(l->max_transfer_bytes));
	json_object_object_add(o, "unmap", json_object_new_boolean(l->unmap));
	json_object_object_add(o, "write_same", json_object_new_boolean(l->write_same));
	json_object_object_add(o, "thin", json_object_new_boolean(l->has_capacity && l->cap.lbpme));
	/* MODE SENSE: null where the LUN did not say */
	json_object_object_add(o, "write_protected",
			       l->has_mode ? json_object_new_boolean(l->write_protected) : NULL);
	json_object_object_add(o, "dpofua",
			       l->has_mode ? json_object_new_boolean(l->dpofua) : NULL);
	json_object_object_add(o, "wce",
			       l->mode.has_caching ? json_object_new_boolean(l->mode.wce) : NULL);
	json_object_object_add(o, "lbprz", json_object_new_boolean(l->lbprz));
	return o;
}

int cli_luns(int argc, char **argv)
{
	cli_session_opts o = {.cmd = "luns"};
	_cleanup_free_ uint32_t *luns = NULL;
	_cleanup_free_ struct iscsi_lun_info *info = NULL;
	size_t n = 0, shown = 0;
	cli_session cs;
	lb_err err = {{0}};
	int rc;

	rc = cli_session_parse_opts(argc, argv, "Tj", luns_help, &o);
	if (rc >= 0)
		return rc;
	rc = cli_session_open(&o, &cs);
	if (rc)
		return rc;
	rc = iscsi_inventory_report_luns(cs.s, &luns, &n, &err);
	if (rc < 0) {
		cli_error("target %s: %s", o.target, lb_err_msg(&err, rc));
		cli_session_close(&cs);
		return CLI_EXIT_FAILURE;
	}
	info = calloc(n ? n : 1, sizeof(*info));
	if (!info) {
		cli_error("out of memory");
		cli_session_close(&cs);
		return CLI_EXIT_FAILURE;
	}
	for (size_t i = 0; i < n; i++) {
		rc = iscsi_inventory_lun(cs.s, luns[i], &info[shown], &err);
		if (rc == -ENXIO)
			continue; /* listed but gone: say nothing of it */
		if (rc < 0) {
			cli_error("target %s: %s", o.target, lb_err_msg(&err, rc));
			cli_session_close(&cs);
			return CLI_EXIT_FAILURE;
		}
		shown++;
	}
	cli_session_close(&cs);

	if (o.json) {
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < shown; i++)
			json_object_array_add(arr, lun_json(&info[i]));
		cli_print_json(arr);
	} else {
		printf("%-5s %-11s %-8s %-16s %-20s %14s %6s\n", "LUN", "TYPE", "VENDOR", "PRODUCT",
		       "SERIAL", "SIZE", "BLOCK");
		for (size_t i = 0; i < shown; i++) {
			const struct iscsi_lun_info *l = &info[i];
			char size[24] = "-", block[12] = "-";

			if (l->has_capacity) {
				snprintf(size, sizeof(size), "%" PRIu64, l->size_bytes);
				snprintf(block, sizeof(block), "%" PRIu32, l->cap.block_size);
			}
			printf("%-5" PRIu32 " %-11s %-8s %-16s %-20s %14s %6s\n", l->lun,
			       scsi_device_type_name(l->inq.device_type),
			       l->inq.vendor[0] ? l->inq.vendor : "-",
			       l->inq.product[0] ? l->inq.product : "-",
			       l->serial[0] ? l->serial : "-", size, block);
		}
	}
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
