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
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "kdisk.h"
#include "loop.h"
#include "scsi.h"
#include "udev-cleanup.h"


/* udevd's control socket: where it is missing, no udevd runs (a container,
 * a minimal initrd), nothing ever initializes a device and udev-sourced
 * monitors hear nothing.  A variable so that the unit tests, which include
 * this file, can choose either path whatever the machine runs. */
static const char *kdisk_udev_control = "/run/udev/control";

#define KDISK_MAX_TRANSFER (8u << 20)
#define KDISK_DEFAULT_TRANSFER (512u << 10) /* when max_sectors_kb is unreadable */
#define KDISK_VPD_MAX 4096u

/* ---- small helpers ---------------------------------------------------- */

/* A decimal number, digits only, at most max.  -EINVAL otherwise. */
static int parse_dec(const char *s, size_t n, uint64_t max, uint64_t *ret)
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
static bool streq(const char *a, const char *b)
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
static int copy_trimmed(char *out, size_t cap, const char *src, size_t n)
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
static int sysattr_copy(struct udev_device *d, const char *name, char *out, size_t cap)
{
	const char *v = udev_device_get_sysattr_value(d, name);

	out[0] = '\0';
	if (!v)
		return -ENOENT;
	return copy_trimmed(out, cap, v, strlen(v));
}

/* N of "<prefix>N". */
static int parse_numbered(const char *name, const char *prefix, unsigned *ret)
{
	size_t pl = strlen(prefix);
	uint64_t v;
	int r;

	if (!name || strncmp(name, prefix, pl) != 0)
		return -EINVAL;
	r = parse_dec(name + pl, strlen(name + pl), UINT_MAX, &v);
	if (r < 0)
		return r;
	*ret = (unsigned)v;
	return 0;
}

int lb_kdisk_parse_hctl(const char *s, unsigned *h, unsigned *c, unsigned *t, uint64_t *l)
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
		r = parse_dec(p, (size_t)(end - p), i < 3 ? UINT_MAX : UINT64_MAX, &v[i]);
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

static int enumerate_below(struct udev *u, const char *subsystem, struct udev_device *parent,
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
static int session_connection(struct udev *u, struct udev_device *sd, struct lb_kdisk_session *s)
{
	_cleanup_udev_enumerate_ struct udev_enumerate *e = NULL;
	struct udev_list_entry *le;
	int r;

	s->address[0] = '\0';
	s->port = 0;
	r = enumerate_below(u, "iscsi_connection", sd, &e);
	if (r < 0)
		return r;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e))
	{
		_cleanup_udev_device_ struct udev_device *c =
			udev_device_new_from_syspath(u, udev_list_entry_get_name(le));
		char port[16];
		uint64_t p;

		if (!c ||
		    sysattr_copy(c, "persistent_address", s->address, sizeof(s->address)) < 0 ||
		    !s->address[0])
			continue;
		if (sysattr_copy(c, "persistent_port", port, sizeof(port)) == 0 &&
		    parse_dec(port, strlen(port), UINT16_MAX, &p) == 0)
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
static int session_from_udev(struct udev *u, struct udev_device *d, struct lb_kdisk_session *s)
{
	struct udev_device *sd = udev_device_get_parent(d); /* borrowed */
	const char *path = sd ? udev_device_get_syspath(sd) : NULL;

	memset(s, 0, sizeof(*s));
	if (parse_numbered(udev_device_get_sysname(d), "session", &s->sid) < 0 || !path ||
	    !streq(udev_device_get_sysname(sd), udev_device_get_sysname(d)) ||
	    strlen(path) >= sizeof(s->syspath) || host_above(path, &s->host) < 0)
		return -ENOENT;
	strcpy(s->syspath, path);
	if (sysattr_copy(d, "targetname", s->target, sizeof(s->target)) < 0)
		return -ENOENT;
	if (sysattr_copy(d, "ifacename", s->iface, sizeof(s->iface)) == -ENOBUFS)
		return -ENOENT; /* not an open-iscsi iface name */
	(void)sysattr_copy(d, "state", s->state, sizeof(s->state));
	return session_connection(u, sd, s);
}

static bool logged_in(const struct lb_kdisk_session *s)
{
	return strcmp(s->state, "LOGGED_IN") == 0;
}

/* Whether cand is a better choice than best (NULL: none yet). */
static bool better(const struct lb_kdisk_session *cand, const struct lb_kdisk_session *best)
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

int lb_kdisk_find_session(struct udev *u, const char *target, const char *address, uint16_t port,
			  const char *iface, struct lb_kdisk_session *ret, lb_err *err)
{
	_cleanup_udev_enumerate_ struct udev_enumerate *e = NULL;
	_cleanup_free_ struct lb_kdisk_session *cand = NULL, *best = NULL;
	struct udev_list_entry *le;
	bool found = false;
	int r;

	if (!target || !*target || strlen(target) >= LB_KDISK_TARGET_MAX)
		return lb_err_set(err, EINVAL, "'%s' is not an iSCSI target name",
				  target ? target : "");
	cand = malloc(sizeof(*cand));
	best = malloc(sizeof(*best));
	if (!cand || !best)
		return lb_err_set(err, ENOMEM, "out of memory");
	r = enumerate_below(u, "iscsi_session", NULL, &e);
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

/* ---- LUNs and disks --------------------------------------------------- */

int lb_kdisk_find_lun(struct udev *u, const struct lb_kdisk_session *s, uint64_t lun, char *hctl,
		      size_t len)
{
	_cleanup_udev_device_ struct udev_device *sd = NULL;
	_cleanup_udev_enumerate_ struct udev_enumerate *e = NULL;
	struct udev_list_entry *le;
	int r;

	sd = udev_device_new_from_syspath(u, s->syspath);
	if (!sd)
		return -ENOENT; /* the session is gone */
	r = enumerate_below(u, "scsi", sd, &e);
	if (r < 0)
		return r;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e))
	{
		_cleanup_udev_device_ struct udev_device *d =
			udev_device_new_from_syspath(u, udev_list_entry_get_name(le));
		const char *name = d ? udev_device_get_sysname(d) : NULL;
		const char *type = d ? udev_device_get_devtype(d) : NULL;
		unsigned h;
		uint64_t l;

		if (!name || !streq(type, "scsi_device") ||
		    lb_kdisk_parse_hctl(name, &h, NULL, NULL, &l) < 0 || h != s->host || l != lun)
			continue;
		if (strlen(name) >= len)
			return -ENOBUFS;
		strcpy(hctl, name);
		return 0;
	}
	return -ENOENT;
}

