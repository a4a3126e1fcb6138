/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `lunbridge detach`: end a volume's bridge (flush, logout, device removed). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "cli.h"
#include "export-uri.h"
#include "holders.h"
#include "kernel-login.h"
#include "nbd-netlink.h"
#include "route.h"
#include "runtime.h"
#include "ublk-dev.h"

static const char detach_help[] =
	"Usage: lunbridge detach NAME|DEVICE|EXPORT [--timeout SECONDS] [--force]\n"
	"                        [--if-attached]\n"
	"       lunbridge detach --all [--timeout SECONDS] [--force]\n"
	"\n"
	"End a volume's bridge: write the device's dirty pages back (as fsync on\n"
	"it), stop serving, answer the requests in flight, flush the LUN's cache\n"
	"(SYNCHRONIZE CACHE), log out and remove the device.\n"
	"The volume is named by its name, its device (/dev/nbd0) or its export URI.\n"
	"The device a dead bridge left waiting for its successor (a ublk device, or\n"
	"a kernel NBD device still bound to the volume) is removed by the volume's\n"
	"name: the I/O waiting on it fails.\n"
	"A device that is mounted, held by a stacked device or open by a process\n"
	"is not detached (the holder is named) unless --force; its dirty pages\n"
	"are written back first even then.  SIGTERM to the bridge is refused the\n"
	"same way (a second one within 10 s detaches anyway).\n"
	"detach returns once the bridge's process has exited.  --all detaches\n"
	"every attached volume in turn (a host being drained); it fails if any\n"
	"one is left.\n"
	"\n"
	"Options:\n"
	"      --timeout SECONDS   how long to wait (default 300)\n"
	"      --force             detach even while the device is in use\n"
	"      --if-attached       nothing attached by that name: exit 0, not 1\n"
	"      --all               every attached volume\n"
	"  -h, --help              this text\n";

