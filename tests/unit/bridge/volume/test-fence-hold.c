/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writes held behind a fence: which wait, in which order, and when they
 * go. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <cmocka.h>

#include "fence-hold.h"

static struct lb_fence_req req(struct lb_fence_owner *o, uint64_t start, uint64_t len, bool write)
{
	return (struct lb_fence_req){
		.owner = o, .start = start, .end = start + len, .write = write};
}

/* A's write in flight, A fenced: B's overlapping write waits until A's
 * write has ended, then goes. */
static void test_overlap_held_until_done(void **state)
{
	struct lb_fence_hold h = {0};
	struct lb_fence_owner a = {0}, b = {0};
	struct lb_fence_req aw = req(&a, 0, 4096, true), bw = req(&b, 0, 4096, true);

	assert_true(lb_fence_hold_admit(&h, &aw));
	a.fencing = true;
	assert_false(lb_fence_hold_admit(&h, &bw));
	assert_true(bw.held);
	assert_null(lb_fence_hold_next(&h)); /* A's copy may still land */
	lb_fence_hold_done(&h, &aw);
	assert_ptr_equal(lb_fence_hold_next(&h), &bw);
	assert_false(bw.held);
	assert_null(lb_fence_hold_next(&h));
	assert_int_equal(h.n_held, 0);
}

/* Only overlaps wait: a write beside A's range, a read over it and a
 * flush pass; so does anything while A is not fenced. */
static void test_what_passes(void **state)
{
	struct lb_fence_hold h = {0};
	struct lb_fence_owner a = {0}, b = {0};
	struct lb_fence_req aw = req(&a, 8192, 8192, true);
	struct lb_fence_req before = req(&b, 0, 8192, true), after = req(&b, 16384, 512, true);
	struct lb_fence_req rd = req(&b, 8192, 4096, false), fl = req(&b, 0, 0, false);
	struct lb_fence_req over = req(&b, 12288, 4096, true), edge = req(&b, 16383, 1, true);

	assert_true(lb_fence_hold_admit(&h, &aw));
	assert_true(lb_fence_hold_admit(&h, &over)); /* A not fenced: no wait */
	lb_fence_hold_done(&h, &over);
	a.fencing = true;
	assert_true(lb_fence_hold_admit(&h, &before));
	assert_true(lb_fence_hold_admit(&h, &after));
	assert_true(lb_fence_hold_admit(&h, &rd));
	assert_true(lb_fence_hold_admit(&h, &fl));
	assert_false(lb_fence_hold_admit(&h, &edge)); /* its last byte overlaps */
	assert_int_equal(h.n_held, 1);
}

/* Held writes keep their order: a later write overlapping a held one
 * waits behind it even where no fenced write overlaps it, and goes only
 * after it; one overlapping neither goes at once. */
static void test_order_kept(void **state)
{
	struct lb_fence_hold h = {0};
	struct lb_fence_owner a = {0}, b = {0}, c = {0};
	struct lb_fence_req aw = req(&a, 0, 4096, true);
	struct lb_fence_req b1 = req(&b, 0, 8192, true), c1 = req(&c, 4096, 4096, true);
	struct lb_fence_req b2 = req(&b, 4096, 4096, true), c2 = req(&c, 65536, 4096, true);

	assert_true(lb_fence_hold_admit(&h, &aw));
	a.fencing = true;
	assert_false(lb_fence_hold_admit(&h, &b1));
	assert_false(lb_fence_hold_admit(&h, &c1)); /* behind b1, not behind A */
	assert_false(lb_fence_hold_admit(&h, &b2)); /* behind b1 and c1 */
	assert_true(lb_fence_hold_admit(&h, &c2));
	assert_null(lb_fence_hold_next(&h));
	/* the fence confirms: A's write completes, its owner's fence ends */
	lb_fence_hold_done(&h, &aw);
	a.fencing = false;
	assert_ptr_equal(lb_fence_hold_next(&h), &b1);
	assert_ptr_equal(lb_fence_hold_next(&h), &c1);
	assert_ptr_equal(lb_fence_hold_next(&h), &b2);
	assert_null(lb_fence_hold_next(&h));
	assert_null(h.held);
	assert_null(h.held_tail);
}

/* A held write after the first one to go: the one released in the
 * middle of the queue leaves the list whole. */
static void test_release_from_middle(void **state)
{
	struct lb_fence_hold h = {0};
	struct lb_fence_owner a = {0}, x = {0}, b = {0};
	struct lb_fence_req aw = req(&a, 0, 4096, true), xw = req(&x, 8192, 4096, true);
	struct lb_fence_req b1 = req(&b, 0, 4096, true), b2 = req(&b, 8192, 4096, true);
	struct lb_fence_req b3 = req(&b, 0, 512, true);

	assert_true(lb_fence_hold_admit(&h, &aw));
	assert_true(lb_fence_hold_admit(&h, &xw));
	a.fencing = x.fencing = true;
	assert_false(lb_fence_hold_admit(&h, &b1));
	assert_false(lb_fence_hold_admit(&h, &b2));
	assert_false(lb_fence_hold_admit(&h, &b3));
	lb_fence_hold_done(&h, &xw); /* x's write ended first */
	assert_ptr_equal(lb_fence_hold_next(&h), &b2);
	assert_null(lb_fence_hold_next(&h));
	assert_ptr_equal(h.held, &b1);
	assert_ptr_equal(h.held_tail, &b3);
	lb_fence_hold_done(&h, &aw);
	assert_ptr_equal(lb_fence_hold_next(&h), &b1);
	assert_ptr_equal(lb_fence_hold_next(&h), &b3);
	assert_null(lb_fence_hold_next(&h));
	/* everything in flight completes: nothing is left */
	lb_fence_hold_done(&h, &b3);
	lb_fence_hold_done(&h, &b2);
	lb_fence_hold_done(&h, &b1);
	assert_null(h.inflight);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlap_held_until_done),
		cmocka_unit_test(test_what_passes),
		cmocka_unit_test(test_order_kept),
		cmocka_unit_test(test_release_from_middle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