/* find_disk, and the SCSI peripheral type it found (-1 if unreadable). */
static int find_disk_typed(struct udev *u, const char *hctl, struct udev_device **ret, int *type)
{
	_cleanup_udev_device_ struct udev_device *sd = NULL;
	_cleanup_udev_enumerate_ struct udev_enumerate *e = NULL;
	struct udev_list_entry *le;
	char text[16];
	uint64_t t;
	int r;

	*type = -1;
	if (lb_kdisk_parse_hctl(hctl, NULL, NULL, NULL, NULL) < 0)
		return -EINVAL;
	sd = udev_device_new_from_subsystem_sysname(u, "scsi", hctl);
	if (!sd || !streq(udev_device_get_devtype(sd), "scsi_device"))
		return -ENOENT;
	if (sysattr_copy(sd, "type", text, sizeof(text)) == 0 &&
	    parse_dec(text, strlen(text), 0x1f, &t) == 0)
		*type = (int)t;
	if (*type != 0)
		return -ENOTBLK;
	r = enumerate_below(u, "block", sd, &e);
	if (r < 0)
		return r;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e))
	{
		struct udev_device *d =
			udev_device_new_from_syspath(u, udev_list_entry_get_name(le));

		if (d && streq(udev_device_get_devtype(d), "disk")) {
			*ret = d;
			return 0;
		}
		udev_device_unref(d);
	}
	return -ENOENT;
}

int lb_kdisk_find_disk(struct udev *u, const char *hctl, struct udev_device **ret)
{
	int type;

	return find_disk_typed(u, hctl, ret, &type);
}

/* ---- waiting for the disk --------------------------------------------- */

/* How far a look got. */
enum kdisk_stage {
	STAGE_NO_LUN,	 /* no SCSI device for the LUN */
	STAGE_NO_DISK,	 /* a SCSI device, no block device below it */
	STAGE_NOT_READY, /* a block device udev has not finished with */
};

struct kdisk_look {
	enum kdisk_stage stage;
	char hctl[64];
	char disk[64];
	int type;
};

