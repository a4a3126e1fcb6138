/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Error detail for library-like code that does not log.
 *
 * Functions return -errno; when they are given a non-NULL `lb_err *`, they
 * also leave one human sentence there naming the problem ("unknown key
 * 'iface.foo'").  The edge (CLI, daemon) prefixes it with the object and
 * prints it as one line.
 */
#ifndef LUNBRIDGE_LB_ERR_H
#define LUNBRIDGE_LB_ERR_H

#include <stddef.h>

typedef struct lb_err {
	char msg[512];
} lb_err;

/* Fill err (if non-NULL) and return -abs(errnum).  errnum may be given as
 * EINVAL or -EINVAL. */
int lb_err_set(lb_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The message, or strerror(-errnum) when nothing was recorded. */
const char *lb_err_msg(const lb_err *err, int errnum);

static inline void lb_err_clear(lb_err *err)
{
	if (err)
		err->msg[0] = '\0';
}

#endif
