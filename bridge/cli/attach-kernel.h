/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `attach` through the open-iscsi engine: the iface's hardware checked,
 * the shared login (kernel-login.h), the LUN's SCSI disk found through
 * libudev, and the engine on it.  Used for offload and iSER ifaces, and
 * for tcp ones with --engine kernel.
 */
#ifndef LUNBRIDGE_CLI_ATTACH_KERNEL_H
#define LUNBRIDGE_CLI_ATTACH_KERNEL_H

#include "cli-session.h"
#include "engine.h"
#include "kernel-login.h"

struct cli_attach_kernel {
	struct lb_kernel_login_node node;
	struct lb_kernel_login login;
	struct lb_engine *engine; /* for the volume to take */
	char disk[64];		  /* "/dev/sdb" */
	bool counted;		  /* the login counts this volume */
	uint32_t timeout_ms;
};

/* Everything up to an open engine on cs->loop.  0, or -errno with err
 * set and nothing left behind (the login uncounted, logged out if it was
 * the only one). */
int cli_attach_kernel(const cli_session_opts *o, cli_session *cs, const char *volume,
		      struct cli_attach_kernel *ka, void (*log)(void *arg, const char *line),
		      void *log_arg, lb_err *err);

/* The volume is done: uncount it from the login (the last logs out). */
void cli_attach_kernel_release(struct cli_attach_kernel *ka, const char *volume,
			       void (*log)(void *arg, const char *line), void *log_arg);

#endif