/* The disk's node is there, a block device with the disk's number. */
static bool node_ready(struct udev_device *d)
{
	const char *node = udev_device_get_devnode(d);
	struct stat st;

	return node && stat(node, &st) == 0 && S_ISBLK(st.st_mode) &&
	       st.st_rdev == udev_device_get_devnum(d);
}

/* One look for the disk: 0 and *ret when it is ready, -ENOENT (lk says how
 * far it got) when not yet, another -errno when it never will be. */
static int look(struct udev *u, const struct lb_kdisk_session *s, uint64_t lun, bool need_init,
		struct udev_device **ret, struct kdisk_look *lk)
{
	_cleanup_udev_device_ struct udev_device *d = NULL;
	int r;

	lk->stage = STAGE_NO_LUN;
	r = lb_kdisk_find_lun(u, s, lun, lk->hctl, sizeof(lk->hctl));
	if (r == -ENOENT) {
		_cleanup_udev_device_ struct udev_device *sd =
			udev_device_new_from_syspath(u, s->syspath);

		if (!sd)
			return -ENODEV; /* the session itself is gone */
	}
	if (r < 0)
		return r;
	lk->stage = STAGE_NO_DISK;
	r = find_disk_typed(u, lk->hctl, &d, &lk->type);
	if (r < 0)
		return r;
	lk->stage = STAGE_NOT_READY;
	(void)snprintf(lk->disk, sizeof(lk->disk), "%s", udev_device_get_sysname(d));
	if ((need_init && udev_device_get_is_initialized(d) <= 0) || !node_ready(d))
		return -ENOENT;
	*ret = TAKE_PTR(d);
	return 0;
}

static int wait_failed(lb_err *err, int r, const struct lb_kdisk_session *s, uint64_t lun,
		       const struct kdisk_look *lk, bool need_init)
{
	unsigned long long l = lun;

	if (r == -ENOTBLK)
		return lb_err_set(err, r, "LUN %llu of session %u (%s) is not a disk: SCSI type %d",
				  l, s->sid, lk->hctl, lk->type);
	if (r == -ENODEV)
		return lb_err_set(err, r, "session %u (%s) is gone: logged out or reinstated",
				  s->sid, s->target);
	if (r != -ETIMEDOUT)
		return lb_err_set(err, r, "cannot look for LUN %llu of session %u: %s", l, s->sid,
				  strerror(-r));
	switch (lk->stage) {
	case STAGE_NO_LUN:
		return lb_err_set(err, r,
				  "LUN %llu of session %u was never scanned: "
				  "the kernel shows no SCSI device for it on host%u",
				  l, s->sid, s->host);
	case STAGE_NO_DISK:
		return lb_err_set(err, r,
				  "LUN %llu of session %u is SCSI device %s, "
				  "but its disk never appeared (is sd_mod loaded?)",
				  l, s->sid, lk->hctl);
	default:
		return lb_err_set(err, r,
				  "LUN %llu of session %u is disk %s (%s), "
				  "but it never became ready: %s",
				  l, s->sid, lk->disk, lk->hctl,
				  need_init ? "udev has not finished with it or its node is missing"
					    : "its node is missing");
	}
}

