/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `lunbridge volume check NAME`: a configured volume, checked without
 * touching the target. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-session.h"
#include "cli.h"
#include "export-uri.h"
#include "hw.h"
#include "runtime.h"
#include "attach-multipath.h"
#include "volume-conf.h"

static const char volume_help[] =
	"Usage: lunbridge volume check NAME\n"
	"\n"
	"Check the volume configured in $LUNBRIDGE_CONF_DIR/NAME.conf (default\n"
	LB_CONF_DIR_DEFAULT "/NAME.conf), as `lunbridge attach NAME` would run it,\n"
	"without logging in: every key known and set once, the values valid, the\n"
	"portal an address, the iface record there (and for offload and iser, its\n"
	"hardware), the CHAP secret files readable and private.  Prints one line\n"
	"and exits 0 when the volume can be attached; else one line naming the\n"
	"problem (file and line for a syntax error) and exit 1 (2 for a bad value).\n"
	"See lunbridge-volume.conf(5).\n";

static int volume_check(const char *name)
{
	static struct cli_mpath mp;
	cli_session_opts o = {.cmd = "volume check", .mpath = &mp};
	struct lb_volume_conf c;
	struct lb_export exp;
	char vname[LB_VOLUME_NAME_MAX + 1];
	iface_transport_kind kind;
	lb_err err = {{0}};
	cli_session cs;
	char **av;
	int r, rc, n;

	r = lb_runtime_name_check(name, &err);
	if (r < 0)
		return cli_usage_error(o.cmd, "%s", lb_err_msg(&err, r));
	r = lb_volume_conf_load(lb_conf_dir(), name, &c, &err);
	if (r < 0) {
		cli_error("volume %s: %s", name, lb_err_msg(&err, r));
		return CLI_EXIT_FAILURE;
	}
	av = lb_volume_conf_argv(&c, (char *)"attach", (char *)name, NULL, 0, &n);
	if (!av) {
		lb_volume_conf_clear(&c);
		cli_error("out of memory");
		return CLI_EXIT_FAILURE;
	}
	rc = cli_attach_parse(n, av, &o, &exp, vname, sizeof(vname));
	if (rc < 0)
		rc = cli_session_resolve(&o, &cs);
	if (rc == 0) {
		kind = iface_transport_kind_of(iface_rec_transport(cs.rec));
		if ((kind == IFACE_TRANSPORT_OFFLOAD || kind == IFACE_TRANSPORT_ISER ||
		     (o.engine && strcmp(o.engine, "kernel") == 0)) &&
		    (r = iface_hw_check(cs.rec, &err)) < 0) {
			cli_error("volume %s: iface '%s': %s%s", name, iface_rec_name(cs.rec),
				  lb_err_msg(&err, r),
				  o.no_fallback ? "" : " (attach would fall back to tcp)");
			rc = o.no_fallback ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
		}
		if (rc == 0)
			printf("volume %s: ok: %s LUN %u at %s on iface %s, export %s\n", name,
			       o.target, o.lun, o.portal, iface_rec_name(cs.rec), o.export);
		if (rc == 0 && mp.wanted)
			printf("volume %s: %zu more path%s%s, policy %s, failback %s%u s, no-path "
			       "timeout %u s\n",
			       name, mp.n_specs, mp.n_specs == 1 ? "" : "s",
			       mp.all_portals ? " and every portal SendTargets reports" : "",
			       lb_mpath_policy_name(mp.cfg.policy),
			       mp.cfg.failback_ms ? "after " : "immediate, ",
			       mp.cfg.failback_ms / 1000, mp.cfg.no_path_timeout_ms / 1000);
		cli_session_close(&cs);
	}
	free(av);
	lb_volume_conf_clear(&c);
	return rc;
}

int cli_volume(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(volume_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "check") != 0)
		return cli_usage_error("volume", "unknown volume command '%s' (check)", argv[1]);
	if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		fputs(volume_help, stdout);
		return CLI_EXIT_OK;
	}
	if (argc != 3)
		return cli_usage_error("volume", argc < 3 ? "which volume? Name it"
							  : "unexpected argument '%s'",
				       argc < 3 ? "" : argv[3]);
	return volume_check(argv[2]);
}
