/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who holds a block device (holders.h), from /sys/class/block (the disk,
 * its partitions, their holders/), /proc/self/mountinfo (major:minor of
 * each mount) and /proc/PID/fd (the processes with it open).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "holders.h"
#include "macro.h"

#define MAX_PARTS 64

struct dev {
	char name[256];
	char devno[32]; /* "43:0" */
};

/* snprintf into a path buffer; false when it does not fit (skipped) */
#define PATHF(buf, ...) (snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The disk and its partitions (sysfs entries NAME* with a dev file). */
static int list_devs(const struct lb_holders_root *root, const char *name, struct dev *devs,
		     unsigned *n)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r;

	*n = 0;
	if (!PATHF(path, "%s/class/block/%s/dev", root->sys, name))
		return -ENAMETOOLONG;
	r = read_line(path, devs[0].devno, sizeof(devs[0].devno));
	if (r < 0)
		return r;
	snprintf(devs[0].name, sizeof(devs[0].name), "%s", name);
	*n = 1;
	if (!PATHF(path, "%s/class/block/%s", root->sys, name))
		return 0;
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) && *n < MAX_PARTS) {
		struct dev *p = &devs[*n];

		if (strncmp(de->d_name, name, strlen(name)) != 0 || !de->d_name[strlen(name)])
			continue;
		if (!PATHF(path, "%s/class/block/%s/%s/dev", root->sys, name, de->d_name) ||
		    read_line(path, p->devno, sizeof(p->devno)) < 0)
			continue;
		snprintf(p->name, sizeof(p->name), "%s", de->d_name);
		(*n)++;
	}
	closedir(d);
	return 0;
}

/* A mount whose source is one of devs: field 3 of mountinfo is its
 * major:minor, field 5 the mount point, after " - " the type. */
static bool find_mount(const struct lb_holders_root *root, const struct dev *devs, unsigned n,
		       char *buf, size_t len)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f;

	if (!PATHF(path, "%s/self/mountinfo", root->proc))
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		char devno[32], point[PATH_MAX], *dash;
		char type[64] = "?";

		if (sscanf(line, "%*s %*s %31s %*s %4095s", devno, point) != 2)
			continue;
		dash = strstr(line, " - ");
		if (dash)
			(void)sscanf(dash + 3, "%63s", type);
		for (unsigned i = 0; i < n; i++)
			if (strcmp(devno, devs[i].devno) == 0) {
				snprintf(buf, len, "%s is mounted on %s (%s)", devs[i].name, point,
					 type);
				found = true;
				break;
			}
	}
	free(line);
	fclose(f);
	return found;
}

/* A device stacked on one of devs (its holders/ directory). */
static bool find_stacked(const struct lb_holders_root *root, const struct dev *devs, unsigned n,
			 const char *name, char *buf, size_t len)
{
	for (unsigned i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct dirent *de;
		DIR *d;

		bool fits = i == 0 ? PATHF(path, "%s/class/block/%s/holders", root->sys, name)
				   : PATHF(path, "%s/class/block/%s/%s/holders", root->sys, name,
					   devs[i].name);

		if (!fits)
			continue;
		d = opendir(path);
		if (!d)
			continue;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.') {
				snprintf(buf, len, "%s is held by %s", devs[i].name, de->d_name);
				closedir(d);
				return true;
			}
		closedir(d);
	}
	return false;
}

/* A process (not ignore) with /dev/NAME of one of devs open. */
static bool find_opener(const struct lb_holders_root *root, const struct dev *devs, unsigned n,
			pid_t ignore, char *buf, size_t len)
{
	struct dirent *pe;
	DIR *pd = opendir(root->proc);
	bool found = false;

	if (!pd)
		return false;
	while (!found && (pe = readdir(pd))) {
		char path[PATH_MAX], comm[64] = "?";
		struct dirent *fe;
		DIR *fd;
		pid_t pid;

		if (!isdigit((unsigned char)pe->d_name[0]))
			continue;
		pid = (pid_t)strtol(pe->d_name, NULL, 10);
		if (pid == ignore || pid == getpid())
			continue;
		if (!PATHF(path, "%s/%s/fd", root->proc, pe->d_name))
			continue;
		fd = opendir(path);
		if (!fd)
			continue;
		while (!found && (fe = readdir(fd))) {
			char link[PATH_MAX + 256], target[PATH_MAX];
			ssize_t k;

			if (fe->d_name[0] == '.')
				continue;
			if (!PATHF(link, "%s/%s", path, fe->d_name))
				continue;
			k = readlink(link, target, sizeof(target) - 1);
			if (k <= 0)
				continue;
			target[k] = '\0';
			for (unsigned i = 0; i < n; i++)
				if (strncmp(target, "/dev/", 5) == 0 &&
				    strcmp(target + 5, devs[i].name) == 0) {
					if (PATHF(path, "%s/%s/comm", root->proc, pe->d_name))
						(void)read_line(path, comm, sizeof(comm));
					snprintf(buf, len, "%s is open by process %d (%s)",
						 devs[i].name, (int)pid, comm);
					found = true;
					break;
				}
		}
		closedir(fd);
	}
	closedir(pd);
	return found;
}

int lb_device_holder(const struct lb_holders_root *root, const char *name, pid_t ignore, char *buf,
		     size_t len)
{
	struct dev devs[MAX_PARTS];
	unsigned n;
	int r;

	if (!name[0] || strchr(name, '/') || strstr(name, ".."))
		return -EINVAL;
	r = list_devs(root, name, devs, &n);
	if (r < 0)
		return r;
	if (find_mount(root, devs, n, buf, len) || find_stacked(root, devs, n, name, buf, len) ||
	    find_opener(root, devs, n, ignore, buf, len))
		return 1;
	return 0;
}
