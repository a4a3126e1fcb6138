/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a disk says about itself (kernel-disk.h): its size, block sizes and
 * queue limits, write cache, read-only flag and SCSI identity, from its
 * sysfs attributes through libudev or from a getter the unit tests feed.
 */
#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "kernel-disk-internal.h"
#include "scsi.h"

#define KDISK_MAX_TRANSFER (8u << 20)
#define KDISK_DEFAULT_TRANSFER (512u << 10) /* when max_sectors_kb is unreadable */
#define KDISK_VPD_MAX 4096u

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
	return kernel_disk_copy_trimmed(out, cap, v, len);
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
	return kernel_disk_parse_dec(buf, strlen(buf), UINT64_MAX, ret);
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

int lb_kernel_disk_info_from(const char *(*get)(void *arg, const char *name, size_t *ret_len),
			     void *arg, struct lb_volume_info *vi, lb_err *err)
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

int lb_kernel_disk_info(struct udev_device *disk, struct lb_volume_info *vi, lb_err *err)
{
	_cleanup_free_ struct udev_getter *g = calloc(1, sizeof(*g));

	if (!g)
		return lb_err_set(err, ENOMEM, "out of memory");
	g->disk = disk;
	g->scsi = udev_device_get_parent_with_subsystem_devtype(disk, "scsi", "scsi_device");
	return lb_kernel_disk_info_from(udev_get, g, vi, err);
}
