/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Data-In of the SCSI commands the initiator issues.  Byte 0 sizes the
 * caller's buffers (bits 0-5: the text buffer for the serial number, the
 * device id and a LUN address's text, 1..64 bytes; bits 0-3: the REPORT
 * LUNS array); the rest goes, as one buffer, through every parser in
 * scsi.h.  Whatever the input, what a parser accepts must obey its
 * contract: strings fit and are printable, counts are within the buffers,
 * capacities are sane, every decoded LUN encodes back to itself and agrees
 * with its address, and MODE SENSE data of header length always parses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n >= cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			abort();
}

static void fuzz_luns(const uint8_t *buf, size_t len, size_t cap)
{
	uint32_t luns[16];
	size_t n, total;

	if (len >= 8) {
		uint32_t lun, lun2;
		uint8_t again[8];

		if (scsi_lun_decode(buf, &lun) == 0 &&
		    (scsi_lun_encode(lun, again) < 0 || scsi_lun_decode(again, &lun2) < 0 ||
		     lun2 != lun))
			abort();
	}
	if (scsi_report_luns_parse(buf, len, luns, cap, &n, &total) < 0) {
		if (len >= 8)
			abort();
		return;
	}
	if (n > cap || n > (len - 8) / 8 || n > total)
		abort();
	for (size_t i = 0; i < n; i++)
		if (luns[i] > 16383)
			abort();
}

static void fuzz_lun_addr(const uint8_t *buf, size_t len, size_t text_cap)
{
	struct scsi_lun_addr a;
	uint32_t n;
	char *text;

	if (len < 8 || scsi_lun_addr_decode(buf, &a) < 0) {
		if (len >= 8 && scsi_lun_decode(buf, &n) == 0)
			abort(); /* a number without an address */
		return;
	}
	if ((unsigned)a.method > SCSI_LUN_EXTENDED ||
	    (a.method == SCSI_LUN_EXTENDED) != (a.extended != SCSI_LUN_EXT_NONE))
		abort();
	if (scsi_lun_decode(buf, &n) == 0 &&
	    ((a.method != SCSI_LUN_PERIPHERAL && a.method != SCSI_LUN_FLAT) || a.lun != n ||
	     a.multi_level || a.bus != 0 || n > SCSI_LUN_MAX))
		abort();
	text = malloc(text_cap);
	if (!text)
		return;
	scsi_lun_addr_format(&a, text, text_cap);
	check_text(text, text_cap);
	free(text);
}

static void fuzz_mode_sense(const uint8_t *buf, size_t len)
{
	for (int ten = 0; ten <= 1; ten++) {
		struct scsi_mode_info m;
		int r = scsi_mode_sense_parse(buf, len, ten, &m);

		if (r < 0 && len >= (ten ? 8u : 4u))
			abort();
		if (r == 0 && !m.has_caching && (m.wce || m.rcd))
			abort();
	}
}

static void fuzz_inquiry(const uint8_t *buf, size_t len)
{
	struct scsi_inquiry q;

	if (scsi_inquiry_parse(buf, len, &q) < 0)
		return;
	if (q.qualifier > 7 || q.device_type > 0x1f ||
	    !strcmp(scsi_device_type_name(q.device_type), "unknown"))
		abort();
	check_text(q.vendor, sizeof(q.vendor));
	check_text(q.product, sizeof(q.product));
	check_text(q.revision, sizeof(q.revision));
}

static void fuzz_vpd(const uint8_t *buf, size_t len, size_t text_cap)
{
	struct scsi_block_limits bl;
	struct scsi_lbp lbp;
	const uint8_t *p;
	uint8_t pages[8];
	char *text;
	size_t n;
	int r;

	if (scsi_vpd_payload(buf, len, len >= 2 ? buf[1] : 0, &p, &n) == 0 &&
	    (p != buf + 4 || n > len - 4))
		abort();
	if (scsi_vpd_supported_parse(buf, len, pages, sizeof(pages), &n) == 0 &&
	    (n > sizeof(pages) || n > len - 4 || (n && !scsi_vpd_has(pages, n, pages[n - 1]))))
		abort();

	/* Exactly text_cap bytes, so ASan sees a write past the end. */
	text = malloc(text_cap);
	if (!text)
		return;
	r = scsi_vpd_serial_parse(buf, len, text, text_cap);
	if (r == 0)
		check_text(text, text_cap);
	else if (r != -EBADMSG && r != -ENOBUFS)
		abort();
	r = scsi_vpd_devid_parse(buf, len, text, text_cap);
	if (r == 0)
		check_text(text, text_cap);
	else if (r != -EBADMSG && r != -ENOBUFS && r != -ENOENT)
		abort();
	r = scsi_vpd_target_name_parse(buf, len, text, text_cap);
	if (r == 0)
		check_text(text, text_cap);
	else if (r != -EBADMSG && r != -ENOBUFS && r != -ENOENT)
		abort();
	free(text);

	if (scsi_vpd_block_limits_parse(buf, len, &bl) == 0 && len < 44 &&
	    bl.max_write_same_blocks != 0)
		abort();
	if (scsi_vpd_lbp_parse(buf, len, &lbp) == 0 && lbp.provisioning_type > 7)
		abort();
}

static void check_capacity(const struct scsi_capacity *c)
{
	uint32_t bs = c->block_size;

	if (bs == 0 || (bs & (bs - 1)) || bs > (1u << 20) || c->blocks == 0 ||
	    c->blocks > UINT64_MAX / bs || c->physical_block_size < bs ||
	    c->physical_block_size % bs)
		abort();
}

static void fuzz_capacity(const uint8_t *buf, size_t len)
{
	struct scsi_capacity c;

	if (scsi_read_capacity16_parse(buf, len, &c) == 0)
		check_capacity(&c);
	if (scsi_read_capacity10_parse(buf, len, &c) == 0) {
		check_capacity(&c);
		if (c.blocks > 0x100000000ull || c.lbpme || c.lbprz)
			abort();
	}
}

/* GET LBA STATUS from an LBA the data's last byte picks: whatever is
 * accepted is contiguous from that LBA, each run non-empty, no wrap, and
 * no more runs than the array or the descriptors given. */
static void fuzz_lba_status(const uint8_t *buf, size_t len, size_t cap)
{
	struct scsi_lba_extent e[16];
	uint64_t lba = len ? buf[len - 1] : 0, next;
	int n = scsi_get_lba_status_parse(buf, len, lba, e, cap);

	if (n < 0) {
		if (n != -EBADMSG)
			abort();
		return;
	}
	if (n == 0 || (size_t)n > cap || len < 24 || (size_t)n > (len - 8) / 16)
		abort();
	next = lba;
	for (int i = 0; i < n; i++) {
		if (e[i].lba != next || e[i].blocks == 0 || e[i].lba > UINT64_MAX - e[i].blocks ||
		    e[i].status > SCSI_LBA_ANCHORED || (i && e[i].status == e[i - 1].status))
			abort();
		next = e[i].lba + e[i].blocks;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *buf;
	size_t len;

	if (size < 1)
		return 0;
	buf = data + 1;
	len = size - 1;
	fuzz_luns(buf, len, data[0] & 0x0f);
	fuzz_lun_addr(buf, len, 1 + (size_t)(data[0] & 0x3f));
	fuzz_mode_sense(buf, len);
	fuzz_inquiry(buf, len);
	fuzz_vpd(buf, len, 1 + (size_t)(data[0] & 0x3f));
	fuzz_capacity(buf, len);
	fuzz_lba_status(buf, len, 1 + (size_t)(data[0] & 0x0f));
	return 0;
}
