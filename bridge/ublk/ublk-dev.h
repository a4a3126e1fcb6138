/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A LUN as /dev/ublkbN: the device's life through /dev/ublk-control and
 * its queues (ublk-queue.h).
 *
 *   create:  ADD_DEV, SET_PARAMS, queues fetch, START_DEV
 *   recover: (a device whose bridge died, quiesced by the kernel)
 *            START_USER_RECOVERY, queues fetch, END_USER_RECOVERY
 *   destroy: STOP_DEV (in-flight requests end, tags come back), queues
 *            end and close, DEL_DEV
 *
 * With user recovery (asked for whenever the kernel has it) a bridge that
 * dies leaves its device quiesced: requests wait, and the next bridge of
 * the same volume takes the device back.  Without it the kernel removes
 * the disk and fails its I/O.
 */
#ifndef LUNBRIDGE_UBLK_DEV_H
#define LUNBRIDGE_UBLK_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "lb-err.h"
#include "ublk-queue.h"

#define LB_UBLK_QUEUES_MAX 16
#define LB_UBLK_DEPTH_DEFAULT 64

struct lb_ublk_dev_config {
	int dev_id;	 /* -1: the kernel picks */
	unsigned queues; /* 0: 1 */
	unsigned depth;	 /* 0: LB_UBLK_DEPTH_DEFAULT */
	bool recovery;	 /* ask for user recovery where the kernel has it */
	const struct lb_volume_info *info;
	const struct lb_ublk_engine_ops *ops;
};

struct lb_ublk_dev;

int lb_ublk_dev_create(const struct lb_ublk_dev_config *cfg, struct lb_ublk_dev **ret, lb_err *err);
/* Take back dev_id, quiesced after its bridge died.  Refused (-EEXIST,
 * -EBUSY, -EMEDIUMTYPE) when it is live, not recoverable, or presents
 * another size or block size than this LUN. */
int lb_ublk_dev_recover(const struct lb_ublk_dev_config *cfg, uint32_t dev_id,
			struct lb_ublk_dev **ret, lb_err *err);
/* STOP_DEV, the queues' end, DEL_DEV; frees d.  false if not clean. */
bool lb_ublk_dev_destroy(struct lb_ublk_dev *d, void (*log)(void *, const char *), void *arg);

uint32_t lb_ublk_dev_id(const struct lb_ublk_dev *d);
unsigned lb_ublk_dev_queues(const struct lb_ublk_dev *d);
bool lb_ublk_dev_recoverable(const struct lb_ublk_dev *d); /* user recovery on */
/* The UBLK_F_* flags the kernel granted the device. */
uint64_t lb_ublk_dev_flags(const struct lb_ublk_dev *d);
/* sum += every queue's counters (any thread). */
void lb_ublk_dev_add_stats(const struct lb_ublk_dev *d, struct lb_io_stats *sum);

/* What the kernel says of dev_id: 0 with info, -ENODEV when there is no
 * such device, or another -errno (no ublk: err says so). */
int lb_ublk_dev_info(uint32_t dev_id, struct lb_ublk_dev_info *info, lb_err *err);
/* Remove a device no bridge serves any more (STOP_DEV, DEL_DEV). */
int lb_ublk_dev_remove(uint32_t dev_id, lb_err *err);

#endif
