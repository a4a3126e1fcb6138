/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's side of an open-iscsi session, found through libudev:
 *
 *   /sys/devices/.../hostH                       the SCSI host
 *     sessionN                                   the session (no subsystem)
 *       iscsi_session/sessionN                   targetname, ifacename, state
 *       connectionN:0/iscsi_connection/connectionN:0
 *                                                persistent_address, _port
 *       targetH:C:T/H:C:T:L                      subsystem scsi, scsi_device
 *         block/sdX                              subsystem block, disk
 *
 * Every device is found by enumeration or by subsystem and name, never by
 * a /sys path of our own making; the one file read directly is the binary
 * vpd_pg80 under the syspath libudev gave (its sysattr API returns C
 * strings, and the page starts with a 0x00 byte).
 *
 * This file holds the helpers the others share (kernel-disk-internal.h) and the
 * sessions; kernel-disk-find.c finds a LUN's disk and waits for it, kernel-disk-info.c
 * reads what the disk says about itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libudev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "kernel-disk-internal.h"
#include "udev-cleanup.h"

/* ---- small helpers ---------------------------------------------------- */

/* A decimal number, digits only, at most max.  -EINVAL otherwise. */
int kernel_disk_parse_dec(const char *s, size_t n, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

/* Both are there and equal. */
bool kernel_disk_streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* src[0..n) (up to a NUL) without surrounding white space, as printable
 * text in out (cap bytes, cap > 0): anything else becomes '?'.  -ENOBUFS
 * if it does not fit (out then holds what did). */
int kernel_disk_copy_trimmed(char *out, size_t cap, const char *src, size_t n)
{
	const char *nul = memchr(src, '\0', n);
	size_t k = 0;

	if (nul)
		n = (size_t)(nul - src);
	while (n > 0 && is_space(src[0])) {
		src++;
		n--;
	}
	while (n > 0 && is_space(src[n - 1]))
		n--;
	for (; k < n && k + 1 < cap; k++)
		out[k] = src[k] >= 0x20 && src[k] < 0x7f ? src[k] : '?';
	out[k] = '\0';
	return k < n ? -ENOBUFS : 0;
}

/* A device's sysattr, trimmed, into out; -ENOENT if absent, -ENOBUFS if
 * longer than cap - 1. */
int kernel_disk_sysattr_copy(struct udev_device *d, const char *name, char *out, size_t cap)
{
	const char *v = udev_device_get_sysattr_value(d, name);

	out[0] = '\0';
	if (!v)
		return -ENOENT;
	return kernel_disk_copy_trimmed(out, cap, v, strlen(v));
}

/* N of "<prefix>N". */
static int parse_numbered(const char *name, const char *prefix, unsigned *ret)
{
	size_t pl = strlen(prefix);
	uint64_t v;
	int r;

	if (!name || strncmp(name, prefix, pl) != 0)
		return -EINVAL;
	r = kernel_disk_parse_dec(name + pl, strlen(name + pl), UINT_MAX, &v);
	if (r < 0)
		return r;
	*ret = (unsigned)v;
	return 0;
}

int lb_kernel_disk_parse_hctl(const char *s, unsigned *h, unsigned *c, unsigned *t, uint64_t *l)
{
	uint64_t v[4];
	const char *p = s;

	if (!s)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		const char *end = i < 3 ? strchr(p, ':') : p + strlen(p);
		int r;

		if (!end)
			return -EINVAL;
		r = kernel_disk_parse_dec(p, (size_t)(end - p), i < 3 ? UINT_MAX : UINT64_MAX,
					  &v[i]);
		if (r < 0)
			return r;
		p = end + 1;
	}
	if (h)
		*h = (unsigned)v[0];
	if (c)
		*c = (unsigned)v[1];
	if (t)
		*t = (unsigned)v[2];
	if (l)
		*l = v[3];
	return 0;
}

int kernel_disk_enumerate_below(struct udev *u, const char *subsystem, struct udev_device *parent,
				struct udev_enumerate **ret)
{
	_cleanup_udev_enumerate_ struct udev_enumerate *e = udev_enumerate_new(u);
	int r;

	if (!e)
		return -ENOMEM;
	r = udev_enumerate_add_match_subsystem(e, subsystem);
	if (r >= 0 && parent)
		r = udev_enumerate_add_match_parent(e, parent);
	if (r >= 0)
		r = udev_enumerate_scan_devices(e);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(e);
	return 0;
}

/* ---- sessions --------------------------------------------------------- */

/* Two portal addresses are the same: numerically when both parse, else as
 * text (the kernel prints what iscsid gave it). */
static bool same_address(const char *a, const char *b)
{
	unsigned char na[sizeof(struct in6_addr)], nb[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, a, na) == 1 && inet_pton(AF_INET, b, nb) == 1)
		return memcmp(na, nb, sizeof(struct in_addr)) == 0;
	if (inet_pton(AF_INET6, a, na) == 1 && inet_pton(AF_INET6, b, nb) == 1)
		return memcmp(na, nb, sizeof(struct in6_addr)) == 0;
	return strcmp(a, b) == 0;
}

/* The first connection below session device SD: its persistent address
 * and port into s (left empty and 0 if there is none yet). */
static int session_connection(struct udev *u, struct udev_device *sd,
			      struct lb_kernel_disk_session *s)
{
	_cleanup_udev_enumerate_ struct udev_enumerate *e = NULL;
	struct udev_list_entry *le;
	int r;

