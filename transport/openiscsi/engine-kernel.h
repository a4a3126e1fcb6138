/* SPDX-License-Identifier: GPL-2.0-or-later */
/* open-iscsi's kernel sessions as an engine (engine.h): its constructor. */
#ifndef LUNBRIDGE_ENGINE_KERNEL_H
#define LUNBRIDGE_ENGINE_KERNEL_H

#include "engine.h"

/* The LUN's SCSI disk in the kernel (DEVNODE, as kernel-disk.h found it and
 * described it in INFO), under open-iscsi session SID, opened O_DIRECT
 * and exclusively, all I/O on loop's io_uring: reads and writes (FUA as
 * RWF_DSYNC), flush as fdatasync, discard and write zeroes as fallocate.
 * Clones share the disk on other loops; clients on one loop share one. */
int lb_engine_kernel_new(struct lb_loop *loop, const char *devnode, unsigned sid,
			 const struct lb_volume_info *info, struct lb_engine **ret, lb_err *err);

#endif
