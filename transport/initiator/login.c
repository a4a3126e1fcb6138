/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login phase as a state machine (login.h).  Each state names the
 * Login Request we send next and so the response we wait for:
 *
 *   SECURITY_OFFER --AuthMethod=None, T=1--------------------> OPERATIONAL
 *        |  AuthMethod=CHAP, T=0
 *        v
 *   SECURITY_CHAP_A --CHAP_A/I/C--> SECURITY_CHAP_R --T=1--> OPERATIONAL
 *                                   (mutual: CHAP_N/R checked)
 *   OPERATIONAL --T=1 NSG=3--> FULL_FEATURE
 *   any state: status class 1 -> REDIRECTED, 2 or 3 (or an error) -> FAILED
 *
 * A response that keeps T=0 leaves the state alone: the next request
 * carries only the replies still owed and asks to transit again (RFC 7143
 * §6.3).  A response with C=1 is acknowledged by an empty request and
 * reassembled before any key in it is looked at.
 *
 * This file holds the states, their transitions and the login's life;
 * login-request.c builds the requests, login-response.c checks and
 * consumes the responses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "login-internal.h"

const char *iscsi_login_state_name(iscsi_login_state s)
{
	switch (s) {
	case ISCSI_LOGIN_SECURITY_OFFER:
		return "security-offer";
	case ISCSI_LOGIN_SECURITY_CHAP_A:
		return "security-chap-a";
	case ISCSI_LOGIN_SECURITY_CHAP_R:
		return "security-chap-r";
	case ISCSI_LOGIN_OPERATIONAL:
		return "operational";
	case ISCSI_LOGIN_FULL_FEATURE:
		return "full-feature";
	case ISCSI_LOGIN_REDIRECTED:
		return "redirected";
	case ISCSI_LOGIN_FAILED:
		return "failed";
	}
	return "unknown";
}

bool iscsi_login_is_final(iscsi_login_state s)
{
	return s == ISCSI_LOGIN_FULL_FEATURE || s == ISCSI_LOGIN_REDIRECTED ||
	       s == ISCSI_LOGIN_FAILED;
}

bool iscsi_login_in_security_stage(iscsi_login_state s)
{
	return s == ISCSI_LOGIN_SECURITY_OFFER || s == ISCSI_LOGIN_SECURITY_CHAP_A ||
	       s == ISCSI_LOGIN_SECURITY_CHAP_R;
}

void iscsi_login_set_state(struct iscsi_login *l, iscsi_login_state s)
{
	l->state = s;
	l->stage_keys_added = false;
}

int iscsi_login_fail(struct iscsi_login *l, int r)
{
	iscsi_login_set_state(l, ISCSI_LOGIN_FAILED);
	return r;
}

static int check_name(const char *what, const char *name, size_t max, lb_err *err)
{
	size_t n = strlen(name);

	if (n == 0 || n > max)
		return lb_err_set(err, EINVAL, "%s must be 1 to %zu bytes", what, max);
	if (!iscsi_utf8_valid(name, n))
		return lb_err_set(err, EINVAL, "%s is not valid UTF-8", what);
	return 0;
}

int iscsi_login_new(const struct iscsi_login_config *cfg, struct iscsi_login **ret, lb_err *err)
{
	struct iscsi_login *l;
	int r;

	if (!cfg->initiator_name)
		return lb_err_set(err, EINVAL, "no initiator name");
	r = check_name("the initiator name", cfg->initiator_name, ISCSI_NAME_MAX, err);
	if (r == 0 && cfg->initiator_alias)
		r = check_name("the initiator alias", cfg->initiator_alias, ISCSI_TEXT_VALUE_MAX,
			       err);
	if (r == 0 && cfg->target_name)
		r = check_name("the target name", cfg->target_name, ISCSI_NAME_MAX, err);
	if (r == 0 && cfg->chap)
		r = iscsi_chap_check_creds(cfg->chap, err);
	if (r < 0)
		return r;

	l = calloc(1, sizeof(*l));
	if (!l)
		return lb_err_set(err, ENOMEM, "out of memory");
	l->cfg_copy = *cfg; /* the caller's may be on its stack */
	l->cfg = &l->cfg_copy;
	iscsi_text_seq_init(&l->rx, 0);
	iscsi_text_builder_init(&l->tx, ISCSI_LOGIN_TEXT_MAX);
	iscsi_text_builder_init(&l->unknown, 0);
	iscsi_params_init(&l->params);

	r = iscsi_neg_init(&l->neg, &cfg->want, !cfg->target_name, err);
	if (r == 0 && cfg->chap && iscsi_chap_init(&l->chap, cfg->chap_algs) < 0)
		r = lb_err_set(err, EINVAL, "invalid CHAP algorithm set 0x%x", cfg->chap_algs);
	if (r < 0) {
		iscsi_login_free(l);
		return r;
	}
	iscsi_login_set_state(l, ISCSI_LOGIN_SECURITY_OFFER);
	*ret = l;
	return 0;
}

void iscsi_login_free(struct iscsi_login *l)
{
	if (!l)
		return;
	iscsi_text_seq_free(&l->rx);
	iscsi_text_builder_free(&l->tx);
	iscsi_text_builder_free(&l->unknown);
	/* The CHAP state holds our mutual challenge: not a secret, but there
	 * is no reason to leave it in freed memory either. */
	explicit_bzero(&l->chap, sizeof(l->chap));
	free(l);
}

iscsi_login_state iscsi_login_get_state(const struct iscsi_login *l)
{
	return l->state;
}

int iscsi_login_result(const struct iscsi_login *l, struct iscsi_login_result *ret)
{
	if (l->state != ISCSI_LOGIN_FULL_FEATURE)
		return -EINVAL;
	*ret = (struct iscsi_login_result){
		.params = l->params,
		.tsih = l->tsih,
		.statsn = l->statsn,
		.exp_cmdsn = l->exp_cmdsn,
		.max_cmdsn = l->max_cmdsn,
	};
	return 0;
}

int iscsi_login_redirect(const struct iscsi_login *l, struct iscsi_target_address *ret,
			 bool *ret_temporary)
{
	if (l->state != ISCSI_LOGIN_REDIRECTED)
		return -EINVAL;
	*ret = l->redirect;
	if (ret_temporary)
		*ret_temporary = l->redirect_temporary;
	return 0;
}
