/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A handed-over socket (the kernel NBD device's) whose peer shuts it down
 * with requests in flight, on a real io_uring loop with an engine that
 * holds every I/O: its owner hears it lost at once (with the count), the
 * requests are cancelled through the fence (conn_cancel), and it hears
 * the socket gone only once the last of them came back: the kernel
 * frontend replaces a dead socket only then.  A socket we are not reading
 * (at the in-flight limit) is found by nbd_server_check_sockets(), as
 * the LINK_DEAD event has it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine.h"
#include "loop.h"
#include "nbd-proto.h"
#include "nbd-server.h"

#define MAX_IOS 256

struct world {
	struct lb_loop loop;
	struct lb_engine e;
	struct nbd_export_desc x;
	struct nbd_server *srv;
	struct lb_io *ios[MAX_IOS];
	unsigned nios, cancels, closes, losts, gones;
	unsigned lost_inflight, close_before_gone;
	const char *lost_why;
	int peer; /* the kernel's end */
};

static int fake_submit(struct lb_engine *e, struct lb_io *io)
{
	struct world *w = (struct world *)((char *)e - offsetof(struct world, e));

	assert_true(w->nios < MAX_IOS);
	w->ios[w->nios++] = io; /* held: like a command stuck at the target */
	return 0;
}

static void fake_free(struct lb_engine *e)
{
}

static const struct lb_engine_ops fake_ops = {
	.name = "fake",
	.submit = fake_submit,
	.free = fake_free,
};

static int conn_open(void *arg, struct nbd_conn *c)
{
	struct world *w = arg;

	nbd_conn_set_engine(c, &w->e);
	return 0;
}

static void conn_close(void *arg, struct nbd_conn *c)
{
	((struct world *)arg)->closes++;
}

static void conn_cancel(void *arg, struct nbd_conn *c)
{
	((struct world *)arg)->cancels++;
}

static const struct nbd_server_ops server_ops = {
	.conn_open = conn_open,
	.conn_close = conn_close,
	.conn_cancel = conn_cancel,
};

static void lost(void *arg, unsigned inflight, const char *why)
{
	struct world *w = arg;

	w->losts++;
	w->lost_inflight = inflight;
	w->lost_why = why;
}

static void gone(void *arg)
{
	struct world *w = arg;

	w->gones++;
	w->close_before_gone = w->closes;
}

static const struct nbd_socket_ops socket_ops = {.lost = lost, .gone = gone};

static void world_start(struct world *w)
{
	int sv[2];

	memset(w, 0, sizeof(*w));
	assert_int_equal(lb_loop_init(&w->loop, 256, 0), 0);
	w->e.ops = &fake_ops;
	w->e.loop = &w->loop;
	w->e.info = (struct lb_volume_info){
		.size = 1 << 20, .block_size = 512, .max_transfer = 1 << 20};
	w->x = (struct nbd_export_desc){.name = "",
					.size = 1 << 20,
					.eflags = NBD_FLAG_HAS_FLAGS,
					.min_block = 512,
					.pref_block = 4096,
					.max_block = 1 << 20};
	assert_int_equal(nbd_server_new(&w->loop, &w->x, &server_ops, w, &w->srv), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(nbd_server_add_socket(w->srv, sv[0], &socket_ops, w), 0);
	w->peer = sv[1];
}

static void send_reads(struct world *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct nbd_request r = {
			.magic = htobe32(NBD_REQUEST_MAGIC),
			.type = htobe16(NBD_CMD_READ),
			.handle = i,
			.offset = htobe64((uint64_t)i * 4096 % (1 << 20)),
			.count = htobe32(4096),
		};
		assert_int_equal(write(w->peer, &r, sizeof(r)), (ssize_t)sizeof(r));
	}
}

/* Run the loop until *count reaches want (a hang guard of 2000 rounds). */
static void run_until(struct world *w, const unsigned *count, unsigned want)
{
	for (int i = 0; i < 2000 && *count < want; i++)
		assert_true(lb_loop_run_once(&w->loop, 10) >= 0);
	assert_int_equal(*count, want);
}

static void world_end(struct world *w)
{
	nbd_server_shutdown(w->srv);
	for (int i = 0; i < 2000 && !nbd_server_idle(w->srv); i++)
		assert_true(lb_loop_run_once(&w->loop, 10) >= 0);
	assert_true(nbd_server_idle(w->srv));
	nbd_server_free(w->srv);
	lb_loop_exit(&w->loop);
	close(w->peer);
}

static void test_shut_down_peer_fences_then_gone(void **state)
{
	struct world w;

	world_start(&w);
	send_reads(&w, 3);
	run_until(&w, &w.nios, 3);
	/* the kernel's timeout: kernel_sock_shutdown(SHUT_RDWR) on its end */
	assert_int_equal(shutdown(w.peer, SHUT_RDWR), 0);
	run_until(&w, &w.losts, 1);
	assert_int_equal(w.lost_inflight, 3);
	assert_null(w.lost_why); /* the peer shut it down */
	assert_int_equal(w.cancels, 1);
	/* two come back fenced, one answered: not gone before the last */
	w.ios[0]->done(w.ios[0], -ECANCELED);
	w.ios[1]->done(w.ios[1], 4096);
	for (int i = 0; i < 20; i++)
		assert_true(lb_loop_run_once(&w.loop, 1) >= 0);
	assert_int_equal(w.gones, 0);
	assert_int_equal(w.closes, 0);
	w.ios[2]->done(w.ios[2], -ECANCELED);
	run_until(&w, &w.gones, 1);
	assert_int_equal(w.close_before_gone, 1); /* the channel released first */
	assert_int_equal(w.losts, 1);
	world_end(&w);
}

static void test_unread_socket_found_by_check(void **state)
{
	struct world w;

	world_start(&w);
	/* 128: the connection's in-flight limit; it stops reading there */
	send_reads(&w, 128);
	run_until(&w, &w.nios, 128);
	assert_int_equal(shutdown(w.peer, SHUT_RDWR), 0);
	for (int i = 0; i < 20; i++)
		assert_true(lb_loop_run_once(&w.loop, 1) >= 0);
	assert_int_equal(w.losts, 0); /* no receive posted: nothing seen */
	assert_int_equal(nbd_server_check_sockets(w.srv), 1);
	assert_int_equal(w.losts, 1);
	assert_int_equal(w.lost_inflight, 128);
	assert_int_equal(w.cancels, 1);
	for (unsigned i = 0; i < 128; i++)
		w.ios[i]->done(w.ios[i], -ECANCELED);
	run_until(&w, &w.gones, 1);
	assert_int_equal(nbd_server_check_sockets(w.srv), 0);
	world_end(&w);
}

static void test_live_socket_left_alone(void **state)
{
	struct world w;

	world_start(&w);
	send_reads(&w, 1);
	run_until(&w, &w.nios, 1);
	assert_int_equal(nbd_server_check_sockets(w.srv), 0);
	assert_int_equal(w.losts, 0);
	w.ios[0]->done(w.ios[0], 4096);
	/* a shutdown drains: neither lost nor cancelled, gone at the end */
	world_end(&w);
	assert_int_equal(w.losts, 0);
	assert_int_equal(w.cancels, 0);
	assert_int_equal(w.gones, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shut_down_peer_fences_then_gone),
		cmocka_unit_test(test_unread_socket_found_by_check),
		cmocka_unit_test(test_live_socket_left_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
