/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The retry policy table (retry.h), row by row as docs/ERROR-HANDLING.md
 * shows it with Linux's decision beside each row.
 *
 * A completion is matched against the rows in order; the first row whose
 * status, sense key, ASC and ASCQ all match decides.  Rows for CHECK
 * CONDITION come after the status rows; within a sense key the specific
 * ASC/ASCQ pairs come before the catch-all of that key, and the last row
 * catches everything else.  Deferred sense is decided before the table:
 * it reports an earlier command, never this one (SPC-4 §4.5.5).
 */
#include <errno.h>
#include <string.h>

#include "retry.h"

#define ANY (-1)

struct retry_row {
	int16_t status; /* ANY: any status */
	int8_t key;	/* ANY: any sense key, or no sense at all */
	int16_t asc;
	int16_t ascq;
	enum iscsi_retry_action action;
	int err;
	enum iscsi_retry_event event;
};

#define STATUS(st, act, e)                                                                         \
	{                                                                                          \
		ISCSI_SCSI_##st, ANY, ANY, ANY, ISCSI_RETRY_##act, e, ISCSI_EVENT_NONE             \
	}
#define SENSE(k, a, q, act, e, ev)                                                                 \
	{                                                                                          \
		ISCSI_SCSI_CHECK_CONDITION, ISCSI_SENSE_##k, a, q, ISCSI_RETRY_##act, e,           \
			ISCSI_EVENT_##ev                                                           \
	}

/* The table.  Keep docs/ERROR-HANDLING.md in step: its rows are these,
 * in this order, numbered from 1 (iscsi_retry_decision.row). */
