/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test driver for our initiator's data path: moves a file to or from a LUN
 * with many commands in flight, through the same session API the bridge
 * uses.  Not installed.
 *
 *   lb-iscsi-io -p HOST:PORT -T IQN -l LUN [options] write FILE
 *   lb-iscsi-io ... read FILE            (the LUN's first size(FILE) bytes,
 *                                         or --length)
 *   lb-iscsi-io ... workload FILE STOPFILE PROGRESSFILE
 *       passes of: write FILE in random order, read back and compare,
 *       until STOPFILE exists; appends "pass N" to PROGRESSFILE after each.
 *
 * Options: --qd N (16), --bs BYTES (65536), --header-digest, --data-digest,
 * --replacement-timeout SECONDS (120), --max-recv-dsl BYTES (our
 * MaxRecvDataSegmentLength), --iov N (split each buffer into N
 * iovecs, 1), --length BYTES, --bind-addr IP (the source address).  CHAP from $LUNBRIDGE_CHAP_USER
 * and $LUNBRIDGE_CHAP_SECRET.  Prints session counters at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine-iscsi.h"
#include "inventory.h"
#include "loop.h"
#include "route.h"
#include "scsi.h"
#include "session.h"

struct slot {
	struct lb_io io;
	struct iovec iov[ISCSI_CMD_MAX_IOV];
	uint8_t *buf;
	uint64_t off;
	uint32_t len;
	bool busy;
};

