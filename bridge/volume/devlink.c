/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stable device names: which volume serves a device (for the udev rules),
 * and telling udev when that changes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libudev.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cleanup.h"
#include "devlink.h"
#include "export-uri.h"
#include "nbd-netlink.h"
#include "runtime.h"

#define UDEV_CONTROL "/run/udev/control"

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '-';
}

void lb_devlink_sanitize(const char *in, char *out, size_t len)
{
	size_t i = 0;

	if (!len)
		return;
	for (; in[i] && i + 1 < len; i++)
		out[i] = id_char(in[i]) ? in[i] : '_';
	out[i] = '\0';
	/* "." and ".." are not names a link may have */
	if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		memset(out, '_', strlen(out));
}

bool lb_devlink_sysname_ok(const char *sysname)
{
	size_t n = strlen(sysname);

	if (n == 0 || n > 32 || strcmp(sysname, ".") == 0 || strcmp(sysname, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!id_char(sysname[i]) || sysname[i] == ':')
			return false;
	return true;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int lb_devlink_match(const char *state, const char *sysname, struct lb_devlink_props *ret)
{
	json_object *o = json_tokener_parse(state);
	const char *name, *dev, *id;
	int r = 0;

	if (!o || !json_object_is_type(o, json_type_object) || !(name = get_str(o, "name")) ||
	    strlen(name) >= sizeof(ret->name) || lb_runtime_name_check(name, NULL) < 0) {
		json_object_put(o);
		return -EINVAL;
	}
	dev = get_str(o, "device");
	if (dev && strncmp(dev, "/dev/", 5) == 0 && strcmp(dev + 5, sysname) == 0) {
		snprintf(ret->name, sizeof(ret->name), "%s", name);
		id = get_str(o, "id");
		lb_devlink_sanitize(id ? id : "", ret->id, sizeof(ret->id));
		r = 1;
	}
	json_object_put(o);
	return r;
}

/* A dead bridge's device still waits for its successor: an NBD device
 * still bound to the volume, a ublk device still there. */
static bool left_waiting(const char *sysname, const char *name)
{
	char path[80];
	struct lb_export e;

	snprintf(path, sizeof(path), "/dev/%s", sysname);
	if (lb_export_parse(path, &e, NULL) < 0 || e.index < 0)
		return false;
	if (e.kind == LB_EXPORT_NBD_KERNEL)
		return lb_nbd_netlink_bound_to((unsigned)e.index, name);
	if (e.kind != LB_EXPORT_UBLK)
		return false;
	snprintf(path, sizeof(path), "/sys/class/block/%s", sysname);
	return access(path, F_OK) == 0;
}

int lb_devlink_find(const char *dir, const char *sysname, struct lb_devlink_props *ret,
		    lb_err *err)
{
	char **names = NULL;
	size_t n = 0;
	int found = 0, r;

	r = lb_runtime_list_states(dir, &names, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *text = NULL;
		struct lb_devlink_props p;
		bool live;

		/* a state file can vanish under us: its volume just detached */
		if (lb_runtime_read_state_file(dir, names[i], &text, NULL) < 0 ||
		    lb_devlink_match(text, sysname, &p) != 1 || strcmp(p.name, names[i]) != 0)
			continue;
		live = lb_runtime_live(dir, names[i]);
		if (live) {
			*ret = p;
			found = 1;
			break;
		}
		if (!found && left_waiting(sysname, p.name)) {
			*ret = p;
			found = 1;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return found;
}

/* ---- telling udev ---- */

#define PARTS_MAX 64 /* partitions waited for; more are sent the event only */

struct lb_devlink_wait {
	struct lb_op op; /* POLL_ADD on the monitor's socket */
	struct lb_loop *loop;
	struct udev *udev;
	struct udev_monitor *mon;
	char uuid[37];
	/* the disk, then its partitions: each handled once udev says so */
	char names[PARTS_MAX + 1][34];
	bool seen[PARTS_MAX + 1];
	unsigned n, pending;
	bool handled, orphan;
};

/* Write "change UUID" to /sys/class/block/sysname[/part]/uevent. */
static int write_change(const char *sysname, const char *part, const char *uuid)
{
	char path[256], text[64];
	_cleanup_close_ int fd = -1;
	int n;

	if (part)
		snprintf(path, sizeof(path), "/sys/class/block/%s/%s/uevent", sysname, part);
	else
		snprintf(path, sizeof(path), "/sys/class/block/%s/uevent", sysname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(text, sizeof(text), "change %s", uuid);
	if (write(fd, text, (size_t)n) != n)
		return errno ? -errno : -EIO;
	return 0;
}

/* Every partition of sysname (its subdirectories sysnameN, sysnamepN);
 * the first PARTS_MAX sent the event go into w's list (w: NULL, none). */
static void change_partitions(const char *sysname, const char *uuid, struct lb_devlink_wait *w)
{
	char path[256];
	size_t n = strlen(sysname);
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/block/%s", sysname);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, sysname, n) == 0 && de->d_name[n] &&
		    strlen(de->d_name) < sizeof(w->names[0]) &&
		    write_change(sysname, de->d_name, uuid) == 0 && w && w->n <= PARTS_MAX) {
			snprintf(w->names[w->n++], sizeof(w->names[0]), "%s", de->d_name);
			w->pending++;
		}
	closedir(d);
}

static void wait_destroy(struct lb_devlink_wait *w)
{
	if (w->mon)
		udev_monitor_unref(w->mon);
	if (w->udev)
		udev_unref(w->udev);
	free(w);
}

static int arm(struct lb_devlink_wait *w);

static void on_poll(struct lb_op *op, int res, uint32_t flags)
{
	struct lb_devlink_wait *w = (struct lb_devlink_wait *)op;
	struct udev_device *d;

	if (w->orphan) {
		wait_destroy(w);
		return;
	}
	if (res < 0)
		return; /* the watch ends; the caller's deadline decides */
	while ((d = udev_monitor_receive_device(w->mon))) {
		const char *sys = udev_device_get_sysname(d);
		const char *uuid = udev_device_get_property_value(d, "SYNTH_UUID");

		if (sys && uuid && strcmp(uuid, w->uuid) == 0)
			for (unsigned i = 0; i < w->n; i++)
				if (!w->seen[i] && strcmp(sys, w->names[i]) == 0) {
					w->seen[i] = true;
					w->pending--;
				}
		udev_device_unref(d);
	}
	w->handled = w->pending == 0;
	if (!w->handled)
		(void)arm(w);
}

static int arm(struct lb_devlink_wait *w)
{
	struct io_uring_sqe *sqe;
	int r = lb_loop_sqe(w->loop, &w->op, &sqe);

	if (r < 0)
		return r;
	io_uring_prep_poll_add(sqe, udev_monitor_get_fd(w->mon), POLLIN);
	return 0;
}

static void make_uuid(char out[37])
{
	uint8_t b[16] = {0};

	if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
		/* the uuid only tells our event from others: time will do */
		uint64_t t = lb_now_ms() ^ ((uint64_t)getpid() << 32);

		memcpy(b, &t, sizeof(t));
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

int lb_devlink_announce(struct lb_loop *loop, const char *sysname, struct lb_devlink_wait **ret,
			lb_err *err)
{
	struct lb_devlink_wait *w = NULL;
	char uuid[37];
	int r;

	*ret = NULL;
	if (!lb_devlink_sysname_ok(sysname))
		return lb_err_set(err, EINVAL, "'%s' is not a block device name", sysname);
	make_uuid(uuid);
	if (access(UDEV_CONTROL, F_OK) == 0) {
		/* listen before sending, so the answer cannot be missed */
		w = calloc(1, sizeof(*w));
		if (!w)
			return lb_err_set(err, ENOMEM, "out of memory");
		lb_op_init(&w->op, on_poll);
		w->loop = loop;
		snprintf(w->names[0], sizeof(w->names[0]), "%s", sysname);
		w->n = w->pending = 1;
		memcpy(w->uuid, uuid, sizeof(uuid));
		w->udev = udev_new();
		w->mon = w->udev ? udev_monitor_new_from_netlink(w->udev, "udev") : NULL;
		r = w->mon ? udev_monitor_filter_add_match_subsystem_devtype(w->mon, "block", NULL)
			   : -ENOMEM;
		/* room for a burst of other devices' events (boot) before ours */
		if (r >= 0)
			(void)udev_monitor_set_receive_buffer_size(w->mon, 4 << 20);
		if (r >= 0)
			r = udev_monitor_enable_receiving(w->mon);
		if (r >= 0)
			r = arm(w);
		if (r < 0) {
			wait_destroy(w);
			return lb_err_set(err, -r, "cannot watch udev events: %s", strerror(-r));
		}
	}
	r = write_change(sysname, NULL, uuid);
	if (r < 0) {
		lb_devlink_wait_free(w);
		return lb_err_set(err, -r, "cannot send a change event for /dev/%s: %s", sysname,
				  strerror(-r));
	}
	change_partitions(sysname, uuid, w);
	*ret = w;
	return 0;
}

bool lb_devlink_handled(struct lb_devlink_wait *w)
{
	return !w || w->handled;
}

void lb_devlink_wait_free(struct lb_devlink_wait *w)
{
	if (!w)
		return;
	if (w->op.busy) {
		w->orphan = true;
		(void)lb_loop_cancel(w->loop, &w->op);
		return;
	}
	wait_destroy(w);
}
