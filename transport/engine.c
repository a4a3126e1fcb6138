/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every engine offers, its optional operations stood in for. */
#include <assert.h>
#include <errno.h>

#include "engine.h"

void lb_engine_free(struct lb_engine *e)
{
	if (e)
		e->ops->free(e);
}

int lb_engine_clone(struct lb_engine *base, struct lb_loop *loop, struct lb_engine **ret,
		    lb_err *err)
{
	if (!base->ops->clone)
		return lb_err_set(err, EOPNOTSUPP, "the %s engine has no clones", base->ops->name);
	return base->ops->clone(base, loop, ret, err);
}

int lb_engine_start(struct lb_engine *e, lb_engine_cb cb, void *arg)
{
	return e->ops->start ? e->ops->start(e, cb, arg) : 1;
}

int lb_engine_stop(struct lb_engine *e, lb_engine_cb cb, void *arg)
{
	return e->ops->stop ? e->ops->stop(e, cb, arg) : -EALREADY;
}

int lb_engine_cancel(struct lb_engine *e, lb_engine_cb cb, void *arg)
{
	return e->ops->cancel ? e->ops->cancel(e, cb, arg) : -EOPNOTSUPP;
}

/* An engine with start and stop gives their waited-for forms too (with
 * its own deadlines); without them there is nothing to wait for. */
int lb_engine_start_sync(struct lb_engine *e, lb_err *err)
{
	assert(!e->ops->start == !e->ops->start_sync);
	return e->ops->start_sync ? e->ops->start_sync(e, err) : 0;
}

void lb_engine_stop_sync(struct lb_engine *e)
{
	assert(!e->ops->stop == !e->ops->stop_sync);
	if (e->ops->stop_sync)
		e->ops->stop_sync(e);
}

bool lb_engine_ready(const struct lb_engine *e)
{
	return !e->ops->ready || e->ops->ready(e);
}

const char *lb_engine_state(const struct lb_engine *e, char *buf, size_t len)
{
	return e->ops->state ? e->ops->state(e, buf, len) : NULL;
}

void lb_engine_add_stats(const struct lb_engine *e, struct lb_engine_stats *sum)
{
	struct lb_engine_stats st = {0};

	if (!e->ops->stats)
		return;
	e->ops->stats(e, &st);
	sum->reconnects += st.reconnects;
	sum->timeouts += st.timeouts;
	sum->retries += st.retries;
	sum->sessions += st.sessions;
}

void lb_engine_set_log(struct lb_engine *e, lb_engine_log_fn fn, void *arg)
{
	if (e->ops->set_log)
		e->ops->set_log(e, fn, arg);
}

void lb_engine_describe(const struct lb_engine *e, lb_engine_field_fn add, void *arg)
{
	if (e->ops->describe)
		e->ops->describe(e, add, arg);
}

const char *lb_engine_error(const struct lb_engine *e)
{
	const char *why = e->ops->error ? e->ops->error(e) : NULL;

	return why ? why : "unknown error";
}
