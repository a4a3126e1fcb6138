/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SCSI commands the initiator issues (SBC-3, SPC-4) and the parsers for
 * what they return.  No I/O: CDB builders fill a caller's buffer, parsers
 * check every length against the buffer they are given (the data comes
 * from the network) and never read past it.
 */
#ifndef LUNBRIDGE_ISCSI_SCSI_H
#define LUNBRIDGE_ISCSI_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISCSI_CDB_MAX 16

/* Opcodes. */
enum {
	SCSI_OP_TEST_UNIT_READY = 0x00,
	SCSI_OP_INQUIRY = 0x12,
	SCSI_OP_MODE_SENSE6 = 0x1a,
	SCSI_OP_READ_CAPACITY10 = 0x25,
	SCSI_OP_READ10 = 0x28,
	SCSI_OP_WRITE10 = 0x2a,
	SCSI_OP_SYNCHRONIZE_CACHE10 = 0x35,
	SCSI_OP_WRITE_SAME10 = 0x41,
	SCSI_OP_UNMAP = 0x42,
	SCSI_OP_MODE_SENSE10 = 0x5a,
	SCSI_OP_READ16 = 0x88,
	SCSI_OP_WRITE16 = 0x8a,
	SCSI_OP_SYNCHRONIZE_CACHE16 = 0x91,
	SCSI_OP_WRITE_SAME16 = 0x93,
	SCSI_OP_SERVICE_ACTION_IN16 = 0x9e,
	SCSI_OP_REPORT_LUNS = 0xa0,
};
#define SCSI_SAI_READ_CAPACITY16 0x10
#define SCSI_SAI_GET_LBA_STATUS 0x12

/* ---- CDB builders: each returns the CDB length (6..16) ------------------ */

/* READ/WRITE(16); fua sets the FUA bit. */
int scsi_cdb_read16(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t blocks, bool fua);
int scsi_cdb_write16(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t blocks, bool fua);
/* 10-byte forms: -ERANGE when lba > 0xffffffff or blocks > 0xffff. */
int scsi_cdb_read10(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t blocks, bool fua);
int scsi_cdb_write10(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t blocks, bool fua);
/* SYNCHRONIZE CACHE(10) over the whole medium (lba 0, 0 blocks). */
int scsi_cdb_sync_cache10(uint8_t cdb[ISCSI_CDB_MAX]);
int scsi_cdb_sync_cache16(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t blocks);
/* UNMAP with a parameter list of param_len bytes (scsi_unmap_param()). */
int scsi_cdb_unmap(uint8_t cdb[ISCSI_CDB_MAX], uint16_t param_len);
/* WRITE SAME(16): unmap sets UNMAP (a hole is allowed); ndob sets NDOB (no
 * data-out buffer: zeroes).  Without ndob, one block of data follows.
 * -EINVAL for 0 blocks, which the target would take as "to the end". */
int scsi_cdb_write_same16(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t blocks, bool unmap,
			  bool ndob);
/* -EINVAL for a page without evpd (SPC-4 requires PAGE CODE 0 then). */
int scsi_cdb_inquiry(uint8_t cdb[ISCSI_CDB_MAX], bool evpd, uint8_t page, uint16_t alloc_len);
int scsi_cdb_report_luns(uint8_t cdb[ISCSI_CDB_MAX], uint32_t alloc_len);
int scsi_cdb_read_capacity16(uint8_t cdb[ISCSI_CDB_MAX], uint32_t alloc_len);
int scsi_cdb_read_capacity10(uint8_t cdb[ISCSI_CDB_MAX]);
/* GET LBA STATUS (SBC-3 §5.7): the provisioning status from lba on, at
 * most alloc_len bytes of parameter data. */
int scsi_cdb_get_lba_status(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t alloc_len);
int scsi_cdb_test_unit_ready(uint8_t cdb[ISCSI_CDB_MAX]);
/* MODE SENSE(6)/(10) of one page (SCSI_MODE_PAGE_ALL: every page), current
 * values, no block descriptors (DBD). */
