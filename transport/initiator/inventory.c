/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"

static int run(struct iscsi_session *s, uint32_t lun, const uint8_t *cdb, int cdb_len, void *buf,
	       uint32_t len, size_t *ret_len)
{
	struct iovec iov = {buf, len};
	struct iscsi_cmd cmd = {
		.lun = lun,
		.cdb_len = (uint8_t)cdb_len,
		.dir = len ? ISCSI_DIR_READ : ISCSI_DIR_NONE,
		.iov = &iov,
		.iovcnt = len ? 1 : 0,
		.length = len,
		.quiet = true, /* the caller tells what a refusal means */
	};
	int r;

	memcpy(cmd.cdb, cdb, (size_t)cdb_len);
	r = iscsi_session_cmd_sync(s, &cmd);
	if (r >= 0 && ret_len)
		*ret_len = (size_t)r;
	return r < 0 ? r : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int iscsi_inventory_report_luns(struct iscsi_session *s, uint32_t **ret, size_t *ret_n, lb_err *err)
{
	uint32_t alloc = 16 + 8 * 256;

	for (int tries = 0; tries < 3; tries++) {
		uint8_t cdb[ISCSI_CDB_MAX];
		uint8_t *buf = malloc(alloc);
		uint32_t *luns;
		size_t got, n, total;
		int r, len;

		if (!buf)
			return lb_err_set(err, ENOMEM, "out of memory");
		len = scsi_cdb_report_luns(cdb, alloc);
		r = run(s, 0, cdb, len, buf, alloc, &got);
		if (r < 0) {
			free(buf);
			return lb_err_set(err, r, "REPORT LUNS failed: %s",
					  r == -ETIMEDOUT || r == -EIO ? iscsi_session_error(s)
								       : strerror(-r));
		}
		luns = calloc(ISCSI_INVENTORY_MAX_LUNS, sizeof(*luns));
		if (!luns) {
			free(buf);
			return lb_err_set(err, ENOMEM, "out of memory");
		}
		r = scsi_report_luns_parse(buf, got, luns, ISCSI_INVENTORY_MAX_LUNS, &n, &total);
		free(buf);
		if (r < 0) {
			free(luns);
			return lb_err_set(err, r, "malformed REPORT LUNS data");
		}
		if (n < total && total <= ISCSI_INVENTORY_MAX_LUNS && 16 + 8 * total > alloc) {
			free(luns);
			alloc = (uint32_t)(16 + 8 * total);
			continue;
		}
		qsort(luns, n, sizeof(*luns), cmp_u32);
		*ret = luns;
		*ret_n = n;
		return 0;
	}
	return lb_err_set(err, EPROTO, "REPORT LUNS keeps growing");
}

static int vpd(struct iscsi_session *s, uint32_t lun, uint8_t page, uint8_t *buf, uint16_t cap,
	       size_t *ret_len)
{
	uint8_t cdb[ISCSI_CDB_MAX];
	int len = scsi_cdb_inquiry(cdb, true, page, cap);

	return run(s, lun, cdb, len, buf, cap, ret_len);
}

static bool has_page(const uint8_t *pages, size_t n, bool probe_all, uint8_t page)
{
	return probe_all || scsi_vpd_has(pages, n, page);
}

/* A LUN with no designator of its own (LIO without a unit serial) is
 * named by its target device's SCSI name string and its number: stable
 * for as long as the target keeps both, which is what a LUN without an
 * identity can offer (Linux gives such a LUN no wwid at all). */
static void target_device_id(const uint8_t *page, size_t len, uint32_t lun, char *out, size_t cap)
{
	char name[224];
	int n;

	if (scsi_vpd_target_name_parse(page, len, name, sizeof(name)) < 0)
		return;
	n = snprintf(out, cap, "%s,lun,%u", name, lun);
	if (n < 0 || (size_t)n >= cap)
		out[0] = '\0';
}

/* Device types made of logical blocks, READ CAPACITY's (SBC, MMC, RBC,
 * ZBC): disk, write-once, cd/dvd, optical memory, rbc, zbc. */
static bool has_blocks(uint8_t device_type)
{
	switch (device_type) {
	case 0x00:
	case 0x04:
	case 0x05:
	case 0x07:
	case 0x0e:
	case 0x14:
		return true;
	default:
		return false;
	}
}

/* READ CAPACITY(16), READ CAPACITY(10) from a LUN that refuses it. */
static void read_capacity(struct iscsi_session *s, uint32_t lun, struct iscsi_lun_info *info)
{
	uint8_t cdb[ISCSI_CDB_MAX], buf[32];
	size_t got = 0;
	int len;

	len = scsi_cdb_read_capacity16(cdb, sizeof(buf));
	if (run(s, lun, cdb, len, buf, sizeof(buf), &got) == 0 &&
	    scsi_read_capacity16_parse(buf, got, &info->cap) == 0) {
		info->has_capacity = true;
		return;
	}
	len = scsi_cdb_read_capacity10(cdb);
	if (run(s, lun, cdb, len, buf, 8, &got) == 0 &&
	    scsi_read_capacity10_parse(buf, got, &info->cap) == 0)
		info->has_capacity = true;
}

/* MODE SENSE for the Caching page: the 10-byte form first, the 6-byte one
 * for a LUN that refuses it (as Linux's sd does).  A LUN that answers
 * without the Caching page is asked for every page, which some return
 * instead. */
static void mode_sense(struct iscsi_session *s, uint32_t lun, struct iscsi_lun_info *info)
{
	uint8_t cdb[ISCSI_CDB_MAX], buf[255];
	size_t got = 0;
	bool ten = true;
	int len, r;

	len = scsi_cdb_mode_sense10(cdb, SCSI_MODE_PAGE_CACHING, sizeof(buf));
	r = run(s, lun, cdb, len, buf, sizeof(buf), &got);
	if (r < 0 || scsi_mode_sense_parse(buf, got, true, &info->mode) < 0) {
		ten = false;
		len = scsi_cdb_mode_sense6(cdb, SCSI_MODE_PAGE_CACHING, sizeof(buf));
		r = run(s, lun, cdb, len, buf, sizeof(buf), &got);
		if (r < 0 || scsi_mode_sense_parse(buf, got, false, &info->mode) < 0)
			return;
	}
	info->has_mode = true;
	if (info->mode.has_caching)
		return;
	len = ten ? scsi_cdb_mode_sense10(cdb, SCSI_MODE_PAGE_ALL, sizeof(buf))
		  : scsi_cdb_mode_sense6(cdb, SCSI_MODE_PAGE_ALL, sizeof(buf));
	if (run(s, lun, cdb, len, buf, sizeof(buf), &got) == 0)
		(void)scsi_mode_sense_parse(buf, got, ten, &info->mode);
}

int iscsi_inventory_probe_sync_cache(struct iscsi_session *s, struct iscsi_lun_info *info,
				     lb_err *err)
{
	uint8_t cdb[ISCSI_CDB_MAX];
	int len, r;

	if (!info->wce)
		return 0;
	len = scsi_cdb_sync_cache10(cdb);
	r = run(s, info->lun, cdb, len, NULL, 0, NULL);
	if (r == -EOPNOTSUPP) {
		info->wce = false;
		return 0;
	}
	if (r < 0)
		return lb_err_set(err, r, "SYNCHRONIZE CACHE of LUN %u failed: %s", info->lun,
				  strerror(-r));
	return 0;
}

int iscsi_inventory_lun(struct iscsi_session *s, uint32_t lun, struct iscsi_lun_info *ret,
			lb_err *err)
{
	struct iscsi_lun_info info = {.lun = lun};
	uint8_t cdb[ISCSI_CDB_MAX], buf[1024], pages[256];
	size_t got = 0, n_pages = 0;
	bool probe_all;
	int r, len;

	if (lun > SCSI_LUN_MAX)
		return lb_err_set(err, ERANGE, "LUN %u: LUNs above %u are not addressable", lun,
				  SCSI_LUN_MAX);
	len = scsi_cdb_inquiry(cdb, false, 0, 96);
	r = run(s, lun, cdb, len, buf, 96, &got);
	if (r == -ENXIO || r == -EINVAL)
		return lb_err_set(err, ENXIO, "LUN %u does not exist", lun);
	if (r < 0)
		return lb_err_set(err, r, "INQUIRY of LUN %u failed: %s", lun, strerror(-r));
	r = scsi_inquiry_parse(buf, got, &info.inq);
	if (r < 0)
		return lb_err_set(err, r, "LUN %u: malformed INQUIRY data", lun);
	if (scsi_inquiry_no_lun(&info.inq))
		return lb_err_set(
			err, ENXIO,
			"LUN %u does not exist (peripheral qualifier %u, device type 0x%02x)", lun,
			info.inq.qualifier, info.inq.device_type);

	if (vpd(s, lun, 0x00, buf, sizeof(buf), &got) == 0)
		(void)scsi_vpd_supported_parse(buf, got, pages, sizeof(pages), &n_pages);
	/* An empty list is not the last word: LIO lists its pages only once a
	 * unit serial is set, yet serves them all.  Then every page we use is
	 * asked for; one the LUN lacks ends in CHECK CONDITION, ignored. */
	probe_all = n_pages == 0;
	if (has_page(pages, n_pages, probe_all, 0x80) && vpd(s, lun, 0x80, buf, 255, &got) == 0)
		(void)scsi_vpd_serial_parse(buf, got, info.serial, sizeof(info.serial));
	if (has_page(pages, n_pages, probe_all, 0x83) &&
	    vpd(s, lun, 0x83, buf, sizeof(buf), &got) == 0 &&
	    scsi_vpd_devid_parse(buf, got, info.devid, sizeof(info.devid)) < 0)
		target_device_id(buf, got, lun, info.devid, sizeof(info.devid));
	if (has_page(pages, n_pages, probe_all, 0xb0) && vpd(s, lun, 0xb0, buf, 64, &got) == 0 &&
	    scsi_vpd_block_limits_parse(buf, got, &info.limits) == 0)
		info.has_limits = true;
	if (has_page(pages, n_pages, probe_all, 0xb2) && vpd(s, lun, 0xb2, buf, 64, &got) == 0 &&
	    scsi_vpd_lbp_parse(buf, got, &info.lbp) == 0)
		info.has_lbp = true;

	/* Only a device of logical blocks has a capacity to ask for: a
	 * controller would refuse READ CAPACITY, and the session logs every
	 * refusal. */
	if (has_blocks(info.inq.device_type))
		read_capacity(s, lun, &info);
	if (info.has_capacity)
		info.size_bytes = info.cap.blocks * info.cap.block_size;
	if (info.has_limits && info.has_capacity && info.limits.max_xfer_blocks) {
		uint64_t b = (uint64_t)info.limits.max_xfer_blocks * info.cap.block_size;

		info.max_transfer_bytes = b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
	}
	if (info.has_lbp) {
		info.unmap = info.lbp.lbpu && (!info.has_limits || info.limits.max_unmap_blocks);
		info.write_same_unmap = info.lbp.lbpws;
	}
	/* WRITE SAME(16) itself is mandatory for SBC-3 devices that report the
	 * Block Limits page with a maximum length */
	info.write_same = info.has_limits && info.limits.max_write_same_blocks > 0;
	info.lbprz = (info.has_lbp && info.lbp.lbprz) || (info.has_capacity && info.cap.lbprz);

	/* Mode parameters matter for disks only (a controller has none). */
	if (info.inq.device_type == 0x00)
		mode_sense(s, lun, &info);
	info.write_protected = info.has_mode && info.mode.write_protected;
	info.dpofua = info.has_mode && info.mode.dpofua;
	info.wce = !info.mode.has_caching || info.mode.wce;
	*ret = info;
	return 0;
}
