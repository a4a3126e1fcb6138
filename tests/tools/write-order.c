/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A write-order checker for faults (issue 18): no acknowledged write is
 * lost and no older write ever lands over a newer one.  Not installed.
 *
 *   write-order write  --state FILE [options] TARGET
 *   write-order verify --state FILE [--direct] [--qd N] TARGET
 *   write-order stat   --state FILE          (counters so far, one JSON line)
 *
 * TARGET: a block device or file (io_uring, write-order-uring.c), or an
 * NBD export nbd://HOST[:PORT][/NAME], nbd+unix:///NAME?socket=PATH
 * (write-order-nbd.c).
 *
 * write: random blocks of a region (--blocks N of --bs BYTES from
 * --offset BYTES; 1024 x 4096 by default, small so that blocks are
 * rewritten often) at --qd N (32) writes in flight, never two at once to
 * one block (two in flight together may land in either order).  Every
 * block written carries a tag: magic, the run's id, its block number, a
 * sequence number (one counter for the run), the writer's id and a
 * checksum of the whole block.  The state file (mapped shared, so that
 * it survives a writer killed with SIGKILL) holds, per block, the last
 * acknowledged and the highest issued sequence; a second writer on the
 * same state file continues the run (the next writer id, sequences on
 * from the last one issued).  I/O errors are counted and the write stays
 * unacknowledged; an NBD connection that dies is connected again.  Runs
 * until SIGINT/SIGTERM, --duration SECONDS, --stop-file FILE exists or
 * --writes N were issued; then waits up to --drain SECONDS (60) for what
 * is in flight.  Prints "writing" after its first acknowledged write and
 * a summary at the end.  --direct: O_DIRECT; --fua: RWF_DSYNC / NBD FUA.
 *
 * verify: reads every block of the region back and checks that each
 * holds its last acknowledged version or a later issued one, never an
 * older one, never a torn or foreign block.  One line per bad block
 * ("block 17: holds seq 40, last acknowledged 52"), then a summary;
 * exit 1 when any block is bad, 2 when it could not check.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "write-order.h"

#define WO_MAGIC UINT64_C(0x4c42574f52444552) /* "LBWORDER" */
#define WO_STATE_MAGIC "LBWOSTAT"
#define WO_STATE_VERSION 1u

/* at the start of every block written; the rest is a pattern of the tag */
struct wo_tag {
	uint64_t magic, run, block, seq;
	uint32_t writer, bsize;
	uint64_t csum; /* FNV-1a 64 of the whole block with this field 0 */
};
_Static_assert(sizeof(struct wo_tag) == 48, "wo_tag");

struct wo_state_hdr {
	char magic[8];
	uint32_t version, bsize;
	uint64_t nblocks, offset, run, next_seq;
	uint32_t writers, pad;
	/* every writer's, added up */
	uint64_t issued, acked, failed, reconnects, longest_ns;
	uint64_t reserved[4];
};
_Static_assert(sizeof(struct wo_state_hdr) == 128, "wo_state_hdr");

struct wo_block_state {
	uint64_t acked;	 /* the last acknowledged sequence, 0: none */
	uint64_t issued; /* the highest sequence issued */
};

struct wo_state {
	struct wo_state_hdr *hdr;
	struct wo_block_state *blk;
	size_t maplen;
};

struct wo_opts {
	const char *state, *target, *stop_file;
	uint32_t bsize;
	uint64_t nblocks, offset, writes, seed;
	unsigned qd;
	bool direct, fua;
	double duration, drain;
};

static volatile sig_atomic_t stop_signal;

/*
 * What a writer or verify holds until exit, at file scope: a device may
 * still hold requests into these buffers when the process exits (a stuck
 * write is left in flight, never freed under it).
 */
static struct wo_slot {
	uint8_t *buf;
	uint64_t block, seq;
	double t0;
	bool busy;
} slots[WO_MAX_QD];
static uint8_t *busy_blk;
static struct wo_dev *dev;

static void on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return h;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t block_csum(uint8_t *buf, uint32_t bsize)
{
	struct wo_tag *t = (struct wo_tag *)buf;
	uint64_t saved = t->csum, h;
	t->csum = 0;
	h = fnv1a(buf, bsize);
	t->csum = saved;
	return h;
}

