/* SPDX-License-Identifier: GPL-2.0-or-later */
/* attach's further paths: their options, sessions and the multipath engine. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach-multipath.h"
#include "cli.h"
#include "discovery.h"

static int add_spec(const char *cmd, struct cli_mpath *mp, char *spec)
{
	if (mp->n_specs >= LB_ENGINE_ISCSI_PATHS - 1)
		return cli_usage_error(cmd, "at most %d paths", LB_ENGINE_ISCSI_PATHS);
	mp->specs[mp->n_specs++] = spec;
	mp->wanted = true;
	return -1;
}

struct mpath_take {
	const char *cmd;
	struct cli_mpath *mp;
};

static int mpath_take(void *arg, int k, char *v)
{
	const char *cmd = ((struct mpath_take *)arg)->cmd;
	struct cli_mpath *mp = ((struct mpath_take *)arg)->mp;

	switch (k) {
	case 0: {
		int rc = add_spec(cmd, mp, v);

		if (rc >= 0)
			return rc;
		break;
	}
	case 1:
		for (char *save = NULL, *w = strtok_r(v, " \t", &save); w;
		     w = strtok_r(NULL, " \t", &save)) {
			int rc = add_spec(cmd, mp, w);

			if (rc >= 0)
				return rc;
		}
		break;
	case 2:
		mp->all_portals = true;
		mp->wanted = true;
		break;
	case 3:
		if (lb_mpath_policy_parse(v, &mp->cfg.policy) < 0)
			return cli_usage_error(cmd,
					       "--path-policy '%s': failover, round-robin or "
					       "queue-length",
					       v);
		mp->wanted = true;
		break;
	case 4:
		if (lb_mpath_failback_parse(v, &mp->cfg.failback_ms) < 0)
			return cli_usage_error(cmd, "--failback '%s': 'immediate' or whole seconds",
					       v);
		mp->wanted = true;
		break;
	default: {
		char *end;
		unsigned long s = strtoul(v, &end, 10);

		if (v[0] < '0' || v[0] > '9' || *end || s == 0 || s > 86400)
			return cli_usage_error(cmd, "--no-path-timeout '%s': seconds, 1 to 86400",
					       v);
		mp->cfg.no_path_timeout_ms = (uint32_t)s * 1000u;
		mp->wanted = true;
		break;
	}
	}
	return -1;
}

int cli_mpath_take_opts(const char *cmd, int *argc, char **argv, struct cli_mpath *mp)
{
	static const struct cli_opt opts[] = {
		{"--path", false},	  {"--paths", false},	 {"--all-portals", true},
		{"--path-policy", false}, {"--failback", false}, {"--no-path-timeout", false},
	};
	struct mpath_take mt = {cmd, mp};

	memset(mp, 0, sizeof(*mp));
	lb_mpath_config_init(&mp->cfg);
	return cli_take_opts(cmd, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), mpath_take,
			     &mt);
}

/* Cut spec "PORTAL[,IQN[,LUN[,IFACE]]]" into p->o (a copy of o). */
static int path_fill(const cli_session_opts *o, struct cli_mpath_path *p, const char *spec)
{
	char *f[4] = {0}, *rest;
	size_t n = 0;

	p->o = *o;
	snprintf(p->spec, sizeof(p->spec), "%s", spec);
	/* strsep, not strtok: an empty field ("P,,2") is one taken from
	 * -T/-l/-I, not a reason to shift the next one into its place */
	rest = p->spec;
	while (rest && n < 4)
		f[n++] = strsep(&rest, ",");
	if (!f[0][0] || rest)
		return cli_usage_error(o->cmd, "--path '%s': PORTAL[,IQN[,LUN[,IFACE]]]", spec);
	p->o.portal = f[0];
	if (f[1] && *f[1])
		p->o.target = f[1];
	if (f[2] && *f[2]) {
		char *end;
		unsigned long lun = strtoul(f[2], &end, 10);

		if (f[2][0] < '0' || f[2][0] > '9' || *end || lun > 16383)
			return cli_usage_error(o->cmd, "--path '%s': LUN '%s' is not 0-16383", spec,
					       f[2]);
		p->o.lun = (uint32_t)lun;
	}
	if (f[3] && *f[3])
		p->o.iface = f[3];
	return -1;
}

int cli_mpath_check(const cli_session_opts *o, struct cli_mpath *mp)
{
	for (size_t i = 0; i < mp->n_specs; i++) {
		struct cli_mpath_path p;
		iface_route_portal portal;
		lb_err err = {{0}};
		int rc = path_fill(o, &p, mp->specs[i]), r;

		if (rc >= 0)
			return rc;
		r = iface_route_parse_portal(p.o.portal, &portal, &err);
		if (r < 0)
			return cli_usage_error(o->cmd, "--path '%s': portal '%s': %s", mp->specs[i],
					       p.o.portal, lb_err_msg(&err, r));
	}
	return -1;
}

/* --all-portals: every portal SendTargets gives for the target, besides
 * the first path's. */
static int discover_portals(const cli_session_opts *o, const cli_session *first,
			    struct cli_mpath *mp, lb_err *err)
{
	static const char query[] = "SendTargets=All";
	cli_session_opts d = *o;
	struct iscsi_discovery disc = {0};
	cli_session dcs;
	const char *text;
	size_t len;
	int r;

