/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iSCSI wire format (RFC 7143 §11): opcodes, flags and the 48-byte Basic
 * Header Segment of every PDU the initiator sends or receives.
 *
 * All multi-byte fields are big-endian on the wire and stored here as they
 * appear on the wire; read them with be16toh()/be32toh() or the iscsi_get_*
 * helpers.  The structs contain only naturally aligned fields, so they have
 * no padding; decode by memcpy() into a union iscsi_hdr, never by casting a
 * receive buffer.
 */
#ifndef LUNBRIDGE_ISCSI_SPEC_H
#define LUNBRIDGE_ISCSI_SPEC_H

#include <endian.h>
#include <stdint.h>

#define ISCSI_BHS_LEN 48u
#define ISCSI_DIGEST_LEN 4u
#define ISCSI_AHS_MAX_LEN (255u * 4u)  /* TotalAHSLength is in 4-byte words */
#define ISCSI_DSL_MAX 0xffffffu	       /* DataSegmentLength is 24 bits */
#define ISCSI_RESERVED_TAG 0xffffffffu /* ITT/TTT "reserved" value */
#define ISCSI_DEFAULT_PORT 3260

/* Byte 0: the I (immediate) bit and the 6-bit opcode. */
#define ISCSI_OP_IMMEDIATE 0x40u
#define ISCSI_OPCODE_MASK 0x3fu

/* Initiator opcodes (§11.1.1). */
enum {
	ISCSI_OP_NOP_OUT = 0x00,
	ISCSI_OP_SCSI_CMD = 0x01,
	ISCSI_OP_TMF_REQ = 0x02,
	ISCSI_OP_LOGIN_REQ = 0x03,
	ISCSI_OP_TEXT_REQ = 0x04,
	ISCSI_OP_DATA_OUT = 0x05,
	ISCSI_OP_LOGOUT_REQ = 0x06,
	ISCSI_OP_SNACK_REQ = 0x10,
};

/* Target opcodes. */
enum {
	ISCSI_OP_NOP_IN = 0x20,
	ISCSI_OP_SCSI_RSP = 0x21,
	ISCSI_OP_TMF_RSP = 0x22,
	ISCSI_OP_LOGIN_RSP = 0x23,
	ISCSI_OP_TEXT_RSP = 0x24,
	ISCSI_OP_DATA_IN = 0x25,
	ISCSI_OP_LOGOUT_RSP = 0x26,
	ISCSI_OP_R2T = 0x31,
	ISCSI_OP_ASYNC_MSG = 0x32,
	ISCSI_OP_REJECT = 0x3f,
};

/* Byte 1 flags. */
#define ISCSI_FLAG_FINAL 0x80u

/* SCSI Command (§11.3). */
#define ISCSI_CMD_FLAG_READ 0x40u
#define ISCSI_CMD_FLAG_WRITE 0x20u
#define ISCSI_CMD_ATTR_MASK 0x07u
enum {
	ISCSI_ATTR_UNTAGGED = 0,
	ISCSI_ATTR_SIMPLE = 1,
	ISCSI_ATTR_ORDERED = 2,
	ISCSI_ATTR_HEAD_OF_QUEUE = 3,
	ISCSI_ATTR_ACA = 4,
};

/* SCSI Response (§11.4) and Data-In (§11.7) residual flags. */
#define ISCSI_RSP_FLAG_BIDI_OVERFLOW 0x10u  /* o */
#define ISCSI_RSP_FLAG_BIDI_UNDERFLOW 0x08u /* u */
#define ISCSI_RSP_FLAG_OVERFLOW 0x04u	    /* O */
#define ISCSI_RSP_FLAG_UNDERFLOW 0x02u	    /* U */
#define ISCSI_DATA_IN_FLAG_ACK 0x40u	    /* A */
#define ISCSI_DATA_IN_FLAG_STATUS 0x01u	    /* S */

/* SCSI Response "Response" byte. */
enum {
	ISCSI_RSP_COMPLETED = 0x00,
	ISCSI_RSP_TARGET_FAILURE = 0x01,
};

