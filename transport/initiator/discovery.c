/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "discovery.h"

#define DISCOVERY_MAX_TARGETS 4096u
#define DISCOVERY_MAX_ADDRS 256u

static void target_free(struct iscsi_discovered_target *t)
{
	free(t->addrs);
	t->addrs = NULL;
	t->n_addrs = 0;
}

void iscsi_discovery_free(struct iscsi_discovery *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_targets; i++)
		target_free(&d->targets[i]);
	free(d->targets);
	d->targets = NULL;
	d->n_targets = 0;
}

/* The arrays grow by doubling, so their capacity follows from the count
 * (4, 8, 16, ...).  Returns the capacity to reallocate to before element n
 * is added, or 0 when there is room. */
static size_t grow_to(size_t n)
{
	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return 0;
	return n == 0 ? 4 : 2 * n;
}

/* Names are printed one per line after the portal: nothing that would
 * split or disguise that line. */
static bool name_valid(const char *s, size_t len)
{
	if (len == 0 || len > ISCSI_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] == 0x7f)
			return false;
	return true;
}

static int add_target(struct iscsi_discovery *d, const struct iscsi_kv *kv, lb_err *err)
{
	struct iscsi_discovered_target *t;
	size_t cap;

	if (!name_valid(kv->value, kv->value_len))
		return lb_err_set(err, EBADMSG, "invalid TargetName (%zu bytes)", kv->value_len);
	if (d->n_targets >= DISCOVERY_MAX_TARGETS)
		return lb_err_set(err, E2BIG, "more than %u targets", DISCOVERY_MAX_TARGETS);
	if ((cap = grow_to(d->n_targets)) != 0) {
		t = realloc(d->targets, cap * sizeof(*t));
		if (!t)
			return lb_err_set(err, ENOMEM, "out of memory for %zu targets", cap);
		d->targets = t;
	}
	t = &d->targets[d->n_targets++];
	*t = (struct iscsi_discovered_target){0};
	memcpy(t->name, kv->value, kv->value_len + 1);
	return 0;
}

static int add_address(struct iscsi_discovery *d, const struct iscsi_kv *kv, lb_err *err)
{
	struct iscsi_discovered_target *t;
	struct iscsi_target_address a;
	size_t cap;

	if (d->n_targets == 0)
		return lb_err_set(err, EBADMSG, "TargetAddress before any TargetName");
	t = &d->targets[d->n_targets - 1];
	if (iscsi_target_address_parse(kv->value, &a) < 0)
		return lb_err_set(err, EBADMSG, "invalid TargetAddress for %s", t->name);
	if (t->n_addrs >= DISCOVERY_MAX_ADDRS)
		return lb_err_set(err, E2BIG, "more than %u addresses for %s", DISCOVERY_MAX_ADDRS,
				  t->name);
	if ((cap = grow_to(t->n_addrs)) != 0) {
		struct iscsi_target_address *p = realloc(t->addrs, cap * sizeof(*p));

		if (!p)
			return lb_err_set(err, ENOMEM, "out of memory for %zu addresses", cap);
		t->addrs = p;
	}
	t->addrs[t->n_addrs++] = a;
	return 0;
}

int iscsi_discovery_parse(const char *text, size_t len, struct iscsi_discovery *ret, lb_err *err)
{
	_cleanup_(iscsi_text_seq_free) struct iscsi_text_seq seq;
	_cleanup_(iscsi_discovery_free) struct iscsi_discovery d = {0};
	struct iscsi_text_iter it;
	struct iscsi_kv kv;
	int r;

	/* The iterator works in place: parse a copy.  The copy's limit is
	 * the text itself; the caller bounded that while reassembling. */
	iscsi_text_seq_init(&seq, len ? len : 1);
	r = iscsi_text_seq_append(&seq, text, len, false, err);
	if (r < 0)
		return r;
	iscsi_text_iter_init(&it, &seq);
	while ((r = iscsi_text_next(&it, &kv, err)) > 0) {
		if (!strcmp(kv.key, "TargetName"))
			r = add_target(&d, &kv, err);
		else if (!strcmp(kv.key, "TargetAddress"))
			r = add_address(&d, &kv, err);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r; /* -EBADMSG from the iterator */
	*ret = d;
	d = (struct iscsi_discovery){0};
	return 0;
}

static int print_one(FILE *f, const char *host, uint16_t port, int32_t tpgt, const char *name)
{
	/* Brackets for an IPv6 literal (it has colons), as in a portal. */
	bool v6 = strchr(host, ':') && host[0] != '[';

	if (fprintf(f, "%s%s%s:%u,%d %s\n", v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)port,
		    (int)tpgt, name) < 0)
		return errno > 0 ? -errno : -EIO;
	return 0;
}

int iscsi_discovery_print(const struct iscsi_discovery *d, const char *portal_host,
			  uint16_t portal_port, int32_t portal_tpgt, FILE *f)
{
	int r = 0;

	for (size_t i = 0; i < d->n_targets && r == 0; i++) {
		const struct iscsi_discovered_target *t = &d->targets[i];

		if (t->n_addrs == 0)
			r = portal_host
				    ? print_one(f, portal_host, portal_port, portal_tpgt, t->name)
				    : -EINVAL;
		for (size_t k = 0; k < t->n_addrs && r == 0; k++)
			r = print_one(f, t->addrs[k].host, t->addrs[k].port, t->addrs[k].tpgt,
				      t->name);
	}
	if (r == 0 && fflush(f) != 0)
		r = errno > 0 ? -errno : -EIO;
	return r;
}
