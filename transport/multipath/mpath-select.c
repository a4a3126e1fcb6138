/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The path selector: ALUA's best group first, then the policy within it. */
#include "mpath-internal.h"

int mp_alua_rank(uint8_t state)
{
	switch (state) {
	case SCSI_ALUA_OPTIMIZED:
		return 0;
	case SCSI_ALUA_NON_OPTIMIZED:
	case SCSI_ALUA_LBA_DEPENDENT: /* the target says which LBAs not */
		return 1;
	default: /* standby, unavailable, offline, transitioning: none */
		return -1;
	}
}

static bool candidate(const struct mp_choice *c, int best, bool with_settling)
{
	return c->usable && c->rank == best && (with_settling || !c->settling);
}

int mp_select(const struct mp_choice *c, size_t n, enum lb_mpath_policy policy, unsigned *cursor)
{
	bool with_settling = false;
	int best = -1, pick = -1;
	unsigned start;

	if (n == 0)
		return -1;
	/* the best rank among settled paths; a returning path (failback
	 * delay) serves only when nothing else can */
	for (size_t i = 0; i < n; i++)
		if (c[i].usable && !c[i].settling && (best < 0 || c[i].rank < best))
			best = c[i].rank;
	if (best < 0) {
		with_settling = true;
		for (size_t i = 0; i < n; i++)
			if (c[i].usable && (best < 0 || c[i].rank < best))
				best = c[i].rank;
	}
	if (best < 0)
		return -1;
	start = *cursor < n ? *cursor : 0;
	switch (policy) {
	case LB_MPATH_FAILOVER:
		/* stay where we are while it is in the best group: one path
		 * at a time, no flapping between equals */
		if (candidate(&c[start], best, with_settling))
			pick = (int)start;
		for (size_t i = 0; pick < 0 && i < n; i++)
			if (candidate(&c[i], best, with_settling))
				pick = (int)i;
		break;
	case LB_MPATH_QUEUE_LENGTH:
		/* the fewest in flight; ties go round from the last choice */
		for (size_t k = 1; k <= n; k++) {
			size_t i = (start + k) % n;

			if (candidate(&c[i], best, with_settling) &&
			    (pick < 0 || c[i].inflight < c[pick].inflight))
				pick = (int)i;
		}
		break;
	case LB_MPATH_ROUND_ROBIN:
	default:
		for (size_t k = 1; pick < 0 && k <= n; k++) {
			size_t i = (start + k) % n;

			if (candidate(&c[i], best, with_settling))
				pick = (int)i;
		}
		break;
	}
	if (pick >= 0)
		*cursor = (unsigned)pick;
	return pick;
}
