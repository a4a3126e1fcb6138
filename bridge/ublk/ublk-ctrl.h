/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /dev/ublk-control: add, configure, start, stop, recover and delete ublk
 * devices.  Each command is one SQE128 URING_CMD on the control handle's
 * own small ring, waited for (the kernel runs the blocking ones, START_DEV
 * and END_USER_RECOVERY, off the submitter).  All return 0 or -errno.
 */
#ifndef LUNBRIDGE_UBLK_CTRL_H
#define LUNBRIDGE_UBLK_CTRL_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "lb-err.h"
#include "ublk-proto.h"

struct lb_ublk_ctrl {
	int fd;
	struct io_uring ring;
	bool encoded;	   /* ioctl-encoded opcodes (GET_FEATURES answered) */
	uint64_t features; /* from GET_FEATURES; 0 on kernels without it */
};

/* Open the control device and ask for its features.  A kernel without
 * ublk gives one line: "the kernel has no ublk support: ...". */
int lb_ublk_ctrl_open(struct lb_ublk_ctrl *c, lb_err *err);
void lb_ublk_ctrl_close(struct lb_ublk_ctrl *c);
/* Whether the kernel has ublk at all, after asking modprobe for ublk_drv
 * once (the same one line if not). */
int lb_ublk_ctrl_probe(lb_err *err);

/* ADD_DEV: info in (dev_id (uint32_t)-1 for any), and the kernel's answer
 * back in it (device id, queues, depth, buffer size, accepted flags). */
int lb_ublk_ctrl_add(struct lb_ublk_ctrl *c, struct lb_ublk_dev_info *info);
int lb_ublk_ctrl_get_info(struct lb_ublk_ctrl *c, uint32_t dev_id, struct lb_ublk_dev_info *info);
int lb_ublk_ctrl_set_params(struct lb_ublk_ctrl *c, uint32_t dev_id, const struct lb_ublk_params *p);
int lb_ublk_ctrl_get_params(struct lb_ublk_ctrl *c, uint32_t dev_id, struct lb_ublk_params *p);
/* START_DEV once every queue has fetched: /dev/ublkbN appears. */
int lb_ublk_ctrl_start(struct lb_ublk_ctrl *c, uint32_t dev_id, int32_t pid);
/* STOP_DEV: the block device goes (requests in flight end first, then
 * each queue's fetches complete with -ENODEV). */
int lb_ublk_ctrl_stop(struct lb_ublk_ctrl *c, uint32_t dev_id);
/* DEL_DEV, once the queues closed /dev/ublkcN: the id is free again. */
int lb_ublk_ctrl_del(struct lb_ublk_ctrl *c, uint32_t dev_id);
int lb_ublk_ctrl_start_recovery(struct lb_ublk_ctrl *c, uint32_t dev_id);
int lb_ublk_ctrl_end_recovery(struct lb_ublk_ctrl *c, uint32_t dev_id, int32_t pid);

const char *lb_ublk_state_name(unsigned state);

#endif
