/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A session in the full feature phase fed a sequence of target PDUs.
 *
 * The harness plays the target on a loopback TCP connection (the session
 * connects to an address): it accepts, answers the login with fixed Login
 * Responses, submits four commands through iscsi_session_submit()
 *
 *   0  READ(10)  LUN 0, 4096 bytes in three iovecs (1000, 3000, 96)
 *   1  WRITE(10) LUN 0, 20000 bytes in two iovecs (7000, 13000)
 *   2  TEST UNIT READY, LUN 1, no data
 *   3  READ(10)  LUN 1, 32768 bytes in two iovecs (large enough for the
 *      connection to receive Data-In straight into the buffer)
 *
 * (CDB byte 5 holds the index, so the harness knows each command's ITT
 * from the SCSI Command PDUs the session sends), then writes the input's
 * PDUs, letting the session's loop run until it settles after each, and
 * at the end resets the connection: recovery is off, so the session fails
 * at once and every command completes.  No timeout is ever waited for:
 * "time passes" is a direct call of the tick's task management step.
 *
 * Byte 0 configures the login (what the target answers):
 *   0x01 ImmediateData=No          0x02 InitialR2T=Yes
 *   0x04 HeaderDigest=CRC32C       0x08 DataDigest=CRC32C
 *   0x10 DataPDUInOrder=No (offered so by the session)
 *   0x20 MaxRecvDataSegmentLength=512 (else 4096)
 *   0x40 the command window starts closed (MaxCmdSN = ExpCmdSN - 1)
 *   0x80 max_tasks 2 (commands 2 and 3 wait for a free task)
 * Then records, cut short where the input ends:
 *
 *   ctl (1 byte)  dlen (2 bytes, big-endian)  BHS (48 bytes)  data (dlen)
 *
 * Data the input does not supply is zero; DataSegmentLength is set to
 * dlen, padding and digests are added (correct ones, unless the action
 * says otherwise).  ctl:
 *   bits 0-2  the ITT to patch in (of a Reject: the rejected header's ITT
 *             in its data): 0-3 the command's latest ITT, 4 the last Task
 *             Management Request's, 5 the Logout Request's, 6 the Text
 *             Request's, 7 leave the input's
 *   0x08      StatSN, ExpCmdSN and MaxCmdSN as the session expects (an
 *             open window); for Data-In of command 0-3 also DataSN and
 *             Buffer Offset in sequence, for R2T R2TSN, a TTT, and offset
 *             and length inside the buffer
 *   0x10      keep TotalAHSLength: the AHS is the head of the data
 *             (else TotalAHSLength 0)
 *   bits 5-7  an action: 0 none; 1 time passes before the PDU (a command
 *             times out: ABORT TASK; an unanswered abort: LUN RESET; an
 *             unanswered reset: the connection drops); 2 iscsi_session_
 *             logout() before; 3 resubmit the completed commands before;
 *             4 write the PDU in two parts, the session running between
 *             them; 5 a wrong digest (header, else data); 6 start a Text
 *             Request (SendTargets=All) before; 7 no settling after the
 *             PDU (the next one arrives in the same receive)
 *
 * Invariants (abort() on violation):
 * - every submission completes exactly once: never twice, and by the
 *   session's free at the latest;
 *   the login, logout and text callbacks run at most once per request;
 * - res <= length; res >= 0 means res == length - residual, and for a READ
 *   that every byte of [0, res) was sent by the harness in a Data-In of
 *   this attempt and holds what was sent;
 * - when a command completes, no PDU the connection still holds (queued
 *   or in the sendmsg in flight) points into its buffers;
 * - after completion the session neither sends from nor receives into a
 *   command's buffers (they are scribbled over at completion: every
 *   immediate data and Data-Out the session sends must carry the WRITE's
 *   own bytes at its offset, and a completed READ's buffer must stay
 *   scribbled);
 * - what the session sends is framed as negotiated: correct digests,
 *   data segments within the MaxRecvDataSegmentLength the target declared,
 *   Data-Out inside the command's buffer;
 * - nothing crashes or leaks (under ASan).
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "digest.h"
#include "macro.h"
#include "serial.h"
#include "session-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	CFG_NO_IMMEDIATE = 0x01,
	CFG_INITIAL_R2T = 0x02,
	CFG_HEADER_DIGEST = 0x04,
	CFG_DATA_DIGEST = 0x08,
	CFG_OUT_OF_ORDER = 0x10,
	CFG_SMALL_PDUS = 0x20,
	CFG_WINDOW_CLOSED = 0x40,
	CFG_TWO_TASKS = 0x80,
};

enum {
	CTL_TAG_MASK = 0x07,
	CTL_FIXUP = 0x08,
	CTL_KEEP_AHS = 0x10,
	CTL_ACTION_SHIFT = 5,
};