struct job {
	struct iscsi_session *s;
	struct lb_engine *eng;
	uint32_t lun, block;
	bool write;
	uint8_t *image; /* the file's bytes (write source, or read target) */
	uint64_t length;
	uint32_t bs;
	unsigned qd, iovn;
	uint64_t *order; /* chunk indexes */
	uint64_t n_chunks, next, done;
	int error;
	bool finished;
	struct slot *slots;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lb-iscsi-io: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void slot_submit(struct job *j, struct slot *sl);

static void on_done(struct lb_io *io, int res)
{
	struct slot *sl = (struct slot *)io;
	struct job *j = io->arg;

	sl->busy = false;
	if (res < 0 || (uint32_t)res != sl->len) {
		if (!j->error)
			j->error = res < 0 ? res : -EIO;
		fprintf(stderr, "lb-iscsi-io: %s at %" PRIu64 " failed: %s\n",
			j->write ? "write" : "read", sl->off, res < 0 ? strerror(-res) : "short");
	} else if (!j->write) {
		memcpy(j->image + sl->off, sl->buf, sl->len);
	}
	j->done++;
	if (!j->error && j->next < j->n_chunks)
		slot_submit(j, sl);
	if (j->done == j->n_chunks || (j->error && j->done == j->next))
		j->finished = true;
}

static void slot_submit(struct job *j, struct slot *sl)
{
	uint64_t chunk = j->order[j->next++];
	uint64_t off = chunk * j->bs;
	uint32_t len = (uint32_t)(j->length - off < j->bs ? j->length - off : j->bs);
	uint32_t piece = (len / j->iovn + j->block - 1) / j->block * j->block;
	unsigned n = 0;

	sl->off = off;
	sl->len = len;
	if (j->write)
		memcpy(sl->buf, j->image + off, len);
	for (uint32_t o = 0; o < len; o += piece) {
		sl->iov[n].iov_base = sl->buf + o;
		sl->iov[n].iov_len = len - o < piece ? len - o : piece;
		n++;
	}
	memset(&sl->io, 0, sizeof(sl->io));
	sl->io.op = j->write ? LB_IO_WRITE : LB_IO_READ;
	sl->io.offset = off;
	sl->io.length = len;
	sl->io.iov = sl->iov;
	sl->io.iovcnt = n;
	sl->io.done = on_done;
	sl->io.arg = j;
	sl->busy = true;
	if (lb_engine_submit(j->eng, &sl->io) < 0) {
		sl->busy = false;
		j->error = -EIO;
		j->done++;
		if (j->done == j->next)
			j->finished = true;
	}
}

static int run_job(struct job *j, bool shuffle)
{
	j->n_chunks = (j->length + j->bs - 1) / j->bs;
	j->order = calloc(j->n_chunks ? j->n_chunks : 1, sizeof(*j->order));
	for (uint64_t i = 0; i < j->n_chunks; i++)
		j->order[i] = i;
	if (shuffle)
		for (uint64_t i = j->n_chunks; i > 1; i--) {
			uint64_t k = (uint64_t)random() % i, t = j->order[i - 1];

			j->order[i - 1] = j->order[k];
			j->order[k] = t;
		}
	j->next = j->done = 0;
	j->error = 0;
	j->finished = j->n_chunks == 0;
	for (unsigned i = 0; i < j->qd && j->next < j->n_chunks; i++)
		slot_submit(j, &j->slots[i]);
	/* bounded by the replacement timeout inside the session */
	while (!j->finished)
		if (iscsi_session_wait(j->s, &j->finished, 3600 * 1000) < 0)
			break;
	free(j->order);
	return j->error;
}

static void log_line(void *arg, const char *line)
{
	fprintf(stderr, "lb-iscsi-io: %s\n", line);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"qd", required_argument, NULL, 'q'},
		{"bs", required_argument, NULL, 'b'},
		{"iov", required_argument, NULL, 'v'},
		{"length", required_argument, NULL, 'L'},
		{"header-digest", no_argument, NULL, 'H'},
		{"data-digest", no_argument, NULL, 'D'},
		{"replacement-timeout", required_argument, NULL, 'R'},
		{"max-recv-dsl", required_argument, NULL, 'M'},
		{"bind-addr", required_argument, NULL, 'B'},
		{NULL, 0, NULL, 0},
	};
	struct iscsi_session_config cfg;
	struct iscsi_chap_creds creds = {0};
	struct lb_volume_info info;
	iface_route_portal portal;
	struct lb_loop loop;
	struct job j = {.qd = 16, .bs = 65536, .iovn = 1};
	const char *target = NULL, *mode, *file;
	char iname[] = "iqn.2026-11.invalid.lunbridge:test-io";
	uint64_t length = 0;
	uint32_t replacement = 120;
	lb_err err = {{0}};
	int c, r, fd;

	iscsi_session_config_init(&cfg);
	while ((c = getopt_long(argc, argv, "p:T:l:", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (iface_route_parse_portal(optarg, &portal, &err) < 0)
				die("bad portal %s", optarg);
			break;
		case 'T':
			target = optarg;
			break;
		case 'l':
			j.lun = (uint32_t)atoi(optarg);
			break;
		case 'q':
			j.qd = (unsigned)atoi(optarg);
			break;
		case 'b':
			j.bs = (uint32_t)atoi(optarg);
			break;
		case 'v':
			j.iovn = (unsigned)atoi(optarg);
			break;
		case 'L':
			length = strtoull(optarg, NULL, 0);
			break;
		case 'H':
			cfg.want.header_digest = true;
			break;
		case 'D':
			cfg.want.data_digest = true;
			break;
		case 'R':
			replacement = (uint32_t)atoi(optarg);
			break;
		case 'M':
			cfg.want.max_recv_dsl = (uint32_t)atoi(optarg);
			break;
		case 'B':
			cfg.bind_addr = optarg;
			break;
		default:
			die("bad option");
		}
	}
	if (!target || argc - optind < 2 || j.qd == 0 || j.qd > 256 || j.iovn == 0 ||
	    j.iovn > ISCSI_CMD_MAX_IOV)
		die("usage: lb-iscsi-io -p PORTAL -T IQN -l LUN [--qd N] [--bs B] "
		    "write|read|workload FILE ...");
	mode = argv[optind];
	file = argv[optind + 1];

	if (getenv("LUNBRIDGE_CHAP_USER")) {
		creds.name = getenv("LUNBRIDGE_CHAP_USER");
		creds.secret = (const uint8_t *)getenv("LUNBRIDGE_CHAP_SECRET");
		creds.secret_len = creds.secret ? strlen((const char *)creds.secret) : 0;
		cfg.chap = &creds;
		/* tgtd takes CHAP_A=7 for SHA-1: offer MD5 only (see lib-tgtd.sh) */
		cfg.chap_algs = ISCSI_CHAP_ALG_BIT(ISCSI_CHAP_MD5);
	}
	if (lb_loop_init(&loop, 512, 0) < 0)
		die("no io_uring");
	cfg.host = portal.addr_str;
	cfg.port = portal.port;
	cfg.target_name = target;
	cfg.initiator_name = iname;
	cfg.replacement_timeout_ms = replacement * 1000;
	cfg.max_tasks = j.qd + 4;
	cfg.nop_interval_ms = 1000;
	cfg.nop_timeout_ms = 2000;
	r = iscsi_session_new(&loop, &cfg, &j.s, &err);
	if (r == 0)
		r = iscsi_session_login_sync(j.s, &err);
	if (r < 0)
		die("%s", err.msg);
	iscsi_session_set_log(j.s, log_line, NULL);
	{
		const struct iscsi_params *p = iscsi_session_params(j.s);

		printf("HeaderDigest=%s DataDigest=%s InitialR2T=%s ImmediateData=%s "
		       "MaxXmitDataSegmentLength=%u MaxBurstLength=%u FirstBurstLength=%u\n",
		       p->header_digest ? "CRC32C" : "None", p->data_digest ? "CRC32C" : "None",
		       p->initial_r2t ? "Yes" : "No", p->immediate_data ? "Yes" : "No",
		       p->max_xmit_dsl, p->max_burst, p->first_burst);
		fflush(stdout);
	}
	r = lb_engine_iscsi_new(&loop, j.s, NULL, j.lun, &j.eng, &err);
	if (r < 0)
		die("%s", err.msg);
	info = j.eng->info;
	j.block = info.block_size;
	if (j.bs % j.block)
		die("--bs is not a multiple of the block size");
	j.slots = calloc(j.qd, sizeof(*j.slots));
	for (unsigned i = 0; i < j.qd; i++)
		j.slots[i].buf = aligned_alloc(4096, j.bs);

	if (strcmp(mode, "read") == 0) {
		j.length = length ? length : info.size;
		j.image = calloc(1, j.length);
		j.write = false;
		r = run_job(&j, false);
		if (r == 0) {
			fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || write(fd, j.image, j.length) != (ssize_t)j.length)
				die("cannot write %s", file);
			close(fd);
		}
	} else {
		struct stat st;

		fd = open(file, O_RDONLY);
		if (fd < 0 || fstat(fd, &st) < 0)
			die("cannot open %s", file);
		j.length = (uint64_t)st.st_size;
		if (j.length % j.block || j.length > info.size)
			die("%s: size is not a multiple of the block size or exceeds the LUN",
			    file);
		j.image = malloc(j.length);
		if (read(fd, j.image, j.length) != (ssize_t)j.length)
			die("cannot read %s", file);
		close(fd);
		if (strcmp(mode, "write") == 0) {
			j.write = true;
			r = run_job(&j, true);
		} else if (strcmp(mode, "workload") == 0 && argc - optind >= 4) {
			uint8_t *copy = malloc(j.length);
			unsigned pass = 0;

			srandom((unsigned)getpid());
			memcpy(copy, j.image, j.length);
			r = 0;
			while (r == 0 && access(argv[optind + 2], F_OK) != 0) {
				FILE *p;

				j.write = true;
				r = run_job(&j, true);
				if (r)
					break;
				memset(j.image, 0, j.length);
				j.write = false;
				r = run_job(&j, true);
				if (r)
					break;
				if (memcmp(j.image, copy, j.length) != 0) {
					fprintf(stderr, "lb-iscsi-io: pass %u: data mismatch\n",
						pass);
					r = -EILSEQ;
					break;
				}
				memcpy(j.image, copy, j.length);
				p = fopen(argv[optind + 3], "a");
				if (p) {
					fprintf(p, "pass %u\n", ++pass);
					fclose(p);
				}
			}
			free(copy);
		} else {
			die("unknown mode %s", mode);
		}
	}
	{
		struct iscsi_session_stats st;

		iscsi_session_get_stats(j.s, &st);
		printf("cmds=%" PRIu64 " reconnects=%" PRIu64 " retries=%" PRIu64
		       " timeouts=%" PRIu64 " r2ts=%" PRIu64 " data_out_pdus=%" PRIu64
		       " data_in_pdus=%" PRIu64 "\n",
		       st.cmds, st.reconnects, st.retries, st.timeouts, st.r2ts, st.data_out_pdus,
		       st.data_in_pdus);
	}
	if (iscsi_session_get_state(j.s) == ISCSI_SESSION_FULL_FEATURE)
		(void)iscsi_session_logout_sync(j.s);
	lb_engine_free(j.eng); /* and its session */
	lb_loop_exit(&loop);
	for (unsigned i = 0; i < j.qd; i++)
		free(j.slots[i].buf);
	free(j.slots);
	free(j.image);
	if (r < 0) {
		fprintf(stderr, "lb-iscsi-io: %s failed: %s\n", mode, strerror(-r));
		return 1;
	}
	return 0;
}
