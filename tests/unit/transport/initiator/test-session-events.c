/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A session against a scripted target on loopback (a thread with blocking
 * sockets): login redirections, a busy target, the logout a target asks
 * for, Time2Wait, a changed portal group, the source address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "pdu.h"
#include "session-internal.h"

#define PORTALS 2

struct fake;
/* Serve one accepted connection of portal p, the nth (from 0) of all. */
typedef void (*fake_conn_fn)(struct fake *f, int p, int fd, int nth);

struct fake {
	int lfd[PORTALS];
	uint16_t port[PORTALS];
	pthread_t thread;
	fake_conn_fn serve;
	int conns;
	bool stop;
	/* what the target saw, written by its thread, read once it is done */
	pthread_mutex_t lock;
	int logins[PORTALS];
	int tpgt[8];		 /* per connection: the TPGT to declare */
	uint64_t connect_ms[8];	 /* per connection: when it was accepted */
	uint64_t logout_ms;	 /* when the Logout Request came */
	uint8_t logout_reason;	 /* its reason */
	int cmds_after_async;	 /* SCSI commands received after the Async Message */
	int cmds_on[8];		 /* per connection: SCSI commands received */
	uint16_t tsih_seen[8];	 /* per connection: the TSIH of the Login Request */
	uint8_t isid_seen[8][6]; /* per connection: the ISID */
	char peer[INET6_ADDRSTRLEN];
	int busy_left; /* logins to refuse with busy_detail first */
	uint8_t busy_detail;
	uint16_t async_param3; /* logout request: Parameter3 */
	uint16_t logout_time2wait;
};

static struct fake F;
static char logbuf[16384];

static void log_line(void *arg, const char *line)
{
	size_t n = strlen(logbuf);

	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", line);
}

/* ---- the target's side --------------------------------------------------- */

