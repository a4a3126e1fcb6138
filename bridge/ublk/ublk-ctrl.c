/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "modprobe.h"
#include "ublk-ctrl.h"

#define CTRL_RING_ENTRIES 4

static int ctrl_cmd(struct lb_ublk_ctrl *c, unsigned nr, uint32_t dev_id, void *buf,
		    uint16_t len, uint64_t data0)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);
	struct lb_ublk_ctrl_cmd *cmd;
	struct io_uring_cqe *cqe;
	int r;

	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, 2 * sizeof(*sqe)); /* a 128-byte SQE */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = c->fd;
	sqe->cmd_op = lb_ublk_ctrl_op(nr, c->encoded);
	cmd = (struct lb_ublk_ctrl_cmd *)sqe->cmd;
	cmd->dev_id = dev_id;
	cmd->queue_id = (uint16_t)-1;
	cmd->addr = (uint64_t)(uintptr_t)buf;
	cmd->len = len;
	cmd->data[0] = data0;
	r = io_uring_submit(&c->ring);
	if (r < 0)
		return r;
	do
		r = io_uring_wait_cqe(&c->ring, &cqe);
	while (r == -EINTR);
	if (r < 0)
		return r;
	r = cqe->res;
	io_uring_cqe_seen(&c->ring, cqe);
	return r;
}

static int no_ublk(int r, lb_err *err)
{
	if (r == -ENOENT || r == -ENODEV || r == -ENXIO)
		return lb_err_set(err, -r,
				  "the kernel has no ublk support: %s not found (modprobe ublk_drv)",
				  LB_UBLK_CONTROL);
	return lb_err_set(err, -r, "cannot open %s: %s", LB_UBLK_CONTROL, strerror(-r));
}

int lb_ublk_ctrl_probe(lb_err *err)
{
	int fd = open(LB_UBLK_CONTROL, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && lb_modprobe("ublk_drv") == 0)
		fd = open(LB_UBLK_CONTROL, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return no_ublk(-errno, err);
	close(fd);
	return 0;
}

int lb_ublk_ctrl_open(struct lb_ublk_ctrl *c, lb_err *err)
{
	uint64_t features = 0;
	int r;

	memset(c, 0, sizeof(*c));
	c->fd = open(LB_UBLK_CONTROL, O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		return no_ublk(-errno, err);
	r = io_uring_queue_init(CTRL_RING_ENTRIES, &c->ring, IORING_SETUP_SQE128);
	if (r < 0) {
		close(c->fd);
		c->fd = -1;
		return lb_err_set(err, -r, "io_uring with 128-byte SQEs: %s", strerror(-r));
	}
	/* Kernels that have GET_FEATURES know the encoded opcodes; 6.1 looks
	 * the device up first and answers -ENODEV. */
	c->encoded = true;
	r = ctrl_cmd(c, LB_UBLK_CMD_GET_FEATURES, (uint32_t)-1, &features, sizeof(features), 0);
	if (r == 0 && (features & LB_UBLK_F_CMD_IOCTL_ENCODE)) {
		c->features = features;
	} else {
		c->encoded = false;
		c->features = 0;
	}
	return 0;
}

void lb_ublk_ctrl_close(struct lb_ublk_ctrl *c)
{
	if (c->fd < 0)
		return;
	io_uring_queue_exit(&c->ring);
	close(c->fd);
	c->fd = -1;
}

int lb_ublk_ctrl_add(struct lb_ublk_ctrl *c, struct lb_ublk_dev_info *info)
{
	return ctrl_cmd(c, LB_UBLK_CMD_ADD_DEV, info->dev_id, info, sizeof(*info), 0);
}

int lb_ublk_ctrl_get_info(struct lb_ublk_ctrl *c, uint32_t dev_id, struct lb_ublk_dev_info *info)
{
	memset(info, 0, sizeof(*info));
	return ctrl_cmd(c, LB_UBLK_CMD_GET_DEV_INFO, dev_id, info, sizeof(*info), 0);
}

int lb_ublk_ctrl_set_params(struct lb_ublk_ctrl *c, uint32_t dev_id, const struct lb_ublk_params *p)
{
	struct lb_ublk_params copy = *p;

	return ctrl_cmd(c, LB_UBLK_CMD_SET_PARAMS, dev_id, &copy, sizeof(copy), 0);
}

int lb_ublk_ctrl_get_params(struct lb_ublk_ctrl *c, uint32_t dev_id, struct lb_ublk_params *p)
{
	memset(p, 0, sizeof(*p));
	p->len = sizeof(*p);
	return ctrl_cmd(c, LB_UBLK_CMD_GET_PARAMS, dev_id, p, sizeof(*p), 0);
}

int lb_ublk_ctrl_start(struct lb_ublk_ctrl *c, uint32_t dev_id, int32_t pid)
{
	return ctrl_cmd(c, LB_UBLK_CMD_START_DEV, dev_id, NULL, 0, (uint64_t)pid);
}

int lb_ublk_ctrl_stop(struct lb_ublk_ctrl *c, uint32_t dev_id)
{
	return ctrl_cmd(c, LB_UBLK_CMD_STOP_DEV, dev_id, NULL, 0, 0);
}

int lb_ublk_ctrl_del(struct lb_ublk_ctrl *c, uint32_t dev_id)
{
	return ctrl_cmd(c, LB_UBLK_CMD_DEL_DEV, dev_id, NULL, 0, 0);
}

int lb_ublk_ctrl_start_recovery(struct lb_ublk_ctrl *c, uint32_t dev_id)
{
	return ctrl_cmd(c, LB_UBLK_CMD_START_USER_RECOVERY, dev_id, NULL, 0, 0);
}

int lb_ublk_ctrl_end_recovery(struct lb_ublk_ctrl *c, uint32_t dev_id, int32_t pid)
{
	return ctrl_cmd(c, LB_UBLK_CMD_END_USER_RECOVERY, dev_id, NULL, 0, (uint64_t)pid);
}

const char *lb_ublk_state_name(unsigned state)
{
	switch (state) {
	case LB_UBLK_S_DEV_DEAD:
		return "dead";
	case LB_UBLK_S_DEV_LIVE:
		return "live";
	case LB_UBLK_S_DEV_QUIESCED:
		return "quiesced";
	default:
		return "unknown";
	}
}
