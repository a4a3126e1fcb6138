/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fixtures shared by the unit tests and the fuzz replayers. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-helpers.h"

int test_tmpdir_new(const char *tag, char *buf, size_t size)
{
	int n = snprintf(buf, size, "/tmp/lb-%s-XXXXXX", tag);

	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	return mkdtemp(buf) ? 0 : -errno;
}

static int remove_errno; /* why remove_one() stopped the walk */

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (remove(path) == 0)
		return 0;
	remove_errno = errno;
	return 1;
}

int test_tmpdir_remove(const char *dir)
{
	int rc;

	/* never a relative path or the root: this is rm -rf */
	if (!dir || dir[0] != '/' || dir[strspn(dir, "/")] == '\0')
		return -EINVAL;
	remove_errno = 0;
	rc = nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	if (rc == 1)
		return -remove_errno;
	return rc < 0 ? -errno : 0;
}

int test_write_file(const char *path, const char *text)
{
	size_t len = strlen(text), off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	int rc = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

char *test_read_file(const char *path, size_t *len)
{
	size_t cap = 4096, off = 0;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int saved;

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n;

		if (!buf || cap - off < 2) {
			char *more;

			cap = buf ? cap * 2 : cap;
			more = realloc(buf, cap);
			if (!more)
				goto fail;
			buf = more;
		}
		n = read(fd, buf + off, cap - off - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	if (len)
		*len = off;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}
