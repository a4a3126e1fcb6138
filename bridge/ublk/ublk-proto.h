/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ublk driver's userspace interface (Linux 6.0 and later), written
 * from the uapi so that we build whatever kernel headers the build host
 * has.  Control commands go to /dev/ublk-control as IORING_OP_URING_CMD
 * on a ring with 128-byte SQEs; I/O commands go to /dev/ublkcN.  Every
 * struct here crosses the user/kernel boundary: sizes are asserted.
 *
 * Opcodes come in two spellings: the legacy plain numbers (all that 6.1
 * knows) and ioctl-style encodings (_IOR/_IOWR('u', nr, struct)), which
 * newer kernels prefer and may require.  A kernel that answers
 * GET_FEATURES speaks the encoded ones (LB_UBLK_F_CMD_IOCTL_ENCODE).
 */
#ifndef LUNBRIDGE_UBLK_PROTO_H
#define LUNBRIDGE_UBLK_PROTO_H

#include <assert.h>
#include <linux/ioctl.h>
#include <stdint.h>

#define LB_UBLK_CONTROL "/dev/ublk-control"
#define LB_UBLK_CHAR_FMT "/dev/ublkc%u"
#define LB_UBLK_BLOCK_FMT "/dev/ublkb%u"

/* control command numbers */
enum {
	LB_UBLK_CMD_GET_DEV_INFO = 0x02,
	LB_UBLK_CMD_ADD_DEV = 0x04,
	LB_UBLK_CMD_DEL_DEV = 0x05,
	LB_UBLK_CMD_START_DEV = 0x06,
	LB_UBLK_CMD_STOP_DEV = 0x07,
	LB_UBLK_CMD_SET_PARAMS = 0x08,
	LB_UBLK_CMD_GET_PARAMS = 0x09,
	LB_UBLK_CMD_START_USER_RECOVERY = 0x10,
	LB_UBLK_CMD_END_USER_RECOVERY = 0x11,
	LB_UBLK_CMD_GET_FEATURES = 0x13,
};

/* I/O command numbers */
enum {
	LB_UBLK_IO_FETCH_REQ = 0x20,
	LB_UBLK_IO_COMMIT_AND_FETCH_REQ = 0x21,
};

/* an I/O command's completion: 0, a request is in the descriptor;
 * -ENODEV, the device is stopping and the tag is given back */
#define LB_UBLK_IO_RES_OK 0

/* feature flags (ADD_DEV's dev_info.flags, answered back by the kernel) */
#define LB_UBLK_F_URING_CMD_COMP_IN_TASK (1ULL << 1)
#define LB_UBLK_F_USER_RECOVERY (1ULL << 3)
#define LB_UBLK_F_USER_RECOVERY_REISSUE (1ULL << 4)
#define LB_UBLK_F_CMD_IOCTL_ENCODE (1ULL << 6)

/* dev_info.state */
enum {
	LB_UBLK_S_DEV_DEAD = 0,
	LB_UBLK_S_DEV_LIVE = 1,
	LB_UBLK_S_DEV_QUIESCED = 2,
};

#define LB_UBLK_MAX_QUEUE_DEPTH 4096u
/* the mmap offset of queue q's descriptors: q times the largest area */
#define LB_UBLK_CMD_BUF_OFFSET 0

/* request descriptor: op in bits 0-7, flags above */
enum {
	LB_UBLK_IO_OP_READ = 0,
	LB_UBLK_IO_OP_WRITE = 1,
	LB_UBLK_IO_OP_FLUSH = 2,
	LB_UBLK_IO_OP_DISCARD = 3,
	LB_UBLK_IO_OP_WRITE_SAME = 4,
	LB_UBLK_IO_OP_WRITE_ZEROES = 5,
};
#define LB_UBLK_IO_F_FUA (1u << 13)
#define LB_UBLK_IO_F_NOUNMAP (1u << 15)

/* SET_PARAMS */
#define LB_UBLK_ATTR_READ_ONLY (1u << 0)
#define LB_UBLK_ATTR_VOLATILE_CACHE (1u << 2)
#define LB_UBLK_ATTR_FUA (1u << 3)
#define LB_UBLK_PARAM_TYPE_BASIC (1u << 0)
#define LB_UBLK_PARAM_TYPE_DISCARD (1u << 1)