enum action {
	ACT_NONE,
	ACT_TIME_PASSES,
	ACT_LOGOUT,
	ACT_RESUBMIT,
	ACT_SPLIT,
	ACT_BAD_DIGEST,
	ACT_TEXT,
	ACT_NO_SETTLE,
};

enum { TAG_TMF = 4, TAG_LOGOUT, TAG_TEXT, TAG_KEEP };

#define N_CMDS 4
#define SCRIBBLE 0xdb
#define POISON 0xa5
#define STATSN0 0x1000u
#define MAX_BURST 16384u
#define FIRST_BURST 4096u
#define RX_CAP (1u << 20)
#define SETTLE_MAX 20000

struct fz_cmd {
	struct iscsi_cmd cmd;
	struct iovec iov[3];
	uint8_t *buf;
	uint32_t len;
	bool outstanding; /* submitted, done not called yet */
	bool have_itt;	  /* the session sent it at least once */
	uint32_t itt;	  /* its latest ITT */
	/* what the target sends next for the current attempt */
	uint32_t datasn, r2tsn, next_off;
	uint8_t *sent;	  /* READ: the bytes sent at each offset */
	uint8_t *covered; /* READ: 1 where this attempt's Data-In put data */
};

struct harness {
	struct lb_loop loop;
	struct iscsi_session *s;
	int fd; /* the target's end */
	uint8_t cfg;
	bool hd, dd; /* digests on the wire */
	uint32_t max_xmit;
	struct fz_cmd cmds[N_CMDS];
	/* learnt from the session's PDUs */
	uint32_t tmf_itt, logout_itt, text_itt;
	uint32_t exp_cmdsn; /* ExpCmdSN, as the target */
	uint32_t statsn;    /* the next StatSN */
	bool full_feature;
	uint8_t *rx;
	size_t rx_len;
	/* requests made through the API, and their callbacks */
	unsigned login_cbs, logout_cbs, text_cbs;
	bool logout_asked, text_asked;
	bool broken; /* the connection is gone or does not read */
};

/* FUZZ_SESSION_VERBOSE=1: the session's log lines and every completion on
 * stderr, for reading what a saved input does */
static bool verbose;

static const char *const cmd_names[N_CMDS] = {"READ 0", "WRITE 1", "TEST UNIT READY 2", "READ 3"};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz-session: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static uint8_t pattern(unsigned idx, uint32_t off)
{
	return (uint8_t)(off * 31u + idx * 7u + 1u);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

/* ---- the listening socket, one for all runs ------------------------------ */

static int listener(uint16_t *ret_port)
{
	static int fd = -1;
	static uint16_t port;

	if (fd < 0) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t len = sizeof(a);
		int rcvbuf = 4096;

		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			fail("socket: %s", strerror(errno));
		/* small buffers, inherited by the accepted socket: a large
		 * WRITE's PDUs stay in the session's send path for a while */
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0 ||
		    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
			fail("listen on 127.0.0.1: %s", strerror(errno));
		port = ntohs(a.sin_port);
	}
	*ret_port = port;
	return fd;
}

/* ---- what the session sends ------------------------------------------------ */

static struct fz_cmd *cmd_by_itt(struct harness *h, uint32_t itt)
{
	for (unsigned i = 0; i < N_CMDS; i++)
		if (h->cmds[i].have_itt && h->cmds[i].itt == itt)
			return &h->cmds[i];
	return NULL;
}

static void check_write_data(struct harness *h, const struct fz_cmd *c, uint32_t off,
			     const uint8_t *d, uint32_t len, const char *what)
{
	unsigned idx = (unsigned)(c - h->cmds);

	if (c->cmd.dir != ISCSI_DIR_WRITE)
		fail("%s for %s, which writes nothing", what, cmd_names[idx]);
	if (off > c->len || len > c->len - off)
		fail("%s of %u bytes at offset %u is outside %s's %u bytes", what, len, off,
		     cmd_names[idx], c->len);
	for (uint32_t k = 0; k < len; k++)
		if (d[k] != pattern(idx, off + k))
			fail("%s of %s carries 0x%02x at offset %u, not the buffer's 0x%02x "
			     "(sent from a completed command's buffer?)",
			     what, cmd_names[idx], d[k], off + k, pattern(idx, off + k));
}

static void answer_login(struct harness *h, const uint8_t *req, const uint8_t *text,
			 uint32_t text_len);

