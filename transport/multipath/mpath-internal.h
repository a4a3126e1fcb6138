/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The multipath engine's private state, shared by its files. */
#ifndef LUNBRIDGE_MPATH_INTERNAL_H
#define LUNBRIDGE_MPATH_INTERNAL_H

#include <linux/time_types.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "alua.h"
#include "engine-iscsi.h"
#include "multipath.h"
#include "session.h"

#define MP_TICK_MS 1000u /* path liveness, queued I/O, transitions */

/* ---- the path selector (mpath-select.c): pure, unit tested ------------- */

/* What the selector knows of one path. */
struct mp_choice {
	bool usable;   /* up, not being fenced, in an active ALUA state */
	uint8_t rank;  /* 0: active/optimized, 1: active/non-optimized */
	bool settling; /* back within the failback delay */
	unsigned inflight;
};

/* The path for the next I/O, or -1 when none is usable.  The best rank
 * among paths that are not settling wins (settling ones only when no other
 * is usable); within it the policy picks; *cursor is the last choice. */
int mp_select(const struct mp_choice *c, size_t n, enum lb_mpath_policy policy, unsigned *cursor);
/* The rank of an ALUA state (0, 1), or -1 where no I/O may go. */
int mp_alua_rank(uint8_t state);

/* ---- the engine ---------------------------------------------------------- */

struct mpath;

/* A SCSI command of the engine's own on a path: the checker's TEST UNIT
 * READY, or the ALUA reads. */
struct mp_probe {
	struct iscsi_cmd cmd;
	struct iovec iov;
	uint8_t buf[1024];
	bool busy;
};

enum mp_alua_step { MP_ALUA_INQUIRY, MP_ALUA_VPD, MP_ALUA_RTPG };

/* A path's I/O counts, shared by a volume's engine and its clones (one a
 * client or queue, maybe on other threads), so that `list` shows them all. */
struct mp_counts {
	_Atomic uint64_t reads, writes, errors, moved;
};
struct mp_shared {
	_Atomic unsigned refs;
	struct mp_counts path[LB_ENGINE_ISCSI_PATHS];
};

struct mp_path {
	struct mpath *m;
	int index;
	struct lb_engine *e; /* our initiator's engine on this path */
	char portal[80], target[224], iface[64];
	uint32_t lun;
	bool started;	   /* logged in (a failed first login is retried) */
	bool starting;	   /* a start under way */
	bool up;	   /* its session serves and its last check passed */
	bool check_failed; /* down by the checker: up again only after a TUR */
	bool cancelling;   /* its I/O is being fenced to go elsewhere */
	bool fence_needed; /* cancelled commands in doubt want a reset elsewhere */
	bool fencing;	   /* that reset is under way */
	/* before it: p's session ended on the target by a login with its ISID
	 * through a path of the same target portal group (reinstatement) */
	bool reinstating;		   /* that login (or its logout) under way */
	bool reinstate_done;		   /* ended, tried, or no path could */
	struct iscsi_session *reinstate_s; /* its session, freed by the tick */
	bool user_wait;	   /* the engine's cancel waits for this path's */
	bool cancel_ended; /* that cancel called back; its children still end */
	/* ALUA */
	bool alua_read; /* TPGS known (INQUIRY read once) */
	bool tpgs;	/* the LU has port groups */
	bool has_group; /* VPD 0x83 named this port's group */
	uint16_t group, rel_port;
	uint8_t alua;	 /* its group's state (optimized without ALUA) */
	bool alua_again; /* read once more when the read under way ends */
	enum mp_alua_step step;
	struct mp_probe probe, tur;
	uint64_t down_since_ms, up_since_ms, checked_ms;
	unsigned inflight;
	struct mp_counts *counts; /* in mpath's shared */
	char why[160];		  /* its last failure */
	lb_engine_cb start_cb;
};

struct mpath {
	struct lb_engine e;
	struct lb_mpath_config cfg;
	size_t n;
	struct mp_path *paths;
	struct mp_shared *shared;
	unsigned cursor;
	struct mp_io *queue_head, *queue_tail;
	unsigned queued;
	uint64_t no_path_since_ms; /* 0: a path serves */
	bool no_path_expired;	   /* I/O fails until a path returns */
	bool user_cancel;	   /* lb_engine_cancel(): nothing goes again */
	/* the timer */
	struct lb_op tick_op;
	struct __kernel_timespec tick_ts;
	bool freeing;
	bool stopped; /* stop: the tick is not armed again */
	lb_engine_log_fn log_fn;
	void *log_arg;
	/* a start, stop or cancel over every path */
	lb_engine_cb cb, cancel_cb;
	void *cb_arg, *cancel_arg;
	unsigned pending, cancel_pending;
	int pending_res;
	uint64_t moved; /* requests sent again on another path */
};

/* The parent I/O's state, in its priv area. */
struct mp_io {
	struct lb_io *io;
	struct mp_io *next; /* queued */
	uint64_t start_ms;
};
LB_IO_PRIV_CHECK(struct mp_io);

/* The path engine's I/O for one parent (allocated: a path engine's own
 * priv area lives in it). */
struct mp_child {
	struct lb_io io;
	struct lb_io *parent;
	struct mp_path *path;
};

void mp_log(struct mpath *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* mpath-engine.c */
/* Send io down the best path, or queue it; -errno when it cannot be
 * taken (no path past the no-path timeout). */
int mp_dispatch(struct mpath *m, struct lb_io *io);
/* Queued I/O to paths that can take it now; fails it past the no-path
 * timeout. */
void mp_kick(struct mpath *m, uint64_t now);
/* A path's failover cancel that the engine's own cancel (its issuer has
 * gone) counted on has ended (mpath-engine.c). */
void mp_cancel_path_done(struct mpath *m);
bool mp_path_usable(const struct mp_path *p);

/* mpath-path.c: the tick, the checker, fencing, ALUA */
void mp_tick_arm(struct mpath *m);
/* No more ticks: cancelled (from a callback of the loop: stop), or
 * cancelled and waited for (free, which runs the loop as the session's
 * free does). */
void mp_tick_cancel(struct mpath *m);
void mp_tick_stop(struct mpath *m);
void mp_alua_read(struct mp_path *p);
void mp_path_on_alua_event(void *arg);
void mp_path_set_log(struct mp_path *p);
/* Bring up the down paths whose sessions serve again, without waiting for
 * the tick: I/O about to be dispatched uses them (every client's engine
 * has paths of its own, each noticing on its own tick otherwise). */
void mp_paths_up(struct mpath *m, uint64_t now);
/* p's failover cancel is over once its engine called back and its last
 * child ended (the session may call back before it completes the
 * commands it swept: until then they are still sent elsewhere). */
void mp_path_cancel_end(struct mp_path *p);
/* A request on p failed in a way another path may not: note why. */
void mp_path_failed_io(struct mp_path *p, int res);
/* The session of a reinstatement that has ended, freed (all of them when
 * the engine is freed). */
void mp_path_reinstate_reap(struct mp_path *p, bool all);

#endif
