/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iscsi-spec.h"
#include "scsi.h"

/* READ/WRITE and friends: byte 1 bits (SBC-3 §5). */
#define SCSI_CDB_FUA 0x08u
#define SCSI_CDB_WS_UNMAP 0x08u
#define SCSI_CDB_WS_NDOB 0x01u
#define SCSI_INQUIRY_EVPD 0x01u

/* VPD pages this file parses (SPC-4 §7.8, SBC-3 §6.6). */
#define SCSI_VPD_SUPPORTED 0x00
#define SCSI_VPD_SERIAL 0x80
#define SCSI_VPD_DEVID 0x83
#define SCSI_VPD_BLOCK_LIMITS 0xb0
#define SCSI_VPD_LBP 0xb2
#define SCSI_VPD_HDR_LEN 4u

/* Device identification designator types (SPC-4 §7.8.6.1). */
enum {
	DESIG_T10 = 0x1,
	DESIG_EUI64 = 0x2,
	DESIG_NAA = 0x3,
	DESIG_NAME = 0x8,
};
enum {
	CODE_SET_BINARY = 0x1,
	CODE_SET_ASCII = 0x2,
	CODE_SET_UTF8 = 0x3,
};

#define SCSI_STD_INQUIRY_LEN 36u
#define SCSI_READ_CAPACITY16_LEN 32u
#define SCSI_READ_CAPACITY10_LEN 8u
#define SCSI_BLOCK_SIZE_MAX (1u << 20)
#define SCSI_MODE_DBD 0x08u
#define SCSI_MODE6_HDR_LEN 4u
#define SCSI_MODE10_HDR_LEN 8u
#define SCSI_MODE_WP 0x80u
#define SCSI_MODE_DPOFUA 0x10u
#define SCSI_CACHING_WCE 0x04u
#define SCSI_CACHING_RCD 0x01u

/* ---- CDB builders ------------------------------------------------------- */

/* The 16-byte LBA layout shared by READ/WRITE(16), SYNCHRONIZE CACHE(16)
 * and WRITE SAME(16): LBA in bytes 2..9, block count in 10..13. */
static int cdb_lba16(uint8_t cdb[ISCSI_CDB_MAX], uint8_t op, uint8_t flags, uint64_t lba,
		     uint32_t blocks)
{
	memset(cdb, 0, ISCSI_CDB_MAX);
	cdb[0] = op;
	cdb[1] = flags;
	iscsi_put_be64(cdb + 2, lba);
	iscsi_put_be32(cdb + 10, blocks);
	return 16;
}

/* READ/WRITE(10): LBA in bytes 2..5, block count in 7..8. */
static int cdb_lba10(uint8_t cdb[ISCSI_CDB_MAX], uint8_t op, uint8_t flags, uint64_t lba,
		     uint32_t blocks)
{
	if (lba > UINT32_MAX || blocks > UINT16_MAX)
		return -ERANGE;
	memset(cdb, 0, ISCSI_CDB_MAX);
	cdb[0] = op;
	cdb[1] = flags;
	iscsi_put_be32(cdb + 2, (uint32_t)lba);
	iscsi_put_be16(cdb + 7, (uint16_t)blocks);
	return 10;
}

int scsi_cdb_read16(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t blocks, bool fua)
{
	return cdb_lba16(cdb, SCSI_OP_READ16, fua ? SCSI_CDB_FUA : 0, lba, blocks);
}

int scsi_cdb_write16(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t blocks, bool fua)
{
	return cdb_lba16(cdb, SCSI_OP_WRITE16, fua ? SCSI_CDB_FUA : 0, lba, blocks);
}

int scsi_cdb_read10(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t blocks, bool fua)
{
	return cdb_lba10(cdb, SCSI_OP_READ10, fua ? SCSI_CDB_FUA : 0, lba, blocks);
}

int scsi_cdb_write10(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t blocks, bool fua)
{
	return cdb_lba10(cdb, SCSI_OP_WRITE10, fua ? SCSI_CDB_FUA : 0, lba, blocks);
}

