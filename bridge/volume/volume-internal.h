/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to bridge/volume/volume*.c: the volume, its channels, and what
 * its files share.  Names here take the module's prefix without lb_.
 */
#ifndef LUNBRIDGE_VOLUME_INTERNAL_H
#define LUNBRIDGE_VOLUME_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

#include "control.h"
#include "engine.h"
#include "fence-hold.h"
#include "frontend.h"
#include "loop.h"
#include "volume.h"

enum channel_state {
	CH_LOGIN,  /* its engine starting (logging in) */
	CH_READY,  /* serving */
	CH_LOGOUT, /* its engine stopping (logging out) */
	CH_DEAD,   /* to be freed by the main loop once no client holds it */
};

/* One engine of the volume: the first one, or one per client. */
struct lb_channel {
	struct lb_volume *v;
	struct lb_channel *next;
	struct lb_engine *e;
	enum channel_state st;
	unsigned id;
	bool open; /* a client holds it (lb_volume_channel_close not yet called) */
	void (*ready)(void *arg, struct lb_engine *e);
	void *arg;
	/* what its client is given: target (e, or the first engine) behind
	 * the volume's fence hold (volume-hold.c) */
	struct lb_engine shim, *target;
	struct lb_fence_owner fo; /* fo.fencing: lb_volume_channel_cancel() under way */
	/* a client over the session limit: no engine of its own (e is
	 * NULL), its shim targets the first engine; its requests in flight
	 * are counted, and when it leaves with some, newer overlapping writes
	 * wait until they have ended (answered, or fenced by the initiator) */
	bool shared;
	unsigned inflight;
};

struct lb_volume {
	struct lb_loop *loop;
	const struct lb_volume_config *cfg;
	struct lb_runtime_lock *lock;
	struct lb_channel *primary, *channels;
	unsigned next_channel_id;
	/* the most client sessions alive at once: the ISID slots (1..N) this
	 * bridge has used, saved in NAME.json for a successor to sweep */
	unsigned clones_peak;
	bool limit_said; /* the session limit was logged */
	const struct lb_frontend_ops *fops;
	struct lb_frontend *fe; /* NULL until its start made it */
	struct lb_control *ctl;
	struct lb_control_client *detach_client;
	const char *state; /* "starting", "ready", "detaching" */
	bool stop;
	const char *stop_reason;
	/* a signal's stop is bounded: the requests still in flight at
	 * cancel_at (ms, any thread reads it; 0: never) are cancelled and
	 * fenced, and at give_up_at the teardown stops waiting */
	_Atomic uint64_t cancel_at;
	uint64_t give_up_at;
	bool cancelled;	     /* the volume's engines were told */
	bool gave_up;	     /* give_up_at passed (said once) */
	uint64_t refused_at; /* a SIGTERM refused while the device is in use */
	/* clients' requests in flight and writes held behind a fence */
	struct lb_fence_hold hold;
	struct hold_io *hold_pool; /* spare entries */
	/* signals */
	int sigfd;
	struct lb_op sig_op;
	struct signalfd_siginfo si;
};

/* volume-channels.c */
struct lb_channel *volume_channel_new(struct lb_volume *v, struct lb_engine *e);
/* Give up (cancel and fence) the requests in flight on every engine. */
void volume_channels_cancel_all(struct lb_volume *v);
/* Stop the engines of the clients' channels that serve. */
void volume_channels_retire(struct lb_volume *v);
/* Free the channels whose engines are done and that no client holds. */
void volume_channels_reap(struct lb_volume *v);
/* Only the first channel is left. */
bool volume_channels_gone(struct lb_volume *v);
/* Log in and out n sessions in the lowest free ISID slots: each login
 * reinstates the session a dead bridge of this volume had in that slot,
 * which makes the target end it and its commands.  Waits (the loop runs)
 * until they logged out, at most LB_VOLUME_SWEEP_TIMEOUT_MS. */
#define LB_VOLUME_SWEEP_TIMEOUT_MS 15000
void volume_channels_sweep(struct lb_volume *v, unsigned n);
/* sum += every channel's counters; sessions: those of channels that serve. */
void volume_channels_stats(const struct lb_volume *v, struct lb_engine_stats *sum);
void volume_channels_free(struct lb_volume *v);

/* volume-hold.c */
/* The engine ch's client is given: target behind the fence hold. */
struct lb_engine *volume_hold_engine(struct lb_channel *ch, struct lb_engine *target);
/* Submit the held writes that may go now. */
void volume_hold_release(struct lb_volume *v);
void volume_hold_free(struct lb_volume *v);

/* volume-state.c */
/* Write the state file (what `lunbridge list` reads of a volume). */
void volume_state_save(struct lb_volume *v);
/* The state and the counters as one line of JSON (NULL: out of memory). */
char *volume_status_line(struct lb_volume *v);
/* Make udev look at dev again (its by-lunbridge link follows the state)
 * and wait for it. */
void volume_devlink_announce(struct lb_volume *v, const char *dev);

/* volume-signals.c */
void volume_request_stop(struct lb_volume *v, const char *why);
/* A stop whose wait is bounded (SIGTERM, SIGINT): cancel_at, give_up_at. */
void volume_request_stop_bounded(struct lb_volume *v, const char *why);
/* The control socket's commands (status, detach). */
void volume_control(void *arg, struct lb_control_client *cl, const char *cmd);
int volume_signals_setup(struct lb_volume *v, lb_err *err);
/* Stop reading signals; false if the read is still in flight after 5 s. */
bool volume_signals_stop(struct lb_volume *v);

#endif
