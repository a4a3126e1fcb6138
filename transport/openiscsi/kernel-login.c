/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The shared, counted open-iscsi login of kernel-engine volumes. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <json-c/json.h>
#include <libudev.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "kernel-login.h"
#include "openiscsi.h"
#include "runtime.h"

#define ISCSIADM_SLACK_MS 60000u

struct registry {
	char dir[PATH_MAX];
	char path[PATH_MAX]; /* this login's entry */
	int lock_fd;
	/* the entry */
	char **volumes;
	size_t n;
	bool created_node;
};

static void kernel_login_log(void (*log)(void *, const char *), void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void kernel_login_log(void (*log)(void *, const char *), void *arg, const char *fmt, ...)
{
	char line[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log)
		log(arg, line);
	else
		fprintf(stderr, "%s\n", line);
}

static void registry_free_volumes(struct registry *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->volumes[i]);
	free(g->volumes);
	g->volumes = NULL;
	g->n = 0;
}

static void registry_close(struct registry *g)
{
	registry_free_volumes(g);
	if (g->lock_fd >= 0)
		close(g->lock_fd); /* and the lock with it */
	g->lock_fd = -1;
}

static int registry_add(struct registry *g, const char *name)
{
	char **v;

	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->volumes[i], name) == 0)
			return 0;
	v = reallocarray(g->volumes, g->n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	g->volumes = v;
	v[g->n] = strdup(name);
	if (!v[g->n])
		return -ENOMEM;
	g->n++;
	return 0;
}

/* Take the lock and read the entry of node n (none: empty). */
static int registry_open(const char *run_dir, const struct lb_kernel_login_node *n,
			 struct registry *g, lb_err *err)
{
	_cleanup_free_ char *text = NULL;
	struct json_object *o, *x;
	char lock[PATH_MAX + 8];
	FILE *f;
	int r;

