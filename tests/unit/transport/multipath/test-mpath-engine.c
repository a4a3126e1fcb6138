/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The multipath engine over fake path engines (no network): which path a
 * request goes to, what goes again on another path and what does not, the
 * queue with no path and its timeout, and the identity check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "mpath-internal.h"

struct fake {
	struct lb_engine e;
	bool ready;
	struct lb_io *io[16];
	int n;
};

static int fake_submit(struct lb_engine *e, struct lb_io *io)
{
	struct fake *f = (struct fake *)e;

	assert_true(f->n < 16);
	f->io[f->n++] = io;
	return 0;
}

static void fake_free(struct lb_engine *e)
{
	(void)e;
}

static bool fake_ready(const struct lb_engine *e)
{
	return ((const struct fake *)e)->ready;
}

static const struct lb_engine_ops fake_ops = {
	.name = "fake",
	.submit = fake_submit,
	.free = fake_free,
	.ready = fake_ready,
};

static struct lb_loop loop;
static struct fake paths[2];
static struct lb_engine *mp;
static int done_res[8], done_n;

static void io_done(struct lb_io *io, int res)
{
	(void)io;
	done_res[done_n++] = res;
}

/* the fake's oldest request completes with res */
static void fake_complete(struct fake *f, int res)
{
	struct lb_io *io = f->io[0];

	assert_true(f->n > 0);
	memmove(f->io, f->io + 1, sizeof(f->io[0]) * (size_t)--f->n);
	io->done(io, res);
}

/* Two fake paths; the second's LU is id2 (NULL: the first's). */
static void fakes(const char *id2)
{
	memset(paths, 0, sizeof(paths));
	for (int i = 0; i < 2; i++) {
		paths[i].e.ops = &fake_ops;
		paths[i].e.loop = &loop;
		paths[i].e.info = (struct lb_volume_info){.size = 1 << 20,
							  .block_size = 512,
							  .max_transfer = 65536,
							  .request_timeout_ms = 120000};
		strcpy(paths[i].e.info.id, i && id2 ? id2 : "naa.600140511");
		paths[i].ready = true;
	}
	done_n = 0;
}

static void make(enum lb_mpath_policy policy)
{
	struct lb_engine *pe[2] = {&paths[0].e, &paths[1].e};
	const struct lb_mpath_path_desc desc[2] = {{"10.0.0.1:3260", "iqn.t", "default", 1},
						   {"10.0.0.2:3260", "iqn.t", "default", 1}};
	struct lb_mpath_config cfg;
	lb_err err = {{0}};

	lb_mpath_config_init(&cfg);
	cfg.policy = policy;
	cfg.no_path_timeout_ms = 5000;
	fakes(NULL);
	assert_int_equal(lb_engine_multipath_new(&loop, &cfg, pe, desc, 2, &mp, &err), 0);
}

static void submit(struct lb_io *io, enum lb_io_op op)
{
	*io = (struct lb_io){.op = op, .offset = 4096, .length = 512, .done = io_done};
	assert_int_equal(lb_engine_submit(mp, io), 0);
}

static int setup(void **state)
{
	(void)state;
	return lb_loop_init(&loop, 64, 0);
}

static int teardown(void **state)
{
	(void)state;
	lb_loop_exit(&loop);
	return 0;
}

static void destroy(void)
{
	lb_engine_free(mp);
	mp = NULL;
}

static void round_robin_and_failover(void **state)
{
	struct lb_io io[4];

	(void)state;
	make(LB_MPATH_ROUND_ROBIN);
	for (int i = 0; i < 4; i++)
		submit(&io[i], LB_IO_READ);
	assert_int_equal(paths[0].n, 2);
	assert_int_equal(paths[1].n, 2);
	while (paths[0].n)
		fake_complete(&paths[0], 512);
	while (paths[1].n)
		fake_complete(&paths[1], 512);
	assert_int_equal(done_n, 4);
	destroy();

	make(LB_MPATH_FAILOVER);
	for (int i = 0; i < 3; i++)
		submit(&io[i], LB_IO_WRITE);
	/* one path at a time */
	assert_true(paths[0].n == 3 || paths[1].n == 3);
	while (paths[0].n)
		fake_complete(&paths[0], 512);
	while (paths[1].n)
		fake_complete(&paths[1], 512);
	destroy();
}

/* A request the path failed (fenced there: the session completes only
 * then) goes again on the other path; an error of the LU does not. */
static void path_error_goes_elsewhere(void **state)
{
	struct lb_io a, b;
	struct fake *first, *other;

	(void)state;
	make(LB_MPATH_FAILOVER);
	submit(&a, LB_IO_WRITE);
	first = paths[0].n ? &paths[0] : &paths[1];
	other = first == &paths[0] ? &paths[1] : &paths[0];
	first->ready = false; /* its session is gone */
	fake_complete(first, -ETIMEDOUT);
	assert_int_equal(done_n, 0);
	assert_int_equal(other->n, 1);
	fake_complete(other, 512);
	assert_int_equal(done_n, 1);
	assert_int_equal(done_res[0], 512);
	/* a medium error is the LU's: no other path would do better */
	submit(&b, LB_IO_READ);
	assert_int_equal(other->n, 1);
	fake_complete(other, -EIO);
	assert_int_equal(done_n, 2);
	assert_int_equal(done_res[1], -EIO);
	assert_int_equal(first->n, 0);
	first->ready = true;
	destroy();
}

