/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>

#include "iscsi-spec.h"
#include "retry.h"
#include "scsi.h"
#include "sense.h"

static size_t sense_effective_len(const uint8_t *buf, size_t len)
{
	/* ADDITIONAL LENGTH (byte 7) bounds the data; never trust it past len. */
	if (len >= 8 && (size_t)8 + buf[7] < len)
		return (size_t)8 + buf[7];
	return len;
}

static void parse_descriptors(const uint8_t *buf, size_t len, struct iscsi_sense *s)
{
	size_t d = 8;

	while (d + 2 <= len) {
		uint8_t type = buf[d], dlen = buf[d + 1];

		if ((size_t)dlen > len - d - 2)
			break; /* truncated descriptor: ignore it */
		/* Information descriptor (SPC-4 §4.5.2.2): length 0x0a. */
		if (type == 0x00 && dlen >= 0x0a) {
			s->info_valid = buf[d + 2] & 0x80;
			s->info = iscsi_get_be64(buf + d + 4);
		}
		d += 2 + (size_t)dlen;
	}
}

int iscsi_sense_parse(const uint8_t *buf, size_t len, struct iscsi_sense *ret)
{
	struct iscsi_sense s = {0};

	if (len < 1)
		return -EINVAL;
	s.response_code = buf[0] & 0x7f;
	switch (s.response_code) {
	case 0x70:
	case 0x71:
		if (len < 3)
			return -EINVAL;
		len = sense_effective_len(buf, len);
		s.deferred = s.response_code == 0x71;
		s.key = buf[2] & 0x0f;
		if (len >= 7 && (buf[0] & 0x80)) {
			s.info_valid = true;
			s.info = iscsi_get_be32(buf + 3);
		}
		if (len >= 13)
			s.asc = buf[12];
		if (len >= 14)
			s.ascq = buf[13];
		break;
	case 0x72:
	case 0x73:
		if (len < 4)
			return -EINVAL;
		len = sense_effective_len(buf, len);
		if (len < 4)
			return -EINVAL;
		s.deferred = s.response_code == 0x73;
		s.key = buf[1] & 0x0f;
		s.asc = buf[2];
		s.ascq = buf[3];
		parse_descriptors(buf, len, &s);
		break;
	default:
		return -EINVAL;
	}
	*ret = s;
	return 0;
}

int iscsi_sense_from_segment(const uint8_t *seg, size_t seg_len, const uint8_t **ret_sense,
			     size_t *ret_len)
{
	uint16_t slen;

	*ret_sense = NULL;
	*ret_len = 0;
	if (seg_len == 0)
		return 0;
	if (seg_len < 2)
		return -EPROTO;
	slen = iscsi_get_be16(seg);
	if (slen > seg_len - 2)
		return -EPROTO;
	if (slen) {
		*ret_sense = seg + 2;
		*ret_len = slen;
	}
	return 0;
}

int iscsi_scsi_status_to_errno(uint8_t status, const struct iscsi_sense *sense, bool *retryable)
{
	struct iscsi_retry_decision d;

	/* One table decides (retry.c); this is its first-try answer. */
	iscsi_retry_decide(status, sense, 1, false, &d);
	if (retryable)
		*retryable = d.action == ISCSI_RETRY_NOW || d.action == ISCSI_RETRY_BACKOFF;
	return d.action == ISCSI_RETRY_NONE ? 0 : d.err;
}

const char *iscsi_scsi_status_name(uint8_t status)
{
	switch (status) {
	case ISCSI_SCSI_GOOD:
		return "GOOD";
	case ISCSI_SCSI_CHECK_CONDITION:
		return "CHECK CONDITION";
	case ISCSI_SCSI_CONDITION_MET:
		return "CONDITION MET";
	case ISCSI_SCSI_BUSY:
		return "BUSY";
	case ISCSI_SCSI_RESERVATION_CONFLICT:
		return "RESERVATION CONFLICT";
	case ISCSI_SCSI_TASK_SET_FULL:
		return "TASK SET FULL";
	case ISCSI_SCSI_ACA_ACTIVE:
		return "ACA ACTIVE";
	case ISCSI_SCSI_TASK_ABORTED:
		return "TASK ABORTED";
	default:
		return "unknown status";
	}
}

