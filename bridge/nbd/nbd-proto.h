/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NBD wire protocol (https://github.com/NetworkBlockDevice/nbd,
 * doc/proto.md): fixed newstyle negotiation and the transmission phase
 * with simple and structured replies.  Everything is big-endian on the
 * wire; the structs are packed and their sizes asserted.
 *
 * Do not include <linux/nbd.h> next to this header: the kernel's copy
 * defines a subset of the same names.
 */
#ifndef LUNBRIDGE_NBD_PROTO_H
#define LUNBRIDGE_NBD_PROTO_H

#include <assert.h>
#include <stdint.h>

#define NBD_MAGIC UINT64_C(0x4e42444d41474943)		/* "NBDMAGIC" */
#define NBD_OPTS_MAGIC UINT64_C(0x49484156454F5054)	/* "IHAVEOPT" */
#define NBD_REP_MAGIC UINT64_C(0x0003e889045565a9)	/* option replies */
#define NBD_REQUEST_MAGIC UINT32_C(0x25609513)		/* transmission requests */
#define NBD_SIMPLE_REPLY_MAGIC UINT32_C(0x67446698)	/* simple replies */
#define NBD_STRUCTURED_REPLY_MAGIC UINT32_C(0x668e33ef) /* structured reply chunks */

/* handshake flags (server) */
#define NBD_FLAG_FIXED_NEWSTYLE (1u << 0)
#define NBD_FLAG_NO_ZEROES (1u << 1)
/* client flags */
#define NBD_FLAG_C_FIXED_NEWSTYLE (1u << 0)
#define NBD_FLAG_C_NO_ZEROES (1u << 1)

/* transmission flags (per export, 16 bits) */
#define NBD_FLAG_HAS_FLAGS (1u << 0)
#define NBD_FLAG_READ_ONLY (1u << 1)
#define NBD_FLAG_SEND_FLUSH (1u << 2)
#define NBD_FLAG_SEND_FUA (1u << 3)
#define NBD_FLAG_ROTATIONAL (1u << 4)
#define NBD_FLAG_SEND_TRIM (1u << 5)
#define NBD_FLAG_SEND_WRITE_ZEROES (1u << 6)
#define NBD_FLAG_SEND_DF (1u << 7)
#define NBD_FLAG_CAN_MULTI_CONN (1u << 8)
#define NBD_FLAG_SEND_RESIZE (1u << 9)
#define NBD_FLAG_SEND_CACHE (1u << 10)
#define NBD_FLAG_SEND_FAST_ZERO (1u << 11)

/* options */
#define NBD_OPT_EXPORT_NAME 1u
#define NBD_OPT_ABORT 2u
#define NBD_OPT_LIST 3u
#define NBD_OPT_STARTTLS 5u
#define NBD_OPT_INFO 6u
#define NBD_OPT_GO 7u
#define NBD_OPT_STRUCTURED_REPLY 8u
#define NBD_OPT_LIST_META_CONTEXT 9u
#define NBD_OPT_SET_META_CONTEXT 10u
#define NBD_OPT_EXTENDED_HEADERS 11u

/* option replies; errors have bit 31 set */
#define NBD_REP_ACK 1u
#define NBD_REP_SERVER 2u
#define NBD_REP_INFO 3u
#define NBD_REP_META_CONTEXT 4u
#define NBD_REP_FLAG_ERROR (1u << 31)
#define NBD_REP_ERR_UNSUP (NBD_REP_FLAG_ERROR | 1u)
#define NBD_REP_ERR_POLICY (NBD_REP_FLAG_ERROR | 2u)
#define NBD_REP_ERR_INVALID (NBD_REP_FLAG_ERROR | 3u)
#define NBD_REP_ERR_PLATFORM (NBD_REP_FLAG_ERROR | 4u)
#define NBD_REP_ERR_TLS_REQD (NBD_REP_FLAG_ERROR | 5u)
#define NBD_REP_ERR_UNKNOWN (NBD_REP_FLAG_ERROR | 6u)
#define NBD_REP_ERR_SHUTDOWN (NBD_REP_FLAG_ERROR | 7u)
#define NBD_REP_ERR_BLOCK_SIZE_REQD (NBD_REP_FLAG_ERROR | 8u)
#define NBD_REP_ERR_TOO_BIG (NBD_REP_FLAG_ERROR | 9u)

/* NBD_REP_INFO types */
#define NBD_INFO_EXPORT 0u
#define NBD_INFO_NAME 1u
#define NBD_INFO_DESCRIPTION 2u
#define NBD_INFO_BLOCK_SIZE 3u

/* commands */
#define NBD_CMD_READ 0u
#define NBD_CMD_WRITE 1u
#define NBD_CMD_DISC 2u
#define NBD_CMD_FLUSH 3u
#define NBD_CMD_TRIM 4u
#define NBD_CMD_CACHE 5u
#define NBD_CMD_WRITE_ZEROES 6u
#define NBD_CMD_BLOCK_STATUS 7u
#define NBD_CMD_RESIZE 8u

/* command flags */
#define NBD_CMD_FLAG_FUA (1u << 0)
#define NBD_CMD_FLAG_NO_HOLE (1u << 1)
#define NBD_CMD_FLAG_DF (1u << 2)
#define NBD_CMD_FLAG_REQ_ONE (1u << 3)
#define NBD_CMD_FLAG_FAST_ZERO (1u << 4)