int lb_kdisk_wait_disk(struct udev *u, const struct lb_kdisk_session *s, uint64_t lun,
		       uint32_t timeout_ms, struct udev_device **ret, lb_err *err)
{
	_cleanup_udev_monitor_ struct udev_monitor *m = NULL;
	bool udevd = access(kdisk_udev_control, F_OK) == 0;
	const char *source = udevd ? "udev" : "kernel";
	uint64_t deadline = lb_now_ms() + timeout_ms;
	struct kdisk_look lk = {0};
	int r, fd;

	/* Without udevd, a "udev" monitor hears nothing: listen to the kernel,
	 * and a node (devtmpfs makes it) is all there will ever be. */
	m = udev_monitor_new_from_netlink(u, source);
	if (!m) {
		r = errno ? errno : ENOMEM;
		return lb_err_set(err, r, "cannot watch %s events: %s", source, strerror(r));
	}
	r = udev_monitor_filter_add_match_subsystem_devtype(m, "block", NULL);
	if (r >= 0)
		r = udev_monitor_filter_add_match_subsystem_devtype(m, "scsi", NULL);
	/* listen before looking: an event between the look and the poll then
	 * waits in the socket instead of being lost */
	if (r >= 0)
		r = udev_monitor_enable_receiving(m);
	fd = r < 0 ? r : udev_monitor_get_fd(m);
	if (fd < 0)
		return lb_err_set(err, fd, "cannot watch %s events: %s", source, strerror(-fd));

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t now;
		int wait;

		r = look(u, s, lun, udevd, ret, &lk);
		if (r == 0)
			return 0;
		if (r != -ENOENT)
			return wait_failed(err, r, s, lun, &lk, udevd);
		now = lb_now_ms();
		if (now >= deadline)
			return wait_failed(err, -ETIMEDOUT, s, lun, &lk, udevd);
		wait = deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
		r = poll(&pfd, 1, wait);
		if (r < 0 && errno != EINTR) {
			r = errno;
			return lb_err_set(err, r, "cannot wait for %s events: %s", source,
					  strerror(r));
		}
		if (r > 0 && (pfd.revents & POLLNVAL))
			return lb_err_set(err, EBADF, "cannot wait for %s events: %s", source,
					  strerror(EBADF));
		if (r > 0) {
			/* what the events say does not matter: the next look sees it */
			struct udev_device *d;

			while ((d = udev_monitor_receive_device(m)))
				udev_device_unref(d);
		}
	}
}

/* ---- what the disk says about itself ---------------------------------- */

typedef const char *(*kdisk_getter)(void *arg, const char *name, size_t *ret_len);

/* Attribute NAME as trimmed text in out; -ENOENT if absent, -ENOBUFS if
 * too long. */
static int attr_text(kdisk_getter get, void *arg, const char *name, char *out, size_t cap)
{
	size_t len = 0;
	const char *v = get(arg, name, &len);

	out[0] = '\0';
	if (!v)
		return -ENOENT;
	return copy_trimmed(out, cap, v, len);
}

/* Attribute NAME as a decimal number; -ENOENT if absent, -EINVAL if it is
 * not one (text, if given, then holds what it was). */
static int attr_u64(kdisk_getter get, void *arg, const char *name, uint64_t *ret, char *text,
		    size_t cap)
{
	char buf[32];
	int r = attr_text(get, arg, name, buf, sizeof(buf));

	if (r == -ENOENT)
		return r;
	if (text)
		(void)snprintf(text, cap, "%s", buf);
	if (r < 0)
		return -EINVAL;
	return parse_dec(buf, strlen(buf), UINT64_MAX, ret);
}

static bool block_size_ok(uint64_t bs)
{
	return bs >= 512 && bs <= 65536 && (bs & (bs - 1)) == 0;
}

/* A limit in bytes: at most cap, a multiple of bs; 0 if it is below bs. */
static uint32_t limit(uint64_t v, uint32_t cap, uint32_t bs)
{
	if (v > cap)
		v = cap;
	return (uint32_t)(v - v % bs);
}

/* Attribute NAME is the text word. */
static bool attr_is(kdisk_getter get, void *arg, const char *name, const char *word)
{
	char buf[32];

	return attr_text(get, arg, name, buf, sizeof(buf)) == 0 && strcmp(buf, word) == 0;
}

int lb_kdisk_info_from(const char *(*get)(void *arg, const char *name, size_t *ret_len), void *arg,
		       struct lb_volume_info *vi, lb_err *err)
{
	struct lb_volume_info v = {0};
	char text[32] = "";
	uint64_t sectors, bs, n;
	const char *page;
	size_t len = 0;
	int r;

	r = attr_u64(get, arg, "queue/logical_block_size", &bs, text, sizeof(text));
	if (r == -ENOENT)
		return lb_err_set(err, EIO, "sysfs attribute queue/logical_block_size is missing");
	if (r < 0 || !block_size_ok(bs))
		return lb_err_set(err, EIO,
				  "sysfs attribute queue/logical_block_size is '%s', "
				  "not a power of two from 512 to 65536",
				  text);
	v.block_size = (uint32_t)bs;

	r = attr_u64(get, arg, "size", &sectors, text, sizeof(text));
	if (r == -ENOENT)
		return lb_err_set(err, EIO, "sysfs attribute size is missing");
	if (r < 0 || sectors > UINT64_MAX / 512)
		return lb_err_set(err, EIO, "sysfs attribute size is '%s', not a number of sectors",
				  text);
	if (sectors == 0)
		return lb_err_set(err, EIO, "sysfs attribute size is 0: the disk is empty");
	v.size = sectors * 512;
	if (v.size % v.block_size)
		return lb_err_set(err, EIO,
				  "sysfs attribute size (%llu bytes) is not a multiple of "
				  "the block size %u",
				  (unsigned long long)v.size, v.block_size);