/* The live volume NAME, or the one whose device or export is arg. */
static int find_volume(const char *dir, const char *arg, char *ret, size_t len)
{
	char **names = NULL, real[PATH_MAX], canon[LB_EXPORT_FORMAT_MAX];
	struct lb_export exp;
	size_t n = 0;
	int found = -ENOENT;
	lb_err err = {{0}};

	if (lb_runtime_list(dir, &names, &n, &err) < 0)
		return -EIO;
	if (!realpath(arg, real))
		real[0] = '\0';
	/* an export as attach was given it: compare the canonical form */
	if (lb_export_parse(arg, &exp, NULL) < 0 ||
	    lb_export_format(&exp, canon, sizeof(canon)) < 0)
		canon[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *text = NULL;
		json_object *o, *v;
		bool match = strcmp(names[i], arg) == 0;

		if (!match && lb_runtime_read_state(dir, names[i], &text, &err) == 0 &&
		    (o = json_tokener_parse(text))) {
			const char *keys[] = {"device", "export"};

			for (size_t k = 0; k < ARRAY_SIZE(keys) && !match; k++)
				if (json_object_object_get_ex(o, keys[k], &v) && v) {
					const char *s = json_object_get_string(v);

					match = strcmp(s, arg) == 0 ||
						(real[0] && strcmp(s, real) == 0) ||
						(canon[0] && strcmp(s, canon) == 0);
				}
			json_object_put(o);
		}
		if (match && found == -ENOENT) {
			snprintf(ret, len, "%s", names[i]);
			found = 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return found;
}

static const char *json_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

/* Whether the live volume name's device is in use: 1 (said), 0, or 0 when
 * it has no block device (an NBD socket export) or it cannot be told. */
static int device_in_use(const char *dir, const char *name)
{
	static const struct lb_holders_root root = {"/proc", "/sys"};
	_cleanup_free_ char *text = NULL;
	const char *dev;
	json_object *o, *v;
	char why[600];
	pid_t pid = 0;
	lb_err err = {{0}};
	int r = 0;

	if (lb_runtime_read_state(dir, name, &text, &err) < 0 || !(o = json_tokener_parse(text)))
		return 0;
	dev = json_str(o, "device");
	if (json_object_object_get_ex(o, "pid", &v) && v)
		pid = (pid_t)json_object_get_int64(v);
	if (dev && strncmp(dev, "/dev/", 5) == 0 &&
	    lb_device_holder(&root, dev + 5, pid, why, sizeof(why)) == 1) {
		cli_error("volume %s: %s; not detached (--force to detach anyway)", name, why);
		r = 1;
	}
	json_object_put(o);
	return r;
}

static void log_stderr(void *arg, const char *line)
{
	fprintf(stderr, "lunbridge: %s\n", line);
}

/* A dead kernel-engine volume still counts in its open-iscsi login:
 * uncount it (the last one logs out).  0, or -1 (said). */
static int release_login(const char *dir, const char *name, json_object *o)
{
	const char *portal = json_str(o, "portal"), *target = json_str(o, "target"),
		   *iface = json_str(o, "iface");
	iface_route_portal p;
	struct lb_kernel_login_node n;
	lb_err err = {{0}};
	int r;

	if (!portal || !target || !iface || iface_route_parse_portal(portal, &p, NULL) < 0)
		return 0;
	n = (struct lb_kernel_login_node){
		.target = target, .address = p.addr_str, .port = p.port, .iface = iface};
	r = lb_kernel_login_release(dir, name, &n, 10000, log_stderr, NULL, &err);
	if (r < 0) {
		cli_error("volume %s: %s", name, lb_err_msg(&err, r));
		return -1;
	}
	return 0;
}

/* No bridge runs for name: remove the device its dead bridge left for a
 * successor (a quiesced ublk device, or a kernel NBD device waiting for
 * sockets), and leave its open-iscsi login.  1 if there was one, 0 if
 * not, -1 on error (said). */
static int detach_left_device(const char *dir, const char *name)
{
	struct lb_runtime_lock lock = {.fd = -1};
	json_object *o = NULL;
	const char *dev = NULL, *engine = NULL;
	struct lb_export e;
	lb_err err = {{0}};
	unsigned id;
	int ret = 0, r = 0;

	if (lb_runtime_name_check(name, NULL) < 0 || lb_runtime_lock(dir, name, &lock, &err) < 0)
		return 0;
	if (lock.stale && (o = json_tokener_parse(lock.stale))) {
		dev = json_str(o, "device");
		engine = json_str(o, "engine");
	}
	/* the device as the state names it: /dev/ublkbN or /dev/nbdN */
	if (dev && lb_export_parse(dev, &e, NULL) == 0 && e.index >= 0) {
		id = (unsigned)e.index;
		if (e.kind == LB_EXPORT_UBLK) {
			r = lb_ublk_dev_remove(id, &err);
			ret = 1;
		} else if (e.kind == LB_EXPORT_NBD_KERNEL) {
			/* the index may serve another volume by now: only ours */
			r = lb_nbd_netlink_bound_to(id, name) ? lb_nbd_netlink_disconnect(id, &err)
						      : -ENODEV;
			ret = 1;
		}
	}
	if (ret && r < 0 && r != -ENODEV) {
		cli_error("volume %s: %s", name, lb_err_msg(&err, r));
		ret = -1;
	} else if (ret) {
		printf("detached %s (its bridge had died; %s %s)\n", name, dev,
		       r == 0 ? "removed" : "was gone already");
	}
	if (o && engine && strcmp(engine, "kernel") == 0 && ret >= 0) {
		if (release_login(dir, name, o) < 0)
			ret = -1;
		else if (ret == 0) {
			printf("detached %s (its bridge had died)\n", name);
			ret = 1;
		}
	}
	json_object_put(o);
	/* done with what the dead bridge left; on error keep it for a retry */
	lock.replaced = ret >= 0;
	lb_runtime_unlock(&lock);
	return ret;
}

/* The bridge's process, to wait for its exit once it has answered: the
 * pid NAME.lock holds and its start time, when this /proc shows a
 * lunbridge by that pid (else pid 0: another PID namespace, nothing to
 * wait for but the lock). */
struct bridge_proc {
	long pid;
	unsigned long long start;
};

/* /proc/PID/stat's state and start time; false when there is no PID. */
static bool proc_stat(long pid, char *state, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after the command's ')': state is field 3, starttime field 22 */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1,
			 " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			 "%*s %*s %*s %*s %llu",
			 state, start) != 2)
		return false;
	return true;
}

static void bridge_proc_get(const char *dir, const char *name, struct bridge_proc *bp)
{
	char path[PATH_MAX], comm[32] = "";
	long pid = 0;
	char state;
	FILE *f;

	bp->pid = 0;
	if (lb_runtime_path(dir, name, "lock", path, sizeof(path)) < 0)
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	if (strncmp(comm, "lunbridge", 9) != 0 || !proc_stat(pid, &state, &bp->start))
		return;
	bp->pid = pid;
}

/* Wait until bp's process has exited (gone, a zombie, or its pid taken
 * by another process); -ETIMEDOUT after timeout_ms. */