static const struct retry_row rows[] = {
	/* Status without sense. */
	STATUS(GOOD, NONE, 0),
	STATUS(CONDITION_MET, NONE, 0),
	STATUS(BUSY, BACKOFF, -EIO),
	STATUS(TASK_SET_FULL, BACKOFF, -EIO),
	STATUS(TASK_ABORTED, NOW, -EIO), /* another nexus's TMF aborted it */
	STATUS(RESERVATION_CONFLICT, FAIL, -EBADE),
	STATUS(ACA_ACTIVE, FAIL, -EIO), /* we never set NACA: a target fault */

	/* CHECK CONDITION: success after all. */
	SENSE(RECOVERED_ERROR, ANY, ANY, NONE, 0, NONE),

	/* NOT READY: transient states retried with backoff. */
	SENSE(NOT_READY, 0x04, 0x01, BACKOFF, -EIO, NONE), /* becoming ready */
	SENSE(NOT_READY, 0x04, 0x04, BACKOFF, -EIO, NONE), /* format in progress */
	SENSE(NOT_READY, 0x04, 0x05, BACKOFF, -EIO, NONE), /* rebuild in progress */
	SENSE(NOT_READY, 0x04, 0x06, BACKOFF, -EIO, NONE), /* recalculation in progress */
	SENSE(NOT_READY, 0x04, 0x07, BACKOFF, -EIO, NONE), /* operation in progress */
	SENSE(NOT_READY, 0x04, 0x08, BACKOFF, -EIO, NONE), /* long write in progress */
	SENSE(NOT_READY, 0x04, 0x09, BACKOFF, -EIO, NONE), /* self-test in progress */
	SENSE(NOT_READY, 0x04, 0x0a, BACKOFF, -EIO, NONE), /* ALUA transition */
	SENSE(NOT_READY, 0x04, 0x0b, FAIL, -EIO, NONE),	   /* ALUA standby */
	SENSE(NOT_READY, 0x04, 0x0c, FAIL, -EIO, NONE),	   /* ALUA unavailable */
	SENSE(NOT_READY, 0x04, 0x11, BACKOFF, -EIO, NONE), /* notify (enable spinup) required */
	SENSE(NOT_READY, 0x04, 0x14, BACKOFF, -EIO, NONE), /* space allocation in progress */
	SENSE(NOT_READY, 0x04, 0x1a, BACKOFF, -EIO, NONE), /* start stop unit in progress */
	SENSE(NOT_READY, 0x04, 0x1b, BACKOFF, -EIO, NONE), /* sanitize in progress */
	SENSE(NOT_READY, 0x04, 0x1d, BACKOFF, -EIO, NONE), /* configuration in progress */
	SENSE(NOT_READY, 0x04, 0x24, BACKOFF, -EIO, NONE), /* depopulation in progress */
	SENSE(NOT_READY, 0x04, 0x25, BACKOFF, -EIO, NONE), /* depopulation restore */
	SENSE(NOT_READY, 0x3a, ANY, FAIL, -ENOMEDIUM, NONE),
	SENSE(NOT_READY, ANY, ANY, FAIL, -EIO, NONE), /* 04/00, 04/02, 04/03, ... */

	/* Errors of the medium or the target: final. */
	SENSE(MEDIUM_ERROR, ANY, ANY, FAIL, -EIO, NONE),
	SENSE(HARDWARE_ERROR, ANY, ANY, FAIL, -EIO, NONE),

	/* ILLEGAL REQUEST: the command itself is wrong for this LUN. */
	SENSE(ILLEGAL_REQUEST, 0x10, ANY, FAIL, -EILSEQ, NONE), /* protection information */
	SENSE(ILLEGAL_REQUEST, 0x20, ANY, FAIL, -EOPNOTSUPP, NONE),
	SENSE(ILLEGAL_REQUEST, 0x21, ANY, FAIL, -EINVAL, NONE), /* LBA out of range */
	SENSE(ILLEGAL_REQUEST, 0x24, ANY, FAIL, -EINVAL, NONE),
	SENSE(ILLEGAL_REQUEST, 0x25, ANY, FAIL, -ENXIO, NONE),
	SENSE(ILLEGAL_REQUEST, 0x27, ANY, FAIL, -EROFS, NONE),
	SENSE(ILLEGAL_REQUEST, ANY, ANY, FAIL, -EINVAL, NONE),

	/* UNIT ATTENTION: the command was not executed; tell, then again. */
	SENSE(UNIT_ATTENTION, 0x29, ANY, NOW, -EIO, RESET),
	SENSE(UNIT_ATTENTION, 0x2a, 0x01, NOW, -EIO, MODE_CHANGED),
	SENSE(UNIT_ATTENTION, 0x2a, 0x06, NOW, -EIO, ALUA_CHANGED),
	SENSE(UNIT_ATTENTION, 0x2a, 0x07, NOW, -EIO, ALUA_CHANGED), /* implicit transition failed */
	SENSE(UNIT_ATTENTION, 0x2a, 0x09, NOW, -EIO, CAPACITY_CHANGED),
	SENSE(UNIT_ATTENTION, 0x38, 0x07, NOW, -EIO, THIN_THRESHOLD),
	SENSE(UNIT_ATTENTION, 0x3f, 0x03, NOW, -EIO, INQUIRY_CHANGED),
	SENSE(UNIT_ATTENTION, 0x3f, 0x0e, NOW, -EIO, LUNS_CHANGED),
	SENSE(UNIT_ATTENTION, ANY, ANY, NOW, -EIO, OTHER_UA),

	/* DATA PROTECT */
	SENSE(DATA_PROTECT, 0x27, 0x07, FAIL, -ENOSPC, NONE), /* space allocation failed */
	SENSE(DATA_PROTECT, 0x27, ANY, FAIL, -EROFS, NONE),
	SENSE(DATA_PROTECT, ANY, ANY, FAIL, -EPERM, NONE),

	/* ABORTED COMMAND: the target gave up on it, not on the LUN. */
	SENSE(ABORTED_COMMAND, 0x10, ANY, FAIL, -EILSEQ, NONE), /* protection information */
	SENSE(ABORTED_COMMAND, ANY, ANY, BACKOFF, -EIO, NONE),

	/* The rest of the sense keys. */
	SENSE(VOLUME_OVERFLOW, ANY, ANY, FAIL, -ENOSPC, NONE),
	SENSE(MISCOMPARE, ANY, ANY, FAIL, -EILSEQ, NONE),
	SENSE(BLANK_CHECK, ANY, ANY, FAIL, -ENODATA, NONE),

	/* Anything else: CHECK CONDITION without sense, NO SENSE, COPY
	 * ABORTED, COMPLETED, vendor specific, unknown status. */
	{ANY, ANY, ANY, ANY, ISCSI_RETRY_FAIL, -EIO, ISCSI_EVENT_NONE},
};

