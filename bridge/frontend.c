/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which frontend serves which --export. */
#include "frontend.h"

const struct lb_frontend_ops *lb_frontend_for(enum lb_export_kind kind)
{
	switch (kind) {
	case LB_EXPORT_NBD_UNIX:
	case LB_EXPORT_NBD_TCP:
		return &lb_frontend_nbd;
	case LB_EXPORT_NBD_KERNEL:
		return &lb_frontend_nbd_kernel;
	case LB_EXPORT_UBLK:
		return &lb_frontend_ublk;
	}
	return NULL;
}
