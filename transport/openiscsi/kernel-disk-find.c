/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A LUN of an open-iscsi session as the kernel shows it (kernel-disk.h): its
 * SCSI device (H:C:T:L), the disk below that, and waiting on a udev
 * monitor for both to appear and for udev to finish with the disk.
 */
#include <errno.h>
#include <libudev.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "kernel-disk-internal.h"
#include "loop.h"
#include "udev-cleanup.h"

/* udevd's control socket: where it is missing, no udevd runs (a container,
 * a minimal initrd), nothing ever initializes a device and udev-sourced
 * monitors hear nothing.  A variable so that the unit tests, which include
 * this file, can choose either path whatever the machine runs. */
static const char *kernel_disk_udev_control = "/run/udev/control";

/* ---- LUNs and disks --------------------------------------------------- */

int lb_kernel_disk_find_lun(struct udev *u, const struct lb_kernel_disk_session *s, uint64_t lun,
			    char *hctl, size_t len)
{
	_cleanup_udev_device_ struct udev_device *sd = NULL;
	_cleanup_udev_enumerate_ struct udev_enumerate *e = NULL;
	struct udev_list_entry *le;
	int r;

	sd = udev_device_new_from_syspath(u, s->syspath);
	if (!sd)
		return -ENOENT; /* the session is gone */
	r = kernel_disk_enumerate_below(u, "scsi", sd, &e);
	if (r < 0)
		return r;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e))
	{
		_cleanup_udev_device_ struct udev_device *d =
			udev_device_new_from_syspath(u, udev_list_entry_get_name(le));
		const char *name = d ? udev_device_get_sysname(d) : NULL;
		const char *type = d ? udev_device_get_devtype(d) : NULL;
		unsigned h;
		uint64_t l;

		if (!name || !kernel_disk_streq(type, "scsi_device") ||
		    lb_kernel_disk_parse_hctl(name, &h, NULL, NULL, &l) < 0 || h != s->host ||
		    l != lun)
			continue;
		if (strlen(name) >= len)
			return -ENOBUFS;
		strcpy(hctl, name);
		return 0;
	}
	return -ENOENT;
}

/* find_disk, and the SCSI peripheral type it found (-1 if unreadable). */
static int find_disk_typed(struct udev *u, const char *hctl, struct udev_device **ret, int *type)
{
	_cleanup_udev_device_ struct udev_device *sd = NULL;
	_cleanup_udev_enumerate_ struct udev_enumerate *e = NULL;
	struct udev_list_entry *le;
	char text[16];
	uint64_t t;
	int r;

	*type = -1;
	if (lb_kernel_disk_parse_hctl(hctl, NULL, NULL, NULL, NULL) < 0)
		return -EINVAL;
	sd = udev_device_new_from_subsystem_sysname(u, "scsi", hctl);
	if (!sd || !kernel_disk_streq(udev_device_get_devtype(sd), "scsi_device"))
		return -ENOENT;
	if (kernel_disk_sysattr_copy(sd, "type", text, sizeof(text)) == 0 &&
	    kernel_disk_parse_dec(text, strlen(text), 0x1f, &t) == 0)
		*type = (int)t;
	if (*type != 0)
		return -ENOTBLK;
	r = kernel_disk_enumerate_below(u, "block", sd, &e);
	if (r < 0)
		return r;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e))
	{
		struct udev_device *d =
			udev_device_new_from_syspath(u, udev_list_entry_get_name(le));

		if (d && kernel_disk_streq(udev_device_get_devtype(d), "disk")) {
			*ret = d;
			return 0;
		}
		udev_device_unref(d);
	}
	return -ENOENT;
}

int lb_kernel_disk_find_disk(struct udev *u, const char *hctl, struct udev_device **ret)
{
	int type;

	return find_disk_typed(u, hctl, ret, &type);
}

/* ---- waiting for the disk --------------------------------------------- */

/* How far a look got. */
enum kernel_disk_stage {
	STAGE_NO_LUN,	 /* no SCSI device for the LUN */
	STAGE_NO_DISK,	 /* a SCSI device, no block device below it */
	STAGE_NOT_READY, /* a block device udev has not finished with */
};

struct kernel_disk_look {
	enum kernel_disk_stage stage;
	char hctl[64];
	char disk[64];
	int type;
};

/* The disk's node is there, a block device with the disk's number. */
static bool node_ready(struct udev_device *d)
{
	const char *node = udev_device_get_devnode(d);
	struct stat st;

	return node && stat(node, &st) == 0 && S_ISBLK(st.st_mode) &&
	       st.st_rdev == udev_device_get_devnum(d);
}

/* One look for the disk: 0 and *ret when it is ready, -ENOENT (lk says how
 * far it got) when not yet, another -errno when it never will be. */