int scsi_cdb_mode_sense6(uint8_t cdb[ISCSI_CDB_MAX], uint8_t page, uint8_t alloc_len);
int scsi_cdb_mode_sense10(uint8_t cdb[ISCSI_CDB_MAX], uint8_t page, uint16_t alloc_len);

/* UNMAP parameter list with one block descriptor (SBC-3 §5.28.2): 24 bytes
 * written to out. */
#define SCSI_UNMAP_PARAM_LEN 24
void scsi_unmap_param(uint8_t out[SCSI_UNMAP_PARAM_LEN], uint64_t lba, uint32_t blocks);

/* ---- LUNs (SAM-5 §4.7) --------------------------------------------------- */

/* The LUN numbers lunbridge addresses: 0 to 16383, the flat space. */
#define SCSI_LUN_MAX 16383u

/* The 8-byte LUN field for LUN number n: peripheral addressing below 256,
 * flat space addressing up to SCSI_LUN_MAX.  -ERANGE beyond (out
 * untouched): no command may go out for such a LUN. */
int scsi_lun_encode(uint32_t n, uint8_t out[8]);
/* The LUN number of an 8-byte REPORT LUNS entry that scsi_lun_encode()
 * can address again (peripheral on bus 0, or flat; single level);
 * -EOPNOTSUPP for any other address (scsi_lun_addr_decode() names it). */
int scsi_lun_decode(const uint8_t in[8], uint32_t *ret);

/* SAM-5's four addressing methods (byte 0, bits 7-6). */
enum scsi_lun_method {
	SCSI_LUN_PERIPHERAL = 0,
	SCSI_LUN_FLAT = 1,
	SCSI_LUN_LOGICAL_UNIT = 2,
	SCSI_LUN_EXTENDED = 3,
};

/* Extended addressing (SAM-5 §4.7.8): the forms SAM defines. */
enum scsi_lun_extended {
	SCSI_LUN_EXT_NONE,	    /* not extended addressing */
	SCSI_LUN_EXT_WELL_KNOWN,    /* length 0, method 1: a well-known LU */
	SCSI_LUN_EXT_FLAT,	    /* length 1, method 2: 24-bit extended flat space */
	SCSI_LUN_EXT_LONG_FLAT,	    /* length 2, method 2: 40-bit long extended flat space */
	SCSI_LUN_EXT_NOT_SPECIFIED, /* 0xff...: logical unit not specified */
};

/* The first level of an 8-byte LUN, whatever its method. */
struct scsi_lun_addr {
	enum scsi_lun_method method;
	enum scsi_lun_extended extended;
	uint8_t bus;	  /* peripheral: BUS IDENTIFIER; logical unit: BUS NUMBER */
	uint8_t target;	  /* logical unit: TARGET */
	uint64_t lun;	  /* peripheral: 8 bits; flat: 14; logical unit: 5; extended flat:
			   * 24 or 40; well-known: the W-LUN */
	bool multi_level; /* more levels follow (a hierarchical address) */
};
/* Decode any of the four methods.  -EBADMSG for a reserved extended form. */
int scsi_lun_addr_decode(const uint8_t in[8], struct scsi_lun_addr *ret);
/* "peripheral bus 0 lun 5", "flat lun 300", "logical unit target 2 bus 1
 * lun 3", "extended flat lun 70000", "long extended flat lun N",
 * "well-known lun 0x01", "not specified"; ", multi-level" appended for a
 * hierarchical address.  Truncated to len. */
void scsi_lun_addr_format(const struct scsi_lun_addr *a, char *buf, size_t len);

/* REPORT LUNS data: fills up to cap entries, *ret_n the number stored,
 * *ret_total the number the target has (may exceed the buffer given:
 * retry with a bigger allocation).  -EBADMSG if len < 8.  Entries that
 * scsi_lun_decode() cannot give a number (other methods, other buses,
 * several levels, well-known LUs) are skipped. */
int scsi_report_luns_parse(const uint8_t *buf, size_t len, uint32_t *luns, size_t cap,
			   size_t *ret_n, size_t *ret_total);

