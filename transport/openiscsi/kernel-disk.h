/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's side of an open-iscsi session, as sysfs shows it through
 * libudev: the session (/sys/class/iscsi_session/sessionN: targetname,
 * ifacename, state; its connection's persistent_address and _port), the
 * SCSI devices below it (H:C:T:L), and a LUN's disk (/dev/sdX) with what
 * its request queue says about it.
 *
 * Nothing here logs; every function returns 0 or -errno and, given an
 * lb_err, leaves one sentence there.
 */
#ifndef LUNBRIDGE_KDISK_H
#define LUNBRIDGE_KDISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "lb-err.h"

struct udev;
struct udev_device;

#define LB_KERNEL_DISK_TARGET_MAX 224 /* RFC 7143: 223 bytes and NUL */
#define LB_KERNEL_DISK_IFACE_MAX 65   /* open-iscsi: ISCSI_MAX_IFACE_LEN */

struct lb_kernel_disk_session {
	unsigned sid;  /* N of sessionN */
	unsigned host; /* H of the SCSI host it runs on (hostH) */
	char target[LB_KERNEL_DISK_TARGET_MAX];
	char iface[LB_KERNEL_DISK_IFACE_MAX];
	char address[64];   /* the connection's persistent_address */
	uint16_t port;	    /* and persistent_port */
	char state[32];	    /* "LOGGED_IN", "FAILED", "FREE" */
	char syspath[4096]; /* the session's device (…/hostH/sessionN) */
};

/* Parse "H:C:T:L" (a SCSI device's sysname: four decimal numbers, H, C
 * and T within unsigned, nothing else); -EINVAL if it is not one, and the
 * outputs (each may be NULL) untouched. */
int lb_kernel_disk_parse_hctl(const char *s, unsigned *h, unsigned *c, unsigned *t, uint64_t *l);

/* The session logged in to TARGET at ADDRESS:PORT on IFACE (NULL: any
 * iface; ADDRESS NULL: any portal; PORT 0: any port).  Of several, a
 * LOGGED_IN one (the lowest sid), else the lowest sid in whatever state.
 * -ENOENT with err set if there is none. */
int lb_kernel_disk_find_session(struct udev *u, const char *target, const char *address,
				uint16_t port, const char *iface,
				struct lb_kernel_disk_session *ret, lb_err *err);

/* The H:C:T:L of LUN below session S ("2:0:0:1"); -ENOENT if the kernel
 * has not scanned it (yet) or the session is gone, -ENOBUFS if it does
 * not fit in len. */
int lb_kernel_disk_find_lun(struct udev *u, const struct lb_kernel_disk_session *s, uint64_t lun,
			    char *hctl, size_t len);

/* The disk of SCSI device HCTL: *ret (unref it) is the block device whose
 * parent is that SCSI device.  -ENOENT if it has none (yet) or there is
 * no such SCSI device, -ENOTBLK if it is not a disk (its type is not 0),
 * -EINVAL if HCTL is not an H:C:T:L. */
int lb_kernel_disk_find_disk(struct udev *u, const char *hctl, struct udev_device **ret);

/* LUN's disk below session S, waiting up to timeout_ms on a udev monitor
 * for the kernel to scan it and udev to have processed it (its node
 * exists).  Without udevd (no /run/udev/control) the kernel's own events
 * are watched and the node alone counts.  *ret: unref it.  -ETIMEDOUT
 * with err naming what was missing; -ENOTBLK (the LUN is not a disk) and
 * -ENODEV (the session is gone) at once. */
int lb_kernel_disk_wait_disk(struct udev *u, const struct lb_kernel_disk_session *s, uint64_t lun,
			     uint32_t timeout_ms, struct udev_device **ret, lb_err *err);

/* What the disk's sysfs attributes say (size, block sizes, max_sectors_kb,
 * discard and write-zeroes limits, write cache and FUA, read-only, and
 * the SCSI device's vendor, model, vpd_pg80 serial and wwid).  -EIO with
 * err naming the attribute when size or the logical block size is
 * missing or unusable; *vi is untouched on failure. */
int lb_kernel_disk_info(struct udev_device *disk, struct lb_volume_info *vi, lb_err *err);

/* The same from a getter (the unit tests feed it): get(arg, name, &len)
 * returns the attribute's bytes and sets len to their number, or returns
 * NULL; names are the disk's ("size", "queue/logical_block_size", ...)
 * and, prefixed "device/", its SCSI device's ("device/vendor",
 * "device/wwid").  The length is there for "device/vpd_pg80", a binary
 * page whose first byte is 0x00 for a disk: a C string cannot carry it. */
int lb_kernel_disk_info_from(const char *(*get)(void *arg, const char *name, size_t *ret_len),
			     void *arg, struct lb_volume_info *vi, lb_err *err);

#endif
