/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the two NBD frontends (nbd-frontend.c: the socket export,
 * nbd-kernel-frontend.c: the kernel's /dev/nbdN): both serve the volume
 * through one NBD server, a connection per client, each connection on an
 * engine of the volume's channels.
 */
#ifndef LUNBRIDGE_NBD_FRONTEND_H
#define LUNBRIDGE_NBD_FRONTEND_H

#include <stdbool.h>

#include "frontend.h"
#include "nbd-server.h"
#include "volume.h"

struct nbd_frontend {
	struct lb_volume *v;
	struct nbd_server *srv;
	struct nbd_export_desc desc;
	char desc_text[160];
	char where[160];   /* the URI, or /dev/nbdN */
	bool socket_bound; /* socket export: we made its Unix socket, ours to remove */
	int nbd_index;	   /* kernel NBD: its device; -1: none */
};

/* Describe the export from the volume's LUN and make its server. */
int nbd_frontend_init(struct nbd_frontend *f, struct lb_volume *v, lb_err *err);
/* Stop the server and wait until nothing is in flight; false: gave up. */
bool nbd_frontend_drain(struct nbd_frontend *f);
void nbd_frontend_free(struct lb_frontend *fe);
const char *nbd_frontend_where(const struct lb_frontend *fe);
void nbd_frontend_stats(const struct lb_frontend *fe, struct lb_frontend_stats *ret);

#endif
