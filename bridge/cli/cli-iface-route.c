/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `lunbridge iface resolve --portal IP[:PORT]`: the iface a portal's route leaves by. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "hw.h"
#include "route.h"


#define CMD "iface resolve"

static const char help[] =
	"Usage: lunbridge iface resolve --portal IP[:PORT] [--json]\n"
	"\n"
	"Ask the kernel for the route to an iSCSI portal and print the iface\n"
	"record a session to it should use: one bound to the NIC the route\n"
	"leaves by (net_ifacename or hwaddress), else the name 'iface generate'\n"
	"gives an offload port, else 'default'.  The first line is the name;\n"
	"a second line, starting with '#', says how it was chosen.\n"
	"\n"
	"  -p, --portal ADDR     IP, IP:PORT, [IPv6]:PORT or IPv6 (port "
	"3260)\n" CLI_IFACE_COMMON_HELP;

static void cleanup_choicep(iface_route_choice *c)
{
	iface_route_choice_clear(c);
}

static json_object *json_str_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static void print_json(const iface_route_portal *p, const iface_route *rt, const iface_netdev *dev,
		       const iface_route_choice *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "portal", json_object_new_string(p->addr_str));
	json_object_object_add(o, "port", json_object_new_int(p->port));
	json_object_object_add(o, "netdev", json_object_new_string(rt->netdev));
	json_object_object_add(o, "hwaddress", json_str_or_null(dev->hwaddress));
	json_object_object_add(o, "driver", json_str_or_null(dev->driver));
	json_object_object_add(o, "gateway", json_str_or_null(rt->gateway));
	json_object_object_add(o, "source", json_str_or_null(rt->source));
	json_object_object_add(o, "iface", json_object_new_string(c->iface));
	json_object_object_add(o, "reason",
			       json_object_new_string(iface_route_reason_str(c->reason)));
	json_object_object_add(o, "exists", json_object_new_boolean(c->exists));
	cli_print_json(o);
}

/* "A\n# dev veth-a via 10.0.0.1 src 10.0.0.2 (MAC, driver D): why\n" */
static void print_text(const iface_route *rt, const iface_netdev *dev, const iface_route_choice *c)
{
	printf("%s\n# dev %s", c->iface, rt->netdev);
	if (rt->gateway[0])
		printf(" via %s", rt->gateway);
	if (rt->source[0])
		printf(" src %s", rt->source);
	printf(" (%s, driver %s): ", dev->hwaddress ? dev->hwaddress : "no MAC",
	       dev->driver ? dev->driver : "unknown");
	switch (c->reason) {
	case IFACE_ROUTE_BY_NETDEV:
	case IFACE_ROUTE_BY_HWADDRESS:
		printf("record bound by %s\n", iface_route_reason_str(c->reason));
		break;
	case IFACE_ROUTE_OFFLOAD_NEW:
		printf("%s offload port, not yet created ('lunbridge iface generate')\n",
		       dev->transport);
		break;
	case IFACE_ROUTE_DEFAULT:
		printf("no record bound to %s\n", rt->netdev);
		break;
	}
}

int cli_iface_resolve(int argc, char **argv)
{
	_cleanup_(iface_store_freep) iface_store *s = NULL;
	_cleanup_(iface_list_freep) iface_list *l = NULL;
	_cleanup_netdev_ iface_netdev *found = NULL;
	_cleanup_(cleanup_choicep) iface_route_choice choice = {0};
	cli_iface_opts o = {.cmd = CMD};
	iface_route_portal portal;
	iface_netdev dev;
	iface_route rt;
	lb_err err = {{0}};
	int rc;

	rc = cli_iface_parse_opts(argc, argv, "pj", help, &o);
	if (rc >= 0)
		return rc;
	rc = iface_route_parse_portal(o.portal, &portal, &err);
	if (rc < 0)
		return cli_usage_error(CMD, "portal '%s': %s", o.portal, lb_err_msg(&err, rc));
	rc = cli_open_store(o.dir, &s);
	if (rc)
		return rc;

	rc = iface_route_lookup(&portal, &rt, &err);
	if (rc < 0) {
		cli_error("portal %s: %s", portal.addr_str, lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}

	/* udev knows the driver; without it (lo, a device udev cannot see
	 * in this namespace) the route's own name and MAC still bind. */
	dev = (iface_netdev){.name = rt.netdev, .hwaddress = rt.hwaddress[0] ? rt.hwaddress : NULL};
	if (iface_hw_find_netdev(rt.netdev, &found, NULL) == 0) {
		dev.driver = found->driver;
		dev.transport = found->transport;
		if (found->hwaddress)
			dev.hwaddress = found->hwaddress;
	}

	rc = iface_store_list(s, &l, &err);
	if (rc < 0) {
		cli_error("%s", lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}
	rc = iface_route_choose(&dev, l, &choice, &err);
	if (rc < 0) {
		cli_error("portal %s via %s: %s", portal.addr_str, rt.netdev, lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}

	if (o.json)
		print_json(&portal, &rt, &dev, &choice);
	else
		print_text(&rt, &dev, &choice);
	return CLI_EXIT_OK;
}
