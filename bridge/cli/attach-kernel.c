/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The open-iscsi engine's side of `attach`. */
#include <errno.h>
#include <libudev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach-kernel.h"
#include "engine-kernel.h"
#include "hw.h"
#include "kernel-disk.h"
#include "modprobe.h"
#include "openiscsi.h"
#include "runtime.h"

#define DISK_WAIT_MS 30000u /* after login, for the kernel's scan and udev */

/* iscsiadm reads iface records from its own directory only. */
static int check_iface_dir(const cli_session_opts *o, const char *iface, lb_err *err)
{
	const char *dir = o->iface_dir ? o->iface_dir : getenv("LUNBRIDGE_IFACE_DIR");
	char a[PATH_MAX], b[PATH_MAX];

	if (iface_name_is_builtin(iface) || !dir || !*dir)
		return 0;
	if (realpath(dir, a) && realpath(LB_OPENISCSI_IFACES_DIR, b) && strcmp(a, b) == 0)
		return 0;
	return lb_err_set(err, EINVAL,
			  "iface '%s' is in %s, but iscsiadm reads iface records from %s only",
			  iface, dir, LB_OPENISCSI_IFACES_DIR);
}

int cli_attach_kernel(const cli_session_opts *o, cli_session *cs, const char *volume,
		      struct cli_attach_kernel *ka, void (*log)(void *arg, const char *line),
		      void *log_arg, lb_err *err)
{
	const char *iface = iface_rec_name(cs->rec);
	struct lb_kernel_login_config kc = {0};
	struct lb_volume_info vi;
	struct udev_device *disk = NULL;
	struct udev *u = NULL;
	char algs[64];
	int r;

	memset(ka, 0, sizeof(*ka));
	ka->timeout_ms = o->timeout_ms;
	/* the transport's module, loaded as iscsid loads it for a login
	 * (transport_load_kmod); then the hardware: the NIC or HBA there,
	 * its driver, the transport registered (as `iface check`) */
	if (strcmp(iface_rec_transport(cs->rec), "tcp") != 0)
		(void)lb_modprobe(iface_hw_transport_module(iface_rec_transport(cs->rec)));
	r = iface_hw_check(cs->rec, err);
	if (r == 0)
		r = check_iface_dir(o, iface, err);
	if (r < 0)
		return r;
	(void)lb_modprobe("sd_mod"); /* udev loads it too; a host without udev does not */
	ka->node = (struct lb_kernel_login_node){
		.target = o->target,
		.address = cs->portal.addr_str,
		.port = cs->portal.port,
		.iface = iface,
	};
	kc.run_dir = lb_runtime_dir();
	kc.volume = volume;
	kc.node = ka->node;
	if (o->chap_user) {
		kc.chap_user = cs->creds.name;
		kc.chap_secret = cs->creds.secret;
		kc.chap_secret_len = cs->creds.secret_len;
		kc.chap_target_user = cs->creds.target_name;
		kc.chap_target_secret = cs->creds.target_secret;
		kc.chap_target_secret_len = cs->creds.target_secret_len;
	}
	if (o->chap_algs) {
		cli_session_chap_algs_openiscsi(o->chap_algs, algs, sizeof(algs));
		kc.chap_algs = algs;
	}
	kc.header_digest = o->header_digest;
	kc.data_digest = o->data_digest;
	kc.timeout_ms = o->timeout_ms;
	kc.log = log;
	kc.log_arg = log_arg;
	r = lb_kernel_login_acquire(&kc, &ka->login, err);
	if (r < 0)
		return r;
	ka->counted = true;

	u = udev_new();
	if (!u) {
		r = lb_err_set(err, ENOMEM, "cannot use libudev");
		goto fail;
	}
	r = lb_kernel_disk_wait_disk(u, &ka->login.session, o->lun, DISK_WAIT_MS + o->timeout_ms,
				     &disk, err);
	if (r < 0)
		goto fail;
	r = lb_kernel_disk_info(disk, &vi, err);
	if (r < 0)
		goto fail;
	snprintf(ka->disk, sizeof(ka->disk), "%s", udev_device_get_devnode(disk));
	r = lb_engine_kernel_new(&cs->loop, ka->disk, ka->login.session.sid, &vi, &ka->engine, err);
	if (r < 0)
		goto fail;
	{
		char line[256];

		snprintf(line, sizeof(line), "open-iscsi: LUN %u of session %u (host %u) is %s",
			 o->lun, ka->login.session.sid, ka->login.session.host, ka->disk);
		if (log)
			log(log_arg, line);
	}
	udev_device_unref(disk);
	udev_unref(u);
	return 0;
fail:
	if (disk)
		udev_device_unref(disk);
	if (u)
		udev_unref(u);
	cli_attach_kernel_release(ka, volume, log, log_arg);
	return r;
}

void cli_attach_kernel_release(struct cli_attach_kernel *ka, const char *volume,
			       void (*log)(void *arg, const char *line), void *log_arg)
{
	lb_err err = {{0}};
	char line[600];

	if (!ka->counted)
		return;
	ka->counted = false;
	if (lb_kernel_login_release(lb_runtime_dir(), volume, &ka->node, ka->timeout_ms, log,
				    log_arg, &err) < 0) {
		snprintf(line, sizeof(line), "open-iscsi: %s", err.msg);
		if (log)
			log(log_arg, line);
	}
}