	memset(g, 0, sizeof(*g));
	g->lock_fd = -1;
	if (snprintf(g->dir, sizeof(g->dir), "%s/openiscsi", run_dir) >= (int)sizeof(g->dir) ||
	    snprintf(g->path, sizeof(g->path), "%s/%s,%s,%u,%s.json", g->dir, n->target,
		     n->address, n->port, n->iface) >= (int)sizeof(g->path))
		return lb_err_set(err, ENAMETOOLONG, "run directory path too long");
	if (strchr(n->target, '/') || strchr(n->iface, '/') || strchr(n->address, '/'))
		return lb_err_set(err, EINVAL, "a target, address or iface name holds '/'");
	(void)mkdir(run_dir, 0700);
	if (mkdir(g->dir, 0700) < 0 && errno != EEXIST)
		return lb_err_set(err, errno, "%s: %m", g->dir);
	snprintf(lock, sizeof(lock), "%s/.lock", g->dir);
	g->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (g->lock_fd < 0)
		return lb_err_set(err, errno, "%s: %m", lock);
	while ((r = flock(g->lock_fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		r = lb_err_set(err, errno, "%s: %m", lock);
		registry_close(g);
		return r;
	}
	f = fopen(g->path, "re");
	if (!f)
		return errno == ENOENT ? 0 : lb_err_set(err, errno, "%s: %m", g->path);
	{
		size_t cap = 0;
		ssize_t len = getdelim(&text, &cap, '\0', f);

		fclose(f);
		if (len < 0)
			return 0;
	}
	o = json_tokener_parse(text);
	if (!o)
		return 0; /* unreadable: as if none, rewritten below */
	if (json_object_object_get_ex(o, "created_node", &x))
		g->created_node = json_object_get_boolean(x);
	if (json_object_object_get_ex(o, "volumes", &x) && json_object_is_type(x, json_type_array))
		for (size_t i = 0; i < json_object_array_length(x); i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(x, i));

			if (s && lb_runtime_name_check(s, NULL) == 0 && registry_add(g, s) < 0) {
				json_object_put(o);
				return lb_err_set(err, ENOMEM, "out of memory");
			}
		}
	json_object_put(o);
	return 0;
}

/* Drop self and the names of volumes no live bridge holds. */
static void registry_prune(struct registry *g, const char *run_dir, const char *self)
{
	char **live = NULL;
	size_t nlive = 0, k = 0;

	if (lb_runtime_list(run_dir, &live, &nlive, NULL) < 0)
		nlive = 0;
	for (size_t i = 0; i < g->n; i++) {
		bool keep = strcmp(g->volumes[i], self) != 0 && live;

		if (keep) {
			keep = false;
			for (size_t j = 0; j < nlive && !keep; j++)
				keep = strcmp(live[j], g->volumes[i]) == 0;
		}
		if (keep)
			g->volumes[k++] = g->volumes[i];
		else
			free(g->volumes[i]);
	}
	g->n = k;
	for (size_t j = 0; j < nlive; j++)
		free(live[j]);
	free(live);
}

/* Write the entry (or remove it when no volume is left). */
static int registry_save(struct registry *g, const struct lb_kernel_login_node *n, lb_err *err)
{
	struct json_object *o, *a;
	char *text;
	int r;

	if (g->n == 0) {
		if (unlink(g->path) < 0 && errno != ENOENT)
			return lb_err_set(err, errno, "%s: %m", g->path);
		return 0;
	}
	o = json_object_new_object();
	a = json_object_new_array();
	json_object_object_add(o, "target", json_object_new_string(n->target));
	json_object_object_add(o, "address", json_object_new_string(n->address));
	json_object_object_add(o, "port", json_object_new_int(n->port));
	json_object_object_add(o, "iface", json_object_new_string(n->iface));
	json_object_object_add(o, "created_node", json_object_new_boolean(g->created_node));
	for (size_t i = 0; i < g->n; i++)
		json_object_array_add(a, json_object_new_string(g->volumes[i]));
	json_object_object_add(o, "volumes", a);
	if (asprintf(&text, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0) {
		r = lb_err_set(err, ENOMEM, "out of memory");
	} else {
		r = lb_runtime_write_file(g->path, text, err);
		free(text);
	}
	json_object_put(o);
	return r;
}

static void node_of(const struct lb_kernel_login_node *kn, char *portal, size_t len,
		    uint32_t timeout_ms, struct lb_openiscsi_node *ret)
{
	if (lb_openiscsi_portal(kn->address, kn->port, portal, len) < 0)
		portal[0] = '\0';
	*ret = (struct lb_openiscsi_node){
		.iqn = kn->target, .portal = portal, .iface = kn->iface, .timeout_ms = timeout_ms};
}

/* The node records on this iface there are now, as paths. */
static void records_now(const char *iface, glob_t *g)
{
	char pat[PATH_MAX];

	memset(g, 0, sizeof(*g));
	snprintf(pat, sizeof(pat), "%s/*/*/%s", LB_OPENISCSI_NODES_DIR, iface);
	(void)glob(pat, 0, NULL, g); /* none: gl_pathc 0 */
}

static bool records_had(const glob_t *g, const char *path)
{
	for (size_t i = 0; i < g->gl_pathc; i++)
		if (strcmp(g->gl_pathv[i], path) == 0)
			return true;
	return false;
}

/* Discovery, then delete what it created that is not ours; the tpgt of
 * our portal's record. */
static int discover(const struct lb_kernel_login_config *c, const struct lb_openiscsi_node *on,
		    uint16_t *tpgt, lb_err *err)
{
	_cleanup_free_ struct lb_openiscsi_target *t = NULL;
	const struct lb_kernel_login_node *kn = &c->node;
	char path[PATH_MAX], found[512] = "";
	size_t n = 0, flen = 0;
	bool ours = false;
	glob_t before;
	int r;

	records_now(kn->iface, &before);
	kernel_login_log(c->log, c->log_arg, "open-iscsi: iscsiadm -m discovery -t st -p %s -I %s", on->portal,
	     on->iface);
	r = lb_openiscsi_discover(on, &t, &n, err);
	if (r < 0) {
		globfree(&before);
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		bool mine = strcmp(t[i].iqn, kn->target) == 0 &&
			    strcmp(t[i].address, kn->address) == 0 && t[i].port == kn->port;
		struct lb_openiscsi_node other = *on;
		char portal[80];
		lb_err e2 = {{0}};

		if (flen < sizeof(found) - 1)
			flen += (size_t)snprintf(found + flen, sizeof(found) - flen, "%s%s",
						 flen ? ", " : "", t[i].iqn);
		if (mine) {
			ours = true;
			*tpgt = t[i].tpgt;
			continue;
		}
		if (lb_openiscsi_node_path(NULL, t[i].iqn, t[i].address, t[i].port, t[i].tpgt,
					   kn->iface, path, sizeof(path)) < 0 ||
		    records_had(&before, path) || access(path, F_OK) < 0)
			continue;
		/* SendTargets made it for us; nobody asked for it */
		if (lb_openiscsi_portal(t[i].address, t[i].port, portal, sizeof(portal)) < 0)
			continue;
		other.iqn = t[i].iqn;
		other.portal = portal;
		if (lb_openiscsi_node_delete(&other, &e2) < 0)
			kernel_login_log(c->log, c->log_arg, "open-iscsi: %s", e2.msg);
	}
	globfree(&before);
	if (!ours)
		return lb_err_set(err, ENOENT, "discovery at %s on iface %s does not offer %s (%s%s)",
				  on->portal, on->iface, kn->target, n ? "it offers: " : "no target",
				  n ? found : "");
	return 0;
}

static char *secret_text(const uint8_t *s, size_t len)
{
	char *t = malloc(len + 1);

	if (t) {
		memcpy(t, s, len);
		t[len] = '\0';
	}
	return t;
}

/* CHAP and digests into the node record: names with --op=update, the
 * secrets written into the record file. */
static int configure(const struct lb_kernel_login_config *c, const struct lb_openiscsi_node *on,
		     uint16_t tpgt, lb_err *err)
{
	const struct lb_kernel_login_node *kn = &c->node;
	char secs[16];
	int r;

	snprintf(secs, sizeof(secs), "%u", c->timeout_ms / 1000 ? c->timeout_ms / 1000 : 1);
	r = lb_openiscsi_node_update(on, "node.conn[0].timeo.login_timeout", secs, err);
	if (r == 0)
		r = lb_openiscsi_node_update(on, "node.conn[0].iscsi.HeaderDigest",
					     c->header_digest ? "CRC32C" : "None", err);
	if (r == 0)
		r = lb_openiscsi_node_update(on, "node.conn[0].iscsi.DataDigest",
					     c->data_digest ? "CRC32C" : "None", err);
	if (r < 0 || !c->chap_user)
		return r;
	r = lb_openiscsi_node_update(on, "node.session.auth.authmethod", "CHAP", err);
	if (r == 0)
		r = lb_openiscsi_node_update(on, "node.session.auth.username", c->chap_user, err);
	if (r == 0 && c->chap_target_user)
		r = lb_openiscsi_node_update(on, "node.session.auth.username_in",
					     c->chap_target_user, err);
	if (r == 0 && c->chap_algs)
		r = lb_openiscsi_node_update(on, "node.session.auth.chap_algs", c->chap_algs, err);
	if (r == 0) {
		char path[PATH_MAX];
		char *pw = secret_text(c->chap_secret, c->chap_secret_len);
		char *pw_in = c->chap_target_secret
				      ? secret_text(c->chap_target_secret, c->chap_target_secret_len)
				      : NULL;
		const char *keys[] = {"node.session.auth.password",
				      "node.session.auth.password_in"};
		const char *values[] = {pw, pw_in};

		if (!pw || (c->chap_target_secret && !pw_in))
			r = lb_err_set(err, ENOMEM, "out of memory");
		else if (lb_openiscsi_node_path(NULL, kn->target, kn->address, kn->port, tpgt,
						kn->iface, path, sizeof(path)) < 0)
			r = lb_err_set(err, EINVAL, "node record path too long");
		else
			r = lb_openiscsi_node_file_set(path, keys, values, pw_in ? 2 : 1, err);
		if (pw)
			explicit_bzero(pw, strlen(pw));
		if (pw_in)
			explicit_bzero(pw_in, strlen(pw_in));
		free(pw);
		free(pw_in);
	}
	return r;
}

static int find_session(const struct lb_kernel_login_node *kn, struct lb_kernel_disk_session *ret,
			lb_err *err)
{
	struct udev *u = udev_new();
	int r;

	if (!u)
		return lb_err_set(err, ENOMEM, "cannot use libudev");
	r = lb_kernel_disk_find_session(u, kn->target, kn->address, kn->port, kn->iface, ret, err);
	udev_unref(u);
	return r;
}

int lb_kernel_login_acquire(const struct lb_kernel_login_config *c, struct lb_kernel_login *ret,
			    lb_err *err)
{
	const struct lb_kernel_login_node *kn = &c->node;
	uint32_t adm_ms = c->timeout_ms * 10 + ISCSIADM_SLACK_MS;
	struct registry g;
	struct lb_openiscsi_node on;
	char portal[80];
	uint16_t tpgt = 1;
	bool had_record = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	node_of(kn, portal, sizeof(portal), adm_ms, &on);
	r = registry_open(c->run_dir, kn, &g, err);
	if (r < 0)
		return r;
	registry_prune(&g, c->run_dir, c->volume);
	if (g.n && find_session(kn, &ret->session, NULL) == 0 &&
	    strcmp(ret->session.state, "LOGGED_IN") == 0) {
		kernel_login_log(c->log, c->log_arg,
		     "open-iscsi: joining session %u of %s on iface %s (%zu other volume%s)",
		     ret->session.sid, kn->target, kn->iface, g.n, g.n == 1 ? "" : "s");
		goto counted;
	}
	r = lb_openiscsi_node_exists(&on, err);
	if (r < 0)
		goto out;
	had_record = r == 1;
	r = discover(c, &on, &tpgt, err);
	if (r < 0)
		goto undo;
	if (!had_record)
		g.created_node = true;
	r = configure(c, &on, tpgt, err);
	if (r < 0)
		goto undo;
	kernel_login_log(c->log, c->log_arg, "open-iscsi: iscsiadm -m node -T %s -p %s -I %s --login",
	     kn->target, portal, kn->iface);
	r = lb_openiscsi_login(&on, err);
	if (r < 0)
		goto undo;
	ret->new_login = r == 0;
	r = find_session(kn, &ret->session, err);
	if (r < 0) {
		if (ret->new_login && g.n == 0)
			(void)lb_openiscsi_logout(&on, NULL);
		goto undo;
	}
counted:
	ret->created_node = g.created_node;
	r = registry_add(&g, c->volume);
	if (r < 0)
		lb_err_set(err, -r, "out of memory");
	else
		r = registry_save(&g, kn, err);
	if (r < 0 && ret->new_login && g.n <= 1)
		(void)lb_openiscsi_logout(&on, NULL);
	if (r == 0)
		goto out;
undo:
	/* nothing of ours is left: no record a volume would not delete */
	if (g.n == 0 && g.created_node) {
		(void)lb_openiscsi_node_delete(&on, NULL);
		g.created_node = false;
		(void)registry_save(&g, kn, NULL);
	}
out:
	registry_close(&g);
	return r;
}

int lb_kernel_login_release(const char *run_dir, const char *volume,
			    const struct lb_kernel_login_node *kn, uint32_t timeout_ms,
			    void (*log)(void *arg, const char *line), void *log_arg, lb_err *err)
{
	struct registry g;
	struct lb_openiscsi_node on;
	char portal[80];
	int r;

	node_of(kn, portal, sizeof(portal), timeout_ms * 10 + ISCSIADM_SLACK_MS, &on);
	r = registry_open(run_dir, kn, &g, err);
	if (r < 0)
		return r;
	registry_prune(&g, run_dir, volume);
	if (g.n) {
		kernel_login_log(log, log_arg, "open-iscsi: the session to %s stays logged in for %zu other volume%s",
		     kn->target, g.n, g.n == 1 ? "" : "s");
		r = registry_save(&g, kn, err);
		registry_close(&g);
		return r;
	}
	kernel_login_log(log, log_arg, "open-iscsi: iscsiadm -m node -T %s -p %s -I %s --logout", kn->target,
	     portal, kn->iface);
	r = lb_openiscsi_logout(&on, err);
	if (r >= 0 && g.created_node) {
		kernel_login_log(log, log_arg, "open-iscsi: deleting the node record lunbridge created");
		r = lb_openiscsi_node_delete(&on, err);
	}
	if (r >= 0)
		r = registry_save(&g, kn, err); /* no volume: the entry goes */
	registry_close(&g);
	return r < 0 ? r : 0;
}
