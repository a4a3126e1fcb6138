/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The write-order checker's two front doors (write-order.c is the core):
 * a block device or file through io_uring (write-order-uring.c) and an
 * NBD export, nbd://HOST[:PORT][/NAME] or nbd+unix:///NAME?socket=PATH
 * (write-order-nbd.c).  Both are ops tables over one kind of slot: up to
 * WO_MAX_QD requests in flight, each named by its slot number.
 */
#ifndef WRITE_ORDER_H
#define WRITE_ORDER_H

#include <stdbool.h>
#include <stdint.h>

#define WO_MAX_QD 256

enum wo_op { WO_READ, WO_WRITE };

struct wo_dev;

struct wo_ops {
	/* required: open TARGET; 0 or -errno (one line on stderr says why) */
	int (*open)(struct wo_dev **ret, const char *target, bool direct, bool fua, unsigned qd);
	/* required: start one request; 0 or -errno (the device is unusable) */
	int (*submit)(struct wo_dev *d, enum wo_op op, uint64_t off, void *buf, uint32_t len,
		      unsigned slot);
	/*
	 * required: wait up to timeout_ms for one completion: 1 with *slot
	 * and *res (bytes or -errno), 0 on timeout.  A dead connection
	 * completes every request it held with -ECONNRESET, then returns
	 * -ECONNRESET until it is closed and opened again.
	 */
	int (*reap)(struct wo_dev *d, unsigned *slot, int *res, int timeout_ms);
	/* required: the size in bytes */
	uint64_t (*size)(struct wo_dev *d);
	/* required: accepts NULL */
	void (*close)(struct wo_dev *d);
	/* true: a dead device can be opened again (a new NBD connection) */
	bool reconnect;
};

extern const struct wo_ops wo_uring_ops;
extern const struct wo_ops wo_nbd_ops;

#endif
