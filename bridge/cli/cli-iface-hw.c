/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `lunbridge iface generate|check`: records from the hardware, and back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "hw.h"

/* ---- iface generate --------------------------------------------------- */

typedef struct gen_report {
	bool json;
	unsigned reported; /* offload ports created or skipped */
	json_object *created, *skipped, *ignored;
} gen_report;

static void report_created(gen_report *g, const char *name)
{
	g->reported++;
	if (g->json)
		json_object_array_add(g->created, json_object_new_string(name));
	else
		printf("created %s\n", name);
}

static void report_skipped(gen_report *g, const char *name, const char *reason)
{
	g->reported++;
	if (g->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "reason", json_object_new_string(reason));
		json_object_array_add(g->skipped, o);
	} else {
		printf("skipped %s: %s\n", name, reason);
	}
}

static void report_ignored(gen_report *g, const iface_hw_port *p)
{
	json_object *o;

	if (!g->json)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "netdev", p->netdev ? json_object_new_string(p->netdev) : NULL);
	json_object_object_add(o, "host", p->host ? json_object_new_string(p->host) : NULL);
	json_object_object_add(o, "driver", p->driver ? json_object_new_string(p->driver) : NULL);
	json_object_array_add(g->ignored, o);
}

/* The record `iscsiadm` itself writes for a host binding. */
static int new_port_record(const char *name, const iface_hw_port *p, iface_rec **ret, lb_err *err)
{
	_cleanup_(iface_rec_freep) iface_rec *r = NULL;
	int rc;

	rc = iface_rec_new(name, &r, err);
	if (rc >= 0)
		rc = iface_rec_set(r, IFACE_KEY_TRANSPORT, p->transport, err);
	if (rc >= 0)
		rc = iface_rec_set(r, IFACE_KEY_HWADDRESS, p->hwaddress, err);
	if (rc < 0)
		return rc;
	*ret = TAKE_PTR(r);
	return 0;
}

/* One port: create its record, or say why not.  Returns 0 or -errno. */
static int generate_port(iface_store *s, const iface_list *l, const iface_hw_port *p, gen_report *g)
{
	_cleanup_(iface_rec_freep) iface_rec *r = NULL;
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *reason = NULL;
	const iface_rec *bound;
	lb_err err = {{0}};
	int rc;

	if (!p->transport) {
		report_ignored(g, p);
		return 0;
	}
	if (!p->hwaddress) {
		report_skipped(g, p->netdev ? p->netdev : p->host, "the port has no MAC address");
		return 0;
	}
	rc = iface_hw_default_name(p->transport, p->hwaddress, &name);
	if (rc < 0) {
		cli_error("%s port %s: no record name: %s", p->transport, p->hwaddress,
			  strerror(-rc));
		return rc;
	}
	bound = iface_hw_find_binding(l->recs, l->n, p->transport, p->hwaddress);
	if (bound) {
		if (asprintf(&reason, "record '%s' already binds this port",
			     iface_rec_name(bound)) < 0)
			return -ENOMEM;
		report_skipped(g, name, reason);
		return 0;
	}
	rc = new_port_record(name, p, &r, &err);
	if (rc >= 0)
		rc = iface_store_create(s, r, &err);
	if (rc == -EEXIST) {
		if (asprintf(&reason, "record '%s' already exists and binds something else", name) <
		    0)
			return -ENOMEM;
		report_skipped(g, name, reason);
		return 0;
	}
	if (rc < 0) {
		cli_error("iface '%s': %s", name, lb_err_msg(&err, rc));
		return rc;
	}
	report_created(g, name);
	return 0;
}