/* ---- INQUIRY ------------------------------------------------------------ */

struct scsi_inquiry {
	uint8_t qualifier;   /* peripheral qualifier (0: connected) */
	uint8_t device_type; /* 0x00 disk, 0x05 cd/dvd, 0x0c array ctrl ... */
	bool removable;
	uint8_t version;
	bool cmdque;
	char vendor[9];	   /* T10 vendor, trailing spaces trimmed */
	char product[17];
	char revision[5];
};
/* Standard INQUIRY data: -EBADMSG if shorter than 36 bytes. */
int scsi_inquiry_parse(const uint8_t *buf, size_t len, struct scsi_inquiry *ret);
/* Whether the answer says there is no logical unit here: a peripheral
 * qualifier other than 0 (1: none connected now; 3: none possible) or
 * device type 0x1f (unknown or no device type), as Linux's scan reads it. */
bool scsi_inquiry_no_lun(const struct scsi_inquiry *q);
/* "disk", "cd/dvd", "controller", "enclosure", ..., "type 0xNN" for a
 * reserved code, "unknown" above 0x1f (the field has 5 bits).  Static. */
const char *scsi_device_type_name(uint8_t type);

/* VPD page header check: the page code and the length the page claims,
 * capped to what len holds.  -EBADMSG if len < 4 or the page code differs. */
int scsi_vpd_payload(const uint8_t *buf, size_t len, uint8_t page, const uint8_t **ret_data,
		     size_t *ret_len);

/* 0x00: supported pages.  Fills up to cap codes. */
int scsi_vpd_supported_parse(const uint8_t *buf, size_t len, uint8_t *pages, size_t cap,
			     size_t *ret_n);
bool scsi_vpd_has(const uint8_t *pages, size_t n, uint8_t page);

/* 0x80: unit serial number, trimmed of leading spaces and of trailing
 * spaces and NUL padding, NUL terminated; non-printable bytes become '?'.
 * -ENOBUFS (out untouched) when it does not fit in cap. */
int scsi_vpd_serial_parse(const uint8_t *buf, size_t len, char *out, size_t cap);

/* 0x83: the best LUN designator (NAA > EUI-64 > SCSI name string > T10
 * vendor id with more than the vendor), association LUN only, as text: "naa.6001405..." for NAA,
 * "eui.xxxx" for EUI-64, the string for a name, "t10.VENDOR..." for T10
 * (non-printable bytes become '?').  -ENOENT when there is none, -ENOBUFS
 * (out untouched) when the text does not fit in cap. */
int scsi_vpd_devid_parse(const uint8_t *buf, size_t len, char *out, size_t cap);

/* 0x83: the target device's SCSI name string (association target device,
 * UTF-8; an iSCSI target's IQN), for a LUN that has no designator of its
 * own (LIO without a unit serial).  -ENOENT when there is none, -ENOBUFS
 * (out untouched) when it does not fit in cap. */
int scsi_vpd_target_name_parse(const uint8_t *buf, size_t len, char *out, size_t cap);

/* 0xB0 block limits (fields 0 when the page omits them). */
struct scsi_block_limits {
	uint32_t max_xfer_blocks;     /* MAXIMUM TRANSFER LENGTH, 0: none */
	uint32_t opt_xfer_blocks;     /* OPTIMAL TRANSFER LENGTH */
	uint16_t opt_xfer_granularity; /* OPTIMAL TRANSFER LENGTH GRANULARITY, blocks */
	uint32_t max_unmap_blocks;    /* MAXIMUM UNMAP LBA COUNT */
	uint32_t max_unmap_descs;     /* MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT */
	uint32_t unmap_granularity;   /* OPTIMAL UNMAP GRANULARITY */
	uint64_t max_write_same_blocks; /* MAXIMUM WRITE SAME LENGTH */
};
int scsi_vpd_block_limits_parse(const uint8_t *buf, size_t len, struct scsi_block_limits *ret);

