/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine of our own initiator: block I/O as SCSI commands on a session. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "engine-iscsi.h"
#include "inventory.h"

struct engine_iscsi {
	struct lb_engine e;
	struct iscsi_session *s;		/* its own */
	const struct iscsi_session_config *cfg; /* what clones log in with */
	uint32_t lun;
	bool use10;	     /* the LUN refused READ/WRITE(16) */
	bool use_ws_unmap;   /* discard as WRITE SAME with UNMAP */
	bool ws_unmap_ok;    /* WRITE SAME may set UNMAP */
	bool lbprz;	     /* deallocated blocks read zeroes */
	uint8_t *zero_block; /* WRITE SAME source */
	/* a start or stop under way */
	lb_engine_cb cb;
	void *cb_arg;
	lb_engine_log_fn log_fn;
	void *log_arg;
	int slot;		/* its ISID's (clones), or -1 */
	/* a path of a multipath volume (lb_engine_iscsi_set_path()): its
	 * index picks the ISID slots, ALUA's 'not here' fails fast */
	int path; /* -1: not a path */
	lb_engine_iscsi_alua_fn alua_fn;
	void *alua_arg;
	lb_engine_cb cancel_cb; /* a cancel under way */
	void *cancel_arg;
	/* what the LUN is, asked again on a unit attention: its capacity
	 * (CAPACITY DATA HAS CHANGED), its mode pages (MODE PARAMETERS
	 * CHANGED) */
	struct lun_probe {
		struct iscsi_cmd cmd;
		struct iovec iov;
		uint8_t buf[64];
		bool busy;
	} cap_probe, mode_probe;
	uint64_t size_now; /* what the LUN reported last */
	/* a write cache appeared where the export offers no FLUSH: every
	 * write is followed by SYNCHRONIZE CACHE */
	bool sync_writes;
};

/* An I/O's state while it is a SCSI command on the session. */
struct iscsi_io {
	struct engine_iscsi *engine;
	struct iscsi_cmd cmd;
	struct iovec iov; /* WRITE SAME's block, UNMAP's parameters */
	uint8_t param[SCSI_UNMAP_PARAM_LEN];
	/* FUA the command itself cannot carry (UNMAP, WRITE SAME): a
	 * SYNCHRONIZE CACHE after it, and only then the completion */
	bool sync_after, syncing;
	int saved_res;
};
LB_IO_PRIV_CHECK(struct iscsi_io);

static const struct lb_engine_ops engine_iscsi_ops;