static void fill_block(uint8_t *buf, const struct wo_state_hdr *h, uint64_t block, uint64_t seq,
		       uint32_t writer)
{
	struct wo_tag *t = (struct wo_tag *)buf;
	uint64_t s = h->run ^ (block * UINT64_C(0x9e3779b97f4a7c15)) ^ (seq << 20) ^ 1;
	for (uint32_t i = sizeof(*t); i + 8 <= h->bsize; i += 8) {
		uint64_t v = xorshift(&s);
		memcpy(buf + i, &v, 8);
	}
	*t = (struct wo_tag){WO_MAGIC, h->run, block, seq, writer, h->bsize, 0};
	t->csum = block_csum(buf, h->bsize);
}

/* open (or create, for write) the state file and map it shared */
static int state_open(struct wo_state *st, const struct wo_opts *o, bool create)
{
	struct wo_state_hdr *h;
	struct stat sb;
	int fd = open(o->state, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		fprintf(stderr, "write-order: state %s: %s\n", o->state, strerror(errno));
		return -1;
	}
	bool fresh = sb.st_size == 0;
	if (fresh && !create) {
		fprintf(stderr, "write-order: state %s: empty\n", o->state);
		goto fail;
	}
	size_t len = fresh ? sizeof(*h) + o->nblocks * sizeof(struct wo_block_state)
			   : (size_t)sb.st_size;
	if (len < sizeof(*h) || (fresh && ftruncate(fd, (off_t)len) < 0)) {
		fprintf(stderr, "write-order: state %s: too short or cannot grow\n", o->state);
		goto fail;
	}
	h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		fprintf(stderr, "write-order: state %s: mmap: %s\n", o->state, strerror(errno));
		goto fail;
	}
	close(fd);
	if (fresh) {
		memcpy(h->magic, WO_STATE_MAGIC, 8);
		h->version = WO_STATE_VERSION;
		h->bsize = o->bsize;
		h->nblocks = o->nblocks;
		h->offset = o->offset;
		h->run = o->seed ? o->seed : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
	}
	if (memcmp(h->magic, WO_STATE_MAGIC, 8) != 0 || h->version != WO_STATE_VERSION ||
	    len != sizeof(*h) + h->nblocks * sizeof(struct wo_block_state) || h->bsize < 512 ||
	    h->bsize % 512) {
		fprintf(stderr, "write-order: state %s: not a write-order state file\n", o->state);
		munmap(h, len);
		return -1;
	}
	st->hdr = h;
	st->blk = (struct wo_block_state *)(h + 1);
	st->maplen = len;
	return 0;
fail:
	close(fd);
	return -1;
}

static const struct wo_ops *front_door(const char *target)
{
	if (strncmp(target, "nbd://", 6) == 0 || strncmp(target, "nbd+unix://", 11) == 0)
		return &wo_nbd_ops;
	return &wo_uring_ops;
}

static int dev_open(const struct wo_ops *ops, struct wo_dev **d, const struct wo_opts *o,
		    const struct wo_state_hdr *h)
{
	int r = ops->open(d, o->target, o->direct, o->fua, o->qd);
	if (r < 0)
		return r;
	if (ops->size(*d) < h->offset + h->nblocks * h->bsize) {
		fprintf(stderr,
			"write-order: %s: %" PRIu64 " bytes, the region needs %" PRIu64 "\n",
			o->target, ops->size(*d), h->offset + h->nblocks * h->bsize);
		ops->close(*d);
		*d = NULL;
		return -ENOSPC;
	}
	return 0;
}

static uint8_t *alloc_buf(uint32_t bsize)
{
	void *p;
	return posix_memalign(&p, 4096, bsize) ? NULL : p;
}

static bool stop_now(const struct wo_opts *o, double t_end, uint64_t issued)
{
	return stop_signal || (o->duration > 0 && now() >= t_end) ||
	       (o->writes && issued >= o->writes) ||
	       (o->stop_file && access(o->stop_file, F_OK) == 0);
}