	s->address[0] = '\0';
	s->port = 0;
	r = kernel_disk_enumerate_below(u, "iscsi_connection", sd, &e);
	if (r < 0)
		return r;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e))
	{
		_cleanup_udev_device_ struct udev_device *c =
			udev_device_new_from_syspath(u, udev_list_entry_get_name(le));
		char port[16];
		uint64_t p;

		if (!c ||
		    kernel_disk_sysattr_copy(c, "persistent_address", s->address,
					     sizeof(s->address)) < 0 ||
		    !s->address[0])
			continue;
		if (kernel_disk_sysattr_copy(c, "persistent_port", port, sizeof(port)) == 0 &&
		    kernel_disk_parse_dec(port, strlen(port), UINT16_MAX, &p) == 0)
			s->port = (uint16_t)p;
		return 0;
	}
	s->address[0] = '\0';
	return 0;
}

/* H of the path component "hostH" right above the last one. */
static int host_above(const char *path, unsigned *ret)
{
	const char *end = strrchr(path, '/'), *start = end;
	char host[32];

	if (!end)
		return -EINVAL;
	while (start > path && start[-1] != '/')
		start--;
	if ((size_t)(end - start) >= sizeof(host))
		return -EINVAL;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	return parse_numbered(host, "host", ret);
}

/* What the iscsi_session class device D says; -ENOENT if it is not a
 * session as described at the top (it is skipped then). */
static int session_from_udev(struct udev *u, struct udev_device *d,
			     struct lb_kernel_disk_session *s)
{
	struct udev_device *sd = udev_device_get_parent(d); /* borrowed */
	const char *path = sd ? udev_device_get_syspath(sd) : NULL;

	memset(s, 0, sizeof(*s));
	if (parse_numbered(udev_device_get_sysname(d), "session", &s->sid) < 0 || !path ||
	    !kernel_disk_streq(udev_device_get_sysname(sd), udev_device_get_sysname(d)) ||
	    strlen(path) >= sizeof(s->syspath) || host_above(path, &s->host) < 0)
		return -ENOENT;
	strcpy(s->syspath, path);
	if (kernel_disk_sysattr_copy(d, "targetname", s->target, sizeof(s->target)) < 0)
		return -ENOENT;
	if (kernel_disk_sysattr_copy(d, "ifacename", s->iface, sizeof(s->iface)) == -ENOBUFS)
		return -ENOENT; /* not an open-iscsi iface name */
	(void)kernel_disk_sysattr_copy(d, "state", s->state, sizeof(s->state));
	return session_connection(u, sd, s);
}

static bool logged_in(const struct lb_kernel_disk_session *s)
{
	return strcmp(s->state, "LOGGED_IN") == 0;
}

/* Whether cand is a better choice than best (NULL: none yet). */
static bool better(const struct lb_kernel_disk_session *cand,
		   const struct lb_kernel_disk_session *best)
{
	if (!best)
		return true;
	if (logged_in(cand) != logged_in(best))
		return logged_in(cand);
	return cand->sid < best->sid;
}

static int no_session(lb_err *err, const char *target, const char *address, uint16_t port,
		      const char *iface)
{
	char portal[96] = "", on[96] = "";

	if (address) {
		bool v6 = strchr(address, ':') != NULL;

		if (port)
			(void)snprintf(portal, sizeof(portal), " at %s%s%s:%u", v6 ? "[" : "",
				       address, v6 ? "]" : "", port);
		else
			(void)snprintf(portal, sizeof(portal), " at %s", address);
	}
	if (iface)
		(void)snprintf(on, sizeof(on), " on iface %s", iface);
	return lb_err_set(err, ENOENT, "no open-iscsi session with %s%s%s", target, portal, on);
}

int lb_kernel_disk_find_session(struct udev *u, const char *target, const char *address,
				uint16_t port, const char *iface,
				struct lb_kernel_disk_session *ret, lb_err *err)
{
	_cleanup_udev_enumerate_ struct udev_enumerate *e = NULL;
	_cleanup_free_ struct lb_kernel_disk_session *cand = NULL, *best = NULL;
	struct udev_list_entry *le;
	bool found = false;
	int r;

	if (!target || !*target || strlen(target) >= LB_KERNEL_DISK_TARGET_MAX)
		return lb_err_set(err, EINVAL, "'%s' is not an iSCSI target name",
				  target ? target : "");
	cand = malloc(sizeof(*cand));
	best = malloc(sizeof(*best));
	if (!cand || !best)
		return lb_err_set(err, ENOMEM, "out of memory");
	r = kernel_disk_enumerate_below(u, "iscsi_session", NULL, &e);
	if (r < 0)
		return lb_err_set(err, r, "cannot enumerate iscsi_session devices: %s",
				  strerror(-r));

	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e))
	{
		_cleanup_udev_device_ struct udev_device *d =
			udev_device_new_from_syspath(u, udev_list_entry_get_name(le));

		if (!d)
			continue;
		r = session_from_udev(u, d, cand);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return lb_err_set(err, r, "cannot read session %s: %s",
					  udev_device_get_sysname(d), strerror(-r));
		if (strcmp(cand->target, target) != 0)
			continue;
		if (iface && strcmp(cand->iface, iface) != 0)
			continue;
		if (address && (!cand->address[0] || !same_address(cand->address, address) ||
				(port && cand->port != port)))
			continue;
		if (better(cand, found ? best : NULL)) {
			*best = *cand;
			found = true;
		}
	}
	if (!found)
		return no_session(err, target, address, port, iface);
	*ret = *best;
	return 0;
}