int cli_iface_generate(int argc, char **argv)
{
	static const char help[] =
		"Usage: lunbridge iface generate [OPTIONS]\n"
		"\n"
		"Create the default record TRANSPORT.HWADDRESS for every iSCSI offload\n"
		"port udev shows (cxgb3i, cxgb4i, bnx2i, qla4xxx, be2iscsi, ocs, qedi)\n"
		"that no record binds yet, as 'iscsiadm -m iface' does for host bindings.\n"
		"Existing records are never changed; plain NICs are left alone.\n"
		"\n" CLI_IFACE_COMMON_HELP;
	_cleanup_(iface_store_freep) iface_store *s = NULL;
	_cleanup_(iface_list_freep) iface_list *l = NULL;
	_cleanup_(json_object_putp) json_object *out = NULL;
	iface_hw_port *ports = NULL;
	size_t n = 0;
	cli_iface_opts o = {.cmd = "iface generate"};
	gen_report g = {0};
	lb_err err = {{0}};
	int rc, status = CLI_EXIT_OK;

	rc = cli_iface_parse_opts(argc, argv, "j", help, &o);
	if (rc >= 0)
		return rc;
	rc = cli_open_store(o.dir, &s);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = iface_store_list(s, &l, &err);
	if (rc < 0) {
		cli_error("iface directory %s: %s", iface_store_dir(s), lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}
	rc = iface_hw_ports(&ports, &n, &err);
	if (rc < 0) {
		cli_error("hardware scan: %s", lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}

	g.json = o.json;
	if (o.json) {
		out = json_object_new_object();
		g.created = json_object_new_array();
		g.skipped = json_object_new_array();
		g.ignored = json_object_new_array();
		json_object_object_add(out, "created", g.created);
		json_object_object_add(out, "skipped", g.skipped);
		json_object_object_add(out, "ignored", g.ignored);
	}
	for (size_t i = 0; i < n; i++)
		if (generate_port(s, l, &ports[i], &g) < 0)
			status = CLI_EXIT_FAILURE;
	iface_hw_port_array_free(ports, n);
	if (out)
		cli_print_json(TAKE_PTR(out));
	else if (g.reported == 0)
		printf("no iSCSI offload ports found (%zu network ports looked at); nothing to "
		       "generate\n",
		       n);
	return status;
}

/* ---- iface check ------------------------------------------------------ */

static json_object *json_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void check_json(const char *name, const iface_hw_port *p, const char *problem)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "iface", json_object_new_string(name));
	json_object_object_add(o, "ok", json_object_new_boolean(!problem));
	json_object_object_add(o, "netdev", json_str(p->netdev));
	json_object_object_add(o, "host", json_str(p->host));
	json_object_object_add(o, "hwaddress", json_str(p->hwaddress));
	json_object_object_add(o, "driver", json_str(p->driver));
	json_object_object_add(o, "transport", json_str(p->transport));
	json_object_object_add(o, "problem", json_str(problem));
	cli_print_json(o);
}

static void check_ok_line(const char *name, const iface_hw_port *p)
{
	if (!p->netdev && !p->host) {
		printf("iface '%s': ok (unbound %s)\n", name, p->transport ? p->transport : "");
		return;
	}
	printf("iface '%s': ok (%s, %s, %s)\n", name, p->netdev ? p->netdev : p->host,
	       p->driver ? p->driver : "no driver", p->hwaddress ? p->hwaddress : "no MAC");
}

int cli_iface_check(int argc, char **argv)
{
	static const char help[] =
		"Usage: lunbridge iface check -I NAME [OPTIONS]\n"
		"\n"
		"Verify that record NAME can be used here: it passes the rules for use,\n"
		"the NIC or iSCSI host it binds (by net_ifacename or hwaddress) is present,\n"
		"its driver can carry the record's transport, and an offload or iser\n"
		"transport is registered in /sys/class/iscsi_transport.  Says what is\n"
		"missing and exits non-zero otherwise.\n"
		"\n"
		"  -I, --interface NAME  the record to check\n" CLI_IFACE_COMMON_HELP;
	_cleanup_(iface_store_freep) iface_store *s = NULL;
	_cleanup_(iface_rec_freep) iface_rec *r = NULL;
	iface_hw_port port = {0};
	cli_iface_opts o = {.cmd = "iface check"};
	lb_err err = {{0}};
	int rc;

	rc = cli_iface_parse_opts(argc, argv, "Ij", help, &o);
	if (rc >= 0)
		return rc;
	rc = cli_open_store(o.dir, &s);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = iface_store_load(s, o.name, &r, &err);
	if (rc >= 0)
		rc = iface_hw_check_port(r, &port, &err);

	if (o.json)
		check_json(o.name, &port, rc < 0 ? lb_err_msg(&err, rc) : NULL);
	else if (rc < 0)
		cli_error("iface '%s': %s", o.name, lb_err_msg(&err, rc));
	else
		check_ok_line(o.name, &port);
	iface_hw_port_clear(&port);
	return rc < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
