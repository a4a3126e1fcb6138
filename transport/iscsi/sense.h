/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SCSI status and sense data (SPC-4 §4.5): decoding of fixed (0x70/0x71)
 * and descriptor (0x72/0x73) sense, the iSCSI SCSI Response data segment
 * (RFC 7143 §11.4.7), the mapping to -errno, and descriptions for errors.
 */
#ifndef LUNBRIDGE_ISCSI_SENSE_H
#define LUNBRIDGE_ISCSI_SENSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SAM-5 status codes. */
enum {
	ISCSI_SCSI_GOOD = 0x00,
	ISCSI_SCSI_CHECK_CONDITION = 0x02,
	ISCSI_SCSI_CONDITION_MET = 0x04,
	ISCSI_SCSI_BUSY = 0x08,
	ISCSI_SCSI_RESERVATION_CONFLICT = 0x18,
	ISCSI_SCSI_TASK_SET_FULL = 0x28,
	ISCSI_SCSI_ACA_ACTIVE = 0x30,
	ISCSI_SCSI_TASK_ABORTED = 0x40,
};

/* Sense keys. */
enum {
	ISCSI_SENSE_NO_SENSE = 0x0,
	ISCSI_SENSE_RECOVERED_ERROR = 0x1,
	ISCSI_SENSE_NOT_READY = 0x2,
	ISCSI_SENSE_MEDIUM_ERROR = 0x3,
	ISCSI_SENSE_HARDWARE_ERROR = 0x4,
	ISCSI_SENSE_ILLEGAL_REQUEST = 0x5,
	ISCSI_SENSE_UNIT_ATTENTION = 0x6,
	ISCSI_SENSE_DATA_PROTECT = 0x7,
	ISCSI_SENSE_BLANK_CHECK = 0x8,
	ISCSI_SENSE_VENDOR_SPECIFIC = 0x9,
	ISCSI_SENSE_COPY_ABORTED = 0xa,
	ISCSI_SENSE_ABORTED_COMMAND = 0xb,
	ISCSI_SENSE_VOLUME_OVERFLOW = 0xd,
	ISCSI_SENSE_MISCOMPARE = 0xe,
	ISCSI_SENSE_COMPLETED = 0xf,
};

struct iscsi_sense {
	uint8_t response_code; /* 0x70..0x73 */
	bool deferred;	       /* 0x71 / 0x73 */
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
	bool info_valid;
	uint64_t info; /* INFORMATION: usually the failing LBA */
};

/* Decode sense data (len bytes, bounded by its own ADDITIONAL LENGTH).
 * -EINVAL for an unknown response code or data too short for the key;
 * ASC/ASCQ missing from short fixed sense read as 0. */
int iscsi_sense_parse(const uint8_t *buf, size_t len, struct iscsi_sense *ret);

/* The sense bytes inside a SCSI Response data segment (2-byte
 * SenseLength, sense, then response data).  *ret_sense is NULL and
 * *ret_len 0 when there is none; -EPROTO when SenseLength overruns. */
int iscsi_sense_from_segment(const uint8_t *seg, size_t seg_len, const uint8_t **ret_sense,
			     size_t *ret_len);

/* Map a completed command to 0 or -errno.  sense may be NULL.  *retryable
 * (if non-NULL) says whether re-issuing the command may succeed (BUSY,
 * TASK SET FULL, UNIT ATTENTION, becoming ready, ABORTED COMMAND, deferred
 * errors).  The first-try answer of the retry table, iscsi_retry_decide()
 * in retry.h, which says more (backoff, events). */
int iscsi_scsi_status_to_errno(uint8_t status, const struct iscsi_sense *sense, bool *retryable);

const char *iscsi_scsi_status_name(uint8_t status);
const char *iscsi_sense_key_name(uint8_t key);
/* Text for common ASC/ASCQ pairs, or NULL. */
const char *iscsi_sense_asc_name(uint8_t asc, uint8_t ascq);

/* "MEDIUM ERROR: unrecovered read error (asc 0x11 ascq 0x00, lba 1234)";
 * deferred sense (an earlier command's) begins "deferred error: ".  The
 * lba is INFORMATION, when the target marked it valid.  Truncated to len. */
void iscsi_sense_describe(const struct iscsi_sense *sense, char *buf, size_t len);

/* The command an opcode names, for the log: "READ(16)", "WRITE(10)",
 * "SYNCHRONIZE CACHE(10)", ...; "unknown command" for the others.  Static. */
const char *iscsi_scsi_cdb_name(uint8_t opcode);

#endif