/* Task Management functions (§11.5.1) and responses (§11.6.1). */
#define ISCSI_TMF_FUNC_MASK 0x7fu
enum {
	ISCSI_TMF_ABORT_TASK = 1,
	ISCSI_TMF_ABORT_TASK_SET = 2,
	ISCSI_TMF_CLEAR_ACA = 3,
	ISCSI_TMF_CLEAR_TASK_SET = 4,
	ISCSI_TMF_LUN_RESET = 5,
	ISCSI_TMF_TARGET_WARM_RESET = 6,
	ISCSI_TMF_TARGET_COLD_RESET = 7,
	ISCSI_TMF_TASK_REASSIGN = 8,
};
enum {
	ISCSI_TMF_RSP_COMPLETE = 0,
	ISCSI_TMF_RSP_NO_TASK = 1,
	ISCSI_TMF_RSP_NO_LUN = 2,
	ISCSI_TMF_RSP_TASK_ALLEGIANT = 3,
	ISCSI_TMF_RSP_NO_REASSIGN = 4,
	ISCSI_TMF_RSP_NOT_SUPPORTED = 5,
	ISCSI_TMF_RSP_AUTH_FAILED = 6,
	ISCSI_TMF_RSP_REJECTED = 255,
};

/* Login (§11.12): byte 1 is T C . . CSG CSG NSG NSG. */
#define ISCSI_LOGIN_FLAG_TRANSIT 0x80u
#define ISCSI_LOGIN_FLAG_CONTINUE 0x40u
#define ISCSI_LOGIN_CSG_SHIFT 2
#define ISCSI_LOGIN_CSG_MASK 0x0cu
#define ISCSI_LOGIN_NSG_MASK 0x03u
enum {
	ISCSI_STAGE_SECURITY = 0,
	ISCSI_STAGE_OPERATIONAL = 1,
	ISCSI_STAGE_FULL_FEATURE = 3,
};
#define ISCSI_VERSION 0x00u
/* Login Response Status-Class (§11.13.5). */
enum {
	ISCSI_LOGIN_CLASS_SUCCESS = 0x00,
	ISCSI_LOGIN_CLASS_REDIRECT = 0x01,
	ISCSI_LOGIN_CLASS_INITIATOR_ERR = 0x02,
	ISCSI_LOGIN_CLASS_TARGET_ERR = 0x03,
};

/* Text (§11.10): F and C. */
#define ISCSI_TEXT_FLAG_CONTINUE 0x40u

/* Logout (§11.14). */
#define ISCSI_LOGOUT_REASON_MASK 0x7fu
enum {
	ISCSI_LOGOUT_CLOSE_SESSION = 0,
	ISCSI_LOGOUT_CLOSE_CONNECTION = 1,
	ISCSI_LOGOUT_REMOVE_FOR_RECOVERY = 2,
};
enum {
	ISCSI_LOGOUT_RSP_OK = 0,
	ISCSI_LOGOUT_RSP_CID_NOT_FOUND = 1,
	ISCSI_LOGOUT_RSP_RECOVERY_UNSUPPORTED = 2,
	ISCSI_LOGOUT_RSP_CLEANUP_FAILED = 3,
};

/* SNACK (§11.16). */
#define ISCSI_SNACK_TYPE_MASK 0x0fu

/* Asynchronous events (§11.9.1). */
enum {
	ISCSI_ASYNC_SCSI_EVENT = 0,
	ISCSI_ASYNC_LOGOUT_REQUEST = 1,
	ISCSI_ASYNC_DROP_CONNECTION = 2,
	ISCSI_ASYNC_DROP_ALL_CONNECTIONS = 3,
	ISCSI_ASYNC_RENEGOTIATE = 4,
	ISCSI_ASYNC_VENDOR = 255,
};

/* Reject reasons (§11.17.1). */
enum {
	ISCSI_REJECT_DIGEST_ERROR = 0x02,
	ISCSI_REJECT_SNACK_REJECT = 0x03,
	ISCSI_REJECT_PROTOCOL_ERROR = 0x04,
	ISCSI_REJECT_CMD_NOT_SUPPORTED = 0x05,
	ISCSI_REJECT_IMM_CMD_REJECT = 0x06,
	ISCSI_REJECT_TASK_IN_PROGRESS = 0x07,
	ISCSI_REJECT_INVALID_DATA_ACK = 0x08,
	ISCSI_REJECT_INVALID_PDU_FIELD = 0x09,
	ISCSI_REJECT_LONG_OP_REJECT = 0x0a,
	ISCSI_REJECT_DEPRECATED = 0x0b,
	ISCSI_REJECT_WAITING_FOR_LOGOUT = 0x0c,
};

/* AHS types (§11.2.2). */
enum {
	ISCSI_AHS_EXTENDED_CDB = 1,
	ISCSI_AHS_BIDI_READ_LENGTH = 2,
};

/* Fields common to every BHS (§11.2.1). */
struct iscsi_bhs {
	uint8_t opcode;
	uint8_t flags;
	uint8_t opcode_specific1[2];
	uint8_t total_ahs_len; /* 4-byte words */
	uint8_t dlength[3];    /* DataSegmentLength, bytes, excluding padding */
	uint8_t lun[8];
	uint32_t itt;
	uint8_t opcode_specific2[28];
};

