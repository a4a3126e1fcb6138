/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * attach for orchestrators (cli-attach-result.c): `-I auto`, attaching
 * what is already attached, and `--json`.
 */
#ifndef LUNBRIDGE_CLI_ATTACH_RESULT_H
#define LUNBRIDGE_CLI_ATTACH_RESULT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "cli-session.h"
#include "export-uri.h"

/* `-I auto`: the record the route to o->portal leaves by (as `iface
 * resolve` chooses it; 'default' when that is an offload port with no
 * record yet), written into buf and made o->iface; the choice is logged
 * through log.  0, or an exit status (the error said). */
int cli_attach_auto_iface(cli_session_opts *o, char *buf, size_t len,
			  void (*log)(void *arg, const char *line), void *log_arg);

/* Volume name is already served (its bridge alive and past starting,
 * waited for up to a minute) with the same target, LUN and export (a
 * kernel device of the kind asked for, the index too if one is asked; an
 * NBD server at the same URI): what attach prints (its device or URI, or
 * the --json object), malloc'd.  NULL otherwise (or out of memory): the
 * caller goes on, and a bridge serving anything else under the name makes
 * the attach fail as before. */
char *cli_attach_existing(const cli_session_opts *o, const struct lb_export *exp, const char *name);

/* The text attach prints once serving, newline-terminated, malloc'd (NULL
 * when out of memory): where, or with json the volume's state (read from
 * its state file) as one line of JSON: name, device, uri, link, export,
 * iface, portal, target, lun, id, wwn, size, engine, already_attached. */
char *cli_attach_result(const char *name, const char *where, bool json);
/* The same from a state object ST (as `list --json` gives it). */
char *cli_attach_result_from(json_object *st, const char *where, bool json, bool already);

#endif