static int cmd_write(const struct wo_opts *o)
{
	const struct wo_ops *ops = front_door(o->target);
	struct wo_state st;
	struct wo_dev *d = NULL;
	uint64_t rnd, issued = 0, acked = 0, failed = 0, reconnects = 0, longest_ns = 0;
	unsigned inflight = 0, printed = 0;
	int first_err = 0;
	bool stopping = false, said_writing = false;
	double t_end, t_drain = 0, t_pause = 0;

	if (state_open(&st, o, true) < 0)
		return 2;
	struct wo_state_hdr *h = st.hdr;
	uint32_t writer = ++h->writers;
	unsigned qd = o->qd < h->nblocks ? o->qd : (unsigned)h->nblocks;
	busy_blk = calloc(h->nblocks, 1);
	for (unsigned i = 0; i < qd; i++)
		if (!(slots[i].buf = alloc_buf(h->bsize)))
			return 2;
	rnd = (o->seed ? o->seed : h->run) ^ ((uint64_t)writer << 32) ^ 0x5bd1e995;
	t_end = now() + o->duration;
	if (dev_open(ops, &d, o, h) < 0)
		return 2;

	for (;;) {
		if (!stopping && stop_now(o, t_end, issued)) {
			stopping = true;
			t_drain = now() + o->drain;
		}
		if (stopping && (inflight == 0 || now() >= t_drain))
			break;
		/* (re)connect: a dead NBD connection's writes have all completed */
		if (!d) {
			if (stopping)
				break;
			if (dev_open(ops, &d, o, h) < 0) {
				usleep(200000);
				continue;
			}
			printf("write-order: connected again\n");
			fflush(stdout);
		}
		/* a failing device fails at once: no hot loop of doomed writes */
		for (unsigned i = 0; !stopping && now() >= t_pause && i < qd && inflight < qd; i++) {
			struct wo_slot *s = &slots[i];
			uint64_t b;
			int tries = 0;
			if (s->busy)
				continue;
			do
				b = xorshift(&rnd) % h->nblocks;
			while (busy_blk[b] && ++tries < 64);
			if (busy_blk[b])
				break;
			s->block = b;
			s->seq = ++h->next_seq;
			/* issued before it can reach the device: a kill after submit is covered */
			st.blk[b].issued = s->seq;
			h->issued++;
			issued++;
			fill_block(s->buf, h, b, s->seq, writer);
			s->t0 = now();
			/* not sent (a dead connection): issue nothing more until reaped */
			if (ops->submit(d, WO_WRITE, h->offset + b * h->bsize, s->buf, h->bsize,
					i) < 0) {
				failed++;
				h->failed++;
				break;
			}
			s->busy = true;
			busy_blk[b] = 1;
			inflight++;
		}
		unsigned si;
		int res, r = ops->reap(d, &si, &res, 100);
		if (r == 0)
			continue;
		if (r < 0) {
			if (!ops->reconnect) {
				fprintf(stderr, "write-order: %s: %s\n", o->target, strerror(-r));
				return 2;
			}
			fprintf(stderr, "write-order: %s: connection lost (%s), connecting again\n",
				o->target, strerror(-r));
			ops->close(d);
			d = NULL;
			reconnects++;
			h->reconnects++;
			continue;
		}
		struct wo_slot *s = &slots[si];
		uint64_t ns = (uint64_t)((now() - s->t0) * 1e9);
		s->busy = false;
		busy_blk[s->block] = 0;
		inflight--;
		if (ns > longest_ns)
			longest_ns = ns;
		if (ns > h->longest_ns)
			h->longest_ns = ns;
		if (res == (int)h->bsize) {
			if (s->seq > st.blk[s->block].acked)
				st.blk[s->block].acked = s->seq;
			acked++;
			h->acked++;
			if (!said_writing) {
				printf("writing\n");
				fflush(stdout);
				said_writing = true;
			}
			continue;
		}
		failed++;
		h->failed++;
		t_pause = now() + 0.01;
		if (!first_err)
			first_err = res < 0 ? -res : EIO;
		if (printed++ < 5)
			fprintf(stderr,
				"write-order: block %" PRIu64 " seq %" PRIu64
				": write failed: %s\n",
				s->block, s->seq, res < 0 ? strerror(-res) : "short write");
	}
	printf("write-order: writer %u: issued %" PRIu64 ", acknowledged %" PRIu64
	       ", failed %" PRIu64 "%s%s%s, reconnects %" PRIu64 ", longest write %" PRIu64
	       " ms, in flight at exit %u\n",
	       writer, issued, acked, failed, first_err ? " (first: " : "",
	       first_err ? strerror(first_err) : "", first_err ? ")" : "", reconnects,
	       longest_ns / 1000000, inflight);
	/* what is still in flight stays issued, unacknowledged, its buffers kept */
	if (inflight == 0)
		ops->close(d);
	else
		dev = d;
	munmap(h, st.maplen);
	return 0;
}

