/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a target's LUNs are: REPORT LUNS, standard INQUIRY, VPD pages 0x00,
 * 0x80, 0x83, 0xB0 and 0xB2, READ CAPACITY(16) (10 as fallback), MODE
 * SENSE(10) (6 as fallback) for write protection, DPOFUA and the Caching
 * page.  Runs synchronously on a logged-in session (startup and the CLI).
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
	bool has_mode; /* MODE SENSE answered (mode.has_caching: with the Caching page) */
	struct scsi_mode_info mode;
	/* derived */
	uint64_t size_bytes;
	uint32_t max_transfer_bytes; /* 0: no limit given */
	bool unmap;		     /* UNMAP usable */
	bool write_same;	     /* WRITE SAME(16) usable (for zeroing) */
	bool write_same_unmap;	     /* WRITE SAME(16) with UNMAP */
	bool lbprz;	      /* unmapped blocks read zeroes (VPD 0xB2 or READ CAPACITY(16)) */
	bool write_protected; /* MODE SENSE: WP */
	bool dpofua;	      /* MODE SENSE: DPO and FUA bits honoured */
	/* a volatile write cache: the Caching page's WCE, or, when MODE
	 * SENSE gave no Caching page, assumed (a needless SYNCHRONIZE CACHE
	 * costs little, a missing one loses data) */
	bool wce;
};

/* REPORT LUNS on LUN 0, growing the allocation until every LUN fits.
 * *ret is malloc'd (free()), sorted ascending. */
int iscsi_inventory_report_luns(struct iscsi_session *s, uint32_t **ret, size_t *ret_n,
				lb_err *err);

/* Everything about one LUN.  -ENXIO when the LUN does not exist (INQUIRY
 * answers a peripheral qualifier other than 0 or device type 0x1f, or the
 * target refuses the LUN); -ERANGE for a LUN above SCSI_LUN_MAX, before
 * anything is sent. */
int iscsi_inventory_lun(struct iscsi_session *s, uint32_t lun, struct iscsi_lun_info *ret,
			lb_err *err);

/* At attach, for a LUN with a write cache (info->wce): SYNCHRONIZE CACHE
 * once.  A LUN that refuses it as an unknown command (ILLEGAL REQUEST
 * 20/xx) has no cache to flush: info->wce becomes false (Linux's
 * sd_sync_cache() takes that answer as success, too).  0, or -errno
 * (with err) for another failure, which the caller may ignore. */
int iscsi_inventory_probe_sync_cache(struct iscsi_session *s, struct iscsi_lun_info *info,
				     lb_err *err);

#endif