const char *iscsi_sense_key_name(uint8_t key)
{
	static const char *const names[16] = {
		"NO SENSE",	  "RECOVERED ERROR", "NOT READY",      "MEDIUM ERROR",
		"HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
		"BLANK CHECK",	  "VENDOR SPECIFIC", "COPY ABORTED",   "ABORTED COMMAND",
		"reserved (0xc)", "VOLUME OVERFLOW", "MISCOMPARE",     "COMPLETED",
	};

	return names[key & 0x0f];
}

struct asc_name {
	uint8_t asc;
	uint8_t ascq;
	bool any_ascq;
	const char *name;
};

/* SPC-4 Annex D's words for the pairs the retry table (retry.c) names,
 * and a few more an array is likely to send.  Specific ASCQs first: the
 * first match wins. */
static const struct asc_name asc_names[] = {
	{0x00, 0x00, false, "no additional sense information"},
	{0x04, 0x00, false, "logical unit not ready, cause not reportable"},
	{0x04, 0x01, false, "logical unit is in process of becoming ready"},
	{0x04, 0x02, false, "logical unit not ready, initializing command required"},
	{0x04, 0x03, false, "logical unit not ready, manual intervention required"},
	{0x04, 0x04, false, "logical unit not ready, format in progress"},
	{0x04, 0x05, false, "logical unit not ready, rebuild in progress"},
	{0x04, 0x06, false, "logical unit not ready, recalculation in progress"},
	{0x04, 0x07, false, "logical unit not ready, operation in progress"},
	{0x04, 0x08, false, "logical unit not ready, long write in progress"},
	{0x04, 0x09, false, "logical unit not ready, self-test in progress"},
	{0x04, 0x0a, false, "logical unit not accessible, asymmetric access state transition"},
	{0x04, 0x0b, false, "logical unit not accessible, target port in standby state"},
	{0x04, 0x0c, false, "logical unit not accessible, target port in unavailable state"},
	{0x04, 0x11, false, "logical unit not ready, notify (enable spinup) required"},
	{0x04, 0x14, false, "logical unit not ready, space allocation in progress"},
	{0x04, 0x1a, false, "logical unit not ready, start stop unit command in progress"},
	{0x04, 0x1b, false, "logical unit not ready, sanitize in progress"},
	{0x04, 0x1d, false, "logical unit not ready, additional power use not yet granted"},
	{0x04, 0x24, false, "depopulation in progress"},
	{0x04, 0x25, false, "depopulation restoration in progress"},
	{0x04, 0x00, true, "logical unit not ready"},
	{0x08, 0x00, true, "logical unit communication failure"},
	{0x0c, 0x00, true, "write error"},
	{0x10, 0x01, false, "logical block guard check failed"},
	{0x10, 0x02, false, "logical block application tag check failed"},
	{0x10, 0x03, false, "logical block reference tag check failed"},
	{0x10, 0x00, true, "protection information check failed"},
	{0x11, 0x00, true, "unrecovered read error"},
	{0x13, 0x00, true, "address mark not found for data field"},
	{0x14, 0x00, true, "recorded entity not found"},
	{0x1a, 0x00, false, "parameter list length error"},
	{0x1d, 0x00, false, "miscompare during verify operation"},
	{0x20, 0x00, true, "invalid command operation code"},
	{0x21, 0x00, false, "logical block address out of range"},
	{0x21, 0x01, false, "invalid element address"},
	{0x24, 0x00, true, "invalid field in cdb"},
	{0x25, 0x00, true, "logical unit not supported"},
	{0x26, 0x00, true, "invalid field in parameter list"},
	{0x27, 0x07, false, "space allocation failed write protect"},
	{0x27, 0x00, true, "write protected"},
	{0x28, 0x00, true, "not ready to ready change, medium may have changed"},
	{0x29, 0x01, false, "power on occurred"},
	{0x29, 0x02, false, "scsi bus reset occurred"},
	{0x29, 0x03, false, "bus device reset function occurred"},
	{0x29, 0x04, false, "device internal reset"},
	{0x29, 0x07, false, "i_t nexus loss occurred"},
	{0x29, 0x00, true, "power on, reset, or bus device reset occurred"},
	{0x2a, 0x01, false, "mode parameters changed"},
	{0x2a, 0x03, false, "reservations preempted"},
	{0x2a, 0x04, false, "reservations released"},
	{0x2a, 0x05, false, "registrations preempted"},
	{0x2a, 0x06, false, "asymmetric access state changed"},
	{0x2a, 0x07, false, "implicit asymmetric access state transition failed"},
	{0x2a, 0x09, false, "capacity data has changed"},
	{0x2a, 0x00, true, "parameters changed"},
	{0x2e, 0x00, true, "insufficient time for operation"},
	{0x38, 0x07, false, "thin provisioning soft threshold reached"},
	{0x3a, 0x00, true, "medium not present"},
	{0x3f, 0x01, false, "microcode has been changed"},
	{0x3f, 0x03, false, "inquiry data has changed"},
	{0x3f, 0x0e, false, "reported luns data has changed"},
	{0x3f, 0x00, true, "target operating conditions have changed"},
	{0x44, 0x00, true, "internal target failure"},
	{0x47, 0x00, true, "scsi parity error"},
	{0x4b, 0x00, true, "data phase error"},
	{0x55, 0x00, true, "system resource failure"},
};