	/* what the kernel always provides, guessed safely when it does not */
	v.physical_block_size = v.block_size;
	if (attr_u64(get, arg, "queue/physical_block_size", &n, NULL, 0) == 0 && n >= bs &&
	    n <= UINT32_MAX && (n & (n - 1)) == 0)
		v.physical_block_size = (uint32_t)n;

	v.max_transfer = KDISK_DEFAULT_TRANSFER;
	if (attr_u64(get, arg, "queue/max_sectors_kb", &n, NULL, 0) == 0 && n > 0)
		v.max_transfer =
			n >= KDISK_MAX_TRANSFER / 1024 ? KDISK_MAX_TRANSFER : (uint32_t)n * 1024;
	v.max_transfer = limit(v.max_transfer, KDISK_MAX_TRANSFER, v.block_size);
	if (v.max_transfer == 0)
		v.max_transfer = v.block_size;

	if (attr_u64(get, arg, "queue/discard_max_bytes", &n, NULL, 0) == 0 && n > 0) {
		v.max_discard = limit(n, UINT32_MAX, v.block_size);
		v.discard = v.max_discard > 0;
	}
	if (attr_u64(get, arg, "queue/write_zeroes_max_bytes", &n, NULL, 0) == 0 && n > 0) {
		v.max_write_zeroes = limit(n, UINT32_MAX, v.block_size);
		v.write_zeroes = v.max_write_zeroes > 0;
	}
	v.discard_zeroes = false;
	/* a flush is harmless where it is not needed: only a disk that says
	 * "write through" goes without */
	v.flush = !attr_is(get, arg, "queue/write_cache", "write through");
	v.fua = attr_is(get, arg, "queue/fua", "1");
	v.read_only = attr_is(get, arg, "ro", "1");

	(void)attr_text(get, arg, "device/vendor", v.vendor, sizeof(v.vendor));
	(void)attr_text(get, arg, "device/model", v.product, sizeof(v.product));
	(void)attr_text(get, arg, "device/wwid", v.id, sizeof(v.id));
	page = get(arg, "device/vpd_pg80", &len);
	if (page &&
	    scsi_vpd_serial_parse((const uint8_t *)page, len, v.serial, sizeof(v.serial)) < 0)
		v.serial[0] = '\0';

	*vi = v;
	return 0;
}

struct udev_getter {
	struct udev_device *disk;
	struct udev_device *scsi; /* borrowed from disk; NULL if it has none */
	char page[KDISK_VPD_MAX];
};

/* A binary attribute, read whole from the device's syspath. */
static const char *read_binary(struct udev_getter *g, struct udev_device *d, const char *name,
			       size_t *ret_len)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	size_t n = 0;

	if (asprintf(&path, "%s/%s", udev_device_get_syspath(d), name) < 0)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	while (n < sizeof(g->page)) {
		ssize_t k = read(fd, g->page + n, sizeof(g->page) - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return NULL;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*ret_len = n;
	return g->page;
}

static const char *udev_get(void *arg, const char *name, size_t *ret_len)
{
	struct udev_getter *g = arg;
	struct udev_device *d = g->disk;
	const char *v;

	if (strncmp(name, "device/", 7) == 0) {
		d = g->scsi;
		name += 7;
		if (!d)
			return NULL;
		if (strcmp(name, "vpd_pg80") == 0)
			return read_binary(g, d, name, ret_len);
	}
	v = udev_device_get_sysattr_value(d, name);
	if (v)
		*ret_len = strlen(v);
	return v;
}

int lb_kdisk_info(struct udev_device *disk, struct lb_volume_info *vi, lb_err *err)
{
	_cleanup_free_ struct udev_getter *g = calloc(1, sizeof(*g));

	if (!g)
		return lb_err_set(err, ENOMEM, "out of memory");
	g->disk = disk;
	g->scsi = udev_device_get_parent_with_subsystem_devtype(disk, "scsi", "scsi_device");
	return lb_kdisk_info_from(udev_get, g, vi, err);
}
