/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hardening for a process that serves a block device the host may write
 * back through: memory reclaim can need our I/O to complete, so we must not
 * wait on reclaim ourselves (PR_SET_IO_FLUSHER), must not page (mlockall)
 * and must not be the OOM killer's choice (oom_score_adj -1000).
 *
 * Every step needs privileges (CAP_SYS_RESOURCE, CAP_IPC_LOCK or a large
 * RLIMIT_MEMLOCK).  None is fatal here: each failure is reported through
 * warn() as one line and counted; the caller decides.
 */
#ifndef LUNBRIDGE_HARDEN_H
#define LUNBRIDGE_HARDEN_H

typedef void lb_harden_warn_fn(void *arg, const char *line);

#define LB_HARDEN_OOM_SCORE_ADJ_PATH "/proc/self/oom_score_adj"
#define LB_HARDEN_OOM_SCORE_ADJ_MIN (-1000)

/* All three steps; returns how many failed (0..3).  warn may be NULL. */
int lb_harden_for_block_device(lb_harden_warn_fn *warn, void *arg);

/* The steps one by one: 0, or -errno after one line through warn. */
int lb_harden_io_flusher(lb_harden_warn_fn *warn, void *arg);
int lb_harden_lock_memory(lb_harden_warn_fn *warn, void *arg);
/* path: NULL for LB_HARDEN_OOM_SCORE_ADJ_PATH (tests give a file). */
int lb_harden_oom_score_adj(const char *path, int value, lb_harden_warn_fn *warn, void *arg);

#endif