int scsi_cdb_sync_cache10(uint8_t cdb[ISCSI_CDB_MAX])
{
	return cdb_lba10(cdb, SCSI_OP_SYNCHRONIZE_CACHE10, 0, 0, 0);
}

int scsi_cdb_sync_cache16(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t blocks)
{
	return cdb_lba16(cdb, SCSI_OP_SYNCHRONIZE_CACHE16, 0, lba, blocks);
}

int scsi_cdb_unmap(uint8_t cdb[ISCSI_CDB_MAX], uint16_t param_len)
{
	memset(cdb, 0, ISCSI_CDB_MAX);
	cdb[0] = SCSI_OP_UNMAP;
	iscsi_put_be16(cdb + 7, param_len);
	return 10;
}

int scsi_cdb_write_same16(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t blocks, bool unmap,
			  bool ndob)
{
	/* NUMBER OF LOGICAL BLOCKS 0 means "to the end of the medium". */
	if (blocks == 0)
		return -EINVAL;
	return cdb_lba16(cdb, SCSI_OP_WRITE_SAME16,
			 (unmap ? SCSI_CDB_WS_UNMAP : 0) | (ndob ? SCSI_CDB_WS_NDOB : 0), lba,
			 blocks);
}

int scsi_cdb_inquiry(uint8_t cdb[ISCSI_CDB_MAX], bool evpd, uint8_t page, uint16_t alloc_len)
{
	/* SPC-4 §6.6.1: PAGE CODE must be 0 when EVPD is 0. */
	if (!evpd && page != 0)
		return -EINVAL;
	memset(cdb, 0, ISCSI_CDB_MAX);
	cdb[0] = SCSI_OP_INQUIRY;
	cdb[1] = evpd ? SCSI_INQUIRY_EVPD : 0;
	cdb[2] = page;
	iscsi_put_be16(cdb + 3, alloc_len);
	return 6;
}

int scsi_cdb_report_luns(uint8_t cdb[ISCSI_CDB_MAX], uint32_t alloc_len)
{
	memset(cdb, 0, ISCSI_CDB_MAX);
	cdb[0] = SCSI_OP_REPORT_LUNS;
	cdb[2] = 0; /* SELECT REPORT: logical units, no well-known ones */
	iscsi_put_be32(cdb + 6, alloc_len);
	return 12;
}

int scsi_cdb_read_capacity16(uint8_t cdb[ISCSI_CDB_MAX], uint32_t alloc_len)
{
	memset(cdb, 0, ISCSI_CDB_MAX);
	cdb[0] = SCSI_OP_SERVICE_ACTION_IN16;
	cdb[1] = SCSI_SAI_READ_CAPACITY16;
	iscsi_put_be32(cdb + 10, alloc_len);
	return 16;
}

/* SERVICE ACTION IN(16) has the same layout: the service action in byte
 * 1, the allocation length where the block count is. */
int scsi_cdb_get_lba_status(uint8_t cdb[ISCSI_CDB_MAX], uint64_t lba, uint32_t alloc_len)
{
	return cdb_lba16(cdb, SCSI_OP_SERVICE_ACTION_IN16, SCSI_SAI_GET_LBA_STATUS, lba, alloc_len);
}

int scsi_cdb_read_capacity10(uint8_t cdb[ISCSI_CDB_MAX])
{
	memset(cdb, 0, ISCSI_CDB_MAX);
	cdb[0] = SCSI_OP_READ_CAPACITY10;
	return 10;
}

int scsi_cdb_test_unit_ready(uint8_t cdb[ISCSI_CDB_MAX])
{
	memset(cdb, 0, ISCSI_CDB_MAX);
	cdb[0] = SCSI_OP_TEST_UNIT_READY;
	return 6;
}

