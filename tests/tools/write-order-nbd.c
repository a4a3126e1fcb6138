/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The write-order checker's front door for an NBD export: a small client
 * of its own (fixed newstyle, NBD_OPT_GO, simple replies), so that the
 * checker needs no libnbd.  nbd://HOST[:PORT][/NAME] or
 * nbd+unix:///NAME?socket=PATH.  Requests are pipelined on one
 * non-blocking socket; when the connection dies, every request it held
 * completes with -ECONNRESET (unacknowledged: it may or may not have
 * reached the server) and the caller may connect again.
 */
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nbd-proto.h"
#include "write-order.h"

struct nbd_slot {
	struct nbd_request req; /* big-endian, as sent */
	void *buf;
	uint32_t len;
	uint32_t sent; /* bytes of req + payload sent */
	bool busy, write;
};

struct wo_dev {
	int fd;
	bool dead, fua;
	uint64_t size;
	uint16_t eflags;
	struct nbd_slot slots[WO_MAX_QD];
	unsigned sendq[WO_MAX_QD], sq_head, sq_len;
	/* the reply being read: its header, then a READ's payload */
	struct nbd_simple_reply rep;
	uint32_t rep_got, data_got;
	int data_slot; /* -1: reading a header */
	/* completions parsed but not handed out yet */
	unsigned doneq[WO_MAX_QD], dq_head, dq_len;
	int done_res[WO_MAX_QD];
};

