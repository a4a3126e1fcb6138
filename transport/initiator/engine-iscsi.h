/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Our own initiator as an engine (engine.h): its constructor. */
#ifndef LUNBRIDGE_ENGINE_ISCSI_H
#define LUNBRIDGE_ENGINE_ISCSI_H

#include "engine.h"
#include "session.h"

/* Our initiator's engine, taking over s (logged in, on loop; freed
 * with the engine; the caller's still when this fails): runs the LUN
 * inventory, then serves I/O with READ/WRITE(16), falling back to the
 * 10-byte forms when the LUN refuses them.  cfg (outliving the engine) is
 * what clones log in with, a session each; NULL: no clones.  -ENXIO when
 * the LUN does not exist, -ENOTBLK when it is not a disk. */
int lb_engine_iscsi_new(struct lb_loop *loop, struct iscsi_session *s,
			const struct iscsi_session_config *cfg, uint32_t lun,
			struct lb_engine **ret, lb_err *err);
/* The session under an engine of ours (NULL for another engine), for
 * tools that read its counters. */
struct iscsi_session *lb_engine_iscsi_session(const struct lb_engine *e);

/* The paths one process's volume may have (multipath), each with ISID
 * slots of its own. */
#define LB_ENGINE_ISCSI_PATHS 8

typedef void (*lb_engine_iscsi_alua_fn)(void *arg);
/* Make e path number path (0..LB_ENGINE_ISCSI_PATHS-1) of a multipath
 * volume, before it is cloned: its clones take ISID slots of that path's
 * own, its I/O fails at once with -EHOSTUNREACH where the port cannot
 * serve the LU (ALUA transitioning, standby, unavailable: nothing was
 * executed), and fn(arg) runs on an asymmetric access state change (UA
 * 2A/06, 2A/07) instead of a log line.  A clone keeps the index, not fn:
 * its own multipath engine sets that. */
int lb_engine_iscsi_set_path(struct lb_engine *e, int path, lb_engine_iscsi_alua_fn fn, void *arg);
/* The LUN an engine of ours serves. */
uint32_t lb_engine_iscsi_lun(const struct lb_engine *e);

#endif
