/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The retry policy: what the initiator does with a completed SCSI command,
 * as a table (retry.c, documented in docs/ERROR-HANDLING.md) compared with
 * Linux's scsi_error.c/sd.c decisions.  Pure: no I/O, no clock.
 *
 * Retries are bounded by the command's lifetime (a deadline the session
 * keeps from the first submission), not by a count; the table only says
 * whether to retry, after what pause, and which errno ends it.
 *
 * Backoff: ISCSI_RETRY_BACKOFF_MIN_MS after the first answer, doubling
 * with each try, capped at ISCSI_RETRY_BACKOFF_MAX_MS.  NOW is immediate
 * for the first ISCSI_RETRY_NOW_MAX tries only; past them it turns into
 * BACKOFF, so that a target answering every try with a unit attention
 * cannot make the session spin.
 */
#ifndef LUNBRIDGE_ISCSI_RETRY_H
#define LUNBRIDGE_ISCSI_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sense.h"

#define ISCSI_RETRY_BACKOFF_MIN_MS 100u
#define ISCSI_RETRY_BACKOFF_MAX_MS 2000u
#define ISCSI_RETRY_NOW_MAX 4u

enum iscsi_retry_action {
	ISCSI_RETRY_NONE,    /* success (GOOD, CONDITION MET, RECOVERED ERROR) */
	ISCSI_RETRY_FAIL,    /* final: complete with .err */
	ISCSI_RETRY_NOW,     /* re-issue at once (unit attention, deferred error) */
	ISCSI_RETRY_BACKOFF, /* re-issue after .delay_ms (BUSY, transitions) */
};

/* Something the session or engine should act on besides the retry. */
enum iscsi_retry_event {
	ISCSI_EVENT_NONE,
	ISCSI_EVENT_CAPACITY_CHANGED,	   /* UA 2A/09: re-read capacity */
	ISCSI_EVENT_MODE_CHANGED,	   /* UA 2A/01: re-read MODE SENSE */
	ISCSI_EVENT_LUNS_CHANGED,	   /* UA 3F/0E: log */
	ISCSI_EVENT_INQUIRY_CHANGED,	   /* UA 3F/03: log */
	ISCSI_EVENT_THIN_THRESHOLD,	   /* UA 38/07: log */
	ISCSI_EVENT_ALUA_CHANGED,	   /* UA 2A/06 (asymmetric access state changed) */
	ISCSI_EVENT_RESET,		   /* UA 29/xx: power on, reset */
	ISCSI_EVENT_DEFERRED_ERROR,	   /* sense 0x71/0x73: an earlier command failed */
	ISCSI_EVENT_OTHER_UA,		   /* another unit attention */
};

struct iscsi_retry_decision {
	enum iscsi_retry_action action;
	/* -errno: the final error for FAIL; for a retry, the error the
	 * session keeps as the last one (named when the command's lifetime
	 * ends while it is still being retried) */
	int err;
	uint32_t delay_ms; /* BACKOFF: pause before the next try */
	enum iscsi_retry_event event;
	bool log; /* the sense should reach the log (rate-limited there) */
	/* The table row that decided, from 1 as docs/ERROR-HANDLING.md
	 * numbers them; 0 for deferred sense, decided before the table. */
	uint16_t row;
};

/* Decide for a command that completed with status (and sense, or NULL).
 * attempt counts the tries made so far (1 after the first answer); the
 * backoff grows with it and is capped.  is_write: the command wrote data
 * (some conditions are retried for reads only, as Linux does). */
void iscsi_retry_decide(uint8_t status, const struct iscsi_sense *sense, unsigned attempt,
			bool is_write, struct iscsi_retry_decision *ret);

const char *iscsi_retry_event_name(enum iscsi_retry_event ev);
/* "success", "fail", "retry now", "retry after backoff". */
const char *iscsi_retry_action_name(enum iscsi_retry_action a);
/* The number of rows in the table (the tests check each is reached). */
size_t iscsi_retry_table_size(void);

#endif