static bool row_matches(const struct retry_row *r, uint8_t status, const struct iscsi_sense *s)
{
	if (r->status != ANY && r->status != status)
		return false;
	if (r->key == ANY)
		return true;
	return s && s->key == r->key && (r->asc == ANY || r->asc == s->asc) &&
	       (r->ascq == ANY || r->ascq == s->ascq);
}

/* 100 ms, doubling with each try, at most 2 s: a transition of a few
 * seconds costs a few tries, a minute-long failover one try every 2 s. */
static uint32_t backoff_ms(unsigned attempt)
{
	uint32_t d = ISCSI_RETRY_BACKOFF_MIN_MS;

	while (attempt-- > 1 && d < ISCSI_RETRY_BACKOFF_MAX_MS)
		d *= 2;
	return d < ISCSI_RETRY_BACKOFF_MAX_MS ? d : ISCSI_RETRY_BACKOFF_MAX_MS;
}

void iscsi_retry_decide(uint8_t status, const struct iscsi_sense *sense, unsigned attempt,
			bool is_write, struct iscsi_retry_decision *ret)
{
	const struct retry_row *r = NULL;
	size_t i;

	/* No row depends on the direction: Linux retries medium errors
	 * other than 11/13/14 for reads and writes alike; we fail both. */
	(void)is_write;
	memset(ret, 0, sizeof(*ret));
	if (status == ISCSI_SCSI_CHECK_CONDITION && sense && sense->deferred) {
		/* The sense is about an earlier command (its LBA in
		 * INFORMATION); this one was not executed. */
		ret->action = ISCSI_RETRY_NOW;
		ret->err = -EIO;
		ret->event = ISCSI_EVENT_DEFERRED_ERROR;
		ret->log = true;
	} else {
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			if (row_matches(&rows[i], status, sense))
				break;
		r = &rows[i]; /* the last row matches everything */
		ret->row = (uint16_t)(i + 1);
		ret->action = r->action;
		ret->err = r->err;
		ret->event = r->event;
		/* Anything but a plain success is worth a line (rate-limited
		 * by the session): a failure, a retry (BUSY too, though it
		 * has no sense), and sense whatever the outcome (Linux prints
		 * RECOVERED ERROR too). */
		ret->log = r->action != ISCSI_RETRY_NONE ||
			   (status == ISCSI_SCSI_CHECK_CONDITION && sense);
	}
	if (ret->action == ISCSI_RETRY_NOW && attempt > ISCSI_RETRY_NOW_MAX) {
		/* A target that answers every try with a unit attention (or
		 * aborts every try) must not spin the session: after a few
		 * immediate tries, the backoff. */
		ret->action = ISCSI_RETRY_BACKOFF;
		ret->delay_ms = backoff_ms(attempt - ISCSI_RETRY_NOW_MAX);
	} else if (ret->action == ISCSI_RETRY_BACKOFF) {
		ret->delay_ms = backoff_ms(attempt);
	}
}

size_t iscsi_retry_table_size(void)
{
	return sizeof(rows) / sizeof(rows[0]);
}

const char *iscsi_retry_action_name(enum iscsi_retry_action a)
{
	switch (a) {
	case ISCSI_RETRY_NONE:
		return "success";
	case ISCSI_RETRY_FAIL:
		return "fail";
	case ISCSI_RETRY_NOW:
		return "retry now";
	case ISCSI_RETRY_BACKOFF:
		return "retry after backoff";
	}
	return "unknown";
}

const char *iscsi_retry_event_name(enum iscsi_retry_event ev)
{
	switch (ev) {
	case ISCSI_EVENT_NONE:
		return "none";
	case ISCSI_EVENT_CAPACITY_CHANGED:
		return "capacity data has changed";
	case ISCSI_EVENT_MODE_CHANGED:
		return "mode parameters changed";
	case ISCSI_EVENT_LUNS_CHANGED:
		return "reported LUNs data has changed";
	case ISCSI_EVENT_INQUIRY_CHANGED:
		return "inquiry data has changed";
	case ISCSI_EVENT_THIN_THRESHOLD:
		return "thin provisioning soft threshold reached";
	case ISCSI_EVENT_ALUA_CHANGED:
		return "asymmetric access state changed";
	case ISCSI_EVENT_RESET:
		return "power on, reset or bus device reset";
	case ISCSI_EVENT_DEFERRED_ERROR:
		return "deferred error";
	case ISCSI_EVENT_OTHER_UA:
		return "unit attention";
	}
	return "unknown";
}
