/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One LUN over several paths (docs/MULTIPATH.md): an engine (engine.h)
 * that composes engines of our own initiator, one per path (a portal, a
 * target, a LUN, an iface; a session each, with an ISID of its own), and
 * sends each I/O down the best one.  ALUA (SPC-4) ranks the paths:
 * active/optimized first, active/non-optimized when no optimized one is
 * up, never standby or unavailable; transitioning waits.  Within the best
 * group a policy picks: failover (one path at a time), round-robin or
 * queue-length.  A checker tests idle paths; a lost path's I/O is fenced
 * (a LOGICAL UNIT RESET through another path, or the lost session's own
 * reinstatement) before it goes again elsewhere, so that failover never
 * reorders writes.  With no path, I/O waits for the no-path timeout, then
 * fails.
 */
#ifndef LUNBRIDGE_MULTIPATH_H
#define LUNBRIDGE_MULTIPATH_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "lb-err.h"

enum lb_mpath_policy {
	LB_MPATH_FAILOVER,
	LB_MPATH_ROUND_ROBIN,
	LB_MPATH_QUEUE_LENGTH,
};

/* multipath-tools' no_path_retry 12 × polling_interval 5 s */
#define LB_MPATH_NO_PATH_TIMEOUT_MS 60000u
/* multipath-tools' polling_interval */
#define LB_MPATH_CHECK_INTERVAL_MS 5000u
/* how long a lost path may hold I/O before it is fenced and moved: the
 * session's first reconnects come within it (a dropped connection to a
 * live portal is back in well under a second), a dead link does not */
#define LB_MPATH_PATH_FAIL_MS 3000u

struct lb_mpath_config {
	enum lb_mpath_policy policy;
	uint32_t failback_ms;	     /* a returning path waits this long; 0: at once */
	uint32_t no_path_timeout_ms; /* I/O waits this long for a path */
	uint32_t check_interval_ms;  /* TEST UNIT READY per idle path */
	uint32_t path_fail_ms;	     /* above */
};

/* What a path is, for logs and `lunbridge list` (copied). */
struct lb_mpath_path_desc {
	const char *portal, *target, *iface;
	uint32_t lun;
};

void lb_mpath_config_init(struct lb_mpath_config *cfg);
/* "failover", "round-robin", "queue-length"; -EINVAL otherwise. */
int lb_mpath_policy_parse(const char *s, enum lb_mpath_policy *ret);
const char *lb_mpath_policy_name(enum lb_mpath_policy p);
/* "immediate" (0) or whole seconds: -EINVAL otherwise. */
int lb_mpath_failback_parse(const char *s, uint32_t *ret_ms);

/* The multipath engine over n (1..LB_ENGINE_ISCSI_PATHS) engines of our
 * own initiator (lb_engine_iscsi_new(), logged in, each with its clone
 * config), on loop; takes them over on success (the caller's still on
 * failure).  Refused (-EINVAL) when a path's LU designator (VPD 0x83)
 * differs from the first path's, naming both; reads each path's ALUA
 * state before it returns. */
int lb_engine_multipath_new(struct lb_loop *loop, const struct lb_mpath_config *cfg,
			    struct lb_engine *const *paths, const struct lb_mpath_path_desc *desc,
			    size_t n, struct lb_engine **ret, lb_err *err);

#endif