const char *iscsi_sense_asc_name(uint8_t asc, uint8_t ascq)
{
	for (size_t i = 0; i < sizeof(asc_names) / sizeof(asc_names[0]); i++) {
		const struct asc_name *a = &asc_names[i];

		if (a->asc == asc && (a->any_ascq || a->ascq == ascq))
			return a->name;
	}
	return NULL;
}

void iscsi_sense_describe(const struct iscsi_sense *s, char *buf, size_t len)
{
	const char *what = iscsi_sense_asc_name(s->asc, s->ascq);
	char lba[40] = "";

	if (len == 0)
		return;
	/* INFORMATION is the failing LBA for the block commands we issue. */
	if (s->info_valid)
		(void)snprintf(lba, sizeof(lba), ", lba %llu", (unsigned long long)s->info);
	(void)snprintf(buf, len, "%s%s: %s (asc 0x%02x ascq 0x%02x%s)",
		       s->deferred ? "deferred error: " : "", iscsi_sense_key_name(s->key),
		       what ? what : "unknown additional sense", s->asc, s->ascq, lba);
}

const char *iscsi_scsi_cdb_name(uint8_t opcode)
{
	switch (opcode) {
	case SCSI_OP_TEST_UNIT_READY:
		return "TEST UNIT READY";
	case 0x03:
		return "REQUEST SENSE";
	case 0x08:
		return "READ(6)";
	case 0x0a:
		return "WRITE(6)";
	case SCSI_OP_INQUIRY:
		return "INQUIRY";
	case SCSI_OP_MODE_SENSE6:
		return "MODE SENSE(6)";
	case 0x1b:
		return "START STOP UNIT";
	case SCSI_OP_READ_CAPACITY10:
		return "READ CAPACITY(10)";
	case SCSI_OP_READ10:
		return "READ(10)";
	case SCSI_OP_WRITE10:
		return "WRITE(10)";
	case 0x2f:
		return "VERIFY(10)";
	case SCSI_OP_SYNCHRONIZE_CACHE10:
		return "SYNCHRONIZE CACHE(10)";
	case SCSI_OP_WRITE_SAME10:
		return "WRITE SAME(10)";
	case SCSI_OP_UNMAP:
		return "UNMAP";
	case SCSI_OP_MODE_SENSE10:
		return "MODE SENSE(10)";
	case 0x5e:
		return "PERSISTENT RESERVE IN";
	case 0x5f:
		return "PERSISTENT RESERVE OUT";
	case SCSI_OP_READ16:
		return "READ(16)";
	case 0x89:
		return "COMPARE AND WRITE";
	case SCSI_OP_WRITE16:
		return "WRITE(16)";
	case 0x8f:
		return "VERIFY(16)";
	case SCSI_OP_SYNCHRONIZE_CACHE16:
		return "SYNCHRONIZE CACHE(16)";
	case SCSI_OP_WRITE_SAME16:
		return "WRITE SAME(16)";
	case SCSI_OP_SERVICE_ACTION_IN16:
		return "SERVICE ACTION IN(16)";
	case SCSI_OP_REPORT_LUNS:
		return "REPORT LUNS";
	case 0xa3:
		return "MAINTENANCE IN";
	case 0xa8:
		return "READ(12)";
	case 0xaa:
		return "WRITE(12)";
	default:
		return "unknown command";
	}
}
