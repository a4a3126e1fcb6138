/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One volume: a LUN served to this host by one bridge process, from the
 * moment its first engine is up until detach or SIGTERM.
 *
 * The volume owns its engines (the first, plus one per NBD connection or
 * ublk queue where the engine wants a session per client: channels), the
 * frontend (frontend.h: NBD socket export, kernel NBD device or ublk
 * device), its control socket and its runtime state (runtime.h).
 * Everything runs on one lb_loop, but for the ublk queues' threads.
 *
 * The first half of this header is for the one who runs a volume
 * (attach); the second, the services a frontend uses.
 */
#ifndef LUNBRIDGE_VOLUME_H
#define LUNBRIDGE_VOLUME_H

#include <stdint.h>
#include <sys/types.h>

#include <stdbool.h>

#include "engine.h"
#include "export-uri.h"
#include "lb-err.h"
#include "loop.h"
#include "runtime.h"

struct lb_volume_config {
	const char *name;
	const struct lb_export *export;
	uint32_t lun;
	unsigned queues;    /* kernel NBD sockets or ublk queues (and sessions); 0: 1 */
	uint32_t device_timeout_s; /* kernel NBD: a request's timeout there; 0: nbd-timeouts.h */
	/* the most iSCSI sessions at once, the first included: beyond, an NBD
	 * client shares the first (0: LB_VOLUME_MAX_SESSIONS); at least
	 * queues + 1 for the kernel NBD device */
	unsigned max_sessions;
	bool ublk_recovery; /* ublk: keep the device for a restarted bridge */
	/* NBD socket export: TLS offered or required (nbd/nbd-tls.h; NULL:
	 * none; it outlives the run), and the Unix socket's group
	 * (socket_group_set: mode 0660 with socket_gid, else 0600, root's) */
	struct nbd_tls *tls;
	bool socket_group_set;
	gid_t socket_gid;
	/* the LUN's first engine, up (logged in, or its disk open) on the
	 * volume's loop; the volume takes it, and clones it for clients and
	 * queues as the engine wants (engine.h) */
	struct lb_engine *engine;
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

/* Run the volume on loop, taking over cfg->engine and lock (taken).
 * Returns 0 after a detach or SIGTERM (the device is gone, the engines
 * stopped: sessions logged out), or -errno with err set when it could not
 * start; in both cases the engine is freed and nothing the volume made is
 * left behind, unless the log says the teardown was not clean (requests
 * or a logout outlived their deadline): then the volume's memory stays,
 * as the kernel may still write into it, and the process should exit.
 * The caller releases the lock. */
/* The default of max_sessions: the first session and seven for NBD clients
 * (nbdcopy opens four connections, qemu one). */
#define LB_VOLUME_MAX_SESSIONS 8u

int lb_volume_run(struct lb_loop *loop, struct lb_runtime_lock *lock,
		  const struct lb_volume_config *cfg, lb_err *err);

/* ---- what a frontend may ask of its volume ---- */

struct lb_volume;
struct lb_channel;

struct lb_loop *lb_volume_loop(const struct lb_volume *v);
const struct lb_volume_config *lb_volume_config(const struct lb_volume *v);
/* The first engine: its info is the LUN's. */
struct lb_engine *lb_volume_engine(const struct lb_volume *v);
/* cfg->queues, at least 1. */
unsigned lb_volume_queues(const struct lb_volume *v);
/* A detach or a signal asked the volume to stop. */
bool lb_volume_stopping(const struct lb_volume *v);
void lb_volume_log(struct lb_volume *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* lb_volume_log() for callbacks: arg is the volume. */
void lb_volume_log_line(void *arg, const char *line);

/* Run the volume's loop until cond(arg) holds or timeout_ms passes (false). */
bool lb_volume_run_until(struct lb_volume *v, bool (*cond)(void *arg), void *arg,
			 uint32_t timeout_ms);
/* The deadline of a frontend's stop: above the session's replacement
 * timeout, so that a request in flight ends on its own. */
#define LB_VOLUME_TEARDOWN_TIMEOUT_MS 180000u
/* A signal's stop (SIGTERM, SIGINT) is bounded: the device's dirty pages
 * are written back and requests end on their own for STOP_GRACE; then
 * what is still in flight is cancelled and fenced (abort 10 s, LUN reset
 * 10 s, reconnect), and after STOP_FENCE more the teardown gives up and
 * the process exits (a restarted bridge's logins fence what is left). */
#define LB_VOLUME_STOP_GRACE_MS 10000u
#define LB_VOLUME_STOP_FENCE_MS 30000u
/* When the requests in flight are to be cancelled and fenced (ms of
 * lb_now_ms()), 0: not (yet).  Any thread: the ublk queues ask it. */
uint64_t lb_volume_cancel_at(const struct lb_volume *v);

/* What a dead bridge of this volume left, from its state file. */
struct lb_stale_device {
	int index;	 /* its device of kind (prefix + index); -1: none */
	bool same_lun;	 /* it served this target and LUN, and the LUN's VPD
			  * 0x83 id is the same (where both have one) */
	unsigned queues; /* 0: not recorded */
};
struct lb_stale_device lb_volume_stale_device(const struct lb_volume *v, enum lb_export_kind kind);
/* Before a frontend makes a block device of this volume: the bridge must
 * not wait on writeback to its own device (harden.h); a warning if not. */
void lb_volume_harden_for_device(struct lb_volume *v);
/* The frontend let its device go while the volume still runs (it stays
 * in the kernel): the state no longer names it, and udev drops its
 * by-lunbridge link. */
void lb_volume_device_released(struct lb_volume *v);

/* An engine for a new client (an NBD connection) on the volume's loop:
 * ready(arg, e) is called once, from here or from the loop, with the
 * client's own engine (a clone, started) or, where the engine shares or
 * the clone failed, the first one.  *ret is what to close when the client
 * is gone (NULL: nothing).  -ESHUTDOWN once the volume stops. */
int lb_volume_channel_open(struct lb_volume *v, void (*ready)(void *arg, struct lb_engine *e),
			   void *arg, struct lb_channel **ret);
/* The client is gone and has nothing in flight on the channel's engine. */
void lb_volume_channel_close(struct lb_channel *ch);
/* The channel's client has gone with requests in flight: have its engine
 * give them up and fence them (lb_engine_cancel); their completions come
 * back as usual.  NULL, or a channel on the shared first engine: nothing
 * (the first engine serves other clients too). */
void lb_volume_channel_cancel(struct lb_channel *ch);

#endif