int scsi_cdb_mode_sense6(uint8_t cdb[ISCSI_CDB_MAX], uint8_t page, uint8_t alloc_len)
{
	memset(cdb, 0, ISCSI_CDB_MAX);
	cdb[0] = SCSI_OP_MODE_SENSE6;
	cdb[1] = SCSI_MODE_DBD;
	cdb[2] = page & 0x3f; /* PC 0: current values */
	cdb[4] = alloc_len;
	return 6;
}

int scsi_cdb_mode_sense10(uint8_t cdb[ISCSI_CDB_MAX], uint8_t page, uint16_t alloc_len)
{
	memset(cdb, 0, ISCSI_CDB_MAX);
	cdb[0] = SCSI_OP_MODE_SENSE10;
	cdb[1] = SCSI_MODE_DBD;
	cdb[2] = page & 0x3f;
	iscsi_put_be16(cdb + 7, alloc_len);
	return 10;
}

void scsi_unmap_param(uint8_t out[SCSI_UNMAP_PARAM_LEN], uint64_t lba, uint32_t blocks)
{
	memset(out, 0, SCSI_UNMAP_PARAM_LEN);
	iscsi_put_be16(out, SCSI_UNMAP_PARAM_LEN - 2); /* UNMAP DATA LENGTH */
	iscsi_put_be16(out + 2, 16);		       /* BLOCK DESCRIPTOR DATA LENGTH */
	iscsi_put_be64(out + 8, lba);
	iscsi_put_be32(out + 16, blocks);
}

/* ---- LUNs --------------------------------------------------------------- */

int scsi_lun_encode(uint32_t n, uint8_t out[8])
{
	if (n > SCSI_LUN_MAX)
		return -ERANGE;
	memset(out, 0, 8);
	if (n < 256) {
		out[1] = (uint8_t)n; /* peripheral device addressing, bus 0 */
	} else {
		out[0] = (uint8_t)(0x40 | (n >> 8)); /* flat space addressing */
		out[1] = (uint8_t)n;
	}
	return 0;
}

int scsi_lun_decode(const uint8_t in[8], uint32_t *ret)
{
	struct scsi_lun_addr a;

	if (scsi_lun_addr_decode(in, &a) < 0 || a.multi_level)
		return -EOPNOTSUPP;
	switch (a.method) {
	case SCSI_LUN_PERIPHERAL:
		/* bus 0 only: another bus is a device behind this LU */
		if (a.bus != 0)
			return -EOPNOTSUPP;
		*ret = (uint32_t)a.lun;
		return 0;
	case SCSI_LUN_FLAT:
		*ret = (uint32_t)a.lun;
		return 0;
	default:
		/* logical unit or extended addressing: scsi_lun_encode()
		 * would give the number another address, so it has none */
		return -EOPNOTSUPP;
	}
}

