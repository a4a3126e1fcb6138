/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stable names for a volume's device (packaging/udev/60-lunbridge.rules):
 * /dev/disk/by-lunbridge/NAME and /dev/disk/by-id/lunbridge-ID, where ID
 * is the LUN's VPD 0x83 designator.
 *
 * udev runs `lunbridge udev KERNEL` for every ublkbN and nbdN event; it
 * finds the volume whose state (NAME.json in the run directory) names
 * /dev/KERNEL and prints its name and id as udev properties.  A bridge
 * makes udev look again whenever its device changes hands (serving,
 * taken back after a crash, an NBD device let go) with a synthetic
 * "change" uevent, and waits, on its own loop, until udev has handled it:
 * when a bridge says it is ready, the links are there.
 */
#ifndef LUNBRIDGE_DEVLINK_H
#define LUNBRIDGE_DEVLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb-err.h"
#include "loop.h"

/* "lunbridge-" + ID + "-partNNN" must stay a file name (255 bytes) */
#define LB_DEVLINK_ID_MAX 200

struct lb_devlink_props {
	char name[65];
	char id[LB_DEVLINK_ID_MAX + 1]; /* "" when the LUN has none */
};

/* Does the state text (NAME.json) say its bridge serves /dev/sysname?
 * 1 and *ret filled, 0 when it does not (or names no device), -EINVAL
 * when the text is not such a state. */
int lb_devlink_match(const char *state, const char *sysname, struct lb_devlink_props *ret);

/* The volume serving /dev/sysname among the state files in dir: a live
 * bridge's, else one a dead bridge left whose device still waits for its
 * successor (an NBD device still bound to the volume, a ublk device still
 * there).  The state's name must be its file's and a valid volume name.
 * 1 and *ret, 0 for none, -errno when dir cannot be read. */
int lb_devlink_find(const char *dir, const char *sysname, struct lb_devlink_props *ret,
		    lb_err *err);

/* An id as a file name may carry it: every byte outside [A-Za-z0-9._:-]
 * becomes '_' (so no '/', no space, no ".."-only name can come from a
 * target's answer); truncated to fit len (the props' id: 200 bytes). */
void lb_devlink_sanitize(const char *in, char *out, size_t len);

/* Is sysname a kernel block device name (1-32 of [A-Za-z0-9_.-], not
 * "." or "..")? */
bool lb_devlink_sysname_ok(const char *sysname);

/* Ask udev to look at /dev/sysname and its partitions again: a "change"
 * uevent with its own UUID.  When udevd runs, *ret watches for udev's
 * answer on loop (lb_devlink_handled() turns true once udev has handled
 * the events of the disk and of its partitions, up to 64: their links are
 * made or dropped); else *ret is NULL and
 * there is nothing to wait for.  -errno when the event could not be sent.
 * The loop must run for the answer to come: it also carries the device's
 * own I/O, which udev's probes need. */
struct lb_devlink_wait;
int lb_devlink_announce(struct lb_loop *loop, const char *sysname, struct lb_devlink_wait **ret,
			lb_err *err);
bool lb_devlink_handled(struct lb_devlink_wait *w);
/* Stop watching (NULL: nothing).  A watch still armed is cancelled and
 * freed by its completion. */
void lb_devlink_wait_free(struct lb_devlink_wait *w);

#endif
