/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `lunbridge discover`: SendTargets=All through our own initiator. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli-session.h"
#include "cli.h"
#include "discovery.h"

static const char discover_help[] =
	"Usage: lunbridge discover -p IP[:PORT] [-I IFACE] [CHAP options] [--json]\n"
	"\n"
	"Ask a portal which targets it serves (SendTargets=All) and print them as\n"
	"'iscsiadm -m discovery -t st' does: IP:PORT,TPGT IQN.\n"
	"\n"
	"Options:\n" CLI_SESSION_HELP "      --json                  print JSON\n"
	"  -h, --help                  this text\n";

static json_object *discovery_json(const struct iscsi_discovery *d, const cli_session *cs)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < d->n_targets; i++) {
		const struct iscsi_discovered_target *t = &d->targets[i];
		json_object *o = json_object_new_object();
		json_object *portals = json_object_new_array();

		json_object_object_add(o, "target", json_object_new_string(t->name));
		for (size_t j = 0; j < t->n_addrs; j++) {
			json_object *p = json_object_new_object();

			json_object_object_add(p, "address",
					       json_object_new_string(t->addrs[j].host));
			json_object_object_add(p, "port", json_object_new_int(t->addrs[j].port));
			json_object_object_add(p, "tpgt", json_object_new_int(t->addrs[j].tpgt));
			json_object_array_add(portals, p);
		}
		if (t->n_addrs == 0) {
			json_object *p = json_object_new_object();

			json_object_object_add(p, "address",
					       json_object_new_string(cs->portal.addr_str));
			json_object_object_add(p, "port", json_object_new_int(cs->portal.port));
			json_object_object_add(p, "tpgt",
					       json_object_new_int(iscsi_session_tpgt(cs->s)));
			json_object_array_add(portals, p);
		}
		json_object_object_add(o, "portals", portals);
		json_object_array_add(arr, o);
	}
	return arr;
}

int cli_discover(int argc, char **argv)
{
	static const char query[] = "SendTargets=All";
	cli_session_opts o = {.cmd = "discover"};
	struct iscsi_discovery d = {0};
	cli_session cs;
	const char *text;
	size_t len;
	lb_err err = {{0}};
	int rc;

	rc = cli_session_parse_opts(argc, argv, "j", discover_help, &o);
	if (rc >= 0)
		return rc;
	rc = cli_session_open(&o, &cs);
	if (rc)
		return rc;
	rc = iscsi_session_text_sync(cs.s, query, sizeof(query));
	if (rc < 0) {
		cli_error("discovery at %s failed: %s", o.portal,
			  rc == -ETIMEDOUT ? "no answer to SendTargets"
					   : iscsi_session_error(cs.s));
		cli_session_close(&cs);
		return CLI_EXIT_FAILURE;
	}
	text = iscsi_session_text_result(cs.s, &len);
	rc = iscsi_discovery_parse(text, len, &d, &err);
	if (rc < 0) {
		cli_error("discovery at %s: malformed SendTargets answer: %s", o.portal,
			  lb_err_msg(&err, rc));
		cli_session_close(&cs);
		return CLI_EXIT_FAILURE;
	}
	if (o.json)
		cli_print_json(discovery_json(&d, &cs));
	else
		(void)iscsi_discovery_print(&d, cs.portal.addr_str, cs.portal.port,
					    iscsi_session_tpgt(cs.s), stdout);
	iscsi_discovery_free(&d);
	cli_session_close(&cs);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