static void __attribute__((format(printf, 2, 3)))
elog(struct engine_iscsi *ei, const char *fmt, ...)
{
	char line[300];
	va_list ap;

	if (!ei->log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ei->log_fn(ei->log_arg, line);
}

static void cap_probe_done(struct iscsi_cmd *cmd, int res)
{
	struct engine_iscsi *ei = cmd->arg;
	struct scsi_capacity cap;

	ei->cap_probe.busy = false;
	if (res == -ESHUTDOWN)
		return; /* the engine is going */
	if (res < 0 || scsi_read_capacity16_parse(ei->cap_probe.buf, (size_t)res, &cap) < 0) {
		elog(ei, "LUN %u: the capacity could not be read again: %s", ei->lun,
		     res < 0 ? strerror(-res) : "bad READ CAPACITY(16) data");
		return;
	}
	ei->size_now = cap.blocks * (uint64_t)cap.block_size;
	if (cap.block_size != ei->e.info.block_size)
		elog(ei,
		     "LUN %u: the block size changed from %u to %u bytes; the device keeps "
		     "%u until the volume is attached again",
		     ei->lun, ei->e.info.block_size, cap.block_size, ei->e.info.block_size);
	if (ei->size_now != ei->e.info.size)
		elog(ei,
		     "LUN %u: capacity data has changed: new size %" PRIu64 " bytes (was %" PRIu64
		     "); the device keeps its size until the volume "
		     "is attached again",
		     ei->lun, ei->size_now, ei->e.info.size);
}

static void mode_probe_done(struct iscsi_cmd *cmd, int res)
{
	struct engine_iscsi *ei = cmd->arg;
	const struct lb_volume_info *vi = &ei->e.info;
	struct scsi_mode_info m;

	ei->mode_probe.busy = false;
	if (res == -ESHUTDOWN)
		return;
	if (res < 0 || scsi_mode_sense_parse(ei->mode_probe.buf, (size_t)res, true, &m) < 0) {
		elog(ei, "LUN %u: the mode pages could not be read again: %s", ei->lun,
		     res < 0 ? strerror(-res) : "bad MODE SENSE(10) data");
		return;
	}
	elog(ei, "LUN %u: mode parameters now: write protect %s, write cache %s, DPOFUA %s",
	     ei->lun, m.write_protected ? "on" : "off",
	     m.has_caching ? (m.wce ? "on" : "off") : "unknown", m.dpofua ? "on" : "off");
	if (m.write_protected && !vi->read_only)
		elog(ei,
		     "LUN %u: now write-protected: writes fail (EROFS) until the volume is "
		     "attached again read-only",
		     ei->lun);
	/* the export's flags are fixed while it serves; what it promised
	 * must hold: a new volatile cache where no FLUSH is offered means
	 * every write is made durable here */
	if (m.has_caching && m.wce && !vi->flush && !ei->sync_writes) {
		ei->sync_writes = true;
		elog(ei,
		     "LUN %u: a write cache appeared and the export offers no FLUSH: every "
		     "write is now followed by SYNCHRONIZE CACHE",
		     ei->lun);
	}
}

static void probe_start(struct engine_iscsi *ei, struct lun_probe *p, bool mode)
{
	if (p->busy)
		return;
	memset(&p->cmd, 0, sizeof(p->cmd));
	p->cmd.lun = ei->lun;
	p->cmd.cdb_len = (uint8_t)(mode ? scsi_cdb_mode_sense10(p->cmd.cdb, 0x08, sizeof(p->buf))
					: scsi_cdb_read_capacity16(p->cmd.cdb, 32));
	p->cmd.dir = ISCSI_DIR_READ;
	p->iov = (struct iovec){p->buf, mode ? sizeof(p->buf) : 32};
	p->cmd.iov = &p->iov;
	p->cmd.iovcnt = 1;
	p->cmd.length = (uint32_t)p->iov.iov_len;
	p->cmd.done = mode ? mode_probe_done : cap_probe_done;
	p->cmd.arg = ei;
	if (iscsi_session_submit(ei->s, &p->cmd) == 0)
		p->busy = true;
}

/* What a command's sense says about the LUN besides the command itself. */
static void on_event(void *arg, enum iscsi_retry_event ev, const struct iscsi_sense *sense)
{
	struct engine_iscsi *ei = arg;

	(void)sense;
	switch (ev) {
	case ISCSI_EVENT_ALUA_CHANGED:
		/* multipath reads the port groups again; a single path logs */
		if (ei->alua_fn) {
			ei->alua_fn(ei->alua_arg);
			return;
		}
		elog(ei, "LUN %u: %s", ei->lun, iscsi_retry_event_name(ev));
		return;
	case ISCSI_EVENT_CAPACITY_CHANGED:
		probe_start(ei, &ei->cap_probe, false);
		return;
	case ISCSI_EVENT_MODE_CHANGED:
		elog(ei, "LUN %u: %s; reading them again", ei->lun, iscsi_retry_event_name(ev));
		probe_start(ei, &ei->mode_probe, true);
		return;
	case ISCSI_EVENT_NONE:
	case ISCSI_EVENT_DEFERRED_ERROR: /* the session logged it with its LBA */
		return;
	default:
		elog(ei, "LUN %u: %s", ei->lun, iscsi_retry_event_name(ev));
		return;
	}
}

static int build_rw(struct engine_iscsi *ei, struct lb_io *io, uint8_t *cdb)
{
	uint64_t lba = io->offset / ei->e.info.block_size;
	uint32_t blocks = io->length / ei->e.info.block_size;
	bool fua = io->flags & LB_IO_FUA;
	bool write = io->op == LB_IO_WRITE;

	if (ei->use10) {
		int r = write ? scsi_cdb_write10(cdb, lba, blocks, fua)
			      : scsi_cdb_read10(cdb, lba, blocks, fua);
		if (r != -ERANGE)
			return r;
	}
	return write ? scsi_cdb_write16(cdb, lba, blocks, fua)
		     : scsi_cdb_read16(cdb, lba, blocks, fua);
}

/* The most descriptors one GET LBA STATUS asks for (the parse runs on the
 * stack). */
#define LBA_STATUS_MAX_DESC 64

/* GET LBA STATUS into the caller's extent array: as many descriptors as
 * the array has room for (the parameter data is read into it first). */
static int build_block_status(struct engine_iscsi *ei, struct lb_io *io, struct iscsi_cmd *cmd)
{
	size_t room = io->iov[0].iov_len, n = room / sizeof(struct lb_extent);

	if (n > LBA_STATUS_MAX_DESC)
		n = LBA_STATUS_MAX_DESC;
	/* the header takes the room of half a descriptor */
	while (n > 1 && SCSI_LBA_STATUS_HDR_LEN + n * SCSI_LBA_STATUS_DESC_LEN > room)
		n--;
	if (SCSI_LBA_STATUS_HDR_LEN + n * SCSI_LBA_STATUS_DESC_LEN > room)
		return -EINVAL;
	cmd->dir = ISCSI_DIR_READ;
	cmd->iov = io->iov;
	cmd->iovcnt = 1;
	cmd->length = (uint32_t)(SCSI_LBA_STATUS_HDR_LEN + n * SCSI_LBA_STATUS_DESC_LEN);
	return scsi_cdb_get_lba_status(cmd->cdb, io->offset / ei->e.info.block_size, cmd->length);
}

/* The parameter data (got bytes at the start of the caller's array) as
 * extents in that array, clipped to the request: their count, or -EIO
 * when the LUN's answer does not describe the request's first block. */
static int block_status_extents(struct engine_iscsi *ei, struct lb_io *io, size_t got)
{
	struct scsi_lba_extent se[LBA_STATUS_MAX_DESC];
	struct lb_extent *out = io->iov[0].iov_base;
	size_t cap = io->iov[0].iov_len / sizeof(*out);
	uint64_t bs = ei->e.info.block_size, left = io->length;
	int n = scsi_get_lba_status_parse(io->iov[0].iov_base, got, io->offset / bs, se,
					  cap < LBA_STATUS_MAX_DESC ? cap : LBA_STATUS_MAX_DESC);
	int k = 0;

	if (n < 0) {
		elog(ei, "LUN %u: malformed GET LBA STATUS data for LBA %llu", ei->lun,
		     (unsigned long long)(io->offset / bs));
		return -EIO;
	}
	for (int i = 0; i < n && left; i++) {
		uint64_t len = se[i].blocks > left / bs ? left : se[i].blocks * bs;
		uint32_t fl = 0;

		/* deallocated: a hole; anchored: allocated to the LU but
		 * holding no data; either reads zeroes only with LBPRZ */
		if (se[i].status == SCSI_LBA_DEALLOCATED)
			fl = LB_EXTENT_HOLE;
		if (se[i].status != SCSI_LBA_MAPPED && ei->lbprz)
			fl |= LB_EXTENT_ZERO;
		out[k++] = (struct lb_extent){.length = len, .flags = fl};
		left -= len;
	}
	return k;
}

static void io_done(struct iscsi_cmd *cmd, int res)
{
	struct lb_io *io = cmd->arg;
	struct iscsi_io *p = lb_io_priv(io, struct iscsi_io);
	struct engine_iscsi *ei = p->engine;

	if (p->syncing) { /* the SYNCHRONIZE CACHE that makes it durable */
		p->syncing = false;
		io->done(io, res < 0 ? res : p->saved_res);
		return;
	}

	/* a LUN that does not know the 16-byte forms: try again with 10 */
	if (res == -EOPNOTSUPP && !ei->use10 && (io->op == LB_IO_READ || io->op == LB_IO_WRITE) &&
	    (cmd->cdb[0] == SCSI_OP_READ16 || cmd->cdb[0] == SCSI_OP_WRITE16)) {
		ei->use10 = true;
		int len = build_rw(ei, io, cmd->cdb);

		if (len > 0 && cmd->cdb[0] != SCSI_OP_READ16 && cmd->cdb[0] != SCSI_OP_WRITE16) {
			cmd->cdb_len = (uint8_t)len;
			if (iscsi_session_submit(ei->s, cmd) == 0)
				return;
		}
	}
	if (io->op == LB_IO_BLOCK_STATUS) {
		/* a LUN that said it is thin yet refuses GET LBA STATUS:
		 * not asked again (the frontend answers without it) */
		if (res == -EOPNOTSUPP && ei->e.info.block_status) {
			ei->e.info.block_status = false;
			elog(ei, "LUN %u refuses GET LBA STATUS: every block is reported allocated",
			     ei->lun);
		}
		io->done(io, res < 0 ? res : block_status_extents(ei, io, (size_t)res));
		return;
	}
	if (res > 0 && io->op != LB_IO_READ && io->op != LB_IO_WRITE)
		res = 0;
	/* a short transfer (residual underflow) counts whole blocks only; the
	 * frontend asks again for the rest, and nothing for none */
	if (res > 0 && (uint32_t)res < io->length) {
		res -= res % (int)ei->e.info.block_size;
		if (res == 0)
			res = -EIO;
	}
	if (p->sync_after && res >= 0) {
		struct iscsi_cmd *c = &p->cmd;

		p->sync_after = false;
		p->syncing = true;
		p->saved_res = res;
		memset(c, 0, sizeof(*c));
		c->lun = ei->lun;
		c->done = io_done;
		c->arg = io;
		c->cdb_len = (uint8_t)scsi_cdb_sync_cache10(c->cdb);
		res = iscsi_session_submit(ei->s, c);
		if (res == 0)
			return;
		p->syncing = false;
	}
	io->done(io, res);
}

static int iscsi_submit(struct lb_engine *e, struct lb_io *io)
{
	struct engine_iscsi *ei = (struct engine_iscsi *)e;
	struct iscsi_io *p = lb_io_priv(io, struct iscsi_io);
	struct iscsi_cmd *cmd = &p->cmd;
	uint32_t bs = e->info.block_size;
	int len = lb_io_check(&e->info, io);

	if (len < 0)
		return len;
	memset(cmd, 0, sizeof(*cmd));
	cmd->lun = ei->lun;
	cmd->done = io_done;
	cmd->arg = io;
	cmd->path_failfast = ei->path >= 0;
	p->engine = ei;
	p->syncing = false;
	/* UNMAP and WRITE SAME have no FUA bit: FUA is a cache flush after */
	p->sync_after = ((io->flags & LB_IO_FUA) &&
			 (io->op == LB_IO_DISCARD || io->op == LB_IO_WRITE_ZEROES)) ||
			(ei->sync_writes && (io->op == LB_IO_WRITE || io->op == LB_IO_DISCARD ||
					     io->op == LB_IO_WRITE_ZEROES));
	switch (io->op) {
	case LB_IO_READ:
	case LB_IO_WRITE:
		len = build_rw(ei, io, cmd->cdb);
		cmd->dir = io->op == LB_IO_READ ? ISCSI_DIR_READ : ISCSI_DIR_WRITE;
		cmd->iov = io->iov;
		cmd->iovcnt = io->iovcnt;
		cmd->length = io->length;
		break;
	case LB_IO_FLUSH:
		len = scsi_cdb_sync_cache10(cmd->cdb);
		break;
	case LB_IO_DISCARD:
		if (ei->use_ws_unmap) {
			len = scsi_cdb_write_same16(cmd->cdb, io->offset / bs, io->length / bs,
						    true, false);
			p->iov = (struct iovec){ei->zero_block, bs};
			cmd->length = bs;
		} else {
			scsi_unmap_param(p->param, io->offset / bs, io->length / bs);
			len = scsi_cdb_unmap(cmd->cdb, SCSI_UNMAP_PARAM_LEN);
			p->iov = (struct iovec){p->param, SCSI_UNMAP_PARAM_LEN};
			cmd->length = SCSI_UNMAP_PARAM_LEN;
		}
		cmd->dir = ISCSI_DIR_WRITE;
		cmd->iov = &p->iov;
		cmd->iovcnt = 1;
		break;
	case LB_IO_WRITE_ZEROES:
		len = scsi_cdb_write_same16(cmd->cdb, io->offset / bs, io->length / bs,
					    !(io->flags & LB_IO_NO_HOLE) && ei->ws_unmap_ok, false);
		p->iov = (struct iovec){ei->zero_block, bs};
		cmd->dir = ISCSI_DIR_WRITE;
		cmd->iov = &p->iov;
		cmd->iovcnt = 1;
		cmd->length = bs;
		break;
	case LB_IO_BLOCK_STATUS:
		len = build_block_status(ei, io, cmd);
		break;
	default:
		return -EINVAL;
	}
	if (len < 0)
		return len;
	cmd->cdb_len = (uint8_t)len;
	return iscsi_session_submit(ei->s, cmd);
}

/* The ISID slots of this process's clones (one volume per process): a
 * clone takes the lowest free one, so that a restarted bridge's queues and
 * first clients reinstate the sessions the dead one had in those slots.
 * Slot 0 is the first session's; past 63, clones get random ISIDs.  Each
 * path of a multipath volume has slots of its own (and an ISID prefix of
 * its own, from its key), so that its clones number the same after a
 * restart whatever the other paths do; a lone volume is path 0. */
static _Atomic uint64_t isid_slots[LB_ENGINE_ISCSI_PATHS] = {1, 1, 1, 1, 1, 1, 1, 1};

static unsigned slot_space(int path)
{
	return path > 0 ? (unsigned)path : 0;
}

static int slot_take(int path)
{
	_Atomic uint64_t *bits = &isid_slots[slot_space(path)];
	uint64_t m = atomic_load(bits);

	for (;;) {
		int i;

		if (m == UINT64_MAX)
			return -1;
		i = __builtin_ctzll(~m);
		if (atomic_compare_exchange_weak(bits, &m, m | 1ull << i))
			return i;
	}
}

static void slot_put(int path, int slot)
{
	if (slot > 0)
		atomic_fetch_and(&isid_slots[slot_space(path)], ~(1ull << slot));
}

static void iscsi_free(struct lb_engine *e)
{
	struct engine_iscsi *ei = (struct engine_iscsi *)e;

	iscsi_session_free(ei->s);
	slot_put(ei->path, ei->slot);
	free(ei->zero_block);
	free(ei);
}

static int iscsi_clone(struct lb_engine *base, struct lb_loop *loop, struct lb_engine **ret,
		       lb_err *err)
{
	const struct engine_iscsi *b = (const struct engine_iscsi *)base;
	struct engine_iscsi *ei;
	int r;

	if (!b->cfg)
		return lb_err_set(err, EOPNOTSUPP, "this engine was made without clones");
	ei = malloc(sizeof(*ei));
	if (!ei)
		return lb_err_set(err, ENOMEM, "out of memory");
	*ei = *b;
	ei->e.loop = loop;
	ei->cb = NULL;
	ei->zero_block = calloc(1, b->e.info.block_size);
	if (!ei->zero_block) {
		free(ei);
		return lb_err_set(err, ENOMEM, "out of memory");
	}
	ei->slot = -1;
	if (b->cfg->isid_set) {
		struct iscsi_session_config c = *b->cfg;

		ei->slot = slot_take(b->path);
		c.isid_set = ei->slot > 0;
		c.isid[5] = (uint8_t)ei->slot;
		r = iscsi_session_new(loop, &c, &ei->s, err);
	} else {
		r = iscsi_session_new(loop, b->cfg, &ei->s, err);
	}
	if (r < 0) {
		slot_put(ei->path, ei->slot);
		free(ei->zero_block);
		free(ei);
		return r;
	}
	ei->cap_probe.busy = false;
	ei->mode_probe.busy = false;
	ei->log_fn = NULL;
	ei->cancel_cb = NULL;
	ei->alua_fn = NULL; /* the clone's multipath engine sets its own */
	iscsi_session_set_event(ei->s, on_event, ei);
	*ret = &ei->e;
	return 0;
}

static void session_done(struct iscsi_session *s, void *arg, int res)
{
	struct engine_iscsi *ei = arg;
	lb_engine_cb cb = ei->cb;

	ei->cb = NULL;
	cb(&ei->e, ei->cb_arg, res);
}

/* Log in or out (op), cb once it is over; one at a time. */
static int session_op(struct engine_iscsi *ei,
		      int (*op)(struct iscsi_session *, iscsi_session_cb, void *), lb_engine_cb cb,
		      void *arg)
{
	int r;

	if (ei->cb)
		return -EBUSY;
	ei->cb = cb;
	ei->cb_arg = arg;
	r = op(ei->s, session_done, ei);
	if (r < 0)
		ei->cb = NULL;
	return r;
}

static int iscsi_start(struct lb_engine *e, lb_engine_cb cb, void *arg)
{
	return session_op((struct engine_iscsi *)e, iscsi_session_login, cb, arg);
}

/* Whether the session is logged in, so that a logout is owed. */
static bool logged_in(const struct iscsi_session *s)
{
	iscsi_session_state st = iscsi_session_get_state(s);

	return st == ISCSI_SESSION_FULL_FEATURE || st == ISCSI_SESSION_RECOVERING;
}

static int iscsi_stop(struct lb_engine *e, lb_engine_cb cb, void *arg)
{
	struct engine_iscsi *ei = (struct engine_iscsi *)e;

	if (!logged_in(ei->s))
		return -EALREADY;
	return session_op(ei, iscsi_session_logout, cb, arg);
}

static int iscsi_start_sync(struct lb_engine *e, lb_err *err)
{
	return iscsi_session_login_sync(((struct engine_iscsi *)e)->s, err);
}

static void iscsi_stop_sync(struct lb_engine *e)
{
	struct engine_iscsi *ei = (struct engine_iscsi *)e;

	if (logged_in(ei->s))
		(void)iscsi_session_logout_sync(ei->s);
}

static void session_cancelled(struct iscsi_session *s, void *arg, int res)
{
	struct engine_iscsi *ei = arg;
	lb_engine_cb cb = ei->cancel_cb;

	ei->cancel_cb = NULL;
	cb(&ei->e, ei->cancel_arg, res);
}

static int iscsi_cancel(struct lb_engine *e, lb_engine_cb cb, void *arg)
{
	struct engine_iscsi *ei = (struct engine_iscsi *)e;
	int r;

	if (ei->cancel_cb)
		return -EBUSY;
	ei->cancel_cb = cb;
	ei->cancel_arg = arg;
	r = iscsi_session_cancel(ei->s, session_cancelled, ei);
	if (r < 0)
		ei->cancel_cb = NULL;
	return r;
}

static bool iscsi_ready(const struct lb_engine *e)
{
	const struct engine_iscsi *ei = (const struct engine_iscsi *)e;

	return iscsi_session_get_state(ei->s) == ISCSI_SESSION_FULL_FEATURE;
}

static const char *iscsi_state(const struct lb_engine *e, char *buf, size_t len)
{
	const struct engine_iscsi *ei = (const struct engine_iscsi *)e;

	(void)buf;
	(void)len;
	/* past the replacement timeout: I/O fails while logins go on */
	if (iscsi_session_replacement_expired(ei->s))
		return "failed, logging in again";
	return iscsi_session_state_name(iscsi_session_get_state(ei->s));
}

static void iscsi_describe(const struct lb_engine *e, lb_engine_field_fn add, void *arg)
{
	const struct engine_iscsi *ei = (const struct engine_iscsi *)e;

	add(arg, "in_doubt", NULL, iscsi_session_in_doubt(ei->s));
	if (ei->size_now && ei->size_now != e->info.size)
		add(arg, "lun_size_now", NULL, ei->size_now);
}

static void iscsi_stats(const struct lb_engine *e, struct lb_engine_stats *ret)
{
	struct iscsi_session_stats st;

	iscsi_session_get_stats(((const struct engine_iscsi *)e)->s, &st);
	ret->reconnects = st.reconnects;
	ret->timeouts = st.timeouts;
	ret->retries = st.retries;
	ret->sessions = 1;
}

static void iscsi_set_log(struct lb_engine *e, lb_engine_log_fn fn, void *arg)
{
	struct engine_iscsi *ei = (struct engine_iscsi *)e;

	ei->log_fn = fn;
	ei->log_arg = arg;
	iscsi_session_set_log(ei->s, fn, arg);
}

static const char *iscsi_error(const struct lb_engine *e)
{
	return iscsi_session_error(((const struct engine_iscsi *)e)->s);
}

static const struct lb_engine_ops engine_iscsi_ops = {
	.name = "iscsi",
	.submit = iscsi_submit,
	.free = iscsi_free,
	.clone = iscsi_clone,
	.clone_per_client = true,
	.start = iscsi_start,
	.stop = iscsi_stop,
	.start_sync = iscsi_start_sync,
	.stop_sync = iscsi_stop_sync,
	.ready = iscsi_ready,
	.state = iscsi_state,
	.stats = iscsi_stats,
	.describe = iscsi_describe,
	.cancel = iscsi_cancel,
	.set_log = iscsi_set_log,
	.error = iscsi_error,
};

/* Cap a block count at what fits a 32-bit byte length, block aligned. */
static uint32_t bytes_cap(uint64_t blocks, uint32_t bs)
{
	uint64_t b = blocks * bs, max = UINT32_MAX / bs * bs;

	return (uint32_t)(b > max ? max : b);
}

/* Flush, FUA and write protection from the mode parameters: FLUSH where
 * a volatile cache holds writes (WCE); FUA as the FUA bit only where the
 * LUN says it honours it (DPOFUA), else not offered, so that the
 * frontends' clients (the block layer, an NBD client) follow a write with
 * a FLUSH; a write-protected LUN is exported read-only. */
static void volume_info_cache(struct lb_volume_info *vi, const struct iscsi_lun_info *li)
{
	vi->flush = li->wce;
	vi->fua = li->wce && li->dpofua;
	vi->read_only = li->write_protected;
}

int lb_engine_iscsi_new(struct lb_loop *loop, struct iscsi_session *s,
			const struct iscsi_session_config *cfg, uint32_t lun,
			struct lb_engine **ret, lb_err *err)
{
	struct iscsi_lun_info li;
	struct lb_volume_info *vi;
	struct engine_iscsi *ei;
	uint32_t bs;
	int r;

	r = iscsi_inventory_lun(s, lun, &li, err);
	if (r < 0)
		return r;
	if (li.inq.device_type != 0x00)
		return lb_err_set(err, ENOTBLK, "LUN %u is a %s, not a disk", lun,
				  scsi_device_type_name(li.inq.device_type));
	if (!li.has_capacity || li.cap.block_size == 0)
		return lb_err_set(err, EIO, "LUN %u reports no capacity", lun);
	/* A cache the LUN cannot flush is no cache to us (20/xx): flush is
	 * then not offered.  Another failure leaves the cache assumed. */
	(void)iscsi_inventory_probe_sync_cache(s, &li, NULL);
	ei = calloc(1, sizeof(*ei));
	if (!ei)
		return lb_err_set(err, ENOMEM, "out of memory");
	bs = li.cap.block_size;
	ei->zero_block = calloc(1, bs);
	if (!ei->zero_block) {
		free(ei);
		return lb_err_set(err, ENOMEM, "out of memory");
	}
	ei->e.ops = &engine_iscsi_ops;
	ei->e.loop = loop;
	ei->s = s; /* ours from here on */
	ei->cfg = cfg;
	ei->lun = lun;
	ei->slot = -1;
	ei->path = -1;
	iscsi_session_set_event(s, on_event, ei);
	vi = &ei->e.info;
	vi->size = li.size_bytes;
	vi->request_timeout_ms = cfg ? cfg->request_timeout_ms : 0;
	vi->block_size = bs;
	vi->physical_block_size = li.cap.physical_block_size ? li.cap.physical_block_size : bs;
	/* what a command may carry: the LUN's limit, else 8 MiB as a sane cap
	 * (the session splits nothing: one command per I/O) */
	vi->max_transfer = li.max_transfer_bytes ? li.max_transfer_bytes : 8u << 20;
	if (vi->max_transfer > (8u << 20))
		vi->max_transfer = 8u << 20;
	vi->max_transfer -= vi->max_transfer % bs;
	if (vi->max_transfer < bs)
		vi->max_transfer = bs;
	volume_info_cache(vi, &li);
	if (li.unmap) {
		vi->discard = true;
		vi->max_discard = bytes_cap(li.limits.max_unmap_blocks, bs);
	} else if (li.write_same_unmap) {
		vi->discard = true;
		ei->use_ws_unmap = true;
		vi->max_discard = bytes_cap(
			li.limits.max_write_same_blocks ? li.limits.max_write_same_blocks : 65535,
			bs);
	}
	/* Zeroes may leave a hole only where a hole reads zeroes (Linux's sd
	 * zeroes with WRITE SAME(16) UNMAP only when LBPRZ, too). */
	ei->ws_unmap_ok = li.write_same_unmap && li.lbprz;
	if (li.write_same) {
		vi->write_zeroes = true;
		vi->max_write_zeroes = bytes_cap(li.limits.max_write_same_blocks, bs);
	}
	vi->discard_zeroes = li.lbprz;
	ei->lbprz = li.lbprz;
	vi->write_zeroes_unmap = vi->write_zeroes && ei->ws_unmap_ok;
	/* GET LBA STATUS is there where logical block provisioning
	 * management is (SBC-3 §4.7.3: LBPME) */
	vi->block_status = li.has_capacity && li.cap.lbpme;
	if (li.has_limits && li.limits.opt_xfer_granularity) {
		uint64_t g = (uint64_t)li.limits.opt_xfer_granularity * bs;

		if (!(g & (g - 1)) && g <= (1u << 25))
			vi->optimal_granularity = (uint32_t)g;
	}
	snprintf(vi->vendor, sizeof(vi->vendor), "%s", li.inq.vendor);
	snprintf(vi->product, sizeof(vi->product), "%s", li.inq.product);
	snprintf(vi->serial, sizeof(vi->serial), "%s", li.serial);
	snprintf(vi->id, sizeof(vi->id), "%s", li.devid);
	*ret = &ei->e;
	return 0;
}

struct iscsi_session *lb_engine_iscsi_session(const struct lb_engine *e)
{
	return e && e->ops == &engine_iscsi_ops ? ((const struct engine_iscsi *)e)->s : NULL;
}

int lb_engine_iscsi_set_path(struct lb_engine *e, int path, lb_engine_iscsi_alua_fn fn, void *arg)
{
	struct engine_iscsi *ei = (struct engine_iscsi *)e;

	if (!e || e->ops != &engine_iscsi_ops || path < 0 || path >= LB_ENGINE_ISCSI_PATHS)
		return -EINVAL;
	ei->path = path;
	ei->alua_fn = fn;
	ei->alua_arg = arg;
	return 0;
}

uint32_t lb_engine_iscsi_lun(const struct lb_engine *e)
{
	return ((const struct engine_iscsi *)e)->lun;
}
