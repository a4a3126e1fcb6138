/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lb-err.h"

int lb_err_set(lb_err *err, int errnum, const char *fmt, ...)
{
	if (errnum > 0)
		errnum = -errnum;
	if (err) {
		va_list ap;

		va_start(ap, fmt);
		(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return errnum;
}

const char *lb_err_msg(const lb_err *err, int errnum)
{
	if (err && err->msg[0])
		return err->msg;
	return strerror(errnum < 0 ? -errnum : errnum);
}