enum verdict { V_ACKED, V_LATER, V_UNWRITTEN, V_BAD };

static enum verdict check_block(const struct wo_state *st, uint64_t b, uint8_t *buf)
{
	const struct wo_state_hdr *h = st->hdr;
	const struct wo_block_state *bs = &st->blk[b];
	struct wo_tag t;

	memcpy(&t, buf, sizeof(t));
	if (t.magic != WO_MAGIC || t.run != h->run) {
		/* never acknowledged: it may still hold what was there before the run */
		if (bs->acked == 0)
			return V_UNWRITTEN;
		printf("block %" PRIu64 ": holds no write of this run (foreign or garbage), last "
		       "acknowledged %" PRIu64 "\n",
		       b, bs->acked);
		return V_BAD;
	}
	if (t.bsize != h->bsize || t.csum != block_csum(buf, h->bsize)) {
		printf("block %" PRIu64 ": torn or corrupt (header says seq %" PRIu64
		       ", checksum wrong), last acknowledged %" PRIu64 ", highest issued %" PRIu64
		       "\n",
		       b, t.seq, bs->acked, bs->issued);
		return V_BAD;
	}
	if (t.block != b) {
		printf("block %" PRIu64 ": holds block %" PRIu64 "'s seq %" PRIu64
		       " (misplaced), last acknowledged %" PRIu64 "\n",
		       b, t.block, t.seq, bs->acked);
		return V_BAD;
	}
	if (t.seq < bs->acked) {
		printf("block %" PRIu64 ": holds seq %" PRIu64 ", last acknowledged %" PRIu64 "\n",
		       b, t.seq, bs->acked);
		return V_BAD;
	}
	if (t.seq > bs->issued) {
		printf("block %" PRIu64 ": holds seq %" PRIu64
		       ", never issued (highest issued %" PRIu64 ")\n",
		       b, t.seq, bs->issued);
		return V_BAD;
	}
	return t.seq == bs->acked ? V_ACKED : V_LATER;
}

static int cmd_verify(const struct wo_opts *o)
{
	const struct wo_ops *ops = front_door(o->target);
	struct wo_state st;
	struct wo_dev *d = NULL;
	uint64_t slot_blk[WO_MAX_QD], next = 0, count[4] = {0};
	unsigned inflight = 0;

	if (state_open(&st, o, false) < 0)
		return 2;
	const struct wo_state_hdr *h = st.hdr;
	unsigned qd = o->qd < h->nblocks ? o->qd : (unsigned)h->nblocks;
	for (unsigned i = 0; i < qd; i++)
		if (!(slots[i].buf = alloc_buf(h->bsize)))
			return 2;
	if (dev_open(ops, &d, o, h) < 0)
		return 2;
	for (unsigned i = 0; i < qd && next < h->nblocks; i++, next++) {
		slot_blk[i] = next;
		if (ops->submit(d, WO_READ, h->offset + next * h->bsize, slots[i].buf, h->bsize, i) < 0)
			return 2;
		inflight++;
	}
	while (inflight) {
		unsigned si;
		int res, r = ops->reap(d, &si, &res, 1000);
		if (r == 0)
			continue;
		if (r < 0) {
			fprintf(stderr, "write-order: %s: %s\n", o->target, strerror(-r));
			return 2;
		}
		inflight--;
		if (res != (int)h->bsize) {
			printf("block %" PRIu64 ": read failed: %s\n", slot_blk[si],
			       res < 0 ? strerror(-res) : "short read");
			count[V_BAD]++;
		} else {
			count[check_block(&st, slot_blk[si], slots[si].buf)]++;
		}
		if (next < h->nblocks) {
			slot_blk[si] = next;
			if (ops->submit(d, WO_READ, h->offset + next * h->bsize, slots[si].buf, h->bsize,
					si) < 0)
				return 2;
			next++;
			inflight++;
		}
	}
	ops->close(d);
	printf("verify: %" PRIu64 " blocks: %" PRIu64
	       " hold their last acknowledged write, %" PRIu64
	       " a later unacknowledged one, %" PRIu64 " none (never acknowledged), %" PRIu64
	       " bad; run: %u writers, %" PRIu64 " writes issued, %" PRIu64
	       " acknowledged, %" PRIu64 " failed, %" PRIu64 " reconnects\n",
	       h->nblocks, count[V_ACKED], count[V_LATER], count[V_UNWRITTEN], count[V_BAD],
	       h->writers, h->issued, h->acked, h->failed, h->reconnects);
	return count[V_BAD] ? 1 : 0;
}