static int nbd_connect_uri(const char *uri)
{
	char host[256] = "", port[16] = "10809", path[108] = "";
	const char *p;
	int fd = -1, r;

	if (strncmp(uri, "nbd+unix://", 11) == 0) {
		p = strstr(uri, "socket=");
		if (!p || strlen(p + 7) >= sizeof(path))
			return -EINVAL;
		strcpy(path, p + 7);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		memcpy(sa.sun_path, path, strlen(path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		return fd;
	}
	p = uri + 6; /* after nbd:// */
	size_t hl = strcspn(p, ":/");
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, p, hl);
	p += hl;
	if (*p == ':') {
		size_t pl = strcspn(p + 1, "/");
		if (pl == 0 || pl >= sizeof(port))
			return -EINVAL;
		memcpy(port, p + 1, pl);
		port[pl] = 0;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -EHOSTUNREACH;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return r;
	}
	freeaddrinfo(ai);
	return fd;
}

/* the export name: the path after the authority, up to '?' */
static void nbd_export_name(const char *uri, char *name, size_t n)
{
	const char *p = strstr(uri, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	size_t l = p ? strcspn(p + 1, "?") : 0;
	if (l >= n)
		l = n - 1;
	if (p)
		memcpy(name, p + 1, l);
	name[l] = 0;
}

static int full_io(int fd, void *buf, size_t len, bool wr)
{
	uint8_t *b = buf;
	while (len) {
		ssize_t r = wr ? send(fd, b, len, MSG_NOSIGNAL) : recv(fd, b, len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ECONNRESET;
		b += r;
		len -= (size_t)r;
	}
	return 0;
}

/* fixed newstyle negotiation with NBD_OPT_GO; blocking, bounded by SO_RCVTIMEO */
static int nbd_handshake(struct wo_dev *d, const char *name)
{
	struct nbd_greeting g;
	struct nbd_option o;
	struct nbd_option_reply rep;
	uint8_t data[NBD_MAX_OPTION_DATA];
	uint32_t nl = (uint32_t)strlen(name), cflags;
	int r;

	if ((r = full_io(d->fd, &g, sizeof(g), false)) < 0)
		return r;
	if (be64toh(g.nbdmagic) != NBD_MAGIC || be64toh(g.version) != NBD_OPTS_MAGIC ||
	    !(be16toh(g.gflags) & NBD_FLAG_FIXED_NEWSTYLE))
		return -EPROTO;
	cflags = htobe32(NBD_FLAG_C_FIXED_NEWSTYLE |
			 (be16toh(g.gflags) & NBD_FLAG_NO_ZEROES ? NBD_FLAG_C_NO_ZEROES : 0));
	o = (struct nbd_option){htobe64(NBD_OPTS_MAGIC), htobe32(NBD_OPT_GO), htobe32(nl + 6)};
	uint32_t nlbe = htobe32(nl);
	uint16_t nreq = 0;
	if ((r = full_io(d->fd, &cflags, 4, true)) < 0 ||
	    (r = full_io(d->fd, &o, sizeof(o), true)) < 0 ||
	    (r = full_io(d->fd, &nlbe, 4, true)) < 0 ||
	    (r = full_io(d->fd, (void *)name, nl, true)) < 0 ||
	    (r = full_io(d->fd, &nreq, 2, true)) < 0)
		return r;
	for (;;) {
		if ((r = full_io(d->fd, &rep, sizeof(rep), false)) < 0)
			return r;
		uint32_t len = be32toh(rep.len), type = be32toh(rep.reply);
		if (be64toh(rep.magic) != NBD_REP_MAGIC || len > sizeof(data))
			return -EPROTO;
		if ((r = full_io(d->fd, data, len, false)) < 0)
			return r;
		if (type & NBD_REP_FLAG_ERROR) {
			fprintf(stderr, "write-order: NBD_OPT_GO refused (reply 0x%x): %.*s\n",
				type, (int)len, (char *)data);
			return -ENOENT;
		}
		if (type == NBD_REP_INFO && len >= sizeof(struct nbd_info_export)) {
			struct nbd_info_export ie;
			memcpy(&ie, data, sizeof(ie));
			if (be16toh(ie.info) == NBD_INFO_EXPORT) {
				d->size = be64toh(ie.size);
				d->eflags = be16toh(ie.eflags);
			}
		}
		if (type == NBD_REP_ACK)
			return d->size ? 0 : -EPROTO;
	}
}

static int nbd_open(struct wo_dev **ret, const char *target, bool direct, bool fua, unsigned qd)
{
	struct timeval tv = {.tv_sec = 10};
	char name[NBD_MAX_STRING];
	struct wo_dev *d;
	int r;

	(void)direct;
	(void)qd;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fua = fua;
	d->data_slot = -1;
	nbd_export_name(target, name, sizeof(name));
	d->fd = nbd_connect_uri(target);
	if (d->fd < 0) {
		r = d->fd;
		goto fail;
	}
	(void)setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(d->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	r = nbd_handshake(d, name);
	if (r < 0)
		goto fail;
	*ret = d;
	return 0;
fail:
	fprintf(stderr, "write-order: %s: %s\n", target, strerror(-r));
	if (d->fd >= 0)
		close(d->fd);
	free(d);
	return r;
}

static void nbd_done(struct wo_dev *d, unsigned slot, int res)
{
	unsigned i = (d->dq_head + d->dq_len++) % WO_MAX_QD;
	d->doneq[i] = slot;
	d->done_res[i] = res;
	d->slots[slot].busy = false;
}

/* the connection is gone: every request it held ends unacknowledged */
static void nbd_die(struct wo_dev *d)
{
	if (d->dead)
		return;
	d->dead = true;
	for (unsigned s = 0; s < WO_MAX_QD; s++)
		if (d->slots[s].busy)
			nbd_done(d, s, -ECONNRESET);
	d->sq_len = 0;
}

static void nbd_flush_send(struct wo_dev *d)
{
	while (d->sq_len && !d->dead) {
		struct nbd_slot *s = &d->slots[d->sendq[d->sq_head]];
		uint32_t hl = sizeof(s->req), pl = s->write ? s->len : 0;
		struct iovec iov[2];
		int n = 0;
		if (s->sent < hl)
			iov[n++] = (struct iovec){(uint8_t *)&s->req + s->sent, hl - s->sent};
		if (pl) {
			uint32_t off = s->sent > hl ? s->sent - hl : 0;
			iov[n++] = (struct iovec){(uint8_t *)s->buf + off, pl - off};
		}
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t r = sendmsg(d->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			nbd_die(d);
			return;
		}
		s->sent += (uint32_t)r;
		if (s->sent == hl + pl) {
			d->sq_head = (d->sq_head + 1) % WO_MAX_QD;
			d->sq_len--;
		}
	}
}

static int nbd_submit(struct wo_dev *d, enum wo_op op, uint64_t off, void *buf, uint32_t len,
		      unsigned slot)
{
	struct nbd_slot *s;

	if (slot >= WO_MAX_QD || d->slots[slot].busy)
		return -EINVAL;
	s = &d->slots[slot];
	if (d->dead)
		return -ECONNRESET;
	*s = (struct nbd_slot){.buf = buf, .len = len, .busy = true, .write = op == WO_WRITE};
	s->req.magic = htobe32(NBD_REQUEST_MAGIC);
	s->req.flags = htobe16(op == WO_WRITE && d->fua ? NBD_CMD_FLAG_FUA : 0);
	s->req.type = htobe16(op == WO_WRITE ? NBD_CMD_WRITE : NBD_CMD_READ);
	s->req.handle = htobe64(slot);
	s->req.offset = htobe64(off);
	s->req.count = htobe32(len);
	d->sendq[(d->sq_head + d->sq_len++) % WO_MAX_QD] = slot;
	nbd_flush_send(d);
	return 0;
}

/* read what the socket has: reply headers and READ payloads */
static void nbd_recv(struct wo_dev *d)
{
	while (!d->dead) {
		ssize_t r;
		if (d->data_slot < 0) {
			r = recv(d->fd, (uint8_t *)&d->rep + d->rep_got,
				 sizeof(d->rep) - d->rep_got, MSG_DONTWAIT);
		} else {
			struct nbd_slot *s = &d->slots[d->data_slot];
			r = recv(d->fd, (uint8_t *)s->buf + d->data_got, s->len - d->data_got,
				 MSG_DONTWAIT);
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			nbd_die(d);
			return;
		}
		if (d->data_slot >= 0) {
			d->data_got += (uint32_t)r;
			struct nbd_slot *s = &d->slots[d->data_slot];
			if (d->data_got == s->len) {
				nbd_done(d, (unsigned)d->data_slot, (int)s->len);
				d->data_slot = -1;
			}
			continue;
		}
		d->rep_got += (uint32_t)r;
		if (d->rep_got < sizeof(d->rep))
			continue;
		d->rep_got = 0;
		uint64_t h = be64toh(d->rep.handle);
		uint32_t err = be32toh(d->rep.error);
		/* a reply we cannot place: the stream is lost */
		if (be32toh(d->rep.magic) != NBD_SIMPLE_REPLY_MAGIC || h >= WO_MAX_QD ||
		    !d->slots[h].busy) {
			fprintf(stderr, "write-order: NBD: bad reply (magic 0x%x, handle %llu)\n",
				be32toh(d->rep.magic), (unsigned long long)h);
			nbd_die(d);
			return;
		}
		if (err)
			nbd_done(d, (unsigned)h, -(int)err);
		else if (d->slots[h].write)
			nbd_done(d, (unsigned)h, (int)d->slots[h].len);
		else {
			d->data_slot = (int)h;
			d->data_got = 0;
		}
	}
}

static int nbd_reap(struct wo_dev *d, unsigned *slot, int *res, int timeout_ms)
{
	for (;;) {
		if (d->dq_len) {
			*slot = d->doneq[d->dq_head];
			*res = d->done_res[d->dq_head];
			d->dq_head = (d->dq_head + 1) % WO_MAX_QD;
			d->dq_len--;
			return 1;
		}
		if (d->dead)
			return -ECONNRESET;
		struct pollfd p = {.fd = d->fd, .events = POLLIN | (d->sq_len ? POLLOUT : 0)};
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			return 0;
		if (p.revents & POLLOUT)
			nbd_flush_send(d);
		if (p.revents & (POLLIN | POLLHUP | POLLERR))
			nbd_recv(d);
	}
}

static uint64_t nbd_size(struct wo_dev *d)
{
	return d->size;
}

static void nbd_close(struct wo_dev *d)
{
	if (!d)
		return;
	close(d->fd);
	free(d);
}

const struct wo_ops wo_nbd_ops = {
	.open = nbd_open,
	.submit = nbd_submit,
	.reap = nbd_reap,
	.size = nbd_size,
	.close = nbd_close,
	.reconnect = true,
};