/* structured reply chunk types and flags */
#define NBD_REPLY_FLAG_DONE (1u << 0)
#define NBD_REPLY_TYPE_NONE 0u
#define NBD_REPLY_TYPE_OFFSET_DATA 1u
#define NBD_REPLY_TYPE_OFFSET_HOLE 2u
#define NBD_REPLY_TYPE_BLOCK_STATUS 5u
#define NBD_REPLY_TYPE_ERROR ((1u << 15) | 1u)
#define NBD_REPLY_TYPE_ERROR_OFFSET ((1u << 15) | 2u)

/* base:allocation's flags in NBD_REPLY_TYPE_BLOCK_STATUS descriptors */
#define NBD_META_BASE_ALLOCATION "base:allocation"
#define NBD_STATE_HOLE (1u << 0)
#define NBD_STATE_ZERO (1u << 1)

/* errors in replies (not errno: fixed values) */
#define NBD_SUCCESS 0u
#define NBD_EPERM 1u
#define NBD_EIO 5u
#define NBD_ENOMEM 12u
#define NBD_EINVAL 22u
#define NBD_ENOSPC 28u
#define NBD_EOVERFLOW 75u
#define NBD_ENOTSUP 95u
#define NBD_ESHUTDOWN 108u

/* limits we hold clients to */
#define NBD_MAX_STRING 4096u	    /* export names, descriptions */
#define NBD_MAX_OPTION_DATA 65536u  /* one option's payload */
#define NBD_MAX_PAYLOAD (32u << 20) /* one READ or WRITE */

/* server greeting: NBDMAGIC, IHAVEOPT, handshake flags */
struct nbd_greeting {
	uint64_t nbdmagic;
	uint64_t version;
	uint16_t gflags;
} __attribute__((packed));
static_assert(sizeof(struct nbd_greeting) == 18, "nbd_greeting");

/* client option header, followed by len bytes of data */
struct nbd_option {
	uint64_t version; /* NBD_OPTS_MAGIC */
	uint32_t option;
	uint32_t len;
} __attribute__((packed));
static_assert(sizeof(struct nbd_option) == 16, "nbd_option");

/* server option reply header, followed by len bytes of data */
struct nbd_option_reply {
	uint64_t magic; /* NBD_REP_MAGIC */
	uint32_t option;
	uint32_t reply;
	uint32_t len;
} __attribute__((packed));
static_assert(sizeof(struct nbd_option_reply) == 20, "nbd_option_reply");

/* NBD_OPT_EXPORT_NAME's answer (no zeroes when NO_ZEROES was agreed) */
struct nbd_export_name_reply {
	uint64_t size;
	uint16_t eflags;
	uint8_t zeroes[124];
} __attribute__((packed));
static_assert(sizeof(struct nbd_export_name_reply) == 134, "nbd_export_name_reply");

struct nbd_info_export {
	uint16_t info; /* NBD_INFO_EXPORT */
	uint64_t size;
	uint16_t eflags;
} __attribute__((packed));
static_assert(sizeof(struct nbd_info_export) == 12, "nbd_info_export");

struct nbd_info_block_size {
	uint16_t info; /* NBD_INFO_BLOCK_SIZE */
	uint32_t minimum;
	uint32_t preferred;
	uint32_t maximum;
} __attribute__((packed));
static_assert(sizeof(struct nbd_info_block_size) == 14, "nbd_info_block_size");

struct nbd_request {
	uint32_t magic; /* NBD_REQUEST_MAGIC */
	uint16_t flags;
	uint16_t type;
	uint64_t handle; /* "cookie" */
	uint64_t offset;
	uint32_t count;
} __attribute__((packed));
static_assert(sizeof(struct nbd_request) == 28, "nbd_request");

struct nbd_simple_reply {
	uint32_t magic; /* NBD_SIMPLE_REPLY_MAGIC */
	uint32_t error;
	uint64_t handle;
} __attribute__((packed));
static_assert(sizeof(struct nbd_simple_reply) == 16, "nbd_simple_reply");

struct nbd_structured_reply {
	uint32_t magic; /* NBD_STRUCTURED_REPLY_MAGIC */
	uint16_t flags;
	uint16_t type;
	uint64_t handle;
	uint32_t length; /* of the payload that follows */
} __attribute__((packed));
static_assert(sizeof(struct nbd_structured_reply) == 20, "nbd_structured_reply");

/* payload of NBD_REPLY_TYPE_OFFSET_DATA: the offset, then the data */
struct nbd_chunk_offset_data {
	uint64_t offset;
} __attribute__((packed));
static_assert(sizeof(struct nbd_chunk_offset_data) == 8, "nbd_chunk_offset_data");

/* payload of NBD_REPLY_TYPE_ERROR: error, message length, message */
struct nbd_chunk_error {
	uint32_t error;
	uint16_t len;
} __attribute__((packed));
static_assert(sizeof(struct nbd_chunk_error) == 6, "nbd_chunk_error");

/* payload of NBD_REPLY_TYPE_BLOCK_STATUS: the context id, then
 * descriptors */
struct nbd_block_descriptor {
	uint32_t length;
	uint32_t flags; /* NBD_STATE_* */
} __attribute__((packed));
static_assert(sizeof(struct nbd_block_descriptor) == 8, "nbd_block_descriptor");

#endif
