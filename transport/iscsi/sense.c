/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>

#include "iscsi-spec.h"
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

static int check_condition_errno(const struct iscsi_sense *s, bool *retry)
{
	if (!s)
		return -EIO;
	switch (s->key) {
	case ISCSI_SENSE_RECOVERED_ERROR:
	case ISCSI_SENSE_COMPLETED:
		return 0;
	case ISCSI_SENSE_NOT_READY:
		if (s->asc == 0x3a)
			return -ENOMEDIUM;
		if (s->asc == 0x04 && (s->ascq == 0x01 || s->ascq == 0x0a)) {
			*retry = true; /* becoming ready; ALUA transition */
			return -EAGAIN;
		}
		return -EIO;
	case ISCSI_SENSE_ILLEGAL_REQUEST:
		switch (s->asc) {
		case 0x20:
			return -EOPNOTSUPP;
		case 0x21:
			return -ENOSPC;
		case 0x25:
			return -ENXIO;
		default:
			return -EINVAL;
		}
	case ISCSI_SENSE_UNIT_ATTENTION:
		*retry = true;
		return -EAGAIN;
	case ISCSI_SENSE_DATA_PROTECT:
		if (s->asc == 0x27 && s->ascq == 0x07)
			return -ENOSPC; /* thin pool out of space */
		if (s->asc == 0x27)
			return -EROFS;
		return -EPERM;
	case ISCSI_SENSE_ABORTED_COMMAND:
		if (s->asc == 0x10)
			return -EILSEQ; /* protection information check */
		*retry = true;
		return -EAGAIN;
	case ISCSI_SENSE_VOLUME_OVERFLOW:
		return -ENOSPC;
	case ISCSI_SENSE_MISCOMPARE:
		return -EILSEQ;
	case ISCSI_SENSE_BLANK_CHECK:
		return -ENODATA;
	case ISCSI_SENSE_NO_SENSE:
	case ISCSI_SENSE_MEDIUM_ERROR:
	case ISCSI_SENSE_HARDWARE_ERROR:
	default:
		return -EIO;
	}
}

int iscsi_scsi_status_to_errno(uint8_t status, const struct iscsi_sense *sense, bool *retryable)
{
	bool retry = false;
	int r;

	switch (status) {
	case ISCSI_SCSI_GOOD:
	case ISCSI_SCSI_CONDITION_MET:
		r = 0;
		break;
	case ISCSI_SCSI_CHECK_CONDITION:
		r = check_condition_errno(sense, &retry);
		break;
	case ISCSI_SCSI_BUSY:
	case ISCSI_SCSI_TASK_SET_FULL:
		retry = true;
		r = -EAGAIN;
		break;
	case ISCSI_SCSI_RESERVATION_CONFLICT:
		r = -EBADE;
		break;
	case ISCSI_SCSI_TASK_ABORTED:
		retry = true;
		r = -ECANCELED;
		break;
	case ISCSI_SCSI_ACA_ACTIVE:
	default:
		r = -EIO;
		break;
	}
	if (retryable)
		*retryable = retry;
	return r;
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

static const struct asc_name asc_names[] = {
	{0x04, 0x01, false, "logical unit is in process of becoming ready"},
	{0x04, 0x02, false, "logical unit not ready, initializing command required"},
	{0x04, 0x03, false, "logical unit not ready, manual intervention required"},
	{0x04, 0x0a, false, "logical unit not accessible, asymmetric access state transition"},
	{0x04, 0x0b, false, "logical unit not accessible, target port in standby state"},
	{0x04, 0x0c, false, "logical unit not accessible, target port in unavailable state"},
	{0x04, 0x00, true, "logical unit not ready"},
	{0x0c, 0x00, true, "write error"},
	{0x10, 0x00, true, "protection information check failed"},
	{0x11, 0x00, true, "unrecovered read error"},
	{0x1a, 0x00, false, "parameter list length error"},
	{0x1d, 0x00, false, "miscompare during verify operation"},
	{0x20, 0x00, false, "invalid command operation code"},
	{0x21, 0x00, false, "logical block address out of range"},
	{0x24, 0x00, false, "invalid field in cdb"},
	{0x25, 0x00, false, "logical unit not supported"},
	{0x26, 0x00, false, "invalid field in parameter list"},
	{0x27, 0x07, false, "space allocation failed write protect"},
	{0x27, 0x00, true, "write protected"},
	{0x28, 0x00, false, "not ready to ready change, medium may have changed"},
	{0x29, 0x00, true, "power on, reset, or bus device reset occurred"},
	{0x2a, 0x01, false, "mode parameters changed"},
	{0x2a, 0x06, false, "asymmetric access state changed"},
	{0x2a, 0x09, false, "capacity data has changed"},
	{0x38, 0x07, false, "thin provisioning soft threshold reached"},
	{0x3a, 0x00, true, "medium not present"},
	{0x3f, 0x0e, false, "reported luns data has changed"},
	{0x44, 0x00, false, "internal target failure"},
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
	if (s->info_valid)
		(void)snprintf(lba, sizeof(lba), ", lba %llu", (unsigned long long)s->info);
	(void)snprintf(buf, len, "%s%s: %s (asc 0x%02x ascq 0x%02x%s)",
		       s->deferred ? "deferred " : "", iscsi_sense_key_name(s->key),
		       what ? what : "unknown additional sense", s->asc, s->ascq, lba);
}