/* NOT READY 04/0B on a path (-EHOSTUNREACH): not executed, sent down the
 * other path at once, the first is taken as transitioning until read. */
static void alua_not_here(void **state)
{
	struct lb_io a, b;
	struct mpath *m;

	(void)state;
	make(LB_MPATH_FAILOVER);
	m = (struct mpath *)mp;
	m->cursor = 0;
	submit(&a, LB_IO_READ);
	assert_int_equal(paths[0].n, 1);
	fake_complete(&paths[0], -EHOSTUNREACH);
	assert_int_equal(paths[1].n, 1);
	assert_int_equal(m->paths[0].alua, SCSI_ALUA_TRANSITIONING);
	assert_false(mp_path_usable(&m->paths[0]));
	fake_complete(&paths[1], 512);
	submit(&b, LB_IO_READ);
	assert_int_equal(paths[1].n, 1);
	assert_int_equal(paths[0].n, 0);
	fake_complete(&paths[1], 512);
	assert_int_equal(done_n, 2);
	destroy();
}

/* A path whose session serves again carries the next request at once, not
 * only after the tick has seen it (each client's engine ticks on its own);
 * one whose failover cancel is still under way waits for it. */
static void path_back_used_at_once(void **state)
{
	struct lb_io a, b;
	struct mpath *m;

	(void)state;
	make(LB_MPATH_FAILOVER);
	m = (struct mpath *)mp;
	m->cursor = 0;
	m->paths[1].alua = SCSI_ALUA_NON_OPTIMIZED; /* the first is the one to go back to */
	m->paths[0].up = false;			    /* reinstated, the tick not yet run */
	m->paths[0].cancelling = true;
	submit(&a, LB_IO_READ);
	assert_int_equal(paths[0].n, 0);
	assert_int_equal(paths[1].n, 1);
	fake_complete(&paths[1], 512);
	m->paths[0].cancelling = false;
	submit(&b, LB_IO_READ);
	assert_true(m->paths[0].up);
	assert_int_equal(paths[0].n, 1);
	fake_complete(&paths[0], 512);
	assert_int_equal(done_n, 2);
	destroy();
}

/* No path: requests wait; one returning serves them; past the no-path
 * timeout they fail, and new ones too, until a path returns. */
static void no_path_queue(void **state)
{
	struct lb_io a, b, c;
	struct mpath *m;
	uint64_t now = lb_now_ms();

	(void)state;
	make(LB_MPATH_ROUND_ROBIN);
	m = (struct mpath *)mp;
	/* down: their sessions do not serve (else a dispatch brings them up) */
	m->paths[0].up = m->paths[1].up = false;
	paths[0].ready = paths[1].ready = false;
	submit(&a, LB_IO_READ);
	assert_int_equal(paths[0].n + paths[1].n, 0);
	assert_int_equal(m->queued, 1);
	m->paths[1].up = paths[1].ready = true;
	mp_kick(m, now);
	assert_int_equal(m->queued, 0);
	assert_int_equal(paths[1].n, 1);
	fake_complete(&paths[1], 512);
	assert_int_equal(done_res[0], 512);

	m->paths[1].up = paths[1].ready = false;
	submit(&b, LB_IO_WRITE);
	mp_kick(m, lb_now_ms() + 4000); /* within the 5 s: still waits */
	assert_int_equal(done_n, 1);
	mp_kick(m, lb_now_ms() + 6000);
	assert_int_equal(done_n, 2);
	assert_int_equal(done_res[1], -EIO);
	c = (struct lb_io){.op = LB_IO_READ, .offset = 0, .length = 512, .done = io_done};
	assert_int_equal(lb_engine_submit(mp, &c), -EIO);
	m->paths[0].up = paths[0].ready = true;
	mp_kick(m, lb_now_ms());
	submit(&c, LB_IO_READ);
	assert_int_equal(paths[0].n, 1);
	fake_complete(&paths[0], 512);
	destroy();
}

static void another_lu_refused(void **state)
{
	struct lb_engine *pe[2] = {&paths[0].e, &paths[1].e};
	const struct lb_mpath_path_desc desc[2] = {{"10.0.0.1:3260", "iqn.t", "default", 1},
						   {"10.0.0.2:3260", "iqn.t", "default", 2}};
	struct lb_mpath_config cfg;
	struct lb_engine *e = NULL;
	lb_err err = {{0}};

	(void)state;
	fakes("naa.600140522");
	lb_mpath_config_init(&cfg);
	assert_int_equal(lb_engine_multipath_new(&loop, &cfg, pe, desc, 2, &e, &err), -EINVAL);
	assert_null(e);
	assert_string_equal(err.msg, "path 2 (10.0.0.2:3260, LUN 2) reaches LU 'naa.600140522', "
				     "path 1 (10.0.0.1:3260, LUN 1) reaches 'naa.600140511': not "
				     "joining them");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_robin_and_failover),
		cmocka_unit_test(path_error_goes_elsewhere),
		cmocka_unit_test(alua_not_here),
		cmocka_unit_test(path_back_used_at_once),
		cmocka_unit_test(no_path_queue),
		cmocka_unit_test(another_lu_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
