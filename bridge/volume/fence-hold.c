/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes held behind a fence (fence-hold.h).  The lists are short (what
 * the clients have in flight), so every check walks them.
 */
#include <stddef.h>

#include "fence-hold.h"

static bool overlap(const struct lb_fence_req *a, const struct lb_fence_req *b)
{
	return a->start < b->end && b->start < a->end;
}

/* A write in flight whose copy may still land (its owner is fenced)
 * overlaps r. */
static bool fenced_overlap(const struct lb_fence_hold *h, const struct lb_fence_req *r)
{
	for (const struct lb_fence_req *f = h->inflight; f; f = f->next)
		if (f->write && f->owner != r->owner && f->owner->fencing && overlap(f, r))
			return true;
	return false;
}

/* A held request before stop (NULL: any) overlaps r: r keeps its place
 * behind it. */
static bool held_overlap(const struct lb_fence_hold *h, const struct lb_fence_req *r,
			 const struct lb_fence_req *stop)
{
	for (const struct lb_fence_req *x = h->held; x && x != stop; x = x->next)
		if (overlap(x, r))
			return true;
	return false;
}

/* Take r out of the list at *head (and *tail, where the list keeps one). */
static void unlink_req(struct lb_fence_req **head, struct lb_fence_req **tail,
		       struct lb_fence_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		*head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else if (tail)
		*tail = r->prev;
	r->prev = r->next = NULL;
}

static void push_inflight(struct lb_fence_hold *h, struct lb_fence_req *r)
{
	r->held = false;
	r->prev = NULL;
	r->next = h->inflight;
	if (h->inflight)
		h->inflight->prev = r;
	h->inflight = r;
}

bool lb_fence_hold_admit(struct lb_fence_hold *h, struct lb_fence_req *r)
{
	if (r->write && (fenced_overlap(h, r) || held_overlap(h, r, NULL))) {
		r->held = true;
		r->next = NULL;
		r->prev = h->held_tail;
		if (h->held_tail)
			h->held_tail->next = r;
		else
			h->held = r;
		h->held_tail = r;
		h->n_held++;
		return false;
	}
	push_inflight(h, r);
	return true;
}

void lb_fence_hold_done(struct lb_fence_hold *h, struct lb_fence_req *r)
{
	unlink_req(&h->inflight, NULL, r);
}

struct lb_fence_req *lb_fence_hold_next(struct lb_fence_hold *h)
{
	for (struct lb_fence_req *r = h->held; r; r = r->next) {
		if (fenced_overlap(h, r) || held_overlap(h, r, r))
			continue;
		unlink_req(&h->held, &h->held_tail, r);
		h->n_held--;
		push_inflight(h, r);
		return r;
	}
	return NULL;
}
