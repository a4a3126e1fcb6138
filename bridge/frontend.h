/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What presents a volume's LUN to the host: a frontend.  There are three,
 * each in its folder: the NBD socket export and the kernel NBD device
 * (nbd/nbd-frontend.c, nbd/nbd-kernel-frontend.c), and the ublk device
 * (ublk/ublk-frontend.c).  The volume (volume/) drives its frontend only
 * through this ops table, each callback marked required or optional, as
 * engines are driven through transport/engine.h; a frontend reaches its
 * volume through the lb_volume_* services in volume.h.
 *
 * A frontend runs on the volume's loop (a ublk frontend's queues run on
 * threads of their own, each with an engine of its own, opened through
 * the engine's ops).
 */
#ifndef LUNBRIDGE_FRONTEND_H
#define LUNBRIDGE_FRONTEND_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "export-uri.h"
#include "io-stats.h"
#include "lb-err.h"

struct lb_volume;
struct lb_frontend;

struct lb_frontend_stats {
	struct lb_io_stats io;
	uint32_t connections; /* NBD connections, sockets included */
	unsigned sessions;    /* engines of the frontend's own (ublk queues) */
};

struct lb_frontend_ops {
	const char *name; /* "nbd", "nbd-kernel", "ublk" */
	/* required: make the export or device serve v's LUN (its first
	 * engine's); on failure, nothing it made is left but what stop and
	 * free take down (*ret may be set for them) */
	int (*start)(struct lb_volume *v, struct lb_frontend **ret, lb_err *err);
	/* required: stop serving (the device goes, or is let go) and wait,
	 * up to the volume's teardown deadline, until no request is in
	 * flight; false: not clean (the volume's memory must then stay) */
	bool (*stop)(struct lb_frontend *f);
	/* required: release it, after a clean stop; NULL ok */
	void (*free)(struct lb_frontend *f);
	/* required: where it serves, for the log and `lunbridge list`: the
	 * export's URI, or the device's path */
	const char *(*where)(const struct lb_frontend *f);
	/* required: what `list` shows as the export: the URI, "nbd", "ublk" */
	const char *(*export_name)(const struct lb_frontend *f);
	/* optional: the block device it serves now ("/dev/ublkb0"), NULL
	 * when none (yet, or any more); udev names it by-lunbridge/NAME */
	const char *(*device)(const struct lb_frontend *f);
	/* optional: counters for `lunbridge list` */
	void (*stats)(const struct lb_frontend *f, struct lb_frontend_stats *ret);
	/* optional: fields of its own for `list`'s stats object */
	void (*stats_json)(const struct lb_frontend *f, struct json_object *stats);
};

extern const struct lb_frontend_ops lb_frontend_nbd;	    /* nbd/nbd-frontend.c */
extern const struct lb_frontend_ops lb_frontend_nbd_kernel; /* nbd/nbd-kernel-frontend.c */
extern const struct lb_frontend_ops lb_frontend_ublk;	    /* ublk/ublk-frontend.c */

/* The frontend for an export kind (LB_EXPORT_*): the one place that maps
 * an --export to its frontend.  NULL for an unknown kind. */
const struct lb_frontend_ops *lb_frontend_for(enum lb_export_kind kind);

#endif
