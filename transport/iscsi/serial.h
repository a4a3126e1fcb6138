/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * RFC 1982 serial number arithmetic with SERIAL_BITS = 32, as RFC 7143
 * §4.2.2.1 requires for CmdSN, ExpCmdSN, MaxCmdSN, StatSN, DataSN, R2TSN.
 *
 * Two numbers exactly 2^31 apart are not ordered: iscsi_sn_lt() and
 * iscsi_sn_gt() are both false for them, so neither side of a window check
 * can be satisfied by such a pair.
 */
#ifndef LUNBRIDGE_ISCSI_SERIAL_H
#define LUNBRIDGE_ISCSI_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#define ISCSI_SN_HALF 0x80000000u

static inline bool iscsi_sn_lt(uint32_t a, uint32_t b)
{
	return (a < b && b - a < ISCSI_SN_HALF) || (a > b && a - b > ISCSI_SN_HALF);
}

static inline bool iscsi_sn_gt(uint32_t a, uint32_t b)
{
	return (a < b && b - a > ISCSI_SN_HALF) || (a > b && a - b < ISCSI_SN_HALF);
}

static inline bool iscsi_sn_le(uint32_t a, uint32_t b)
{
	return a == b || iscsi_sn_lt(a, b);
}

static inline bool iscsi_sn_ge(uint32_t a, uint32_t b)
{
	return a == b || iscsi_sn_gt(a, b);
}

/* RFC 1982 §3.1: only 0..2^31-1 may be added; larger n is clamped. */
static inline uint32_t iscsi_sn_add(uint32_t a, uint32_t n)
{
	if (n > ISCSI_SN_HALF - 1)
		n = ISCSI_SN_HALF - 1;
	return a + n;
}

/* lo <= sn <= hi in serial arithmetic. */
static inline bool iscsi_sn_in_window(uint32_t sn, uint32_t lo, uint32_t hi)
{
	return iscsi_sn_le(lo, sn) && iscsi_sn_le(sn, hi);
}

/*
 * RFC 7143 §4.2.2.1: a MaxCmdSN/ExpCmdSN pair is usable only when
 * MaxCmdSN >= ExpCmdSN - 1 (MaxCmdSN == ExpCmdSN - 1 is a closed window);
 * otherwise the initiator ignores both values.
 */
static inline bool iscsi_sn_window_valid(uint32_t exp_cmdsn, uint32_t max_cmdsn)
{
	return iscsi_sn_ge(max_cmdsn, exp_cmdsn - 1);
}

/* Room in the command window for CmdSN values starting at next_cmdsn. */
static inline uint32_t iscsi_sn_window_room(uint32_t next_cmdsn, uint32_t max_cmdsn)
{
	if (iscsi_sn_gt(next_cmdsn, max_cmdsn) || max_cmdsn - next_cmdsn >= ISCSI_SN_HALF)
		return 0;
	return max_cmdsn - next_cmdsn + 1;
}

#endif