/* One whole PDU from the session: learn its tags, check its data. */
static void from_session(struct harness *h, const uint8_t *bhs, const uint8_t *d, uint32_t len)
{
	uint8_t op = bhs[0] & ISCSI_OPCODE_MASK;
	bool immediate = bhs[0] & ISCSI_OP_IMMEDIATE;
	uint32_t itt = get32(bhs + 16);
	struct fz_cmd *c;

	if (verbose)
		fprintf(stderr, "  session sent %s, ITT 0x%08x, %u bytes\n", iscsi_opcode_name(op),
			itt, len);
	switch (op) {
	case ISCSI_OP_LOGIN_REQ:
		if (h->full_feature)
			fail("Login Request in the full feature phase");
		answer_login(h, bhs, d, len);
		return;
	case ISCSI_OP_SCSI_CMD:
		if (bhs[32 + 5] >= N_CMDS)
			fail("SCSI Command with a CDB we never submitted");
		c = &h->cmds[bhs[32 + 5]];
		c->have_itt = true;
		c->itt = itt;
		c->datasn = c->r2tsn = c->next_off = 0;
		if (c->covered)
			memset(c->covered, 0, c->len);
		if (get32(bhs + 20) != c->len)
			fail("SCSI Command for %s with Expected Data Transfer Length %u",
			     cmd_names[bhs[32 + 5]], get32(bhs + 20));
		if (len)
			check_write_data(h, c, 0, d, len, "immediate data");
		break;
	case ISCSI_OP_DATA_OUT:
		c = cmd_by_itt(h, itt);
		if (c)
			check_write_data(h, c, get32(bhs + 40), d, len, "Data-Out");
		break;
	case ISCSI_OP_TMF_REQ:
		h->tmf_itt = itt;
		break;
	case ISCSI_OP_LOGOUT_REQ:
		h->logout_itt = itt;
		break;
	case ISCSI_OP_TEXT_REQ:
		h->text_itt = itt;
		break;
	case ISCSI_OP_NOP_OUT:
		break;
	default:
		fail("the session sent opcode 0x%02x", op);
	}
	if (!immediate && (op == ISCSI_OP_SCSI_CMD || op == ISCSI_OP_TEXT_REQ) &&
	    iscsi_sn_ge(get32(bhs + 24), h->exp_cmdsn))
		h->exp_cmdsn = get32(bhs + 24) + 1;
}

/* Cut what the session sent into PDUs. */
static void parse_rx(struct harness *h)
{
	size_t off = 0;

	while (h->rx_len - off >= ISCSI_BHS_LEN) {
		const uint8_t *b = h->rx + off;
		size_t hlen = ISCSI_BHS_LEN + (size_t)b[4] * 4 + (h->hd ? 4 : 0);
		uint32_t dl = iscsi_get_be24(b + 5);
		size_t dd = h->dd && dl ? 4 : 0;
		size_t total = hlen + dl + iscsi_pad4(dl) + dd;
		uint32_t limit = h->full_feature ? h->max_xmit : 8192;

		if (b[4])
			fail("the session sent an AHS");
		if (dl > limit)
			fail("the session sent %u bytes of data; the target takes %u", dl, limit);
		if (h->rx_len - off < total)
			break;
		if (h->hd && iscsi_crc32c(b, ISCSI_BHS_LEN) != iscsi_digest_get(b + ISCSI_BHS_LEN))
			fail("the session sent a wrong header digest");
		if (dd && iscsi_crc32c(b + hlen, dl + iscsi_pad4(dl)) !=
				  iscsi_digest_get(b + hlen + dl + iscsi_pad4(dl)))
			fail("the session sent a wrong data digest");
		from_session(h, b, b + hlen, dl);
		off += total;
	}
	memmove(h->rx, h->rx + off, h->rx_len - off);
	h->rx_len -= off;
}

