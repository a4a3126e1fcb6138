/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a volume says of itself: its state file and `lunbridge list`'s
 * JSON, the device a dead bridge of it left (from that state), and the
 * udev events that make its by-lunbridge link follow the state.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devlink.h"
#include "runtime.h"
#include "volume-internal.h"

#define DEVLINK_TIMEOUT_MS 10000u /* how long udev may take to make the links */

static void add_str(struct json_object *o, const char *k, const char *s)
{
	json_object_object_add(o, k, s ? json_object_new_string(s) : NULL);
}

static void add_u64(struct json_object *o, const char *k, uint64_t n)
{
	json_object_object_add(o, k, json_object_new_uint64(n));
}

static void add_field(void *arg, const char *key, const char *s, uint64_t n)
{
	if (s)
		add_str(arg, key, s);
	else
		add_u64(arg, key, n);
}

static struct json_object *volume_stats_json(struct lb_volume *v)
{
	struct json_object *st = json_object_new_object();
	struct lb_frontend_stats fs = {0};
	struct lb_engine_stats es = {0};
	const struct lb_io_stats *io = &fs.io;

	if (v->fe && v->fops->stats)
		v->fops->stats(v->fe, &fs);
	volume_channels_stats(v, &es);
	add_u64(st, "reads", io->reads);
	add_u64(st, "writes", io->writes);
	add_u64(st, "read_bytes", io->read_bytes);
	add_u64(st, "write_bytes", io->write_bytes);
	add_u64(st, "flushes", io->flushes);
	add_u64(st, "trims", io->trims);
	add_u64(st, "zeroes", io->zeroes);
	add_u64(st, "errors", io->errors);
	add_u64(st, "connections", fs.connections);
	add_u64(st, "sessions", es.sessions + fs.sessions);
	if (v->fe && v->fops->stats_json)
		v->fops->stats_json(v->fe, st);
	add_u64(st, "reconnects", es.reconnects);
	add_u64(st, "timeouts", es.timeouts);
	add_u64(st, "retries", es.retries);
	return st;
}

/* What `lunbridge list` shows; live adds the counters. */
static struct json_object *volume_json(struct lb_volume *v, bool live)
{
	const struct lb_volume_config *cfg = v->cfg;
	struct lb_engine *first = v->primary->e;
	const struct lb_volume_info *vi = &first->info;
	struct json_object *o = json_object_new_object();
	char state[32];

	add_str(o, "name", cfg->name);
	add_u64(o, "pid", (uint64_t)lb_runtime_pid());
	add_str(o, "portal", cfg->portal);
	add_str(o, "target", cfg->target);
	add_u64(o, "lun", cfg->lun);
	add_str(o, "iface", cfg->iface);
	add_str(o, "engine", first->ops->name);
	lb_engine_describe(first, add_field, o);
	add_str(o, "export", v->fe ? v->fops->export_name(v->fe) : NULL);
	add_str(o, "device", v->fe && v->fops->device ? v->fops->device(v->fe) : NULL);
	add_str(o, "state", v->state);
	add_u64(o, "size", vi->size);
	add_u64(o, "block_size", vi->block_size);
	add_str(o, "id", vi->id[0] ? vi->id : NULL);
	add_u64(o, "queues", lb_volume_queues(v));
	add_u64(o, "isid_slots", v->clones_peak);
	if (!live)
		return o;
	json_object_object_add(o, "stats", volume_stats_json(v));
	add_str(o, "session", lb_engine_state(first, state, sizeof(state)));
	return o;
}

static char *volume_json_line(struct lb_volume *v, bool live)
{
	struct json_object *o = volume_json(v, live);
	char *text;

	if (asprintf(&text, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0)
		text = NULL;
	json_object_put(o);
	return text;
}

char *volume_status_line(struct lb_volume *v)
{
	return volume_json_line(v, true);
}

void volume_state_save(struct lb_volume *v)
{
	char *text = volume_json_line(v, false);
	lb_err err = {{0}};

	if (text && lb_runtime_write_state(v->lock, text, &err) < 0)
		lb_volume_log(v, "%s", err.msg);
	free(text);
}

struct lb_stale_device lb_volume_stale_device(const struct lb_volume *v, enum lb_export_kind kind)
{
	struct lb_stale_device sd = {.index = -1};
	struct json_object *o, *x;
	const char *dev, *target, *id;
	const char *want_id = v->primary->e->info.id;
	struct lb_export e;

	if (!v->lock->stale || !(o = json_tokener_parse(v->lock->stale)))
		return sd;
	/* the device as the state names it: /dev/nbdN or /dev/ublkbN */
	if (json_object_object_get_ex(o, "device", &x) && (dev = json_object_get_string(x)) &&
	    lb_export_parse(dev, &e, NULL) == 0 && e.kind == kind && e.index >= 0)
		sd.index = e.index;
	sd.same_lun = json_object_object_get_ex(o, "target", &x) &&
		      (target = json_object_get_string(x)) && strcmp(target, v->cfg->target) == 0 &&
		      json_object_object_get_ex(o, "lun", &x) &&
		      json_object_get_uint64(x) == v->cfg->lun;
	/* the array may have mapped another volume at that LUN since */
	if (sd.same_lun && want_id[0] && json_object_object_get_ex(o, "id", &x) &&
	    (id = json_object_get_string(x)) && id[0] && strcmp(id, want_id) != 0)
		sd.same_lun = false;
	if (json_object_object_get_ex(o, "queues", &x))
		sd.queues = (unsigned)json_object_get_uint64(x);
	json_object_put(o);
	return sd;
}

static bool devlink_handled(void *arg)
{
	return lb_devlink_handled(arg);
}

void volume_devlink_announce(struct lb_volume *v, const char *dev)
{
	struct lb_devlink_wait *w;
	lb_err err = {{0}};

	if (strncmp(dev, "/dev/", 5) != 0)
		return;
	if (lb_devlink_announce(v->loop, dev + 5, &w, &err) < 0) {
		lb_volume_log(v, "warning: %s; its /dev/disk/by-lunbridge link may be missing",
			      err.msg);
		return;
	}
	if (!lb_volume_run_until(v, devlink_handled, w, DEVLINK_TIMEOUT_MS))
		lb_volume_log(v,
			      "warning: udev did not handle %s within %u s; its "
			      "/dev/disk/by-lunbridge link may lag",
			      dev, DEVLINK_TIMEOUT_MS / 1000);
	lb_devlink_wait_free(w);
}

void lb_volume_device_released(struct lb_volume *v)
{
	volume_state_save(v);
	volume_devlink_announce(v, v->fops->where(v->fe));
}
