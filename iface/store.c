/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The record directory.
 *
 * Writes are atomic (a temporary file in the same directory, fsync, rename,
 * fsync of the directory) and serialised: with flock() on the directory
 * among lunbridge processes, and, for open-iscsi's own directory, with
 * open-iscsi's database lock (/run/lock/iscsi/lock.write, taken by link()
 * as iscsiadm takes it) so that an iscsiadm writing at the same moment
 * waits for us and we for it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "iface-internal.h"

#define IFACE_DIR_ETC "/etc/iscsi/ifaces"
#define IFACE_DIR_VAR "/var/lib/iscsi/ifaces"
#define IFACE_FILE_MAX (64 * 1024)

/* open-iscsi's idbm_lock(): link(LOCK_FILE, LOCK_WRITE_FILE) until it works. */
#define ISCSI_LOCK_DIR "/run/lock/iscsi"
#define ISCSI_LOCK_FILE ISCSI_LOCK_DIR "/lock"
#define ISCSI_LOCK_WRITE_FILE ISCSI_LOCK_DIR "/lock.write"
#define ISCSI_LOCK_TRIES 3000 /* 10 ms apart, as iscsiadm */

struct iface_store {
	char *dir;
	bool system; /* open-iscsi's own directory: take its lock too */
};

DEFINE_CLEANUP_FUNC(iface_rec, iface_rec_free)
DEFINE_CLEANUP_FUNC(iface_list, iface_list_free)

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *system_dir(void)
{
	/* Debian 12's open-iscsi keeps its database in /etc/iscsi; newer
	 * builds keep it in /var/lib/iscsi.  Whichever holds ifaces wins;
	 * else whichever database exists; else /etc/iscsi. */
	if (is_dir(IFACE_DIR_ETC))
		return IFACE_DIR_ETC;
	if (is_dir(IFACE_DIR_VAR))
		return IFACE_DIR_VAR;
	if (is_dir("/etc/iscsi/nodes") || is_dir("/etc/iscsi/send_targets"))
		return IFACE_DIR_ETC;
	if (is_dir("/var/lib/iscsi"))
		return IFACE_DIR_VAR;
	return IFACE_DIR_ETC;
}

int iface_store_open(const char *dir, iface_store **ret, lb_err *err)
{
	iface_store *s;
	const char *env = getenv("LUNBRIDGE_IFACE_DIR");
	bool system = false;

	if (!dir && env && *env)
		dir = env;
	if (!dir) {
		dir = system_dir();
		system = true;
	}
	if (!*dir)
		return lb_err_set(err, EINVAL, "empty iface directory name");
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dir = strdup(dir);
	if (!s->dir) {
		free(s);
		return -ENOMEM;
	}
	s->system = system;
	*ret = s;
	return 0;
}

void iface_store_free(iface_store *s)
{
	if (!s)
		return;
	free(s->dir);
	free(s);
}

const char *iface_store_dir(const iface_store *s)
{
	return s->dir;
}

/* ---- reading ---------------------------------------------------------- */

