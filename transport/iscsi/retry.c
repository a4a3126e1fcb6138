/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The retry policy table (retry.h).  First version: the mapping of
 * iscsi_scsi_status_to_errno() with a capped backoff; see
 * docs/ERROR-HANDLING.md for the table.
 */
#include <errno.h>
#include <string.h>

#include "retry.h"

static uint32_t backoff_ms(unsigned attempt)
{
	uint32_t d = 100;

	while (attempt-- > 1 && d < 2000)
		d *= 2;
	return d < 2000 ? d : 2000;
}

void iscsi_retry_decide(uint8_t status, const struct iscsi_sense *sense, unsigned attempt,
			bool is_write, struct iscsi_retry_decision *ret)
{
	bool retry = false;
	int r = iscsi_scsi_status_to_errno(status, sense, &retry);

	(void)is_write;
	memset(ret, 0, sizeof(*ret));
	ret->err = r;
	if (r == 0) {
		ret->action = ISCSI_RETRY_NONE;
		return;
	}
	ret->log = true;
	if (sense && sense->deferred) {
		ret->action = ISCSI_RETRY_NOW;
		ret->event = ISCSI_EVENT_DEFERRED_ERROR;
		return;
	}
	if (sense && sense->key == ISCSI_SENSE_UNIT_ATTENTION) {
		ret->action = ISCSI_RETRY_NOW;
		ret->event = ISCSI_EVENT_OTHER_UA;
		return;
	}
	if (retry) {
		ret->action = ISCSI_RETRY_BACKOFF;
		ret->delay_ms = backoff_ms(attempt);
		return;
	}
	ret->action = ISCSI_RETRY_FAIL;
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
