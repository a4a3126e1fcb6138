/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bridge's control socket (NAME.sock in the run directory), served on
 * its lb_loop: a client sends one command line ("status", "detach") and
 * reads the answer until the bridge closes the connection.  An answer may
 * come later (detach answers once the volume is gone).
 */
#ifndef LUNBRIDGE_CONTROL_H
#define LUNBRIDGE_CONTROL_H

#include "lb-err.h"
#include "loop.h"

struct lb_control;
struct lb_control_client;

/* cmd has no newline; answer with lb_control_reply() now or later. */
typedef void (*lb_control_fn)(void *arg, struct lb_control_client *cl, const char *cmd);

/* Listen on path (mode 0600; a stale socket there is replaced). */
int lb_control_new(struct lb_loop *loop, const char *path, lb_control_fn fn, void *arg,
		   struct lb_control **ret, lb_err *err);
/* Send text and close the client. */
void lb_control_reply(struct lb_control_client *cl, const char *text);
/* Stop listening (the socket file is removed); clients not yet answered
 * are closed.  Only once no SQE of it is in flight: call
 * lb_control_shutdown() and run the loop until lb_control_idle(). */
void lb_control_shutdown(struct lb_control *ctl);
int lb_control_idle(const struct lb_control *ctl);
void lb_control_free(struct lb_control *ctl);

#endif
