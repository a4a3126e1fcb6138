/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading a kernel module the export needs.  Neither nbd.ko (no alias for
 * its netlink family) nor ublk_drv.ko (not loaded by opening the absent
 * /dev/ublk-control) loads on demand, so the bridge asks modprobe once.
 */
#ifndef LUNBRIDGE_MODPROBE_H
#define LUNBRIDGE_MODPROBE_H

/* Run `modprobe -q MODULE` and wait for it: 0 if it loaded (or was
 * loaded), -errno otherwise (no modprobe, not installed, not root). */
int lb_modprobe(const char *module);

#endif
