/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ALUA (SPC-4 §5.16, asymmetric logical unit access) without I/O: what
 * the standard INQUIRY says of target port group support (TPGS), which
 * port and port group a path reaches (VPD 0x83's relative target port and
 * target port group designators), and REPORT TARGET PORT GROUPS (MAINTENANCE
 * IN 0xA3, service action 0x0A) read into each group's access state.
 * Every length comes from the target and is checked against the buffer:
 * a short or inconsistent answer is -EBADMSG, never read past.
 */
#ifndef LUNBRIDGE_SCSI_ALUA_H
#define LUNBRIDGE_SCSI_ALUA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scsi.h"

/* Asymmetric access states (SPC-4 table 156), as the target reports them. */
enum scsi_alua_state {
	SCSI_ALUA_OPTIMIZED = 0x0,
	SCSI_ALUA_NON_OPTIMIZED = 0x1,
	SCSI_ALUA_STANDBY = 0x2,
	SCSI_ALUA_UNAVAILABLE = 0x3,
	SCSI_ALUA_LBA_DEPENDENT = 0x4,
	SCSI_ALUA_OFFLINE = 0xe,
	SCSI_ALUA_TRANSITIONING = 0xf,
};

/* INQUIRY byte 5 bits 5:4: none, implicit, explicit, both. */
#define SCSI_TPGS_NONE 0u
#define SCSI_TPGS_IMPLICIT 1u
#define SCSI_TPGS_EXPLICIT 2u

/* The TPGS field of standard INQUIRY data: 0..3, -EBADMSG if shorter
 * than 6 bytes. */
int scsi_inquiry_tpgs(const uint8_t *buf, size_t len);

/* What VPD 0x83 says of the port a path reaches (association 1, target
 * port): its relative target port (designator type 4) and its target
 * port group (type 5), each where present. */
struct scsi_alua_port {
	bool has_rel_port, has_group;
	uint16_t rel_port;
	uint16_t group;
};
/* -EBADMSG for a page that is not 0x83 or whose designators overrun it. */
int scsi_vpd_alua_port_parse(const uint8_t *buf, size_t len, struct scsi_alua_port *ret);

/* REPORT TARGET PORT GROUPS, length-only format: the CDB (12 bytes). */
int scsi_cdb_report_tpgs(uint8_t cdb[ISCSI_CDB_MAX], uint32_t alloc_len);

#define SCSI_ALUA_GROUP_PORTS 16 /* relative ports kept per group */

struct scsi_alua_group {
	uint16_t id;
	uint8_t state; /* enum scsi_alua_state (reserved codes kept as read) */
	bool preferred;
	uint8_t supported; /* T O LBD U S AN AO bits of byte 1 */
	uint8_t status;	   /* 0: none, 1: altered by SET TPG, 2: implicitly */
	uint8_t n_ports;   /* the count the target gave (ports[] keeps 16) */
	uint16_t ports[SCSI_ALUA_GROUP_PORTS];
};

/* The descriptors of REPORT TARGET PORT GROUPS data (either header
 * format), up to cap of them in ret (*ret_n); *ret_need is the data
 * length the target has (4 + its RETURN DATA LENGTH): more than len means
 * the answer was cut by the allocation length, ask again with that much.
 * -EBADMSG for fewer than 4 bytes or a descriptor that overruns the data
 * the target says it returned. */
int scsi_rtpg_parse(const uint8_t *buf, size_t len, struct scsi_alua_group *ret, size_t cap,
		    size_t *ret_n, size_t *ret_need);

/* The group holding relative port rel_port, or NULL. */
const struct scsi_alua_group *scsi_alua_group_of_port(const struct scsi_alua_group *g, size_t n,
						      uint16_t rel_port);
const struct scsi_alua_group *scsi_alua_group_find(const struct scsi_alua_group *g, size_t n,
						   uint16_t id);

/* "active/optimized", "active/non-optimized", "standby", "unavailable",
 * "lba-dependent", "offline", "transitioning", "reserved 0xN". Static. */
const char *scsi_alua_state_name(uint8_t state);
/* Whether I/O may go to a port in state: optimized, non-optimized and
 * LBA dependent (all LBAs are then tried; the target says which not). */
bool scsi_alua_state_active(uint8_t state);

#endif