	d.target = NULL;
	d.isid_key = NULL;
	d.recover = false;
	if (cli_session_open(&d, &dcs) != 0)
		return lb_err_set(err, EIO, "--all-portals: discovery at %s failed", o->portal);
	r = iscsi_session_text_sync(dcs.s, query, sizeof(query));
	if (r < 0) {
		lb_err_set(err, -r, "--all-portals: discovery at %s failed: %s", o->portal,
			   iscsi_session_error(dcs.s));
		cli_session_close(&dcs);
		return r;
	}
	text = iscsi_session_text_result(dcs.s, &len);
	r = iscsi_discovery_parse(text, len, &disc, err);
	cli_session_close(&dcs);
	if (r < 0)
		return r;
	for (size_t t = 0; t < disc.n_targets; t++) {
		const struct iscsi_discovered_target *dt = &disc.targets[t];

		if (strcmp(dt->name, o->target) != 0)
			continue;
		for (size_t a = 0; a < dt->n_addrs; a++) {
			const struct iscsi_target_address *ta = &dt->addrs[a];
			struct cli_mpath_path *p;
			bool v6 = strchr(ta->host, ':') != NULL;

			if (strcmp(ta->host, first->portal.addr_str) == 0 &&
			    ta->port == first->portal.port)
				continue; /* the first path */
			if (mp->n >= LB_ENGINE_ISCSI_PATHS - 1)
				break;
			p = &mp->paths[mp->n++];
			p->o = *o;
			snprintf(p->portal, sizeof(p->portal), "%s%s%s:%u", v6 ? "[" : "", ta->host,
				 v6 ? "]" : "", ta->port);
			p->o.portal = p->portal;
		}
	}
	iscsi_discovery_free(&disc);
	return 0;
}

static void path_close(struct cli_mpath_path *p)
{
	if (p->engine) {
		lb_engine_stop_sync(p->engine);
		lb_engine_free(p->engine);
		p->engine = NULL;
	}
	if (p->cs_open) {
		cli_session_close(&p->cs);
		p->cs_open = false;
	}
}

int cli_mpath_build(const cli_session_opts *o, cli_session *cs, const char *name,
		    struct cli_mpath *mp, struct lb_engine **engine, lb_err *err)
{
	struct lb_engine *engines[LB_ENGINE_ISCSI_PATHS];
	struct lb_mpath_path_desc desc[LB_ENGINE_ISCSI_PATHS];
	char first_iface[64];
	struct lb_engine *me;
	int r;

	if (!mp->wanted)
		return 0;
	mp->n = 0;
	for (size_t i = 0; i < mp->n_specs; i++) {
		struct cli_mpath_path *p = &mp->paths[mp->n++];

		if (path_fill(o, p, mp->specs[i]) >= 0)
			return lb_err_set(err, EINVAL, "--path '%s': malformed", mp->specs[i]);
	}
	if (mp->all_portals) {
		r = discover_portals(o, cs, mp, err);
		if (r < 0)
			return r;
	}
	engines[0] = *engine;
	snprintf(first_iface, sizeof(first_iface), "%s", iface_rec_name(cs->rec));
	desc[0] = (struct lb_mpath_path_desc){o->portal, o->target, first_iface, o->lun};
	for (size_t i = 0; i < mp->n; i++) {
		struct cli_mpath_path *p = &mp->paths[i];

		/* a key of its own: its ISIDs differ from every other path's
		 * (same-TPGT portals must not reinstate each other) and stay
		 * the same across restarts */
		snprintf(p->key, sizeof(p->key), "%s#path%zu", name, i + 2);
		p->o.isid_key = p->key;
		if (cli_session_resolve(&p->o, &p->cs) != 0) {
			r = lb_err_set(err, EINVAL, "path %zu (%s): cannot be set up", i + 2,
				       p->o.portal);
			goto fail;
		}
		p->cs_open = true;
		r = cli_session_connect_on(&p->o, &p->cs, &cs->loop);
		if (r != 0) {
			r = lb_err_set(err, EHOSTUNREACH, "path %zu (%s): login failed", i + 2,
				       p->o.portal);
			goto fail;
		}
		r = lb_engine_iscsi_new(&cs->loop, p->cs.s, &p->cs.cfg, p->o.lun, &p->engine, err);
		if (r < 0) {
			char why[300];

			snprintf(why, sizeof(why), "%s", lb_err_msg(err, r));
			r = lb_err_set(err, -r, "path %zu (%s): %s", i + 2, p->o.portal, why);
			goto fail;
		}
		p->cs.s = NULL; /* the engine's */
		engines[i + 1] = p->engine;
		desc[i + 1] = (struct lb_mpath_path_desc){p->o.portal, p->o.target,
							  iface_rec_name(p->cs.rec), p->o.lun};
	}
	r = lb_engine_multipath_new(&cs->loop, &mp->cfg, engines, desc, mp->n + 1, &me, err);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < mp->n; i++)
		mp->paths[i].engine = NULL; /* the multipath engine's */
	*engine = me;
	return 0;
fail:
	for (size_t i = 0; i < mp->n; i++)
		path_close(&mp->paths[i]);
	return r;
}

void cli_mpath_close(struct cli_mpath *mp)
{
	for (size_t i = 0; i < mp->n; i++)
		path_close(&mp->paths[i]);
}