static int bridge_proc_wait(const struct bridge_proc *bp, uint32_t timeout_ms)
{
	const struct timespec pause = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
	unsigned long long start;
	char state;

	for (uint32_t waited = 0; bp->pid; waited += 20) {
		if (!proc_stat(bp->pid, &state, &start) || start != bp->start || state == 'Z' ||
		    state == 'X')
			return 0;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		nanosleep(&pause, NULL);
	}
	return 0;
}

/* Detach the live volume name; prints its answer.  A CLI_EXIT_ code. */
static int detach_one(const char *dir, const char *name, unsigned long secs, bool force)
{
	_cleanup_free_ char *answer = NULL;
	struct bridge_proc bp;
	lb_err err = {{0}};
	int r;

	if (!force && device_in_use(dir, name))
		return CLI_EXIT_FAILURE;
	bridge_proc_get(dir, name, &bp);
	r = lb_runtime_request(dir, name, "detach", (uint32_t)secs * 1000, &answer, &err);
	if (r < 0) {
		cli_error("%s", lb_err_msg(&err, r));
		return CLI_EXIT_FAILURE;
	}
	if (strncmp(answer, "detached", 8) != 0) {
		answer[strcspn(answer, "\n")] = '\0';
		cli_error("volume %s: %s", name,
			  answer[0] ? answer
				    : "the bridge ended without "
				      "saying it detached");
		return CLI_EXIT_FAILURE;
	}
	/* the bridge has answered; wait for it to give the name back and
	 * to be gone (a caller may unload modules or reuse the device) */
	r = lb_runtime_wait_released(dir, name, 10000);
	/* the process too, also when NAME.lock is gone already (ENOENT: the
	 * bridge removes it before it exits, and what follows may take a
	 * while: a sanitizer's leak check did) */
	if (r != -ETIMEDOUT)
		r = bridge_proc_wait(&bp, 10000);
	if (r == -ETIMEDOUT) {
		cli_error("volume %s detached, but its bridge has not exited after 10 s", name);
		return CLI_EXIT_FAILURE;
	}
	fputs(answer, stdout);
	return CLI_EXIT_OK;
}

/* Every live volume, in turn; CLI_EXIT_FAILURE if any is left. */
static int detach_all(const char *dir, unsigned long secs, bool force)
{
	char **names = NULL;
	size_t n = 0;
	lb_err err = {{0}};
	int ret = CLI_EXIT_OK, r;

	r = lb_runtime_list(dir, &names, &n, &err);
	if (r < 0) {
		cli_error("%s", lb_err_msg(&err, r));
		return CLI_EXIT_FAILURE;
	}
	for (size_t i = 0; i < n; i++) {
		/* one that went away meanwhile is as good as detached */
		if (lb_runtime_live(dir, names[i]) && detach_one(dir, names[i], secs, force) != 0)
			ret = CLI_EXIT_FAILURE;
		free(names[i]);
	}
	free(names);
	return ret;
}

int cli_detach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"timeout", required_argument, NULL, 't'}, {"force", no_argument, NULL, 'f'},
		{"if-attached", no_argument, NULL, 'i'},   {"all", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},	   {NULL, 0, NULL, 0},
	};
	const char *dir = lb_runtime_dir();
	char name[LB_VOLUME_NAME_MAX + 1], *end;
	unsigned long secs = 300;
	bool force = false, if_attached = false, all = false;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			errno = 0;
			secs = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' || secs < 1 ||
			    secs > 86400)
				return cli_usage_error("detach",
						       "--timeout: '%s' is not a number from 1 to "
						       "86400",
						       optarg);
			break;
		case 'f':
			force = true;
			break;
		case 'i':
			if_attached = true;
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			fputs(detach_help, stdout);
			return CLI_EXIT_OK;
		case ':':
			return cli_usage_error("detach", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error("detach", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (all) {
		if (optind < argc)
			return cli_usage_error("detach", "--all takes no volume, got '%s'",
					       argv[optind]);
		if (if_attached)
			return cli_usage_error("detach", "--all and --if-attached: choose one");
		return detach_all(dir, secs, force);
	}
	if (optind >= argc)
		return cli_usage_error("detach", "which volume? Name it, or its device (or --all)");
	if (optind + 1 < argc)
		return cli_usage_error("detach", "unexpected argument '%s'", argv[optind + 1]);
	if (find_volume(dir, argv[optind], name, sizeof(name)) < 0) {
		r = detach_left_device(dir, argv[optind]);
		if (r != 0)
			return r > 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
		/* orchestrators detach again after a crash: done is done */
		if (if_attached)
			return CLI_EXIT_OK;
		cli_error("no attached volume is named '%s' or has it as device or export",
			  argv[optind]);
		return CLI_EXIT_FAILURE;
	}
	return detach_one(dir, name, secs, force);
}
