/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>

#include "nbd-timeouts.h"

uint32_t lb_nbd_kernel_timeout(uint32_t device_s, uint32_t request_s)
{
	uint64_t t = (uint64_t)request_s + LB_NBD_KERNEL_FENCE_ROOM_S;

	if (device_s)
		return device_s;
	if (t > UINT32_MAX)
		return UINT32_MAX;
	return t > LB_NBD_KERNEL_TIMEOUT_MIN_S ? (uint32_t)t : LB_NBD_KERNEL_TIMEOUT_MIN_S;
}

int lb_nbd_kernel_timeouts_settle(uint32_t device_s, uint32_t *request_s, bool request_given,
				  uint32_t command_s, lb_err *err)
{
	if (!device_s)
		return 0;
	if (request_given) {
		if ((uint64_t)device_s < (uint64_t)*request_s + LB_NBD_KERNEL_FENCE_ROOM_S)
			return lb_err_set(
				err, EINVAL,
				"--device-timeout (%u s) must be at least --request-timeout "
				"(%u s) + %u s: the kernel must not give a request up while "
				"the bridge may still hold it and fence it",
				device_s, *request_s, LB_NBD_KERNEL_FENCE_ROOM_S);
		return 0;
	}
	/* the request timeout follows: the fence's room under the device's */
	if (device_s <= command_s + LB_NBD_KERNEL_FENCE_ROOM_S)
		return lb_err_set(err, EINVAL,
				  "--device-timeout (%u s) leaves a request timeout of %d s (it "
				  "follows, %u s under), not above --command-timeout (%u s): give "
				  "at least %u s",
				  device_s, (int)device_s - LB_NBD_KERNEL_FENCE_ROOM_S,
				  LB_NBD_KERNEL_FENCE_ROOM_S, command_s,
				  command_s + LB_NBD_KERNEL_FENCE_ROOM_S + 1);
	*request_s = device_s - LB_NBD_KERNEL_FENCE_ROOM_S;
	return 0;
}
