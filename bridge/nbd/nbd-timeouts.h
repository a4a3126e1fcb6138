/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel NBD device's request timeout (NBD_ATTR_TIMEOUT), the outer
 * one of docs/ARCHITECTURE.md's "Timeouts, in order": when it expires the
 * kernel marks the request's socket dead and sends the request again on
 * another (or waits DEAD_CONN_TIMEOUT for one), so it must leave the
 * bridge its own request timeout plus room for the fence (ABORT TASK,
 * LOGICAL UNIT RESET, a reconnect) first.  Pure: attach checks the
 * options with it, the kernel frontend configures the device with it.
 */
#ifndef LUNBRIDGE_NBD_TIMEOUTS_H
#define LUNBRIDGE_NBD_TIMEOUTS_H

#include <stdbool.h>
#include <stdint.h>

#include "lb-err.h"

#define LB_NBD_KERNEL_TIMEOUT_MIN_S 180 /* the default's floor */
#define LB_NBD_KERNEL_FENCE_ROOM_S 60	/* between the request timeout and the device's */

/* The device's timeout: device_s when the operator gave one (> 0), else
 * max(180, request_s + 60). */
uint32_t lb_nbd_kernel_timeout(uint32_t device_s, uint32_t request_s);

/* Settle attach's --device-timeout (device_s, 0: not given) with its
 * --request-timeout (*request_s; request_given: by the operator) and
 * --command-timeout (command_s).  Only the device timeout given: the
 * request timeout follows it (device - 60 s), and must still exceed the
 * command timeout.  Both given: the device timeout must be at least the
 * request timeout + 60 s.  0 (*request_s settled), or -EINVAL with one
 * sentence naming the options. */
int lb_nbd_kernel_timeouts_settle(uint32_t device_s, uint32_t *request_s, bool request_given,
				  uint32_t command_s, lb_err *err);

#endif