static int cmd_stat(const struct wo_opts *o)
{
	struct wo_state st;
	if (state_open(&st, o, false) < 0)
		return 2;
	const struct wo_state_hdr *h = st.hdr;
	uint64_t unacked = 0;
	for (uint64_t b = 0; b < h->nblocks; b++)
		unacked += st.blk[b].issued > st.blk[b].acked;
	printf("{\"writers\":%u,\"issued\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"failed\":%" PRIu64
	       ",\"reconnects\":%" PRIu64 ",\"longest_ms\":%" PRIu64 ",\"blocks\":%" PRIu64
	       ",\"blocks_unacked\":%" PRIu64 "}\n",
	       h->writers, h->issued, h->acked, h->failed, h->reconnects, h->longest_ns / 1000000,
	       h->nblocks, unacked);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: write-order write --state FILE [--bs BYTES] [--blocks N] [--offset BYTES]\n"
		"           [--qd N] [--direct] [--fua] [--duration S] [--stop-file F] [--writes "
		"N]\n"
		"           [--drain S] [--seed N] TARGET\n"
		"       write-order verify --state FILE [--direct] [--qd N] TARGET\n"
		"       write-order stat --state FILE\n");
}

static bool parse_u64(const char *name, const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "write-order: %s '%s' is not a number\n", name, s);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"state", required_argument, 0, 's'},
					   {"bs", required_argument, 0, 'b'},
					   {"blocks", required_argument, 0, 'n'},
					   {"offset", required_argument, 0, 'o'},
					   {"qd", required_argument, 0, 'q'},
					   {"direct", no_argument, 0, 'D'},
					   {"fua", no_argument, 0, 'F'},
					   {"duration", required_argument, 0, 't'},
					   {"stop-file", required_argument, 0, 'S'},
					   {"writes", required_argument, 0, 'w'},
					   {"drain", required_argument, 0, 'd'},
					   {"seed", required_argument, 0, 'r'},
					   {0, 0, 0, 0}};
	struct wo_opts o = {.bsize = 4096, .nblocks = 1024, .qd = 32, .drain = 60};
	uint64_t v;
	int c;

	if (argc < 2) {
		usage();
		return 2;
	}
	const char *cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o.state = optarg;
			break;
		case 'b':
			if (!parse_u64("--bs", optarg, &v))
				return 2;
			if (v < 512 || v % 512 || v > (1u << 20)) {
				fprintf(stderr,
					"write-order: --bs %s: a multiple of 512 up to 1 MiB\n",
					optarg);
				return 2;
			}
			o.bsize = (uint32_t)v;
			break;
		case 'n':
			if (!parse_u64("--blocks", optarg, &o.nblocks) || !o.nblocks)
				return 2;
			break;
		case 'o':
			if (!parse_u64("--offset", optarg, &o.offset))
				return 2;
			break;
		case 'q':
			if (!parse_u64("--qd", optarg, &v) || v < 1 || v > WO_MAX_QD) {
				fprintf(stderr, "write-order: --qd: 1 to %d\n", WO_MAX_QD);
				return 2;
			}
			o.qd = (unsigned)v;
			break;
		case 'D':
			o.direct = true;
			break;
		case 'F':
			o.fua = true;
			break;
		case 't':
			o.duration = atof(optarg);
			break;
		case 'S':
			o.stop_file = optarg;
			break;
		case 'w':
			if (!parse_u64("--writes", optarg, &o.writes))
				return 2;
			break;
		case 'd':
			o.drain = atof(optarg);
			break;
		case 'r':
			if (!parse_u64("--seed", optarg, &o.seed))
				return 2;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!o.state) {
		fprintf(stderr, "write-order: --state FILE is required\n");
		return 2;
	}
	if (strcmp(cmd, "stat") == 0)
		return cmd_stat(&o);
	if (optind != argc - 1) {
		usage();
		return 2;
	}
	o.target = argv[optind];
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(cmd, "write") == 0)
		return cmd_write(&o);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(&o);
	fprintf(stderr, "write-order: unknown command '%s'\n", cmd);
	usage();
	return 2;
}