/* Read what the session has sent; true if there was anything. */
static bool drain(struct harness *h)
{
	bool got = false;

	for (;;) {
		ssize_t n = recv(h->fd, h->rx + h->rx_len, RX_CAP - h->rx_len, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		h->rx_len += (size_t)n;
		got = true;
		parse_rx(h);
		if (h->rx_len == RX_CAP)
			fail("a PDU from the session does not fit %u bytes", RX_CAP);
	}
	return got;
}

/* Run the session until it has nothing left to do and sends nothing more. */
static void settle(struct harness *h)
{
	for (int idle = 0, i = 0; idle < 2; i++) {
		int n;

		if (i == SETTLE_MAX)
			fail("the session does not settle");
		/* DEFER_TASKRUN: completions are made only when asked for */
		(void)io_uring_get_events(&h->loop.ring);
		n = lb_loop_run_once(&h->loop, 0);
		if (n < 0 && n != -EINTR && n != -ETIME)
			fail("lb_loop_run_once: %s", strerror(-n));
		if (drain(h) || n > 0)
			idle = 0;
		else
			idle++;
	}
}

/* ---- what the target sends -------------------------------------------------- */

/* Write all of p; false once the session is gone or stops reading. */
static bool send_all(struct harness *h, const uint8_t *p, size_t len)
{
	unsigned stalls = 0;

	while (len && !h->broken) {
		ssize_t n = send(h->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			stalls = 0;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if ((n < 0 && errno != EAGAIN) || ++stalls > 3) {
			h->broken = true;
		} else {
			settle(h);
		}
	}
	return !h->broken;
}

/* Frame bhs, the AHS and data as negotiated (bad: spoil a digest) into
 * out; returns the length. */
static size_t frame(const struct harness *h, uint8_t *bhs, const uint8_t *ahs, size_t ahs_len,
		    const uint8_t *d, uint32_t len, bool bad, uint8_t *out)
{
	size_t n = ISCSI_BHS_LEN + ahs_len;

	bhs[4] = (uint8_t)(ahs_len / 4);
	iscsi_put_be24(bhs + 5, len);
	memcpy(out, bhs, ISCSI_BHS_LEN);
	if (ahs_len)
		memcpy(out + ISCSI_BHS_LEN, ahs, ahs_len);
	if (h->hd) {
		iscsi_digest_put(out + n, iscsi_crc32c(out, n) ^ (bad ? 1u : 0u));
		n += 4;
		bad = false;
	}
	memcpy(out + n, d, len);
	memset(out + n + len, 0, iscsi_pad4(len));
	if (h->dd && len) {
		uint32_t crc = iscsi_crc32c(out + n, len + iscsi_pad4(len));

		iscsi_digest_put(out + n + len + iscsi_pad4(len), crc ^ (bad ? 1u : 0u));
		n += 4;
	}
	return n + len + iscsi_pad4(len);
}

static void add_key(char *buf, size_t *len, const char *kv)
{
	size_t l = strlen(kv) + 1;

	memcpy(buf + *len, kv, l);
	*len += l;
}

/* The request's text offers key. */
static bool offered(const uint8_t *text, uint32_t len, const char *key)
{
	size_t kl = strlen(key);

	for (uint32_t i = 0; i < len;) {
		const uint8_t *end = memchr(text + i, '\0', len - i);
		size_t l = end ? (size_t)(end - (text + i)) : len - i;

		if (l > kl && !memcmp(text + i, key, kl) && text[i + kl] == '=')
			return true;
		i += (uint32_t)l + 1;
	}
	return false;
}

/* Security stage: AuthMethod=None, on to the operational stage.  There:
 * answer what the session offered as the configuration byte says. */
static void answer_login(struct harness *h, const uint8_t *req, const uint8_t *text,
			 uint32_t text_len)
{
	static const struct {
		const char *key, *value, *alt;
		uint8_t bit;
	} answers[] = {
		{"HeaderDigest", "None", "CRC32C", CFG_HEADER_DIGEST},
		{"DataDigest", "None", "CRC32C", CFG_DATA_DIGEST},
		{"InitialR2T", "No", "Yes", CFG_INITIAL_R2T},
		{"ImmediateData", "Yes", "No", CFG_NO_IMMEDIATE},
		{"DataPDUInOrder", "Yes", "No", CFG_OUT_OF_ORDER},
		{"MaxBurstLength", "16384", NULL, 0},
		{"FirstBurstLength", "4096", NULL, 0},
		{"ErrorRecoveryLevel", "0", NULL, 0},
	};
	uint8_t csg = (req[1] & ISCSI_LOGIN_CSG_MASK) >> ISCSI_LOGIN_CSG_SHIFT;
	uint32_t cmdsn = get32(req + 24);
	uint8_t bhs[ISCSI_BHS_LEN] = {0}, out[ISCSI_BHS_LEN + 1024];
	char keys[1024];
	size_t len = 0;

	bhs[0] = ISCSI_OP_LOGIN_RSP;
	bhs[1] = req[1] & (ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_CSG_MASK | ISCSI_LOGIN_NSG_MASK);
	memcpy(bhs + 8, req + 8, 6); /* ISID */
	iscsi_put_be16(bhs + 14, 1); /* TSIH */
	memcpy(bhs + 16, req + 16, 4);
	put32(bhs + 24, h->statsn++);
	put32(bhs + 28, cmdsn);
	put32(bhs + 32, h->cfg & CFG_WINDOW_CLOSED ? cmdsn - 1 : cmdsn + 31);
	h->exp_cmdsn = cmdsn;
	if (csg == ISCSI_STAGE_SECURITY) {
		add_key(keys, &len, "AuthMethod=None");
	} else {
		char kv[64];

		for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
			if (!offered(text, text_len, answers[i].key))
				continue;
			snprintf(kv, sizeof(kv), "%s=%s", answers[i].key,
				 h->cfg & answers[i].bit ? answers[i].alt : answers[i].value);
			add_key(keys, &len, kv);
		}
		h->max_xmit = h->cfg & CFG_SMALL_PDUS ? 512 : 4096;
		snprintf(kv, sizeof(kv), "MaxRecvDataSegmentLength=%u", h->max_xmit);
		add_key(keys, &len, kv);
	}
	if (!send_all(h, out,
		      frame(h, bhs, NULL, 0, (const uint8_t *)keys, (uint32_t)len, false, out)))
		fail("the session does not take its Login Response");
	if (bhs[1] & ISCSI_LOGIN_FLAG_TRANSIT &&
	    (bhs[1] & ISCSI_LOGIN_NSG_MASK) == ISCSI_STAGE_FULL_FEATURE) {
		h->full_feature = true;
		h->hd = h->cfg & CFG_HEADER_DIGEST;
		h->dd = h->cfg & CFG_DATA_DIGEST;
	}
}

/* ---- commands ---------------------------------------------------------------- */

/* Does the connection still hold a PDU that points into c's buffer? */
static bool session_holds(const struct harness *h, const struct fz_cmd *c)
{
	const struct iscsi_conn *conn = h->s->conn;

	if (!conn)
		return false;
	for (int list = 0; list < 2; list++)
		for (const struct iscsi_txbuf *tx = list ? conn->tx_batch : conn->txq_head; tx;
		     tx = tx->next)
			for (unsigned i = 0; i < tx->iovcnt; i++) {
				const uint8_t *p = tx->iov[i].iov_base;

				if (tx->iov[i].iov_len && p < c->buf + c->len &&
				    p + tx->iov[i].iov_len > c->buf)
					return true;
			}
	return false;
}

static void cmd_done(struct iscsi_cmd *cmd, int res)
{
	struct fz_cmd *c = container_of(cmd, struct fz_cmd, cmd);
	struct harness *h = cmd->arg;
	const char *name = cmd_names[c - h->cmds];

	if (!c->outstanding)
		fail("%s completed twice (res %d)", name, res);
	c->outstanding = false;
	if (verbose)
		fprintf(stderr, "  %s done: %d (status 0x%02x, residual %u%s)\n", name, res,
			cmd->status, cmd->residual, cmd->has_sense ? ", sense" : "");
	if (res > (int)c->len)
		fail("%s completed with %d bytes of %u", name, res, c->len);
	if (res >= 0 && (cmd->residual > c->len || (uint32_t)res != c->len - cmd->residual))
		fail("%s completed with %d bytes but residual %u of %u", name, res, cmd->residual,
		     c->len);
	if (res > 0 && cmd->dir == ISCSI_DIR_READ)
		for (int k = 0; k < res; k++)
			if (!c->covered[k] || c->buf[k] != c->sent[k])
				fail("%s completed with %d bytes, but byte %d %s", name, res, k,
				     c->covered[k] ? "differs from what the target sent"
						   : "was never sent by the target");
	if (session_holds(h, c))
		fail("%s completed while the connection holds a PDU of its buffer", name);
	memset(c->buf, SCRIBBLE, c->len);
}

static void cmd_setup(struct fz_cmd *c, unsigned idx, struct harness *h)
{
	static const struct {
		uint8_t op;
		enum iscsi_data_dir dir;
		uint32_t lun;
		uint32_t iov[3];
	} shapes[N_CMDS] = {
		{0x28, ISCSI_DIR_READ, 0, {1000, 3000, 96}},
		{0x2a, ISCSI_DIR_WRITE, 0, {7000, 13000, 0}},
		{0x00, ISCSI_DIR_NONE, 1, {0, 0, 0}},
		{0x28, ISCSI_DIR_READ, 1, {16384, 16384, 0}},
	};
	uint32_t off = 0;

	memset(c, 0, sizeof(*c));
	c->len = shapes[idx].iov[0] + shapes[idx].iov[1] + shapes[idx].iov[2];
	c->buf = malloc(c->len ? c->len : 1);
	if (shapes[idx].dir == ISCSI_DIR_READ) {
		c->sent = calloc(1, c->len);
		c->covered = calloc(1, c->len);
	}
	if (!c->buf || (shapes[idx].dir == ISCSI_DIR_READ && (!c->sent || !c->covered)))
		fail("out of memory");
	for (unsigned i = 0; i < 3 && shapes[idx].iov[i]; i++) {
		c->iov[i] = (struct iovec){c->buf + off, shapes[idx].iov[i]};
		off += shapes[idx].iov[i];
		c->cmd.iovcnt = i + 1;
	}
	c->cmd.lun = shapes[idx].lun;
	c->cmd.cdb[0] = shapes[idx].op;
	c->cmd.cdb[5] = (uint8_t)idx; /* how the harness knows it on the wire */
	c->cmd.cdb_len = shapes[idx].op ? 10 : 6;
	if (shapes[idx].op)
		iscsi_put_be16(c->cmd.cdb + 7, (uint16_t)(c->len / 512));
	c->cmd.dir = shapes[idx].dir;
	c->cmd.iov = c->iov;
	c->cmd.length = c->len;
	c->cmd.done = cmd_done;
	c->cmd.arg = h;
}

/* Submit c again (or for the first time) with fresh buffer contents. */
static void cmd_submit(struct harness *h, struct fz_cmd *c)
{
	unsigned idx = (unsigned)(c - h->cmds);

	if (c->outstanding)
		return;
	if (c->cmd.dir == ISCSI_DIR_WRITE) {
		for (uint32_t k = 0; k < c->len; k++)
			c->buf[k] = pattern(idx, k);
	} else {
		memset(c->buf, POISON, c->len);
	}
	if (c->covered)
		memset(c->covered, 0, c->len);
	c->datasn = c->r2tsn = c->next_off = 0;
	c->outstanding = true;
	if (iscsi_session_submit(h->s, &c->cmd) < 0)
		c->outstanding = false;
}

/* A completed command's buffer is as cmd_done() left it. */
static void check_scribbled(struct harness *h)
{
	for (unsigned i = 0; i < N_CMDS; i++) {
		const struct fz_cmd *c = &h->cmds[i];

		if (c->outstanding || c->cmd.dir != ISCSI_DIR_READ)
			continue;
		for (uint32_t k = 0; k < c->len; k++)
			if (c->buf[k] != SCRIBBLE && c->buf[k] != POISON)
				fail("%s's buffer changed at offset %u after it completed",
				     cmd_names[i], k);
	}
}

/* ---- callbacks of the session's own requests ----------------------------------- */

static void log_line(void *arg, const char *line)
{
	fprintf(stderr, "  session: %s\n", line);
}

static void login_cb(struct iscsi_session *s, void *arg, int res)
{
	struct harness *h = arg;

	if (h->login_cbs++)
		fail("the login callback ran twice");
}

static void logout_cb(struct iscsi_session *s, void *arg, int res)
{
	struct harness *h = arg;

	if (!h->logout_asked || h->logout_cbs++)
		fail("the logout callback ran twice");
	if (verbose)
		fprintf(stderr, "  logout done: %d\n", res);
}

static void text_cb(struct iscsi_session *s, void *arg, int res)
{
	struct harness *h = arg;

	if (!h->text_asked)
		fail("the text callback ran twice");
	h->text_asked = false;
	h->text_cbs++;
	if (verbose)
		fprintf(stderr, "  text done: %d\n", res);
}

/* ---- the input's records ------------------------------------------------------- */

static void act(struct harness *h, enum action a)
{
	bool ff = iscsi_session_get_state(h->s) == ISCSI_SESSION_FULL_FEATURE;

	switch (a) {
	case ACT_TIME_PASSES:
		/* the tick's step, an hour on: past every command and TMF deadline */
		if (ff)
			iscsi_tasks_tick(h->s, lb_now_ms() + 3600 * 1000);
		break;
	case ACT_LOGOUT:
		if (ff && !h->logout_asked) {
			h->logout_asked = true;
			if (iscsi_session_logout(h->s, logout_cb, h) < 0)
				fail("iscsi_session_logout refused in the full feature phase");
		}
		break;
	case ACT_RESUBMIT:
		check_scribbled(h);
		for (unsigned i = 0; i < N_CMDS; i++)
			cmd_submit(h, &h->cmds[i]);
		break;
	case ACT_TEXT:
		if (!h->text_asked) {
			h->text_asked = true;
			if (iscsi_session_text(h->s, "SendTargets=All", 16, text_cb, h) < 0)
				h->text_asked = false;
		}
		break;
	default:
		break;
	}
	settle(h);
}

static uint32_t tag_of(const struct harness *h, unsigned sel, uint32_t given)
{
	switch (sel) {
	case TAG_TMF:
		return h->tmf_itt;
	case TAG_LOGOUT:
		return h->logout_itt;
	case TAG_TEXT:
		return h->text_itt;
	case TAG_KEEP:
		return given;
	default:
		return h->cmds[sel].have_itt ? h->cmds[sel].itt : given;
	}
}

/* StatSN, the window, and the sequence of Data-In and R2T (ctl 0x08). */
static void fix_numbers(struct harness *h, uint8_t *bhs, uint8_t op, struct fz_cmd *c,
			uint32_t dlen)
{
	bool status = op == ISCSI_OP_SCSI_RSP || op == ISCSI_OP_TMF_RSP ||
		      op == ISCSI_OP_LOGOUT_RSP || op == ISCSI_OP_TEXT_RSP ||
		      op == ISCSI_OP_REJECT || op == ISCSI_OP_ASYNC_MSG ||
		      (op == ISCSI_OP_DATA_IN && bhs[1] & ISCSI_DATA_IN_FLAG_STATUS);

	put32(bhs + 24, status ? h->statsn++ : h->statsn);
	put32(bhs + 28, h->exp_cmdsn);
	put32(bhs + 32, h->exp_cmdsn + 31);
	if (!c)
		return;
	if (op == ISCSI_OP_DATA_IN) {
		put32(bhs + 36, c->datasn++);
		put32(bhs + 40, c->next_off);
		c->next_off += dlen;
	} else if (op == ISCSI_OP_R2T) {
		uint32_t off = get32(bhs + 40), want = get32(bhs + 44);

		put32(bhs + 36, c->r2tsn++);
		if (get32(bhs + 20) == ISCSI_RESERVED_TAG)
			put32(bhs + 20, 0x100 + c->r2tsn);
		if (off > c->len)
			off %= c->len + 1;
		if (want == 0 || want > c->len - off)
			want = c->len - off;
		if (want > MAX_BURST)
			want = MAX_BURST;
		put32(bhs + 40, off);
		put32(bhs + 44, want);
	}
}

/* A Data-In for a READ's current attempt: what lands where. */
static void note_data_in(struct harness *h, const uint8_t *bhs, const uint8_t *d, uint32_t len)
{
	struct fz_cmd *c = cmd_by_itt(h, get32(bhs + 16));
	uint32_t off = get32(bhs + 40);

	if (!c || !c->outstanding || c->cmd.dir != ISCSI_DIR_READ || off > c->len ||
	    len > c->len - off)
		return;
	memcpy(c->sent + off, d, len);
	memset(c->covered + off, 1, len);
}

static void send_record(struct harness *h, uint8_t ctl, const uint8_t *rec, size_t avail,
			uint16_t dlen, uint8_t *data, uint8_t *out)
{
	enum action a = (enum action)(ctl >> CTL_ACTION_SHIFT);
	size_t bhs_len = avail < ISCSI_BHS_LEN ? avail : ISCSI_BHS_LEN;
	unsigned sel = ctl & CTL_TAG_MASK;
	uint8_t bhs[ISCSI_BHS_LEN] = {0};
	struct fz_cmd *c = sel < N_CMDS ? &h->cmds[sel] : NULL;
	uint8_t op, *seg;
	uint32_t ahs = 0, len;
	size_t n;

	memcpy(bhs, rec, bhs_len);
	memset(data, 0, dlen);
	memcpy(data, rec + bhs_len, avail - bhs_len);
	op = bhs[0] & ISCSI_OPCODE_MASK;
	/* the AHS is the data's head, so that the session and the harness
	 * agree on where the data segment is */
	if (ctl & CTL_KEEP_AHS)
		ahs = (uint32_t)bhs[4] * 4 <= dlen ? (uint32_t)bhs[4] * 4 : dlen & ~3u;
	seg = data + ahs;
	len = dlen - ahs;
	if (a != ACT_SPLIT && a != ACT_BAD_DIGEST && a != ACT_NO_SETTLE)
		act(h, a);
	if (op == ISCSI_OP_REJECT) {
		if (sel != TAG_KEEP && len >= ISCSI_BHS_LEN)
			put32(seg + 16, tag_of(h, sel, get32(seg + 16)));
	} else {
		put32(bhs + 16, tag_of(h, sel, get32(bhs + 16)));
	}
	if (ctl & CTL_FIXUP)
		fix_numbers(h, bhs, op, c && c->have_itt ? c : NULL, len);
	n = frame(h, bhs, data, ahs, seg, len, a == ACT_BAD_DIGEST, out);
	if (a == ACT_SPLIT) {
		if (!send_all(h, out, n / 2))
			return;
		settle(h);
		if (!send_all(h, out + n / 2, n - n / 2))
			return;
	} else if (!send_all(h, out, n)) {
		return;
	}
	if (op == ISCSI_OP_DATA_IN)
		note_data_in(h, bhs, seg, len);
	if (a != ACT_NO_SETTLE)
		settle(h);
}

/* ---- one run -------------------------------------------------------------------- */

static void connect_session(struct harness *h)
{
	struct iscsi_session_config cfg;
	uint16_t port;
	int lfd = listener(&port);
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int one = 1;
	lb_err err;
	int r;

	iscsi_session_config_init(&cfg);
	cfg.host = "127.0.0.1";
	cfg.port = port;
	cfg.target_name = "iqn.2001-04.com.example:storage.disk1";
	cfg.initiator_name = "iqn.2024-01.org.example:fuzz";
	cfg.recover = false;
	cfg.replacement_timeout_ms = 0;
	cfg.nop_interval_ms = 0;
	cfg.want.header_digest = true;
	cfg.want.data_digest = true;
	cfg.want.data_pdu_in_order = !(h->cfg & CFG_OUT_OF_ORDER);
	cfg.max_tasks = h->cfg & CFG_TWO_TASKS ? 2 : 16;
	r = lb_loop_init(&h->loop, 64, 0);
	if (r < 0)
		fail("lb_loop_init: %s", strerror(-r));
	r = iscsi_session_new(&h->loop, &cfg, &h->s, &err);
	if (r < 0)
		fail("iscsi_session_new: %s", err.msg);
	if (verbose)
		iscsi_session_set_log(h->s, log_line, NULL);
	r = iscsi_session_login(h->s, login_cb, h);
	if (r < 0)
		fail("iscsi_session_login: %s", strerror(-r));
	(void)lb_loop_run_once(&h->loop, 0); /* submits the connect */
	if (poll(&p, 1, 5000) != 1)
		fail("the session does not connect");
	h->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (h->fd < 0)
		fail("accept: %s", strerror(errno));
	/* the end is a reset: no TIME_WAIT left behind by a million runs */
	(void)setsockopt(h->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	/* every PDU on the wire at once, not held for a delayed ACK */
	(void)setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	settle(h);
	if (iscsi_session_get_state(h->s) != ISCSI_SESSION_FULL_FEATURE || h->login_cbs != 1)
		fail("the login did not finish: %s", iscsi_session_error(h->s));
}

/* The end of the input: reset the connection, let the session fail, free
 * it, and run the loop until nothing of it is left in flight. */
static void finish(struct harness *h)
{
	close(h->fd);
	h->fd = -1;
	for (int i = 0; i < 100; i++) {
		iscsi_session_state st = iscsi_session_get_state(h->s);

		if (st == ISCSI_SESSION_FAILED || st == ISCSI_SESSION_CLOSED)
			break;
		(void)lb_loop_run_once(&h->loop, 10);
	}
	check_scribbled(h);
	iscsi_session_free(h->s);
	h->s = NULL;
	for (int i = 0; i < 100 && h->loop.inflight; i++)
		(void)lb_loop_run_once(&h->loop, 10);
	if (h->loop.inflight)
		fail("%u operations still in flight after the session's free", h->loop.inflight);
	lb_loop_exit(&h->loop);
	for (unsigned i = 0; i < N_CMDS; i++)
		if (h->cmds[i].outstanding)
			fail("%s never completed", cmd_names[i]);
	if (h->logout_asked && h->logout_cbs != 1)
		fail("the logout callback did not run");
	if (h->text_asked)
		fail("the text callback did not run");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pdu_data[0xffff + 4];
	static uint8_t out[ISCSI_BHS_LEN + 4 + 0xffff + 3 + 4];
	struct harness h = {.fd = -1, .statsn = STATSN0};
	size_t pos = 1;

	if (size < 1)
		return 0;
	verbose = getenv("FUZZ_SESSION_VERBOSE") != NULL;
	h.cfg = data[0];
	h.rx = malloc(RX_CAP);
	if (!h.rx)
		fail("out of memory");
	for (unsigned i = 0; i < N_CMDS; i++)
		cmd_setup(&h.cmds[i], i, &h);
	connect_session(&h);
	for (unsigned i = 0; i < N_CMDS; i++)
		cmd_submit(&h, &h.cmds[i]);
	settle(&h);

	while (pos < size && !h.broken) {
		uint8_t ctl = data[pos++];
		uint16_t dlen = 0;
		size_t avail;

		if (size - pos >= 2)
			dlen = iscsi_get_be16(data + pos);
		pos += size - pos >= 2 ? 2 : size - pos;
		avail = size - pos;
		if (avail > ISCSI_BHS_LEN + (size_t)dlen)
			avail = ISCSI_BHS_LEN + (size_t)dlen;
		send_record(&h, ctl, data + pos, avail, dlen, pdu_data, out);
		pos += avail;
	}
	settle(&h);
	if (verbose) {
		struct iscsi_session_stats st;

		iscsi_session_get_stats(h.s, &st);
		fprintf(stderr,
			"  end of input, session %s: %s (%" PRIu64 " Data-In, %" PRIu64
			" R2T, %" PRIu64 " Data-Out PDUs)\n",
			iscsi_session_state_name(iscsi_session_get_state(h.s)),
			iscsi_session_error(h.s), st.data_in_pdus, st.r2ts, st.data_out_pdus);
	}
	finish(&h);

	for (unsigned i = 0; i < N_CMDS; i++) {
		free(h.cmds[i].buf);
		free(h.cmds[i].sent);
		free(h.cmds[i].covered);
	}
	free(h.rx);
	return 0;
}
