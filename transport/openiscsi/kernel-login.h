/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The open-iscsi login under volumes of the kernel engine: one kernel
 * session per target, portal and iface, shared by every volume (LUN) on
 * it and counted by name in RUN_DIR/openiscsi/, under one lock that also
 * keeps lunbridge's iscsiadm sequences from interleaving.
 *
 * The first volume runs discovery and login with the commands the
 * open-iscsi documentation gives, puts CHAP and digest settings into the
 * node record (secrets into the file, never on a command line), and
 * remembers whether the record was its own making.  The last one logs
 * out of that node on that iface only and deletes the record if a volume
 * created it.  Records SendTargets made for other targets or portals are
 * deleted at once, unless they were there before.  Names of volumes whose
 * bridge died are dropped from the count when next it is read.
 */
#ifndef LUNBRIDGE_KERNEL_LOGIN_H
#define LUNBRIDGE_KERNEL_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel-disk.h"
#include "lb-err.h"

struct lb_kernel_login_node {
	const char *target, *address, *iface;
	uint16_t port;
};

struct lb_kernel_login_config {
	const char *run_dir;
	const char *volume; /* counted under this name */
	struct lb_kernel_login_node node;
	/* CHAP (user NULL: leave the record's settings as they are) */
	const char *chap_user, *chap_target_user;
	const uint8_t *chap_secret, *chap_target_secret;
	size_t chap_secret_len, chap_target_secret_len;
	const char *chap_algs; /* open-iscsi's form, "SHA256,MD5"; NULL: default */
	bool header_digest, data_digest;
	uint32_t timeout_ms; /* the login timeout iscsid is given */
	void (*log)(void *arg, const char *line);
	void *log_arg;
};

struct lb_kernel_login {
	struct lb_kernel_disk_session session;
	bool new_login;	   /* this volume logged in (else it shares) */
	bool created_node; /* the node record is lunbridge's */
};

/* Log in (or join the login) and find the session in sysfs. */
int lb_kernel_login_acquire(const struct lb_kernel_login_config *c, struct lb_kernel_login *ret,
			    lb_err *err);

/* The volume is done with the login: the last one logs out and deletes
 * the record if lunbridge created it.  0, or -errno with err set (then
 * the entry is left as it was; the dead volume's name drops out of the
 * count when the next volume reads it). */
int lb_kernel_login_release(const char *run_dir, const char *volume,
			    const struct lb_kernel_login_node *n, uint32_t timeout_ms,
			    void (*log)(void *arg, const char *line), void *log_arg, lb_err *err);

#endif