/* The 32-byte payload of a control command (in the SQE's command area). */
struct lb_ublk_ctrl_cmd {
	uint32_t dev_id;   /* (uint32_t)-1: any, for ADD_DEV */
	uint16_t queue_id; /* (uint16_t)-1 unless for a queue */
	uint16_t len;	   /* of the buffer at addr */
	uint64_t addr;
	uint64_t data[2];
};
static_assert(sizeof(struct lb_ublk_ctrl_cmd) == 32, "ublksrv_ctrl_cmd is 32 bytes");

struct lb_ublk_dev_info {
	uint16_t nr_hw_queues;
	uint16_t queue_depth;
	uint16_t state;
	uint16_t pad0;
	uint32_t max_io_buf_bytes;
	uint32_t dev_id;
	int32_t ublksrv_pid;
	uint32_t pad1;
	uint64_t flags;
	uint64_t ublksrv_flags; /* the server's own; the kernel keeps it */
	uint64_t reserved[3];
};
static_assert(sizeof(struct lb_ublk_dev_info) == 64, "ublksrv_ctrl_dev_info is 64 bytes");

/* One request, written by the kernel into the mmapped descriptor area. */
struct lb_ublk_io_desc {
	uint32_t op_flags;
	uint32_t nr_sectors;
	uint64_t start_sector;
	uint64_t addr;
};
static_assert(sizeof(struct lb_ublk_io_desc) == 24, "ublksrv_io_desc is 24 bytes");

/* The 16-byte payload of FETCH and COMMIT_AND_FETCH (fits a 64-byte SQE). */
struct lb_ublk_io_cmd {
	uint16_t q_id;
	uint16_t tag;
	int32_t result; /* COMMIT: bytes or -errno */
	uint64_t addr;	/* the tag's buffer */
};
static_assert(sizeof(struct lb_ublk_io_cmd) == 16, "ublksrv_io_cmd is 16 bytes");

struct lb_ublk_param_basic {
	uint32_t attrs;
	uint8_t logical_bs_shift;
	uint8_t physical_bs_shift;
	uint8_t io_opt_shift;
	uint8_t io_min_shift;
	uint32_t max_sectors;
	uint32_t chunk_sectors;
	uint64_t dev_sectors;
	uint64_t virt_boundary_mask;
};
static_assert(sizeof(struct lb_ublk_param_basic) == 32, "ublk_param_basic is 32 bytes");

struct lb_ublk_param_discard {
	uint32_t discard_alignment;
	uint32_t discard_granularity;
	uint32_t max_discard_sectors;
	uint32_t max_write_zeroes_sectors;
	uint16_t max_discard_segments;
	uint16_t reserved0;
};
static_assert(sizeof(struct lb_ublk_param_discard) == 20, "ublk_param_discard is 20 bytes");

/* The parameter types this server sets; len says how much of it. */
struct lb_ublk_params {
	uint32_t len;
	uint32_t types;
	struct lb_ublk_param_basic basic;
	struct lb_ublk_param_discard discard;
};
static_assert(sizeof(struct lb_ublk_params) == 64, "basic and discard parameters");

/* ioctl-style encodings */
#define LB_UBLK_U_CMD(nr, rw) rw('u', nr, struct lb_ublk_ctrl_cmd)
#define LB_UBLK_U_IO(nr) _IOWR('u', nr, struct lb_ublk_io_cmd)

/* The opcode to send for a control command number. */
static inline uint32_t lb_ublk_ctrl_op(unsigned nr, int encoded)
{
	if (!encoded)
		return nr;
	switch (nr) {
	case LB_UBLK_CMD_GET_DEV_INFO:
	case LB_UBLK_CMD_GET_PARAMS:
	case LB_UBLK_CMD_GET_FEATURES:
		return LB_UBLK_U_CMD(nr, _IOR);
	default:
		return LB_UBLK_U_CMD(nr, _IOWR);
	}
}

static inline uint32_t lb_ublk_io_op(unsigned nr, int encoded)
{
	return encoded ? LB_UBLK_U_IO(nr) : nr;
}

#endif