struct iscsi_scsi_cmd_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t lun[8];
	uint32_t itt;
	uint32_t exp_data_len;
	uint32_t cmdsn;
	uint32_t exp_statsn;
	uint8_t cdb[16];
};

struct iscsi_scsi_rsp_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t response;
	uint8_t status;
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t rsvd8[8];
	uint32_t itt;
	uint32_t snack_tag;
	uint32_t statsn;
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn;
	uint32_t exp_datasn;
	uint32_t bidi_residual;
	uint32_t residual;
};

struct iscsi_tmf_req_hdr {
	uint8_t opcode;
	uint8_t flags; /* F | function */
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t lun[8];
	uint32_t itt;
	uint32_t ref_task_tag;
	uint32_t cmdsn;
	uint32_t exp_statsn;
	uint32_t ref_cmdsn;
	uint32_t exp_datasn;
	uint8_t rsvd40[8];
};

struct iscsi_tmf_rsp_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t response;
	uint8_t rsvd3;
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t rsvd8[8];
	uint32_t itt;
	uint32_t rsvd20;
	uint32_t statsn;
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn;
	uint8_t rsvd36[12];
};

struct iscsi_data_out_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t lun[8];
	uint32_t itt;
	uint32_t ttt;
	uint32_t rsvd24;
	uint32_t exp_statsn;
	uint32_t rsvd32;
	uint32_t datasn;
	uint32_t buffer_offset;
	uint32_t rsvd44;
};

struct iscsi_data_in_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2;
	uint8_t status;
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t lun[8];
	uint32_t itt;
	uint32_t ttt;
	uint32_t statsn;
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn;
	uint32_t datasn;
	uint32_t buffer_offset;
	uint32_t residual;
};

struct iscsi_r2t_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t lun[8];
	uint32_t itt;
	uint32_t ttt;
	uint32_t statsn;
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn;
	uint32_t r2tsn;
	uint32_t buffer_offset;
	uint32_t desired_len;
};

struct iscsi_async_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t lun[8];
	uint32_t itt; /* 0xffffffff */
	uint32_t rsvd20;
	uint32_t statsn;
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn;
	uint8_t async_event;
	uint8_t async_vcode;
	uint16_t param1;
	uint16_t param2;
	uint16_t param3;
	uint32_t rsvd44;
};

struct iscsi_nop_out_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t lun[8];
	uint32_t itt;
	uint32_t ttt;
	uint32_t cmdsn;
	uint32_t exp_statsn;
	uint8_t rsvd32[16];
};

struct iscsi_nop_in_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t lun[8];
	uint32_t itt;
	uint32_t ttt;
	uint32_t statsn;
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn;
	uint8_t rsvd36[12];
};

struct iscsi_login_req_hdr {
	uint8_t opcode;
	uint8_t flags; /* T C . . CSG NSG */
	uint8_t version_max;
	uint8_t version_min;
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t isid[6];
	uint16_t tsih;
	uint32_t itt;
	uint16_t cid;
	uint16_t rsvd22;
	uint32_t cmdsn;
	uint32_t exp_statsn;
	uint8_t rsvd32[16];
};

struct iscsi_login_rsp_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t version_max;
	uint8_t version_active;
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t isid[6];
	uint16_t tsih;
	uint32_t itt;
	uint32_t rsvd20;
	uint32_t statsn;
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn;
	uint8_t status_class;
	uint8_t status_detail;
	uint8_t rsvd38[10];
};

struct iscsi_text_req_hdr {
	uint8_t opcode;
	uint8_t flags; /* F C */
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t lun[8];
	uint32_t itt;
	uint32_t ttt;
	uint32_t cmdsn;
	uint32_t exp_statsn;
	uint8_t rsvd32[16];
};

struct iscsi_text_rsp_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t lun[8];
	uint32_t itt;
	uint32_t ttt;
	uint32_t statsn;
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn;
	uint8_t rsvd36[12];
};

struct iscsi_logout_req_hdr {
	uint8_t opcode;
	uint8_t flags; /* F | reason */
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t rsvd8[8];
	uint32_t itt;
	uint16_t cid;
	uint16_t rsvd22;
	uint32_t cmdsn;
	uint32_t exp_statsn;
	uint8_t rsvd32[16];
};

struct iscsi_logout_rsp_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t response;
	uint8_t rsvd3;
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t rsvd8[8];
	uint32_t itt;
	uint32_t rsvd20;
	uint32_t statsn;
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn;
	uint32_t rsvd36;
	uint16_t time2wait;
	uint16_t time2retain;
	uint32_t rsvd44;
};

