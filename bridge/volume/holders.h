/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who holds a block device: a mount of it or of a partition, a stacked
 * device (device-mapper, md) on it, or a process with it open.  `detach`
 * refuses to pull a device from under its users unless --force.
 */
#ifndef LUNBRIDGE_HOLDERS_H
#define LUNBRIDGE_HOLDERS_H

#include <stddef.h>
#include <sys/types.h>

/* Where /proc and /sys are ("/proc", "/sys"; tests give a fake tree). */
struct lb_holders_root {
	const char *proc;
	const char *sys;
};

/* The first holder of block device name ("nbd0", "ublkb3"), or one of its
 * partitions, in words ("mounted on /mnt (ext4)", "held by dm-0",
 * "open by process 1234 (qemu-system-x86)"); processes ignore is not
 * counted (the bridge itself).  1 and buf filled when held, 0 when not,
 * -errno when the device's sysfs directory cannot be read. */
int lb_device_holder(const struct lb_holders_root *root, const char *name, pid_t ignore, char *buf,
		     size_t len);

#endif