static int read_file_at(int dirfd, const char *name, char **ret, size_t *ret_len, lb_err *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return lb_err_set(err, errno, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0)
		return lb_err_set(err, errno, "cannot stat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return lb_err_set(err, EINVAL, "not a regular file");
	if (st.st_size > IFACE_FILE_MAX)
		return lb_err_set(err, EFBIG, "larger than %d bytes; not a record", IFACE_FILE_MAX);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return lb_err_set(err, errno, "cannot read: %s", strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

static int open_dir(const iface_store *s, bool create, lb_err *err)
{
	int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && create) {
		/* iscsiadm makes it 0700. */
		if (mkdir(s->dir, 0700) < 0 && errno != EEXIST)
			return lb_err_set(err, errno, "cannot create %s: %s", s->dir,
					  strerror(errno));
		fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return lb_err_set(err, errno, "cannot open %s: %s", s->dir, strerror(errno));
	return fd;
}

static int load_at(int dirfd, const char *name, iface_rec **ret, lb_err *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int rc;

	rc = read_file_at(dirfd, name, &text, &len, err);
	if (rc < 0)
		return rc;
	return iface_rec_parse(name, text, len, ret, err);
}

int iface_store_load(iface_store *s, const char *name, iface_rec **ret, lb_err *err)
{
	_cleanup_close_ int dirfd = -1;
	lb_err e = {{0}};
	int rc;

	rc = iface_name_check(name, err);
	if (rc < 0)
		return rc;
	if (iface_name_is_builtin(name))
		return iface_rec_builtin(name, ret);
	dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 && errno == ENOENT)
		return lb_err_set(err, ENOENT, "no such iface record in %s", s->dir);
	if (dirfd < 0)
		return lb_err_set(err, errno, "cannot open %s: %s", s->dir, strerror(errno));
	rc = load_at(dirfd, name, ret, &e);
	if (rc == -ENOENT)
		return lb_err_set(err, ENOENT, "no such iface record in %s", s->dir);
	if (rc < 0)
		return lb_err_set(err, rc, "%s/%s: %s", s->dir, name, lb_err_msg(&e, rc));
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int strv_push(char ***v, size_t *n, char *s)
{
	char **grown;

	if (!s)
		return -ENOMEM;
	grown = realloc(*v, (*n + 1) * sizeof(*grown));
	if (!grown) {
		free(s);
		return -ENOMEM;
	}
	*v = grown;
	(*v)[(*n)++] = s;
	return 0;
}

static int list_names(int dirfd, char ***ret, size_t *ret_n)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int dupfd, rc = 0;

	dupfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (dupfd < 0)
		return -errno;
	d = fdopendir(dupfd);
	if (!d) {
		rc = -errno;
		close(dupfd);
		return rc;
	}
	while ((de = readdir(d))) {
		/* Dot files are ours (temporaries) or nobody's. */
		if (de->d_name[0] == '.')
			continue;
		rc = strv_push(&names, &n, strdup(de->d_name));
		if (rc < 0)
			break;
	}
	closedir(d);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return rc;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*ret = names;
	*ret_n = n;
	return 0;
}

static int list_push_rec(iface_list *l, iface_rec *r)
{
	iface_rec **grown = realloc(l->recs, (l->n + 1) * sizeof(*grown));

	if (!grown) {
		iface_rec_free(r);
		return -ENOMEM;
	}
	l->recs = grown;
	l->recs[l->n++] = r;
	return 0;
}

static int list_push_bad(iface_list *l, const char *name, const char *why)
{
	char *s;

	if (asprintf(&s, "%s: %s", name, why) < 0)
		return -ENOMEM;
	return strv_push(&l->bad, &l->nbad, s);
}

int iface_store_list(iface_store *s, iface_list **ret, lb_err *err)
{
	_cleanup_(iface_list_freep) iface_list *l = NULL;
	_cleanup_close_ int dirfd = -1;
	char **names = NULL;
	size_t nnames = 0;
	int rc = 0;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;

	dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 && errno != ENOENT)
		return lb_err_set(err, errno, "cannot open %s: %s", s->dir, strerror(errno));
	if (dirfd >= 0) {
		rc = list_names(dirfd, &names, &nnames);
		if (rc < 0)
			return lb_err_set(err, rc, "cannot list %s: %s", s->dir, strerror(-rc));
	}

	for (size_t i = 0; i < nnames && rc >= 0; i++) {
		iface_rec *r = NULL;
		lb_err e = {{0}};
		int lrc;

		if (iface_name_is_builtin(names[i])) {
			rc = list_push_bad(l, names[i], "a file cannot replace a built-in record");
			continue;
		}
		lrc = iface_name_check(names[i], &e);
		if (lrc >= 0)
			lrc = load_at(dirfd, names[i], &r, &e);
		if (lrc >= 0 && !iface_rec_transport(r)) {
			lrc = lb_err_set(&e, EINVAL, "no iface.transport_name");
			iface_rec_free(r);
		}
		if (lrc < 0)
			rc = list_push_bad(l, names[i], lb_err_msg(&e, lrc));
		else
			rc = list_push_rec(l, r);
	}
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	if (rc < 0)
		return rc;

	for (const char *const *b = (const char *const[]){"default", "iser", NULL}; *b; b++) {
		iface_rec *r;

		rc = iface_rec_builtin(*b, &r);
		if (rc >= 0)
			rc = list_push_rec(l, r);
		if (rc < 0)
			return rc;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

void iface_list_free(iface_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		iface_rec_free(l->recs[i]);
	for (size_t i = 0; i < l->nbad; i++)
		free(l->bad[i]);
	free(l->recs);
	free(l->bad);
	free(l);
}

/* ---- locking ---------------------------------------------------------- */

typedef struct store_lock {
	int dirfd;
	bool iscsi_locked;
} store_lock;

static int iscsi_db_lock(lb_err *err)
{
	struct timespec ten_ms = {0, 10 * 1000 * 1000};
	_cleanup_close_ int fd = -1;

	if (mkdir("/run/lock", 0755) < 0 && errno != EEXIST)
		return lb_err_set(err, errno, "cannot create /run/lock: %s", strerror(errno));
	if (mkdir(ISCSI_LOCK_DIR, 0660) < 0 && errno != EEXIST)
		return lb_err_set(err, errno, "cannot create %s: %s", ISCSI_LOCK_DIR,
				  strerror(errno));
	fd = open(ISCSI_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return lb_err_set(err, errno, "cannot create %s: %s", ISCSI_LOCK_FILE,
				  strerror(errno));
	for (int i = 0; i < ISCSI_LOCK_TRIES; i++) {
		if (link(ISCSI_LOCK_FILE, ISCSI_LOCK_WRITE_FILE) == 0)
			return 0;
		if (errno != EEXIST)
			return lb_err_set(err, errno, "cannot take open-iscsi's lock %s: %s",
					  ISCSI_LOCK_WRITE_FILE, strerror(errno));
		(void)nanosleep(&ten_ms, NULL);
	}
	return lb_err_set(err, ETIMEDOUT,
			  "open-iscsi's database lock %s has been held for 30 s; if no iscsiadm is "
			  "running, it is stale and can be removed",
			  ISCSI_LOCK_WRITE_FILE);
}

static int store_lock_take(const iface_store *s, store_lock *lk, lb_err *err)
{
	int rc;

	lk->iscsi_locked = false;
	lk->dirfd = open_dir(s, true, err);
	if (lk->dirfd < 0)
		return lk->dirfd;
	if (flock(lk->dirfd, LOCK_EX) < 0) {
		rc = lb_err_set(err, errno, "cannot lock %s: %s", s->dir, strerror(errno));
		goto fail;
	}
	if (s->system) {
		rc = iscsi_db_lock(err);
		if (rc < 0)
			goto fail;
		lk->iscsi_locked = true;
	}
	return 0;
fail:
	close(lk->dirfd);
	lk->dirfd = -1;
	return rc;
}

static void store_lock_release(store_lock *lk)
{
	if (lk->iscsi_locked)
		(void)unlink(ISCSI_LOCK_WRITE_FILE);
	if (lk->dirfd >= 0)
		close(lk->dirfd); /* drops the flock */
	lk->dirfd = -1;
	lk->iscsi_locked = false;
}

/* ---- writing ---------------------------------------------------------- */

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int render(const iface_rec *r, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return -ENOMEM;
	rc = iface_rec_write(r, IFACE_FORMAT_FILE, f);
	if (fclose(f) != 0 && rc >= 0)
		rc = -ENOMEM;
	if (rc < 0)
		return rc;
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/*
 * Write R as DIR/NAME through a temporary file.  With NOREPLACE the rename
 * fails with -EEXIST rather than replace a record that appeared meanwhile
 * (written by iscsiadm, which does not share our flock).
 */
static int write_atomic(const iface_store *s, int dirfd, const iface_rec *r, bool noreplace,
			lb_err *err)
{
	_cleanup_free_ char *text = NULL;
	char tmp[IFACE_NAME_MAX + 16];
	size_t len;
	int fd, rc;

	rc = render(r, &text, &len);
	if (rc < 0)
		return lb_err_set(err, rc, "cannot format the record: %s", strerror(-rc));

	for (int attempt = 0;; attempt++) {
		(void)snprintf(tmp, sizeof(tmp), ".%s.%06x", r->name,
			       (unsigned)((getpid() * 31 + attempt) & 0xffffff));
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST || attempt > 100)
			break;
	}
	if (fd < 0)
		return lb_err_set(err, errno, "cannot create a temporary file in %s: %s", s->dir,
				  strerror(errno));

	rc = write_all(fd, text, len);
	if (rc >= 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc >= 0)
		rc = -errno;
	if (rc < 0) {
		(void)unlinkat(dirfd, tmp, 0);
		return lb_err_set(err, rc, "cannot write %s/%s: %s", s->dir, tmp, strerror(-rc));
	}

	if (noreplace)
		rc = renameat2(dirfd, tmp, dirfd, r->name, RENAME_NOREPLACE);
	else
		rc = renameat(dirfd, tmp, dirfd, r->name);
	if (rc < 0) {
		rc = -errno;
		(void)unlinkat(dirfd, tmp, 0);
		if (rc == -EEXIST)
			return lb_err_set(err, EEXIST, "a record with that name already exists");
		return lb_err_set(err, rc, "cannot rename into %s/%s: %s", s->dir, r->name,
				  strerror(-rc));
	}
	if (fsync(dirfd) < 0)
		return lb_err_set(err, errno, "cannot sync %s: %s", s->dir, strerror(errno));
	return 0;
}

static int refuse_builtin(const char *name, lb_err *err)
{
	if (iface_name_is_builtin(name))
		return lb_err_set(err, EPERM,
				  "'%s' is built into open-iscsi and cannot be written, updated or "
				  "deleted",
				  name);
	return 0;
}

int iface_store_create(iface_store *s, const iface_rec *r, lb_err *err)
{
	store_lock lk;
	int rc;

	rc = refuse_builtin(r->name, err);
	if (rc < 0)
		return rc;
	rc = iface_rec_validate(r, IFACE_VALIDATE_STORE, err);
	if (rc < 0)
		return rc;
	rc = store_lock_take(s, &lk, err);
	if (rc < 0)
		return rc;
	rc = write_atomic(s, lk.dirfd, r, true, err);
	store_lock_release(&lk);
	return rc;
}

static int replace_locked(iface_store *s, int dirfd, const iface_rec *r, lb_err *err)
{
	struct stat st;

	if (fstatat(dirfd, r->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return lb_err_set(err, ENOENT, "no such iface record in %s", s->dir);
		return lb_err_set(err, errno, "cannot stat %s/%s: %s", s->dir, r->name,
				  strerror(errno));
	}
	return write_atomic(s, dirfd, r, false, err);
}

int iface_store_replace(iface_store *s, const iface_rec *r, lb_err *err)
{
	store_lock lk;
	int rc;

	rc = refuse_builtin(r->name, err);
	if (rc < 0)
		return rc;
	rc = iface_rec_validate(r, IFACE_VALIDATE_STORE, err);
	if (rc < 0)
		return rc;
	rc = store_lock_take(s, &lk, err);
	if (rc < 0)
		return rc;
	rc = replace_locked(s, lk.dirfd, r, err);
	store_lock_release(&lk);
	return rc;
}

int iface_store_update(iface_store *s, const char *name, const char *key, const char *value,
		       lb_err *err)
{
	_cleanup_(iface_rec_freep) iface_rec *r = NULL;
	store_lock lk;
	lb_err e = {{0}};
	int rc;

	rc = iface_name_check(name, err);
	if (rc < 0)
		return rc;
	rc = refuse_builtin(name, err);
	if (rc < 0)
		return rc;
	rc = store_lock_take(s, &lk, err);
	if (rc < 0)
		return rc;

	/* Read, change and write under the lock, so concurrent updates of
	 * two keys both land. */
	rc = load_at(lk.dirfd, name, &r, &e);
	if (rc == -ENOENT)
		rc = lb_err_set(err, ENOENT, "no such iface record in %s", s->dir);
	else if (rc < 0)
		rc = lb_err_set(err, rc, "%s/%s: %s", s->dir, name, lb_err_msg(&e, rc));
	if (rc >= 0)
		rc = iface_rec_set(r, key, value, err);
	if (rc >= 0)
		rc = iface_rec_validate(r, IFACE_VALIDATE_STORE, err);
	if (rc >= 0)
		rc = write_atomic(s, lk.dirfd, r, false, err);
	store_lock_release(&lk);
	return rc;
}

int iface_store_delete(iface_store *s, const char *name, lb_err *err)
{
	store_lock lk;
	int rc;

	rc = iface_name_check(name, err);
	if (rc < 0)
		return rc;
	rc = refuse_builtin(name, err);
	if (rc < 0)
		return rc;
	rc = store_lock_take(s, &lk, err);
	if (rc < 0)
		return rc;
	if (unlinkat(lk.dirfd, name, 0) < 0) {
		if (errno == ENOENT)
			rc = lb_err_set(err, ENOENT, "no such iface record in %s", s->dir);
		else
			rc = lb_err_set(err, errno, "cannot delete %s/%s: %s", s->dir, name,
					strerror(errno));
	} else if (fsync(lk.dirfd) < 0) {
		rc = lb_err_set(err, errno, "cannot sync %s: %s", s->dir, strerror(errno));
	}
	store_lock_release(&lk);
	return rc;
}
