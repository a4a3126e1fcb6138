/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * attach's paths (docs/MULTIPATH.md): the options that give a volume more
 * than one path (--path, --paths, --all-portals) and how it uses them
 * (--path-policy, --failback, --no-path-timeout), and the sessions of the
 * further paths, logged in beside the first and joined with it into the
 * multipath engine.
 */
#ifndef LUNBRIDGE_ATTACH_MULTIPATH_H
#define LUNBRIDGE_ATTACH_MULTIPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "cli-session.h"
#include "engine-iscsi.h"
#include "multipath.h"

#define CLI_MPATH_HELP                                                                             \
	"      --path PORTAL[,IQN[,LUN[,IFACE]]]  one more path to the same LU\n"                  \
	"                              (repeatable; missing fields from -T/-l/-I)\n"               \
	"      --paths 'PATH PATH ...' the same, several at once (NAME.conf's paths)\n"            \
	"      --all-portals           a path to every portal SendTargets reports\n"               \
	"                              for the target\n"                                           \
	"      --path-policy failover|round-robin|queue-length   within the best\n"                \
	"                              ALUA group (default failover)\n"                            \
	"      --failback immediate|SECONDS  when a returning path is used again\n"                \
	"                              (default immediate)\n"                                      \
	"      --no-path-timeout SECONDS  with no path, I/O waits this long, then\n"               \
	"                              fails (default 60)\n"

struct cli_mpath_path {
	cli_session_opts o;
	cli_session cs;
	bool cs_open;
	char spec[512]; /* the --path value, cut into o's fields */
	char portal[300];
	char key[300]; /* its ISIDs' key: the volume's name and the path */
	struct lb_engine *engine;
};

struct cli_mpath {
	/* options */
	char *specs[LB_ENGINE_ISCSI_PATHS];
	size_t n_specs;
	bool all_portals;
	bool wanted; /* any multipath option: the engine is multipath */
	struct lb_mpath_config cfg;
	/* the paths after the first */
	struct cli_mpath_path paths[LB_ENGINE_ISCSI_PATHS - 1];
	size_t n;
};

/* Take the multipath options out of argv (*argc shrinks) into mp, before
 * the common options are parsed.  -1 to go on, else the exit status (a
 * usage error was printed). */
int cli_mpath_take_opts(const char *cmd, int *argc, char **argv, struct cli_mpath *mp);
/* The paths given (not --all-portals' ones), checked as attach would
 * (portals parsed, fields filled); 0 or the exit status after one line. */
int cli_mpath_check(const cli_session_opts *o, struct cli_mpath *mp);
/* When multipath is wanted: log in every further path on cs's loop
 * (ISIDs from name and the path's number), build its engine, and join
 * them with *engine (the first path's, on cs) into the multipath engine,
 * which replaces *engine.  0, or -errno with err naming the path. */
int cli_mpath_build(const cli_session_opts *o, cli_session *cs, const char *name,
		    struct cli_mpath *mp, struct lb_engine **engine, lb_err *err);
/* Close what the further paths left (the engine has their sessions). */
void cli_mpath_close(struct cli_mpath *mp);

#endif