struct iscsi_snack_hdr {
	uint8_t opcode;
	uint8_t flags; /* F | type */
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t lun[8];
	uint32_t itt;
	uint32_t ttt; /* or SNACK Tag */
	uint32_t rsvd24;
	uint32_t exp_statsn;
	uint32_t rsvd32;
	uint32_t begrun;
	uint32_t runlength;
	uint32_t rsvd44;
};

struct iscsi_reject_hdr {
	uint8_t opcode;
	uint8_t flags;
	uint8_t reason;
	uint8_t rsvd3;
	uint8_t total_ahs_len;
	uint8_t dlength[3];
	uint8_t rsvd8[8];
	uint32_t itt; /* 0xffffffff */
	uint32_t rsvd20;
	uint32_t statsn;
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn;
	uint32_t datasn; /* DataSN/R2TSN */
	uint8_t rsvd40[8];
};

/* Any BHS; decode with memcpy(&hdr.raw, buf, ISCSI_BHS_LEN). */
union iscsi_hdr {
	uint8_t raw[ISCSI_BHS_LEN];
	struct iscsi_bhs bhs;
	struct iscsi_scsi_cmd_hdr scsi_cmd;
	struct iscsi_scsi_rsp_hdr scsi_rsp;
	struct iscsi_tmf_req_hdr tmf_req;
	struct iscsi_tmf_rsp_hdr tmf_rsp;
	struct iscsi_data_out_hdr data_out;
	struct iscsi_data_in_hdr data_in;
	struct iscsi_r2t_hdr r2t;
	struct iscsi_async_hdr async;
	struct iscsi_nop_out_hdr nop_out;
	struct iscsi_nop_in_hdr nop_in;
	struct iscsi_login_req_hdr login_req;
	struct iscsi_login_rsp_hdr login_rsp;
	struct iscsi_text_req_hdr text_req;
	struct iscsi_text_rsp_hdr text_rsp;
	struct iscsi_logout_req_hdr logout_req;
	struct iscsi_logout_rsp_hdr logout_rsp;
	struct iscsi_snack_hdr snack;
	struct iscsi_reject_hdr reject;
};

#define ISCSI_ASSERT_BHS(t) _Static_assert(sizeof(struct t) == ISCSI_BHS_LEN, #t " is not 48 bytes")
ISCSI_ASSERT_BHS(iscsi_bhs);
ISCSI_ASSERT_BHS(iscsi_scsi_cmd_hdr);
ISCSI_ASSERT_BHS(iscsi_scsi_rsp_hdr);
ISCSI_ASSERT_BHS(iscsi_tmf_req_hdr);
ISCSI_ASSERT_BHS(iscsi_tmf_rsp_hdr);
ISCSI_ASSERT_BHS(iscsi_data_out_hdr);
ISCSI_ASSERT_BHS(iscsi_data_in_hdr);
ISCSI_ASSERT_BHS(iscsi_r2t_hdr);
ISCSI_ASSERT_BHS(iscsi_async_hdr);
ISCSI_ASSERT_BHS(iscsi_nop_out_hdr);
ISCSI_ASSERT_BHS(iscsi_nop_in_hdr);
ISCSI_ASSERT_BHS(iscsi_login_req_hdr);
ISCSI_ASSERT_BHS(iscsi_login_rsp_hdr);
ISCSI_ASSERT_BHS(iscsi_text_req_hdr);
ISCSI_ASSERT_BHS(iscsi_text_rsp_hdr);
ISCSI_ASSERT_BHS(iscsi_logout_req_hdr);
ISCSI_ASSERT_BHS(iscsi_logout_rsp_hdr);
ISCSI_ASSERT_BHS(iscsi_snack_hdr);
ISCSI_ASSERT_BHS(iscsi_reject_hdr);
_Static_assert(sizeof(union iscsi_hdr) == ISCSI_BHS_LEN, "union iscsi_hdr is not 48 bytes");
#undef ISCSI_ASSERT_BHS

/* Big-endian accessors for byte buffers (no alignment assumed). */
static inline uint16_t iscsi_get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t iscsi_get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t iscsi_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t iscsi_get_be64(const uint8_t *p)
{
	return (uint64_t)iscsi_get_be32(p) << 32 | iscsi_get_be32(p + 4);
}

static inline void iscsi_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void iscsi_put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void iscsi_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void iscsi_put_be64(uint8_t *p, uint64_t v)
{
	iscsi_put_be32(p, (uint32_t)(v >> 32));
	iscsi_put_be32(p + 4, (uint32_t)v);
}

#endif
