/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runtime state of the bridges on this host, one set of files per volume
 * under the run directory (/run/lunbridge, or $LUNBRIDGE_RUN_DIR):
 *
 *   NAME.lock   held (flock) by the volume's bridge for its whole life:
 *               the name is taken while it is held; holds the pid
 *               (lb_runtime_pid); liveness is the lock, never the pid
 *   NAME.json   what the volume is (written atomically when it changes)
 *   NAME.sock   the bridge's control socket (status, detach)
 *
 * A file whose lock is not held is left over from a bridge that died and
 * is ignored (and replaced by the next attach of that name).
 */
#ifndef LUNBRIDGE_RUNTIME_H
#define LUNBRIDGE_RUNTIME_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb-err.h"

#define LB_RUN_DIR_DEFAULT "/run/lunbridge"
#define LB_VOLUME_NAME_MAX 64

/* $LUNBRIDGE_RUN_DIR, else /run/lunbridge. */
const char *lb_runtime_dir(void);

/* This process's pid as the outermost PID namespace it can see numbers
 * it: the first of /proc/self/status's NSpid, i.e. the pid in the
 * namespace of the /proc mounted here (a bridge started by `unshare
 * --pid --fork` is pid 1 to getpid() but has its host pid there); else
 * getpid().  Under a /proc of its own namespace (--mount-proc) that is
 * getpid() again: nothing inside can know the pid outside. */
long lb_runtime_pid(void);

/* Names are 1-64 of [A-Za-z0-9_.:-], not starting with '.' or '-'. */
int lb_runtime_name_check(const char *name, lb_err *err);
/* One character a name may hold: [A-Za-z0-9_.:-]. */
bool lb_runtime_name_char(char c);

/* dir/NAME.suffix; -ENAMETOOLONG if it does not fit. */
int lb_runtime_path(const char *dir, const char *name, const char *suffix, char *buf, size_t len);

struct lb_runtime_lock {
	int fd;
	char dir[PATH_MAX];
	char name[LB_VOLUME_NAME_MAX + 1];
	/* NAME.json a dead bridge of this name left (NULL: none), so that its
	 * successor can take back what it served */
	char *stale;
	/* stale is obsolete: this bridge wrote its own NAME.json, or detach
	 * let the dead bridge's device go */
	bool replaced;
};

/* Take the volume's name (creating dir, mode 0700, if need be): -EEXIST
 * with "volume 'NAME' is already attached (pid N)" when a live bridge
 * holds it.  A dead bridge's socket is removed; its state is kept in
 * ret->stale and, until this bridge writes its own, as NAME.stale. */
int lb_runtime_lock(const char *dir, const char *name, struct lb_runtime_lock *ret, lb_err *err);
/* Remove the volume's files and give the name back; a dead bridge's
 * state that this one never replaced becomes NAME.json again. */
void lb_runtime_unlock(struct lb_runtime_lock *l);

/* Replace NAME.json with text (temporary file, fsync, rename). */
int lb_runtime_write_state(struct lb_runtime_lock *l, const char *text, lb_err *err);
/* Replace PATH with text the same way (PATH.tmp, mode 0600). */
int lb_runtime_write_file(const char *path, const char *text, lb_err *err);

/* The names of live volumes (their lock is held), sorted.  Free each
 * name and the array. */
int lb_runtime_list(const char *dir, char ***ret, size_t *ret_n, lb_err *err);
/* The names of every volume with a NAME.json, live or left by a bridge
 * that died, sorted. */
int lb_runtime_list_states(const char *dir, char ***ret, size_t *ret_n, lb_err *err);
/* Is NAME's lock held (its bridge alive)? */
bool lb_runtime_live(const char *dir, const char *name);
/* NAME.json of a live volume, read whole: -ENOENT when there is none. */
int lb_runtime_read_state(const char *dir, const char *name, char **ret, lb_err *err);
/* NAME.json whether or not its bridge lives: -ENOENT when there is none,
 * -EINVAL when it is not a regular file of at most 64 KiB. */
int lb_runtime_read_state_file(const char *dir, const char *name, char **ret, lb_err *err);

/* Wait until the bridge holding NAME.lock is gone (its lock released),
 * up to timeout_ms: 0, -ETIMEDOUT, or -ENOENT if there is no lock file.
 * Blocks on the lock itself, no polling. */
int lb_runtime_wait_released(const char *dir, const char *name, uint32_t timeout_ms);

/* Send one command line to a live volume's control socket and read its
 * whole answer (until it closes).  -ETIMEDOUT after timeout_ms. */
int lb_runtime_request(const char *dir, const char *name, const char *cmd, uint32_t timeout_ms,
		       char **ret, lb_err *err);

#endif
