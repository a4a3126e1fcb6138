/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One volume: a LUN served to this host by one bridge process, from the
 * moment its first session is logged in until detach or SIGTERM.
 *
 * The volume owns the sessions (the first, plus one per NBD connection
 * or kernel queue), the engines on them, the frontend (NBD server on a
 * socket, the kernel NBD device fed through socketpairs, or a ublk device
 * whose queues run on threads of their own), its control
 * socket and its runtime state (runtime.h).  Everything runs on one
 * lb_loop, but for the ublk queues (ublk-queue.h).
 */
#ifndef LUNBRIDGE_VOLUME_H
#define LUNBRIDGE_VOLUME_H

#include <stdint.h>

#include "export-uri.h"
#include "lb-err.h"
#include "loop.h"
#include "runtime.h"
#include "session.h"

struct lb_volume_config {
	const char *name;
	const struct lb_export *export;
	uint32_t lun;
	unsigned queues; /* kernel NBD sockets or ublk queues (and sessions); 0: 1 */
	bool ublk_recovery; /* ublk: keep the device for a restarted bridge */
	/* the sessions the volume opens itself; strings outlive the volume.
	 * NULL with the kernel engine: then engine is the LUN's, open on the
	 * loop, and the volume takes it (connections share it, ublk queues
	 * clone it onto their own loops). */
	const struct iscsi_session_config *session;
	struct lb_engine *engine;
	/* kernel engine: the disk and open-iscsi session under it, for list */
	const char *disk;
	unsigned kernel_sid;
	/* shown by `lunbridge list` */
	const char *portal, *target, *iface;
	/* one line each; NULL: stderr */
	void (*log)(void *arg, const char *line);
	void *log_arg;
	/* once the export or device serves; where: its URI or device path */
	void (*ready)(void *arg, const char *where);
	/* once it begins to detach (SIGTERM, detach); NULL: nothing */
	void (*stopping)(void *arg);
	void *ready_arg; /* for both */
};

/* Run the volume on loop, taking over s (logged in; NULL with
 * cfg->engine) and lock (taken).
 * Returns 0 after a detach or SIGTERM (the device is gone, the sessions
 * logged out), or -errno with err set when it could not start; in both
 * cases s is freed and nothing the volume made is left behind.  The
 * caller releases the lock. */
int lb_volume_run(struct lb_loop *loop, struct iscsi_session *s, struct lb_rt_lock *lock,
		  const struct lb_volume_config *cfg, lb_err *err);

#endif
