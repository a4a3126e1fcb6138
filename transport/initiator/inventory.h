/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a target's LUNs are: REPORT LUNS, standard INQUIRY, VPD pages 0x00,
 * 0x80, 0x83, 0xB0 and 0xB2, READ CAPACITY(16) (10 as fallback).  Runs
 * synchronously on a logged-in session (startup and the CLI).
 */
#ifndef LUNBRIDGE_ISCSI_INVENTORY_H
#define LUNBRIDGE_ISCSI_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb-err.h"
#include "scsi.h"
#include "session.h"

#define ISCSI_INVENTORY_MAX_LUNS 4096

struct iscsi_lun_info {
	uint32_t lun;
	struct scsi_inquiry inq;
	char serial[256];  /* VPD 0x80, "" if none */
	char devid[256];   /* VPD 0x83 best designator, else the target
			    * device's name and the LUN ("IQN,lun,N"); "" if none */
	bool has_capacity; /* READ CAPACITY answered */
	struct scsi_capacity cap;
	bool has_limits; /* VPD 0xB0 */
	struct scsi_block_limits limits;
	bool has_lbp; /* VPD 0xB2 */
	struct scsi_lbp lbp;
	/* derived */
	uint64_t size_bytes;
	uint32_t max_transfer_bytes; /* 0: no limit given */
	bool unmap;		     /* UNMAP usable */
	bool write_same;	     /* WRITE SAME(16) usable (for zeroing) */
	bool write_same_unmap;	     /* WRITE SAME(16) with UNMAP */
};

/* REPORT LUNS on LUN 0, growing the allocation until every LUN fits.
 * *ret is malloc'd (free()), sorted ascending. */
int iscsi_inventory_report_luns(struct iscsi_session *s, uint32_t **ret, size_t *ret_n,
				lb_err *err);

/* Everything about one LUN.  -ENXIO when the LUN does not exist (INQUIRY
 * answers qualifier 3, or the target refuses the LUN). */
int iscsi_inventory_lun(struct iscsi_session *s, uint32_t lun, struct iscsi_lun_info *ret,
			lb_err *err);

#endif
