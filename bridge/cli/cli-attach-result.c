/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What attach does for orchestrators (OpenNebula's drivers, os-brick):
 * `-I auto` (the iface the route to the portal leaves by), an attach of
 * a volume that already serves the same LUN on the same export (its
 * device or URI again, exit 0), and `--json` (the result as one object).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli-attach-result.h"
#include "cli.h"
#include "export-uri.h"
#include "runtime.h"

int cli_attach_auto_iface(cli_session_opts *o, char *buf, size_t len,
			  void (*log)(void *arg, const char *line), void *log_arg)
{
	cli_route_pick pick = {0};
	iface_route_portal portal;
	char why[512], line[800];
	lb_err err = {{0}};
	int r;

	r = iface_route_parse_portal(o->portal, &portal, &err);
	if (r < 0) {
		cli_error("portal '%s': %s", o->portal, lb_err_msg(&err, r));
		return CLI_EXIT_USAGE;
	}
	r = cli_route_pick_find(o->iface_dir, &portal, &pick);
	if (r)
		return r;
	cli_route_pick_describe(&pick, why, sizeof(why));
	/* an offload port nobody made a record for: the route still leaves
	 * by that NIC, and tcp on 'default' follows the route */
	snprintf(buf, len, "%s", pick.choice.exists ? pick.choice.iface : "default");
	snprintf(line, sizeof(line), "iface auto: '%s' for portal %s (%s%s)", buf, portal.addr_str,
		 why, pick.choice.exists ? "" : "; 'default' until that record exists");
	log(log_arg, line);
	cli_route_pick_clear(&pick);
	o->iface = buf;
	return 0;
}

static const char *json_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

/* A live volume's status: from the bridge (its live state: "detaching"
 * shows there first), else its state file; NULL if it has neither yet. */
static json_object *live_status(const char *dir, const char *name)
{
	_cleanup_free_ char *text = NULL;
	json_object *o = NULL;
	lb_err err = {{0}};

	if (lb_runtime_request(dir, name, "status", 2000, &text, &err) == 0)
		o = json_tokener_parse(text);
	if (!o) {
		free(text);
		text = NULL;
		if (lb_runtime_read_state(dir, name, &text, &err) == 0)
			o = json_tokener_parse(text);
	}
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* Does the volume O serve what EXP asks for?  Kernel devices: the same
 * kind, and the same index when one is asked for; NBD servers: the same
 * canonical URI. */
static bool same_export(json_object *o, const struct lb_export *exp)
{
	const char *dev = json_str(o, "device"), *have = json_str(o, "export");
	char want[LB_EXPORT_FORMAT_MAX];
	struct lb_export d;

	if (!have)
		return false;
	switch (exp->kind) {
	case LB_EXPORT_NBD_KERNEL:
	case LB_EXPORT_UBLK:
		if (!dev || lb_export_parse(dev, &d, NULL) < 0 || d.kind != exp->kind)
			return false;
		return exp->index < 0 || exp->index == d.index;
	case LB_EXPORT_NBD_UNIX:
	case LB_EXPORT_NBD_TCP:
		return lb_export_format(exp, want, sizeof(want)) == 0 && strcmp(want, have) == 0;
	}
	return false;
}

/* How long an attach waits for a bridge of the same name that is still
 * starting (an orchestrator's retry racing its first attempt): a login and
 * the LUN's inventory take seconds, a target being slow more. */
#define STARTING_WAIT_MS 60000

/* The status of NAME's live bridge once it is past starting; NULL when it
 * is not alive (any more) or still starting after STARTING_WAIT_MS. */
static json_object *started_status(const char *dir, const char *name)
{
	const struct timespec tick = {.tv_nsec = 200 * 1000 * 1000};
	json_object *st;
	const char *state;

	for (unsigned waited = 0;; waited += 200) {
		if (!lb_runtime_live(dir, name))
			return NULL;
		st = live_status(dir, name);
		state = st ? json_str(st, "state") : NULL;
		if (state && strcmp(state, "starting") != 0)
			return st;
		json_object_put(st);
		if (waited >= STARTING_WAIT_MS)
			return NULL;
		(void)nanosleep(&tick, NULL);
	}
}

char *cli_attach_existing(const cli_session_opts *o, const struct lb_export *exp, const char *name)
{
	const char *dir = lb_runtime_dir(), *state, *target, *where;
	char *text;
	json_object *st, *v;
	bool same;

	/* not attached (or still starting after a minute: the lock says it
	 * is taken) */
	st = started_status(dir, name);
	if (!st)
		return NULL;
	state = json_str(st, "state");
	target = json_str(st, "target");
	/* the same LUN (target and number) on the same export; the portal
	 * may differ, as another path to the same LUN would */
	same = state && strcmp(state, "ready") == 0 && target && strcmp(target, o->target) == 0 &&
	       json_object_object_get_ex(st, "lun", &v) && v &&
	       json_object_get_uint64(v) == o->lun && same_export(st, exp);
	if (!same) {
		json_object_put(st);
		return NULL; /* the lock refuses it, naming the bridge */
	}
	where = json_str(st, "device") ? json_str(st, "device") : json_str(st, "export");
	text = cli_attach_result_from(st, where, o->json, true);
	json_object_put(st);
	return text;
}

/* The LUN's identifier as scsi_id(8) prints it (ID_SERIAL, what os-brick
 * and multipath call the WWN): NAA "3", EUI-64 "2", T10 "1" before the
 * designator; a SCSI name string as it is. */
static void scsi_wwn(const char *id, char *buf, size_t len)
{
	static const struct {
		const char *prefix, *type;
	} types[] = {{"naa.", "3"}, {"eui.", "2"}, {"t10.", "1"}};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strncmp(id, types[i].prefix, 4) == 0) {
			snprintf(buf, len, "%s%s", types[i].type, id + 4);
			for (char *p = buf; *p; p++)
				if (*p == ' ')
					*p = '_';
			return;
		}
	snprintf(buf, len, "%s", id);
}

static void copy_key(json_object *to, json_object *from, const char *key)
{
	json_object *v = NULL;

	(void)json_object_object_get_ex(from, key, &v);
	json_object_object_add(to, key, v ? json_object_get(v) : NULL);
}

char *cli_attach_result_from(json_object *st, const char *where, bool json, bool already)
{
	static const char *const keys[] = {"name", "export", "iface", "portal", "target",
					   "lun",  "id",     "size",  "engine"};
	const char *dev = json_str(st, "device"), *exp = json_str(st, "export"),
		   *id = json_str(st, "id"), *name = json_str(st, "name");
	json_object *o;
	char wwn[300], link[128];
	char *text;

	if (!json) {
		if (asprintf(&text, "%s\n", where) < 0)
			return NULL;
		return text;
	}
	o = json_object_new_object();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		copy_key(o, st, keys[i]);
	json_object_object_add(o, "device", dev ? json_object_new_string(dev) : NULL);
	/* the NBD server's URI; a kernel device has none */
	json_object_object_add(o, "uri",
			       exp && strncmp(exp, "nbd", 3) == 0 && strstr(exp, "://")
				       ? json_object_new_string(exp)
				       : NULL);
	/* udev's stable name for the device (60-lunbridge.rules) */
	if (dev && name)
		snprintf(link, sizeof(link), "/dev/disk/by-lunbridge/%s", name);
	json_object_object_add(o, "link", dev && name ? json_object_new_string(link) : NULL);
	if (id && *id)
		scsi_wwn(id, wwn, sizeof(wwn));
	json_object_object_add(o, "wwn", id && *id ? json_object_new_string(wwn) : NULL);
	json_object_object_add(o, "already_attached", json_object_new_boolean(already));
	if (asprintf(&text, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0)
		text = NULL;
	json_object_put(o);
	return text;
}

char *cli_attach_result(const char *name, const char *where, bool json)
{
	_cleanup_free_ char *state = NULL;
	json_object *st = NULL;
	lb_err err = {{0}};
	char *text;

	if (json && lb_runtime_read_state(lb_runtime_dir(), name, &state, &err) == 0)
		st = json_tokener_parse(state);
	if (json && !st) {
		/* the volume wrote its state before it called ready; without
		 * it, the name and where are all there is to say */
		st = json_object_new_object();
		json_object_object_add(st, "name", json_object_new_string(name));
	}
	text = cli_attach_result_from(st, where, json, false);
	json_object_put(st);
	return text;
}
