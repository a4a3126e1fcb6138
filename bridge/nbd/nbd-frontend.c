/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NBD socket export (nbd://, nbd+unix://): a frontend (frontend.h)
 * that serves the volume's LUN to NBD clients on a listening socket, and
 * what it shares with the kernel NBD frontend: the export's description
 * from the LUN, the server, a channel (an engine) per connection.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "nbd-frontend.h"
#include "nbd-proto.h"

static void export_desc(struct nbd_frontend *f)
{
	const struct lb_volume_config *cfg = lb_volume_config(f->v);
	const struct lb_volume_info *vi = &lb_volume_engine(f->v)->info;
	struct nbd_export_desc *x = &f->desc;
	uint16_t fl = NBD_FLAG_HAS_FLAGS | NBD_FLAG_CAN_MULTI_CONN;

	if (vi->read_only)
		fl |= NBD_FLAG_READ_ONLY;
	if (vi->flush)
		fl |= NBD_FLAG_SEND_FLUSH;
	if (vi->fua)
		fl |= NBD_FLAG_SEND_FUA;
	if (vi->discard && vi->max_discard >= vi->block_size)
		fl |= NBD_FLAG_SEND_TRIM;
	if (vi->write_zeroes && vi->max_write_zeroes >= vi->block_size)
		fl |= NBD_FLAG_SEND_WRITE_ZEROES;
	/* fast only where zeroes may be a hole (WRITE SAME with UNMAP) */
	if ((fl & NBD_FLAG_SEND_WRITE_ZEROES) && vi->write_zeroes_unmap)
		fl |= NBD_FLAG_SEND_FAST_ZERO;
	fl |= NBD_FLAG_SEND_CACHE; /* a hint, answered at once */
	snprintf(f->desc_text, sizeof(f->desc_text), "%s LUN %u (%s %s)", cfg->target, cfg->lun,
		 vi->vendor, vi->product);
	x->name = cfg->export->name;
	x->description = f->desc_text;
	x->size = vi->size;
	x->eflags = fl;
	x->min_block = vi->block_size;
	x->pref_block =
		vi->physical_block_size > vi->block_size ? vi->physical_block_size : vi->block_size;
	/* VPD 0xB0's optimal transfer granularity, where it is larger */
	if (vi->optimal_granularity > x->pref_block && vi->optimal_granularity <= NBD_MAX_PAYLOAD)
		x->pref_block = vi->optimal_granularity;
	if (x->pref_block < 4096 && 4096 % vi->block_size == 0)
		x->pref_block = 4096;
	x->max_block = NBD_MAX_PAYLOAD;
}

/* ---- a connection's engine: a channel of the volume ---- */

static void conn_ready(void *arg, struct lb_engine *e)
{
	nbd_conn_set_engine(arg, e);
}

static int conn_open(void *arg, struct nbd_conn *c)
{
	struct nbd_frontend *f = arg;
	struct lb_channel *ch;
	int r = lb_volume_channel_open(f->v, conn_ready, c, &ch);

	if (r < 0)
		return r;
	nbd_conn_set_priv(c, ch);
	return 0;
}

static void conn_close(void *arg, struct nbd_conn *c)
{
	lb_volume_channel_close(nbd_conn_get_priv(c));
}

static void conn_cancel(void *arg, struct nbd_conn *c)
{
	lb_volume_channel_cancel(nbd_conn_get_priv(c));
}

static void server_log(void *arg, const char *line)
{
	struct nbd_frontend *f = arg;

	lb_volume_log(f->v, "%s", line);
}

static const struct nbd_server_ops server_ops = {
	.conn_open = conn_open,
	.conn_close = conn_close,
	.conn_cancel = conn_cancel,
	.log = server_log,
};

/* ---- what both NBD frontends share ---- */

int nbd_frontend_init(struct nbd_frontend *f, struct lb_volume *v, lb_err *err)
{
	int r;

	f->v = v;
	f->nbd_index = -1;
	export_desc(f);
	r = nbd_server_new(lb_volume_loop(v), &f->desc, &server_ops, f, &f->srv);
	if (r < 0)
		return lb_err_set(err, r, "out of memory");
	return 0;
}

static bool server_idle(void *arg)
{
	struct nbd_frontend *f = arg;

	return nbd_server_idle(f->srv);
}

bool nbd_frontend_drain(struct nbd_frontend *f)
{
	if (!f->srv)
		return true;
	nbd_server_shutdown(f->srv);
	if (f->socket_bound) /* never another server's socket */
		(void)unlink(lb_volume_config(f->v)->export->socket_path);
	if (!lb_volume_run_until(f->v, server_idle, f, LB_VOLUME_TEARDOWN_TIMEOUT_MS)) {
		lb_volume_log(f->v, "requests still in flight after %u s: giving up on them",
			      LB_VOLUME_TEARDOWN_TIMEOUT_MS / 1000);
		return false;
	}
	return true;
}

void nbd_frontend_free(struct lb_frontend *fe)
{
	struct nbd_frontend *f = (struct nbd_frontend *)fe;

	if (!f)
		return;
	if (f->srv)
		nbd_server_free(f->srv);
	free(f);
}

const char *nbd_frontend_where(const struct lb_frontend *fe)
{
	return ((const struct nbd_frontend *)fe)->where;
}

void nbd_frontend_stats(const struct lb_frontend *fe, struct lb_frontend_stats *ret)
{
	const struct nbd_frontend *f = (const struct nbd_frontend *)fe;
	struct nbd_server_stats ns = {0};

	if (f->srv)
		nbd_server_get_stats(f->srv, &ns);
	ret->io = ns.io;
	ret->connections = ns.connections;
}

/* ---- the socket export ---- */

static int socket_start(struct lb_volume *v, struct lb_frontend **ret, lb_err *err)
{
	const struct lb_volume_config *cfg = lb_volume_config(v);
	const struct lb_export *e = cfg->export;
	struct nbd_frontend *f = calloc(1, sizeof(*f));
	int fd = -1, r;

	if (!f)
		return lb_err_set(err, ENOMEM, "out of memory");
	*ret = (struct lb_frontend *)f;
	r = nbd_frontend_init(f, v, err);
	if (r < 0)
		return r;
	if (e->kind == LB_EXPORT_NBD_UNIX)
		r = lb_listen_unix(e->socket_path, &fd, err);
	else
		r = lb_listen_tcp(e->host, e->port, &fd, err);
	if (r < 0)
		return r;
	f->socket_bound = e->kind == LB_EXPORT_NBD_UNIX;
	if (f->socket_bound && cfg->socket_group_set) {
		r = lb_listen_unix_group(e->socket_path, cfg->socket_gid, err);
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	if (cfg->tls)
		nbd_server_set_tls(f->srv, cfg->tls);
	r = nbd_server_listen(f->srv, fd);
	if (r < 0) {
		close(fd);
		return lb_err_set(err, r, "cannot accept connections: %s", strerror(-r));
	}
	if (lb_export_format(e, f->where, sizeof(f->where)) < 0)
		snprintf(f->where, sizeof(f->where), "nbd");
	return 0;
}

/* `list --json`: stats.tls, the export's TLS and who does its records */
static void socket_stats_json(const struct lb_frontend *fe, struct json_object *st)
{
	const struct nbd_frontend *f = (const struct nbd_frontend *)fe;
	struct nbd_tls *tls = lb_volume_config(f->v)->tls;
	struct nbd_server_stats ns = {0};
	struct json_object *o;

	if (!tls) /* no TLS: no stats.tls; the counters as they always were */
		return;
	o = json_object_new_object();
	if (f->srv)
		nbd_server_get_stats(f->srv, &ns);
	json_object_object_add(o, "mode",
			       json_object_new_string(nbd_tls_mode_name(nbd_tls_mode(tls))));
	json_object_object_add(o, "auth", json_object_new_string(nbd_tls_auth_name(tls)));
	json_object_object_add(o, "verify_peer", json_object_new_boolean(nbd_tls_verify_peer(tls)));
	json_object_object_add(o, "records",
			       json_object_new_string(nbd_tls_records_name(ns.tls_records)));
	json_object_object_add(o, "handshakes", json_object_new_uint64(ns.tls_handshakes));
	json_object_object_add(o, "handshake_failures", json_object_new_uint64(ns.tls_failures));
	json_object_object_add(st, "tls", o);
}

static bool socket_stop(struct lb_frontend *fe)
{
	return nbd_frontend_drain((struct nbd_frontend *)fe);
}

const struct lb_frontend_ops lb_frontend_nbd = {
	.name = "nbd",
	.start = socket_start,
	.stop = socket_stop,
	.free = nbd_frontend_free,
	.where = nbd_frontend_where,
	.export_name = nbd_frontend_where, /* the URI */
	.stats = nbd_frontend_stats,
	.stats_json = socket_stats_json,
};
