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

static json_object *json_str_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static void print_json(const iface_route_portal *p, const cli_route_pick *pick)
{
	const iface_route *rt = &pick->rt;
	const iface_netdev *dev = &pick->dev;
	const iface_route_choice *c = &pick->choice;
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

void cli_route_pick_describe(const cli_route_pick *pick, char *buf, size_t len)
{
	const iface_route *rt = &pick->rt;
	const iface_netdev *dev = &pick->dev;
	size_t off = 0;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		if (off < len)                                                                     \
			off += (size_t)snprintf(buf + off, len - off, __VA_ARGS__);                \
	} while (0)
	PUT("dev %s", rt->netdev);
	if (rt->gateway[0])
		PUT(" via %s", rt->gateway);
	if (rt->source[0])
		PUT(" src %s", rt->source);
	PUT(" (%s, driver %s): ", dev->hwaddress ? dev->hwaddress : "no MAC",
	    dev->driver ? dev->driver : "unknown");
	switch (pick->choice.reason) {
	case IFACE_ROUTE_BY_NETDEV:
	case IFACE_ROUTE_BY_HWADDRESS:
		PUT("record bound by %s", iface_route_reason_str(pick->choice.reason));
		break;
	case IFACE_ROUTE_OFFLOAD_NEW:
		PUT("%s offload port, not yet created ('lunbridge iface generate')",
		    dev->transport);
		break;
	case IFACE_ROUTE_DEFAULT:
		PUT("no record bound to %s", rt->netdev);
		break;
	}
#undef PUT
}

void cli_route_pick_clear(cli_route_pick *pick)
{
	iface_route_choice_clear(&pick->choice);
	iface_netdev_free(pick->found);
	pick->found = NULL;
}

int cli_route_pick_find(const char *dir, const iface_route_portal *portal, cli_route_pick *ret)
{
	_cleanup_(iface_store_freep) iface_store *s = NULL;
	_cleanup_(iface_list_freep) iface_list *l = NULL;
	cli_route_pick pick = {0};
	lb_err err = {{0}};
	int rc;

	rc = cli_open_store(dir, &s);
	if (rc)
		return rc;
	rc = iface_route_lookup(portal, &pick.rt, &err);
	if (rc < 0) {
		cli_error("portal %s: %s", portal->addr_str, lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}

	/* udev knows the driver; without it (lo, a device udev cannot see
	 * in this namespace) the route's own name and MAC still bind. */
	pick.dev = (iface_netdev){.name = pick.rt.netdev,
				  .hwaddress = pick.rt.hwaddress[0] ? pick.rt.hwaddress : NULL};
	if (iface_hw_find_netdev(pick.rt.netdev, &pick.found, NULL) == 0) {
		pick.dev.driver = pick.found->driver;
		pick.dev.transport = pick.found->transport;
		if (pick.found->hwaddress)
			pick.dev.hwaddress = pick.found->hwaddress;
	}

	rc = iface_store_list(s, &l, &err);
	if (rc < 0) {
		cli_error("%s", lb_err_msg(&err, rc));
		cli_route_pick_clear(&pick);
		return CLI_EXIT_FAILURE;
	}
	rc = iface_route_choose(&pick.dev, l, &pick.choice, &err);
	if (rc < 0) {
		cli_error("portal %s via %s: %s", portal->addr_str, pick.rt.netdev,
			  lb_err_msg(&err, rc));
		cli_route_pick_clear(&pick);
		return CLI_EXIT_FAILURE;
	}
	/* dev points into rt, which moves with the struct: re-aim it */
	*ret = pick;
	ret->dev.name = ret->rt.netdev;
	if (!pick.found || !pick.found->hwaddress)
		ret->dev.hwaddress = ret->rt.hwaddress[0] ? ret->rt.hwaddress : NULL;
	return 0;
}

static void cleanup_pickp(cli_route_pick *p)
{
	cli_route_pick_clear(p);
}

int cli_iface_resolve(int argc, char **argv)
{
	_cleanup_(cleanup_pickp) cli_route_pick pick = {0};
	cli_iface_opts o = {.cmd = CMD};
	iface_route_portal portal;
	char why[512];
	lb_err err = {{0}};
	int rc;

	rc = cli_iface_parse_opts(argc, argv, "pj", help, &o);
	if (rc >= 0)
		return rc;
	rc = iface_route_parse_portal(o.portal, &portal, &err);
	if (rc < 0)
		return cli_usage_error(CMD, "portal '%s': %s", o.portal, lb_err_msg(&err, rc));
	rc = cli_route_pick_find(o.dir, &portal, &pick);
	if (rc)
		return rc;
	if (o.json) {
		print_json(&portal, &pick);
	} else {
		cli_route_pick_describe(&pick, why, sizeof(why));
		printf("%s\n# %s\n", pick.choice.iface, why);
	}
	return CLI_EXIT_OK;
}