static int rd(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int recv_pdu(int fd, union iscsi_hdr *h, char *data, size_t cap, uint32_t *ret_len)
{
	uint32_t len, padded;
	uint8_t ahs[1024];

	if (rd(fd, h, ISCSI_BHS_LEN) < 0)
		return -1;
	if (h->bhs.total_ahs_len && rd(fd, ahs, h->bhs.total_ahs_len * 4u) < 0)
		return -1;
	len = iscsi_get_be24(h->bhs.dlength);
	padded = (len + 3) & ~3u;
	if (padded > cap || (padded && rd(fd, data, padded) < 0))
		return -1;
	if (len < cap)
		data[len] = '\0';
	*ret_len = len;
	return 0;
}

static void send_pdu(int fd, union iscsi_hdr *h, const void *data, uint32_t len)
{
	static const uint8_t zero[4];

	iscsi_put_be24(h->bhs.dlength, len);
	assert_int_equal(write(fd, h, ISCSI_BHS_LEN), ISCSI_BHS_LEN);
	if (len) {
		assert_int_equal(write(fd, data, len), (ssize_t)len);
		if (len & 3)
			assert_int_equal(write(fd, zero, 4 - (len & 3)), (ssize_t)(4 - (len & 3)));
	}
}

/* Per connection: the target's sequence numbers. */
struct fconn {
	int fd, nth;
	uint32_t statsn, cmdsn;
};

static void rsp_sn(struct fconn *c, uint32_t *statsn, uint32_t *exp_cmdsn, uint32_t *max_cmdsn)
{
	*statsn = htobe32(c->statsn++);
	*exp_cmdsn = htobe32(c->cmdsn);
	*max_cmdsn = htobe32(c->cmdsn + 31);
}

/* Run the login: 0 logged in; 1 answered with status (class << 8 | detail)
 * and text; -1 the initiator went away. */
static int fake_login(struct fake *f, struct fconn *c, unsigned status, const char *text)
{
	union iscsi_hdr h, out;
	char data[8192];
	uint32_t len;

	for (;;) {
		uint8_t nsg;
		char keys[256] = "";

		if (recv_pdu(c->fd, &h, data, sizeof(data), &len) < 0)
			return -1;
		assert_int_equal(h.bhs.opcode & ISCSI_OPCODE_MASK, ISCSI_OP_LOGIN_REQ);
		pthread_mutex_lock(&f->lock);
		if (c->nth < 8) {
			f->tsih_seen[c->nth] = be16toh(h.login_req.tsih);
			memcpy(f->isid_seen[c->nth], h.login_req.isid, 6);
		}
		pthread_mutex_unlock(&f->lock);
		c->cmdsn = be32toh(h.login_req.cmdsn);
		iscsi_hdr_init(&out, ISCSI_OP_LOGIN_RSP, 0);
		memcpy(out.login_rsp.isid, h.login_req.isid, 6);
		out.login_rsp.itt = h.login_req.itt;
		rsp_sn(c, &out.login_rsp.statsn, &out.login_rsp.exp_cmdsn,
		       &out.login_rsp.max_cmdsn);
		if (status) {
			out.login_rsp.status_class = (uint8_t)(status >> 8);
			out.login_rsp.status_detail = (uint8_t)status;
			send_pdu(c->fd, &out, text, text ? (uint32_t)strlen(text) + 1 : 0);
			return 1;
		}
		nsg = h.login_req.flags & ISCSI_LOGIN_NSG_MASK;
		out.login_rsp.flags =
			h.login_req.flags &
			(ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_CSG_MASK | ISCSI_LOGIN_NSG_MASK);
		if (nsg == ISCSI_STAGE_FULL_FEATURE) {
			static const char t2w[] = "DefaultTime2Wait=0";
			int n;

			out.login_rsp.tsih = htobe16(0x10 + (uint16_t)c->nth);
			n = snprintf(keys, sizeof(keys), "TargetPortalGroupTag=%d",
				     f->tpgt[c->nth < 8 ? c->nth : 7]) +
			    1;
			memcpy(keys + n, t2w, sizeof(t2w));
			send_pdu(c->fd, &out, keys, (uint32_t)(n + sizeof(t2w)));
			return 0;
		}
		send_pdu(c->fd, &out, NULL, 0);
	}
}

static void respond_scsi(struct fconn *c, const union iscsi_hdr *h)
{
	union iscsi_hdr out;

	iscsi_hdr_init(&out, ISCSI_OP_SCSI_RSP, ISCSI_FLAG_FINAL);
	out.scsi_rsp.itt = h->scsi_cmd.itt;
	c->cmdsn = be32toh(h->scsi_cmd.cmdsn) + 1;
	rsp_sn(c, &out.scsi_rsp.statsn, &out.scsi_rsp.exp_cmdsn, &out.scsi_rsp.max_cmdsn);
	send_pdu(c->fd, &out, NULL, 0);
}

static void respond_nop(struct fconn *c, const union iscsi_hdr *h)
{
	union iscsi_hdr out;

	if (be32toh(h->nop_out.itt) == ISCSI_RESERVED_TAG)
		return;
	iscsi_hdr_init(&out, ISCSI_OP_NOP_IN, ISCSI_FLAG_FINAL);
	out.nop_in.itt = h->nop_out.itt;
	out.nop_in.ttt = htobe32(ISCSI_RESERVED_TAG);
	memset(&out.nop_in.lun, 0, 8);
	rsp_sn(c, &out.nop_in.statsn, &out.nop_in.exp_cmdsn, &out.nop_in.max_cmdsn);
	send_pdu(c->fd, &out, NULL, 0);
}

static void respond_logout(struct fake *f, struct fconn *c, const union iscsi_hdr *h)
{
	union iscsi_hdr out;

	pthread_mutex_lock(&f->lock);
	f->logout_ms = lb_now_ms();
	f->logout_reason = h->logout_req.flags & ISCSI_LOGOUT_REASON_MASK;
	pthread_mutex_unlock(&f->lock);
	iscsi_hdr_init(&out, ISCSI_OP_LOGOUT_RSP, ISCSI_FLAG_FINAL);
	out.logout_rsp.itt = h->logout_req.itt;
	out.logout_rsp.time2wait = htobe16(f->logout_time2wait);
	rsp_sn(c, &out.logout_rsp.statsn, &out.logout_rsp.exp_cmdsn, &out.logout_rsp.max_cmdsn);
	send_pdu(c->fd, &out, NULL, 0);
}

static void send_async(struct fconn *c, uint8_t event, uint16_t p2, uint16_t p3)
{
	union iscsi_hdr out;

	iscsi_hdr_init(&out, ISCSI_OP_ASYNC_MSG, ISCSI_FLAG_FINAL);
	out.async.itt = htobe32(ISCSI_RESERVED_TAG);
	out.async.async_event = event;
	out.async.param2 = htobe16(p2);
	out.async.param3 = htobe16(p3);
	rsp_sn(c, &out.async.statsn, &out.async.exp_cmdsn, &out.async.max_cmdsn);
	send_pdu(c->fd, &out, NULL, 0);
}

/* Answer NOP-Outs and SCSI commands until the initiator goes (or, with
 * until_logout, until a Logout was answered). */
static void serve_full_feature(struct fake *f, struct fconn *c, bool async_seen)
{
	union iscsi_hdr h;
	char data[300000];
	uint32_t len;

	while (recv_pdu(c->fd, &h, data, sizeof(data), &len) == 0) {
		switch (h.bhs.opcode & ISCSI_OPCODE_MASK) {
		case ISCSI_OP_NOP_OUT:
			respond_nop(c, &h);
			break;
		case ISCSI_OP_SCSI_CMD:
			pthread_mutex_lock(&f->lock);
			if (async_seen)
				f->cmds_after_async++;
			if (c->nth < 8)
				f->cmds_on[c->nth]++;
			pthread_mutex_unlock(&f->lock);
			respond_scsi(c, &h);
			break;
		case ISCSI_OP_LOGOUT_REQ:
			respond_logout(f, c, &h);
			return;
		default:
			break;
		}
	}
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	while (!f->stop) {
		struct pollfd pfd[PORTALS];
		int n, p;

		for (p = 0; p < PORTALS; p++)
			pfd[p] = (struct pollfd){.fd = f->lfd[p], .events = POLLIN};
		n = poll(pfd, PORTALS, 50);
		if (n <= 0)
			continue;
		for (p = 0; p < PORTALS; p++) {
			struct sockaddr_in peer;
			socklen_t plen = sizeof(peer);
			int fd;

			if (!(pfd[p].revents & POLLIN))
				continue;
			fd = accept(f->lfd[p], (struct sockaddr *)&peer, &plen);
			if (fd < 0)
				continue;
			pthread_mutex_lock(&f->lock);
			inet_ntop(AF_INET, &peer.sin_addr, f->peer, sizeof(f->peer));
			if (f->conns < 8)
				f->connect_ms[f->conns] = lb_now_ms();
			pthread_mutex_unlock(&f->lock);
			f->serve(f, p, fd, f->conns++);
			close(fd);
		}
	}
	return NULL;
}

static void fake_start(fake_conn_fn serve)
{
	memset(&F, 0, sizeof(F));
	pthread_mutex_init(&F.lock, NULL);
	F.serve = serve;
	for (int i = 0; i < 8; i++)
		F.tpgt[i] = 1;
	for (int p = 0; p < PORTALS; p++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t len = sizeof(a);

		F.lfd[p] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(F.lfd[p] >= 0);
		assert_int_equal(bind(F.lfd[p], (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(listen(F.lfd[p], 8), 0);
		assert_int_equal(getsockname(F.lfd[p], (struct sockaddr *)&a, &len), 0);
		F.port[p] = ntohs(a.sin_port);
	}
	logbuf[0] = '\0';
}

static void fake_run(void)
{
	assert_int_equal(pthread_create(&F.thread, NULL, fake_main, &F), 0);
}

static void fake_stop(void)
{
	F.stop = true;
	pthread_join(F.thread, NULL);
	for (int p = 0; p < PORTALS; p++)
		close(F.lfd[p]);
}

/* ---- the initiator's side ------------------------------------------------ */

static struct lb_loop loop;
static struct iscsi_session *S;

static void new_session(const char *bind_addr)
{
	struct iscsi_session_config cfg;
	lb_err err;

	assert_int_equal(lb_loop_init(&loop, 64, 0), 0);
	iscsi_session_config_init(&cfg);
	cfg.host = "127.0.0.1";
	cfg.port = F.port[0];
	cfg.target_name = "iqn.2026-12.org.lunbridge.test:events";
	cfg.initiator_name = "iqn.2026-12.org.lunbridge.test:initiator";
	cfg.want.default_time2wait = 0;
	cfg.connect_timeout_ms = 2000;
	cfg.login_timeout_ms = 3000;
	cfg.nop_interval_ms = 200;
	cfg.nop_timeout_ms = 2000;
	cfg.replacement_timeout_ms = 20000;
	cfg.bind_addr = bind_addr;
	assert_int_equal(iscsi_session_new(&loop, &cfg, &S, &err), 0);
	iscsi_session_set_log(S, log_line, NULL);
}

static void end_session(void)
{
	iscsi_session_free(S);
	S = NULL;
	lb_loop_exit(&loop);
	fake_stop();
}

/* Run the loop until the session is in state st (true) or ms pass. */
static bool run_until_state(iscsi_session_state st, uint32_t ms)
{
	uint64_t end = lb_now_ms() + ms;

	while (lb_now_ms() < end) {
		if (iscsi_session_get_state(S) == st)
			return true;
		(void)lb_loop_run_once(&loop, 20);
	}
	return iscsi_session_get_state(S) == st;
}

static void run_for(uint32_t ms)
{
	uint64_t end = lb_now_ms() + ms;

	while (lb_now_ms() < end)
		(void)lb_loop_run_once(&loop, 20);
}

static void portal(char *buf, size_t cap, int p)
{
	snprintf(buf, cap, "127.0.0.1:%u", F.port[p]);
}

/* Log in, answer the first PDU (a NOP-Out ping once idle), then drop the
 * connection: the session reconnects. */
static void serve_briefly(struct fake *f, struct fconn *c)
{
	union iscsi_hdr h;
	char data[1024];
	uint32_t len;

	if (fake_login(f, c, 0, NULL) != 0)
		return;
	if (recv_pdu(c->fd, &h, data, sizeof(data), &len) == 0 &&
	    (h.bhs.opcode & ISCSI_OPCODE_MASK) == ISCSI_OP_NOP_OUT)
		respond_nop(c, &h);
}

/* ---- redirections -------------------------------------------------------- */

/* Portal 0 redirects (temporarily) to portal 1, which serves until it drops
 * the connection itself. */
static void serve_temporary(struct fake *f, int p, int fd, int nth)
{
	struct fconn c = {.fd = fd, .nth = nth, .statsn = 1};
	char to[64];

	if (p == 0) {
		snprintf(to, sizeof(to), "TargetAddress=127.0.0.1:%u,1", f->port[1]);
		(void)fake_login(f, &c, 0x0101, to);
		return;
	}
	f->logins[1]++;
	serve_briefly(f, &c);
}

/* More reconnects through a temporary redirection than ISCSI_MAX_REDIRECTS:
 * the count starts again with each attempt, and each starts at the
 * configured portal. */
static void test_temporary_redirect_each_reconnect(void **state)
{
	char p0[32], p1[32], line[128];
	int reconnects = ISCSI_MAX_REDIRECTS + 2;

	fake_start(serve_temporary);
	fake_run();
	new_session(NULL);
	portal(p0, sizeof(p0), 0);
	portal(p1, sizeof(p1), 1);
	assert_int_equal(iscsi_session_login_sync(S, NULL), 0);
	assert_string_equal(iscsi_session_portal(S), p1);
	for (int i = 0; i < reconnects; i++) {
		assert_true(run_until_state(ISCSI_SESSION_RECOVERING, 5000));
		/* as failed redirected attempts would have left it: each new
		 * attempt counts from zero again */
		S->redirects = ISCSI_MAX_REDIRECTS;
		assert_true(run_until_state(ISCSI_SESSION_FULL_FEATURE, 5000));
	}
	end_session();
	/* every attempt went to portal 0 first and was sent on */
	assert_int_equal(F.logins[1], reconnects + 1);
	assert_int_equal(F.conns, 2 * (reconnects + 1));
	snprintf(line, sizeof(line), "login to %s redirected to %s (temporarily)\n", p0, p1);
	assert_non_null(strstr(logbuf, line));
	assert_null(strstr(logbuf, "too many"));
}

/* Portal 0 moves the target permanently to portal 1. */
static void serve_permanent(struct fake *f, int p, int fd, int nth)
{
	struct fconn c = {.fd = fd, .nth = nth, .statsn = 1};
	char to[64];

	if (p == 0) {
		f->logins[0]++;
		snprintf(to, sizeof(to), "TargetAddress=127.0.0.1:%u,1", f->port[1]);
		(void)fake_login(f, &c, 0x0102, to);
		return;
	}
	f->logins[1]++;
	serve_briefly(f, &c);
}

static void test_permanent_redirect_remembered(void **state)
{
	char p0[32], p1[32], line[128];

	fake_start(serve_permanent);
	fake_run();
	new_session(NULL);
	portal(p0, sizeof(p0), 0);
	portal(p1, sizeof(p1), 1);
	assert_int_equal(iscsi_session_login_sync(S, NULL), 0);
	for (int i = 0; i < 3; i++) {
		assert_true(run_until_state(ISCSI_SESSION_RECOVERING, 5000));
		assert_true(run_until_state(ISCSI_SESSION_FULL_FEATURE, 5000));
		assert_string_equal(iscsi_session_portal(S), p1);
	}
	end_session();
	assert_int_equal(F.logins[0], 1); /* reconnects went straight to portal 1 */
	assert_true(F.logins[1] >= 4);
	snprintf(line, sizeof(line), "login to %s redirected to %s (permanently)\n", p0, p1);
	assert_non_null(strstr(logbuf, line));
}

/* 0 sends to 1, 1 sends back to 0. */
static void serve_loop(struct fake *f, int p, int fd, int nth)
{
	struct fconn c = {.fd = fd, .nth = nth, .statsn = 1};
	char to[64];

	snprintf(to, sizeof(to), "TargetAddress=127.0.0.1:%u,1", f->port[1 - p]);
	(void)fake_login(f, &c, 0x0101, to);
}

static void test_redirect_loop_fails_naming_portals(void **state)
{
	char p0[32], p1[32], want[200];
	lb_err err;

	fake_start(serve_loop);
	fake_run();
	new_session(NULL);
	portal(p0, sizeof(p0), 0);
	portal(p1, sizeof(p1), 1);
	assert_int_equal(iscsi_session_login_sync(S, &err), -ELOOP);
	snprintf(want, sizeof(want), "login redirection loop: %s -> %s -> %s", p0, p1, p0);
	assert_string_equal(err.msg, want);
	assert_int_equal(iscsi_session_get_state(S), ISCSI_SESSION_FAILED);
	end_session();
	assert_int_equal(F.conns, 2);
}

static void test_redirect_path(void **state)
{
	char path[40] = "";

	assert_int_equal(iscsi_redirect_path_add(path, sizeof(path), "10.0.0.1:3260"), 0);
	assert_int_equal(iscsi_redirect_path_add(path, sizeof(path), "10.0.0.11:3260"), 0);
	assert_string_equal(path, "10.0.0.1:3260 -> 10.0.0.11:3260");
	/* a prefix of an element is not that element */
	assert_int_equal(iscsi_redirect_path_add(path, sizeof(path), "10.0.0.1:326"), -EMSGSIZE);
	assert_int_equal(iscsi_redirect_path_add(path, sizeof(path), "10.0.0.11:3260"), -EMSGSIZE);
	strcpy(path, "a:1 -> b:2");
	assert_int_equal(iscsi_redirect_path_add(path, sizeof(path), "a:1"), -ELOOP);
	assert_string_equal(path, "a:1 -> b:2 -> a:1");
}

/* ---- a busy target ------------------------------------------------------- */

static void serve_busy(struct fake *f, int p, int fd, int nth)
{
	struct fconn c = {.fd = fd, .nth = nth, .statsn = 1};

	if (f->busy_left > 0) {
		f->busy_left--;
		(void)fake_login(f, &c, 0x0300 | f->busy_detail, NULL);
		return;
	}
	if (fake_login(f, &c, 0, NULL) == 0)
		serve_full_feature(f, &c, false);
}

static void test_first_login_busy_retried(void **state)
{
	char p0[32], line[160];

	fake_start(serve_busy);
	F.busy_left = 2;
	F.busy_detail = 0x01;
	fake_run();
	new_session(NULL);
	portal(p0, sizeof(p0), 0);
	assert_int_equal(iscsi_session_login_sync(S, NULL), 0);
	assert_int_equal(iscsi_session_get_state(S), ISCSI_SESSION_FULL_FEATURE);
	end_session();
	assert_int_equal(F.conns, 3);
	snprintf(line, sizeof(line),
		 "login to %s failed: service unavailable (0301): target busy; reconnecting in "
		 "0.2 s\n",
		 p0);
	assert_non_null(strstr(logbuf, line));
}

static void test_first_login_busy_gives_up(void **state)
{
	char p0[32], want[160];
	lb_err err;

	fake_start(serve_busy);
	F.busy_left = 100;
	F.busy_detail = 0x02;
	fake_run();
	new_session(NULL);
	portal(p0, sizeof(p0), 0);
	/* backoff 0.2 s, 1 s; the next, 2 s, would end past the 3 s login timeout */
	assert_int_equal(iscsi_session_login_sync(S, &err), -EAGAIN);
	snprintf(want, sizeof(want),
		 "login to %s failed: out of resources (0302), still after 2 retries", p0);
	assert_string_equal(err.msg, want);
	end_session();
	assert_int_equal(F.conns, 3);
}

/* The first connection logs in and drops; the next answers "out of
 * resources"; the third serves. */
static void serve_busy_on_reconnect(struct fake *f, int p, int fd, int nth)
{
	struct fconn c = {.fd = fd, .nth = nth, .statsn = 1};

	if (nth == 0)
		serve_briefly(f, &c);
	else if (nth == 1)
		(void)fake_login(f, &c, 0x0302, NULL);
	else if (fake_login(f, &c, 0, NULL) == 0)
		serve_full_feature(f, &c, false);
}

static void test_reconnect_busy_retried(void **state)
{
	char p0[32], line[160];

	fake_start(serve_busy_on_reconnect);
	fake_run();
	new_session(NULL);
	portal(p0, sizeof(p0), 0);
	assert_int_equal(iscsi_session_login_sync(S, NULL), 0);
	assert_true(run_until_state(ISCSI_SESSION_RECOVERING, 3000));
	assert_true(run_until_state(ISCSI_SESSION_FULL_FEATURE, 5000));
	end_session();
	assert_int_equal(F.conns, 3);
	snprintf(line, sizeof(line),
		 "login to %s failed: out of resources (0302): target busy; reconnecting in", p0);
	assert_non_null(strstr(logbuf, line));
}

/* ---- Async Messages ------------------------------------------------------ */

static struct iscsi_cmd cmds[2];
static int cmd_res[2] = {1, 1};

static void cmd_done(struct iscsi_cmd *cmd, int res)
{
	cmd_res[cmd - cmds] = res;
}

static void submit_tur(int i)
{
	memset(&cmds[i], 0, sizeof(cmds[i]));
	cmds[i].cdb_len = 6; /* TEST UNIT READY */
	cmds[i].dir = ISCSI_DIR_NONE;
	cmds[i].done = cmd_done;
	cmd_res[i] = 1;
	assert_int_equal(iscsi_session_submit(S, &cmds[i]), 0);
}

/* First connection: take one command, ask for a logout, answer the command
 * only after a while, and answer the Logout; then serve normally. */
static void serve_logout_request(struct fake *f, int p, int fd, int nth)
{
	struct fconn c = {.fd = fd, .nth = nth, .statsn = 1};
	union iscsi_hdr held;
	char data[4096];
	uint32_t len;

	if (fake_login(f, &c, 0, NULL) != 0)
		return;
	if (nth > 0) {
		serve_full_feature(f, &c, false);
		return;
	}
	/* the first command is held */
	do {
		if (recv_pdu(fd, &held, data, sizeof(data), &len) < 0)
			return;
		if ((held.bhs.opcode & ISCSI_OPCODE_MASK) == ISCSI_OP_NOP_OUT)
			respond_nop(&c, &held);
	} while ((held.bhs.opcode & ISCSI_OPCODE_MASK) != ISCSI_OP_SCSI_CMD);
	f->cmds_on[0]++;
	send_async(&c, ISCSI_ASYNC_LOGOUT_REQUEST, 0, f->async_param3);
	usleep(500 * 1000); /* meanwhile the second command must not come */
	respond_scsi(&c, &held);
	serve_full_feature(f, &c, true);
}

static void test_async_logout_request(void **state)
{
	uint64_t t0;

	fake_start(serve_logout_request);
	F.async_param3 = 10;
	F.logout_time2wait = 1;
	fake_run();
	new_session(NULL);
	assert_int_equal(iscsi_session_login_sync(S, NULL), 0);
	submit_tur(0);
	run_for(200); /* the target has the first and asks for the logout */
	submit_tur(1);
	t0 = lb_now_ms();
	while (cmd_res[1] == 1 && lb_now_ms() - t0 < 8000)
		(void)lb_loop_run_once(&loop, 20);
	assert_int_equal(cmd_res[0], 0);
	assert_int_equal(cmd_res[1], 0); /* a delay, not an error */
	assert_int_equal(iscsi_session_get_state(S), ISCSI_SESSION_FULL_FEATURE);
	end_session();
	assert_int_equal(F.cmds_after_async, 0); /* nothing new on the old session */
	assert_int_equal(F.logout_reason, ISCSI_LOGOUT_CLOSE_SESSION);
	assert_int_equal(F.conns, 2);
	assert_int_equal(F.cmds_on[1], 1); /* the second went on the new session */
	/* a new session (TSIH 0) with the same ISID, after the Logout
	 * Response's Time2Wait (1 s) */
	assert_int_equal(F.tsih_seen[1], 0);
	assert_memory_equal(F.isid_seen[0], F.isid_seen[1], 6);
	assert_true(F.connect_ms[1] - F.logout_ms >= 1000);
	assert_non_null(strstr(logbuf, "target requests logout in 10 s\n"));
	assert_non_null(strstr(logbuf, "logged out as the target asked; reconnecting in 1.0 s\n"));
}

/* First connection: say it will drop with Time2Wait 1 s, then drop. */
static void serve_drop_event(struct fake *f, int p, int fd, int nth)
{
	struct fconn c = {.fd = fd, .nth = nth, .statsn = 1};

	if (fake_login(f, &c, 0, NULL) != 0)
		return;
	if (nth == 0) {
		send_async(&c, ISCSI_ASYNC_DROP_CONNECTION, 1, 20);
		usleep(100 * 1000);
		return;
	}
	serve_full_feature(f, &c, false);
}

static void test_async_drop_waits_time2wait(void **state)
{
	fake_start(serve_drop_event);
	fake_run();
	new_session(NULL);
	assert_int_equal(iscsi_session_login_sync(S, NULL), 0);
	assert_true(run_until_state(ISCSI_SESSION_RECOVERING, 3000));
	assert_true(run_until_state(ISCSI_SESSION_FULL_FEATURE, 5000));
	end_session();
	assert_int_equal(F.conns, 2);
	/* dropped about 100 ms after the login; back no sooner than 1 s later */
	assert_true(F.connect_ms[1] - F.connect_ms[0] >= 1100);
	assert_non_null(strstr(logbuf, "target will drop the connection; reconnecting after "
				       "Time2Wait 1 s (Time2Retain 20 s)\n"));
}

/* Each connection declares another portal group. */
static void serve_tpgt(struct fake *f, int p, int fd, int nth)
{
	struct fconn c = {.fd = fd, .nth = nth, .statsn = 1};

	if (nth == 0)
		serve_briefly(f, &c);
	else if (fake_login(f, &c, 0, NULL) == 0)
		serve_full_feature(f, &c, false);
}

static void test_tpgt_change_is_a_new_nexus(void **state)
{
	fake_start(serve_tpgt);
	F.tpgt[0] = 1;
	F.tpgt[1] = 2;
	fake_run();
	new_session(NULL);
	assert_int_equal(iscsi_session_login_sync(S, NULL), 0);
	assert_false(S->nexus_changed);
	assert_true(run_until_state(ISCSI_SESSION_RECOVERING, 3000));
	assert_true(run_until_state(ISCSI_SESSION_FULL_FEATURE, 5000));
	assert_true(S->nexus_changed);
	assert_int_equal(iscsi_session_tpgt(S), 2);
	end_session();
	assert_non_null(
		strstr(logbuf, "target portal group changed from 1 to 2: a new I_T nexus\n"));
}

static void test_same_tpgt_is_the_same_nexus(void **state)
{
	fake_start(serve_tpgt);
	fake_run();
	new_session(NULL);
	assert_int_equal(iscsi_session_login_sync(S, NULL), 0);
	assert_true(run_until_state(ISCSI_SESSION_RECOVERING, 3000));
	assert_true(run_until_state(ISCSI_SESSION_FULL_FEATURE, 5000));
	assert_false(S->nexus_changed);
	end_session();
	assert_null(strstr(logbuf, "portal group changed"));
}

/* ---- the source address -------------------------------------------------- */

static void serve_plain(struct fake *f, int p, int fd, int nth)
{
	struct fconn c = {.fd = fd, .nth = nth, .statsn = 1};

	if (fake_login(f, &c, 0, NULL) == 0)
		serve_full_feature(f, &c, false);
}

static void test_bind_source_address(void **state)
{
	fake_start(serve_plain);
	fake_run();
	new_session("127.0.0.2");
	assert_int_equal(iscsi_session_login_sync(S, NULL), 0);
	end_session();
	assert_string_equal(F.peer, "127.0.0.2");
}

static void test_bind_source_address_checked(void **state)
{
	struct iscsi_session_config cfg;
	struct iscsi_session *s = NULL;
	struct sockaddr_storage ss;
	socklen_t len;
	lb_err err;

	iscsi_session_config_init(&cfg);
	cfg.host = "127.0.0.1";
	cfg.initiator_name = "iqn.2026-12.org.lunbridge.test:initiator";
	cfg.bind_addr = "eth0";
	assert_int_equal(iscsi_session_new(&loop, &cfg, &s, &err), -EINVAL);
	assert_string_equal(err.msg, "source address 'eth0' is not a numeric IP address");
	assert_int_equal(iscsi_conn_source_addr("fd00::5", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(iscsi_conn_source_addr("10.1.2.3", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(iscsi_conn_source_addr("10.1.2", &ss, &len), -EINVAL);
}

/* ---- Reject reasons ------------------------------------------------------ */

static void test_reject_retryable(void **state)
{
	/* RFC 7143 §11.17.1 */
	assert_true(iscsi_reject_retryable(0x02));  /* data digest error */
	assert_true(iscsi_reject_retryable(0x06));  /* immediate command reject */
	assert_true(iscsi_reject_retryable(0x0a));  /* long operation reject */
	assert_true(iscsi_reject_retryable(0x0c));  /* waiting for logout */
	assert_false(iscsi_reject_retryable(0x03)); /* SNACK reject */
	assert_false(iscsi_reject_retryable(0x04)); /* protocol error */
	assert_false(iscsi_reject_retryable(0x05)); /* command not supported */
	assert_false(iscsi_reject_retryable(0x07)); /* task in progress */
	assert_false(iscsi_reject_retryable(0x08)); /* invalid data ack */
	assert_false(iscsi_reject_retryable(0x09)); /* invalid PDU field */
	assert_false(iscsi_reject_retryable(0x0b)); /* deprecated (negotiation reset) */
	assert_false(iscsi_reject_retryable(0x0d));
	assert_false(iscsi_reject_retryable(0x00));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_temporary_redirect_each_reconnect),
		cmocka_unit_test(test_permanent_redirect_remembered),
		cmocka_unit_test(test_redirect_loop_fails_naming_portals),
		cmocka_unit_test(test_redirect_path),
		cmocka_unit_test(test_first_login_busy_retried),
		cmocka_unit_test(test_first_login_busy_gives_up),
		cmocka_unit_test(test_reconnect_busy_retried),
		cmocka_unit_test(test_async_logout_request),
		cmocka_unit_test(test_async_drop_waits_time2wait),
		cmocka_unit_test(test_tpgt_change_is_a_new_nexus),
		cmocka_unit_test(test_same_tpgt_is_the_same_nexus),
		cmocka_unit_test(test_bind_source_address),
		cmocka_unit_test(test_bind_source_address_checked),
		cmocka_unit_test(test_reject_retryable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
