/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ALUA: TPGS, the port's group from VPD 0x83, REPORT TARGET PORT GROUPS. */
#include <errno.h>
#include <string.h>

#include "alua.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int scsi_inquiry_tpgs(const uint8_t *buf, size_t len)
{
	if (len < 6)
		return -EBADMSG;
	return (buf[5] >> 4) & 0x3;
}

int scsi_vpd_alua_port_parse(const uint8_t *buf, size_t len, struct scsi_alua_port *ret)
{
	struct scsi_alua_port p = {0};
	size_t end, off = 4;

	if (len < 4 || buf[1] != 0x83)
		return -EBADMSG;
	end = 4 + (size_t)be16(buf + 2);
	/* the page may be cut by the allocation length: read what came */
	if (end > len)
		end = len;
	while (off + 4 <= end) {
		size_t dlen = buf[off + 3];
		uint8_t assoc = (buf[off + 1] >> 4) & 0x3, type = buf[off + 1] & 0xf;
		const uint8_t *d = buf + off + 4;

		if (off + 4 + dlen > end)
			return -EBADMSG;
		/* both designators are 4 bytes: reserved, then the number */
		if (assoc == 1 && dlen >= 4 && type == 4) {
			p.has_rel_port = true;
			p.rel_port = be16(d + 2);
		} else if (assoc == 1 && dlen >= 4 && type == 5) {
			p.has_group = true;
			p.group = be16(d + 2);
		}
		off += 4 + dlen;
	}
	*ret = p;
	return 0;
}

int scsi_cdb_report_tpgs(uint8_t cdb[ISCSI_CDB_MAX], uint32_t alloc_len)
{
	memset(cdb, 0, 12);
	cdb[0] = 0xa3; /* MAINTENANCE IN */
	cdb[1] = 0x0a; /* REPORT TARGET PORT GROUPS, length-only format */
	cdb[6] = (uint8_t)(alloc_len >> 24);
	cdb[7] = (uint8_t)(alloc_len >> 16);
	cdb[8] = (uint8_t)(alloc_len >> 8);
	cdb[9] = (uint8_t)alloc_len;
	return 12;
}

int scsi_rtpg_parse(const uint8_t *buf, size_t len, struct scsi_alua_group *ret, size_t cap,
		    size_t *ret_n, size_t *ret_need)
{
	size_t end, off = 4, n = 0;
	uint64_t need;

	if (len < 4)
		return -EBADMSG;
	need = 4 + (uint64_t)be32(buf);
	*ret_need = need > SIZE_MAX ? SIZE_MAX : (size_t)need;
	end = need < len ? (size_t)need : len;
	/* the extended header (format type 1) is 8 bytes: it names the
	 * implicit transition time, which we do not need */
	if (end >= 5 && ((buf[4] >> 4) & 0x7) == 1)
		off = 8;
	while (off + 8 <= end) {
		const uint8_t *d = buf + off;
		size_t ports = d[7];

		if (off + 8 + 4 * ports > end) {
			/* cut by the allocation length: the caller asks again */
			if (need > len)
				break;
			return -EBADMSG;
		}
		if (n < cap) {
			struct scsi_alua_group *g = &ret[n];

			memset(g, 0, sizeof(*g));
			g->preferred = d[0] & 0x80;
			g->state = d[0] & 0xf;
			g->supported = d[1];
			g->id = be16(d + 2);
			g->status = d[5];
			g->n_ports = (uint8_t)ports;
			for (size_t i = 0; i < ports && i < SCSI_ALUA_GROUP_PORTS; i++)
				g->ports[i] = be16(d + 8 + 4 * i + 2);
		}
		n++;
		off += 8 + 4 * ports;
	}
	if (off < end && need <= len)
		return -EBADMSG; /* a tail too short for a descriptor */
	*ret_n = n < cap ? n : cap;
	return 0;
}

const struct scsi_alua_group *scsi_alua_group_of_port(const struct scsi_alua_group *g, size_t n,
						      uint16_t rel_port)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < g[i].n_ports && j < SCSI_ALUA_GROUP_PORTS; j++)
			if (g[i].ports[j] == rel_port)
				return &g[i];
	return NULL;
}

const struct scsi_alua_group *scsi_alua_group_find(const struct scsi_alua_group *g, size_t n,
						   uint16_t id)
{
	for (size_t i = 0; i < n; i++)
		if (g[i].id == id)
			return &g[i];
	return NULL;
}

const char *scsi_alua_state_name(uint8_t state)
{
	static const char *const reserved[16] = {
		[5] = "reserved 0x5",  [6] = "reserved 0x6",  [7] = "reserved 0x7",
		[8] = "reserved 0x8",  [9] = "reserved 0x9",  [10] = "reserved 0xa",
		[11] = "reserved 0xb", [12] = "reserved 0xc", [13] = "reserved 0xd",
	};

	switch (state) {
	case SCSI_ALUA_OPTIMIZED:
		return "active/optimized";
	case SCSI_ALUA_NON_OPTIMIZED:
		return "active/non-optimized";
	case SCSI_ALUA_STANDBY:
		return "standby";
	case SCSI_ALUA_UNAVAILABLE:
		return "unavailable";
	case SCSI_ALUA_LBA_DEPENDENT:
		return "lba-dependent";
	case SCSI_ALUA_OFFLINE:
		return "offline";
	case SCSI_ALUA_TRANSITIONING:
		return "transitioning";
	default:
		return state < 16 && reserved[state] ? reserved[state] : "reserved";
	}
}

bool scsi_alua_state_active(uint8_t state)
{
	return state == SCSI_ALUA_OPTIMIZED || state == SCSI_ALUA_NON_OPTIMIZED ||
	       state == SCSI_ALUA_LBA_DEPENDENT;
}
