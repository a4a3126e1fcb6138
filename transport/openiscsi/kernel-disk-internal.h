/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to kernel-disk.c (the shared helpers, sessions), kernel-disk-find.c (a LUN's
 * SCSI device and disk, waiting for them) and kernel-disk-info.c (what the disk
 * says about itself).
 */
#ifndef LUNBRIDGE_KDISK_INTERNAL_H
#define LUNBRIDGE_KDISK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel-disk.h"

struct udev_enumerate;

/* kernel-disk.c */
/* s[0..n) as a decimal number, digits only, at most max; -EINVAL otherwise. */
int kernel_disk_parse_dec(const char *s, size_t n, uint64_t max, uint64_t *ret);
/* Both are there and equal. */
bool kernel_disk_streq(const char *a, const char *b);
/* src[0..n) up to a NUL, trimmed, as printable text in out; -ENOBUFS if cut short. */
int kernel_disk_copy_trimmed(char *out, size_t cap, const char *src, size_t n);
/* Sysattr NAME of d, trimmed, into out; -ENOENT if absent, -ENOBUFS if too long. */
int kernel_disk_sysattr_copy(struct udev_device *d, const char *name, char *out, size_t cap);
/* *ret (unref it): the scanned devices of SUBSYSTEM, below PARENT unless NULL. */
int kernel_disk_enumerate_below(struct udev *u, const char *subsystem, struct udev_device *parent,
				struct udev_enumerate **ret);

#endif
