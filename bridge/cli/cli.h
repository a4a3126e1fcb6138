/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line: `lunbridge SUBCOMMAND [ARGS]`.
 *
 * Every subcommand is `int cli_X(int argc, char **argv)` returning the exit
 * status; argv[0] is the subcommand's own name, so getopt_long works on it
 * unchanged.  Errors are printed by the subcommand as one line through
 * cli_error() and the process exits non-zero.
 */
#ifndef LUNBRIDGE_CLI_H
#define LUNBRIDGE_CLI_H

#include <stdbool.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "hw.h"
#include "iface.h"
#include "lb-err.h"
#include "route.h"

DEFINE_CLEANUP_FUNC(iface_store, iface_store_free)
DEFINE_CLEANUP_FUNC(iface_rec, iface_rec_free)
DEFINE_CLEANUP_FUNC(iface_list, iface_list_free)
DEFINE_CLEANUP_FUNC(json_object, json_object_put)

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1, /* the operation failed */
	CLI_EXIT_USAGE = 2,   /* bad flag or argument */
};

/* "lunbridge: " + message + "\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: the message, then "Try 'lunbridge CMD --help'." */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Options taken out of argv before getopt (attach's multipath and TLS
 * options): "--opt VALUE", "--opt=VALUE", or a flag (value NULL).  Each
 * found calls take(arg, its index in opts, value), which returns -1 to go
 * on or an exit status to stop with; argv keeps the rest (and all after
 * "--"), *argc shrinks.  -1, or the exit status (take's, or a usage error
 * for a missing value). */
struct cli_opt {
	const char *name;
	bool flag;
};
int cli_take_opts(const char *cmd, int *argc, char **argv, const struct cli_opt *opts, size_t n,
		  int (*take)(void *arg, int k, char *value), void *arg);

/* Options every iface subcommand takes. */
#define CLI_IFACE_COMMON_HELP                                                                      \
	"      --iface-dir DIR   record directory (default: $LUNBRIDGE_IFACE_DIR, else\n"          \
	"                        the one open-iscsi uses)\n"                                       \
	"      --json            print JSON\n"                                                     \
	"  -h, --help            this text\n"

/* The options of the iface subcommands. */
typedef struct cli_iface_opts {
	const char *cmd; /* "iface show", for messages */
	const char *dir;
	const char *name;
	const char *key;
	const char *value;
	const char *portal;
	bool value_given;
	bool json;
} cli_iface_opts;

/*
 * Parse an iface subcommand's options.  Every one takes --iface-dir and
 * --help; WANT lists the others it takes, each then required: 'I' (-I
 * NAME), 'n' (-n iface.KEY), 'v' (-v VALUE), 'p' (-p/--portal), and 'j'
 * (--json, optional).  Returns -1 to go on, else the exit status.
 */
int cli_iface_parse_opts(int argc, char **argv, const char *want, const char *help,
			 cli_iface_opts *o);

/* Open the record directory named by --iface-dir (NULL: the default);
 * prints the error itself.  Returns 0 or an exit status. */
int cli_open_store(const char *dir, iface_store **ret);

/* Print O (pretty, newline-terminated) on stdout and drop the reference. */
void cli_print_json(json_object *o);
/* A record as a JSON object: {"name": ..., "iface.KEY": value|null, ...}. */
json_object *cli_iface_rec_json(const iface_rec *r);

/* The iface subcommands. */
int cli_iface(int argc, char **argv);
int cli_iface_list(int argc, char **argv);
int cli_iface_show(int argc, char **argv);
int cli_iface_new(int argc, char **argv);
int cli_iface_update(int argc, char **argv);
int cli_iface_delete(int argc, char **argv);
int cli_iface_generate(int argc, char **argv); /* cli-iface-hw.c */
int cli_iface_check(int argc, char **argv);    /* cli-iface-hw.c */
int cli_iface_resolve(int argc, char **argv);  /* cli-iface-route.c */

/* The route to a portal and the iface record a session to it should use
 * (cli-iface-route.c; `iface resolve` and `attach -I auto`). */
typedef struct cli_route_pick {
	iface_route rt;
	iface_netdev dev;    /* the route's device; name and MAC point into rt or found */
	iface_netdev *found; /* udev's view of it, NULL if udev has none */
	iface_route_choice choice;
} cli_route_pick;

/* Look the route up in the kernel and choose among the records in DIR
 * (NULL: the default directory).  Prints the one error line itself;
 * returns 0 or an exit status. */
int cli_route_pick_find(const char *dir, const iface_route_portal *portal, cli_route_pick *ret);
/* "dev veth-a via GW src ADDR (MAC, driver D): why the record", no newline. */
void cli_route_pick_describe(const cli_route_pick *pick, char *buf, size_t len);
void cli_route_pick_clear(cli_route_pick *pick);

/* Talking to targets with our own initiator. */
int cli_discover(int argc, char **argv); /* cli-discover.c */
int cli_luns(int argc, char **argv);	 /* cli-luns.c */
int cli_attach(int argc, char **argv);	 /* cli-attach.c */
int cli_list(int argc, char **argv);	 /* cli-list.c */
int cli_detach(int argc, char **argv);	 /* cli-detach.c */
int cli_volume(int argc, char **argv);	 /* cli-volume.c */
int cli_udev(int argc, char **argv);	 /* cli-udev.c */

#endif
