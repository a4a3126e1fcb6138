/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scope-bound cleanup for libudev's handles (cleanup.h's pattern):
 *
 *   _cleanup_udev_device_ struct udev_device *d = udev_device_new_...;
 */
#ifndef LUNBRIDGE_UDEV_CLEANUP_H
#define LUNBRIDGE_UDEV_CLEANUP_H

#include <libudev.h>

#include "cleanup.h"

DEFINE_CLEANUP_FUNC(struct udev, udev_unref)
DEFINE_CLEANUP_FUNC(struct udev_device, udev_device_unref)
DEFINE_CLEANUP_FUNC(struct udev_enumerate, udev_enumerate_unref)
DEFINE_CLEANUP_FUNC(struct udev_monitor, udev_monitor_unref)
#define _cleanup_udev_ _cleanup_(udev_unrefp)
#define _cleanup_udev_device_ _cleanup_(udev_device_unrefp)
#define _cleanup_udev_enumerate_ _cleanup_(udev_enumerate_unrefp)
#define _cleanup_udev_monitor_ _cleanup_(udev_monitor_unrefp)

#endif