static int look(struct udev *u, const struct lb_kernel_disk_session *s, uint64_t lun,
		bool need_init, struct udev_device **ret, struct kernel_disk_look *lk)
{
	_cleanup_udev_device_ struct udev_device *d = NULL;
	int r;

	lk->stage = STAGE_NO_LUN;
	r = lb_kernel_disk_find_lun(u, s, lun, lk->hctl, sizeof(lk->hctl));
	if (r == -ENOENT) {
		_cleanup_udev_device_ struct udev_device *sd =
			udev_device_new_from_syspath(u, s->syspath);

		if (!sd)
			return -ENODEV; /* the session itself is gone */
	}
	if (r < 0)
		return r;
	lk->stage = STAGE_NO_DISK;
	r = find_disk_typed(u, lk->hctl, &d, &lk->type);
	if (r < 0)
		return r;
	lk->stage = STAGE_NOT_READY;
	(void)snprintf(lk->disk, sizeof(lk->disk), "%s", udev_device_get_sysname(d));
	if ((need_init && udev_device_get_is_initialized(d) <= 0) || !node_ready(d))
		return -ENOENT;
	*ret = TAKE_PTR(d);
	return 0;
}

static int wait_failed(lb_err *err, int r, const struct lb_kernel_disk_session *s, uint64_t lun,
		       const struct kernel_disk_look *lk, bool need_init)
{
	unsigned long long l = lun;

	if (r == -ENOTBLK)
		return lb_err_set(err, r, "LUN %llu of session %u (%s) is not a disk: SCSI type %d",
				  l, s->sid, lk->hctl, lk->type);
	if (r == -ENODEV)
		return lb_err_set(err, r, "session %u (%s) is gone: logged out or reinstated",
				  s->sid, s->target);
	if (r != -ETIMEDOUT)
		return lb_err_set(err, r, "cannot look for LUN %llu of session %u: %s", l, s->sid,
				  strerror(-r));
	switch (lk->stage) {
	case STAGE_NO_LUN:
		return lb_err_set(err, r,
				  "LUN %llu of session %u was never scanned: "
				  "the kernel shows no SCSI device for it on host%u",
				  l, s->sid, s->host);
	case STAGE_NO_DISK:
		return lb_err_set(err, r,
				  "LUN %llu of session %u is SCSI device %s, "
				  "but its disk never appeared (is sd_mod loaded?)",
				  l, s->sid, lk->hctl);
	default:
		return lb_err_set(err, r,
				  "LUN %llu of session %u is disk %s (%s), "
				  "but it never became ready: %s",
				  l, s->sid, lk->disk, lk->hctl,
				  need_init ? "udev has not finished with it or its node is missing"
					    : "its node is missing");
	}
}

int lb_kernel_disk_wait_disk(struct udev *u, const struct lb_kernel_disk_session *s, uint64_t lun,
			     uint32_t timeout_ms, struct udev_device **ret, lb_err *err)
{
	_cleanup_udev_monitor_ struct udev_monitor *m = NULL;
	bool udevd = access(kernel_disk_udev_control, F_OK) == 0;
	const char *source = udevd ? "udev" : "kernel";
	uint64_t deadline = lb_now_ms() + timeout_ms;
	struct kernel_disk_look lk = {0};
	int r, fd;

	/* Without udevd, a "udev" monitor hears nothing: listen to the kernel,
	 * and a node (devtmpfs makes it) is all there will ever be. */
	m = udev_monitor_new_from_netlink(u, source);
	if (!m) {
		r = errno ? errno : ENOMEM;
		return lb_err_set(err, r, "cannot watch %s events: %s", source, strerror(r));
	}
	r = udev_monitor_filter_add_match_subsystem_devtype(m, "block", NULL);
	if (r >= 0)
		r = udev_monitor_filter_add_match_subsystem_devtype(m, "scsi", NULL);
	/* listen before looking: an event between the look and the poll then
	 * waits in the socket instead of being lost */
	if (r >= 0)
		r = udev_monitor_enable_receiving(m);
	fd = r < 0 ? r : udev_monitor_get_fd(m);
	if (fd < 0)
		return lb_err_set(err, fd, "cannot watch %s events: %s", source, strerror(-fd));

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t now;
		int wait;

		r = look(u, s, lun, udevd, ret, &lk);
		if (r == 0)
			return 0;
		if (r != -ENOENT)
			return wait_failed(err, r, s, lun, &lk, udevd);
		now = lb_now_ms();
		if (now >= deadline)
			return wait_failed(err, -ETIMEDOUT, s, lun, &lk, udevd);
		wait = deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
		r = poll(&pfd, 1, wait);
		if (r < 0 && errno != EINTR) {
			r = errno;
			return lb_err_set(err, r, "cannot wait for %s events: %s", source,
					  strerror(r));
		}
		if (r > 0 && (pfd.revents & POLLNVAL))
			return lb_err_set(err, EBADF, "cannot wait for %s events: %s", source,
					  strerror(EBADF));
		if (r > 0) {
			/* what the events say does not matter: the next look sees it */
			struct udev_device *d;

			while ((d = udev_monitor_receive_device(m)))
				udev_device_unref(d);
		}
	}
}