/* 0xB2 logical block provisioning. */
struct scsi_lbp {
	bool lbpu;    /* UNMAP command */
	bool lbpws;   /* WRITE SAME(16) with UNMAP */
	bool lbpws10; /* WRITE SAME(10) with UNMAP */
	bool lbprz;   /* unmapped blocks read as zero */
	uint8_t provisioning_type; /* 0 full, 1 resource, 2 thin */
};
int scsi_vpd_lbp_parse(const uint8_t *buf, size_t len, struct scsi_lbp *ret);

/* ---- MODE SENSE (SPC-4 §7.5) -------------------------------------------- */

#define SCSI_MODE_PAGE_CACHING 0x08
#define SCSI_MODE_PAGE_ALL 0x3f

/* What lunbridge reads of the mode parameters of a disk (SBC-3 §6.5). */
struct scsi_mode_info {
	bool write_protected; /* header, device-specific parameter: WP */
	bool dpofua;	      /* header, device-specific parameter: DPOFUA */
	bool has_caching;     /* the Caching page was among the pages */
	bool wce;	      /* Caching page: WCE, a volatile write cache */
	bool rcd;	      /* Caching page: READ CACHE DISABLE */
};
/* MODE SENSE(6) (ten false) or MODE SENSE(10) parameter data, bounded by
 * both len and the header's MODE DATA LENGTH: the header's device-specific
 * parameter, and the Caching page if one of the pages (after the block
 * descriptors) is it.  -EBADMSG when shorter than the header. */
int scsi_mode_sense_parse(const uint8_t *buf, size_t len, bool ten, struct scsi_mode_info *ret);

/* ---- READ CAPACITY ------------------------------------------------------ */

struct scsi_capacity {
	uint64_t blocks;	/* last LBA + 1 */
	uint32_t block_size;	/* logical block length, bytes */
	uint32_t physical_block_size; /* block_size << LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT */
	bool lbpme;		/* thin provisioning enabled */
	bool lbprz;
};
/* READ CAPACITY(16) data (>= 32 bytes; -EBADMSG otherwise, and for a block
 * size that is 0, not a power of two, or over 1 MiB, or a size in bytes
 * that overflows 64 bits).  An exponent that would take the physical block
 * size past 32 bits is ignored (physical_block_size = block_size). */
int scsi_read_capacity16_parse(const uint8_t *buf, size_t len, struct scsi_capacity *ret);
/* READ CAPACITY(10) data (8 bytes; block size checked as above); blocks is
 * 0xffffffff+1 when the device asks for the 16-byte form. */
int scsi_read_capacity10_parse(const uint8_t *buf, size_t len, struct scsi_capacity *ret);

/* ---- GET LBA STATUS (SBC-3 §5.7, SBC-4 §5.8) ---------------------------- */

/* The 8-byte header, then 16-byte LBA status descriptors. */
#define SCSI_LBA_STATUS_HDR_LEN 8
#define SCSI_LBA_STATUS_DESC_LEN 16

/* PROVISIONING STATUS of a descriptor; reserved values are read as mapped
 * (the safe answer: the blocks hold data). */
enum scsi_lba_status {
	SCSI_LBA_MAPPED = 0,
	SCSI_LBA_DEALLOCATED = 1,
	SCSI_LBA_ANCHORED = 2,
};

/* A run of blocks of one status. */
struct scsi_lba_extent {
	uint64_t lba;
	uint64_t blocks; /* > 0 */
	enum scsi_lba_status status;
};

/* The parameter data of a GET LBA STATUS from lba, bounded by both len
 * and the header's PARAMETER DATA LENGTH: the runs from lba on, in order,
 * contiguous, neighbours of one status merged, at most cap.  The first
 * descriptor must cover lba (SBC: it starts there); reading stops at the
 * first descriptor that has no blocks, does not follow on from the one
 * before, or runs past the last LBA.  The count (>= 1), or -EBADMSG (ext
 * untouched) when no descriptor covers lba. */
int scsi_get_lba_status_parse(const uint8_t *buf, size_t len, uint64_t lba,
			      struct scsi_lba_extent *ext, size_t cap);

#endif