/* Whether bytes from..7 are all zero: no further level. */
static bool rest_zero(const uint8_t in[8], size_t from)
{
	for (size_t i = from; i < 8; i++)
		if (in[i])
			return false;
	return true;
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int scsi_lun_addr_decode(const uint8_t in[8], struct scsi_lun_addr *ret)
{
	struct scsi_lun_addr a = {.method = (enum scsi_lun_method)(in[0] >> 6)};
	size_t level_len = 2;

	switch (a.method) {
	case SCSI_LUN_PERIPHERAL:
		a.bus = in[0] & 0x3f;
		a.lun = in[1];
		break;
	case SCSI_LUN_FLAT:
		a.lun = (uint64_t)(in[0] & 0x3f) << 8 | in[1];
		break;
	case SCSI_LUN_LOGICAL_UNIT:
		/* 10b, TARGET (6 bits); BUS NUMBER (3 bits), LUN (5 bits) */
		a.target = in[0] & 0x3f;
		a.bus = in[1] >> 5;
		a.lun = in[1] & 0x1f;
		break;
	case SCSI_LUN_EXTENDED: {
		uint8_t length = (in[0] >> 4) & 0x03, method = in[0] & 0x0f;

		level_len = 2 + 2 * (size_t)length;
		if (length == 0 && method == 1) {
			a.extended = SCSI_LUN_EXT_WELL_KNOWN;
			a.lun = in[1];
		} else if (length == 1 && method == 2) {
			a.extended = SCSI_LUN_EXT_FLAT;
			a.lun = get_be(in + 1, 3);
		} else if (length == 2 && method == 2) {
			a.extended = SCSI_LUN_EXT_LONG_FLAT;
			a.lun = get_be(in + 1, 5);
		} else if (length == 3 && method == 0x0f && in[1] == 0xff) {
			/* every byte 0xff: it names no logical unit */
			for (size_t i = 2; i < 8; i++)
				if (in[i] != 0xff)
					return -EBADMSG;
			a.extended = SCSI_LUN_EXT_NOT_SPECIFIED;
		} else {
			return -EBADMSG; /* reserved */
		}
		break;
	}
	}
	a.multi_level = level_len < 8 && !rest_zero(in, level_len);
	*ret = a;
	return 0;
}

void scsi_lun_addr_format(const struct scsi_lun_addr *a, char *buf, size_t len)
{
	const char *multi = a->multi_level ? ", multi-level" : "";
	unsigned long long lun = (unsigned long long)a->lun;

	if (len == 0)
		return;
	switch (a->method) {
	case SCSI_LUN_PERIPHERAL:
		(void)snprintf(buf, len, "peripheral bus %u lun %llu%s", a->bus, lun, multi);
		return;
	case SCSI_LUN_FLAT:
		(void)snprintf(buf, len, "flat lun %llu%s", lun, multi);
		return;
	case SCSI_LUN_LOGICAL_UNIT:
		(void)snprintf(buf, len, "logical unit target %u bus %u lun %llu%s", a->target,
			       a->bus, lun, multi);
		return;
	case SCSI_LUN_EXTENDED:
		break;
	}
	switch (a->extended) {
	case SCSI_LUN_EXT_WELL_KNOWN:
		(void)snprintf(buf, len, "well-known lun 0x%02llx%s", lun, multi);
		return;
	case SCSI_LUN_EXT_FLAT:
		(void)snprintf(buf, len, "extended flat lun %llu%s", lun, multi);
		return;
	case SCSI_LUN_EXT_LONG_FLAT:
		(void)snprintf(buf, len, "long extended flat lun %llu%s", lun, multi);
		return;
	default:
		(void)snprintf(buf, len, "not specified");
		return;
	}
}

int scsi_report_luns_parse(const uint8_t *buf, size_t len, uint32_t *luns, size_t cap,
			   size_t *ret_n, size_t *ret_total)
{
	size_t list_len, avail, n = 0;

	if (len < 8)
		return -EBADMSG;
	list_len = iscsi_get_be32(buf); /* LUN LIST LENGTH, excluding the header */
	avail = list_len < len - 8 ? list_len : len - 8;
	for (size_t off = 8; off + 8 <= 8 + avail && n < cap; off += 8) {
		uint32_t lun;

		if (scsi_lun_decode(buf + off, &lun) == 0)
			luns[n++] = lun;
	}
	*ret_n = n;
	*ret_total = list_len / 8;
	return 0;
}

/* ---- INQUIRY ------------------------------------------------------------ */

static bool is_print(uint8_t c)
{
	return c >= 0x20 && c < 0x7f;
}

static bool is_pad(uint8_t c)
{
	return c == ' ' || c == '\0';
}

/* The length of src[0..n) without trailing spaces and NUL padding. */
static size_t trim_end(const uint8_t *src, size_t n)
{
	while (n > 0 && is_pad(src[n - 1]))
		n--;
	return n;
}

/* n bytes as printable text into out (n + 1 bytes): '?' for anything
 * else, NUL terminated. */
static void copy_text(char *out, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = is_print(src[i]) ? (char)src[i] : '?';
	out[n] = '\0';
}

int scsi_inquiry_parse(const uint8_t *buf, size_t len, struct scsi_inquiry *ret)
{
	struct scsi_inquiry q = {0};

	/* ADDITIONAL LENGTH (byte 4) is not consulted: these fields all lie in
	 * the first 36 bytes, which every target must return, and some report
	 * a short additional length anyway. */
	if (len < SCSI_STD_INQUIRY_LEN)
		return -EBADMSG;
	q.qualifier = buf[0] >> 5;
	q.device_type = buf[0] & 0x1f;
	q.removable = buf[1] & 0x80;
	q.version = buf[2];
	q.cmdque = buf[7] & 0x02;
	copy_text(q.vendor, buf + 8, trim_end(buf + 8, 8));
	copy_text(q.product, buf + 16, trim_end(buf + 16, 16));
	copy_text(q.revision, buf + 32, trim_end(buf + 32, 4));
	*ret = q;
	return 0;
}

bool scsi_inquiry_no_lun(const struct scsi_inquiry *q)
{
	return q->qualifier != 0 || q->device_type == 0x1f;
}

const char *scsi_device_type_name(uint8_t type)
{
	static const char *const names[32] = {
		"disk",		 "tape",      "printer",    "processor", "worm",
		"cd/dvd",	 "scanner",   "optical",    "changer",	 "comm",
		"type 0x0a",	 "type 0x0b", "controller", "enclosure", "rbc",
		"card reader",	 "bridge",    "osd",	    "adc",	 "security manager",
		"zbc",		 "type 0x15", "type 0x16",  "type 0x17", "type 0x18",
		"type 0x19",	 "type 0x1a", "type 0x1b",  "type 0x1c", "type 0x1d",
		"well-known lu", "no device",
	};

	if (type >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[type];
}

/* ---- VPD ---------------------------------------------------------------- */

int scsi_vpd_payload(const uint8_t *buf, size_t len, uint8_t page, const uint8_t **ret_data,
		     size_t *ret_len)
{
	size_t plen;

	if (len < SCSI_VPD_HDR_LEN || buf[1] != page)
		return -EBADMSG;
	plen = iscsi_get_be16(buf + 2);
	if (plen > len - SCSI_VPD_HDR_LEN)
		plen = len - SCSI_VPD_HDR_LEN;
	*ret_data = buf + SCSI_VPD_HDR_LEN;
	*ret_len = plen;
	return 0;
}

int scsi_vpd_supported_parse(const uint8_t *buf, size_t len, uint8_t *pages, size_t cap,
			     size_t *ret_n)
{
	const uint8_t *p;
	size_t plen, n;
	int r;

	r = scsi_vpd_payload(buf, len, SCSI_VPD_SUPPORTED, &p, &plen);
	if (r < 0)
		return r;
	n = plen < cap ? plen : cap;
	if (n)
		memcpy(pages, p, n);
	*ret_n = n;
	return 0;
}

bool scsi_vpd_has(const uint8_t *pages, size_t n, uint8_t page)
{
	for (size_t i = 0; i < n; i++)
		if (pages[i] == page)
			return true;
	return false;
}

int scsi_vpd_serial_parse(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	const uint8_t *p;
	size_t plen;
	int r;

	r = scsi_vpd_payload(buf, len, SCSI_VPD_SERIAL, &p, &plen);
	if (r < 0)
		return r;
	while (plen > 0 && p[0] == ' ') {
		p++;
		plen--;
	}
	plen = trim_end(p, plen);
	if (plen >= cap)
		return -ENOBUFS;
	copy_text(out, p, plen);
	return 0;
}

/* How much a designator (4-byte header plus d[3] bytes, all inside the
 * page) is worth as the LUN's name: 0 unusable, else higher is better. */
static int designator_rank(const uint8_t *d)
{
	uint8_t code_set = d[0] & 0x0f, assoc = (d[1] >> 4) & 0x03, type = d[1] & 0x0f;
	size_t n = d[3];

	if (assoc != 0) /* 0: the logical unit; 1: target port; 2: target device */
		return 0;
	switch (type) {
	case DESIG_NAA:
		return code_set == CODE_SET_BINARY && (n == 8 || n == 16) ? 4 : 0;
	case DESIG_EUI64:
		return code_set == CODE_SET_BINARY && (n == 8 || n == 12 || n == 16) ? 3 : 0;
	case DESIG_NAME:
		return code_set == CODE_SET_UTF8 && n > 0 && d[4] != '\0' ? 2 : 0;
	case DESIG_T10:
		/* the vendor (8 bytes) alone names no LUN: LIO without a unit
		 * serial gives every LUN "LIO-ORG " and nothing more */
		return code_set == CODE_SET_ASCII && n > 8 && trim_end(d + 4, n) > 8 ? 1 : 0;
	default:
		return 0;
	}
}

static int format_hex(const char *prefix, const uint8_t *src, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t plen = strlen(prefix);

	if (plen + 2 * n >= cap)
		return -ENOBUFS;
	memcpy(out, prefix, plen);
	for (size_t i = 0; i < n; i++) {
		out[plen + 2 * i] = hex[src[i] >> 4];
		out[plen + 2 * i + 1] = hex[src[i] & 0x0f];
	}
	out[plen + 2 * n] = '\0';
	return 0;
}

static int format_designator(const uint8_t *d, char *out, size_t cap)
{
	const uint8_t *v = d + 4;
	size_t n = d[3];

	switch (d[1] & 0x0f) {
	case DESIG_NAA:
		return format_hex("naa.", v, n, out, cap);
	case DESIG_EUI64:
		return format_hex("eui.", v, n, out, cap);
	case DESIG_NAME: {
		const uint8_t *nul = memchr(v, '\0', n);

		/* NUL terminated and padded to a multiple of 4 bytes. */
		if (nul)
			n = (size_t)(nul - v);
		if (n >= cap)
			return -ENOBUFS;
		copy_text(out, v, n);
		return 0;
	}
	case DESIG_T10:
		n = trim_end(v, n);
		if (4 + n >= cap)
			return -ENOBUFS;
		memcpy(out, "t10.", 4);
		copy_text(out + 4, v, n);
		return 0;
	default:
		return -ENOENT;
	}
}

int scsi_vpd_devid_parse(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	const uint8_t *p, *best = NULL;
	size_t plen, off = 0;
	int r, best_rank = 0;

	r = scsi_vpd_payload(buf, len, SCSI_VPD_DEVID, &p, &plen);
	if (r < 0)
		return r;
	while (plen - off >= 4) {
		const uint8_t *d = p + off;
		int rank;

		if (d[3] > plen - off - 4)
			break; /* runs past the page: ignore it and what follows */
		rank = designator_rank(d);
		if (rank > best_rank) {
			best = d;
			best_rank = rank;
		}
		off += 4 + (size_t)d[3];
	}
	if (!best)
		return -ENOENT;
	return format_designator(best, out, cap);
}

int scsi_vpd_target_name_parse(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	const uint8_t *p;
	size_t plen, off = 0;
	int r;

	r = scsi_vpd_payload(buf, len, SCSI_VPD_DEVID, &p, &plen);
	if (r < 0)
		return r;
	while (plen - off >= 4) {
		const uint8_t *d = p + off;
		uint8_t code_set = d[0] & 0x0f, assoc = (d[1] >> 4) & 0x03;

		if (d[3] > plen - off - 4)
			break; /* runs past the page: ignore it and what follows */
		if (assoc == 2 && (d[1] & 0x0f) == DESIG_NAME && code_set == CODE_SET_UTF8 &&
		    d[3] > 0 && d[4] != '\0')
			return format_designator(d, out, cap);
		off += 4 + (size_t)d[3];
	}
	return -ENOENT;
}

/* The big-endian field at page offset off (header included) of width w,
 * or 0 when the page stops short of it. */
static uint64_t vpd_field(const uint8_t *p, size_t plen, size_t off, size_t w)
{
	if (off < SCSI_VPD_HDR_LEN || off - SCSI_VPD_HDR_LEN + w > plen)
		return 0;
	p += off - SCSI_VPD_HDR_LEN;
	switch (w) {
	case 1:
		return p[0];
	case 4:
		return iscsi_get_be32(p);
	case 8:
		return iscsi_get_be64(p);
	default:
		return 0;
	}
}

int scsi_vpd_block_limits_parse(const uint8_t *buf, size_t len, struct scsi_block_limits *ret)
{
	struct scsi_block_limits bl = {0};
	const uint8_t *p;
	size_t plen;
	int r;

	r = scsi_vpd_payload(buf, len, SCSI_VPD_BLOCK_LIMITS, &p, &plen);
	if (r < 0)
		return r;
	bl.max_xfer_blocks = (uint32_t)vpd_field(p, plen, 8, 4);
	bl.opt_xfer_blocks = (uint32_t)vpd_field(p, plen, 12, 4);
	bl.opt_xfer_granularity = (uint16_t)vpd_field(p, plen, 6, 2);
	bl.max_unmap_blocks = (uint32_t)vpd_field(p, plen, 20, 4);
	bl.max_unmap_descs = (uint32_t)vpd_field(p, plen, 24, 4);
	bl.unmap_granularity = (uint32_t)vpd_field(p, plen, 28, 4);
	bl.max_write_same_blocks = vpd_field(p, plen, 36, 8);
	*ret = bl;
	return 0;
}

int scsi_vpd_lbp_parse(const uint8_t *buf, size_t len, struct scsi_lbp *ret)
{
	struct scsi_lbp lbp = {0};
	const uint8_t *p;
	size_t plen;
	uint8_t flags, type;
	int r;

	r = scsi_vpd_payload(buf, len, SCSI_VPD_LBP, &p, &plen);
	if (r < 0)
		return r;
	flags = (uint8_t)vpd_field(p, plen, 5, 1);
	type = (uint8_t)vpd_field(p, plen, 6, 1);
	lbp.lbpu = flags & 0x80;
	lbp.lbpws = flags & 0x40;
	lbp.lbpws10 = flags & 0x20;
	lbp.lbprz = flags & 0x1c; /* SBC-3: bit 2; SBC-4: a 3-bit field, bits 2..4 */
	lbp.provisioning_type = type & 0x07;
	*ret = lbp;
	return 0;
}

/* ---- MODE SENSE --------------------------------------------------------- */

int scsi_mode_sense_parse(const uint8_t *buf, size_t len, bool ten, struct scsi_mode_info *ret)
{
	struct scsi_mode_info m = {0};
	size_t hdr = ten ? SCSI_MODE10_HDR_LEN : SCSI_MODE6_HDR_LEN;
	size_t end, off;
	uint8_t dsp;

	if (len < hdr)
		return -EBADMSG;
	/* MODE DATA LENGTH counts the bytes after itself. */
	end = ten ? (size_t)iscsi_get_be16(buf) + 2 : (size_t)buf[0] + 1;
	if (end > len)
		end = len;
	dsp = ten ? buf[3] : buf[2];
	m.write_protected = dsp & SCSI_MODE_WP;
	m.dpofua = dsp & SCSI_MODE_DPOFUA;
	off = hdr + (ten ? iscsi_get_be16(buf + 6) : buf[3]); /* past the block descriptors */
	while (off < end && end - off >= 2) {
		bool spf = buf[off] & 0x40; /* SUBPAGE FORMAT: a 4-byte page header */
		uint8_t page = buf[off] & 0x3f;
		size_t head = spf ? 4 : 2, plen;

		if (end - off < head)
			break;
		plen = spf ? iscsi_get_be16(buf + off + 2) : buf[off + 1];
		if (!spf && page == SCSI_MODE_PAGE_CACHING && plen >= 1 && end - off > head) {
			m.has_caching = true;
			m.wce = buf[off + 2] & SCSI_CACHING_WCE;
			m.rcd = buf[off + 2] & SCSI_CACHING_RCD;
			break;
		}
		off += head + plen;
	}
	*ret = m;
	return 0;
}

/* ---- READ CAPACITY ------------------------------------------------------ */

static bool block_size_valid(uint32_t bs)
{
	return bs != 0 && (bs & (bs - 1)) == 0 && bs <= SCSI_BLOCK_SIZE_MAX;
}

int scsi_read_capacity16_parse(const uint8_t *buf, size_t len, struct scsi_capacity *ret)
{
	struct scsi_capacity c = {0};
	uint64_t last = 0, phys;
	unsigned exp;

	if (len < SCSI_READ_CAPACITY16_LEN)
		return -EBADMSG;
	last = iscsi_get_be64(buf);
	if (last == UINT64_MAX)
		return -EBADMSG;
	c.blocks = last + 1;
	c.block_size = iscsi_get_be32(buf + 8);
	if (!block_size_valid(c.block_size) || c.blocks > UINT64_MAX / c.block_size)
		return -EBADMSG;
	/* LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT: a hint; an exponent
	 * that overflows 32 bits is ignored rather than failing the LUN. */
	exp = buf[13] & 0x0f;
	phys = (uint64_t)c.block_size << exp;
	c.physical_block_size = phys <= UINT32_MAX ? (uint32_t)phys : c.block_size;
	c.lbpme = buf[14] & 0x80;
	c.lbprz = buf[14] & 0x40;
	*ret = c;
	return 0;
}

int scsi_read_capacity10_parse(const uint8_t *buf, size_t len, struct scsi_capacity *ret)
{
	struct scsi_capacity c = {0};

	if (len < SCSI_READ_CAPACITY10_LEN)
		return -EBADMSG;
	/* RETURNED LOGICAL BLOCK ADDRESS 0xffffffff: "use READ CAPACITY(16)";
	 * the + 1 then yields 2^32, which tells the caller so. */
	c.blocks = (uint64_t)iscsi_get_be32(buf) + 1;
	c.block_size = iscsi_get_be32(buf + 4);
	if (!block_size_valid(c.block_size))
		return -EBADMSG;
	c.physical_block_size = c.block_size;
	*ret = c;
	return 0;
}

/* ---- GET LBA STATUS ------------------------------------------------------ */

int scsi_get_lba_status_parse(const uint8_t *buf, size_t len, uint64_t lba,
			      struct scsi_lba_extent *ext, size_t cap)
{
	uint64_t next = lba;
	size_t end, n = 0;

	if (len < SCSI_LBA_STATUS_HDR_LEN || cap == 0)
		return -EBADMSG;
	/* PARAMETER DATA LENGTH counts the bytes after itself */
	end = (size_t)iscsi_get_be32(buf) + 4;
	if (end > len)
		end = len;
	for (size_t off = SCSI_LBA_STATUS_HDR_LEN; off + SCSI_LBA_STATUS_DESC_LEN <= end;
	     off += SCSI_LBA_STATUS_DESC_LEN) {
		const uint8_t *d = buf + off;
		uint64_t start = iscsi_get_be64(d), blocks = iscsi_get_be32(d + 8);
		enum scsi_lba_status st = (d[12] & 0x0f) <= SCSI_LBA_ANCHORED
						  ? (enum scsi_lba_status)(d[12] & 0x0f)
						  : SCSI_LBA_MAPPED;

		/* the first covers lba (it may start before: taken from lba
		 * on); each other follows on from the one before */
		if (blocks == 0 || start > next || start > UINT64_MAX - blocks ||
		    start + blocks <= next || (n && start != next))
			break;
		blocks = start + blocks - next;
		if (n && ext[n - 1].status == st) {
			ext[n - 1].blocks += blocks;
		} else {
			if (n == cap)
				break;
			ext[n++] = (struct scsi_lba_extent){
				.lba = next, .blocks = blocks, .status = st};
		}
		next += blocks;
	}
	return n ? (int)n : -EBADMSG;
}
