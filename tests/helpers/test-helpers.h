/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fixtures shared by the unit tests and the fuzz replayers, instead of a
 * copy in every test (after liburing's test/helpers.c): a private
 * temporary directory, a small file written into it, a file read back.
 *
 * Plain C, no cmocka: each function returns 0 or -errno (or a pointer, and
 * NULL with errno set), prints nothing, and leaves the verdict to the test,
 * which asserts on the result.
 */
#ifndef LUNBRIDGE_TEST_HELPERS_H
#define LUNBRIDGE_TEST_HELPERS_H

#include <stddef.h>

/* Creates a new directory /tmp/lb-TAG-XXXXXX (mode 0700), its path into buf; 0 or -errno. */
int test_tmpdir_new(const char *tag, char *buf, size_t size);

/* Removes the absolute path dir and all below it, links not followed; 0 or -errno. */
int test_tmpdir_remove(const char *dir);

/* Creates or truncates path (0666 less the umask) to hold exactly text; 0 or -errno. */
int test_write_file(const char *path, const char *text);

/* All of path, NUL-terminated, in a buffer to free(), length into *len; NULL and errno. */
char *test_read_file(const char *path, size_t *len);

#endif
