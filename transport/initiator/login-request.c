/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building Login Requests (login.h): the keys each state sends once, the
 * T C CSG NSG flags, and the PDU itself.
 */
#include <errno.h>
#include <string.h>

#include "login-internal.h"

static int add_key(struct iscsi_login *l, const char *key, const char *value, lb_err *err)
{
	int r = iscsi_text_add(&l->tx, key, value);

	if (r < 0)
		return lb_err_set(err, r, "cannot add %s to the Login Request", key);
	return 0;
}

/* The keys a state sends once, on its first request. */
static int add_stage_keys(struct iscsi_login *l, lb_err *err)
{
	const struct iscsi_login_config *cfg = l->cfg;
	int r = 0;

	if (l->stage_keys_added)
		return 0;
	switch (l->state) {
	case ISCSI_LOGIN_SECURITY_OFFER:
		r = add_key(l, "InitiatorName", cfg->initiator_name, err);
		if (r == 0 && cfg->initiator_alias)
			r = add_key(l, "InitiatorAlias", cfg->initiator_alias, err);
		if (r == 0)
			r = add_key(l, "SessionType", cfg->target_name ? "Normal" : "Discovery",
				    err);
		if (r == 0 && cfg->target_name)
			r = add_key(l, "TargetName", cfg->target_name, err);
		if (r == 0)
			r = add_key(l, "AuthMethod", cfg->chap ? "CHAP" : "None", err);
		break;
	case ISCSI_LOGIN_SECURITY_CHAP_A:
		r = iscsi_chap_offer(&l->chap, &l->tx);
		if (r < 0)
			r = lb_err_set(err, r, "cannot add CHAP_A to the Login Request");
		break;
	case ISCSI_LOGIN_OPERATIONAL:
		r = iscsi_neg_offer(&l->neg, &l->tx, err);
		break;
	default:
		break; /* SECURITY_CHAP_R: its keys were added with the challenge */
	}
	if (r < 0)
		return r;
	l->stage_keys_added = true;
	return 0;
}

static uint8_t stage_of(iscsi_login_state s)
{
	return iscsi_login_in_security_stage(s) ? ISCSI_STAGE_SECURITY : ISCSI_STAGE_OPERATIONAL;
}

/* T C CSG NSG for the next request. */
static uint8_t request_flags(const struct iscsi_login *l)
{
	uint8_t csg = (uint8_t)(stage_of(l->state) << ISCSI_LOGIN_CSG_SHIFT);

	if (l->ack_continue)
		return csg; /* T=0: the target has more of this set to send */
	switch (l->state) {
	case ISCSI_LOGIN_SECURITY_OFFER:
		if (l->cfg->chap)
			return csg;
		return csg | ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_STAGE_OPERATIONAL;
	case ISCSI_LOGIN_SECURITY_CHAP_A:
		return csg;
	case ISCSI_LOGIN_SECURITY_CHAP_R:
		return csg | ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_STAGE_OPERATIONAL;
	default:
		return csg | ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_STAGE_FULL_FEATURE;
	}
}

ssize_t iscsi_login_build_request(struct iscsi_login *l, uint8_t *buf, size_t cap, lb_err *err)
{
	const struct iscsi_login_config *cfg = l->cfg;
	struct iscsi_pdu_limits limits;
	union iscsi_hdr h;
	const char *data = NULL;
	size_t len = 0;
	ssize_t n;
	int r;

	if (iscsi_login_is_final(l->state))
		return lb_err_set(err, EINVAL, "the login is over (%s)",
				  iscsi_login_state_name(l->state));
	if (l->outstanding)
		return lb_err_set(err, EINVAL, "a Login Response is still outstanding");

	if (!l->ack_continue) {
		r = add_stage_keys(l, err);
		if (r < 0)
			return iscsi_login_fail(l, r);
		data = l->tx.buf;
		len = l->tx.len;
	}
	if (len > ISCSI_LOGIN_TEXT_MAX)
		return iscsi_login_fail(l, lb_err_set(err, EMSGSIZE,
						      "login text of %zu bytes exceeds %u", len,
						      ISCSI_LOGIN_TEXT_MAX));

	iscsi_hdr_init(&h, ISCSI_OP_LOGIN_REQ | ISCSI_OP_IMMEDIATE, request_flags(l));
	h.login_req.version_max = ISCSI_VERSION;
	h.login_req.version_min = ISCSI_VERSION;
	memcpy(h.login_req.isid, cfg->isid, sizeof(h.login_req.isid));
	h.login_req.tsih = htobe16(cfg->tsih);
	h.login_req.itt = htobe32(cfg->itt);
	h.login_req.cid = htobe16(cfg->cid);
	h.login_req.cmdsn = htobe32(cfg->cmdsn);
	h.login_req.exp_statsn = htobe32(l->have_statsn ? l->statsn + 1 : 0);

	iscsi_pdu_limits_init(&limits);
	n = iscsi_pdu_encode_buf(&h, NULL, 0, data, len, &limits, buf, cap, err);
	if (n == -ENOBUFS)
		return n; /* nothing consumed: the caller may retry */
	if (n < 0)
		return iscsi_login_fail(l, (int)n);

	l->req_flags = h.bhs.flags;
	l->outstanding = true;
	l->requests++;
	if (!l->ack_continue) {
		l->tx.len = 0;
		l->tx_has_answers = false;
	}
	l->ack_continue = false;
	return n;
}
