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

#endif
